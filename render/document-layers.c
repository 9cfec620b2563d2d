/* The document's layers: the list, their properties and masks, and the
 * undo changes that take them back. */
#include <glib/gi18n.h>
#include <string.h>

#include "document-private.h"
#include "pixels.h"

static SfRect
layer_extent (const SfLayer *layer)
{
  SfRect extent;
  sf_tile_grid_get_extent (layer->pixels, &extent);
  return extent;
}

guint
sf_document_get_layer_count (const SfDocument *document)
{
  return document->layers->len;
}

SfLayer *
sf_document_get_layer (const SfDocument *document, guint index)
{
  return index < document->layers->len ? document->layers->pdata[index] : NULL;
}

int
sf_document_get_layer_index (const SfDocument *document, const SfLayer *layer)
{
  guint index;
  if (layer && g_ptr_array_find (document->layers, layer, &index))
    return (int) index;
  return -1;
}

SfLayer *
sf_document_get_active_layer (const SfDocument *document)
{
  return document->active;
}

void
sf_document_set_active_layer (SfDocument *document, SfLayer *layer)
{
  g_return_if_fail (layer == NULL || sf_document_get_layer_index (document, layer) >= 0);
  if (document->active == layer)
    return;
  document->active = layer;
  sf_document_emit (document, SF_DOCUMENT_CHANGED_ACTIVE, NULL, layer);
}

/* Inserting and removing: one change type, undo and redo swapped. */

typedef struct {
  SfUndoChange base;
  SfLayer *layer;
  guint index;
  gboolean inserted; /* TRUE: the edit inserted the layer */
  SfLayer *active[2]; /* nullable; the active layer before and after */
} ListChange;

static void
insert_layer (SfDocument *document, SfLayer *layer, guint index)
{
  g_ptr_array_insert (document->layers, (int) index, sf_layer_ref (layer));
  SfRect extent = layer_extent (layer);
  sf_document_emit (document, SF_DOCUMENT_CHANGED_LAYERS, NULL, layer);
  sf_document_emit (document, SF_DOCUMENT_CHANGED_PIXELS, &extent, layer);
  sf_document_set_active_layer (document, layer);
}

static void
remove_layer (SfDocument *document, guint index)
{
  SfLayer *layer = sf_layer_ref (document->layers->pdata[index]);
  g_ptr_array_remove_index (document->layers, index);
  if (document->active == layer)
    {
      /* The layer below takes over, as in GIMP and Krita. */
      SfLayer *next = NULL;
      if (document->layers->len > 0)
        next = document->layers->pdata[index > 0 ? index - 1 : 0];
      sf_document_set_active_layer (document, next);
    }
  SfRect extent = layer_extent (layer);
  sf_document_emit (document, SF_DOCUMENT_CHANGED_LAYERS, NULL, layer);
  sf_document_emit (document, SF_DOCUMENT_CHANGED_PIXELS, &extent, layer);
  sf_layer_unref (layer);
}

static void
restore_active (SfDocument *document, SfLayer *layer)
{
  if (layer && sf_document_get_layer_index (document, layer) >= 0)
    sf_document_set_active_layer (document, layer);
}

static void
list_change_undo (SfUndoChange *change, gpointer context)
{
  ListChange *self = (ListChange *) change;
  if (self->inserted)
    remove_layer (context, self->index);
  else
    insert_layer (context, self->layer, self->index);
  restore_active (context, self->active[0]);
}

static void
list_change_redo (SfUndoChange *change, gpointer context)
{
  ListChange *self = (ListChange *) change;
  if (self->inserted)
    insert_layer (context, self->layer, self->index);
  else
    remove_layer (context, self->index);
  restore_active (context, self->active[1]);
}

static void
list_change_free (SfUndoChange *change)
{
  ListChange *self = (ListChange *) change;
  sf_layer_unref (self->layer);
  g_clear_pointer (&self->active[0], sf_layer_unref);
  g_clear_pointer (&self->active[1], sf_layer_unref);
  g_free (change);
}

static const SfUndoChangeClass LIST_CHANGE_CLASS = {
  list_change_undo,
  list_change_redo,
  list_change_free,
};

