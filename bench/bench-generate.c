/* Whole-model figures on the chosen device: loading, prompt encoding, the
 * UNet per sampling step (batch 2, as with CFG), the VAE decode, peak
 * memory. Not a test: it prints what it measured.
 *
 *   sfumato-bench-generate --model CKPT [--size 1024] [--steps 2]
 *                          [--precision fp16|fp32] [--no-vae] [--no-text]
 *   sfumato-bench-generate --make-random sdxl-base --model OUT.safetensors ...
 *
 * --make-random writes a full-size random-weight checkpoint first when
 * OUT does not exist (machines that cannot download real weights). */
#include <stdio.h>
#include <sys/resource.h>

#include "make_checkpoint.h"
#include "sdxl.h"

static double
now (void)
{
  return g_get_monotonic_time () * 1e-6;
}

static double
peak_rss_gib (void)
{
  struct rusage usage;
  getrusage (RUSAGE_SELF, &usage);
  return usage.ru_maxrss / (1024.0 * 1024.0);
}

static void
fill_random (float *data, gsize count, guint32 seed)
{
  GRand *rand = g_rand_new_with_seed (seed);
  for (gsize i = 0; i < count; i++)
    data[i] = (float) g_rand_double_range (rand, -1.0, 1.0);
  g_rand_free (rand);
}

