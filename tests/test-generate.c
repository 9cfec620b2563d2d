/* Whole generations against diffusers' SDXL pipelines on the tiny model:
 * txt2img with every sampler, img2img and 4-channel inpainting, through
 * sf_generate with --dump-style intermediate files.
 *
 * Tolerances (issue): the seed's noise bit-identical; final latents
 * ≤ 1e-3 relative L2 in fp32 (four steps of float32 rounding in another
 * order), ≤ 1e-2 with fp16 weights. */
#include <glib/gstdio.h>
#include <string.h>

#include "generate.h"
#include "npy.h"
#include "sf-test.h"

static char *
data_path (const char *relative)
{
  return g_build_filename (g_getenv ("SF_TEST_DATA"), relative, NULL);
}

static SfNpy *
load_npy (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr (GError) error = NULL;
  SfNpy *npy = sf_npy_load (path, &error);
  g_assert_no_error (error);
  return npy;
}

static SfNpy *
load_ref (const char *relative)
{
  g_autofree char *path = data_path (relative);
  g_autoptr (GError) error = NULL;
  SfNpy *npy = sf_npy_load (path, &error);
  g_assert_no_error (error);
  return npy;
}

typedef struct {
  const char *ref;           /* folder under tests/data/ref */
  const char *sampler;
  const char *scheduler;
  int width, height;
  gboolean img2img, inpaint;
  double strength;
  guint64 seed;
} Case;

static void
remove_dir (const char *dir)
{
  g_autoptr (GDir) listing = g_dir_open (dir, 0, NULL);
  const char *name;
  while (listing && (name = g_dir_read_name (listing)))
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_remove (path);
    }
  g_rmdir (dir);
}

static void
run_case (const Case *c, SfPrecision precision, double tolerance)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *model_path = data_path ("tiny-sdxl.safetensors");
  g_autoptr (SfSdxl) model = sf_sdxl_open (model_path, NULL, sf_test_device (), precision, &error);
  g_assert_no_error (error);
  g_autofree char *dump = g_dir_make_tmp ("sfumato-generate-XXXXXX", NULL);

  SfGenerateParams params;
  sf_generate_params_init (&params);
  params.prompt = "a photo of a cat sitting on a red chair";
  params.negative = "blurry, low quality";
  params.width = c->width;
  params.height = c->height;
  params.steps = 4;
  params.cfg = 5.0;
  params.seed = c->seed;
  params.dump_dir = dump;
  g_assert_true (sf_sampler_kind_parse (c->sampler, &params.sampler, &error));
  g_assert_true (sf_scheduler_kind_parse (c->scheduler, &params.scheduler, &error));
  g_autoptr (SfNpy) init = NULL, mask = NULL;
  if (c->img2img || c->inpaint)
    {
      init = load_ref ("ref/img2img/init.npy");
      params.init_image = init->f32;
      params.strength = c->strength;
    }
  if (c->inpaint)
    {
      mask = load_ref ("ref/inpaint/mask.npy");
      params.mask = mask->f32;
    }
  g_autofree float *image = g_new (float, 3 * (gsize) c->width * c->height);
  gboolean ok = sf_generate (model, &params, image, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ok);

  g_autofree char *ref_dir = data_path (c->ref);
  /* The seed's noise: bit for bit (txt2img's first draw; img2img's second). */
  g_autoptr (SfNpy) noise = load_npy (dump, "noise.npy");
  g_autoptr (SfNpy) ref_noise = load_npy (ref_dir, c->img2img || c->inpaint ? "rng_01.npy"
                                                                            : "rng_00.npy");
  g_assert_cmpuint (noise->count, ==, ref_noise->count);
  g_assert_cmpmem (noise->f32, noise->count * 4, ref_noise->f32, ref_noise->count * 4);

  g_autoptr (SfNpy) latent = load_npy (dump, "latent_final.npy");
  g_autoptr (SfNpy) ref_latent = load_npy (ref_dir, "latent_final.npy");
  g_assert_cmpuint (latent->count, ==, ref_latent->count);
  double error_l2 = sf_test_rel_l2 (latent->f32, ref_latent->f32, latent->count);
  g_test_message ("%s (%s): final latent relative L2 %.3g", c->ref,
                  precision == SF_PRECISION_FP32 ? "fp32" : "fp16", error_l2);
  sf_assert_close (latent->f32, ref_latent->f32, latent->count, tolerance);

  g_autoptr (SfNpy) ref_image = load_npy (ref_dir, "image.npy");
  g_assert_cmpuint (ref_image->count, ==, 3 * (gsize) c->width * c->height);
  sf_assert_close (image, ref_image->f32, ref_image->count, tolerance);
  remove_dir (dump);
}

