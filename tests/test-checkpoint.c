/* Checkpoints: the tiny SDXL model reads identically from its single file
 * and its diffusers folder; hyper-parameters read from shapes equal the
 * diffusers configs the test models were built from (tiny-sdxl-info.json)
 * and SDXL's published sizes (full-size key lists as sparse files); bad
 * input is refused. */
#include <fcntl.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"
#include "checkpoint_names.h"
#include "sf-test.h"

static char *
data_path (const char *name)
{
  const char *data = g_getenv ("SF_TEST_DATA");
  g_assert_nonnull (data);
  return g_build_filename (data, name, NULL);
}

static SfCheckpoint *
open_data (const char *name)
{
  g_autofree char *path = data_path (name);
  g_autoptr (GError) error = NULL;
  SfCheckpoint *checkpoint = sf_checkpoint_open (path, &error);
  g_assert_no_error (error);
  return checkpoint;
}

static float *
read_f32 (SfCheckpoint *checkpoint, const char *name, gsize *count)
{
  g_autoptr (GError) error = NULL;
  void *data = NULL;
  SfDType got;
  g_assert_true (sf_checkpoint_read (checkpoint, name, SF_DTYPE_F32, &got, &data, &error));
  g_assert_no_error (error);
  g_assert_cmpint (got, ==, SF_DTYPE_F32);
  int ndim;
  int64_t shape[4];
  g_assert_true (sf_checkpoint_get_shape (checkpoint, name, &ndim, shape));
  *count = (gsize) (shape[0] * shape[1] * shape[2] * shape[3]);
  return data;
}

static void
test_single_file_and_folder_read_identically (void)
{
  g_autoptr (SfCheckpoint) single = open_data ("tiny-sdxl.safetensors");
  g_autoptr (SfCheckpoint) folder = open_data ("tiny-sdxl");
  g_assert_cmpint (sf_checkpoint_get_layout (single), ==, SF_CHECKPOINT_SINGLE_FILE);
  g_assert_cmpint (sf_checkpoint_get_layout (folder), ==, SF_CHECKPOINT_DIFFUSERS);
  g_autoptr (GPtrArray) names = sf_checkpoint_list_names (single);
  g_autoptr (GPtrArray) folder_names = sf_checkpoint_list_names (folder);
  /* 959 tensors less CLIP-L's position_ids; diffusers has no logit_scale. */
  g_assert_cmpuint (names->len, ==, 958);
  g_assert_cmpuint (folder_names->len, ==, 957);

  guint fused = 0, transposed = 0, conv_1x1 = 0;
  for (guint i = 0; i < names->len; i++)
    {
      const char *name = names->pdata[i];
      if (strcmp (name, SF_PREFIX_CLIP_G "logit_scale") == 0)
        {
          g_assert_false (sf_checkpoint_has (folder, name));
          continue;
        }
      if (!sf_checkpoint_has (folder, name))
        g_error ("the diffusers folder has no %s", name);
      int ndim_a, ndim_b;
      int64_t shape_a[4], shape_b[4];
      sf_checkpoint_get_shape (single, name, &ndim_a, shape_a);
      sf_checkpoint_get_shape (folder, name, &ndim_b, shape_b);
      g_assert_cmpint (ndim_a, ==, ndim_b);
      g_assert_cmpmem (shape_a, sizeof shape_a, shape_b, sizeof shape_b);
      gsize count_a, count_b;
      g_autofree float *a = read_f32 (single, name, &count_a);
      g_autofree float *b = read_f32 (folder, name, &count_b);
      g_assert_cmpuint (count_a, ==, count_b);
      if (memcmp (a, b, count_a * sizeof (float)) != 0)
        g_error ("%s reads differently from the two layouts", name);
      fused += g_str_has_suffix (name, "in_proj_weight") || g_str_has_suffix (name, "in_proj_bias");
      transposed += g_str_has_suffix (name, "text_projection");
      conv_1x1 += strstr (name, "mid.attn_1.") && ndim_a == 4;
    }
  /* The special cases were all exercised: 3 bigG layers × 2, the
   * projection, q/k/v/proj_out in encoder and decoder. */
  g_assert_cmpuint (fused, ==, 6);
  g_assert_cmpuint (transposed, ==, 1);
  g_assert_cmpuint (conv_1x1, ==, 8);

  /* Reading as fp16 from an fp16 source is the stored bits. */
  g_autoptr (GError) error = NULL;
  void *half = NULL;
  SfDType got;
  g_assert_true (sf_checkpoint_read (folder, SF_PREFIX_CLIP_G "transformer.resblocks.1.attn.in_proj_weight",
                                     SF_DTYPE_F16, &got, &half, &error));
  g_assert_cmpint (got, ==, SF_DTYPE_F16);
  gsize count;
  g_autofree float *full = read_f32 (single, SF_PREFIX_CLIP_G "transformer.resblocks.1.attn.in_proj_weight", &count);
  g_assert_cmpuint (count, ==, 96 * 32);
  for (gsize i = 0; i < count; i++)
    g_assert_cmpfloat (sf_f16_to_f32 (((uint16_t *) half)[i]), ==, full[i]);
  g_free (half);
}

/* ---- Configs against the diffusers configs ------------------------------ */

static JsonObject *
info_config (JsonParser *parser, const char *which)
{
  JsonObject *root = json_node_get_object (json_parser_get_root (parser));
  return json_object_get_object_member (json_object_get_object_member (root, "configs"), which);
}

