#include "brush.h"

#include <glib/gi18n.h>
#include <math.h>

#include "document-private.h"

/* Pixels are handled as bytes in ARGB32's little-endian memory order
 * (B, G, R, A); every platform Sfumato targets is little-endian. */
#if G_BYTE_ORDER != G_LITTLE_ENDIAN
#error "brush.c assumes a little-endian ARGB32 byte order"
#endif

void
sf_pressure_curve_init_linear (SfPressureCurve *curve)
{
  *curve = (SfPressureCurve) { .count = 2, .x = { 0, 1 }, .y = { 0, 1 } };
}

double
sf_pressure_curve_eval (const SfPressureCurve *curve, double pressure)
{
  if (curve->count < 1)
    return pressure;
  if (pressure <= curve->x[0])
    return curve->y[0];
  for (int i = 1; i < curve->count; i++)
    if (pressure <= curve->x[i])
      {
        double span = curve->x[i] - curve->x[i - 1];
        double t = span > 0 ? (pressure - curve->x[i - 1]) / span : 1.0;
        return curve->y[i - 1] + t * (curve->y[i] - curve->y[i - 1]);
      }
  return curve->y[curve->count - 1];
}

void
sf_brush_init (SfBrush *brush)
{
  *brush = (SfBrush) {
    .mode = SF_BRUSH_PAINT,
    .size_px = 20,
    .hardness = 0.8,
    .opacity = 1,
    .flow = 1,
    .spacing = 0.1,
    .smoothing = 0,
    .pressure_size = TRUE,
    .pressure_opacity = FALSE,
  };
  sf_pressure_curve_init_linear (&brush->size_curve);
  sf_pressure_curve_init_linear (&brush->opacity_curve);
}

/* 1 inside hardness × radius, then smoothstep down to 0 at the radius. */
static inline double
falloff (double distance, double radius, double hardness)
{
  double inner = hardness * radius;
  if (distance <= inner || radius <= inner)
    return 1.0;
  double t = MIN (1.0, (distance - inner) / (radius - inner));
  return 1.0 - t * t * (3.0 - 2.0 * t);
}

static inline float
dab_shape (double distance, double radius, double hardness)
{
  if (distance >= radius + 0.5)
    return 0.0f;
  /* A one-pixel rim centred on the radius anti-aliases the edge. */
  double edge = MIN (1.0, radius + 0.5 - distance);
  return (float) (falloff (distance, radius, hardness) * edge);
}

/* Dabs smaller than this are integrated over the pixel: a one-pixel rim
 * would overstate their area. */
#define SMALL_RADIUS 2.0

/* The coverage of the pixel whose centre is (dx, dy) from the dab's. */
static inline float
pixel_coverage (double dx, double dy, double radius, double hardness)
{
  if (radius >= SMALL_RADIUS)
    return dab_shape (sqrt (dx * dx + dy * dy), radius, hardness);
  /* 4×4 samples of the shape without its rim. */
  float sum = 0;
  for (int j = 0; j < 4; j++)
    for (int i = 0; i < 4; i++)
      {
        double x = dx + (i - 1.5) / 4, y = dy + (j - 1.5) / 4;
        double d = sqrt (x * x + y * y);
        if (d < radius)
          sum += (float) falloff (d, radius, hardness);
      }
  return sum / 16;
}

float
sf_brush_dab_coverage (double cx, double cy, double radius, double hardness, int px, int py)
{
  return pixel_coverage (px + 0.5 - cx, py + 0.5 - cy, MAX (radius, 0.5),
                         CLAMP (hardness, 0.0, 1.0));
}

typedef struct {
  SfTile *original; /* nullable: the tile was absent when the stroke began */
  float *coverage;  /* 256×256 */
} StrokeTile;

struct SfStroke {
  SfDocument *document;
  SfBrush brush;
  SfLayer *layer;   /* nullable: the inpaint mask */
  SfTileGrid *grid; /* what is painted */
  gboolean argb;
  gboolean alpha_locked;
  float target[4]; /* premultiplied B, G, R, A (ARGB32's byte order) or [0] for A8 */
  GHashTable *tiles;
  SfRect clip;
  double path_x, path_y, path_p;   /* where the stroke's path has got to */
  double raw_x, raw_y, raw_p;      /* the pointer's latest position */
  double since_dab;                /* path length since the last dab */
  double dab_pressure;
  guint dabs;
  SfRect dirty;
};

static void
stroke_tile_free (gpointer data)
{
  StrokeTile *tile = data;
  sf_tile_unref (tile->original);
  g_free (tile->coverage);
  g_free (tile);
}

static StrokeTile *
get_stroke_tile (SfStroke *stroke, int tx, int ty)
{
  gpointer key = GUINT_TO_POINTER (((guint32) (tx + 32768) << 16) | (guint32) (ty + 32768));
  StrokeTile *tile = g_hash_table_lookup (stroke->tiles, key);
  if (!tile)
    {
      tile = g_new0 (StrokeTile, 1);
      SfTile *original = sf_tile_grid_peek (stroke->grid, tx, ty);
      tile->original = original ? sf_tile_ref (original) : NULL;
      tile->coverage = g_new0 (float, SF_TILE_SIZE * SF_TILE_SIZE);
      g_hash_table_insert (stroke->tiles, key, tile);
    }
  return tile;
}

