/* Helpers shared by the render/ tests. */
#pragma once

#include <glib.h>

#include "document.h"

/* A description of everything observable: the canvas, the frame, each
 * layer's properties and a hash of its pixels and mask, the composite. */
static inline char *
fingerprint_full (SfDocument *document, gboolean with_ids)
{
  GString *out = g_string_new (NULL);
  SfRect canvas = sf_document_get_canvas (document);
  SfRect frame = sf_document_get_frame (document);
  g_string_append_printf (out, "canvas %d,%d %dx%d frame %d,%d %dx%d\n", canvas.x, canvas.y,
                          canvas.width, canvas.height, frame.x, frame.y, frame.width,
                          frame.height);
  SfRect area = { canvas.x - 300, canvas.y - 300, canvas.width + 600, canvas.height + 600 };
  g_autofree guint8 *pixels = g_malloc ((gsize) area.width * area.height * 4);
  for (guint i = 0; i < sf_document_get_layer_count (document); i++)
    {
      SfLayer *layer = sf_document_get_layer (document, i);
      sf_tile_grid_read (sf_layer_get_pixels (layer), &area, pixels, area.width * 4);
      g_autofree char *hash = g_compute_checksum_for_data (G_CHECKSUM_SHA1, pixels,
                                                           (gsize) area.width * area.height * 4);
      g_autofree char *mask_hash = NULL;
      if (sf_layer_get_mask (layer))
        {
          sf_tile_grid_read (sf_layer_get_mask (layer), &area, pixels, area.width);
          mask_hash = g_compute_checksum_for_data (G_CHECKSUM_SHA1, pixels,
                                                   (gsize) area.width * area.height);
        }
      g_string_append_printf (out, "%u '%s' v%d o%a b%d l%d g'%s' %s m%s%s\n",
                              with_ids ? sf_layer_get_id (layer) : 0, sf_layer_get_name (layer),
                              sf_layer_get_visible (layer), sf_layer_get_opacity (layer),
                              sf_layer_get_blend_mode (layer), sf_layer_get_alpha_locked (layer),
                              sf_layer_get_generation_id (layer), hash, mask_hash,
                              layer == sf_document_get_active_layer (document) ? " *" : "");
    }
  sf_document_read_mask (document, &area, pixels, area.width);
  g_autofree char *mask_hash = g_compute_checksum_for_data (G_CHECKSUM_SHA1, pixels,
                                                            (gsize) area.width * area.height);
  g_string_append_printf (out, "inpaint mask %s\n", mask_hash);
  sf_document_read_argb (document, &area, pixels, area.width * 4);
  g_autofree char *hash = g_compute_checksum_for_data (G_CHECKSUM_SHA1, pixels,
                                                       (gsize) area.width * area.height * 4);
  g_string_append_printf (out, "composite %s\n", hash);
  return g_string_free (out, FALSE);
}


static inline char *
fingerprint (SfDocument *document)
{
  return fingerprint_full (document, TRUE);
}
