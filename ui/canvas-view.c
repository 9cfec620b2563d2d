/* Showing the document: textures of composite tiles (and, zoomed out, of
 * blocks of tiles averaged down, so a large canvas seen whole neither
 * shimmers nor needs thousands of textures), the mask overlay, the frame
 * and the brush outline. */
#include <glib/gi18n.h>
#include <math.h>

#include "canvas-view-private.h"

G_DEFINE_FINAL_TYPE (SfCanvasView, sf_canvas_view, GTK_TYPE_WIDGET)

enum {
  SIGNAL_COLOR_PICKED,
  SIGNAL_VIEW_CHANGED,
  SIGNAL_POINTER_MOVED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* Zoomed out past 1/2^level, blocks of 2^level × 2^level tiles share one
 * 256×256 texture. */
#define MAX_LEVEL 5
#define CHECKER_PX 8

static gint64 *
pack_key (int level, int tx, int ty)
{
  gint64 *key = g_new (gint64, 1);
  *key = ((gint64) level << 40) | ((gint64) (tx + 0x80000) << 20) | (gint64) (ty + 0x80000);
  return key;
}

static int
level_for_zoom (double zoom)
{
  int level = 0;
  while (level < MAX_LEVEL && zoom * (1 << (level + 1)) <= 1.0)
    level++;
  return level;
}

void
sf_canvas_view_widget_to_canvas (SfCanvasView *self, double x, double y, double *canvas_x,
                                 double *canvas_y)
{
  *canvas_x = self->origin_x + x / self->zoom;
  *canvas_y = self->origin_y + y / self->zoom;
}

void
sf_canvas_view_canvas_to_widget (SfCanvasView *self, double canvas_x, double canvas_y, double *x,
                                 double *y)
{
  *x = (canvas_x - self->origin_x) * self->zoom;
  *y = (canvas_y - self->origin_y) * self->zoom;
}

/* Textures */

static GdkTexture *
texture_from_argb (const guint8 *data, int stride)
{
  g_autoptr (GBytes) bytes = g_bytes_new (data, (gsize) stride * SF_TILE_SIZE);
  return gdk_memory_texture_new (SF_TILE_SIZE, SF_TILE_SIZE, GDK_MEMORY_DEFAULT, bytes, stride);
}

/* Level 0: the composite tile itself. Level k: 2^k × 2^k composite
 * tiles, each output pixel the mean of up to 4×4 samples of its block. */
static GdkTexture *
make_texture (SfCanvasView *self, int level, int bx, int by)
{
  self->texture_count++;
  if (level == 0)
    {
      SfTile *tile = sf_document_get_composite_tile (self->document, bx, by);
      return texture_from_argb (sf_tile_peek_data (tile), SF_TILE_SIZE * 4);
    }
  int span = 1 << level; /* tiles per side */
  int step = span;       /* source pixels per output pixel */
  int taps = MIN (step, 4);
  int stride = step / taps;
  g_autofree guint32 *out = g_new0 (guint32, SF_TILE_SIZE * SF_TILE_SIZE);
  int per_tile = SF_TILE_SIZE / span; /* output pixels per source tile */
  SfRect canvas = sf_document_get_canvas (self->document);
  for (int j = 0; j < span; j++)
    for (int i = 0; i < span; i++)
      {
        int tx = bx * span + i, ty = by * span + j;
        SfRect rect = sf_tile_rect (tx, ty), inside;
        if (!sf_rect_intersect (&rect, &canvas, &inside))
          continue;
        const guint32 *src
            = (const guint32 *) sf_tile_peek_data (sf_document_get_composite_tile (self->document,
                                                                                   tx, ty));
        for (int v = 0; v < per_tile; v++)
          for (int u = 0; u < per_tile; u++)
            {
              guint sum[4] = { 0 };
              for (int b = 0; b < taps; b++)
                for (int a = 0; a < taps; a++)
                  {
                    guint32 p = src[(v * step + b * stride + stride / 2) * SF_TILE_SIZE
                                    + u * step + a * stride + stride / 2];
                    for (int c = 0; c < 4; c++)
                      sum[c] += (p >> (8 * c)) & 0xff;
                  }
              guint32 mean = 0;
              for (int c = 0; c < 4; c++)
                mean |= ((sum[c] + taps * taps / 2) / (taps * taps)) << (8 * c);
              out[(j * per_tile + v) * SF_TILE_SIZE + i * per_tile + u] = mean;
            }
      }
  return texture_from_argb ((const guint8 *) out, SF_TILE_SIZE * 4);
}

static GdkTexture *
get_texture (SfCanvasView *self, int level, int bx, int by)
{
  gint64 *key = pack_key (level, bx, by);
  GdkTexture *texture = g_hash_table_lookup (self->textures, key);
  if (texture)
    {
      g_free (key);
      return texture;
    }
  texture = make_texture (self, level, bx, by);
  g_hash_table_insert (self->textures, key, texture);
  return texture;
}

static GdkTexture *
get_mask_texture (SfCanvasView *self, int tx, int ty)
{
  SfTile *tile = sf_tile_grid_peek (sf_document_get_mask (self->document), tx, ty);
  if (!tile)
    return NULL;
  gint64 *key = pack_key (0, tx, ty);
  GdkTexture *texture = g_hash_table_lookup (self->mask_textures, key);
  if (texture)
    {
      g_free (key);
      return texture;
    }
  const guint8 *mask = sf_tile_peek_data (tile);
  g_autofree guint32 *argb = g_new (guint32, SF_TILE_SIZE * SF_TILE_SIZE);
  double opacity = self->mask_color.alpha;
  for (int i = 0; i < SF_TILE_SIZE * SF_TILE_SIZE; i++)
    {
      double a = mask[i] / 255.0 * opacity;
      argb[i] = ((guint32) (a * 255 + 0.5) << 24) | ((guint32) (self->mask_color.red * a * 255 + 0.5) << 16)
                | ((guint32) (self->mask_color.green * a * 255 + 0.5) << 8)
                | (guint32) (self->mask_color.blue * a * 255 + 0.5);
    }
  texture = texture_from_argb ((const guint8 *) argb, SF_TILE_SIZE * 4);
  g_hash_table_insert (self->mask_textures, key, texture);
  return texture;
}

static void
drop_textures (GHashTable *table, const SfRect *rect, int max_level)
{
  if (!rect)
    {
      g_hash_table_remove_all (table);
      return;
    }
  if (sf_rect_is_empty (rect))
    return;
  for (int level = 0; level <= max_level; level++)
    {
      int size = SF_TILE_SIZE << level;
      int bx0 = sf_floor_div (rect->x, size), by0 = sf_floor_div (rect->y, size);
      int bx1 = sf_floor_div (rect->x + rect->width - 1, size);
      int by1 = sf_floor_div (rect->y + rect->height - 1, size);
      for (int by = by0; by <= by1; by++)
        for (int bx = bx0; bx <= bx1; bx++)
          {
            g_autofree gint64 *key = pack_key (level, bx, by);
            g_hash_table_remove (table, key);
          }
    }
}

static void
on_document_changed (SfDocument *document, const SfDocumentEvent *event, gpointer user_data)
{
  SfCanvasView *self = user_data;
  if (event->change & SF_DOCUMENT_CHANGED_PIXELS)
    {
      drop_textures (self->textures, &event->rect, MAX_LEVEL);
      gtk_widget_queue_draw (GTK_WIDGET (self));
    }
  if (event->change & SF_DOCUMENT_CHANGED_MASK)
    {
      drop_textures (self->mask_textures, &event->rect, 0);
      if (self->show_mask)
        gtk_widget_queue_draw (GTK_WIDGET (self));
    }
  if (event->change & SF_DOCUMENT_CHANGED_CANVAS)
    {
      g_hash_table_remove_all (self->textures);
      if (self->fitted)
        sf_canvas_view_zoom_fit (self);
      gtk_widget_queue_draw (GTK_WIDGET (self));
    }
  if (event->change & SF_DOCUMENT_CHANGED_FRAME)
    gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* Drawing */

static graphene_rect_t
canvas_rect_to_widget (SfCanvasView *self, double x, double y, double width, double height)
{
  double x0, y0, x1, y1;
  sf_canvas_view_canvas_to_widget (self, x, y, &x0, &y0);
  sf_canvas_view_canvas_to_widget (self, x + width, y + height, &x1, &y1);
  /* Whole screen pixels: neighbouring tiles meet without seams. */
  x0 = round (x0), y0 = round (y0), x1 = round (x1), y1 = round (y1);
  return GRAPHENE_RECT_INIT (x0, y0, x1 - x0, y1 - y0);
}

/* One 256×256 texture of checks, repeated: renderers repeat a texture
 * child cleanly, where repeating small colour nodes left seams with GL. */
static GdkTexture *
checker_texture (void)
{
  static GdkTexture *texture;
  if (!texture)
    {
      const int size = 256;
      g_autofree guint32 *pixels = g_new (guint32, size * size);
      for (int y = 0; y < size; y++)
        for (int x = 0; x < size; x++)
          pixels[y * size + x] = ((x / CHECKER_PX + y / CHECKER_PX) % 2) ? 0xff999999 : 0xffcccccc;
      g_autoptr (GBytes) bytes = g_bytes_new (pixels, (gsize) size * size * 4);
      texture = gdk_memory_texture_new (size, size, GDK_MEMORY_DEFAULT, bytes, size * 4);
    }
  return texture;
}

static void
append_checkerboard (SfCanvasView *self, GtkSnapshot *snapshot, const graphene_rect_t *area)
{
  graphene_rect_t cell = GRAPHENE_RECT_INIT (area->origin.x, area->origin.y, 256, 256);
  gtk_snapshot_push_repeat (snapshot, area, &cell);
  gtk_snapshot_append_texture (snapshot, checker_texture (), &cell);
  gtk_snapshot_pop (snapshot);
}

static void
append_outline (GtkSnapshot *snapshot, const graphene_rect_t *rect, float radius, float width,
                const GdkRGBA *color)
{
  GskRoundedRect outline;
  gsk_rounded_rect_init_from_rect (&outline, rect, radius);
  const float widths[4] = { width, width, width, width };
  const GdkRGBA colors[4] = { *color, *color, *color, *color };
  gtk_snapshot_append_border (snapshot, &outline, widths, colors);
}

/* The visible part of the canvas, in canvas pixels; FALSE when none. */
static gboolean
visible_canvas (SfCanvasView *self, SfRect *visible)
{
  int width = gtk_widget_get_width (GTK_WIDGET (self));
  int height = gtk_widget_get_height (GTK_WIDGET (self));
  double x0, y0, x1, y1;
  sf_canvas_view_widget_to_canvas (self, 0, 0, &x0, &y0);
  sf_canvas_view_widget_to_canvas (self, width, height, &x1, &y1);
  SfRect view = { (int) floor (x0), (int) floor (y0), (int) ceil (x1) - (int) floor (x0),
                  (int) ceil (y1) - (int) floor (y0) };
  SfRect canvas = sf_document_get_canvas (self->document);
  return sf_rect_intersect (&view, &canvas, visible);
}

static void
append_frame (SfCanvasView *self, GtkSnapshot *snapshot)
{
  SfRect frame = sf_document_get_frame (self->document);
  graphene_rect_t rect = canvas_rect_to_widget (self, frame.x, frame.y, frame.width, frame.height);
  const GdkRGBA white = { 1, 1, 1, 0.95 }, shadow = { 0, 0, 0, 0.6 };
  graphene_rect_t outer = GRAPHENE_RECT_INIT (rect.origin.x - 1, rect.origin.y - 1,
                                              rect.size.width + 2, rect.size.height + 2);
  append_outline (snapshot, &outer, 0, 1, &shadow);
  append_outline (snapshot, &rect, 0, 2, &white);
  gboolean framing = sf_tool_options_get_tool (self->options) == SF_TOOL_FRAME;
  if (framing)
    for (int handle = 0; handle < 8; handle++)
      {
        graphene_rect_t box = sf_canvas_view_handle_rect (self, handle);
        gtk_snapshot_append_color (snapshot, &shadow, &box);
        graphene_rect_t inner = GRAPHENE_RECT_INIT (box.origin.x + 1, box.origin.y + 1,
                                                    box.size.width - 2, box.size.height - 2);
        gtk_snapshot_append_color (snapshot, &white, &inner);
      }
  /* Its size, as SDXL will see it. */
  g_autofree char *text = g_strdup_printf ("%d × %d", frame.width, frame.height);
  PangoLayout *layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), text);
  int text_width, text_height;
  pango_layout_get_pixel_size (layout, &text_width, &text_height);
  graphene_point_t at = GRAPHENE_POINT_INIT (rect.origin.x + 6, rect.origin.y + 6);
  gtk_snapshot_append_color (snapshot, &shadow,
                             &GRAPHENE_RECT_INIT (at.x - 4, at.y - 2, text_width + 8,
                                                  text_height + 4));
  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (snapshot, &at);
  gtk_snapshot_append_layout (snapshot, layout, &white);
  gtk_snapshot_restore (snapshot);
  g_object_unref (layout);
}