static ListChange *
record_list_change (SfDocument *document, SfLayer *layer, guint index, gboolean inserted)
{
  ListChange *change = g_new0 (ListChange, 1);
  change->base.klass = &LIST_CHANGE_CLASS;
  change->base.bytes = sizeof *change + sf_tile_grid_get_bytes (layer->pixels)
                       + (layer->mask ? sf_tile_grid_get_bytes (layer->mask) : 0);
  change->layer = sf_layer_ref (layer);
  change->index = index;
  change->inserted = inserted;
  change->active[0] = document->active ? sf_layer_ref (document->active) : NULL;
  sf_undo_stack_add (document->undo, &change->base);
  return change;
}

static void
record_active_after (SfDocument *document, ListChange *change)
{
  change->active[1] = document->active ? sf_layer_ref (document->active) : NULL;
}

/* Inserts @layer (a new reference is taken) at @index as an undo step. */
static void
add_layer_at (SfDocument *document, SfLayer *layer, guint index, const char *label)
{
  sf_document_begin_edit (document, label);
  ListChange *change = record_list_change (document, layer, index, TRUE);
  insert_layer (document, layer, index);
  record_active_after (document, change);
  sf_document_end_edit (document);
}

static guint
index_above_active (const SfDocument *document)
{
  int active = sf_document_get_layer_index (document, document->active);
  return active < 0 ? document->layers->len : (guint) active + 1;
}

SfLayer *
sf_document_add_layer (SfDocument *document, const char *name)
{
  g_autofree char *default_name = NULL;
  if (!name)
    name = default_name = g_strdup_printf (_("Layer %u"), document->layers->len + 1);
  g_autoptr (SfLayer) layer = sf_layer_new (name);
  add_layer_at (document, layer, index_above_active (document), _("New Layer"));
  return layer;
}

static SfLayer *
add_layer_from_pixels (SfDocument *document, int index, const guint8 *pixels, gboolean straight,
                       int width, int height, int stride, int x, int y, const char *name,
                       const char *generation_id, GError **error)
{
  g_return_val_if_fail (pixels != NULL, NULL);
  if (width < 1 || height < 1 || width > SF_CANVAS_MAX_SIZE || height > SF_CANVAS_MAX_SIZE
      || stride < width * 4)
    {
      g_set_error (error, SF_DOCUMENT_ERROR, SF_DOCUMENT_ERROR_INVALID,
                   _("Cannot add a layer of %d × %d pixels with rows of %d bytes"), width,
                   height, stride);
      return NULL;
    }
  int limit = SF_TILE_COORD_LIMIT * SF_TILE_SIZE - SF_CANVAS_MAX_SIZE;
  if (ABS (x) > limit || ABS (y) > limit)
    {
      g_set_error (error, SF_DOCUMENT_ERROR, SF_DOCUMENT_ERROR_INVALID,
                   _("Cannot add a layer at %d, %d: too far from the canvas"), x, y);
      return NULL;
    }
  if (index > (int) document->layers->len)
    {
      g_set_error (error, SF_DOCUMENT_ERROR, SF_DOCUMENT_ERROR_INVALID,
                   _("Cannot add a layer at position %d of %u"), index, document->layers->len);
      return NULL;
    }
  g_autofree char *default_name = NULL;
  if (!name)
    name = default_name = g_strdup_printf (_("Layer %u"), document->layers->len + 1);
  g_autoptr (SfLayer) layer = sf_layer_new (name);
  layer->generation_id = g_strdup (generation_id);
  SfRect rect = { x, y, width, height };
  if (straight)
    {
      g_autofree guint8 *argb = g_malloc ((gsize) width * height * 4);
      sf_pixels_rgba_to_argb (pixels, stride, argb, width * 4, width, height);
      sf_tile_grid_write (layer->pixels, &rect, argb, width * 4);
    }
  else
    sf_tile_grid_write (layer->pixels, &rect, pixels, stride);
  add_layer_at (document, layer, index < 0 ? index_above_active (document) : (guint) index,
                generation_id ? _("Add Generated Layer") : _("Add Layer"));
  return layer;
}

SfLayer *
sf_document_add_layer_from_rgba (SfDocument *document, int index, const guint8 *rgba, int width,
                                 int height, int stride, int x, int y, const char *name,
                                 const char *generation_id, GError **error)
{
  return add_layer_from_pixels (document, index, rgba, TRUE, width, height, stride, x, y, name,
                                generation_id, error);
}

