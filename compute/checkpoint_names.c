#include "checkpoint_names.h"

#include <string.h>

/* Matches @name against @pattern, where '#' stands for a decimal index
 * (at most 4 digits, stored in @numbers in order); on success *@rest is
 * what follows the pattern. */
static gboolean
match (const char *name, const char *pattern, int *numbers, const char **rest)
{
  int count = 0;
  while (*pattern)
    {
      if (*pattern == '#')
        {
          int value = 0, digits = 0;
          while (g_ascii_isdigit (*name))
            {
              if (++digits > 4)
                return FALSE;
              value = value * 10 + (*name++ - '0');
            }
          if (digits == 0)
            return FALSE;
          numbers[count++] = value;
          pattern++;
        }
      else if (*pattern++ != *name++)
        return FALSE;
    }
  *rest = name;
  return TRUE;
}

typedef struct {
  const char *from;
  const char *to;
} Rename;

/* @rest with its leading part renamed by the first entry of @table it
 * starts with; NULL if none (or @pass_through is FALSE and none matched). */
static char *
rename_head (const char *rest, const Rename *table, gsize n, gboolean pass_through)
{
  for (gsize i = 0; i < n; i++)
    if (g_str_has_prefix (rest, table[i].from))
      return g_strconcat (table[i].to, rest + strlen (table[i].from), NULL);
  return pass_through ? g_strdup (rest) : NULL;
}

/* A parameter's own name: "weight" or "bias". */
static gboolean
is_parameter (const char *rest)
{
  return strcmp (rest, "weight") == 0 || strcmp (rest, "bias") == 0;
}

static const Rename UNET_RESNET[] = {
  { "norm1.", "in_layers.0." },     { "conv1.", "in_layers.2." },
  { "norm2.", "out_layers.0." },    { "conv2.", "out_layers.3." },
  { "time_emb_proj.", "emb_layers.1." }, { "conv_shortcut.", "skip_connection." },
};

static const Rename UNET_FIXED[] = {
  { "time_embedding.linear_1.", "time_embed.0." }, { "time_embedding.linear_2.", "time_embed.2." },
  { "add_embedding.linear_1.", "label_emb.0.0." }, { "add_embedding.linear_2.", "label_emb.0.2." },
  { "conv_in.", "input_blocks.0.0." }, { "conv_norm_out.", "out.0." }, { "conv_out.", "out.2." },
};

static char *
unet_resnet (const char *block, const char *rest)
{
  g_autofree char *part = rename_head (rest, UNET_RESNET, G_N_ELEMENTS (UNET_RESNET), FALSE);
  return part ? g_strconcat (SF_PREFIX_UNET, block, part, NULL) : NULL;
}

char *
sf_names_unet_from_diffusers (const char *name, const SfUNetBlocks *blocks)
{
  const int n = blocks->layers_per_block, k = n + 1, levels = blocks->num_levels;
  int i[2];
  const char *rest;

  for (gsize f = 0; f < G_N_ELEMENTS (UNET_FIXED); f++)
    if (g_str_has_prefix (name, UNET_FIXED[f].from))
      {
        rest = name + strlen (UNET_FIXED[f].from);
        return is_parameter (rest) ? g_strconcat (SF_PREFIX_UNET, UNET_FIXED[f].to, rest, NULL) : NULL;
      }

  if (match (name, "down_blocks.#.resnets.#.", i, &rest) && i[0] < levels && i[1] < n)
    {
      g_autofree char *block = g_strdup_printf ("input_blocks.%d.0.", k * i[0] + i[1] + 1);
      return unet_resnet (block, rest);
    }
  if (match (name, "down_blocks.#.attentions.#.", i, &rest) && i[0] < levels && i[1] < n)
    return g_strdup_printf (SF_PREFIX_UNET "input_blocks.%d.1.%s", k * i[0] + i[1] + 1, rest);
  if (match (name, "down_blocks.#.downsamplers.0.conv.", i, &rest) && i[0] + 1 < levels &&
      is_parameter (rest))
    return g_strdup_printf (SF_PREFIX_UNET "input_blocks.%d.0.op.%s", k * (i[0] + 1), rest);

  if (match (name, "mid_block.resnets.#.", i, &rest) && i[0] < 2)
    {
      g_autofree char *block = g_strdup_printf ("middle_block.%d.", 2 * i[0]);
      return unet_resnet (block, rest);
    }
  if (match (name, "mid_block.attentions.0.", i, &rest))
    return g_strconcat (SF_PREFIX_UNET "middle_block.1.", rest, NULL);

  if (match (name, "up_blocks.#.resnets.#.", i, &rest) && i[0] < levels && i[1] <= n)
    {
      g_autofree char *block = g_strdup_printf ("output_blocks.%d.0.", k * i[0] + i[1]);
      return unet_resnet (block, rest);
    }
  if (match (name, "up_blocks.#.attentions.#.", i, &rest) && i[0] < levels && i[1] <= n)
    return g_strdup_printf (SF_PREFIX_UNET "output_blocks.%d.1.%s", k * i[0] + i[1], rest);
  if (match (name, "up_blocks.#.upsamplers.0.conv.", i, &rest) && i[0] + 1 < levels &&
      is_parameter (rest))
    {
      int slot = (blocks->up_attention_levels >> i[0]) & 1u ? 2 : 1;
      return g_strdup_printf (SF_PREFIX_UNET "output_blocks.%d.%d.conv.%s", k * i[0] + n, slot, rest);
    }
  return NULL;
}

