/* sfumato generate: one image from the command line, written as a PNG
 * whose "parameters" text is what AUTOMATIC1111 writes. */
#include "cli.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

#include "generate.h"
#include "infotext.h"
#include "png-io.h"

typedef struct {
  gint64 started_us;
  gint64 last_us;
} Progress;

static void
print_progress (const SfGenerateProgress *p, gpointer data)
{
  Progress *progress = data;
  gint64 now = g_get_monotonic_time ();
  double total = (now - progress->started_us) * 1e-6;
  double step = (now - progress->last_us) * 1e-6;
  progress->last_us = now;
  fprintf (stderr, "step %d/%d  %.2f s/it  %.1f s\n", p->step, p->total, step, total);
}

/* White (in the red channel, or opaque alpha of a transparent-background
 * mask) repaints, as A1111's masks. */
static float *
mask_plane (const SfImage *image)
{
  gsize pixels = (gsize) image->width * image->height;
  float *plane = g_new (float, pixels);
  gboolean uses_alpha = FALSE;
  for (gsize i = 0; i < pixels && !uses_alpha; i++)
    uses_alpha = image->pixels[i * 4 + 3] != 255;
  for (gsize i = 0; i < pixels; i++)
    {
      const guint8 *p = image->pixels + i * 4;
      plane[i] = (uses_alpha ? p[3] * (p[0] / 255.0f) : p[0]) / 255.0f;
    }
  return plane;
}

static char *
parameters_text (SfSdxl *model, const SfGenerateParams *params, SfSdxl *refiner)
{
  g_autoptr (SfInfotext) info = sf_infotext_new ();
  info->prompt = g_strdup (params->prompt);
  info->negative_prompt = g_strdup (params->negative ? params->negative : "");
  info->steps = params->steps;
  info->sampler = g_strdup (sf_sampler_kind_describe (params->sampler));
  info->scheduler = g_strdup (sf_scheduler_kind_describe (params->scheduler));
  info->cfg_scale = params->cfg;
  info->has_seed = TRUE;
  info->seed = params->seed;
  info->width_px = params->width;
  info->height_px = params->height;
  info->denoising_strength = params->init_image ? params->strength : -1;
  info->model_hash = g_strdup (sf_sdxl_get_hash (model, NULL));
  info->model = g_strdup (sf_sdxl_get_name (model));
  if (refiner)
    {
      /* A1111: "Refiner: name [hash]". */
      info->refiner = g_strdup_printf ("%s [%s]", sf_sdxl_get_name (refiner),
                                       sf_sdxl_get_hash (refiner, NULL));
      info->refiner_switch_at = params->refiner_start;
    }
  return sf_infotext_format_a1111 (info, NULL, NULL);
}

