#include <glib/gi18n.h>
#include <string.h>

#include "document-private.h"
#include "pixels.h"

static const struct {
  cairo_operator_t op;
  const char *label;
  const char *ora;
} BLEND_MODES[SF_BLEND_COUNT] = {
  [SF_BLEND_NORMAL] = { CAIRO_OPERATOR_OVER, N_("Normal"), "svg:src-over" },
  [SF_BLEND_MULTIPLY] = { CAIRO_OPERATOR_MULTIPLY, N_("Multiply"), "svg:multiply" },
  [SF_BLEND_SCREEN] = { CAIRO_OPERATOR_SCREEN, N_("Screen"), "svg:screen" },
  [SF_BLEND_OVERLAY] = { CAIRO_OPERATOR_OVERLAY, N_("Overlay"), "svg:overlay" },
  [SF_BLEND_DARKEN] = { CAIRO_OPERATOR_DARKEN, N_("Darken"), "svg:darken" },
  [SF_BLEND_LIGHTEN] = { CAIRO_OPERATOR_LIGHTEN, N_("Lighten"), "svg:lighten" },
  [SF_BLEND_ADD] = { CAIRO_OPERATOR_ADD, N_("Add"), "svg:plus" },
};

cairo_operator_t
sf_blend_mode_to_cairo (SfBlendMode mode)
{
  g_return_val_if_fail (mode < SF_BLEND_COUNT, CAIRO_OPERATOR_OVER);
  return BLEND_MODES[mode].op;
}

const char *
sf_blend_mode_get_label (SfBlendMode mode)
{
  g_return_val_if_fail (mode < SF_BLEND_COUNT, NULL);
  return BLEND_MODES[mode].label;
}

const char *
sf_blend_mode_to_ora (SfBlendMode mode)
{
  g_return_val_if_fail (mode < SF_BLEND_COUNT, NULL);
  return BLEND_MODES[mode].ora;
}

SfBlendMode
sf_blend_mode_from_ora (const char *composite_op)
{
  for (int mode = 0; mode < SF_BLEND_COUNT && composite_op; mode++)
    if (strcmp (composite_op, BLEND_MODES[mode].ora) == 0)
      return mode;
  return SF_BLEND_NORMAL;
}

static guint
next_layer_id (void)
{
  static gint counter = 0;
  return (guint) g_atomic_int_add (&counter, 1) + 1;
}

SfLayer *
sf_layer_new (const char *name)
{
  SfLayer *layer = g_new0 (SfLayer, 1);
  layer->ref_count = 1;
  layer->id = next_layer_id ();
  layer->name = g_strdup (name ? name : "");
  layer->visible = TRUE;
  layer->opacity = 1.0;
  layer->blend_mode = SF_BLEND_NORMAL;
  layer->pixels = sf_tile_grid_new (SF_TILE_ARGB32, 0);
  return layer;
}

SfLayer *
sf_layer_duplicate (const SfLayer *layer, const char *name)
{
  SfLayer *copy = sf_layer_new (name);
  copy->visible = layer->visible;
  copy->opacity = layer->opacity;
  copy->blend_mode = layer->blend_mode;
  copy->alpha_locked = layer->alpha_locked;
  copy->generation_id = g_strdup (layer->generation_id);
  sf_tile_grid_unref (copy->pixels);
  copy->pixels = sf_tile_grid_copy (layer->pixels);
  if (layer->mask)
    copy->mask = sf_tile_grid_copy (layer->mask);
  return copy;
}

SfLayer *
sf_layer_ref (SfLayer *layer)
{
  g_atomic_int_inc (&layer->ref_count);
  return layer;
}

void
sf_layer_unref (SfLayer *layer)
{
  if (layer && g_atomic_int_dec_and_test (&layer->ref_count))
    {
      g_free (layer->name);
      g_free (layer->generation_id);
      sf_tile_grid_unref (layer->pixels);
      sf_tile_grid_unref (layer->mask);
      g_free (layer);
    }
}

void
sf_layer_get_props (const SfLayer *layer, SfLayerProps *props)
{
  props->name = g_strdup (layer->name);
  props->visible = layer->visible;
  props->opacity = layer->opacity;
  props->blend_mode = layer->blend_mode;
  props->alpha_locked = layer->alpha_locked;
  props->generation_id = g_strdup (layer->generation_id);
}

