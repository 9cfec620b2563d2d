/* Compositing: the visible layers, bottom to top, one 256×256 tile at a
 * time, cached until something under it changes. */
#include <string.h>

#include "document-private.h"
#include "pixels.h"

/* The separable blend modes with premultiplied 8-bit pixels, the PDF
 * formula (ISO 32000-1 §11.3.5) multiplied through by the alphas:
 *   result = s·(1 − αd) + d·(1 − αs) + αs·αd·B(s/αs, d/αd)
 * whose last term is, for each mode, in premultiplied values:
 *   multiply  s·d              screen   s·αd + d·αs − s·d
 *   darken    min(s·αd, d·αs)  lighten  max(s·αd, d·αs)
 *   overlay   2·s·d where 2·d ≤ αd, else αs·αd − 2·(αd − d)·(αs − s)
 * Cairo (pixman) has these operators, but computes them through floats
 * at a tenth of the speed of its over; this loop rounds once and is
 * vectorised. Normal and add stay with Cairo, whose paths are fast. */
static inline __attribute__ ((always_inline)) int
blend_term (SfBlendMode mode, int s, int d, int as, int ad)
{
  switch (mode)
    {
    case SF_BLEND_MULTIPLY:
      return s * d;
    case SF_BLEND_SCREEN:
      return s * ad + d * as - s * d;
    case SF_BLEND_DARKEN:
      return MIN (s * ad, d * as);
    case SF_BLEND_LIGHTEN:
      return MAX (s * ad, d * as);
    case SF_BLEND_OVERLAY:
      return 2 * d <= ad ? 2 * s * d : as * ad - 2 * (ad - d) * (as - s);
    default:
      return s * ad;
    }
}

/* round (v / 255) for 0 ≤ v ≤ 255 · 255 + 255, with shifts only (Jim
 * Blinn, "Three Wrongs Make a Right", 1995). */
static inline __attribute__ ((always_inline)) int
div255 (int v)
{
  v += 128;
  return (v + (v >> 8)) >> 8;
}

static inline __attribute__ ((always_inline)) void
blend_span (SfBlendMode mode, guint32 *restrict dst, const guint32 *restrict src,
            const guint8 *restrict mask, int opacity, int count)
{
  /* Branch-free and in 32-bit lanes so the compiler vectorises it. */
  for (int i = 0; i < count; i++)
    {
      guint32 p = src[i];
      int m = mask ? div255 (mask[i] * opacity) : opacity;
      int as = div255 ((int) (p >> 24) * m);
      int sr = div255 ((int) ((p >> 16) & 0xff) * m);
      int sg = div255 ((int) ((p >> 8) & 0xff) * m);
      int sb = div255 ((int) (p & 0xff) * m);
      guint32 q = dst[i];
      int ad = (int) (q >> 24), dr = (int) ((q >> 16) & 0xff), dg = (int) ((q >> 8) & 0xff),
          db = (int) (q & 0xff);
      int r = div255 (MIN (sr * (255 - ad) + dr * (255 - as) + blend_term (mode, sr, dr, as, ad),
                           65280));
      int g = div255 (MIN (sg * (255 - ad) + dg * (255 - as) + blend_term (mode, sg, dg, as, ad),
                           65280));
      int b = div255 (MIN (sb * (255 - ad) + db * (255 - as) + blend_term (mode, sb, db, as, ad),
                           65280));
      int a = as + ad - div255 (as * ad);
      r = MIN (MAX (r, 0), a), g = MIN (MAX (g, 0), a), b = MIN (MAX (b, 0), a);
      dst[i] = ((guint32) a << 24) | ((guint32) r << 16) | ((guint32) g << 8) | (guint32) b;
    }
}

/* Built for AVX2 as well, picked at run time where the CPU has it. */
__attribute__ ((target_clones ("avx2", "default"), optimize ("O3"))) static void
blend_separable (SfBlendMode mode, guint32 *dst, const guint32 *src, const guint8 *mask,
                 int opacity, const SfRect *clip)
{
  for (int y = clip->y; y < clip->y + clip->height; y++)
    {
      gsize row = (gsize) y * SF_TILE_SIZE + (gsize) clip->x;
      guint32 *d = dst + row;
      const guint32 *s = src + row;
      const guint8 *m = mask ? mask + row : NULL;
      /* One specialised loop per mode (and with or without a mask). */
#define SPAN(MODE)                                                                               \
  case MODE:                                                                                     \
    if (m)                                                                                       \
      blend_span (MODE, d, s, m, opacity, clip->width);                                          \
    else                                                                                         \
      blend_span (MODE, d, s, NULL, opacity, clip->width);                                       \
    break;
      switch (mode)
        {
          SPAN (SF_BLEND_MULTIPLY)
          SPAN (SF_BLEND_SCREEN)
          SPAN (SF_BLEND_OVERLAY)
          SPAN (SF_BLEND_DARKEN)
          SPAN (SF_BLEND_LIGHTEN)
        default:
          g_assert_not_reached ();
        }
#undef SPAN
    }
}

