/* The document's core: lifetime, canvas and frame, observers, edits and
 * the undo changes of tiles and of the canvas. Layers are in
 * document-layers.c, compositing in composite.c, mask tools in mask.c. */
#include <glib/gi18n.h>
#include <string.h>

#include "document-private.h"

G_DEFINE_QUARK (sf-document-error-quark, sf_document_error)

/* Canvas coordinates must stay inside the tile grid's coordinate range. */
#define COORD_LIMIT (SF_TILE_COORD_LIMIT * SF_TILE_SIZE - SF_CANVAS_MAX_SIZE)

static SfRect
default_frame (const SfRect *canvas)
{
  int width = MIN (SF_FRAME_DEFAULT_SIZE, MAX (8, canvas->width / 8 * 8));
  int height = MIN (SF_FRAME_DEFAULT_SIZE, MAX (8, canvas->height / 8 * 8));
  SfRect frame = { canvas->x + (canvas->width - width) / 2,
                   canvas->y + (canvas->height - height) / 2, width, height };
  frame.x = sf_floor_div (frame.x, 8) * 8;
  frame.y = sf_floor_div (frame.y, 8) * 8;
  return frame;
}

SfDocument *
sf_document_new_blank (const SfRect *canvas)
{
  SfDocument *document = g_new0 (SfDocument, 1);
  document->canvas = *canvas;
  document->frame = default_frame (canvas);
  document->layers = g_ptr_array_new_with_free_func ((GDestroyNotify) sf_layer_unref);
  document->mask = sf_tile_grid_new (SF_TILE_A8, 0);
  document->composite = sf_tile_grid_new (SF_TILE_ARGB32, 0);
  document->undo = sf_undo_stack_new (SF_UNDO_DEFAULT_LIMIT);
  document->observers = g_array_new (FALSE, FALSE, sizeof (SfObserver));
  document->next_observer_id = 1;
  return document;
}

SfDocument *
sf_document_new (int width_px, int height_px)
{
  g_return_val_if_fail (width_px > 0 && height_px > 0, NULL);
  g_return_val_if_fail (width_px <= SF_CANVAS_MAX_SIZE && height_px <= SF_CANVAS_MAX_SIZE, NULL);
  SfRect canvas = { 0, 0, width_px, height_px };
  SfDocument *document = sf_document_new_blank (&canvas);
  SfLayer *layer = sf_layer_new (_("Background"));
  g_ptr_array_add (document->layers, layer);
  document->active = layer;
  return document;
}

void
sf_document_free (SfDocument *document)
{
  if (!document)
    return;
  /* The history holds layers and grids; it goes first. */
  sf_undo_stack_free (document->undo);
  g_clear_pointer (&document->recorded, g_hash_table_unref);
  g_ptr_array_unref (document->layers);
  sf_tile_grid_unref (document->mask);
  sf_tile_grid_unref (document->composite);
  g_array_unref (document->observers);
  g_free (document);
}

SfDocument *
sf_document_snapshot (const SfDocument *document)
{
  SfDocument *copy = sf_document_new_blank (&document->canvas);
  copy->frame = document->frame;
  for (guint i = 0; i < document->layers->len; i++)
    {
      const SfLayer *layer = document->layers->pdata[i];
      SfLayer *dup = sf_layer_duplicate (layer, layer->name);
      dup->id = layer->id;
      g_ptr_array_add (copy->layers, dup);
      if (layer == document->active)
        copy->active = dup;
    }
  sf_tile_grid_unref (copy->mask);
  copy->mask = sf_tile_grid_copy (document->mask);
  return copy;
}

/* Observers */

guint
sf_document_add_observer (SfDocument *document, SfDocumentObserver func, gpointer user_data)
{
  SfObserver observer = { document->next_observer_id++, func, user_data };
  g_array_append_val (document->observers, observer);
  return observer.id;
}