SfLayer *
sf_document_add_layer_from_argb (SfDocument *document, int index, const guint8 *argb, int width,
                                 int height, int stride, int x, int y, const char *name,
                                 const char *generation_id, GError **error)
{
  return add_layer_from_pixels (document, index, argb, FALSE, width, height, stride, x, y, name,
                                generation_id, error);
}

SfLayer *
sf_document_duplicate_layer (SfDocument *document, SfLayer *layer)
{
  int index = sf_document_get_layer_index (document, layer);
  g_return_val_if_fail (index >= 0, NULL);
  g_autofree char *name = g_strdup_printf (_("%s copy"), layer->name);
  g_autoptr (SfLayer) copy = sf_layer_duplicate (layer, name);
  add_layer_at (document, copy, (guint) index + 1, _("Duplicate Layer"));
  return copy;
}

void
sf_document_remove_layer (SfDocument *document, SfLayer *layer)
{
  int index = sf_document_get_layer_index (document, layer);
  g_return_if_fail (index >= 0);
  sf_document_begin_edit (document, _("Delete Layer"));
  ListChange *change = record_list_change (document, layer, (guint) index, FALSE);
  remove_layer (document, (guint) index);
  record_active_after (document, change);
  sf_document_end_edit (document);
}

/* Moving */

typedef struct {
  SfUndoChange base;
  guint from, to;
} MoveChange;

static void
move_layer (SfDocument *document, guint from, guint to)
{
  SfLayer *layer = g_ptr_array_steal_index (document->layers, from);
  g_ptr_array_insert (document->layers, (int) to, layer);
  SfRect extent = layer_extent (layer);
  sf_document_emit (document, SF_DOCUMENT_CHANGED_LAYERS, NULL, layer);
  sf_document_emit (document, SF_DOCUMENT_CHANGED_PIXELS, &extent, layer);
}

static void
move_change_undo (SfUndoChange *change, gpointer context)
{
  MoveChange *self = (MoveChange *) change;
  move_layer (context, self->to, self->from);
}

static void
move_change_redo (SfUndoChange *change, gpointer context)
{
  MoveChange *self = (MoveChange *) change;
  move_layer (context, self->from, self->to);
}

static const SfUndoChangeClass MOVE_CHANGE_CLASS = {
  move_change_undo,
  move_change_redo,
  (void (*) (SfUndoChange *)) g_free,
};

void
sf_document_move_layer (SfDocument *document, SfLayer *layer, guint index)
{
  int from = sf_document_get_layer_index (document, layer);
  g_return_if_fail (from >= 0);
  index = MIN (index, document->layers->len - 1);
  if ((guint) from == index)
    return;
  MoveChange *change = g_new0 (MoveChange, 1);
  change->base.klass = &MOVE_CHANGE_CLASS;
  change->base.bytes = sizeof *change;
  change->from = (guint) from;
  change->to = index;
  sf_document_begin_edit (document, _("Move Layer"));
  sf_undo_stack_add (document->undo, &change->base);
  move_layer (document, change->from, change->to);
  sf_document_end_edit (document);
}

/* Properties */

typedef struct {
  SfUndoChange base;
  SfLayer *layer;
  SfLayerProps props[2]; /* [0] before, [1] after */
} PropsChange;

static void
apply_props (SfDocument *document, SfLayer *layer, const SfLayerProps *props)
{
  gboolean looks_different = layer->visible != props->visible
                             || layer->opacity != props->opacity
                             || layer->blend_mode != props->blend_mode;
  sf_layer_set_props (layer, props);
  sf_document_emit (document, SF_DOCUMENT_CHANGED_LAYER, NULL, layer);
  if (looks_different)
    {
      SfRect extent = layer_extent (layer);
      sf_document_emit (document, SF_DOCUMENT_CHANGED_PIXELS, &extent, layer);
    }
}

static void
props_change_undo (SfUndoChange *change, gpointer context)
{
  PropsChange *self = (PropsChange *) change;
  apply_props (context, self->layer, &self->props[0]);
}

static void
props_change_redo (SfUndoChange *change, gpointer context)
{
  PropsChange *self = (PropsChange *) change;
  apply_props (context, self->layer, &self->props[1]);
}