static void
append_brush_outline (SfCanvasView *self, GtkSnapshot *snapshot)
{
  if (!self->pointer_inside || self->drag == SF_DRAG_PAN || self->space_held
      || !sf_tool_paints (sf_tool_options_get_tool (self->options)))
    return;
  double radius = sf_tool_options_get_size (self->options) * self->zoom / 2;
  if (radius < 2)
    return;
  const GdkRGBA black = { 0, 0, 0, 0.7 }, white = { 1, 1, 1, 0.9 };
  float x = (float) self->pointer_x, y = (float) self->pointer_y, r = (float) radius;
  append_outline (snapshot, &GRAPHENE_RECT_INIT (x - r - 1, y - r - 1, 2 * r + 2, 2 * r + 2),
                  r + 1, 1, &black);
  append_outline (snapshot, &GRAPHENE_RECT_INIT (x - r, y - r, 2 * r, 2 * r), r, 1, &white);
}

static void
sf_canvas_view_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  SfCanvasView *self = SF_CANVAS_VIEW (widget);
  int width = gtk_widget_get_width (widget), height = gtk_widget_get_height (widget);
  const GdkRGBA background = { 0.235, 0.235, 0.247, 1 };
  gtk_snapshot_append_color (snapshot, &background, &GRAPHENE_RECT_INIT (0, 0, width, height));
  if (!self->document)
    return;

  SfRect canvas = sf_document_get_canvas (self->document);
  graphene_rect_t canvas_area = canvas_rect_to_widget (self, canvas.x, canvas.y, canvas.width,
                                                       canvas.height);
  graphene_rect_t widget_area = GRAPHENE_RECT_INIT (0, 0, width, height), shown;
  if (graphene_rect_intersection (&canvas_area, &widget_area, &shown))
    {
      gtk_snapshot_push_clip (snapshot, &shown);
      append_checkerboard (self, snapshot, &canvas_area);
      SfRect visible;
      if (visible_canvas (self, &visible))
        {
          int level = level_for_zoom (self->zoom);
          int size = SF_TILE_SIZE << level;
          int bx0 = sf_floor_div (visible.x, size), by0 = sf_floor_div (visible.y, size);
          int bx1 = sf_floor_div (visible.x + visible.width - 1, size);
          int by1 = sf_floor_div (visible.y + visible.height - 1, size);
          for (int by = by0; by <= by1; by++)
            for (int bx = bx0; bx <= bx1; bx++)
              {
                graphene_rect_t rect = canvas_rect_to_widget (self, (double) bx * size,
                                                              (double) by * size, size, size);
                gtk_snapshot_append_texture (snapshot, get_texture (self, level, bx, by), &rect);
              }
          if (self->show_mask)
            {
              int tx0, ty0, tx1, ty1;
              sf_tile_range (&visible, &tx0, &ty0, &tx1, &ty1);
              for (int ty = ty0; ty <= ty1; ty++)
                for (int tx = tx0; tx <= tx1; tx++)
                  {
                    GdkTexture *texture = get_mask_texture (self, tx, ty);
                    if (!texture)
                      continue;
                    graphene_rect_t rect = canvas_rect_to_widget (
                        self, (double) tx * SF_TILE_SIZE, (double) ty * SF_TILE_SIZE,
                        SF_TILE_SIZE, SF_TILE_SIZE);
                    gtk_snapshot_append_texture (snapshot, texture, &rect);
                  }
            }
        }
      gtk_snapshot_pop (snapshot);
    }
  if (self->preview)
    {
      /* Scaled up from the latent preview (1/8 of the size) with the
       * renderer's smooth filter: a blurred impression is what it is. */
      graphene_rect_t rect = canvas_rect_to_widget (self, self->preview_rect.x,
                                                    self->preview_rect.y, self->preview_rect.width,
                                                    self->preview_rect.height);
      gtk_snapshot_append_texture (snapshot, self->preview, &rect);
    }
  const GdkRGBA edge = { 0, 0, 0, 0.5 };
  graphene_rect_t around = GRAPHENE_RECT_INIT (canvas_area.origin.x - 1, canvas_area.origin.y - 1,
                                               canvas_area.size.width + 2,
                                               canvas_area.size.height + 2);
  append_outline (snapshot, &around, 0, 1, &edge);
  append_frame (self, snapshot);
  append_brush_outline (self, snapshot);
}

