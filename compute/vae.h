/* The SDXL VAE (AutoencoderKL, LDM names under "first_stage_model."):
 * the decoder turns latents into images, the encoder images into the
 * latent distribution. Levels, widths and block counts come from the
 * checkpoint's shapes. Activations stay float32 (SDXL's VAE overflows
 * fp16); weights may be fp16 or fp32.
 *
 * Latents and images cross the API in NCHW order, as torch has them:
 * decode takes z already divided by the scaling factor and returns the
 * decoder's raw output in about [-1, 1]; encode takes an image in [-1, 1].
 *
 * An image whose activations fit the device runs as one recorded pass.
 * Larger ones run in bands of rows, layer by layer, with the activations
 * kept in host memory: only the mid-block (with its attention) runs whole,
 * at latent resolution; every GroupNorm uses statistics of the whole image
 * and every convolution reads a one-row halo from the neighbouring bands,
 * so the result is the one-pass result up to float rounding (no seams),
 * and device memory stays bounded by the band size. */
#pragma once

#include <gio/gio.h>

#include "checkpoint.h"
#include "ops.h"

G_BEGIN_DECLS

typedef struct SfVae SfVae;

/* Returns: (transfer full) or NULL. */
SfVae *sf_vae_load (SfCheckpoint *checkpoint, SfDevice *device, SfDType weight_dtype,
                    GError **error);
void sf_vae_free (SfVae *vae);

gboolean sf_vae_has_encoder (const SfVae *vae);
gboolean sf_vae_has_decoder (const SfVae *vae);
/* Image pixels per latent pixel (8 for SDXL). */
int sf_vae_get_downscale (const SfVae *vae);
int sf_vae_get_latent_channels (const SfVae *vae);
guint64 sf_vae_weight_bytes (const SfVae *vae);

/* 0 (the default): one pass when it fits, else bands sized by the device.
 * > 0: always bands, of at most @rows rows (for tests and low memory). */
void sf_vae_set_band_rows (SfVae *vae, int rows);

/* latent: [1, z, h, w]; image: [1, 3, h*downscale, w*downscale] out. */
gboolean sf_vae_decode (SfVae *vae, const float *latent, int h, int w, float *image,
                        GCancellable *cancellable, GError **error);

/* image: [1, 3, H, W] (H, W multiples of the downscale); moments:
 * [1, 2z, H/d, W/d] out: the posterior's mean, then its log-variance
 * (unclamped; sf_latent_dist_sample clamps it to [-30, 20]). */
gboolean sf_vae_encode (SfVae *vae, const float *image, int height, int width, float *moments,
                        GCancellable *cancellable, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SfVae, sf_vae_free)

G_END_DECLS