static int
per_level (JsonObject *object, const char *member, int level)
{
  JsonNode *node = json_object_get_member (object, member);
  if (JSON_NODE_HOLDS_ARRAY (node))
    return (int) json_array_get_int_element (json_node_get_array (node), (guint) level);
  return (int) json_node_get_int (node);
}

static void
assert_unet_matches (const SfUNetConfig *unet, JsonObject *expected, gboolean time_embed_known)
{
  JsonArray *widths = json_object_get_array_member (expected, "block_out_channels");
  JsonArray *down = json_object_get_array_member (expected, "down_block_types");
  int levels = (int) json_array_get_length (widths);
  g_assert_cmpint (unet->num_levels, ==, levels);
  g_assert_cmpint (unet->in_channels, ==, json_object_get_int_member (expected, "in_channels"));
  g_assert_cmpint (unet->out_channels, ==, json_object_get_int_member (expected, "out_channels"));
  g_assert_cmpint (unet->num_res_blocks, ==, json_object_get_int_member (expected, "layers_per_block"));
  g_assert_cmpint (unet->context_dim, ==, json_object_get_int_member (expected, "cross_attention_dim"));
  g_assert_cmpint (unet->adm_in_channels, ==,
                   json_object_get_int_member (expected, "projection_class_embeddings_input_dim"));
  g_assert_cmpint (unet->model_channels, ==, json_array_get_int_element (widths, 0));
  g_assert_cmpint (unet->time_embed_dim, ==, 4 * json_array_get_int_element (widths, 0));
  g_assert_true (unet->use_linear_projection);
  if (time_embed_known)
    g_assert_cmpint (unet->addition_time_embed_dim, ==,
                     json_object_get_int_member (expected, "addition_time_embed_dim"));
  for (int l = 0; l < levels; l++)
    {
      g_assert_cmpint (unet->model_channels * unet->channel_mult[l], ==, json_array_get_int_element (widths, (guint) l));
      gboolean attention = g_str_has_prefix (json_array_get_string_element (down, (guint) l), "CrossAttn");
      int depth = attention ? per_level (expected, "transformer_layers_per_block", l) : 0;
      g_assert_cmpint (unet->transformer_depth[l], ==, depth);
      g_assert_cmpint (unet->transformer_depth_output[l], ==, depth);
      g_assert_cmpint (unet->num_heads[l], ==, attention ? per_level (expected, "attention_head_dim", l) : 0);
      if (attention)
        g_assert_cmpint (unet->num_heads[l] * unet->head_dim[l], ==, json_array_get_int_element (widths, (guint) l));
    }
  g_assert_cmpint (unet->transformer_depth_middle, ==, per_level (expected, "transformer_layers_per_block", levels - 1));
  g_assert_cmpint (unet->num_heads_middle, ==, per_level (expected, "attention_head_dim", levels - 1));
}

static void
assert_clip_matches (const SfClipConfig *clip, JsonObject *expected, gboolean big_g)
{
  g_assert_cmpint (clip->vocab_size, ==, json_object_get_int_member (expected, "vocab_size"));
  g_assert_cmpint (clip->max_positions, ==, json_object_get_int_member (expected, "max_position_embeddings"));
  g_assert_cmpint (clip->hidden, ==, json_object_get_int_member (expected, "hidden_size"));
  g_assert_cmpint (clip->layers, ==, json_object_get_int_member (expected, "num_hidden_layers"));
  g_assert_cmpint (clip->heads, ==, json_object_get_int_member (expected, "num_attention_heads"));
  g_assert_cmpint (clip->intermediate, ==, json_object_get_int_member (expected, "intermediate_size"));
  g_assert_cmpint (clip->projection_dim, ==, big_g ? json_object_get_int_member (expected, "projection_dim") : 0);
  g_assert_cmpint (clip->activation, ==,
                   strcmp (json_object_get_string_member (expected, "hidden_act"), "gelu") == 0
                   ? SF_CLIP_ACTIVATION_GELU : SF_CLIP_ACTIVATION_QUICK_GELU);
}

static void
assert_vae_matches (const SfVaeConfig *vae, JsonObject *expected)
{
  JsonArray *widths = json_object_get_array_member (expected, "block_out_channels");
  g_assert_cmpint (vae->num_levels, ==, json_array_get_length (widths));
  for (int l = 0; l < vae->num_levels; l++)
    g_assert_cmpint (vae->base_channels * vae->channel_mult[l], ==, json_array_get_int_element (widths, (guint) l));
  g_assert_cmpint (vae->in_channels, ==, json_object_get_int_member (expected, "in_channels"));
  g_assert_cmpint (vae->num_res_blocks, ==, json_object_get_int_member (expected, "layers_per_block"));
  g_assert_cmpint (vae->z_channels, ==, json_object_get_int_member (expected, "latent_channels"));
  g_assert_cmpfloat (vae->scaling_factor, ==, json_object_get_double_member (expected, "scaling_factor"));
}