/* The view */

static void
view_changed (SfCanvasView *self)
{
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_signal_emit (self, signals[SIGNAL_VIEW_CHANGED], 0);
}

double
sf_canvas_view_get_zoom (SfCanvasView *self)
{
  return self->zoom;
}

void
sf_canvas_view_set_zoom (SfCanvasView *self, double zoom, double anchor_x, double anchor_y)
{
  zoom = CLAMP (zoom, SF_CANVAS_ZOOM_MIN, SF_CANVAS_ZOOM_MAX);
  if (anchor_x < 0 || anchor_y < 0)
    {
      anchor_x = gtk_widget_get_width (GTK_WIDGET (self)) / 2.0;
      anchor_y = gtk_widget_get_height (GTK_WIDGET (self)) / 2.0;
    }
  double cx, cy;
  sf_canvas_view_widget_to_canvas (self, anchor_x, anchor_y, &cx, &cy);
  self->zoom = zoom;
  self->origin_x = cx - anchor_x / zoom;
  self->origin_y = cy - anchor_y / zoom;
  self->fitted = FALSE;
  view_changed (self);
}

static double
zoom_step (double zoom, int direction)
{
  /* The nearest power of √2 beyond the current zoom. */
  double exponent = log2 (zoom) * 2;
  double next = direction > 0 ? floor (exponent + 1e-6) + 1 : ceil (exponent - 1e-6) - 1;
  return pow (2, next / 2);
}

