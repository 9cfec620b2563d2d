/* `sfumato info --model` and `sfumato tokenize`: the built binary. */
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sf-test.h"
#include "tokenizer.h"

static char *data_home;

static char *
data_path (const char *name)
{
  return g_build_filename (g_getenv ("SF_TEST_DATA"), name, NULL);
}

/* Runs sfumato with @args; returns its exit status. */
static int
run_sfumato (const char *const *args, char **out, char **err)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_ptr_array_add (argv, (char *) SF_SFUMATO_PATH);
  for (int i = 0; args[i]; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);
  g_auto (GStrv) env = g_environ_setenv (g_get_environ (), "XDG_DATA_HOME", data_home, TRUE);
  int status = 0;
  g_autoptr (GError) error = NULL;
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, env, G_SPAWN_DEFAULT, NULL, NULL, out,
                               err, &status, &error));
  g_assert_no_error (error);
  return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

static void
assert_contains (const char *text, const char *part)
{
  if (!strstr (text, part))
    g_error ("“%s” is not in:\n%s", part, text);
}

static void
test_info_describes_models (void)
{
  g_autofree char *single = data_path ("tiny-sdxl.safetensors");
  g_autofree char *out = NULL, *err = NULL;
  const char *args[] = { "info", "--model", single, NULL };
  g_assert_cmpint (run_sfumato (args, &out, &err), ==, 0);
  g_autofree char *contents = NULL;
  gsize length;
  g_assert_true (g_file_get_contents (single, &contents, &length, NULL));
  g_autofree char *sha256 = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) contents, length);
  g_autofree char *hash = g_strdup_printf ("hash:          %.10s (AutoV2; SHA-256 %s)", sha256, sha256);
  assert_contains (out, hash);
  assert_contains (out, "layout:        single file (1 file)");
  assert_contains (out, "architecture:  base");
  assert_contains (out, "tensors:       958 (stored as F16 958, BF16 0, F32 0)");
  assert_contains (out, "32 channels × [1, 2, 3], 2 res blocks per level");
  assert_contains (out, "attention depth [0, 1, 2]");
  assert_contains (out, "heads [-, 4, 6] × [-, 16, 16]");
  assert_contains (out, "context 48, added embedding 224 (6 time ids × 32)");
  assert_contains (out, "CLIP ViT-L:    hidden 16, 3 layers, 2 heads × 8, MLP 64 (quick_gelu)");
  assert_contains (out, "OpenCLIP bigG: hidden 32, 3 layers, 2 heads × 16, MLP 128 (gelu)");
  assert_contains (out, "projection 32");
  assert_contains (out, "VAE:           32 channels × [1, 1, 2, 2], 2 res blocks, 4 latent channels, "
                        "scaling factor 0.13025");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_autofree char *refiner = data_path ("tiny-sdxl-refiner.safetensors");
  const char *refiner_args[] = { "info", "--no-hash", "--model", refiner, NULL };
  g_assert_cmpint (run_sfumato (refiner_args, &out, &err), ==, 0);
  assert_contains (out, "architecture:  refiner");
  assert_contains (out, "BF16 844");
  assert_contains (out, "CLIP ViT-L:    none");
  g_assert_null (strstr (out, "hash:"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_autofree char *inpaint = data_path ("tiny-sdxl-inpaint-unet.safetensors");
  g_autofree char *vae = data_path ("tiny-sdxl/vae/diffusion_pytorch_model.safetensors");
  const char *parts_args[] = { "info", "--model", inpaint, "--vae", vae, NULL };
  g_assert_cmpint (run_sfumato (parts_args, &out, &err), ==, 0);
  assert_contains (out, "layout:        UNet file + VAE file (2 files)");
  assert_contains (out, "architecture:  inpaint");
  assert_contains (out, "UNet:          in 9, out 4");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_autofree char *folder = data_path ("tiny-sdxl");
  const char *folder_args[] = { "info", "--model", folder, NULL };
  g_assert_cmpint (run_sfumato (folder_args, &out, &err), ==, 0);
  assert_contains (out, "layout:        diffusers folder (4 files)");
  g_assert_null (strstr (out, "hash:")); /* A1111 hashes single files only */
}

static void
test_info_refuses_pickles (void)
{
  g_autofree char *dir = g_dir_make_tmp ("sf-cli-XXXXXX", NULL);
  g_autofree char *ckpt = g_build_filename (dir, "model.ckpt", NULL);
  g_assert_true (g_file_set_contents (ckpt, "PK\3\4", -1, NULL));
  g_autofree char *out = NULL, *err = NULL;
  const char *args[] = { "info", "--model", ckpt, NULL };
  g_assert_cmpint (run_sfumato (args, &out, &err), ==, 1);
  assert_contains (err, "sfumato info: ");
  assert_contains (err, "pickled PyTorch file");
  assert_contains (err, "runs whatever code it contains");
  g_remove (ckpt);
  g_rmdir (dir);
}

static void
test_tokenize_json_has_every_window (void)
{
  /* A weighted prompt, a BREAK, and more than 75 tokens after it. */
  g_autoptr (GString) prompt = g_string_new ("a (red:1.5) cat on a [blue] chair BREAK ");
  for (int i = 0; i < 80; i++)
    g_string_append (prompt, "((dog)) ");
  g_autofree char *out = NULL, *err = NULL;
  const char *args[] = { "tokenize", "--json", "--prompt", prompt->str, NULL };
  g_assert_cmpint (run_sfumato (args, &out, &err), ==, 0);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_assert_true (json_parser_load_from_data (parser, out, -1, NULL));
  JsonObject *root = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpuint (json_object_get_size (root), ==, 3);

  g_autoptr (GError) error = NULL;
  g_autoptr (SfTokenizer) tokenizer = sf_tokenizer_new_from_bpe (g_getenv ("SF_CLIP_VOCAB"), &error);
  g_assert_no_error (error);
  g_autoptr (SfTokenChunks) expected = sf_tokenizer_encode_prompt (tokenizer, prompt->str);
  g_assert_cmpuint (expected->n_chunks, ==, 3);
  const char *const keys[] = { "ids", "ids_g", "weights" };
  for (gsize k = 0; k < G_N_ELEMENTS (keys); k++)
    {
      JsonArray *rows = json_object_get_array_member (root, keys[k]);
      g_assert_cmpuint (json_array_get_length (rows), ==, expected->n_chunks);
      for (guint c = 0; c < expected->n_chunks; c++)
        {
          JsonArray *row = json_array_get_array_element (rows, c);
          g_assert_cmpuint (json_array_get_length (row), ==, SF_CLIP_WINDOW);
          for (guint i = 0; i < SF_CLIP_WINDOW; i++)
            {
              guint at = c * SF_CLIP_WINDOW + i;
              if (k == 2)
                g_assert_cmpfloat ((float) json_array_get_double_element (row, i), ==, expected->weights[at]);
              else
                g_assert_cmpint (json_array_get_int_element (row, i), ==,
                                 (k == 0 ? expected->ids : expected->ids_g)[at]);
            }
        }
    }
  /* "dog" at 1.21 (two brackets), printed as the shortest exact float. */
  assert_contains (out, "1.21, ");
  assert_contains (out, "0.90909094, ");
}

static void
test_tokenize_prints_tokens (void)
{
  g_autofree char *out = NULL, *err = NULL;
  const char *args[] = { "tokenize", "--prompt", "Café (au lait:1.3)", NULL };
  g_assert_cmpint (run_sfumato (args, &out, &err), ==, 0);
  assert_contains (out, "chunk 1 of 1, prompt tokens: 4");
  assert_contains (out, "     1   15304   1.0000  café</w>\n");
  assert_contains (out, "     3     572   1.3000  la\n     4     585   1.3000  it</w>\n");
  assert_contains (out, "71 × padding: 49407 (CLIP ViT-L), 0 (bigG)");

  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  const char *missing[] = { "tokenize", NULL };
  g_assert_cmpint (run_sfumato (missing, &out, &err), ==, 1);
  assert_contains (err, "--prompt");
}

int
main (int argc, char **argv)
{
  sf_test_init (&argc, &argv);
  /* The vocabulary where the app looks for it: the user's data folder. */
  g_autofree char *root = g_dir_make_tmp ("sf-cli-model-XXXXXX", NULL);
  data_home = g_build_filename (root, "data", NULL);
  g_autofree char *clip = g_build_filename (data_home, "sfumato", "clip", NULL);
  g_autofree char *link = g_build_filename (clip, SF_CLIP_VOCAB_FILE, NULL);
  g_assert_cmpint (g_mkdir_with_parents (clip, 0755), ==, 0);
  g_assert_cmpint (symlink (g_getenv ("SF_CLIP_VOCAB"), link), ==, 0);

  sf_test_add ("/cli/info-describes-single-file-folder-refiner-and-parts", test_info_describes_models);
  sf_test_add ("/cli/info-refuses-pickles", test_info_refuses_pickles);
  sf_test_add ("/cli/tokenize-json-has-every-window", test_tokenize_json_has_every_window);
  sf_test_add ("/cli/tokenize-prints-tokens-ids-and-weights", test_tokenize_prints_tokens);
  int status = sf_test_run ();
  g_remove (link);
  g_rmdir (clip);
  g_autofree char *sfumato_dir = g_path_get_dirname (clip);
  g_rmdir (sfumato_dir);
  g_rmdir (data_home);
  g_rmdir (root);
  g_free (data_home);
  return status;
}
