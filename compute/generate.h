/* Generation: txt2img, img2img, inpainting and the base → refiner hand-off,
 * as diffusers' SDXL pipelines run them, so that the same seed gives the
 * same latents as diffusers with a CPU generator:
 *
 *   prompt → conditioning (both encoders) → initial latents from the seed
 *   (or the encoded init image, noised to the start of the schedule) →
 *   the sampler, one UNet pass per step over [uncond, cond] with
 *   classifier-free guidance → VAE decode → image in [0, 1].
 *
 * Images cross this API as float planes [1, 3, H, W] in [0, 1] and masks
 * as [1, 1, H, W] (1 = repaint); the app converts to and from pixels. */
#pragma once

#include <gio/gio.h>

#include "sampler.h"
#include "sdxl.h"

G_BEGIN_DECLS

typedef struct {
  int step;                /* model evaluations done, over base and refiner */
  int total;
  int latent_width, latent_height;
  const float *latent;     /* [1, 4, h, w] after this step */
  const float *denoised;   /* the step's prediction of the clean latent */
} SfGenerateProgress;

typedef void (*SfGenerateProgressFunc) (const SfGenerateProgress *progress, gpointer data);

typedef struct {
  const char *prompt;
  const char *negative;             /* NULL or "": zeros (base) */
  int width, height;                /* pixels, multiples of 8 */
  int steps;
  double cfg;
  SfSamplerKind sampler;
  SfSchedulerKind scheduler;
  guint64 seed;
  SfPromptWeighting weighting;
  const float *init_image;          /* img2img / inpaint source, or NULL */
  double strength;                  /* 0..1, with an init image */
  const float *mask;                /* inpaint, or NULL */
  SfSdxl *refiner;                  /* or NULL */
  double refiner_start;             /* fraction of the schedule the base runs */
  double aesthetic_score;           /* refiner conditioning: 6.0 */
  double negative_aesthetic_score;  /* 2.5 */
  const char *dump_dir;             /* write intermediate tensors as .npy, or NULL */
  gboolean low_memory;              /* free each part after its stage */
  SfGenerateProgressFunc progress;
  gpointer progress_data;
} SfGenerateParams;

/* Defaults: 1024², 30 steps, CFG 5, euler/normal, strength 0.75,
 * refiner start 0.8, aesthetic scores 6 and 2.5, A1111 weighting. */
void sf_generate_params_init (SfGenerateParams *params);

/* Runs one generation; @image: [1, 3, height, width] out in [0, 1].
 * Cancel is honoured between steps (SF_VK_ERROR_CANCELLED or
 * G_IO_ERROR_CANCELLED). */
gboolean sf_generate (SfSdxl *model, const SfGenerateParams *params, float *image,
                      GCancellable *cancellable, GError **error);

/* Straight RGBA8 pixels (rows packed) → [1, 3, H, W] planes in [0, 1];
 * alpha is dropped. Returns: (transfer full). */
float *sf_rgba_to_planes (const guint8 *rgba, int width, int height);
/* [1, 3, H, W] planes in [0, 1] → opaque RGBA8, rounded.
 * Returns: (transfer full). */
GBytes *sf_planes_to_rgba (const float *planes, int width, int height);

/* A cheap latent → RGB preview (a fixed 4×3 linear map fitted to SDXL's
 * latent space), [1, 4, h, w] → interleaved RGB8 h × w. */
void sf_latent_preview_rgb (const float *latent, int h, int w, guint8 *rgb);

G_END_DECLS