void
sf_canvas_view_zoom_in (SfCanvasView *self)
{
  sf_canvas_view_set_zoom (self, zoom_step (self->zoom, 1), -1, -1);
}

void
sf_canvas_view_zoom_out (SfCanvasView *self)
{
  sf_canvas_view_set_zoom (self, zoom_step (self->zoom, -1), -1, -1);
}

void
sf_canvas_view_zoom_fit (SfCanvasView *self)
{
  int width = gtk_widget_get_width (GTK_WIDGET (self));
  int height = gtk_widget_get_height (GTK_WIDGET (self));
  if (!self->document)
    return;
  SfRect canvas = sf_document_get_canvas (self->document);
  if (width <= 0 || height <= 0)
    {
      self->fitted = TRUE; /* fit once allocated */
      return;
    }
  double zoom = MIN ((width - 32.0) / canvas.width, (height - 32.0) / canvas.height);
  self->zoom = CLAMP (zoom, SF_CANVAS_ZOOM_MIN, SF_CANVAS_ZOOM_MAX);
  self->origin_x = canvas.x + canvas.width / 2.0 - width / 2.0 / self->zoom;
  self->origin_y = canvas.y + canvas.height / 2.0 - height / 2.0 / self->zoom;
  self->fitted = TRUE;
  view_changed (self);
}