static void
test_configs_match_the_diffusers_configs (void)
{
  g_autofree char *info = data_path ("tiny-sdxl-info.json");
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_assert_true (json_parser_load_from_file (parser, info, NULL));

  const char *const base_layouts[] = { "tiny-sdxl.safetensors", "tiny-sdxl" };
  for (gsize i = 0; i < G_N_ELEMENTS (base_layouts); i++)
    {
      g_autoptr (SfCheckpoint) checkpoint = open_data (base_layouts[i]);
      const SfModelConfig *config = sf_checkpoint_get_config (checkpoint);
      g_assert_cmpint (config->arch, ==, SF_ARCH_SDXL_BASE);
      g_assert_true (config->has_unet && config->has_vae && config->has_clip_l && config->has_clip_g);
      assert_unet_matches (&config->unet, info_config (parser, "unet"), TRUE);
      g_assert_cmpint (config->unet.num_time_ids, ==, 6);
      assert_clip_matches (&config->clip_l, info_config (parser, "text_encoder"), FALSE);
      assert_clip_matches (&config->clip_g, info_config (parser, "text_encoder_2"), TRUE);
      assert_vae_matches (&config->vae, info_config (parser, "vae"));
    }

  g_autoptr (SfCheckpoint) refiner = open_data ("tiny-sdxl-refiner.safetensors");
  const SfModelConfig *config = sf_checkpoint_get_config (refiner);
  g_assert_cmpint (config->arch, ==, SF_ARCH_SDXL_REFINER);
  g_assert_false (config->has_clip_l);
  g_assert_true (config->has_clip_g && config->has_vae);
  assert_unet_matches (&config->unet, info_config (parser, "refiner_unet"), TRUE);
  g_assert_cmpint (config->unet.num_time_ids, ==, 5);
  assert_clip_matches (&config->clip_g, info_config (parser, "text_encoder_2"), TRUE);
  assert_vae_matches (&config->vae, info_config (parser, "vae"));

  g_autoptr (SfCheckpoint) inpaint = open_data ("tiny-sdxl-inpaint-unet.safetensors");
  config = sf_checkpoint_get_config (inpaint);
  g_assert_cmpint (config->arch, ==, SF_ARCH_SDXL_INPAINT);
  g_assert_true (config->has_unet);
  g_assert_false (config->has_vae || config->has_clip_l || config->has_clip_g);
  assert_unet_matches (&config->unet, info_config (parser, "inpaint_unet"), FALSE);
}

/* bfloat16 rounding (to nearest even), as torch's .to(torch.bfloat16). */
static float
round_to_bf16 (float value)
{
  uint32_t bits;
  memcpy (&bits, &value, 4);
  bits = (bits + 0x7fffu + ((bits >> 16) & 1u)) & 0xffff0000u;
  memcpy (&value, &bits, 4);
  return value;
}

static void
test_refiner_bigg_is_renamed_and_bf16_converts (void)
{
  /* The refiner file holds bigG and the VAE as bf16 copies of the tiny
   * base's weights, bigG under conditioner.embedders.0.model. */
  g_autoptr (SfCheckpoint) refiner = open_data ("tiny-sdxl-refiner.safetensors");
  g_autoptr (SfCheckpoint) folder = open_data ("tiny-sdxl");
  g_autoptr (GPtrArray) names = sf_checkpoint_list_names (refiner);
  guint compared = 0;
  for (guint i = 0; i < names->len; i++)
    {
      const char *name = names->pdata[i];
      g_assert_false (g_str_has_prefix (name, "conditioner.embedders.0."));
      if (!(g_str_has_prefix (name, SF_PREFIX_CLIP_G) || g_str_has_prefix (name, SF_PREFIX_VAE)) ||
          g_str_has_suffix (name, "logit_scale"))
        continue;
      gsize count, base_count;
      g_autofree float *values = read_f32 (refiner, name, &count);
      g_autofree float *base = read_f32 (folder, name, &base_count);
      g_assert_cmpuint (count, ==, base_count);
      for (gsize e = 0; e < count; e++)
        if (values[e] != round_to_bf16 (base[e]))
          g_error ("%s[%" G_GSIZE_FORMAT "]: %g is not bf16(%g)", name, e, values[e], base[e]);

      /* bf16 -> fp16 is fp16 rounding of the same values. */
      g_autoptr (GError) error = NULL;
      void *half = NULL;
      SfDType got;
      g_assert_true (sf_checkpoint_read (refiner, name, SF_DTYPE_F16, &got, &half, &error));
      g_assert_cmpint (got, ==, SF_DTYPE_F16);
      for (gsize e = 0; e < count; e++)
        g_assert_cmpuint (((uint16_t *) half)[e], ==, sf_f32_to_f16 (values[e]));
      g_free (half);
      compared++;
    }
  /* bigG: 3 layers × 12, embeddings 2, ln_final 2, projection (not
   * logit_scale); the VAE's 244. */
  g_assert_cmpuint (compared, ==, 36 + 2 + 2 + 1 + 244);
}

static void
test_unet_file_with_separate_vae (void)
{
  g_autofree char *unet = data_path ("tiny-sdxl-inpaint-unet.safetensors");
  g_autofree char *vae = data_path ("tiny-sdxl/vae/diffusion_pytorch_model.safetensors");
  g_autofree char *whole = data_path ("tiny-sdxl.safetensors");
  g_autoptr (SfCheckpoint) reference = open_data ("tiny-sdxl.safetensors");
  const char *const vae_files[] = { vae, whole };
  for (gsize v = 0; v < G_N_ELEMENTS (vae_files); v++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (SfCheckpoint) parts = sf_checkpoint_open_parts (unet, vae_files[v], &error);
      g_assert_no_error (error);
      g_assert_cmpint (sf_checkpoint_get_layout (parts), ==, SF_CHECKPOINT_PARTS);
      g_assert_cmpstr (sf_checkpoint_get_hash_path (parts), ==, unet);
      const SfModelConfig *config = sf_checkpoint_get_config (parts);
      g_assert_cmpint (config->arch, ==, SF_ARCH_SDXL_INPAINT);
      g_assert_true (config->has_vae);
      g_assert_false (config->has_clip_l);
      g_autoptr (GPtrArray) names = sf_checkpoint_list_names (parts);
      guint vae_tensors = 0;
      for (guint i = 0; i < names->len; i++)
        {
          const char *name = names->pdata[i];
          if (!g_str_has_prefix (name, SF_PREFIX_VAE))
            continue;
          gsize count, expected_count;
          g_autofree float *values = read_f32 (parts, name, &count);
          g_autofree float *expected = read_f32 (reference, name, &expected_count);
          g_assert_cmpmem (values, count * 4, expected, expected_count * 4);
          vae_tensors++;
        }
      g_assert_cmpuint (vae_tensors, ==, 244);
    }
}