static void
props_change_free (SfUndoChange *change)
{
  PropsChange *self = (PropsChange *) change;
  sf_layer_props_clear (&self->props[0]);
  sf_layer_props_clear (&self->props[1]);
  sf_layer_unref (self->layer);
  g_free (self);
}

static const SfUndoChangeClass PROPS_CHANGE_CLASS = {
  props_change_undo,
  props_change_redo,
  props_change_free,
};

/* Sets @props (transfer full, cleared here) on @layer as an undo step.
 * Repeated changes of the same property of the same layer within a
 * second merge into one step (dragging the opacity slider). */
static void
change_props (SfDocument *document, SfLayer *layer, SfLayerProps *props, const char *label,
              const char *property)
{
  g_return_if_fail (sf_document_get_layer_index (document, layer) >= 0);
  g_autofree char *merge_key = g_strdup_printf ("%s:%u", property, layer->id);
  SfUndoChange *previous = document->edit_depth == 0
                               ? sf_undo_stack_find_mergeable (document->undo, merge_key,
                                                               G_USEC_PER_SEC)
                               : NULL;
  if (previous)
    {
      PropsChange *change = (PropsChange *) previous;
      sf_layer_props_clear (&change->props[1]);
      change->props[1] = *props;
      apply_props (document, layer, props);
      return;
    }
  PropsChange *change = g_new0 (PropsChange, 1);
  change->base.klass = &PROPS_CHANGE_CLASS;
  change->base.bytes = sizeof *change;
  change->layer = sf_layer_ref (layer);
  sf_layer_get_props (layer, &change->props[0]);
  change->props[1] = *props;
  sf_document_begin_edit_merging (document, label, merge_key);
  sf_undo_stack_add (document->undo, &change->base);
  apply_props (document, layer, props);
  sf_document_end_edit (document);
}

void
sf_document_set_layer_name (SfDocument *document, SfLayer *layer, const char *name)
{
  if (g_strcmp0 (layer->name, name) == 0)
    return;
  SfLayerProps props;
  sf_layer_get_props (layer, &props);
  g_free (props.name);
  props.name = g_strdup (name ? name : "");
  change_props (document, layer, &props, _("Rename Layer"), "name");
}

void
sf_document_set_layer_visible (SfDocument *document, SfLayer *layer, gboolean visible)
{
  if (layer->visible == !!visible)
    return;
  SfLayerProps props;
  sf_layer_get_props (layer, &props);
  props.visible = !!visible;
  change_props (document, layer, &props,
                visible ? _("Show Layer") : _("Hide Layer"), "visible");
}

void
sf_document_set_layer_opacity (SfDocument *document, SfLayer *layer, double opacity)
{
  opacity = CLAMP (opacity, 0.0, 1.0);
  if (layer->opacity == opacity)
    return;
  SfLayerProps props;
  sf_layer_get_props (layer, &props);
  props.opacity = opacity;
  change_props (document, layer, &props, _("Layer Opacity"), "opacity");
}

void
sf_document_set_layer_blend_mode (SfDocument *document, SfLayer *layer, SfBlendMode mode)
{
  g_return_if_fail (mode < SF_BLEND_COUNT);
  if (layer->blend_mode == mode)
    return;
  SfLayerProps props;
  sf_layer_get_props (layer, &props);
  props.blend_mode = mode;
  change_props (document, layer, &props, _("Layer Blend Mode"), "blend");
}

void
sf_document_set_layer_alpha_locked (SfDocument *document, SfLayer *layer, gboolean locked)
{
  if (layer->alpha_locked == !!locked)
    return;
  SfLayerProps props;
  sf_layer_get_props (layer, &props);
  props.alpha_locked = !!locked;
  change_props (document, layer, &props,
                locked ? _("Lock Alpha") : _("Unlock Alpha"), "alpha-lock");
}

void
sf_document_set_layer_generation_id (SfDocument *document, SfLayer *layer,
                                     const char *generation_id)
{
  if (g_strcmp0 (layer->generation_id, generation_id) == 0)
    return;
  SfLayerProps props;
  sf_layer_get_props (layer, &props);
  g_free (props.generation_id);
  props.generation_id = g_strdup (generation_id);
  change_props (document, layer, &props, _("Set Generation"), "generation");
}

/* Layer masks */

typedef struct {
  SfUndoChange base;
  SfLayer *layer;
  SfTileGrid *other; /* nullable */
} MaskChange;

