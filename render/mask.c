/* The inpaint mask's tools: fill, invert, grow/shrink and feather. Each
 * is one undo step. Work is limited to the canvas and, where possible, to
 * the part of it the mask covers. */
#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "document-private.h"
#include "mask.h"

void
sf_document_fill_mask (SfDocument *document, const SfRect *rect, guint8 value)
{
  SfRect area;
  if (!sf_rect_intersect (rect, &document->canvas, &area))
    return;
  sf_document_begin_edit (document, value ? _("Fill Mask") : _("Clear Mask"));
  int tx0, ty0, tx1, ty1;
  sf_tile_range (&area, &tx0, &ty0, &tx1, &ty1);
  for (int ty = ty0; ty <= ty1; ty++)
    for (int tx = tx0; tx <= tx1; tx++)
      {
        SfRect tile_rect = sf_tile_rect (tx, ty), part;
        sf_rect_intersect (&tile_rect, &area, &part);
        gboolean absent = sf_tile_grid_peek (document->mask, tx, ty) == NULL;
        if (absent && value == 0)
          continue;
        if (sf_rect_equal (&part, &tile_rect))
          {
            g_autoptr (SfTile) tile = value ? sf_tile_new (SF_TILE_A8, value) : NULL;
            sf_document_replace_tile (document, NULL, document->mask, tx, ty, tile);
            continue;
          }
        SfTile *tile = sf_document_write_tile (document, NULL, document->mask, tx, ty);
        guint8 *data = sf_tile_get_data (tile);
        for (int y = part.y; y < part.y + part.height; y++)
          memset (data + (y - tile_rect.y) * SF_TILE_SIZE + (part.x - tile_rect.x), value,
                  part.width);
      }
  sf_document_emit (document, SF_DOCUMENT_CHANGED_MASK, &area, NULL);
  sf_document_end_edit (document);
}

void
sf_document_invert_mask (SfDocument *document)
{
  SfRect area = document->canvas;
  sf_document_begin_edit (document, _("Invert Mask"));
  int tx0, ty0, tx1, ty1;
  sf_tile_range (&area, &tx0, &ty0, &tx1, &ty1);
  for (int ty = ty0; ty <= ty1; ty++)
    for (int tx = tx0; tx <= tx1; tx++)
      {
        SfRect tile_rect = sf_tile_rect (tx, ty), part;
        sf_rect_intersect (&tile_rect, &area, &part);
        SfTile *tile = sf_document_write_tile (document, NULL, document->mask, tx, ty);
        guint8 *data = sf_tile_get_data (tile);
        for (int y = part.y; y < part.y + part.height; y++)
          {
            guint8 *row = data + (y - tile_rect.y) * SF_TILE_SIZE + (part.x - tile_rect.x);
            for (int x = 0; x < part.width; x++)
              row[x] = 255 - row[x];
          }
      }
  sf_document_emit (document, SF_DOCUMENT_CHANGED_MASK, &area, NULL);
  sf_document_end_edit (document);
}

/* The canvas part of the mask's content, widened by @margin (within the
 * canvas); FALSE when the mask is empty there. */
static gboolean
work_area (const SfDocument *document, int margin, SfRect *area)
{
  SfRect bounds;
  if (!sf_tile_grid_get_content_bounds (document->mask, &bounds)
      || !sf_rect_intersect (&bounds, &document->canvas, &bounds))
    return FALSE;
  SfRect wide = { bounds.x - margin, bounds.y - margin, bounds.width + 2 * margin,
                  bounds.height + 2 * margin };
  return sf_rect_intersect (&wide, &document->canvas, area);
}

/* One-dimensional squared distance transform (Felzenszwalb and
 * Huttenlocher, "Distance Transforms of Sampled Functions", 2012): d[q] =
 * min over p of (q − p)² + f[p], by the lower envelope of parabolas. */
static void
distance_1d (const double *f, int n, double *d, int *v, double *z)
{
  int k = 0;
  v[0] = 0;
  z[0] = -HUGE_VAL;
  z[1] = HUGE_VAL;
  for (int q = 1; q < n; q++)
    {
      /* f is finite (capped), so s is too and z[0] = −∞ ends the loop. */
      double s;
      for (;;)
        {
          int p = v[k];
          s = ((f[q] + (double) q * q) - (f[p] + (double) p * p)) / (2.0 * q - 2.0 * p);
          if (s > z[k])
            break;
          k--;
        }
      k++;
      v[k] = q;
      z[k] = s;
      z[k + 1] = HUGE_VAL;
    }
  k = 0;
  for (int q = 0; q < n; q++)
    {
      while (z[k + 1] < q)
        k++;
      d[q] = (double) (q - v[k]) * (q - v[k]) + f[v[k]];
    }
}

/* Squared distance from each pixel to the nearest pixel that is "inside"
 * (value ≥ 128) when @to_inside, else "outside"; capped at @cap, which
 * keeps every smaller distance exact in floats. */
