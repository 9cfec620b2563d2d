/* `sfumato generate` and the per-part commands: the built binary on the
 * tiny model, its PNG and A1111 parameters, --dump, img2img, inpainting,
 * the refiner, and clear failures. */
#include <glib/gstdio.h>
#include <string.h>
#include <sys/wait.h>

#include "infotext.h"
#include "npy.h"
#include "png-io.h"
#include "png_text.h"
#include "sf-test.h"

static char *work_dir;

static char *
data_path (const char *name)
{
  return g_build_filename (g_getenv ("SF_TEST_DATA"), name, NULL);
}

static char *
work_path (const char *name)
{
  return g_build_filename (work_dir, name, NULL);
}

static int
run_sfumato (const char *const *args, char **err)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_ptr_array_add (argv, (char *) SF_SFUMATO_PATH);
  for (int i = 0; args[i]; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);
  int status = 0;
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL;
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                               &out, err, &status, &error));
  g_assert_no_error (error);
  return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

static void
test_generate_writes_png_with_a1111_parameters (void)
{
  g_autofree char *model = data_path ("tiny-sdxl.safetensors");
  g_autofree char *output = work_path ("cat.png");
  g_autofree char *dump = work_path ("dump");
  g_autofree char *err = NULL;
  const char *args[] = { "generate", "--model", model, "--prompt", "a (red:1.2) cat", "--negative",
                         "blurry", "--width", "64", "--height", "48", "--steps", "3", "--cfg", "7",
                         "--sampler", "euler_a", "--seed", "123", "--dump", dump,
                         "--output", output, NULL };
  int status = run_sfumato (args, &err);
  if (status != 0)
    g_error ("sfumato generate failed (%d): %s", status, err);

  g_autoptr (GError) error = NULL;
  g_autoptr (SfImage) image = sf_png_load (output, &error);
  g_assert_no_error (error);
  g_assert_cmpint (image->width, ==, 64);
  g_assert_cmpint (image->height, ==, 48);
  g_autoptr (GHashTable) text = sf_png_text_read_file (output, &error);
  g_assert_no_error (error);
  const char *parameters = g_hash_table_lookup (text, "parameters");
  g_assert_nonnull (parameters);
  /* A1111's layout, every field in its order. */
  g_assert_true (g_str_has_prefix (parameters, "a (red:1.2) cat\nNegative prompt: blurry\n"
                                               "Steps: 3, Sampler: Euler a, Schedule type: Automatic, "
                                               "CFG scale: 7, Seed: 123, Size: 64x48, Model hash: "));
  g_assert_true (g_str_has_suffix (parameters, ", Model: tiny-sdxl"));
  g_autoptr (SfInfotext) info = sf_infotext_parse_a1111 (parameters);
  g_assert_cmpint (info->steps, ==, 3);
  g_assert_cmpuint (info->seed, ==, 123);
  g_assert_cmpuint (strlen (info->model_hash), ==, 10);

  /* --dump: every intermediate the issue names, with their shapes. */
  const char *names[] = { "tokens_l.npy", "tokens_g.npy", "cond.npy", "pooled.npy", "uncond.npy",
                          "uncond_pooled.npy", "time_ids.npy", "noise.npy", "latent_step_000.npy",
                          "latent_step_002.npy", "latent_final.npy", "image.npy" };
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = g_build_filename (dump, names[i], NULL);
      g_autoptr (SfNpy) npy = sf_npy_load (path, &error);
      g_assert_no_error (error);
      if (g_str_equal (names[i], "image.npy"))
        {
          g_assert_cmpint (npy->shape[1], ==, 3);
          g_assert_cmpint (npy->shape[2], ==, 48);
          g_assert_cmpint (npy->shape[3], ==, 64);
          /* The PNG is the dumped image, quantised. */
          for (gsize p = 0; p < 64 * 48; p++)
            g_assert_cmpint (abs ((int) image->pixels[p * 4] - (int) (npy->f32[p] * 255.0f + 0.5f)), <=, 1);
        }
      if (g_str_equal (names[i], "noise.npy"))
        g_assert_cmpint (npy->shape[2] * npy->shape[3], ==, 6 * 8);
    }
}

static void
test_generate_img2img_inpaint_and_refiner (void)
{
  g_autofree char *model = data_path ("tiny-sdxl.safetensors");
  g_autofree char *refiner = data_path ("tiny-sdxl-refiner.safetensors");
  g_autofree char *init = data_path ("ref/img2img/init.png");
  g_autofree char *mask = data_path ("ref/inpaint/mask.png");
  g_autofree char *out1 = work_path ("img2img.png");
  g_autofree char *out2 = work_path ("inpaint.png");
  g_autofree char *out3 = work_path ("refined.png");
  g_autofree char *err = NULL;
  const char *img2img[] = { "generate", "--model", model, "--prompt", "a cat", "--init", init,
                            "--strength", "0.5", "--steps", "4", "--seed", "1", "--output", out1, NULL };
  g_assert_cmpint (run_sfumato (img2img, &err), ==, 0);
  g_clear_pointer (&err, g_free);
  const char *inpaint[] = { "generate", "--model", model, "--prompt", "a cat", "--init", init,
                            "--mask", mask, "--strength", "1", "--steps", "3", "--seed", "1",
                            "--output", out2, NULL };
  g_assert_cmpint (run_sfumato (inpaint, &err), ==, 0);
  g_clear_pointer (&err, g_free);

  /* img2img keeps the init image's size and says its strength. */
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) text = sf_png_text_read_file (out1, &error);
  g_assert_no_error (error);
  const char *parameters = g_hash_table_lookup (text, "parameters");
  g_assert_nonnull (strstr (parameters, "Size: 128x128"));
  g_assert_nonnull (strstr (parameters, "Denoising strength: 0.5"));

  const char *refined[] = { "generate", "--model", model, "--refiner", refiner, "--prompt", "a cat",
                            "--width", "64", "--height", "64", "--steps", "5", "--seed", "2",
                            "--refiner-start", "0.6", "--output", out3, NULL };
  int status = run_sfumato (refined, &err);
  if (status != 0)
    g_error ("refiner run failed: %s", err);
  g_autoptr (GHashTable) refined_text = sf_png_text_read_file (out3, &error);
  g_assert_no_error (error);
  parameters = g_hash_table_lookup (refined_text, "parameters");
  g_assert_nonnull (strstr (parameters, "Refiner: tiny-sdxl-refiner ["));
  g_assert_nonnull (strstr (parameters, "Refiner switch at: 0.6"));
}

