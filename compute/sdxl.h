/* An SDXL model ready to generate with: its checkpoint, its tokenizer,
 * and its parts (text encoders, UNet, VAE) loaded into device memory on
 * first use and freeable between stages, so a small device holds only one
 * part at a time.
 *
 * Prompt conditioning follows StableDiffusionXLPipeline.encode_prompt:
 * the penultimate hidden states of CLIP-L and bigG concatenated per token
 * (768 + 1280 = 2048), bigG's pooled output (1280); prompts longer than 75
 * tokens (or with BREAK) become several 77-token windows concatenated
 * along the tokens, as A1111 and ComfyUI do, with the shorter of prompt
 * and negative padded by windows of the empty prompt; per-token weights
 * are applied per window and per encoder (prompt.h). */
#pragma once

#include <gio/gio.h>

#include "checkpoint.h"
#include "prompt.h"
#include "text_encoder.h"
#include "tokenizer.h"
#include "unet.h"
#include "vae.h"

G_BEGIN_DECLS

typedef struct SfSdxl SfSdxl;

typedef enum {
  SF_PRECISION_FP16,   /* weights in fp16 (activations and accumulation fp32) */
  SF_PRECISION_FP32,
} SfPrecision;

typedef enum {
  SF_SDXL_TEXT = 1 << 0,
  SF_SDXL_UNET = 1 << 1,
  SF_SDXL_VAE = 1 << 2,
} SfSdxlPart;

/* @path: a single file or diffusers folder; @vae_path: a separate VAE file
 * or NULL. The tokenizer is looked for as sf_tokenizer_find() does.
 * Returns: (transfer full) or NULL. */
SfSdxl *sf_sdxl_open (const char *path, const char *vae_path, SfDevice *device,
                      SfPrecision precision, GError **error);
void sf_sdxl_free (SfSdxl *sdxl);

SfCheckpoint *sf_sdxl_get_checkpoint (SfSdxl *sdxl);
const SfModelConfig *sf_sdxl_get_config (SfSdxl *sdxl);
SfDevice *sf_sdxl_get_device (SfSdxl *sdxl);
SfPrecision sf_sdxl_get_precision (SfSdxl *sdxl);
/* Base models condition on 6 time ids, the refiner on 5 (with the
 * aesthetic score). */
gboolean sf_sdxl_is_refiner (SfSdxl *sdxl);
/* The file name without extension, as A1111 shows it ("sd_xl_base_1.0"). */
const char *sf_sdxl_get_name (SfSdxl *sdxl);
/* The name a checkpoint at @path gets (its file name without
 * ".safetensors"), also for one that could not be opened.
 * Returns: (transfer full). */
char *sf_sdxl_name_for_path (const char *path);
/* A1111's "Model hash" (AutoV2, 10 hex); computed on first call. */
const char *sf_sdxl_get_hash (SfSdxl *sdxl, GError **error);

/* The parts, loaded on first use. Returned pointers stay owned by @sdxl
 * and valid until sf_sdxl_release() frees that part. */
SfUnet *sf_sdxl_get_unet (SfSdxl *sdxl, GError **error);
SfVae *sf_sdxl_get_vae (SfSdxl *sdxl, GError **error);
void sf_sdxl_release (SfSdxl *sdxl, SfSdxlPart parts);

typedef struct {
  int tokens;              /* 77 × windows */
  int context_dim;         /* columns of cond/uncond */
  int pooled_dim;
  float *cond;             /* [tokens, context_dim] */
  float *uncond;
  float *pooled;           /* [pooled_dim] */
  float *uncond_pooled;
  int windows;
  gint32 *ids_l;           /* [windows, 77] the prompt's ids per encoder (NULL if absent) */
  gint32 *ids_g;
} SfConditioning;

void sf_conditioning_clear (SfConditioning *conditioning);

/* Encodes @prompt and @negative into @out. NULL or "" as the negative
 * gives zeros for a base model and the empty prompt's encoding for the
 * refiner, as diffusers' pipelines for each do. */
gboolean sf_sdxl_encode_prompt (SfSdxl *sdxl, const char *prompt, const char *negative,
                                SfPromptWeighting weighting, SfConditioning *out,
                                GCancellable *cancellable, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SfSdxl, sf_sdxl_free)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (SfConditioning, sf_conditioning_clear)

G_END_DECLS