static void
mask_change_swap (SfUndoChange *change, gpointer context)
{
  MaskChange *self = (MaskChange *) change;
  SfTileGrid *current = self->layer->mask;
  self->layer->mask = self->other;
  self->other = current;
  SfRect extent = layer_extent (self->layer);
  sf_document_emit (context, SF_DOCUMENT_CHANGED_LAYER, NULL, self->layer);
  sf_document_layer_pixels_changed (context, self->layer, &extent);
}

static void
mask_change_free (SfUndoChange *change)
{
  MaskChange *self = (MaskChange *) change;
  sf_tile_grid_unref (self->other);
  sf_layer_unref (self->layer);
  g_free (self);
}

static const SfUndoChangeClass MASK_CHANGE_CLASS = {
  mask_change_swap,
  mask_change_swap,
  mask_change_free,
};

static void
set_layer_mask (SfDocument *document, SfLayer *layer, SfTileGrid *mask, const char *label)
{
  g_return_if_fail (sf_document_get_layer_index (document, layer) >= 0);
  MaskChange *change = g_new0 (MaskChange, 1);
  change->base.klass = &MASK_CHANGE_CLASS;
  change->base.bytes = sizeof *change + (layer->mask ? sf_tile_grid_get_bytes (layer->mask) : 0);
  change->layer = sf_layer_ref (layer);
  change->other = mask;
  sf_document_begin_edit (document, label);
  sf_undo_stack_add (document->undo, &change->base);
  mask_change_swap (&change->base, document);
  sf_document_end_edit (document);
}

void
sf_document_add_layer_mask (SfDocument *document, SfLayer *layer)
{
  if (!layer->mask)
    set_layer_mask (document, layer, sf_tile_grid_new (SF_TILE_A8, 255), _("Add Layer Mask"));
}

void
sf_document_remove_layer_mask (SfDocument *document, SfLayer *layer)
{
  if (layer->mask)
    set_layer_mask (document, layer, NULL, _("Delete Layer Mask"));
}

/* Pixel operations on whole layers */

void
sf_document_clear_layer (SfDocument *document, SfLayer *layer)
{
  g_return_if_fail (sf_document_get_layer_index (document, layer) >= 0);
  SfRect extent = layer_extent (layer);
  g_autoptr (GArray) coords = sf_tile_grid_list (layer->pixels);
  if (coords->len == 0)
    return;
  sf_document_begin_edit (document, _("Clear Layer"));
  for (guint i = 0; i < coords->len; i++)
    {
      SfTileCoord c = g_array_index (coords, SfTileCoord, i);
      sf_document_replace_tile (document, layer, layer->pixels, c.tx, c.ty, NULL);
    }
  sf_document_layer_pixels_changed (document, layer, &extent);
  sf_document_end_edit (document);
}

gboolean
sf_document_merge_down (SfDocument *document, SfLayer *layer, GError **error)
{
  int index = sf_document_get_layer_index (document, layer);
  g_return_val_if_fail (index >= 0, FALSE);
  if (index == 0)
    {
      g_set_error (error, SF_DOCUMENT_ERROR, SF_DOCUMENT_ERROR_NO_LAYER,
                   _("“%s” is the bottom layer: there is nothing to merge it into"),
                   layer->name);
      return FALSE;
    }
  g_autoptr (SfLayer) upper = sf_layer_ref (layer);
  SfLayer *lower = document->layers->pdata[index - 1];
  sf_document_begin_edit (document, _("Merge Down"));
  SfRect extent = layer_extent (upper);
  if (upper->visible && upper->opacity > 0)
    {
      g_autoptr (GArray) coords = sf_tile_grid_list (upper->pixels);
      for (guint i = 0; i < coords->len; i++)
        {
          SfTileCoord c = g_array_index (coords, SfTileCoord, i);
          SfTile *tile = sf_document_write_tile (document, lower, lower->pixels, c.tx, c.ty);
          SfRect whole = { 0, 0, SF_TILE_SIZE, SF_TILE_SIZE };
          sf_composite_layer_tile (tile, upper, c.tx, c.ty, &whole);
        }
      sf_document_layer_pixels_changed (document, lower, &extent);
    }
  sf_document_remove_layer (document, upper);
  sf_document_set_active_layer (document, lower);
  sf_document_end_edit (document);
  return TRUE;
}