int
main (int argc, char **argv)
{
  g_autofree char *model_path = NULL, *make_random = NULL, *precision = NULL;
  int size = 1024, steps = 2;
  gboolean no_vae = FALSE, no_text = FALSE;
  GOptionEntry entries[] = {
    { "model", 0, 0, G_OPTION_ARG_FILENAME, &model_path, "Checkpoint", "CKPT" },
    { "make-random", 0, 0, G_OPTION_ARG_STRING, &make_random, "Write a random checkpoint of ARCH first", "ARCH" },
    { "size", 0, 0, G_OPTION_ARG_INT, &size, "Image side in pixels (1024)", "PX" },
    { "steps", 0, 0, G_OPTION_ARG_INT, &steps, "UNet steps to time (2)", "N" },
    { "precision", 0, 0, G_OPTION_ARG_STRING, &precision, "fp16 (default) or fp32", "P" },
    { "no-vae", 0, 0, G_OPTION_ARG_NONE, &no_vae, "Skip the VAE decode", NULL },
    { "no-text", 0, 0, G_OPTION_ARG_NONE, &no_text, "Skip prompt encoding (random conditioning)", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- time a whole SDXL model");
  g_option_context_add_main_entries (context, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (context, &argc, &argv, &error) || !model_path || size % 8
      || steps < 1)
    {
      fprintf (stderr, "%s\n", error ? error->message : "--model is required; --size a multiple of 8");
      return 2;
    }
  if (make_random && !g_file_test (model_path, G_FILE_TEST_EXISTS))
    {
      const SfSdxlArch *arch = sf_sdxl_arch_lookup (make_random);
      double t0 = now ();
      if (!arch || !sf_make_random_checkpoint (arch, model_path, SF_DTYPE_F16, 0, NULL, NULL, NULL,
                                               &error))
        {
          fprintf (stderr, "make-random: %s\n", error ? error->message : "unknown architecture");
          return 1;
        }
      printf ("wrote random %s checkpoint: %.1f s\n", make_random, now () - t0);
    }
  SfPrecision p = g_strcmp0 (precision, "fp32") == 0 ? SF_PRECISION_FP32 : SF_PRECISION_FP16;

  g_autoptr (SfDevice) device = sf_device_open (NULL, &error);
  if (!device)
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  printf ("device: %s (%s)\n", sf_device_get_info (device)->name,
          sf_device_get_info (device)->driver_info);
  printf ("model: %s, %d×%d, %s weights\n", model_path, size, size,
          p == SF_PRECISION_FP16 ? "fp16" : "fp32");

  double t0 = now ();
  g_autoptr (SfSdxl) sdxl = sf_sdxl_open (model_path, NULL, device, p, &error);
  if (!sdxl)
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  printf ("%-34s %9.3f s\n", "open checkpoint", now () - t0);

  int tokens = 77;
  const SfModelConfig *config = sf_sdxl_get_config (sdxl);
  int context_dim = config->unet.context_dim, pooled_dim = config->clip_g.projection_dim;
  g_autofree float *context2 = g_new (float, 2 * (gsize) tokens * context_dim);
  g_autofree float *pooled2 = g_new (float, 2 * (gsize) pooled_dim);
  fill_random (context2, 2 * (gsize) tokens * context_dim, 1);
  fill_random (pooled2, 2 * (gsize) pooled_dim, 2);
  if (!no_text)
    {
      t0 = now ();
      g_auto (SfConditioning) c = { 0 };
      if (!sf_sdxl_encode_prompt (sdxl, "a photograph of an astronaut riding a horse, detailed",
                                  "blurry", SF_PROMPT_WEIGHTING_A1111, &c, NULL, &error))
        {
          fprintf (stderr, "%s\n", error->message);
          return 1;
        }
      double first = now () - t0;
      t0 = now ();
      g_auto (SfConditioning) again = { 0 };
      sf_sdxl_encode_prompt (sdxl, "a photograph of a cat", "blurry", SF_PROMPT_WEIGHTING_A1111,
                             &again, NULL, NULL);
      printf ("%-34s %9.3f s (loaded: %.3f s)\n", "text encoders: load + encode", first, now () - t0);
      sf_sdxl_release (sdxl, SF_SDXL_TEXT);
    }

  t0 = now ();
  SfUnet *unet = sf_sdxl_get_unet (sdxl, &error);
  if (!unet)
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  printf ("%-34s %9.3f s (%.2f GiB of weights)\n", "UNet load", now () - t0,
          sf_unet_weight_bytes (unet) / 1073741824.0);
  int h = size / 8, w = size / 8;
  int n_ids = config->unet.num_time_ids > 0 ? config->unet.num_time_ids : 6;
  int id_dim = config->unet.addition_time_embed_dim > 0 ? config->unet.addition_time_embed_dim : 256;
  t0 = now ();
  g_autoptr (SfUnetPass) pass = sf_unet_pass_new (unet, 2, h, w, tokens, n_ids, id_dim, &error);
  if (!pass)
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  printf ("%-34s %9.3f s\n", "UNet pass recorded", now () - t0);
  gsize latent_count = 2 * 4 * (gsize) h * w;
  g_autofree float *latent = g_new (float, latent_count);
  g_autofree float *eps = g_new (float, latent_count);
  fill_random (latent, latent_count, 3);
  float timesteps[2] = { 500.0f, 500.0f };
  float time_ids[12];
  for (int r = 0; r < 2; r++)
    for (int i = 0; i < n_ids; i++)
      time_ids[r * n_ids + i] = i == 2 || i == 3 ? 0.0f : (float) size;
  double best = G_MAXDOUBLE, total = 0;
  for (int s = 0; s < steps; s++)
    {
      t0 = now ();
      if (!sf_unet_pass_run (pass, latent, timesteps, context2, pooled2, time_ids, eps, NULL,
                             &error))
        {
          fprintf (stderr, "%s\n", error->message);
          return 1;
        }
      double t = now () - t0;
      best = MIN (best, t);
      total += t;
      printf ("%-34s %9.3f s\n", s == 0 ? "UNet step (batch 2), first" : "UNet step (batch 2)", t);
    }
  printf ("%-34s %9.3f s (best %.3f s)\n", "UNet step, mean", total / steps, best);
  g_clear_pointer (&pass, sf_unet_pass_free);
  sf_sdxl_release (sdxl, SF_SDXL_UNET);

  if (!no_vae)
    {
      t0 = now ();
      SfVae *vae = sf_sdxl_get_vae (sdxl, &error);
      if (!vae)
        {
          fprintf (stderr, "%s\n", error->message);
          return 1;
        }
      printf ("%-34s %9.3f s\n", "VAE load", now () - t0);
      g_autofree float *image = g_new (float, 3 * (gsize) size * size);
      t0 = now ();
      if (!sf_vae_decode (vae, latent, h, w, image, NULL, &error))
        {
          fprintf (stderr, "%s\n", error->message);
          return 1;
        }
      printf ("%-34s %9.3f s\n", "VAE decode", now () - t0);
    }
  printf ("%-34s %9.2f GiB\n", "peak resident memory", peak_rss_gib ());
  return 0;
}
