/* The generation frame: what the engine sees for a rectangle on the canvas.
 *
 * The mode follows from the canvas under the frame: nothing there →
 * txt2img; pixels and no mask → img2img; pixels and a mask → inpaint; a
 * frame reaching beyond the canvas → outpaint. A plan holds the engine's
 * input (init image, feathered mask) and what is needed to put the result
 * back: the original pixels and the blend mask, so that pixels outside the
 * mask stay exactly as they were. Results become a new layer; the user's
 * pixels are never overwritten.
 *
 * Pixels are straight (non-premultiplied) RGBA8, rows packed; masks are
 * A8, 255 = repaint. */
#pragma once

#include <glib.h>

#include "document.h"
#include "geometry.h"

G_BEGIN_DECLS

#define SF_FRAME_ERROR (sf_frame_error_quark ())
GQuark sf_frame_error_quark (void);

typedef enum {
  SF_FRAME_ERROR_INVALID_FRAME, /* not a multiple of 8, or smaller than 64 px */
  SF_FRAME_ERROR_EMPTY_MASK,    /* only-masked with nothing masked in the frame */
  SF_FRAME_ERROR_INVALID,       /* other bad options (a model size not a multiple of 8) */
} SfFrameError;

/* The smallest frame side the planner accepts. */
#define SF_FRAME_MIN_SIZE 64

typedef enum { SF_FRAME_TXT2IMG, SF_FRAME_IMG2IMG, SF_FRAME_INPAINT, SF_FRAME_OUTPAINT } SfFrameMode;
typedef enum {
  SF_FRAME_MASKED_ORIGINAL,
  SF_FRAME_MASKED_FILL,
  SF_FRAME_MASKED_LATENT_NOISE
} SfFrameMaskedContent;

typedef struct {
  double mask_blur_px;          /* feather radius of the mask (A1111 "mask blur"), default 4 */
  gboolean only_masked;         /* inpaint only the mask's bounding box + padding */
  int only_masked_padding_px;   /* default 32 */
  int model_width, model_height;/* the size the engine runs at in only-masked mode (e.g. the frame size preset, 1024x1024) */
  SfFrameMaskedContent masked_content;
  int outpaint_overlap_px;      /* how far the outpaint mask reaches into existing pixels, default 64 */
  guint64 noise_seed;           /* for the outpaint / fill noise, so plans are reproducible */
} SfFrameOptions;

/* The defaults above; model size 1024×1024, masked content original. */
void sf_frame_options_init (SfFrameOptions *options);

typedef struct {
  SfFrameMode mode;
  SfRect frame;         /* the frame, document coordinates */
  SfRect source;        /* the region the engine sees, document coordinates (== frame except only-masked crop) */
  int width, height;    /* what the engine generates: multiples of 8 (== source size, or model size for only-masked) */
  GBytes *init_rgba;    /* width*height*4, NULL for txt2img; prefilled for outpaint / fill */
  GBytes *mask;         /* width*height, feathered engine mask; NULL unless inpaint/outpaint */
  gboolean latent_noise;/* masked content = latent noise (the bridge sets SF_ENGINE_MASKED_LATENT_NOISE) */
  GBytes *blend_mask;   /* source-size A8: how much of the result replaces the original; NULL = all (txt2img/img2img) */
  GBytes *original_rgba;/* source-size RGBA8: the document's pixels there (composite of visible layers), for compositing */
} SfFramePlan;

/* The mode the canvas gives @frame (see the top of this file). */
SfFrameMode sf_frame_detect_mode (SfDocument *document, const SfRect *frame);

/* Plans a generation for @frame. @options may be NULL for the defaults.
 * Only-masked applies to inpainting; an outpaint plan always covers the
 * whole frame. Fill applies to inpainting (outpaint areas are prefilled
 * anyway); latent noise to both.
 * Returns: (transfer full) (nullable): NULL with @error set for a frame
 * that is not a multiple of 8 or smaller than 64 px, or only-masked with
 * no mask in the frame. */
SfFramePlan *sf_frame_plan_new (SfDocument *document, const SfRect *frame, const SfFrameOptions *options, GError **error);
void sf_frame_plan_free (SfFramePlan *plan);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SfFramePlan, sf_frame_plan_free)

/* The result image (plan->width x plan->height RGBA8) made ready to become a new layer covering plan->source:
 * scaled back to the source size when only-masked, composited over original_rgba through blend_mask.
 * Where blend_mask is 0 the output is bit-identical to original_rgba. Returns source.width*source.height*4 bytes. */
GBytes *sf_frame_plan_composite (const SfFramePlan *plan, GBytes *result_rgba);

/* For the outpaint "extend by N px" buttons: the frame that covers a strip of @amount px beyond @side of the canvas
 * plus the overlap, with the frame's current size where possible, snapped to 8. side: 0 left, 1 top, 2 right, 3 bottom. */
SfRect sf_frame_for_extend (SfDocument *document, const SfRect *frame, int side, int amount, int overlap_px);

G_END_DECLS