/* ---- Full-size SDXL, from the key lists of the released files ----------- */

/* A sparse file with the header of the listed tensors: the shapes are
 * SDXL's, the data reads as zeros and costs no disk. */
static char *
make_sparse_checkpoint (const char *key_list, const char *dir)
{
  g_autofree char *list_path = data_path (key_list);
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (list_path, &text, NULL, NULL));
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  g_autoptr (GString) header = g_string_new ("{");
  guint64 offset = 0;
  for (guint i = 0; lines[i]; i++)
    {
      if (lines[i][0] == '#' || lines[i][0] == '\0')
        continue;
      g_auto (GStrv) fields = g_strsplit (lines[i], "\t", 3);
      g_assert_cmpuint (g_strv_length (fields), ==, 3);
      guint64 size = strcmp (fields[1], "I64") == 0 ? 8 : strcmp (fields[1], "F32") == 0 ? 4 : 2;
      g_auto (GStrv) dims = g_strsplit_set (fields[2], "[],", -1);
      for (guint d = 0; dims[d]; d++)
        if (dims[d][0])
          size *= g_ascii_strtoull (dims[d], NULL, 10);
      g_string_append_printf (header, "%s\"%s\":{\"dtype\":\"%s\",\"shape\":%s,\"data_offsets\":[%"
                              G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT "]}", header->len > 1 ? "," : "",
                              fields[0], fields[1], fields[2], offset, offset + size);
      offset += size;
    }
  g_string_append_c (header, '}');
  char *path = g_build_filename (dir, key_list, NULL);
  int fd = g_open (path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
  g_assert_cmpint (fd, >=, 0);
  guint8 length[8];
  for (int b = 0; b < 8; b++)
    length[b] = (guint8) ((guint64) header->len >> (8 * b));
  g_assert_cmpint (write (fd, length, 8), ==, 8);
  g_assert_cmpint (write (fd, header->str, header->len), ==, (gssize) header->len);
  g_assert_cmpint (ftruncate (fd, (off_t) (8 + header->len + offset)), ==, 0);
  close (fd);
  return path;
}