void
sf_layer_set_props (SfLayer *layer, const SfLayerProps *props)
{
  g_free (layer->name);
  layer->name = g_strdup (props->name);
  layer->visible = props->visible;
  layer->opacity = props->opacity;
  layer->blend_mode = props->blend_mode;
  layer->alpha_locked = props->alpha_locked;
  g_free (layer->generation_id);
  layer->generation_id = g_strdup (props->generation_id);
}

void
sf_layer_props_clear (SfLayerProps *props)
{
  g_clear_pointer (&props->name, g_free);
  g_clear_pointer (&props->generation_id, g_free);
}

guint
sf_layer_get_id (const SfLayer *layer)
{
  return layer->id;
}

const char *
sf_layer_get_name (const SfLayer *layer)
{
  return layer->name;
}

gboolean
sf_layer_get_visible (const SfLayer *layer)
{
  return layer->visible;
}

double
sf_layer_get_opacity (const SfLayer *layer)
{
  return layer->opacity;
}

SfBlendMode
sf_layer_get_blend_mode (const SfLayer *layer)
{
  return layer->blend_mode;
}

gboolean
sf_layer_get_alpha_locked (const SfLayer *layer)
{
  return layer->alpha_locked;
}

const char *
sf_layer_get_generation_id (const SfLayer *layer)
{
  return layer->generation_id;
}

SfTileGrid *
sf_layer_get_pixels (const SfLayer *layer)
{
  return layer->pixels;
}

SfTileGrid *
sf_layer_get_mask (const SfLayer *layer)
{
  return layer->mask;
}

guint64
sf_layer_get_pixel_serial (const SfLayer *layer)
{
  return layer->pixel_serial;
}

static guint32
sample (const SfTileGrid *grid, int x, int y)
{
  int tx = sf_floor_div (x, SF_TILE_SIZE), ty = sf_floor_div (y, SF_TILE_SIZE);
  const SfTile *tile = sf_tile_grid_peek (grid, tx, ty);
  if (!tile)
    return sf_tile_grid_get_fill (grid);
  int u = x - tx * SF_TILE_SIZE, v = y - ty * SF_TILE_SIZE;
  if (sf_tile_get_format (tile) == SF_TILE_A8)
    return sf_tile_peek_data (tile)[v * SF_TILE_SIZE + u];
  return ((const guint32 *) sf_tile_peek_data (tile))[v * SF_TILE_SIZE + u];
}

cairo_surface_t *
sf_layer_render_thumbnail (const SfLayer *layer, const SfRect *canvas, int size)
{
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, size, size);
  if (sf_rect_is_empty (canvas) || size <= 0)
    return surface;
  cairo_surface_flush (surface);
  guint8 *data = cairo_image_surface_get_data (surface);
  int stride = cairo_image_surface_get_stride (surface);
  double scale = (double) MAX (canvas->width, canvas->height) / size;
  int out_w = MAX (1, (int) (canvas->width / scale + 0.5));
  int out_h = MAX (1, (int) (canvas->height / scale + 0.5));
  int off_x = (size - out_w) / 2, off_y = (size - out_h) / 2;
  /* Up to 4×4 point samples per thumbnail pixel: a box filter that is
   * cheap on any canvas size and has no seams between tiles. */
  int taps = CLAMP ((int) scale, 1, 4);
  guint opacity = (guint) (layer->opacity * 255 + 0.5);
  for (int v = 0; v < out_h; v++)
    for (int u = 0; u < out_w; u++)
      {
        guint sum[4] = { 0 };
        for (int j = 0; j < taps; j++)
          for (int i = 0; i < taps; i++)
            {
              int x = canvas->x + (int) ((u + (i + 0.5) / taps) * scale);
              int y = canvas->y + (int) ((v + (j + 0.5) / taps) * scale);
              guint32 p = sample (layer->pixels, x, y);
              guint m = layer->mask ? sample (layer->mask, x, y) : 255;
              m = sf_mul_255 (m, opacity);
              for (int c = 0; c < 4; c++)
                sum[c] += sf_mul_255 ((p >> (8 * c)) & 0xff, m);
            }
        guint32 out = 0;
        for (int c = 0; c < 4; c++)
          out |= (guint32) ((sum[c] + taps * taps / 2) / (taps * taps)) << (8 * c);
        ((guint32 *) (data + (gsize) (v + off_y) * stride))[u + off_x] = out;
      }
  cairo_surface_mark_dirty (surface);
  return surface;
}