static const Case TXT2IMG[] = {
  { "ref/txt2img_euler", "euler", "normal", 128, 128, FALSE, FALSE, 0, 42 },
  { "ref/txt2img_euler_a", "euler_a", "normal", 128, 128, FALSE, FALSE, 0, 42 },
  { "ref/txt2img_dpmpp_2m", "dpmpp_2m", "normal", 128, 128, FALSE, FALSE, 0, 42 },
  { "ref/txt2img_dpmpp_2m_karras", "dpmpp_2m", "karras", 128, 128, FALSE, FALSE, 0, 42 },
  { "ref/txt2img_dpmpp_2m_sde", "dpmpp_2m_sde", "normal", 128, 128, FALSE, FALSE, 0, 42 },
  { "ref/txt2img_ddim", "ddim", "normal", 128, 128, FALSE, FALSE, 0, 42 },
  { "ref/txt2img_heun", "heun", "normal", 128, 128, FALSE, FALSE, 0, 42 },
  { "ref/txt2img_euler_h128_w192", "euler", "normal", 192, 128, FALSE, FALSE, 0, 43 },
};

static void
test_txt2img_every_sampler_fp32 (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (TXT2IMG); i++)
    {
      /* Quick runs: euler, euler_a (per-step noise), DPM++ 2M Karras. */
      if (sf_test_quick () && i != 0 && i != 1 && i != 3)
        continue;
      run_case (&TXT2IMG[i], SF_PRECISION_FP32, 1e-3);
    }
}

static void
test_txt2img_fp16 (void)
{
  run_case (&TXT2IMG[0], SF_PRECISION_FP16, 1e-2);
  if (!sf_test_quick ())
    run_case (&TXT2IMG[3], SF_PRECISION_FP16, 1e-2);
}

static void
test_img2img (void)
{
  Case c = { "ref/img2img_euler", "euler", "normal", 128, 128, TRUE, FALSE, 0.6, 42 };
  run_case (&c, SF_PRECISION_FP32, 1e-3);
  if (!sf_test_quick ())
    run_case (&c, SF_PRECISION_FP16, 1e-2);
}

static void
test_inpaint (void)
{
  Case full = { "ref/inpaint_euler_strength_1_0", "euler", "normal", 128, 128, FALSE, TRUE, 1.0, 42 };
  Case partial = { "ref/inpaint_euler_strength_0_75", "euler", "normal", 128, 128, FALSE, TRUE, 0.75, 42 };
  run_case (&full, SF_PRECISION_FP32, 1e-3);
  if (!sf_test_quick ())
    run_case (&partial, SF_PRECISION_FP32, 1e-3);
}

static void
on_progress (const SfGenerateProgress *progress, gpointer data)
{
  GCancellable *cancellable = data;
  if (progress->step == 2)
    g_cancellable_cancel (cancellable);
}

static void
test_cancel_stops_between_steps (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *model_path = data_path ("tiny-sdxl.safetensors");
  g_autoptr (SfSdxl) model = sf_sdxl_open (model_path, NULL, sf_test_device (),
                                           SF_PRECISION_FP32, &error);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  SfGenerateParams params;
  sf_generate_params_init (&params);
  params.prompt = "a cat";
  params.width = params.height = 64;
  params.steps = 6;
  params.progress = on_progress;
  params.progress_data = cancellable;
  g_autofree float *image = g_new (float, 3 * 64 * 64);
  g_assert_false (sf_generate (model, &params, image, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void
test_bad_parameters_are_refused (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *model_path = data_path ("tiny-sdxl.safetensors");
  g_autoptr (SfSdxl) model = sf_sdxl_open (model_path, NULL, sf_test_device (),
                                           SF_PRECISION_FP32, &error);
  SfGenerateParams params;
  sf_generate_params_init (&params);
  params.prompt = "a cat";
  float image[3 * 8 * 8];
  params.width = 100; /* not a multiple of 8 */
  g_assert_false (sf_generate (model, &params, image, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  params.width = 64;
  params.steps = 0;
  g_assert_false (sf_generate (model, &params, image, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
}

int
main (int argc, char **argv)
{
  sf_test_init (&argc, &argv);
  sf_test_add ("/generate/txt2img-matches-diffusers-with-every-sampler",
               test_txt2img_every_sampler_fp32);
  sf_test_add ("/generate/txt2img-fp16-stays-close", test_txt2img_fp16);
  sf_test_add ("/generate/img2img-matches-diffusers", test_img2img);
  sf_test_add ("/generate/inpainting-matches-diffusers", test_inpaint);
  sf_test_add ("/generate/cancel-stops-between-steps", test_cancel_stops_between_steps);
  sf_test_add ("/generate/bad-parameters-are-refused", test_bad_parameters_are_refused);
  return sf_test_run ();
}