void
sf_canvas_view_pan (SfCanvasView *self, double dx, double dy)
{
  self->origin_x -= dx / self->zoom;
  self->origin_y -= dy / self->zoom;
  self->fitted = FALSE;
  view_changed (self);
}

static void
sf_canvas_view_size_allocate (GtkWidget *widget, int width, int height, int baseline)
{
  SfCanvasView *self = SF_CANVAS_VIEW (widget);
  if (self->fitted)
    sf_canvas_view_zoom_fit (self);
}

void
sf_canvas_view_set_document (SfCanvasView *self, SfDocument *document)
{
  if (self->document == document)
    return;
  if (self->stroke)
    sf_canvas_view_release (self, self->pointer_x, self->pointer_y);
  if (self->document)
    sf_document_remove_observer (self->document, self->observer);
  self->document = document;
  self->observer = document ? sf_document_add_observer (document, on_document_changed, self) : 0;
  g_hash_table_remove_all (self->textures);
  g_hash_table_remove_all (self->mask_textures);
  sf_canvas_view_zoom_fit (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

SfDocument *
sf_canvas_view_get_document (SfCanvasView *self)
{
  return self->document;
}

void
sf_canvas_view_set_show_mask (SfCanvasView *self, gboolean show)
{
  self->show_mask = !!show;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

gboolean
sf_canvas_view_get_show_mask (SfCanvasView *self)
{
  return self->show_mask;
}

void
sf_canvas_view_set_mask_color (SfCanvasView *self, const GdkRGBA *color)
{
  self->mask_color = *color;
  g_hash_table_remove_all (self->mask_textures);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
sf_canvas_view_set_preview (SfCanvasView *self, GdkTexture *texture, const SfRect *rect)
{
  g_return_if_fail (texture == NULL || rect != NULL);
  if (!texture && !self->preview)
    return;
  g_set_object (&self->preview, texture);
  if (texture)
    self->preview_rect = *rect;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

GdkTexture *
sf_canvas_view_get_preview (SfCanvasView *self)
{
  return self->preview;
}

guint
sf_canvas_view_get_texture_count (SfCanvasView *self)
{
  return self->texture_count;
}

static void
sf_canvas_view_dispose (GObject *object)
{
  SfCanvasView *self = SF_CANVAS_VIEW (object);
  sf_canvas_view_set_document (self, NULL);
  g_clear_object (&self->options);
  g_clear_object (&self->preview);
  G_OBJECT_CLASS (sf_canvas_view_parent_class)->dispose (object);
}

static void
sf_canvas_view_finalize (GObject *object)
{
  SfCanvasView *self = SF_CANVAS_VIEW (object);
  g_hash_table_unref (self->textures);
  g_hash_table_unref (self->mask_textures);
  G_OBJECT_CLASS (sf_canvas_view_parent_class)->finalize (object);
}

static void
sf_canvas_view_class_init (SfCanvasViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  object_class->dispose = sf_canvas_view_dispose;
  object_class->finalize = sf_canvas_view_finalize;
  widget_class->snapshot = sf_canvas_view_snapshot;
  widget_class->size_allocate = sf_canvas_view_size_allocate;
  gtk_widget_class_set_css_name (widget_class, "canvasview");

  /* The eyedropper found a colour (straight RGB; alpha 1). */
  signals[SIGNAL_COLOR_PICKED] = g_signal_new ("color-picked", G_TYPE_FROM_CLASS (klass),
                                               G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                               G_TYPE_NONE, 1, GDK_TYPE_RGBA);
  /* Zoom or position changed. */
  signals[SIGNAL_VIEW_CHANGED] = g_signal_new ("view-changed", G_TYPE_FROM_CLASS (klass),
                                               G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                               G_TYPE_NONE, 0);
  /* The pointer is over canvas point (x, y). */
  signals[SIGNAL_POINTER_MOVED] = g_signal_new ("pointer-moved", G_TYPE_FROM_CLASS (klass),
                                                G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                                G_TYPE_NONE, 2, G_TYPE_DOUBLE, G_TYPE_DOUBLE);
}

static void
sf_canvas_view_init (SfCanvasView *self)
{
  self->zoom = 1;
  self->fitted = TRUE;
  self->frame_handle = SF_HANDLE_NONE;
  self->mask_color = (GdkRGBA) { 1.0, 0.125, 0.376, 0.45 };
  self->show_mask = TRUE;
  self->textures = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_object_unref);
  self->mask_textures = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free,
                                               g_object_unref);
  gtk_widget_add_css_class (GTK_WIDGET (self), "canvas-view");
  gtk_widget_set_focusable (GTK_WIDGET (self), TRUE);
  gtk_widget_set_hexpand (GTK_WIDGET (self), TRUE);
  gtk_widget_set_vexpand (GTK_WIDGET (self), TRUE);
  gtk_widget_set_overflow (GTK_WIDGET (self), GTK_OVERFLOW_HIDDEN);
  sf_canvas_view_setup_input (self);
}

SfCanvasView *
sf_canvas_view_new (SfToolOptions *options)
{
  SfCanvasView *self = g_object_new (SF_TYPE_CANVAS_VIEW, NULL);
  self->options = g_object_ref (options);
  g_signal_connect_object (options, "notify", G_CALLBACK (gtk_widget_queue_draw), self,
                           G_CONNECT_SWAPPED);
  return self;
}

void
sf_canvas_view_emit_color_picked (SfCanvasView *self, const GdkRGBA *color)
{
  g_signal_emit (self, signals[SIGNAL_COLOR_PICKED], 0, color);
}

void
sf_canvas_view_emit_pointer_moved (SfCanvasView *self, double x, double y)
{
  g_signal_emit (self, signals[SIGNAL_POINTER_MOVED], 0, x, y);
}