void
sf_document_remove_observer (SfDocument *document, guint id)
{
  for (guint i = 0; i < document->observers->len; i++)
    if (g_array_index (document->observers, SfObserver, i).id == id)
      {
        g_array_remove_index (document->observers, i);
        return;
      }
}

void
sf_document_invalidate_composite (SfDocument *document, const SfRect *rect)
{
  if (!rect)
    {
      sf_tile_grid_clear (document->composite);
      return;
    }
  if (sf_rect_is_empty (rect))
    return;
  int tx0, ty0, tx1, ty1;
  sf_tile_range (rect, &tx0, &ty0, &tx1, &ty1);
  if ((gint64) (tx1 - tx0 + 1) * (ty1 - ty0 + 1) > sf_tile_grid_get_count (document->composite))
    {
      /* Cheaper to walk the cached tiles than the whole range. */
      g_autoptr (GArray) coords = sf_tile_grid_list (document->composite);
      for (guint i = 0; i < coords->len; i++)
        {
          SfTileCoord c = g_array_index (coords, SfTileCoord, i);
          if (c.tx >= tx0 && c.tx <= tx1 && c.ty >= ty0 && c.ty <= ty1)
            sf_tile_grid_set (document->composite, c.tx, c.ty, NULL);
        }
      return;
    }
  for (int ty = ty0; ty <= ty1; ty++)
    for (int tx = tx0; tx <= tx1; tx++)
      sf_tile_grid_set (document->composite, tx, ty, NULL);
}

void
sf_document_emit (SfDocument *document, SfDocumentChange change, const SfRect *rect,
                  SfLayer *layer)
{
  SfDocumentEvent event = { change, rect ? *rect : document->canvas, layer };
  if (change & SF_DOCUMENT_CHANGED_PIXELS)
    sf_document_invalidate_composite (document, rect);
  if (document->observers->len == 0)
    return;
  /* Observers may add or remove observers while being told. */
  g_autoptr (GArray) observers = g_array_copy (document->observers);
  for (guint i = 0; i < observers->len; i++)
    {
      SfObserver *observer = &g_array_index (observers, SfObserver, i);
      observer->func (document, &event, observer->user_data);
    }
}

void
sf_document_layer_pixels_changed (SfDocument *document, SfLayer *layer, const SfRect *rect)
{
  layer->pixel_serial++;
  sf_document_emit (document, SF_DOCUMENT_CHANGED_PIXELS, rect, layer);
}

/* Edits and undo */

void
sf_document_begin_edit_merging (SfDocument *document, const char *label, const char *merge_key)
{
  if (document->edit_depth++ > 0)
    return;
  sf_undo_stack_open (document->undo, label, merge_key);
  document->recorded = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL,
                                              (GDestroyNotify) g_hash_table_unref);
}

void
sf_document_begin_edit (SfDocument *document, const char *label)
{
  sf_document_begin_edit_merging (document, label, NULL);
}

void
sf_document_end_edit (SfDocument *document)
{
  g_return_if_fail (document->edit_depth > 0);
  if (--document->edit_depth > 0)
    return;
  g_clear_pointer (&document->recorded, g_hash_table_unref);
  guint before = sf_undo_stack_get_undo_count (document->undo);
  guint64 state = sf_undo_stack_get_state (document->undo);
  sf_undo_stack_close (document->undo);
  if (sf_undo_stack_get_undo_count (document->undo) != before
      || sf_undo_stack_get_state (document->undo) != state)
    sf_document_emit (document, SF_DOCUMENT_CHANGED_HISTORY, NULL, NULL);
}

gboolean
sf_document_can_undo (const SfDocument *document)
{
  return sf_undo_stack_get_undo_count (document->undo) > 0;
}

gboolean
sf_document_can_redo (const SfDocument *document)
{
  return sf_undo_stack_get_redo_count (document->undo) > 0;
}

const char *
sf_document_get_undo_label (const SfDocument *document)
{
  return sf_undo_stack_get_undo_label (document->undo);
}

