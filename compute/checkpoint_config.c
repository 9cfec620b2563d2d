#include "checkpoint_config.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "checkpoint_names.h"

/* Real SDXL uses 64 channels per attention head in the UNet, CLIP ViT-L
 * and bigG alike. */
#define DEFAULT_HEAD_DIM 64
#define SDXL_VAE_SCALING_FACTOR 0.13025

void
sf_config_hints_init (SfConfigHints *hints)
{
  memset (hints, 0, sizeof *hints);
  hints->clip_l_activation = hints->clip_g_activation = -1;
}

/* ---- config.json and metadata ------------------------------------------- */

static gboolean G_GNUC_PRINTF (3, 4)
fail (GError **error, SfCheckpointErrorCode code, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error_literal (error, SF_CHECKPOINT_ERROR, code, message);
  return FALSE;
}

/* A positive integer member of @object, 0 if absent or null. */
static gboolean
get_positive (JsonObject *object, const char *member, int *value, const char *path, GError **error)
{
  JsonNode *node = json_object_get_member (object, member);
  *value = 0;
  if (!node || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64 ||
      json_node_get_int (node) < 1 || json_node_get_int (node) > 1000000)
    return fail (error, SF_CHECKPOINT_ERROR_INVALID, "%s: “%s” is not a positive integer", path, member);
  *value = (int) json_node_get_int (node);
  return TRUE;
}

/* An int, or a list of ints (one per level); returns the number of
 * entries (an int fills every level and counts as 1). */
