/* Compositing: the visible layers, bottom to top, with Cairo's operators,
 * one 256×256 tile at a time, cached until something under it changes. */
#include <string.h>

#include "document-private.h"
#include "pixels.h"

void
sf_composite_paint_layer_tile (cairo_t *cr, const SfLayer *layer, int tx, int ty)
{
  SfTile *tile = sf_tile_grid_peek (layer->pixels, tx, ty);
  if (!tile || layer->opacity <= 0.0)
    return;
  SfTile *mask = layer->mask ? sf_tile_grid_peek (layer->mask, tx, ty) : NULL;
  if (layer->mask && !mask && sf_tile_grid_get_fill (layer->mask) == 0)
    return; /* hidden by the mask */

  /* Cairo only reads the source tile. */
  cairo_surface_t *source = sf_tile_create_surface (tile);
  cairo_save (cr);
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
  cairo_restore (cr);
  cairo_surface_destroy (source);
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
      cairo_surface_t *surface = sf_tile_create_surface (tile);
      cairo_t *cr = cairo_create (surface);
      cairo_rectangle (cr, inside.x - rect.x, inside.y - rect.y, inside.width, inside.height);
      cairo_clip (cr);
      for (guint i = 0; i < document->layers->len; i++)
        {
          const SfLayer *layer = document->layers->pdata[i];
          if (layer->visible)
            sf_composite_paint_layer_tile (cr, layer, tx, ty);
        }
      cairo_destroy (cr);
      cairo_surface_flush (surface);
      cairo_surface_destroy (surface);
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