static double
dab_radius (const SfStroke *stroke, double pressure)
{
  double size = stroke->brush.size_px;
  if (stroke->brush.pressure_size)
    size *= sf_pressure_curve_eval (&stroke->brush.size_curve, pressure);
  return MAX (0.5, size / 2);
}

/* Lays the stroke over the original pixels where coverage is @cov. */
static inline void
blend_argb (const SfStroke *stroke, const guint8 *original, guint8 *out, float cov)
{
  float amount = (float) stroke->brush.opacity * cov;
  if (stroke->alpha_locked)
    {
      /* Colour moves towards the brush; alpha stays. */
      if (stroke->brush.mode == SF_BRUSH_ERASE)
        return;
      float alpha = original[3];
      for (int c = 0; c < 3; c++)
        {
          float target = stroke->target[c] * alpha / 255.0f;
          out[c] = (guint8) (original[c] + (target - original[c]) * amount + 0.5f);
        }
      out[3] = original[3];
      return;
    }
  for (int c = 0; c < 4; c++)
    out[c] = (guint8) (original[c] + (stroke->target[c] - original[c]) * amount + 0.5f);
}

static void
render_dab (SfStroke *stroke, double cx, double cy, double pressure)
{
  double radius = dab_radius (stroke, pressure);
  double hardness = CLAMP (stroke->brush.hardness, 0.0, 1.0);
  float alpha = (float) CLAMP (stroke->brush.flow, 0.0, 1.0);
  if (stroke->brush.pressure_opacity)
    alpha *= (float) sf_pressure_curve_eval (&stroke->brush.opacity_curve, pressure);
  stroke->dabs++;
  int x0 = (int) floor (cx - radius - 1), y0 = (int) floor (cy - radius - 1);
  int x1 = (int) ceil (cx + radius + 1), y1 = (int) ceil (cy + radius + 1);
  SfRect box = { x0, y0, x1 - x0, y1 - y0 };
  if (!sf_rect_intersect (&box, &stroke->clip, &box) || alpha <= 0)
    return;
  sf_rect_union (&stroke->dirty, &box, &stroke->dirty);

  guint8 fill = sf_tile_grid_get_fill (stroke->grid);
  int tx0, ty0, tx1, ty1;
  sf_tile_range (&box, &tx0, &ty0, &tx1, &ty1);
  for (int ty = ty0; ty <= ty1; ty++)
    for (int tx = tx0; tx <= tx1; tx++)
      {
        SfRect tile_rect = sf_tile_rect (tx, ty), part;
        sf_rect_intersect (&tile_rect, &box, &part);
        StrokeTile *st = get_stroke_tile (stroke, tx, ty);
        SfTile *tile = sf_document_write_tile (stroke->document, stroke->layer, stroke->grid,
                                               tx, ty);
        guint8 *data = sf_tile_get_data (tile);
        const guint8 *original = st->original ? sf_tile_peek_data (st->original) : NULL;
        for (int y = part.y; y < part.y + part.height; y++)
          {
            double dy = y + 0.5 - cy;
            int v = y - tile_rect.y;
            for (int x = part.x; x < part.x + part.width; x++)
              {
                float f = pixel_coverage (x + 0.5 - cx, dy, radius, hardness);
                if (f <= 0.0f)
                  continue;
                int i = v * SF_TILE_SIZE + (x - tile_rect.x);
                float cov = st->coverage[i];
                cov += (1.0f - cov) * alpha * f;
                st->coverage[i] = cov;
                if (stroke->argb)
                  {
                    static const guint8 transparent[4] = { 0, 0, 0, 0 };
                    blend_argb (stroke, original ? original + i * 4 : transparent,
                                data + i * 4, cov);
                  }
                else
                  {
                    float before = original ? original[i] : fill;
                    float amount = (float) stroke->brush.opacity * cov;
                    data[i] = (guint8) (before + (stroke->target[0] - before) * amount + 0.5f);
                  }
              }
          }
      }
}

static void
flush_dirty (SfStroke *stroke)
{
  if (sf_rect_is_empty (&stroke->dirty))
    return;
  if (stroke->layer)
    sf_document_layer_pixels_changed (stroke->document, stroke->layer, &stroke->dirty);
  else
    sf_document_emit (stroke->document, SF_DOCUMENT_CHANGED_MASK, &stroke->dirty, NULL);
  stroke->dirty = (SfRect) { 0, 0, 0, 0 };
}

/* Walks the path from where it is to (x, y), placing a dab every
 * spacing × diameter (at the pressure of the previous dab). */
