/* Tensor names: from the diffusers layout (and bare VAE files) to the
 * canonical names of sd_xl_base_1.0.safetensors (see checkpoint.h).
 *
 * The correspondence is structural, so one mapping serves SDXL base
 * (3 levels), the refiner (4 levels) and small test models:
 *   UNet, N = layers_per_block, k = N + 1 blocks per level:
 *     down_blocks.i.resnets.j      -> input_blocks.(k*i + j + 1).0
 *     down_blocks.i.attentions.j   -> input_blocks.(k*i + j + 1).1
 *     down_blocks.i.downsamplers.0.conv -> input_blocks.(k*(i+1)).0.op
 *     mid_block.resnets.j          -> middle_block.(2j)
 *     mid_block.attentions.0       -> middle_block.1
 *     up_blocks.i.resnets.j        -> output_blocks.(k*i + j).0     (j <= N)
 *     up_blocks.i.attentions.j     -> output_blocks.(k*i + j).1
 *     up_blocks.i.upsamplers.0     -> output_blocks.(k*i + N).(2 if the
 *                                     level has attention, else 1)
 *     resnet parts norm1, conv1, norm2, conv2, time_emb_proj, conv_shortcut
 *       -> in_layers.0, in_layers.2, out_layers.0, out_layers.3,
 *          emb_layers.1, skip_connection; transformer parts keep their names.
 *   VAE, L levels: decoder up_blocks.i is up.(L-1-i); resnets.j is block.j,
 *     mid_block.resnets.j is mid.block_(j+1), conv_shortcut is nin_shortcut,
 *     conv_norm_out is norm_out, mid attention group_norm/to_q/to_k/to_v/
 *     to_out.0 (or the older query/key/value/proj_attn) are
 *     norm/q/k/v/proj_out.
 *   CLIP ViT-L: text_model.* keeps its names under
 *     conditioner.embedders.0.transformer.
 *   bigG: layers.i -> transformer.resblocks.i, layer_norm1/2 -> ln_1/2,
 *     mlp.fc1/fc2 -> mlp.c_fc/c_proj, self_attn.out_proj -> attn.out_proj,
 *     q/k/v_proj -> the thirds of attn.in_proj_weight/bias,
 *     final_layer_norm -> ln_final, token_embedding, position_embedding ->
 *     positional_embedding, text_projection.weight -> text_projection
 *     (transposed). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SF_PREFIX_UNET "model.diffusion_model."
#define SF_PREFIX_VAE "first_stage_model."
#define SF_PREFIX_CLIP_L "conditioner.embedders.0.transformer."
#define SF_PREFIX_CLIP_G "conditioner.embedders.1.model."

typedef struct {
  int num_levels;
  int layers_per_block;
  guint up_attention_levels;  /* bit i set: up_blocks.i has attentions */
} SfUNetBlocks;

/* Each returns the canonical name (transfer full), or NULL when @name is
 * not a tensor of that component's diffusers layout. */
char *sf_names_unet_from_diffusers (const char *name, const SfUNetBlocks *blocks);
/* Also for VAE files with bare single-file names (encoder.down.0...).
 * *@to_conv_1x1: the weight is a linear [C,C] read as [C,C,1,1]. */
char *sf_names_vae_from_diffusers (const char *name, int num_levels, gboolean *to_conv_1x1);
char *sf_names_clip_l_from_diffusers (const char *name);
/* *@qkv_part: 0, 1, 2 for q, k, v (a third of the fused tensor), else -1.
 * *@transposed: the canonical tensor is this 2-D one transposed. */
char *sf_names_clip_g_from_diffusers (const char *name, int *qkv_part, gboolean *transposed);
/* A single file's name: the canonical name, renaming the refiner's
 * conditioner.embedders.0.model (bigG) to embedders.1; NULL for tensors
 * outside the four components (EMA copies, schedules). */
char *sf_names_from_single_file (const char *name);

G_END_DECLS
