/* The published SDXL layouts and the random checkpoint writer: names and
 * shapes against the key lists the diffusers reference produced
 * (tests/data/sdxl-*-keys.tsv), and a small written file read back. */
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "dtype.h"
#include "make_checkpoint.h"
#include "sf-test.h"

static void
format_tensor (const SfArchTensor *t, gpointer data)
{
  g_ptr_array_add (data, sf_arch_tensor_describe (t));
}

static gint
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static void
check_against_reference (const SfSdxlArch *arch, const char *file)
{
  g_autofree char *path = g_build_filename (g_getenv ("SF_TEST_DATA"), file, NULL);
  g_autofree char *contents = NULL;
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_autoptr (GPtrArray) expected = g_ptr_array_new ();
  g_auto (GStrv) lines = g_strsplit (contents, "\n", -1);
  for (int i = 0; lines[i]; i++)
    if (lines[i][0] && lines[i][0] != '#')
      g_ptr_array_add (expected, lines[i]);
  g_autoptr (GPtrArray) ours = g_ptr_array_new_with_free_func (g_free);
  sf_sdxl_arch_enumerate (arch, format_tensor, ours);
  g_ptr_array_sort (expected, compare_strings);
  g_ptr_array_sort (ours, compare_strings);
  g_assert_cmpuint (ours->len, ==, expected->len);
  for (guint i = 0; i < ours->len; i++)
    g_assert_cmpstr (ours->pdata[i], ==, expected->pdata[i]);
}

static void
test_base_matches_sd_xl_base_1_0 (void)
{
  check_against_reference (&sf_sdxl_arch_base, "sdxl-base-keys.tsv");
}

static void
test_refiner_matches_sd_xl_refiner_1_0 (void)
{
  check_against_reference (&sf_sdxl_arch_refiner, "sdxl-refiner-keys.tsv");
}

/* SDXL's structure at a width that writes in milliseconds. */
static const SfSdxlArch small_arch = {
  .name = "small",
  .in_channels = 4, .out_channels = 4, .model_channels = 8, .levels = 2,
  .channel_mult = { 1, 2 }, .res_blocks = 1, .transformer_depth = { 0, 1 },
  .transformer_depth_middle = 1, .context_dim = 12, .adm_channels = 20,
  .clip_l_layers = 2, .clip_l_hidden = 4, .clip_l_intermediate = 8,
  .clip_g_layers = 2, .clip_g_hidden = 8, .clip_g_intermediate = 16,
  .clip_g_projection = 8, .clip_g_prefix = "conditioner.embedders.1.model.",
  .vocab = 10, .tokens = 77,
  .vae_channels = 4, .vae_levels = 2, .vae_mult = { 1, 2 }, .vae_res_blocks = 1,
  .z_channels = 4,
};