static const Rename VAE_RESNET[] = {
  { "conv_shortcut.", "nin_shortcut." }, { "norm1.", "norm1." }, { "conv1.", "conv1." },
  { "norm2.", "norm2." }, { "conv2.", "conv2." }, { "nin_shortcut.", "nin_shortcut." },
};

/* The mid-block attention: diffusers' current and older names, and the
 * single file's own (bare VAE files). The bool marks 1×1-conv weights. */
static const struct {
  const char *from;
  const char *to;
  gboolean conv_weight;
} VAE_ATTENTION[] = {
  { "group_norm.", "norm.", FALSE }, { "to_q.", "q.", TRUE }, { "to_k.", "k.", TRUE },
  { "to_v.", "v.", TRUE }, { "to_out.0.", "proj_out.", TRUE }, { "query.", "q.", TRUE },
  { "key.", "k.", TRUE }, { "value.", "v.", TRUE }, { "proj_attn.", "proj_out.", TRUE },
};

static char *
vae_resnet (const char *block, const char *rest)
{
  g_autofree char *part = rename_head (rest, VAE_RESNET, G_N_ELEMENTS (VAE_RESNET), FALSE);
  return part ? g_strconcat (SF_PREFIX_VAE, block, part, NULL) : NULL;
}

char *
sf_names_vae_from_diffusers (const char *name, int num_levels, gboolean *to_conv_1x1)
{
  int i[2];
  const char *rest;
  *to_conv_1x1 = FALSE;

  if (match (name, "encoder.down_blocks.#.resnets.#.", i, &rest) && i[0] < num_levels)
    {
      g_autofree char *block = g_strdup_printf ("encoder.down.%d.block.%d.", i[0], i[1]);
      return vae_resnet (block, rest);
    }
  if (match (name, "encoder.down_blocks.#.downsamplers.0.conv.", i, &rest) && i[0] < num_levels &&
      is_parameter (rest))
    return g_strdup_printf (SF_PREFIX_VAE "encoder.down.%d.downsample.conv.%s", i[0], rest);
  if (match (name, "decoder.up_blocks.#.resnets.#.", i, &rest) && i[0] < num_levels)
    {
      g_autofree char *block = g_strdup_printf ("decoder.up.%d.block.%d.", num_levels - 1 - i[0], i[1]);
      return vae_resnet (block, rest);
    }
  if (match (name, "decoder.up_blocks.#.upsamplers.0.conv.", i, &rest) && i[0] < num_levels &&
      is_parameter (rest))
    return g_strdup_printf (SF_PREFIX_VAE "decoder.up.%d.upsample.conv.%s", num_levels - 1 - i[0], rest);

  for (int side = 0; side < 2; side++)
    {
      const char *coder = side ? "decoder" : "encoder";
      g_autofree char *resnets = g_strconcat (coder, ".mid_block.resnets.#.", NULL);
      g_autofree char *attention = g_strconcat (coder, ".mid_block.attentions.0.", NULL);
      g_autofree char *norm_out = g_strconcat (coder, ".conv_norm_out.", NULL);
      if (match (name, resnets, i, &rest) && i[0] < 2)
        {
          g_autofree char *block = g_strdup_printf ("%s.mid.block_%d.", coder, i[0] + 1);
          return vae_resnet (block, rest);
        }
      if (match (name, attention, i, &rest))
        for (gsize a = 0; a < G_N_ELEMENTS (VAE_ATTENTION); a++)
          if (g_str_has_prefix (rest, VAE_ATTENTION[a].from))
            {
              const char *parameter = rest + strlen (VAE_ATTENTION[a].from);
              if (!is_parameter (parameter))
                return NULL;
              *to_conv_1x1 = VAE_ATTENTION[a].conv_weight && strcmp (parameter, "weight") == 0;
              return g_strconcat (SF_PREFIX_VAE, coder, ".mid.attn_1.", VAE_ATTENTION[a].to,
                                  parameter, NULL);
            }
      if (match (name, norm_out, i, &rest) && is_parameter (rest))
        return g_strconcat (SF_PREFIX_VAE, coder, ".norm_out.", rest, NULL);
    }

  /* Names both layouts share, and a bare single-file VAE's own names. */
  if (strstr (name, "_blocks.") || strstr (name, "mid_block."))
    return NULL;
  if (g_str_has_prefix (name, "encoder.") || g_str_has_prefix (name, "decoder.") ||
      g_str_has_prefix (name, "quant_conv.") || g_str_has_prefix (name, "post_quant_conv."))
    return g_strconcat (SF_PREFIX_VAE, name, NULL);
  return NULL;
}