static void
path_to (SfStroke *stroke, double x, double y, double pressure)
{
  double dx = x - stroke->path_x, dy = y - stroke->path_y;
  double length = sqrt (dx * dx + dy * dy);
  double travelled = 0;
  double spacing = CLAMP (stroke->brush.spacing, 0.02, 5.0);
  for (;;)
    {
      double step = MAX (0.5, spacing * 2 * dab_radius (stroke, stroke->dab_pressure));
      double needed = step - stroke->since_dab;
      if (travelled + needed > length)
        {
          stroke->since_dab += length - travelled;
          break;
        }
      travelled += needed;
      double t = length > 0 ? travelled / length : 1.0;
      double p = stroke->path_p + t * (pressure - stroke->path_p);
      render_dab (stroke, stroke->path_x + t * dx, stroke->path_y + t * dy, p);
      stroke->since_dab = 0;
      stroke->dab_pressure = p;
    }
  stroke->path_x = x;
  stroke->path_y = y;
  stroke->path_p = pressure;
}

static const char *
stroke_label (SfBrushMode mode)
{
  switch (mode)
    {
    case SF_BRUSH_ERASE:
      return _("Eraser Stroke");
    case SF_BRUSH_MASK:
      return _("Mask Stroke");
    case SF_BRUSH_MASK_ERASE:
      return _("Mask Eraser Stroke");
    default:
      return _("Brush Stroke");
    }
}

SfStroke *
sf_stroke_begin (SfDocument *document, const SfBrush *brush, double x, double y, double pressure)
{
  gboolean mask_mode = brush->mode == SF_BRUSH_MASK || brush->mode == SF_BRUSH_MASK_ERASE;
  SfLayer *layer = mask_mode ? NULL : document->active;
  if (!mask_mode && !layer)
    return NULL;

  SfStroke *stroke = g_new0 (SfStroke, 1);
  stroke->document = document;
  stroke->brush = *brush;
  stroke->clip = document->canvas;
  stroke->tiles = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, stroke_tile_free);
  const double *rgb = brush->color;
  if (mask_mode)
    {
      stroke->grid = sf_tile_grid_ref (document->mask);
      stroke->target[0] = brush->mode == SF_BRUSH_MASK ? 255.0f : 0.0f;
    }
  else if (brush->on_layer_mask && layer->mask)
    {
      stroke->layer = sf_layer_ref (layer);
      stroke->grid = sf_tile_grid_ref (layer->mask);
      /* Rec. 709 luma: white shows, black hides, as in GIMP and Krita. */
      double luma = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2];
      stroke->target[0] = brush->mode == SF_BRUSH_PAINT ? (float) (CLAMP (luma, 0, 1) * 255) : 0;
    }
  else
    {
      stroke->layer = sf_layer_ref (layer);
      stroke->grid = sf_tile_grid_ref (layer->pixels);
      stroke->argb = TRUE;
      stroke->alpha_locked = layer->alpha_locked;
      if (brush->mode == SF_BRUSH_PAINT)
        {
          /* ARGB32 bytes in memory (little-endian): B, G, R, A. */
          stroke->target[0] = (float) (CLAMP (rgb[2], 0, 1) * 255);
          stroke->target[1] = (float) (CLAMP (rgb[1], 0, 1) * 255);
          stroke->target[2] = (float) (CLAMP (rgb[0], 0, 1) * 255);
          stroke->target[3] = 255.0f;
        }
    }
  pressure = CLAMP (pressure, 0.0, 1.0);
  stroke->path_x = stroke->raw_x = x;
  stroke->path_y = stroke->raw_y = y;
  stroke->path_p = stroke->raw_p = stroke->dab_pressure = pressure;
  sf_document_begin_edit (document, stroke_label (brush->mode));
  render_dab (stroke, x, y, pressure);
  flush_dirty (stroke);
  return stroke;
}

void
sf_stroke_motion (SfStroke *stroke, double x, double y, double pressure)
{
  pressure = CLAMP (pressure, 0.0, 1.0);
  stroke->raw_x = x;
  stroke->raw_y = y;
  stroke->raw_p = pressure;
  /* Smoothing: the path follows the pointer part of the way, like a
   * brush pulled on a string (an exponential moving average). */
  double follow = 1.0 - CLAMP (stroke->brush.smoothing, 0.0, 0.99);
  path_to (stroke, stroke->path_x + (x - stroke->path_x) * follow,
           stroke->path_y + (y - stroke->path_y) * follow,
           stroke->path_p + (pressure - stroke->path_p) * follow);
  flush_dirty (stroke);
}

void
sf_stroke_end (SfStroke *stroke)
{
  if (!stroke)
    return;
  if (stroke->brush.smoothing > 0)
    path_to (stroke, stroke->raw_x, stroke->raw_y, stroke->raw_p);
  flush_dirty (stroke);
  sf_document_end_edit (stroke->document);
  g_hash_table_unref (stroke->tiles);
  sf_tile_grid_unref (stroke->grid);
  if (stroke->layer)
    sf_layer_unref (stroke->layer);
  g_free (stroke);
}

guint
sf_stroke_get_dab_count (const SfStroke *stroke)
{
  return stroke->dabs;
}

void
sf_document_stroke_line (SfDocument *document, const SfBrush *brush, double x0, double y0,
                         double x1, double y1)
{
  SfStroke *stroke = sf_stroke_begin (document, brush, x0, y0, 1.0);
  if (!stroke)
    return;
  sf_stroke_motion (stroke, x1, y1, 1.0);
  sf_stroke_end (stroke);
}
