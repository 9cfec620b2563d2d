/* The SDXL parts against diffusers (tests/data/ref, made by
 * tests/reference/make_reference.py from the tiny random-weight model of
 * SDXL's architecture): text encoders, prompt conditioning, UNet, VAE.
 *
 * Tolerances (issue): fp32 ≤ 1e-4 relative L2 for the whole-model outputs
 * (float32 arithmetic in another order), fp16 weights ≤ 1e-2. */
#include <math.h>
#include <string.h>

#include "npy.h"
#include "sdxl.h"
#include "sf-test.h"

#define FP32_TOLERANCE 1e-4
#define FP16_TOLERANCE 1e-2

static char *
data_path (const char *relative)
{
  return g_build_filename (g_getenv ("SF_TEST_DATA"), relative, NULL);
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

static const char *const LAYOUTS[] = { "tiny-sdxl.safetensors", "tiny-sdxl" };
/* Both layouts, or only the single file in quick runs. */
#define N_LAYOUTS (sf_test_quick () ? 1 : G_N_ELEMENTS (LAYOUTS))

static SfSdxl *
open_model (const char *relative, SfPrecision precision)
{
  g_autofree char *path = data_path (relative);
  g_autoptr (GError) error = NULL;
  SfSdxl *sdxl = sf_sdxl_open (path, NULL, sf_test_device (), precision, &error);
  g_assert_no_error (error);
  return sdxl;
}

/* ---- prompt conditioning ---------------------------------------------- */

static void
check_prompt (SfSdxl *sdxl, const char *prompt, const char *negative, const char *cond_file,
              const char *pooled_file, const char *uncond_file, const char *uncond_pooled_file,
              double tolerance)
{
  g_autoptr (GError) error = NULL;
  g_auto (SfConditioning) c = { 0 };
  gboolean ok = sf_sdxl_encode_prompt (sdxl, prompt, negative, SF_PROMPT_WEIGHTING_A1111, &c,
                                        NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  g_autoptr (SfNpy) cond = load_ref (cond_file);
  g_autoptr (SfNpy) pooled = load_ref (pooled_file);
  g_assert_cmpuint ((gsize) c.tokens * c.context_dim, ==, cond->count);
  g_assert_cmpuint ((gsize) c.pooled_dim, ==, pooled->count);
  sf_assert_close (c.cond, cond->f32, cond->count, tolerance);
  sf_assert_close (c.pooled, pooled->f32, pooled->count, tolerance);
  if (uncond_file)
    {
      g_autoptr (SfNpy) uncond = load_ref (uncond_file);
      g_autoptr (SfNpy) uncond_pooled = load_ref (uncond_pooled_file);
      if (g_str_has_suffix (uncond_file, "none_uncond.npy"))
        {
          /* force_zeros_for_empty_prompt: exact zeros. */
          for (gsize i = 0; i < uncond->count; i++)
            g_assert_cmpfloat (c.uncond[i], ==, 0.0f);
          for (gsize i = 0; i < uncond_pooled->count; i++)
            g_assert_cmpfloat (c.uncond_pooled[i], ==, 0.0f);
        }
      else
        {
          sf_assert_close (c.uncond, uncond->f32, uncond->count, tolerance);
          sf_assert_close (c.uncond_pooled, uncond_pooled->f32, uncond_pooled->count, tolerance);
        }
    }
}

static void
test_prompt_encoding (SfPrecision precision, double tolerance)
{
  for (gsize l = 0; l < N_LAYOUTS; l++)
    {
      g_autoptr (SfSdxl) sdxl = open_model (LAYOUTS[l], precision);
      check_prompt (sdxl, "a photo of a cat sitting on a red chair", "blurry, low quality",
                    "ref/prompts/main_cond.npy", "ref/prompts/main_pooled.npy",
                    "ref/prompts/negative_text_uncond.npy",
                    "ref/prompts/negative_text_uncond_pooled.npy", tolerance);
      check_prompt (sdxl, "a photo of a cat sitting on a red chair", NULL,
                    "ref/prompts/main_cond.npy", "ref/prompts/main_pooled.npy",
                    "ref/prompts/negative_none_uncond.npy",
                    "ref/prompts/negative_none_uncond_pooled.npy", tolerance);
      check_prompt (sdxl, "", NULL, "ref/prompts/empty_cond.npy", "ref/prompts/empty_pooled.npy",
                    NULL, NULL, tolerance);
    }
}

static void
test_prompt_encoding_fp32 (void)
{
  test_prompt_encoding (SF_PRECISION_FP32, FP32_TOLERANCE);
}

static void
test_prompt_encoding_fp16 (void)
{
  test_prompt_encoding (SF_PRECISION_FP16, FP16_TOLERANCE);
}

static void
test_prompt_weighting_matches_a1111 (void)
{
  g_autoptr (SfSdxl) sdxl = open_model ("tiny-sdxl.safetensors", SF_PRECISION_FP32);
  g_autoptr (GError) error = NULL;
  g_auto (SfConditioning) c = { 0 };
  gboolean ok = sf_sdxl_encode_prompt (sdxl, "a (red:1.5) cat on a [blue] chair", NULL,
                                        SF_PROMPT_WEIGHTING_A1111, &c, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  g_autoptr (SfNpy) expected = load_ref ("ref/weighting/a1111_per_encoder.npy");
  sf_assert_close (c.cond, expected->f32, expected->count, FP32_TOLERANCE);

  g_auto (SfConditioning) comfy = { 0 };
  g_assert_true (sf_sdxl_encode_prompt (sdxl, "a (red:1.5) cat on a [blue] chair", NULL,
                                        SF_PROMPT_WEIGHTING_COMFY, &comfy, NULL, &error));
  g_autoptr (SfNpy) expected_comfy = load_ref ("ref/weighting/comfy.npy");
  sf_assert_close (comfy.cond, expected_comfy->f32, expected_comfy->count, FP32_TOLERANCE);
}

static void
test_long_prompt_makes_windows (void)
{
  g_autoptr (SfSdxl) sdxl = open_model ("tiny-sdxl.safetensors", SF_PRECISION_FP32);
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) prompt = g_string_new (NULL);
  for (int i = 0; i < 60; i++)
    g_string_append (prompt, "red cat, ");
  g_auto (SfConditioning) c = { 0 };
  gboolean ok = sf_sdxl_encode_prompt (sdxl, prompt->str, "blurry", SF_PROMPT_WEIGHTING_A1111,
                                        &c, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  /* 180 tokens: three windows; the one-window negative is padded to three. */
  g_assert_cmpint (c.windows, ==, 3);
  g_assert_cmpint (c.tokens, ==, 3 * 77);
  /* The negative's second window is the empty prompt's encoding. */
  g_auto (SfConditioning) empty = { 0 };
  g_assert_true (sf_sdxl_encode_prompt (sdxl, "", "", SF_PROMPT_WEIGHTING_A1111, &empty, NULL,
                                        &error));
  sf_assert_close (c.uncond + (gsize) 77 * c.context_dim, empty.cond, (gsize) 77 * c.context_dim,
                   1e-6);
}

/* ---- UNet --------------------------------------------------------------- */

static void
check_unet (const char *model, SfPrecision precision, const char *sample_file,
            const char *context_file, const char *pooled_file, const char *time_ids_file,
            const char *eps_file, double tolerance)
{
  g_autoptr (SfSdxl) sdxl = open_model (model, precision);
  g_autoptr (GError) error = NULL;
  SfUnet *unet = sf_sdxl_get_unet (sdxl, &error);
  g_assert_no_error (error);
  g_autoptr (SfNpy) sample = load_ref (sample_file);
  g_autoptr (SfNpy) context = load_ref (context_file);
  g_autoptr (SfNpy) pooled = load_ref (pooled_file);
  g_autoptr (SfNpy) time_ids = load_ref (time_ids_file);
  g_autoptr (SfNpy) eps = load_ref (eps_file);
  int batch = (int) sample->shape[0], h = (int) sample->shape[2], w = (int) sample->shape[3];
  int n_ids = (int) time_ids->shape[1];
  const SfUNetConfig *config = &sf_sdxl_get_config (sdxl)->unet;
  int id_dim = config->addition_time_embed_dim > 0 ? config->addition_time_embed_dim : 32;
  g_autoptr (SfUnetPass) pass = sf_unet_pass_new (unet, batch, h, w, (int) context->shape[1],
                                                  n_ids, id_dim, &error);
  g_assert_no_error (error);
  float timesteps[2] = { 751.0f, 751.0f };
  g_autofree float *out = g_new (float, eps->count);
  gboolean ok = sf_unet_pass_run (pass, sample->f32, timesteps, context->f32, pooled->f32,
                                   time_ids->f32, out, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  sf_assert_close (out, eps->f32, eps->count, tolerance);

  /* Replaying the recorded pass gives the same result. */
  g_autofree float *again = g_new (float, eps->count);
  g_assert_true (sf_unet_pass_run (pass, sample->f32, timesteps, context->f32, pooled->f32,
                                   time_ids->f32, again, NULL, &error));
  g_assert_cmpmem (out, eps->count * sizeof (float), again, eps->count * sizeof (float));
}

static void
test_unet_base_fp32 (void)
{
  for (gsize l = 0; l < N_LAYOUTS; l++)
    check_unet (LAYOUTS[l], SF_PRECISION_FP32, "ref/unet/base_sample.npy",
                "ref/unet/base_context.npy", "ref/unet/base_text_embeds.npy",
                "ref/unet/base_time_ids.npy", "ref/unet/base_eps.npy", FP32_TOLERANCE);
}

/* Latent sides that halve to odd sizes: the upsampled tensors are cropped
 * to their skips' sizes, as diffusers' forward_upsample_size does. */
static void
test_unet_odd_sizes (void)
{
  check_unet ("tiny-sdxl.safetensors", SF_PRECISION_FP32, "ref/unet/base_odd_sample.npy",
              "ref/unet/base_context.npy", "ref/unet/base_text_embeds.npy",
              "ref/unet/base_odd_time_ids.npy", "ref/unet/base_odd_eps.npy", FP32_TOLERANCE);
}

static void
test_unet_base_fp16 (void)
{
  check_unet ("tiny-sdxl.safetensors", SF_PRECISION_FP16, "ref/unet/base_sample.npy",
              "ref/unet/base_context.npy", "ref/unet/base_text_embeds.npy",
              "ref/unet/base_time_ids.npy", "ref/unet/base_eps.npy", FP16_TOLERANCE);
}

static void
test_unet_inpaint_9ch (void)
{
  check_unet ("tiny-sdxl-inpaint-unet.safetensors", SF_PRECISION_FP32,
              "ref/unet/inpaint_sample.npy", "ref/unet/base_context.npy",
              "ref/unet/base_text_embeds.npy", "ref/unet/base_time_ids.npy",
              "ref/unet/inpaint_eps.npy", FP32_TOLERANCE);
}

static void
test_unet_refiner (void)
{
  check_unet ("tiny-sdxl-refiner.safetensors", SF_PRECISION_FP32, "ref/unet/base_sample.npy",
              "ref/unet/refiner_context.npy", "ref/unet/base_text_embeds.npy",
              "ref/unet/refiner_time_ids.npy", "ref/unet/refiner_eps.npy", FP32_TOLERANCE);
}

/* ---- VAE ---------------------------------------------------------------- */

static void
check_decode (SfPrecision precision, const char *in_file, const char *out_file, double tolerance)
{
  g_autoptr (SfSdxl) sdxl = open_model ("tiny-sdxl.safetensors", precision);
  g_autoptr (GError) error = NULL;
  SfVae *vae = sf_sdxl_get_vae (sdxl, &error);
  g_assert_no_error (error);
  g_autoptr (SfNpy) latent = load_ref (in_file);
  g_autoptr (SfNpy) image = load_ref (out_file);
  g_autofree float *out = g_new (float, image->count);
  gboolean ok = sf_vae_decode (vae, latent->f32, (int) latent->shape[2], (int) latent->shape[3],
                                out, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  sf_assert_close (out, image->f32, image->count, tolerance);
}

static void
test_vae_decode_fp32 (void)
{
  check_decode (SF_PRECISION_FP32, "ref/vae/decode_in.npy", "ref/vae/decode_out.npy",
                FP32_TOLERANCE);
  check_decode (SF_PRECISION_FP32, "ref/vae/decode_wide_in.npy", "ref/vae/decode_wide_out.npy",
                FP32_TOLERANCE);
}

static void
test_vae_decode_fp16 (void)
{
  check_decode (SF_PRECISION_FP16, "ref/vae/decode_in.npy", "ref/vae/decode_out.npy",
                FP16_TOLERANCE);
}

static void
test_vae_encode (void)
{
  for (gsize l = 0; l < N_LAYOUTS; l++)
    {
      g_autoptr (SfSdxl) sdxl = open_model (LAYOUTS[l], SF_PRECISION_FP32);
      g_autoptr (GError) error = NULL;
      SfVae *vae = sf_sdxl_get_vae (sdxl, &error);
      g_assert_no_error (error);
      g_autoptr (SfNpy) image = load_ref ("ref/vae/encode_in.npy");
      g_autoptr (SfNpy) mean = load_ref ("ref/vae/encode_mean.npy");
      g_autoptr (SfNpy) logvar = load_ref ("ref/vae/encode_logvar.npy");
      g_autofree float *moments = g_new (float, 2 * mean->count);
      gboolean ok = sf_vae_encode (vae, image->f32, (int) image->shape[2], (int) image->shape[3],
                                    moments, NULL, &error);
      g_assert_no_error (error);
      g_assert_true (ok);
      sf_assert_close (moments, mean->f32, mean->count, FP32_TOLERANCE);
      sf_assert_close (moments + mean->count, logvar->f32, logvar->count, FP32_TOLERANCE);
    }
}

/* The banded path (for images too large for one pass) against one pass:
 * bands of 8 rows at every resolution, so every layer is split. The issue
 * asks for ≤ 2/255 in [0, 1]; exact GroupNorm statistics and halos make it
 * float rounding only. */
static void
test_vae_banded_decode_is_seamless (void)
{
  g_autoptr (SfSdxl) sdxl = open_model ("tiny-sdxl.safetensors", SF_PRECISION_FP32);
  g_autoptr (GError) error = NULL;
  SfVae *vae = sf_sdxl_get_vae (sdxl, &error);
  g_assert_no_error (error);
  g_autoptr (SfNpy) latent = load_ref ("ref/vae/decode_wide_in.npy");
  g_autoptr (SfNpy) expected = load_ref ("ref/vae/decode_wide_out.npy");
  gsize count = expected->count;
  g_autofree float *whole = g_new (float, count);
  g_autofree float *banded = g_new (float, count);
  sf_vae_set_band_rows (vae, 0);
  gboolean ok = sf_vae_decode (vae, latent->f32, 16, 24, whole, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  sf_vae_set_band_rows (vae, 8);
  ok = sf_vae_decode (vae, latent->f32, 16, 24, banded, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  double worst = 0;
  for (gsize i = 0; i < count; i++)
    {
      double a = CLAMP (whole[i] * 0.5 + 0.5, 0.0, 1.0), b = CLAMP (banded[i] * 0.5 + 0.5, 0.0, 1.0);
      worst = MAX (worst, fabs (a - b));
    }
  g_test_message ("banded vs whole decode: max abs difference %.3g (%.4f/255)", worst, worst * 255);
  g_assert_cmpfloat (worst, <=, 2.0 / 255.0);
  sf_assert_close (banded, expected->f32, count, FP32_TOLERANCE);
}

static void
test_vae_banded_encode_matches (void)
{
  g_autoptr (SfSdxl) sdxl = open_model ("tiny-sdxl.safetensors", SF_PRECISION_FP32);
  g_autoptr (GError) error = NULL;
  SfVae *vae = sf_sdxl_get_vae (sdxl, &error);
  g_assert_no_error (error);
  g_autoptr (SfNpy) image = load_ref ("ref/vae/encode_in.npy");
  g_autoptr (SfNpy) mean = load_ref ("ref/vae/encode_mean.npy");
  g_autoptr (SfNpy) logvar = load_ref ("ref/vae/encode_logvar.npy");
  g_autofree float *moments = g_new (float, 2 * mean->count);
  sf_vae_set_band_rows (vae, 8);
  gboolean ok = sf_vae_encode (vae, image->f32, 128, 128, moments, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  sf_assert_close (moments, mean->f32, mean->count, FP32_TOLERANCE);
  sf_assert_close (moments + mean->count, logvar->f32, logvar->count, FP32_TOLERANCE);
}

int
main (int argc, char **argv)
{
  sf_test_init (&argc, &argv);
  sf_test_add ("/model/prompt/encodes-like-diffusers-fp32", test_prompt_encoding_fp32);
  sf_test_add ("/model/prompt/encodes-like-diffusers-fp16", test_prompt_encoding_fp16);
  sf_test_add ("/model/prompt/weights-like-a1111-and-comfyui", test_prompt_weighting_matches_a1111);
  sf_test_add ("/model/prompt/long-prompts-make-windows", test_long_prompt_makes_windows);
  sf_test_add ("/model/unet/base-matches-diffusers-fp32", test_unet_base_fp32);
  sf_test_add ("/model/unet/base-matches-diffusers-fp16", test_unet_base_fp16);
  sf_test_add ("/model/unet/odd-latent-sides-match-diffusers", test_unet_odd_sizes);
  sf_test_add ("/model/unet/inpainting-9-channels-matches-diffusers", test_unet_inpaint_9ch);
  sf_test_add ("/model/unet/refiner-matches-diffusers", test_unet_refiner);
  sf_test_add ("/model/vae/decode-matches-diffusers-fp32", test_vae_decode_fp32);
  sf_test_add ("/model/vae/decode-matches-diffusers-fp16", test_vae_decode_fp16);
  sf_test_add ("/model/vae/encode-matches-diffusers", test_vae_encode);
  sf_test_add ("/model/vae/banded-decode-is-seamless", test_vae_banded_decode_is_seamless);
  sf_test_add ("/model/vae/banded-encode-matches-diffusers", test_vae_banded_encode_matches);
  return sf_test_run ();
}