static void
paint_with_cairo (SfTile *target, const SfLayer *layer, SfTile *tile, SfTile *mask,
                  const SfRect *clip)
{
  cairo_surface_t *surface = sf_tile_create_surface (target);
  cairo_t *cr = cairo_create (surface);
  cairo_rectangle (cr, clip->x, clip->y, clip->width, clip->height);
  cairo_clip (cr);
  /* Cairo only reads the source tile. */
  cairo_surface_t *source = sf_tile_create_surface (tile);
  cairo_set_operator (cr, sf_blend_mode_to_cairo (layer->blend_mode));
  cairo_set_source_surface (cr, source, 0, 0);
  if (!mask)
    cairo_paint_with_alpha (cr, layer->opacity);
  else if (layer->opacity >= 1.0)
    {
      cairo_surface_t *mask_surface = sf_tile_create_surface (mask);
      cairo_mask_surface (cr, mask_surface, 0, 0);
      cairo_surface_destroy (mask_surface);
    }
  else
    {
      /* Mask × opacity in one A8 mask: Cairo takes one mask per paint. */
      cairo_surface_t *scaled = cairo_image_surface_create (CAIRO_FORMAT_A8, SF_TILE_SIZE,
                                                            SF_TILE_SIZE);
      cairo_surface_flush (scaled);
      guint8 *dst = cairo_image_surface_get_data (scaled);
      int stride = cairo_image_surface_get_stride (scaled);
      const guint8 *src = sf_tile_peek_data (mask);
      guint alpha = (guint) (layer->opacity * 255.0 + 0.5);
      for (int y = 0; y < SF_TILE_SIZE; y++)
        for (int x = 0; x < SF_TILE_SIZE; x++)
          dst[y * stride + x] = sf_mul_255 (src[y * SF_TILE_SIZE + x], alpha);
      cairo_surface_mark_dirty (scaled);
      cairo_mask_surface (cr, scaled, 0, 0);
      cairo_surface_destroy (scaled);
    }
  cairo_destroy (cr);
  cairo_surface_destroy (source);
  cairo_surface_flush (surface);
  cairo_surface_destroy (surface);
}

void
sf_composite_layer_tile (SfTile *target, const SfLayer *layer, int tx, int ty, const SfRect *clip)
{
  SfTile *tile = sf_tile_grid_peek (layer->pixels, tx, ty);
  if (!tile || layer->opacity <= 0.0 || sf_rect_is_empty (clip))
    return;
  SfTile *mask = layer->mask ? sf_tile_grid_peek (layer->mask, tx, ty) : NULL;
  if (layer->mask && !mask && sf_tile_grid_get_fill (layer->mask) == 0)
    return; /* hidden by the mask */
  if (layer->blend_mode == SF_BLEND_NORMAL || layer->blend_mode == SF_BLEND_ADD)
    {
      paint_with_cairo (target, layer, tile, mask, clip);
      return;
    }
  blend_separable (layer->blend_mode, (guint32 *) sf_tile_get_data (target),
                   (const guint32 *) sf_tile_peek_data (tile),
                   mask ? sf_tile_peek_data (mask) : NULL, (int) (layer->opacity * 255 + 0.5),
                   clip);
}

SfTile *
sf_document_get_composite_tile (SfDocument *document, int tx, int ty)
{
  SfTile *cached = sf_tile_grid_peek (document->composite, tx, ty);
  if (cached)
    return cached;
  SfTile *tile = sf_tile_new (SF_TILE_ARGB32, 0);
  SfRect rect = sf_tile_rect (tx, ty), inside;
  if (sf_rect_intersect (&rect, &document->canvas, &inside))
    {
      SfRect clip = { inside.x - rect.x, inside.y - rect.y, inside.width, inside.height };
      for (guint i = 0; i < document->layers->len; i++)
        {
          const SfLayer *layer = document->layers->pdata[i];
          if (layer->visible)
            sf_composite_layer_tile (tile, layer, tx, ty, &clip);
        }
    }
  sf_tile_grid_set (document->composite, tx, ty, tile);
  sf_tile_unref (tile);
  return tile;
}

static void
read_composite (SfDocument *document, const SfRect *rect, guint8 *out, int stride,
                gboolean straight)
{
  if (sf_rect_is_empty (rect))
    return;
  int tx0, ty0, tx1, ty1;
  sf_tile_range (rect, &tx0, &ty0, &tx1, &ty1);
  for (int ty = ty0; ty <= ty1; ty++)
    for (int tx = tx0; tx <= tx1; tx++)
      {
        SfRect tile_rect = sf_tile_rect (tx, ty), part, inside;
        sf_rect_intersect (&tile_rect, rect, &part);
        guint8 *dst = out + (gsize) (part.y - rect->y) * stride + (gsize) (part.x - rect->x) * 4;
        if (!sf_rect_intersect (&tile_rect, &document->canvas, &inside))
          {
            /* Outside the canvas: transparent, without caching a tile. */
            for (int y = 0; y < part.height; y++)
              memset (dst + (gsize) y * stride, 0, (gsize) part.width * 4);
            continue;
          }
        const SfTile *tile = sf_document_get_composite_tile (document, tx, ty);
        const guint8 *src = sf_tile_peek_data (tile)
                            + ((gsize) (part.y - tile_rect.y) * SF_TILE_SIZE
                               + (gsize) (part.x - tile_rect.x)) * 4;
        if (straight)
          sf_pixels_argb_to_rgba (src, SF_TILE_SIZE * 4, dst, stride, part.width, part.height);
        else
          for (int y = 0; y < part.height; y++)
            memcpy (dst + (gsize) y * stride, src + (gsize) y * SF_TILE_SIZE * 4,
                    (gsize) part.width * 4);
      }
}

void
sf_document_read_rgba (SfDocument *document, const SfRect *rect, guint8 *out, int stride)
{
  read_composite (document, rect, out, stride, TRUE);
}

void
sf_document_read_argb (SfDocument *document, const SfRect *rect, guint8 *out, int stride)
{
  read_composite (document, rect, out, stride, FALSE);
}