int
sf_cli_generate (int argc, char **argv)
{
  g_autofree char *model_path = NULL, *vae_path = NULL, *prompt = NULL, *negative = NULL;
  g_autofree char *sampler = NULL, *scheduler = NULL, *init_path = NULL, *mask_path = NULL;
  g_autofree char *refiner_path = NULL, *precision = NULL, *weighting = NULL;
  g_autofree char *dump_dir = NULL, *output = NULL;
  int width = 0, height = 0, steps = 30;
  double cfg = 5.0, strength = 0.75, refiner_start = 0.8;
  gint64 seed = -1;
  gboolean low_memory = FALSE;
  GOptionEntry entries[] = {
    { "model", 0, 0, G_OPTION_ARG_FILENAME, &model_path, "SDXL checkpoint (.safetensors or diffusers folder)", "CKPT" },
    { "vae", 0, 0, G_OPTION_ARG_FILENAME, &vae_path, "A separate VAE file", "VAE" },
    { "prompt", 0, 0, G_OPTION_ARG_STRING, &prompt, "The prompt (A1111 weighting syntax)", "TEXT" },
    { "negative", 0, 0, G_OPTION_ARG_STRING, &negative, "The negative prompt", "TEXT" },
    { "width", 0, 0, G_OPTION_ARG_INT, &width, "Width in pixels (multiple of 8; default 1024 or the init image's)", "W" },
    { "height", 0, 0, G_OPTION_ARG_INT, &height, "Height in pixels", "H" },
    { "steps", 0, 0, G_OPTION_ARG_INT, &steps, "Sampling steps (30)", "N" },
    { "cfg", 0, 0, G_OPTION_ARG_DOUBLE, &cfg, "Classifier-free guidance scale (5)", "S" },
    { "sampler", 0, 0, G_OPTION_ARG_STRING, &sampler, "euler, euler_a, dpmpp_2m, dpmpp_2m_sde, ddim, heun", "NAME" },
    { "scheduler", 0, 0, G_OPTION_ARG_STRING, &scheduler, "normal or karras", "NAME" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "Seed (default: random)", "N" },
    { "init", 0, 0, G_OPTION_ARG_FILENAME, &init_path, "Init image for img2img / inpainting (PNG)", "IMG" },
    { "strength", 0, 0, G_OPTION_ARG_DOUBLE, &strength, "Denoising strength with --init (0.75)", "F" },
    { "mask", 0, 0, G_OPTION_ARG_FILENAME, &mask_path, "Inpainting mask (PNG, white repaints)", "MASK" },
    { "refiner", 0, 0, G_OPTION_ARG_FILENAME, &refiner_path, "SDXL refiner checkpoint", "CKPT" },
    { "refiner-start", 0, 0, G_OPTION_ARG_DOUBLE, &refiner_start, "Fraction of the schedule the base runs (0.8)", "F" },
    { "precision", 0, 0, G_OPTION_ARG_STRING, &precision, "fp16 (default) or fp32 weights", "P" },
    { "weighting", 0, 0, G_OPTION_ARG_STRING, &weighting, "a1111 (default) or comfy", "RULE" },
    { "low-memory", 0, 0, G_OPTION_ARG_NONE, &low_memory, "Free each model part after its stage", NULL },
    { "dump", 0, 0, G_OPTION_ARG_FILENAME, &dump_dir, "Write intermediate tensors as .npy", "DIR" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "The PNG to write", "OUT.png" },
    { NULL },
  };
  if (!sf_cli_parse ("generate", "make an image", entries, &argc, &argv))
    return 2;
  if (!model_path || !output)
    return sf_cli_fail ("generate", "--model and --output are required");

  SfGenerateParams params;
  sf_generate_params_init (&params);
  g_autoptr (GError) error = NULL;
  params.prompt = prompt ? prompt : "";
  params.negative = negative;
  params.steps = steps;
  params.cfg = cfg;
  params.strength = strength;
  params.refiner_start = refiner_start;
  params.low_memory = low_memory;
  params.seed = seed >= 0 ? (guint64) seed : (guint64) g_random_int ();
  if ((sampler && !sf_sampler_kind_parse (sampler, &params.sampler, &error))
      || (scheduler && !sf_scheduler_kind_parse (scheduler, &params.scheduler, &error)))
    return sf_cli_fail ("generate", "%s", error->message);
  if (weighting && g_strcmp0 (weighting, "comfy") == 0)
    params.weighting = SF_PROMPT_WEIGHTING_COMFY;
  else if (weighting && g_strcmp0 (weighting, "a1111") != 0)
    return sf_cli_fail ("generate", "--weighting is a1111 or comfy, not \"%s\"", weighting);
  SfPrecision model_precision = SF_PRECISION_FP16;
  if (precision && g_strcmp0 (precision, "fp32") == 0)
    model_precision = SF_PRECISION_FP32;
  else if (precision && g_strcmp0 (precision, "fp16") != 0)
    return sf_cli_fail ("generate", "--precision is fp16 or fp32, not \"%s\"", precision);

  g_autoptr (SfImage) init = NULL, mask = NULL;
  g_autofree float *init_planes = NULL, *mask_values = NULL;
  if (init_path)
    {
      init = sf_png_load (init_path, &error);
      if (!init)
        return sf_cli_fail ("generate", "%s", error->message);
      width = width ? width : init->width;
      height = height ? height : init->height;
      if (init->width != width || init->height != height)
        return sf_cli_fail ("generate", "%s is %d×%d but the image to make is %d×%d",
                            init_path, init->width, init->height, width, height);
      params.init_image = init_planes = sf_rgba_to_planes (init->pixels, init->width, init->height);
    }
  if (mask_path)
    {
      if (!init)
        return sf_cli_fail ("generate", "--mask needs --init");
      mask = sf_png_load (mask_path, &error);
      if (!mask)
        return sf_cli_fail ("generate", "%s", error->message);
      if (mask->width != width || mask->height != height)
        return sf_cli_fail ("generate", "the mask is %d×%d but the image is %d×%d", mask->width,
                            mask->height, width, height);
      params.mask = mask_values = mask_plane (mask);
    }
  params.width = width ? width : 1024;
  params.height = height ? height : 1024;
  if (dump_dir && g_mkdir_with_parents (dump_dir, 0755) != 0)
    return sf_cli_fail ("generate", "cannot create %s: %s", dump_dir, g_strerror (errno));
  params.dump_dir = dump_dir;

  g_autoptr (SfDevice) device = sf_device_open (NULL, &error);
  if (!device)
    return sf_cli_fail ("generate", "%s", error->message);
  g_autoptr (SfSdxl) model = sf_sdxl_open (model_path, vae_path, device, model_precision, &error);
  if (!model)
    return sf_cli_fail ("generate", "%s", error->message);
  g_autoptr (SfSdxl) refiner = NULL;
  if (refiner_path)
    {
      refiner = sf_sdxl_open (refiner_path, NULL, device, model_precision, &error);
      if (!refiner)
        return sf_cli_fail ("generate", "%s", error->message);
      params.refiner = refiner;
    }
  Progress progress = { g_get_monotonic_time (), g_get_monotonic_time () };
  params.progress = print_progress;
  params.progress_data = &progress;
  fprintf (stderr, "%s on %s, seed %" G_GUINT64_FORMAT ", %d×%d, %d steps\n",
           sf_sdxl_get_name (model), sf_device_get_info (device)->name, params.seed,
           params.width, params.height, params.steps);

  g_autofree float *image = g_new (float, 3 * (gsize) params.width * params.height);
  if (!sf_generate (model, &params, image, NULL, &error))
    return sf_cli_fail ("generate", "%s", error->message);
  g_autoptr (GBytes) rgba = sf_planes_to_rgba (image, params.width, params.height);
  g_autofree char *text = parameters_text (model, &params, refiner);
  const char *chunks[] = { "parameters", text, NULL };
  if (!sf_png_save (output, g_bytes_get_data (rgba, NULL), params.width, params.height,
                    params.width * 4, SF_PNG_RGBA, chunks, &error))
    return sf_cli_fail ("generate", "%s", error->message);
  fprintf (stderr, "wrote %s in %.1f s\n", output,
           (g_get_monotonic_time () - progress.started_us) * 1e-6);
  return 0;
}