static void
test_generate_fails_clearly (void)
{
  g_autofree char *output = work_path ("never.png");
  g_autofree char *err = NULL;
  const char *missing[] = { "generate", "--model", "/no/such/model.safetensors", "--prompt", "x",
                            "--output", output, NULL };
  g_assert_cmpint (run_sfumato (missing, &err), !=, 0);
  g_assert_nonnull (strstr (err, "/no/such/model.safetensors"));
  g_clear_pointer (&err, g_free);

  g_autofree char *model = data_path ("tiny-sdxl.safetensors");
  const char *odd[] = { "generate", "--model", model, "--prompt", "x", "--width", "100",
                        "--output", output, NULL };
  g_assert_cmpint (run_sfumato (odd, &err), !=, 0);
  g_assert_nonnull (strstr (err, "multiples of 8"));
  g_clear_pointer (&err, g_free);

  g_autofree char *pickle = work_path ("model.ckpt");
  g_assert_true (g_file_set_contents (pickle, "\x80\x02}q\x00.", 6, NULL));
  const char *pickled[] = { "generate", "--model", pickle, "--prompt", "x", "--output", output, NULL };
  g_assert_cmpint (run_sfumato (pickled, &err), !=, 0);
  g_assert_nonnull (strstr (err, "safetensors"));
  g_assert_false (g_file_test (output, G_FILE_TEST_EXISTS));
}

static void
test_part_commands_round_trip (void)
{
  /* vae-decode on the reference latent gives the reference image. */
  g_autofree char *model = data_path ("tiny-sdxl.safetensors");
  g_autofree char *latent = data_path ("ref/vae/decode_in.npy");
  g_autofree char *decoded = work_path ("decoded.npy");
  g_autofree char *err = NULL;
  const char *args[] = { "vae-decode", "--model", model, "--input", latent, "--output", decoded,
                         NULL };
  g_assert_cmpint (run_sfumato (args, &err), ==, 0);
  g_autoptr (GError) error = NULL;
  g_autoptr (SfNpy) ours = sf_npy_load (decoded, &error);
  g_assert_no_error (error);
  g_autofree char *ref_path = data_path ("ref/vae/decode_out.npy");
  g_autoptr (SfNpy) ref = sf_npy_load (ref_path, &error);
  sf_assert_close (ours->f32, ref->f32, ref->count, 1e-4);

  /* unet on the reference inputs gives the reference noise. */
  g_autofree char *sample = data_path ("ref/unet/base_sample.npy");
  g_autofree char *context = data_path ("ref/unet/base_context.npy");
  g_autofree char *pooled = data_path ("ref/unet/base_text_embeds.npy");
  g_autofree char *ids = data_path ("ref/unet/base_time_ids.npy");
  g_autofree char *eps = work_path ("eps.npy");
  g_clear_pointer (&err, g_free);
  const char *unet[] = { "unet", "--model", model, "--latent", sample, "--timestep", "751",
                         "--context", context, "--pooled", pooled, "--time-ids", ids, "--output",
                         eps, NULL };
  g_assert_cmpint (run_sfumato (unet, &err), ==, 0);
  g_autoptr (SfNpy) ours_eps = sf_npy_load (eps, &error);
  g_assert_no_error (error);
  g_autofree char *ref_eps_path = data_path ("ref/unet/base_eps.npy");
  g_autoptr (SfNpy) ref_eps = sf_npy_load (ref_eps_path, &error);
  sf_assert_close (ours_eps->f32, ref_eps->f32, ref_eps->count, 1e-4);
}

int
main (int argc, char **argv)
{
  sf_test_init (&argc, &argv);
  work_dir = g_dir_make_tmp ("sfumato-cli-generate-XXXXXX", NULL);
  sf_test_add ("/cli/generate/writes-png-with-a1111-parameters",
               test_generate_writes_png_with_a1111_parameters);
  sf_test_add ("/cli/generate/img2img-inpaint-and-refiner", test_generate_img2img_inpaint_and_refiner);
  sf_test_add ("/cli/generate/fails-clearly", test_generate_fails_clearly);
  sf_test_add ("/cli/parts/match-the-reference", test_part_commands_round_trip);
  int status = sf_test_run ();
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", work_dir);
  if (system (cmd) != 0)
    g_warning ("could not remove %s", work_dir);
  return status;
}
