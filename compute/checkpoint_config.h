/* Inside the checkpoint module: what config.json files and safetensors
 * metadata say about the model (attention heads cannot be read from
 * shapes), and the derivation of SfModelConfig from the tensor shapes. */
#pragma once

#include "checkpoint.h"
#include "safetensors.h"

G_BEGIN_DECLS

/* Zero (or -1 for activations) where nothing said. */
typedef struct {
  int unet_heads[SF_UNET_MAX_LEVELS];  /* diffusers: per level */
  int unet_heads_levels;               /* entries in unet_heads; a single int fills all */
  int unet_head_dim;                   /* metadata sfumato.unet.head_dim */
  int unet_layers_per_block;
  int unet_block_out_channels[SF_UNET_MAX_LEVELS];
  int unet_block_levels;
  int unet_addition_time_embed_dim;
  int clip_l_heads, clip_l_head_dim;
  int clip_g_heads, clip_g_head_dim;
  int clip_l_activation, clip_g_activation;  /* SfClipActivation or -1 */
  double vae_scaling_factor;
} SfConfigHints;

void sf_config_hints_init (SfConfigHints *hints);
/* Reads unet/, vae/, text_encoder/ and text_encoder_2/ config.json where
 * present. */
gboolean sf_config_hints_read_diffusers (SfConfigHints *hints, const char *folder, GError **error);
/* Reads the sfumato.*.head_dim keys of a single file's __metadata__. */
gboolean sf_config_hints_read_metadata (SfConfigHints *hints, const SfSafetensors *file,
                                        GError **error);

/* Fills @config from the shapes of @checkpoint's canonical tensors and
 * @hints; @where names the checkpoint in messages. */
gboolean sf_model_config_derive (SfModelConfig *config, const SfCheckpoint *checkpoint,
                                 const SfConfigHints *hints, const char *where, GError **error);

G_END_DECLS