static gboolean
get_per_level (JsonObject *object, const char *member, int values[SF_UNET_MAX_LEVELS], int *count,
               const char *path, GError **error)
{
  JsonNode *node = json_object_get_member (object, member);
  *count = 0;
  if (!node || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (JSON_NODE_HOLDS_VALUE (node))
    {
      if (!get_positive (object, member, &values[0], path, error))
        return FALSE;
      for (int l = 1; l < SF_UNET_MAX_LEVELS; l++)
        values[l] = values[0];
      *count = 1;
      return TRUE;
    }
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return fail (error, SF_CHECKPOINT_ERROR_INVALID, "%s: “%s” is neither a number nor a list",
                 path, member);
  JsonArray *array = json_node_get_array (node);
  guint length = json_array_get_length (array);
  if (length == 0 || length > SF_UNET_MAX_LEVELS)
    return fail (error, SF_CHECKPOINT_ERROR_INVALID, "%s: “%s” has %u entries", path, member, length);
  for (guint i = 0; i < length; i++)
    {
      JsonNode *element = json_array_get_element (array, i);
      if (!JSON_NODE_HOLDS_VALUE (element) || json_node_get_value_type (element) != G_TYPE_INT64 ||
          json_node_get_int (element) < 1 || json_node_get_int (element) > 1000000)
        return fail (error, SF_CHECKPOINT_ERROR_INVALID, "%s: “%s” holds a value that is not a "
                     "positive integer", path, member);
      values[i] = (int) json_node_get_int (element);
    }
  *count = (int) length;
  return TRUE;
}

static int
get_activation (JsonObject *object)
{
  const char *act = json_object_get_string_member_with_default (object, "hidden_act", NULL);
  if (!act)
    return -1;
  if (strcmp (act, "quick_gelu") == 0)
    return SF_CLIP_ACTIVATION_QUICK_GELU;
  if (strcmp (act, "gelu") == 0)
    return SF_CLIP_ACTIVATION_GELU;
  return -2;
}

/* The root object of FOLDER/COMPONENT/config.json, or NULL (no error)
 * when there is none. */
static JsonParser *
load_config (const char *folder, const char *component, char **path_out, GError **error)
{
  g_autofree char *path = g_build_filename (folder, component, "config.json", NULL);
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    return NULL;
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autoptr (GError) local = NULL;
  if (!json_parser_load_from_mapped_file (parser, path, &local))
    {
      fail (error, SF_CHECKPOINT_ERROR_INVALID, "%s: %s", path, local->message);
      return NULL;
    }
  JsonNode *root = json_parser_get_root (parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT (root))
    {
      fail (error, SF_CHECKPOINT_ERROR_INVALID, "%s is not a JSON object", path);
      return NULL;
    }
  *path_out = g_steal_pointer (&path);
  return g_steal_pointer (&parser);
}

gboolean
sf_config_hints_read_diffusers (SfConfigHints *hints, const char *folder, GError **error)
{
  static const char *const COMPONENTS[] = { "unet", "vae", "text_encoder", "text_encoder_2" };
  for (gsize c = 0; c < G_N_ELEMENTS (COMPONENTS); c++)
    {
      g_autofree char *path = NULL;
      g_autoptr (JsonParser) parser = load_config (folder, COMPONENTS[c], &path, error);
      if (!parser)
        {
          if (error && *error)
            return FALSE;
          continue;
        }
      JsonObject *object = json_node_get_object (json_parser_get_root (parser));
      switch (c)
        {
        case 0:
          {
            /* diffusers calls the number of heads "attention_head_dim"
             * unless num_attention_heads is given. */
            const char *heads = json_object_has_member (object, "num_attention_heads") &&
                                !JSON_NODE_HOLDS_NULL (json_object_get_member (object, "num_attention_heads"))
                                ? "num_attention_heads" : "attention_head_dim";
            if (!get_per_level (object, heads, hints->unet_heads, &hints->unet_heads_levels, path, error) ||
                !get_per_level (object, "block_out_channels", hints->unet_block_out_channels,
                                &hints->unet_block_levels, path, error) ||
                !get_positive (object, "layers_per_block", &hints->unet_layers_per_block, path, error) ||
                !get_positive (object, "addition_time_embed_dim", &hints->unet_addition_time_embed_dim,
                               path, error))
              return FALSE;
            break;
          }
        case 1:
          {
            JsonNode *node = json_object_get_member (object, "scaling_factor");
            if (node && JSON_NODE_HOLDS_VALUE (node))
              {
                hints->vae_scaling_factor = json_node_get_double (node);
                if (!(hints->vae_scaling_factor > 0 && hints->vae_scaling_factor < 100))
                  return fail (error, SF_CHECKPOINT_ERROR_INVALID,
                               "%s: scaling_factor is out of range", path);
              }
            break;
          }
        default:
          {
            int *heads = c == 2 ? &hints->clip_l_heads : &hints->clip_g_heads;
            int *activation = c == 2 ? &hints->clip_l_activation : &hints->clip_g_activation;
            if (!get_positive (object, "num_attention_heads", heads, path, error))
              return FALSE;
            *activation = get_activation (object);
            if (*activation == -2)
              return fail (error, SF_CHECKPOINT_ERROR_UNSUPPORTED, "%s: hidden_act “%s” is not one "
                           "of CLIP's (quick_gelu, gelu)", path,
                           json_object_get_string_member (object, "hidden_act"));
            break;
          }
        }
    }
  return TRUE;
}

gboolean
sf_config_hints_read_metadata (SfConfigHints *hints, const SfSafetensors *file, GError **error)
{
  static const char *const KEYS[] = { "sfumato.unet.head_dim", "sfumato.clip_l.head_dim",
                                      "sfumato.clip_g.head_dim" };
  int *values[] = { &hints->unet_head_dim, &hints->clip_l_head_dim, &hints->clip_g_head_dim };
  for (gsize k = 0; k < G_N_ELEMENTS (KEYS); k++)
    {
      const char *text = sf_safetensors_get_metadata (file, KEYS[k]);
      guint64 value;
      if (!text)
        continue;
      if (!g_ascii_string_to_unsigned (text, 10, 1, 4096, &value, NULL))
        return fail (error, SF_CHECKPOINT_ERROR_INVALID, "%s: metadata %s = “%s” is not a "
                     "positive integer", sf_safetensors_get_path (file), KEYS[k], text);
      *values[k] = (int) value;
    }
  return TRUE;
}

/* ---- Shapes --------------------------------------------------------------- */

/* Dimension @axis of the tensor named by @format, or -1 if absent. */
static int64_t G_GNUC_PRINTF (3, 4)
dim (const SfCheckpoint *checkpoint, int axis, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *name = g_strdup_vprintf (format, args);
  va_end (args);
  int ndim;
  int64_t shape[4];
  if (!sf_checkpoint_get_shape (checkpoint, name, &ndim, shape) || axis >= ndim)
    return -1;
  return shape[axis];
}

static gboolean G_GNUC_PRINTF (2, 3)
exists (const SfCheckpoint *checkpoint, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *name = g_strdup_vprintf (format, args);
  va_end (args);
  return sf_checkpoint_has (checkpoint, name);
}

/* Transformer blocks in the attention of UNet block @block ("input_blocks.4"). */
static int
count_transformer_blocks (const SfCheckpoint *checkpoint, const char *block)
{
  int count = 0;
  while (count < 1000 && exists (checkpoint, SF_PREFIX_UNET "%s.1.transformer_blocks.%d.attn1.to_q.weight",
                                 block, count))
    count++;
  return count;
}

/* Attention heads of a level @width wide. */
static gboolean
unet_heads (const SfConfigHints *hints, int level, int width, int *heads, int *head_dim,
            const char *where, GError **error)
{
  if (hints->unet_heads_levels > 0)
    {
      *heads = hints->unet_heads[MIN (level, hints->unet_heads_levels - 1)];
      *head_dim = width / *heads;
    }
  else
    {
      *head_dim = hints->unet_head_dim ? hints->unet_head_dim : DEFAULT_HEAD_DIM;
      *heads = width / *head_dim;
    }
  if (*heads < 1 || *head_dim * *heads != width)
    return fail (error, SF_CHECKPOINT_ERROR_UNSUPPORTED, "%s: UNet level %d is %d channels wide, "
                 "which does not split into attention heads of %d (give sfumato.unet.head_dim in "
                 "the file's metadata)", where, level, width, *head_dim);
  return TRUE;
}

static gboolean
derive_unet (SfUNetConfig *unet, const SfCheckpoint *checkpoint, const SfConfigHints *hints,
             const char *where, GError **error)
{
  const char *U = SF_PREFIX_UNET;
  unet->model_channels = (int) dim (checkpoint, 0, "%sinput_blocks.0.0.weight", U);
  unet->in_channels = (int) dim (checkpoint, 1, "%sinput_blocks.0.0.weight", U);
  unet->out_channels = (int) dim (checkpoint, 0, "%sout.2.weight", U);
  unet->time_embed_dim = (int) dim (checkpoint, 0, "%stime_embed.0.weight", U);
  unet->adm_in_channels = (int) MAX (dim (checkpoint, 1, "%slabel_emb.0.0.weight", U), 0);
  if (unet->model_channels < 1 || unet->in_channels < 1 || unet->out_channels < 1 ||
      unet->time_embed_dim < 1)
    return fail (error, SF_CHECKPOINT_ERROR_UNSUPPORTED, "%s: the UNet lacks its input, output or "
                 "time-embedding layers", where);

  /* input_blocks: 0 is conv_in, then per level N resnet blocks and (but
   * for the last level) a downsampler: L * (N + 1) blocks in all. */
  int total = 1, downsampler = 0;
  while (total < 1000 && (exists (checkpoint, "%sinput_blocks.%d.0.in_layers.0.weight", U, total) ||
                          exists (checkpoint, "%sinput_blocks.%d.0.op.weight", U, total)))
    {
      if (!downsampler && exists (checkpoint, "%sinput_blocks.%d.0.op.weight", U, total))
        downsampler = total;
      total++;
    }
  int n = downsampler ? downsampler - 1 : total - 1;
  int per_level = n + 1;
  if (n < 1 || total % per_level != 0 || total / per_level > SF_UNET_MAX_LEVELS)
    return fail (error, SF_CHECKPOINT_ERROR_UNSUPPORTED, "%s: the UNet's %d input blocks do not form "
                 "levels of resnet blocks and downsamplers", where, total);
  unet->num_res_blocks = n;
  unet->num_levels = total / per_level;

  unet->context_dim = 0;
  for (int l = 0; l < unet->num_levels; l++)
    {
      if (l + 1 < unet->num_levels &&
          !exists (checkpoint, "%sinput_blocks.%d.0.op.weight", U, (l + 1) * per_level))
        return fail (error, SF_CHECKPOINT_ERROR_UNSUPPORTED, "%s: UNet level %d has no downsampler",
                     where, l);
      int width = (int) dim (checkpoint, 0, "%sinput_blocks.%d.0.out_layers.3.weight", U, l * per_level + 1);
      if (width < 1 || width % unet->model_channels != 0)
        return fail (error, SF_CHECKPOINT_ERROR_UNSUPPORTED, "%s: UNet level %d's width is not a "
                     "multiple of %d channels", where, l, unet->model_channels);
      unet->channel_mult[l] = width / unet->model_channels;
      for (int side = 0; side < 2; side++)
        {
          int depth = -1;
          for (int j = 0; j < (side ? n + 1 : n); j++)
            {
              g_autofree char *block = side
                ? g_strdup_printf ("output_blocks.%d", (unet->num_levels - 1 - l) * per_level + j)
                : g_strdup_printf ("input_blocks.%d", l * per_level + j + 1);
              int count = count_transformer_blocks (checkpoint, block);
              if (depth >= 0 && count != depth)
                return fail (error, SF_CHECKPOINT_ERROR_UNSUPPORTED, "%s: UNet level %d mixes "
                             "attention depths (%d and %d)", where, l, depth, count);
              depth = count;
              if (count > 0 && unet->context_dim == 0)
                {
                  unet->context_dim = (int) dim (checkpoint, 1,
                                                 "%s%s.1.transformer_blocks.0.attn2.to_k.weight", U, block);
                  unet->use_linear_projection = dim (checkpoint, 2, "%s%s.1.proj_in.weight", U, block) < 0;
                }
            }
          (side ? unet->transformer_depth_output : unet->transformer_depth)[l] = depth;
        }
      if (unet->transformer_depth[l] > 0 || unet->transformer_depth_output[l] > 0)
        {
          if (!unet_heads (hints, l, width, &unet->num_heads[l], &unet->head_dim[l], where, error))
            return FALSE;
        }
    }
  unet->transformer_depth_middle = count_transformer_blocks (checkpoint, "middle_block");
  if (unet->transformer_depth_middle > 0)
    {
      int last = unet->num_levels - 1;
      if (!unet_heads (hints, last, unet->model_channels * unet->channel_mult[last],
                       &unet->num_heads_middle, &unet->head_dim_middle, where, error))
        return FALSE;
      if (unet->context_dim == 0)
        unet->context_dim = (int) dim (checkpoint, 1,
                                       "%smiddle_block.1.transformer_blocks.0.attn2.to_k.weight", U);
    }

  if (hints->unet_layers_per_block && hints->unet_layers_per_block != n)
    return fail (error, SF_CHECKPOINT_ERROR_INVALID, "%s: unet/config.json says %d layers per block, "
                 "the tensors %d", where, hints->unet_layers_per_block, n);
  for (int l = 0; l < hints->unet_block_levels && hints->unet_block_levels > 1; l++)
    if (hints->unet_block_levels != unet->num_levels ||
        hints->unet_block_out_channels[l] != unet->model_channels * unet->channel_mult[l])
      return fail (error, SF_CHECKPOINT_ERROR_INVALID, "%s: unet/config.json's block_out_channels "
                   "do not match the tensors", where);
  return TRUE;
}

static gboolean
derive_clip (SfClipConfig *clip, const SfCheckpoint *checkpoint, gboolean big_g, int hint_heads,
             int hint_head_dim, int hint_activation, const char *where, GError **error)
{
  const char *P = big_g ? SF_PREFIX_CLIP_G : SF_PREFIX_CLIP_L "text_model.";
  const char *token = big_g ? "token_embedding.weight" : "embeddings.token_embedding.weight";
  const char *position = big_g ? "positional_embedding" : "embeddings.position_embedding.weight";
  const char *layer = big_g ? "transformer.resblocks.%d.ln_1.weight" : "encoder.layers.%d.layer_norm1.weight";
  const char *mlp = big_g ? "transformer.resblocks.0.mlp.c_fc.weight" : "encoder.layers.0.mlp.fc1.weight";
  const char *name = big_g ? "OpenCLIP bigG" : "CLIP ViT-L";

  clip->vocab_size = (int) dim (checkpoint, 0, "%s%s", P, token);
  clip->hidden = (int) dim (checkpoint, 1, "%s%s", P, token);
  clip->max_positions = (int) dim (checkpoint, 0, "%s%s", P, position);
  g_autofree char *layer_format = g_strconcat ("%s", layer, NULL);
  clip->layers = 0;
  while (clip->layers < 1000 && exists (checkpoint, layer_format, P, clip->layers))
    clip->layers++;
  clip->intermediate = (int) dim (checkpoint, 0, "%s%s", P, mlp);
  clip->projection_dim = (int) MAX (big_g ? dim (checkpoint, 1, "%stext_projection", P)
                                          : dim (checkpoint, 0, SF_PREFIX_CLIP_L "text_projection.weight"), 0);
  if (clip->vocab_size < 1 || clip->hidden < 1 || clip->max_positions < 1 || clip->layers < 1 ||
      clip->intermediate < 1 || dim (checkpoint, 1, "%s%s", P, position) != clip->hidden)
    return fail (error, SF_CHECKPOINT_ERROR_UNSUPPORTED, "%s: the %s text encoder is incomplete "
                 "(embeddings, layers or MLP missing)", where, name);
  if (hint_heads)
    {
      clip->heads = hint_heads;
      clip->head_dim = clip->hidden / hint_heads;
    }
  else
    {
      clip->head_dim = hint_head_dim ? hint_head_dim : DEFAULT_HEAD_DIM;
      clip->heads = clip->hidden / clip->head_dim;
    }
  if (clip->heads < 1 || clip->heads * clip->head_dim != clip->hidden)
    return fail (error, SF_CHECKPOINT_ERROR_UNSUPPORTED, "%s: the %s text encoder's width %d does "
                 "not split into heads of %d", where, name, clip->hidden, clip->head_dim);
  clip->activation = hint_activation >= 0 ? (SfClipActivation) hint_activation
                                          : big_g ? SF_CLIP_ACTIVATION_GELU : SF_CLIP_ACTIVATION_QUICK_GELU;
  return TRUE;
}

static gboolean
derive_vae (SfVaeConfig *vae, const SfCheckpoint *checkpoint, const SfConfigHints *hints,
            const char *where, GError **error)
{
  const char *V = SF_PREFIX_VAE;
  vae->base_channels = (int) dim (checkpoint, 0, "%sencoder.conv_in.weight", V);
  vae->in_channels = (int) dim (checkpoint, 1, "%sencoder.conv_in.weight", V);
  vae->z_channels = (int) dim (checkpoint, 1, "%sdecoder.conv_in.weight", V);
  vae->num_levels = 0;
  while (vae->num_levels < 1000 &&
         exists (checkpoint, "%sencoder.down.%d.block.0.conv1.weight", V, vae->num_levels))
    vae->num_levels++;
  vae->num_res_blocks = 0;
  while (vae->num_res_blocks < 1000 &&
         exists (checkpoint, "%sencoder.down.0.block.%d.conv1.weight", V, vae->num_res_blocks))
    vae->num_res_blocks++;
  if (vae->base_channels < 1 || vae->z_channels < 1 || vae->num_levels < 1 ||
      vae->num_levels > SF_VAE_MAX_LEVELS || vae->num_res_blocks < 1)
    return fail (error, SF_CHECKPOINT_ERROR_UNSUPPORTED, "%s: the VAE's levels cannot be read "
                 "from its tensors", where);
  for (int l = 0; l < vae->num_levels; l++)
    {
      int width = (int) dim (checkpoint, 0, "%sencoder.down.%d.block.0.conv2.weight", V, l);
      if (width < 1 || width % vae->base_channels != 0)
        return fail (error, SF_CHECKPOINT_ERROR_UNSUPPORTED, "%s: VAE level %d's width is not a "
                     "multiple of %d", where, l, vae->base_channels);
      vae->channel_mult[l] = width / vae->base_channels;
    }
  vae->scaling_factor = hints->vae_scaling_factor > 0 ? hints->vae_scaling_factor : SDXL_VAE_SCALING_FACTOR;
  return TRUE;
}

static SfArch
classify (const SfModelConfig *config)
{
  const SfUNetConfig *unet = &config->unet;
  if (!config->has_unet || unet->out_channels != 4)
    return SF_ARCH_UNKNOWN;
  if (unet->in_channels == 9)
    return SF_ARCH_SDXL_INPAINT;
  if (unet->in_channels != 4)
    return SF_ARCH_UNKNOWN;
  if (config->has_clip_l && config->has_clip_g)
    return unet->context_dim == config->clip_l.hidden + config->clip_g.hidden ? SF_ARCH_SDXL_BASE
                                                                             : SF_ARCH_UNKNOWN;
  if (config->has_clip_g)
    return unet->context_dim == config->clip_g.hidden ? SF_ARCH_SDXL_REFINER : SF_ARCH_UNKNOWN;
  /* A UNet alone: SDXL's own widths. */
  if (unet->context_dim == 2048 && unet->adm_in_channels == 2816)
    return SF_ARCH_SDXL_BASE;
  if (unet->context_dim == 1280 && unet->adm_in_channels == 2560)
    return SF_ARCH_SDXL_REFINER;
  return SF_ARCH_UNKNOWN;
}

gboolean
sf_model_config_derive (SfModelConfig *config, const SfCheckpoint *checkpoint,
                        const SfConfigHints *hints, const char *where, GError **error)
{
  memset (config, 0, sizeof *config);
  config->has_unet = sf_checkpoint_has (checkpoint, SF_PREFIX_UNET "input_blocks.0.0.weight");
  config->has_clip_l = sf_checkpoint_has (checkpoint,
                                          SF_PREFIX_CLIP_L "text_model.embeddings.token_embedding.weight");
  config->has_clip_g = sf_checkpoint_has (checkpoint, SF_PREFIX_CLIP_G "token_embedding.weight");
  config->has_vae = sf_checkpoint_has (checkpoint, SF_PREFIX_VAE "encoder.conv_in.weight") &&
                    sf_checkpoint_has (checkpoint, SF_PREFIX_VAE "decoder.conv_in.weight");
  if ((config->has_unet && !derive_unet (&config->unet, checkpoint, hints, where, error)) ||
      (config->has_clip_l && !derive_clip (&config->clip_l, checkpoint, FALSE, hints->clip_l_heads,
                                           hints->clip_l_head_dim, hints->clip_l_activation, where, error)) ||
      (config->has_clip_g && !derive_clip (&config->clip_g, checkpoint, TRUE, hints->clip_g_heads,
                                           hints->clip_g_head_dim, hints->clip_g_activation, where, error)) ||
      (config->has_vae && !derive_vae (&config->vae, checkpoint, hints, where, error)))
    return FALSE;

  config->arch = classify (config);
  SfUNetConfig *unet = &config->unet;
  if (config->has_unet)
    {
      /* The added embedding: bigG's pooled projection, then a Fourier
       * embedding per time id (size, crop, target size; the refiner has
       * an aesthetic score instead of the target size). */
      unet->num_time_ids = config->arch == SF_ARCH_SDXL_REFINER ? 5 : 6;
      int pooled = config->has_clip_g ? config->clip_g.projection_dim : 1280;
      int rest = unet->adm_in_channels - pooled;
      if (hints->unet_addition_time_embed_dim)
        unet->addition_time_embed_dim = hints->unet_addition_time_embed_dim;
      else if (rest > 0 && rest % unet->num_time_ids == 0)
        unet->addition_time_embed_dim = rest / unet->num_time_ids;
    }
  return TRUE;
}
