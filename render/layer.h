/* A layer: tiled premultiplied pixels and the properties that say how they
 * are composited. Layers belong to a document; change them through the
 * document's functions (sf_document_set_layer_*), which record undo steps
 * and tell observers. The getters here may be used by anyone. */
#pragma once

#include <cairo.h>
#include <glib.h>

#include "tile.h"

G_BEGIN_DECLS

typedef enum {
  SF_BLEND_NORMAL,
  SF_BLEND_MULTIPLY,
  SF_BLEND_SCREEN,
  SF_BLEND_OVERLAY,
  SF_BLEND_DARKEN,
  SF_BLEND_LIGHTEN,
  SF_BLEND_ADD,
  SF_BLEND_COUNT
} SfBlendMode;

/* The Cairo operator that composites the mode (PDF separable blend
 * formulas for multiply…lighten, Porter–Duff over and plus). */
cairo_operator_t sf_blend_mode_to_cairo (SfBlendMode mode);
/* An English label, marked for translation with N_() (callers use _()). */
const char *sf_blend_mode_get_label (SfBlendMode mode);
/* The OpenRaster composite-op ("svg:src-over", "svg:multiply", …). */
const char *sf_blend_mode_to_ora (SfBlendMode mode);
/* SF_BLEND_NORMAL for NULL or an unknown name (as the ORA spec asks). */
SfBlendMode sf_blend_mode_from_ora (const char *composite_op);

typedef struct SfLayer SfLayer;

SfLayer *sf_layer_ref (SfLayer *layer);
void sf_layer_unref (SfLayer *layer);

/* A number unique among the layers of this process. */
guint sf_layer_get_id (const SfLayer *layer);
const char *sf_layer_get_name (const SfLayer *layer);
gboolean sf_layer_get_visible (const SfLayer *layer);
/* 0…1 */
double sf_layer_get_opacity (const SfLayer *layer);
SfBlendMode sf_layer_get_blend_mode (const SfLayer *layer);
/* When locked, painting changes colour but keeps each pixel's alpha. */
gboolean sf_layer_get_alpha_locked (const SfLayer *layer);
/* The generation history id this layer came from, or NULL. */
const char *sf_layer_get_generation_id (const SfLayer *layer);

/* The pixels (ARGB32, transparent fill). Returns: (transfer none). */
SfTileGrid *sf_layer_get_pixels (const SfLayer *layer);
/* The layer mask (A8, fill 255 = shown), or NULL. Returns: (transfer none). */
SfTileGrid *sf_layer_get_mask (const SfLayer *layer);
/* Increases whenever the layer's pixels or mask change (thumbnails). */
guint64 sf_layer_get_pixel_serial (const SfLayer *layer);

/* Draws the layer's pixels (mask and opacity applied, blend mode not)
 * scaled into a @size×@size ARGB32 surface, aspect kept, centred, for
 * @canvas. Returns: (transfer full). */
cairo_surface_t *sf_layer_render_thumbnail (const SfLayer *layer, const SfRect *canvas, int size);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SfLayer, sf_layer_unref)

G_END_DECLS