const char *
sf_document_get_redo_label (const SfDocument *document)
{
  return sf_undo_stack_get_redo_label (document->undo);
}

gboolean
sf_document_undo (SfDocument *document)
{
  g_return_val_if_fail (document->edit_depth == 0, FALSE);
  if (!sf_undo_stack_undo (document->undo, document))
    return FALSE;
  sf_document_emit (document, SF_DOCUMENT_CHANGED_HISTORY, NULL, NULL);
  return TRUE;
}

gboolean
sf_document_redo (SfDocument *document)
{
  g_return_val_if_fail (document->edit_depth == 0, FALSE);
  if (!sf_undo_stack_redo (document->undo, document))
    return FALSE;
  sf_document_emit (document, SF_DOCUMENT_CHANGED_HISTORY, NULL, NULL);
  return TRUE;
}

void
sf_document_set_undo_limit (SfDocument *document, gsize bytes)
{
  sf_undo_stack_set_limit (document->undo, bytes);
}

gsize
sf_document_get_undo_bytes (const SfDocument *document)
{
  return sf_undo_stack_get_bytes (document->undo);
}

guint
sf_document_get_undo_count (const SfDocument *document)
{
  return sf_undo_stack_get_undo_count (document->undo);
}

void
sf_document_clear_history (SfDocument *document)
{
  g_return_if_fail (document->edit_depth == 0);
  sf_undo_stack_clear (document->undo);
  sf_document_emit (document, SF_DOCUMENT_CHANGED_HISTORY, NULL, NULL);
}

guint64
sf_document_get_state (const SfDocument *document)
{
  return sf_undo_stack_get_state (document->undo);
}

/* A tile swap: undo and redo are the same exchange of the grid's tile
 * with the one kept here. */
typedef struct {
  SfUndoChange base;
  SfTileGrid *grid;
  SfLayer *layer; /* nullable: the document mask */
  int tx, ty;
  SfTile *other; /* nullable: absent */
} TileChange;

static void
tile_change_swap (SfUndoChange *change, gpointer context)
{
  TileChange *self = (TileChange *) change;
  SfDocument *document = context;
  SfTile *current = sf_tile_grid_peek (self->grid, self->tx, self->ty);
  if (current)
    sf_tile_ref (current);
  sf_tile_grid_set (self->grid, self->tx, self->ty, self->other);
  sf_tile_unref (self->other);
  self->other = current;
  SfRect rect = sf_tile_rect (self->tx, self->ty);
  if (self->layer)
    sf_document_layer_pixels_changed (document, self->layer, &rect);
  else
    sf_document_emit (document, SF_DOCUMENT_CHANGED_MASK, &rect, NULL);
}

static void
tile_change_free (SfUndoChange *change)
{
  TileChange *self = (TileChange *) change;
  sf_tile_unref (self->other);
  sf_tile_grid_unref (self->grid);
  if (self->layer)
    sf_layer_unref (self->layer);
  g_free (self);
}

static const SfUndoChangeClass TILE_CHANGE_CLASS = {
  tile_change_swap,
  tile_change_swap,
  tile_change_free,
};

static void
record_tile (SfDocument *document, SfLayer *layer, SfTileGrid *grid, int tx, int ty)
{
  g_return_if_fail (document->edit_depth > 0);
  GHashTable *set = g_hash_table_lookup (document->recorded, grid);
  if (!set)
    {
      set = g_hash_table_new (g_direct_hash, g_direct_equal);
      g_hash_table_insert (document->recorded, grid, set);
    }
  gpointer key = GUINT_TO_POINTER (((guint32) (tx + 32768) << 16) | (guint32) (ty + 32768));
  if (!g_hash_table_add (set, key))
    return;
  TileChange *change = g_new0 (TileChange, 1);
  change->base.klass = &TILE_CHANGE_CLASS;
  change->grid = sf_tile_grid_ref (grid);
  change->layer = layer ? sf_layer_ref (layer) : NULL;
  change->tx = tx;
  change->ty = ty;
  SfTile *old = sf_tile_grid_peek (grid, tx, ty);
  change->other = old ? sf_tile_ref (old) : NULL;
  /* An upper bound: the old tile and the one that replaces it. */
  gsize tile_bytes = sf_tile_format_bytes (sf_tile_grid_get_format (grid));
  change->base.bytes = sizeof *change + tile_bytes + (old ? tile_bytes : 0);
  sf_undo_stack_add (document->undo, &change->base);
}