char *
sf_names_clip_l_from_diffusers (const char *name)
{
  /* CLIPTextModel's names (and CLIPTextModelWithProjection's projection). */
  if (!g_str_has_prefix (name, "text_model.") && strcmp (name, "text_projection.weight") != 0)
    return NULL;
  return g_strconcat (SF_PREFIX_CLIP_L, name, NULL);
}

static const Rename CLIP_G_LAYER[] = {
  { "layer_norm1.", "ln_1." }, { "layer_norm2.", "ln_2." }, { "mlp.fc1.", "mlp.c_fc." },
  { "mlp.fc2.", "mlp.c_proj." }, { "self_attn.out_proj.", "attn.out_proj." },
};

char *
sf_names_clip_g_from_diffusers (const char *name, int *qkv_part, gboolean *transposed)
{
  int i[1];
  const char *rest;
  *qkv_part = -1;
  *transposed = FALSE;

  if (strcmp (name, "text_model.embeddings.token_embedding.weight") == 0)
    return g_strdup (SF_PREFIX_CLIP_G "token_embedding.weight");
  if (strcmp (name, "text_model.embeddings.position_embedding.weight") == 0)
    return g_strdup (SF_PREFIX_CLIP_G "positional_embedding");
  if (strcmp (name, "text_projection.weight") == 0)
    {
      *transposed = TRUE;
      return g_strdup (SF_PREFIX_CLIP_G "text_projection");
    }
  if (match (name, "text_model.final_layer_norm.", i, &rest) && is_parameter (rest))
    return g_strconcat (SF_PREFIX_CLIP_G "ln_final.", rest, NULL);
  if (!match (name, "text_model.encoder.layers.#.", i, &rest))
    return NULL;

  static const char *const QKV[] = { "self_attn.q_proj.", "self_attn.k_proj.", "self_attn.v_proj." };
  for (int part = 0; part < 3; part++)
    if (g_str_has_prefix (rest, QKV[part]))
      {
        const char *parameter = rest + strlen (QKV[part]);
        if (!is_parameter (parameter))
          return NULL;
        *qkv_part = part;
        return g_strdup_printf (SF_PREFIX_CLIP_G "transformer.resblocks.%d.attn.in_proj_%s", i[0],
                                parameter);
      }
  g_autofree char *part = rename_head (rest, CLIP_G_LAYER, G_N_ELEMENTS (CLIP_G_LAYER), FALSE);
  if (!part)
    return NULL;
  return g_strdup_printf (SF_PREFIX_CLIP_G "transformer.resblocks.%d.%s", i[0], part);
}

char *
sf_names_from_single_file (const char *name)
{
  static const char *const CANONICAL[] = { SF_PREFIX_UNET, SF_PREFIX_VAE, SF_PREFIX_CLIP_L,
                                           SF_PREFIX_CLIP_G };
  for (gsize i = 0; i < G_N_ELEMENTS (CANONICAL); i++)
    if (g_str_has_prefix (name, CANONICAL[i]))
      return g_strdup (name);
  /* The refiner has bigG alone, as its first embedder. */
  if (g_str_has_prefix (name, "conditioner.embedders.0.model."))
    return g_strconcat (SF_PREFIX_CLIP_G, name + strlen ("conditioner.embedders.0.model."), NULL);
  return NULL;
}