static void
test_full_size_sdxl_hyper_parameters (void)
{
  g_autofree char *dir = g_dir_make_tmp ("sf-checkpoint-XXXXXX", NULL);
  g_autofree char *base_path = make_sparse_checkpoint ("sdxl-base-keys.tsv", dir);
  g_autofree char *refiner_path = make_sparse_checkpoint ("sdxl-refiner-keys.tsv", dir);
  g_autoptr (GError) error = NULL;
  g_autoptr (SfCheckpoint) base = sf_checkpoint_open (base_path, &error);
  g_assert_no_error (error);
  g_autoptr (SfCheckpoint) refiner = sf_checkpoint_open (refiner_path, &error);
  g_assert_no_error (error);

  /* SDXL 1.0 as published (Podell et al. 2023; the models' configs). */
  const SfModelConfig *c = sf_checkpoint_get_config (base);
  g_assert_cmpint (c->arch, ==, SF_ARCH_SDXL_BASE);
  const SfUNetConfig *u = &c->unet;
  g_assert_cmpint (u->model_channels, ==, 320);
  g_assert_cmpint (u->num_levels, ==, 3);
  g_assert_cmpint (u->num_res_blocks, ==, 2);
  const int base_mult[] = { 1, 2, 4 }, base_depth[] = { 0, 2, 10 }, base_heads[] = { 0, 10, 20 };
  for (int l = 0; l < 3; l++)
    {
      g_assert_cmpint (u->channel_mult[l], ==, base_mult[l]);
      g_assert_cmpint (u->transformer_depth[l], ==, base_depth[l]);
      g_assert_cmpint (u->transformer_depth_output[l], ==, base_depth[l]);
      g_assert_cmpint (u->num_heads[l], ==, base_heads[l]);
      g_assert_cmpint (u->head_dim[l], ==, l ? 64 : 0);
    }
  g_assert_cmpint (u->transformer_depth_middle, ==, 10);
  g_assert_cmpint (u->num_heads_middle, ==, 20);
  g_assert_cmpint (u->context_dim, ==, 2048);
  g_assert_cmpint (u->adm_in_channels, ==, 2816);
  g_assert_cmpint (u->time_embed_dim, ==, 1280);
  g_assert_cmpint (u->addition_time_embed_dim, ==, 256);
  g_assert_cmpint (u->num_time_ids, ==, 6);
  g_assert_cmpint (u->in_channels, ==, 4);
  const SfClipConfig *l = &c->clip_l, *g = &c->clip_g;
  g_assert_cmpint (l->hidden, ==, 768);
  g_assert_cmpint (l->layers, ==, 12);
  g_assert_cmpint (l->heads, ==, 12);
  g_assert_cmpint (l->intermediate, ==, 3072);
  g_assert_cmpint (l->vocab_size, ==, 49408);
  g_assert_cmpint (l->max_positions, ==, 77);
  g_assert_cmpint (l->activation, ==, SF_CLIP_ACTIVATION_QUICK_GELU);
  g_assert_cmpint (g->hidden, ==, 1280);
  g_assert_cmpint (g->layers, ==, 32);
  g_assert_cmpint (g->heads, ==, 20);
  g_assert_cmpint (g->intermediate, ==, 5120);
  g_assert_cmpint (g->projection_dim, ==, 1280);
  g_assert_cmpint (g->activation, ==, SF_CLIP_ACTIVATION_GELU);
  g_assert_cmpint (c->vae.base_channels, ==, 128);
  g_assert_cmpint (c->vae.num_levels, ==, 4);
  g_assert_cmpint (c->vae.channel_mult[3], ==, 4);
  g_assert_cmpint (c->vae.z_channels, ==, 4);
  g_assert_cmpfloat (c->vae.scaling_factor, ==, 0.13025);
  int ndim;
  int64_t shape[4];
  g_assert_true (sf_checkpoint_get_shape (base, SF_PREFIX_VAE "decoder.mid.attn_1.q.weight", &ndim, shape));
  g_assert_cmpint (ndim, ==, 4);
  SfCheckpointStats stats;
  sf_checkpoint_get_stats (base, &stats);
  g_assert_cmpuint (stats.n_tensors, ==, 2514); /* all but position_ids */
  g_assert_cmpuint (stats.n_f16, ==, 2514);

  c = sf_checkpoint_get_config (refiner);
  g_assert_cmpint (c->arch, ==, SF_ARCH_SDXL_REFINER);
  u = &c->unet;
  g_assert_false (c->has_clip_l);
  g_assert_cmpint (u->model_channels, ==, 384);
  g_assert_cmpint (u->num_levels, ==, 4);
  const int refiner_mult[] = { 1, 2, 4, 4 }, refiner_depth[] = { 0, 4, 4, 0 }, refiner_heads[] = { 0, 12, 24, 0 };
  for (int lv = 0; lv < 4; lv++)
    {
      g_assert_cmpint (u->channel_mult[lv], ==, refiner_mult[lv]);
      g_assert_cmpint (u->transformer_depth[lv], ==, refiner_depth[lv]);
      g_assert_cmpint (u->num_heads[lv], ==, refiner_heads[lv]);
    }
  g_assert_cmpint (u->transformer_depth_middle, ==, 4);
  g_assert_cmpint (u->context_dim, ==, 1280);
  g_assert_cmpint (u->adm_in_channels, ==, 2560);
  g_assert_cmpint (u->time_embed_dim, ==, 1536);
  g_assert_cmpint (u->addition_time_embed_dim, ==, 256);
  g_assert_cmpint (u->num_time_ids, ==, 5);
  g_assert_cmpint (c->clip_g.layers, ==, 32);
  g_assert_cmpint (c->clip_g.projection_dim, ==, 1280);

  g_clear_pointer (&base, sf_checkpoint_free);
  g_clear_pointer (&refiner, sf_checkpoint_free);
  g_remove (base_path);
  g_remove (refiner_path);
  g_rmdir (dir);
}

/* ---- Synthetic files ------------------------------------------------------ */

typedef struct {
  const char *name;
  const char *dtype;
  const char *shape;   /* JSON */
  const void *data;
  gsize nbytes;
} Tensor;

static void
write_safetensors (const char *path, const Tensor *tensors, gsize n)
{
  g_autoptr (GString) header = g_string_new ("{");
  gsize offset = 0;
  for (gsize i = 0; i < n; i++)
    {
      g_string_append_printf (header, "%s\"%s\":{\"dtype\":\"%s\",\"shape\":%s,\"data_offsets\":[%"
                              G_GSIZE_FORMAT ",%" G_GSIZE_FORMAT "]}", i ? "," : "", tensors[i].name,
                              tensors[i].dtype, tensors[i].shape, offset, offset + tensors[i].nbytes);
      offset += tensors[i].nbytes;
    }
  g_string_append_c (header, '}');
  g_autoptr (GByteArray) bytes = g_byte_array_new ();
  guint8 length[8];
  for (int b = 0; b < 8; b++)
    length[b] = (guint8) ((guint64) header->len >> (8 * b));
  g_byte_array_append (bytes, length, 8);
  g_byte_array_append (bytes, (const guint8 *) header->str, (guint) header->len);
  for (gsize i = 0; i < n; i++)
    g_byte_array_append (bytes, tensors[i].data, (guint) tensors[i].nbytes);
  g_assert_true (g_file_set_contents (path, (const char *) bytes->data, bytes->len, NULL));
}