SfTile *
sf_document_write_tile (SfDocument *document, SfLayer *layer, SfTileGrid *grid, int tx, int ty)
{
  record_tile (document, layer, grid, tx, ty);
  return sf_tile_grid_get_writable (grid, tx, ty);
}

void
sf_document_replace_tile (SfDocument *document, SfLayer *layer, SfTileGrid *grid, int tx, int ty,
                          SfTile *tile)
{
  record_tile (document, layer, grid, tx, ty);
  sf_tile_grid_set (grid, tx, ty, tile);
}

void
sf_document_write_grid (SfDocument *document, SfLayer *layer, SfTileGrid *grid,
                        const SfRect *rect, const guint8 *in, int stride)
{
  if (sf_rect_is_empty (rect))
    return;
  int tx0, ty0, tx1, ty1;
  sf_tile_range (rect, &tx0, &ty0, &tx1, &ty1);
  for (int ty = ty0; ty <= ty1; ty++)
    for (int tx = tx0; tx <= tx1; tx++)
      record_tile (document, layer, grid, tx, ty);
  sf_tile_grid_write (grid, rect, in, stride);
}

/* The canvas */

SfRect
sf_document_get_canvas (const SfDocument *document)
{
  return document->canvas;
}

int
sf_document_get_width (const SfDocument *document)
{
  return document->canvas.width;
}

int
sf_document_get_height (const SfDocument *document)
{
  return document->canvas.height;
}

typedef struct {
  SfUndoChange base;
  SfRect canvas[2]; /* [0] before, [1] after */
} CanvasChange;

static void
apply_canvas (SfDocument *document, const SfRect *canvas)
{
  SfRect old = document->canvas;
  document->canvas = *canvas;
  SfRect both;
  sf_rect_union (&old, canvas, &both);
  sf_document_emit (document, SF_DOCUMENT_CHANGED_CANVAS, canvas, NULL);
  sf_document_emit (document, SF_DOCUMENT_CHANGED_PIXELS, &both, NULL);
  sf_document_emit (document, SF_DOCUMENT_CHANGED_MASK, &both, NULL);
}

static void
canvas_change_undo (SfUndoChange *change, gpointer context)
{
  apply_canvas (context, &((CanvasChange *) change)->canvas[0]);
}

static void
canvas_change_redo (SfUndoChange *change, gpointer context)
{
  apply_canvas (context, &((CanvasChange *) change)->canvas[1]);
}

static const SfUndoChangeClass CANVAS_CHANGE_CLASS = {
  canvas_change_undo,
  canvas_change_redo,
  (void (*) (SfUndoChange *)) g_free,
};