static float *
squared_distances (const guint8 *mask, int width, int height, gboolean to_inside, double cap)
{
  float *out = g_new (float, (gsize) width * height);
  int n = MAX (width, height);
  g_autofree double *f = g_new (double, n);
  g_autofree double *d = g_new (double, n);
  g_autofree int *v = g_new (int, n);
  g_autofree double *z = g_new (double, n + 1);
  for (int x = 0; x < width; x++)
    {
      for (int y = 0; y < height; y++)
        f[y] = ((mask[(gsize) y * width + x] >= 128) == to_inside) ? 0.0 : cap;
      distance_1d (f, height, d, v, z);
      for (int y = 0; y < height; y++)
        out[(gsize) y * width + x] = (float) MIN (d[y], cap);
    }
  for (int y = 0; y < height; y++)
    {
      float *row = out + (gsize) y * width;
      for (int x = 0; x < width; x++)
        f[x] = row[x];
      distance_1d (f, width, d, v, z);
      for (int x = 0; x < width; x++)
        row[x] = (float) MIN (d[x], cap);
    }
  return out;
}

void
sf_mask_grow (guint8 *mask, int width, int height, int radius_px)
{
  if (radius_px == 0)
    return;
  int radius = ABS (radius_px);
  gsize count = (gsize) width * height;
  double cap = (double) (radius + 2) * (radius + 2);
  gboolean grow = radius_px > 0;
  g_autofree float *distance2 = squared_distances (mask, width, height, grow, cap);
  for (gsize i = 0; i < count; i++)
    {
      double d = sqrt (distance2[i]);
      /* Growing by r fully covers pixels within r of the mask and fades
       * over the next pixel; shrinking is the same from the outside. */
      double coverage = grow ? CLAMP (radius + 1 - d, 0.0, 1.0) : CLAMP (d - radius, 0.0, 1.0);
      guint8 value = (guint8) (coverage * 255 + 0.5);
      mask[i] = grow ? MAX (mask[i], value) : MIN (mask[i], value);
    }
}

void
sf_document_grow_mask (SfDocument *document, int radius_px)
{
  if (radius_px == 0)
    return;
  int radius = ABS (radius_px);
  SfRect area;
  if (!work_area (document, radius + 1, &area))
    return;
  g_autofree guint8 *mask = g_malloc ((gsize) area.width * area.height);
  sf_tile_grid_read (document->mask, &area, mask, area.width);
  sf_mask_grow (mask, area.width, area.height, radius_px);
  sf_document_begin_edit (document, radius_px > 0 ? _("Grow Mask") : _("Shrink Mask"));
  sf_document_write_grid (document, NULL, document->mask, &area, mask, area.width);
  sf_document_emit (document, SF_DOCUMENT_CHANGED_MASK, &area, NULL);
  sf_document_end_edit (document);
}

int
sf_mask_feather_reach (double radius_px)
{
  double sigma = radius_px / 2;
  return sigma >= 0.3 ? (int) ceil (3 * sigma) : 0;
}

void
sf_mask_feather (guint8 *mask, int width, int height, double radius_px)
{
  double sigma = radius_px / 2;
  int reach = sf_mask_feather_reach (radius_px);
  if (reach == 0)
    return;
  g_autofree float *weights = g_new (float, 2 * reach + 1);
  double sum = 0;
  for (int i = -reach; i <= reach; i++)
    sum += exp (-(double) i * i / (2 * sigma * sigma));
  for (int i = -reach; i <= reach; i++)
    weights[i + reach] = (float) (exp (-(double) i * i / (2 * sigma * sigma)) / sum);

  /* Separable: rows into floats, then columns. The edges repeat (the
   * mask goes on past the canvas rather than fading at its border). */
  g_autofree float *rows = g_new (float, (gsize) width * height);
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        float acc = 0;
        for (int i = -reach; i <= reach; i++)
          acc += weights[i + reach] * mask[(gsize) y * width + CLAMP (x + i, 0, width - 1)];
        rows[(gsize) y * width + x] = acc;
      }
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        float acc = 0;
        for (int i = -reach; i <= reach; i++)
          acc += weights[i + reach] * rows[(gsize) CLAMP (y + i, 0, height - 1) * width + x];
        mask[(gsize) y * width + x] = (guint8) CLAMP (acc + 0.5f, 0.0f, 255.0f);
      }
}

void
sf_document_feather_mask (SfDocument *document, double radius_px)
{
  int reach = sf_mask_feather_reach (radius_px);
  if (reach == 0)
    return;
  SfRect area;
  if (!work_area (document, reach, &area))
    return;
  g_autofree guint8 *mask = g_malloc ((gsize) area.width * area.height);
  sf_tile_grid_read (document->mask, &area, mask, area.width);
  sf_mask_feather (mask, area.width, area.height, radius_px);
  sf_document_begin_edit (document, _("Feather Mask"));
  sf_document_write_grid (document, NULL, document->mask, &area, mask, area.width);
  sf_document_emit (document, SF_DOCUMENT_CHANGED_MASK, &area, NULL);
  sf_document_end_edit (document);
}