static void
test_random_checkpoint_reads_back (void)
{
  g_autofree char *dir = g_dir_make_tmp ("sfumato-ckpt-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "small.safetensors", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (sf_make_random_checkpoint (&small_arch, path, SF_DTYPE_F16, 7, NULL, NULL, NULL,
                                            &error));
  g_assert_no_error (error);

  g_autofree guint8 *contents = NULL;
  gsize length = 0;
  g_assert_true (g_file_get_contents (path, (char **) &contents, &length, NULL));
  guint64 header_len = 0;
  for (int i = 0; i < 8; i++)
    header_len |= (guint64) contents[i] << (8 * i);
  g_assert_cmpuint (header_len % 8, ==, 0);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_assert_true (json_parser_load_from_data (parser, (const char *) contents + 8,
                                             (gssize) header_len, &error));
  JsonObject *root = json_node_get_object (json_parser_get_root (parser));
  const guint8 *data = contents + 8 + header_len;
  gsize data_len = length - 8 - header_len;

  /* Every tensor listed, contiguous, in range, sized by its shape. */
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  sf_sdxl_arch_enumerate (&small_arch, format_tensor, names);
  g_assert_cmpuint (json_object_get_size (root), ==, names->len + 1);
  guint64 covered = 0;
  GList *members = json_object_get_members (root);
  for (GList *m = members; m; m = m->next)
    {
      if (g_str_equal (m->data, "__metadata__"))
        continue;
      JsonObject *t = json_object_get_object_member (root, m->data);
      JsonArray *shape = json_object_get_array_member (t, "shape");
      JsonArray *offsets = json_object_get_array_member (t, "data_offsets");
      guint64 count = 1;
      for (guint d = 0; d < json_array_get_length (shape); d++)
        count *= (guint64) json_array_get_int_element (shape, d);
      guint64 begin = (guint64) json_array_get_int_element (offsets, 0);
      guint64 end = (guint64) json_array_get_int_element (offsets, 1);
      gboolean i64 = g_str_equal (json_object_get_string_member (t, "dtype"), "I64");
      g_assert_cmpuint (end - begin, ==, count * (i64 ? 8 : 2));
      g_assert_cmpuint (end, <=, data_len);
      covered += end - begin;
    }
  g_list_free (members);
  g_assert_cmpuint (covered, ==, data_len);

  /* Values: position ids count up, logit_scale is ln 100, a linear weight
   * has the spread its fan-in asks for, a norm scale sits around 1. */
  JsonObject *ids = json_object_get_object_member (
    root, "conditioner.embedders.0.transformer.text_model.embeddings.position_ids");
  gint64 first = json_array_get_int_element (json_object_get_array_member (ids, "data_offsets"), 0);
  for (gint64 i = 0; i < 77; i++)
    {
      gint64 v;
      memcpy (&v, data + first + 8 * i, 8);
      g_assert_cmpint (v, ==, i);
    }
  JsonObject *logit = json_object_get_object_member (root, "conditioner.embedders.1.model.logit_scale");
  gint64 at = json_array_get_int_element (json_object_get_array_member (logit, "data_offsets"), 0);
  guint16 half;
  memcpy (&half, data + at, 2);
  g_assert_cmpfloat_with_epsilon (sf_f16_to_f32 (half), logf (100.0f), 2e-3);

  JsonObject *w = json_object_get_object_member (
    root, "model.diffusion_model.input_blocks.1.0.in_layers.2.weight");  /* [8, 8, 3, 3] */
  at = json_array_get_int_element (json_object_get_array_member (w, "data_offsets"), 0);
  double sum = 0, sum2 = 0;
  for (int i = 0; i < 8 * 8 * 9; i++)
    {
      memcpy (&half, data + at + 2 * i, 2);
      double v = sf_f16_to_f32 (half);
      sum += v;
      sum2 += v * v;
    }
  double std = sqrt (sum2 / 576 - (sum / 576) * (sum / 576));
  g_assert_cmpfloat (fabs (std - 1.0 / sqrt (72.0)), <, 0.02);

  g_assert_cmpint (g_remove (path), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

static void
test_unwritable_destination_fails_cleanly (void)
{
  g_autoptr (GError) error = NULL;
  g_assert_false (sf_make_random_checkpoint (&small_arch, "/nonexistent-dir/x.safetensors",
                                             SF_DTYPE_F16, 1, NULL, NULL, NULL, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_assert_nonnull (strstr (error->message, "/nonexistent-dir/x.safetensors"));
}

int
main (int argc, char **argv)
{
  sf_test_init (&argc, &argv);
  sf_test_add ("/sdxl-arch/base-names-and-shapes-match-sd-xl-base-1.0",
               test_base_matches_sd_xl_base_1_0);
  sf_test_add ("/sdxl-arch/refiner-names-and-shapes-match-sd-xl-refiner-1.0",
               test_refiner_matches_sd_xl_refiner_1_0);
  sf_test_add ("/sdxl-arch/random-checkpoint-reads-back", test_random_checkpoint_reads_back);
  sf_test_add ("/sdxl-arch/unwritable-destination-fails-cleanly",
               test_unwritable_destination_fails_cleanly);
  return sf_test_run ();
}