gboolean
sf_document_set_canvas (SfDocument *document, const SfRect *canvas, GError **error)
{
  if (canvas->width < 1 || canvas->height < 1 || canvas->width > SF_CANVAS_MAX_SIZE
      || canvas->height > SF_CANVAS_MAX_SIZE)
    {
      g_set_error (error, SF_DOCUMENT_ERROR, SF_DOCUMENT_ERROR_TOO_LARGE,
                   _("A canvas of %d × %d pixels is not possible: each side must be 1 to %d "
                     "pixels"),
                   canvas->width, canvas->height, SF_CANVAS_MAX_SIZE);
      return FALSE;
    }
  if (ABS (canvas->x) > COORD_LIMIT || ABS (canvas->y) > COORD_LIMIT)
    {
      g_set_error (error, SF_DOCUMENT_ERROR, SF_DOCUMENT_ERROR_TOO_LARGE,
                   _("The canvas cannot move that far from its origin"));
      return FALSE;
    }
  if (sf_rect_equal (canvas, &document->canvas))
    return TRUE;
  CanvasChange *change = g_new0 (CanvasChange, 1);
  change->base.klass = &CANVAS_CHANGE_CLASS;
  change->base.bytes = sizeof *change;
  change->canvas[0] = document->canvas;
  change->canvas[1] = *canvas;
  sf_document_begin_edit (document, _("Resize Canvas"));
  sf_undo_stack_add (document->undo, &change->base);
  apply_canvas (document, canvas);
  sf_document_end_edit (document);
  return TRUE;
}

gboolean
sf_document_grow (SfDocument *document, int left_px, int top_px, int right_px, int bottom_px,
                  GError **error)
{
  SfRect canvas = document->canvas;
  canvas.x -= left_px;
  canvas.y -= top_px;
  canvas.width += left_px + right_px;
  canvas.height += top_px + bottom_px;
  return sf_document_set_canvas (document, &canvas, error);
}

SfRect
sf_document_get_frame (const SfDocument *document)
{
  return document->frame;
}

void
sf_document_set_frame (SfDocument *document, const SfRect *frame)
{
  SfRect snapped = sf_rect_snap8 (frame);
  snapped.width = MIN (snapped.width, SF_CANVAS_MAX_SIZE);
  snapped.height = MIN (snapped.height, SF_CANVAS_MAX_SIZE);
  snapped.x = CLAMP (snapped.x, -COORD_LIMIT, COORD_LIMIT) / 8 * 8;
  snapped.y = CLAMP (snapped.y, -COORD_LIMIT, COORD_LIMIT) / 8 * 8;
  if (sf_rect_equal (&snapped, &document->frame))
    return;
  document->frame = snapped;
  sf_document_emit (document, SF_DOCUMENT_CHANGED_FRAME, &snapped, NULL);
}

/* The inpaint mask (reading; the tools are in mask.c) */

SfTileGrid *
sf_document_get_mask (const SfDocument *document)
{
  return document->mask;
}

void
sf_document_read_mask (const SfDocument *document, const SfRect *rect, guint8 *out, int stride)
{
  sf_tile_grid_read (document->mask, rect, out, stride);
  SfRect inside;
  sf_rect_intersect (rect, &document->canvas, &inside);
  for (int y = 0; y < rect->height; y++)
    {
      guint8 *row = out + (gsize) y * stride;
      int cy = rect->y + y;
      if (sf_rect_is_empty (&inside) || cy < inside.y || cy >= inside.y + inside.height)
        {
          memset (row, 0, rect->width);
          continue;
        }
      memset (row, 0, inside.x - rect->x);
      memset (row + (inside.x - rect->x + inside.width), 0,
              rect->x + rect->width - inside.x - inside.width);
    }
}

gboolean
sf_document_mask_is_empty (const SfDocument *document)
{
  g_autoptr (GArray) coords = sf_tile_grid_list (document->mask);
  for (guint i = 0; i < coords->len; i++)
    {
      SfTileCoord c = g_array_index (coords, SfTileCoord, i);
      SfRect rect = sf_tile_rect (c.tx, c.ty), part;
      if (!sf_rect_intersect (&rect, &document->canvas, &part))
        continue;
      const guint8 *data = sf_tile_peek_data (sf_tile_grid_peek (document->mask, c.tx, c.ty));
      for (int y = part.y; y < part.y + part.height; y++)
        for (int x = part.x; x < part.x + part.width; x++)
          if (data[(y - rect.y) * SF_TILE_SIZE + (x - rect.x)])
            return FALSE;
    }
  return TRUE;
}
