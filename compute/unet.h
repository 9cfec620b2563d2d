/* The SDXL UNet (base, refiner, 9-channel inpainting, tiny test models):
 * its structure is read from the checkpoint's tensors (SGM names, as in
 * sd_xl_base_1.0.safetensors), never hard-coded.
 *
 * A forward pass is recorded once per shape (SfUnetPass) and replayed for
 * every sampling step; only its inputs change. Inputs and outputs cross
 * the API in torch's NCHW order (as diffusers and the samplers use);
 * inside, activations are NHWC. */
#pragma once

#include <gio/gio.h>

#include "checkpoint.h"
#include "ops.h"

G_BEGIN_DECLS

typedef struct SfUnet SfUnet;
typedef struct SfUnetPass SfUnetPass;

typedef struct {
  int in_channels;
  int out_channels;
  int model_channels;          /* channels of level 0 (320 in SDXL) */
  int levels;
  int level_channels[8];
  int context_dim;             /* 2048 base, 1280 refiner */
  int adm_channels;            /* input of label_emb: 2816 base, 2560 refiner */
  int time_embed_dim;          /* 1280 */
  int input_blocks;            /* counts, for describing the model */
  int output_blocks;
  int transformer_blocks;
} SfUnetInfo;

/* Loads the UNet of @checkpoint (prefix "model.diffusion_model.") into
 * device memory; matrices in @weight_dtype. @config gives the attention
 * heads, which tensor shapes cannot tell (64 channels per head when it
 * does not say). Returns: (transfer full) or NULL. */
SfUnet *sf_unet_load (SfCheckpoint *checkpoint, SfDevice *device, SfDType weight_dtype,
                      const SfUNetConfig *config, GError **error);
void sf_unet_free (SfUnet *unet);
const SfUnetInfo *sf_unet_get_info (const SfUnet *unet);
/* Bytes of device memory the weights take. */
guint64 sf_unet_weight_bytes (const SfUnet *unet);

/* Records a forward pass for @batch latents of @height × @width (latent
 * pixels) with @context_tokens conditioning tokens and @time_ids values
 * per batch row (6 for the base: original size, crop, target size; 5 for
 * the refiner: ... aesthetic score), each embedded to @time_id_dim.
 * Returns: (transfer full) or NULL. */
SfUnetPass *sf_unet_pass_new (SfUnet *unet, int batch, int height, int width,
                              int context_tokens, int time_ids, int time_id_dim,
                              GError **error);
void sf_unet_pass_free (SfUnetPass *pass);

/* Runs the recorded pass.
 * latent: [B, in_channels, H, W]; timesteps: [B]; context: [B, T, context_dim];
 * pooled: [B, adm_channels - time_ids*time_id_dim]; time_ids: [B, n];
 * eps: [B, out_channels, H, W] out. */
gboolean sf_unet_pass_run (SfUnetPass *pass, const float *latent, const float *timesteps,
                           const float *context, const float *pooled, const float *time_ids,
                           float *eps, GCancellable *cancellable, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SfUnet, sf_unet_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SfUnetPass, sf_unet_pass_free)

/* NCHW <-> NHWC on the host, for B×C×H×W float arrays. */
void sf_nchw_to_nhwc (const float *src, float *dst, int b, int c, int h, int w);
void sf_nhwc_to_nchw (const float *src, float *dst, int b, int c, int h, int w);

G_END_DECLS