static void
test_fp16_overflow_keeps_fp32 (void)
{
  g_autofree char *dir = g_dir_make_tmp ("sf-checkpoint-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "overflow.safetensors", NULL);
  const float big[3] = { 1.0f, 70000.0f, -2.5f };
  const float inf[2] = { INFINITY, 3.0f };
  const uint16_t bf16[2] = { 0x3fc0, 0xc040 }; /* 1.5, -3 */
  const uint16_t bf16_big[1] = { 0x5015 };     /* ~1e10 */
  const Tensor tensors[] = {
    { SF_PREFIX_UNET "big", "F32", "[3]", big, sizeof big },
    { SF_PREFIX_UNET "inf", "F32", "[2]", inf, sizeof inf },
    { SF_PREFIX_UNET "bf", "BF16", "[2]", bf16, sizeof bf16 },
    { SF_PREFIX_UNET "bf_big", "BF16", "[1]", bf16_big, sizeof bf16_big },
  };
  write_safetensors (path, tensors, G_N_ELEMENTS (tensors));
  g_autoptr (GError) error = NULL;
  g_autoptr (SfCheckpoint) checkpoint = sf_checkpoint_open (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (sf_checkpoint_get_config (checkpoint)->arch, ==, SF_ARCH_UNKNOWN);

  void *data = NULL;
  SfDType got;
  g_test_expect_message (NULL, G_LOG_LEVEL_MESSAGE, "*“" SF_PREFIX_UNET "big”*beyond fp16*fp32*");
  g_assert_true (sf_checkpoint_read (checkpoint, SF_PREFIX_UNET "big", SF_DTYPE_F16, &got, &data, &error));
  g_test_assert_expected_messages ();
  g_assert_cmpint (got, ==, SF_DTYPE_F32);
  g_assert_cmpmem (data, sizeof big, big, sizeof big);
  g_clear_pointer (&data, g_free);

  g_test_expect_message (NULL, G_LOG_LEVEL_MESSAGE, "*bf_big*");
  g_assert_true (sf_checkpoint_read (checkpoint, SF_PREFIX_UNET "bf_big", SF_DTYPE_F16, &got, &data, &error));
  g_test_assert_expected_messages ();
  g_assert_cmpint (got, ==, SF_DTYPE_F32);
  g_assert_cmpfloat (((float *) data)[0], ==, sf_bf16_to_f32 (0x5015));
  g_clear_pointer (&data, g_free);

  /* An infinity in the file is not an overflow. */
  g_assert_true (sf_checkpoint_read (checkpoint, SF_PREFIX_UNET "inf", SF_DTYPE_F16, &got, &data, &error));
  g_assert_cmpint (got, ==, SF_DTYPE_F16);
  g_assert_cmpuint (((uint16_t *) data)[0], ==, 0x7c00);
  g_assert_cmpuint (((uint16_t *) data)[1], ==, 0x4200);
  g_clear_pointer (&data, g_free);

  g_assert_true (sf_checkpoint_read (checkpoint, SF_PREFIX_UNET "bf", SF_DTYPE_F16, &got, &data, &error));
  g_assert_cmpint (got, ==, SF_DTYPE_F16);
  g_assert_cmpuint (((uint16_t *) data)[0], ==, 0x3e00);
  g_assert_cmpuint (((uint16_t *) data)[1], ==, 0xc200);
  g_clear_pointer (&data, g_free);

  g_assert_false (sf_checkpoint_read (checkpoint, SF_PREFIX_UNET "none", SF_DTYPE_F16, &got, &data, &error));
  g_assert_error (error, SF_CHECKPOINT_ERROR, SF_CHECKPOINT_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (sf_checkpoint_read (checkpoint, SF_PREFIX_UNET "bf", SF_DTYPE_I32, &got, &data, &error));
  g_assert_error (error, SF_CHECKPOINT_ERROR, SF_CHECKPOINT_ERROR_INVALID);
  g_clear_pointer (&checkpoint, sf_checkpoint_free);
  g_remove (path);
  g_rmdir (dir);
}

static void
test_refuses_pickles_and_integer_weights (void)
{
  g_autofree char *dir = g_dir_make_tmp ("sf-checkpoint-XXXXXX", NULL);
  g_autoptr (GError) error = NULL;

  /* By extension, without reading a byte. */
  g_autofree char *ckpt = g_build_filename (dir, "model.ckpt", NULL);
  g_assert_true (g_file_set_contents (ckpt, "PK\3\4 not even read", -1, NULL));
  g_assert_null (sf_checkpoint_open (ckpt, &error));
  g_assert_error (error, SF_CHECKPOINT_ERROR, SF_CHECKPOINT_ERROR_PICKLE);
  g_assert_nonnull (strstr (error->message, "model.ckpt"));
  g_assert_nonnull (strstr (error->message, "runs whatever code"));
  g_assert_nonnull (strstr (error->message, "save_file"));
  g_clear_error (&error);

  /* A pickle renamed to .safetensors: refused by its first bytes. */
  g_autofree char *renamed = g_build_filename (dir, "renamed.safetensors", NULL);
  const char pickle[] = "\x80\x02}q\x00(X\x05\x00\x00\x00modelq\x01";
  g_assert_true (g_file_set_contents (renamed, pickle, sizeof pickle, NULL));
  g_assert_null (sf_checkpoint_open (renamed, &error));
  g_assert_error (error, SF_CHECKPOINT_ERROR, SF_CHECKPOINT_ERROR_PICKLE);
  g_clear_error (&error);

  /* A diffusers folder whose UNet is a .bin. */
  g_autofree char *folder = g_build_filename (dir, "pipeline", NULL);
  g_autofree char *unet_dir = g_build_filename (folder, "unet", NULL);
  g_autofree char *bin = g_build_filename (unet_dir, "diffusion_pytorch_model.bin", NULL);
  g_assert_cmpint (g_mkdir_with_parents (unet_dir, 0755), ==, 0);
  g_assert_true (g_file_set_contents (bin, "PK\3\4", -1, NULL));
  g_assert_null (sf_checkpoint_open (folder, &error));
  g_assert_error (error, SF_CHECKPOINT_ERROR, SF_CHECKPOINT_ERROR_PICKLE);
  g_assert_nonnull (strstr (error->message, "diffusion_pytorch_model.bin"));
  g_clear_error (&error);

  /* F64 and integer weights are refused, naming the tensor; the
   * position_ids buffer is skipped. */
  g_autofree char *ints = g_build_filename (dir, "ints.safetensors", NULL);
  const double f64[2] = { 1, 2 };
  const int64_t ids[3] = { 0, 1, 2 };
  const uint16_t half[1] = { 0x3c00 };
  const Tensor with_f64[] = {
    { SF_PREFIX_UNET "time_embed.0.weight", "F64", "[2]", f64, sizeof f64 },
  };
  write_safetensors (ints, with_f64, 1);
  g_assert_null (sf_checkpoint_open (ints, &error));
  g_assert_error (error, SF_CHECKPOINT_ERROR, SF_CHECKPOINT_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "“" SF_PREFIX_UNET "time_embed.0.weight” is stored as F64"));
  g_clear_error (&error);
  const Tensor with_ids[] = {
    { SF_PREFIX_CLIP_L "text_model.embeddings.position_ids", "I64", "[1,3]", ids, sizeof ids },
    { SF_PREFIX_UNET "x", "F16", "[1]", half, sizeof half },
  };
  write_safetensors (ints, with_ids, 2);
  g_autoptr (SfCheckpoint) checkpoint = sf_checkpoint_open (ints, &error);
  g_assert_no_error (error);
  g_assert_false (sf_checkpoint_has (checkpoint, SF_PREFIX_CLIP_L "text_model.embeddings.position_ids"));
  g_assert_true (sf_checkpoint_has (checkpoint, SF_PREFIX_UNET "x"));
  g_clear_pointer (&checkpoint, sf_checkpoint_free);

  /* Files with no SDXL tensors, folders that are no model, missing paths. */
  const Tensor other[] = { { "lora_unet_down.alpha", "F16", "[1]", half, sizeof half } };
  write_safetensors (ints, other, 1);
  g_assert_null (sf_checkpoint_open (ints, &error));
  g_assert_error (error, SF_CHECKPOINT_ERROR, SF_CHECKPOINT_ERROR_UNSUPPORTED);
  g_clear_error (&error);
  g_assert_null (sf_checkpoint_open (dir, &error));
  g_assert_error (error, SF_CHECKPOINT_ERROR, SF_CHECKPOINT_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_autofree char *missing = g_build_filename (dir, "missing.safetensors", NULL);
  g_assert_null (sf_checkpoint_open (missing, &error));
  g_assert_error (error, SF_CHECKPOINT_ERROR, SF_CHECKPOINT_ERROR_NOT_FOUND);

  g_remove (ints);
  g_remove (bin);
  g_rmdir (unet_dir);
  g_rmdir (folder);
  g_remove (renamed);
  g_remove (ckpt);
  g_rmdir (dir);
}

static void
assert_unet_name (const char *diffusers, const SfUNetBlocks *blocks, const char *canonical)
{
  g_autofree char *name = sf_names_unet_from_diffusers (diffusers, blocks);
  g_assert_cmpstr (name, ==, canonical);
}

static void
test_diffusers_names_map_by_structure (void)
{
  /* SDXL base: 3 levels, 2 resnets; up levels 0 and 1 have attention. */
  const SfUNetBlocks base = { 3, 2, 0x3 };
  assert_unet_name ("conv_in.weight", &base, SF_PREFIX_UNET "input_blocks.0.0.weight");
  assert_unet_name ("add_embedding.linear_2.bias", &base, SF_PREFIX_UNET "label_emb.0.2.bias");
  assert_unet_name ("down_blocks.1.resnets.0.conv_shortcut.weight", &base,
                    SF_PREFIX_UNET "input_blocks.4.0.skip_connection.weight");
  assert_unet_name ("down_blocks.2.attentions.1.transformer_blocks.9.attn2.to_k.weight", &base,
                    SF_PREFIX_UNET "input_blocks.8.1.transformer_blocks.9.attn2.to_k.weight");
  assert_unet_name ("down_blocks.1.downsamplers.0.conv.bias", &base, SF_PREFIX_UNET "input_blocks.6.0.op.bias");
  assert_unet_name ("mid_block.resnets.1.time_emb_proj.weight", &base,
                    SF_PREFIX_UNET "middle_block.2.emb_layers.1.weight");
  assert_unet_name ("up_blocks.0.resnets.2.norm1.weight", &base, SF_PREFIX_UNET "output_blocks.2.0.in_layers.0.weight");
  assert_unet_name ("up_blocks.0.upsamplers.0.conv.weight", &base, SF_PREFIX_UNET "output_blocks.2.2.conv.weight");
  assert_unet_name ("up_blocks.1.upsamplers.0.conv.weight", &base, SF_PREFIX_UNET "output_blocks.5.2.conv.weight");
  assert_unet_name ("up_blocks.2.resnets.2.conv2.bias", &base, SF_PREFIX_UNET "output_blocks.8.0.out_layers.3.bias");
  assert_unet_name ("down_blocks.2.downsamplers.0.conv.weight", &base, NULL); /* the last level has none */
  assert_unet_name ("down_blocks.0.resnets.2.norm1.weight", &base, NULL);
  assert_unet_name ("up_blocks.0.resnets.0.norm9.weight", &base, NULL);
  /* The refiner: 4 levels; up level 0 has no attention, so its
   * upsampler is the block's second module. */
  const SfUNetBlocks refiner = { 4, 2, 0x6 };
  assert_unet_name ("up_blocks.0.upsamplers.0.conv.weight", &refiner, SF_PREFIX_UNET "output_blocks.2.1.conv.weight");
  assert_unet_name ("up_blocks.1.upsamplers.0.conv.weight", &refiner, SF_PREFIX_UNET "output_blocks.5.2.conv.weight");
  assert_unet_name ("down_blocks.3.resnets.1.conv1.weight", &refiner, SF_PREFIX_UNET "input_blocks.11.0.in_layers.2.weight");

  gboolean conv;
  g_autofree char *vae = sf_names_vae_from_diffusers ("decoder.up_blocks.0.resnets.2.conv_shortcut.weight", 4, &conv);
  g_assert_cmpstr (vae, ==, SF_PREFIX_VAE "decoder.up.3.block.2.nin_shortcut.weight");
  g_autofree char *attn = sf_names_vae_from_diffusers ("encoder.mid_block.attentions.0.to_out.0.weight", 4, &conv);
  g_assert_cmpstr (attn, ==, SF_PREFIX_VAE "encoder.mid.attn_1.proj_out.weight");
  g_assert_true (conv);
  g_autofree char *old = sf_names_vae_from_diffusers ("decoder.mid_block.attentions.0.query.bias", 4, &conv);
  g_assert_cmpstr (old, ==, SF_PREFIX_VAE "decoder.mid.attn_1.q.bias");
  g_assert_false (conv);
  g_autofree char *bare = sf_names_vae_from_diffusers ("decoder.up.1.upsample.conv.weight", 4, &conv);
  g_assert_cmpstr (bare, ==, SF_PREFIX_VAE "decoder.up.1.upsample.conv.weight");
  g_autofree char *up = sf_names_vae_from_diffusers ("decoder.up_blocks.2.upsamplers.0.conv.bias", 4, &conv);
  g_assert_cmpstr (up, ==, SF_PREFIX_VAE "decoder.up.1.upsample.conv.bias");

  int part;
  gboolean transposed;
  g_autofree char *v = sf_names_clip_g_from_diffusers ("text_model.encoder.layers.31.self_attn.v_proj.bias", &part, &transposed);
  g_assert_cmpstr (v, ==, SF_PREFIX_CLIP_G "transformer.resblocks.31.attn.in_proj_bias");
  g_assert_cmpint (part, ==, 2);
  g_autofree char *fc = sf_names_clip_g_from_diffusers ("text_model.encoder.layers.0.mlp.fc2.weight", &part, &transposed);
  g_assert_cmpstr (fc, ==, SF_PREFIX_CLIP_G "transformer.resblocks.0.mlp.c_proj.weight");
  g_assert_cmpint (part, ==, -1);
  g_autofree char *refiner_g = sf_names_from_single_file ("conditioner.embedders.0.model.ln_final.bias");
  g_assert_cmpstr (refiner_g, ==, SF_PREFIX_CLIP_G "ln_final.bias");
  g_assert_null (sf_names_from_single_file ("model_ema.decay"));
}

static void
test_hash_is_sha256_of_the_file (void)
{
  g_autofree char *dir = g_dir_make_tmp ("sf-checkpoint-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "abc", NULL);
  g_assert_true (g_file_set_contents (path, "abc", 3, NULL));
  g_autoptr (GError) error = NULL;
  g_autofree char *hash = sf_file_sha256 (path, &error);
  g_assert_no_error (error);
  /* FIPS 180-2, appendix B.1. */
  g_assert_cmpstr (hash, ==, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  g_remove (path);
  g_rmdir (dir);
  g_autoptr (SfCheckpoint) folder = open_data ("tiny-sdxl");
  g_assert_null (sf_checkpoint_get_hash_path (folder));
}

int
main (int argc, char **argv)
{
  sf_test_init (&argc, &argv);
  sf_test_add ("/checkpoint/single-file-and-diffusers-folder-read-identically",
               test_single_file_and_folder_read_identically);
  sf_test_add ("/checkpoint/hyper-parameters-match-the-diffusers-configs", test_configs_match_the_diffusers_configs);
  sf_test_add ("/checkpoint/refiner-bigg-is-renamed-and-bf16-converts", test_refiner_bigg_is_renamed_and_bf16_converts);
  sf_test_add ("/checkpoint/unet-file-with-a-separate-vae", test_unet_file_with_separate_vae);
  sf_test_add ("/checkpoint/full-size-sdxl-hyper-parameters-from-shapes", test_full_size_sdxl_hyper_parameters);
  sf_test_add ("/checkpoint/fp16-overflow-keeps-the-tensor-fp32", test_fp16_overflow_keeps_fp32);
  sf_test_add ("/checkpoint/refuses-pickles-and-integer-weights", test_refuses_pickles_and_integer_weights);
  sf_test_add ("/checkpoint/diffusers-names-map-by-structure", test_diffusers_names_map_by_structure);
  sf_test_add ("/checkpoint/hash-is-sha256-of-the-file", test_hash_is_sha256_of_the_file);
  return sf_test_run ();
}
