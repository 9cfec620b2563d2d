/* Headless access to one part of the model at a time, with .npy files in
 * and out, so any stage can be compared with a reference implementation:
 *
 *   sfumato unet --model M --latent X.npy --timestep T --context C.npy
 *                --pooled P.npy --time-ids T.npy --output EPS.npy
 *   sfumato vae-decode --model M --input Z.npy --output IMAGE.npy
 *   sfumato vae-encode --model M --input IMAGE.npy --output MOMENTS.npy
 *   sfumato encode-prompt --model M --prompt P [--negative N] --output-dir D
 *
 * Arrays are NCHW as diffusers has them: vae-decode takes what
 * vae.decode() takes (latents already divided by the scaling factor) and
 * gives its raw output; vae-encode takes an image in [-1, 1] and gives the
 * posterior's [mean, logvar] along the channels. */
#include "cli.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <stdio.h>

#include "npy.h"
#include "sdxl.h"

typedef struct {
  char *model, *precision;
} ModelOptions;

/* The option parser fills the strings; each command owns them. */
static void
model_options_clear (ModelOptions *options)
{
  g_clear_pointer (&options->model, g_free);
  g_clear_pointer (&options->precision, g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ModelOptions, model_options_clear)

static SfSdxl *
open_model (const char *subcommand, ModelOptions *options, SfDevice **device)
{
  g_autoptr (GError) error = NULL;
  if (!options->model)
    {
      sf_cli_fail (subcommand, "--model is required");
      return NULL;
    }
  *device = sf_device_open (NULL, &error);
  if (!*device)
    {
      sf_cli_fail (subcommand, "%s", error->message);
      return NULL;
    }
  SfPrecision precision = g_strcmp0 (options->precision, "fp16") == 0 ? SF_PRECISION_FP16
                                                                      : SF_PRECISION_FP32;
  SfSdxl *sdxl = sf_sdxl_open (options->model, NULL, *device, precision, &error);
  if (!sdxl)
    sf_cli_fail (subcommand, "%s", error->message);
  return sdxl;
}

static SfNpy *
load (const char *subcommand, const char *what, const char *path, int ndim)
{
  g_autoptr (GError) error = NULL;
  if (!path)
    {
      sf_cli_fail (subcommand, "--%s is required", what);
      return NULL;
    }
  SfNpy *npy = sf_npy_load (path, &error);
  if (!npy)
    sf_cli_fail (subcommand, "%s", error->message);
  else if (npy->is_int || npy->ndim != ndim)
    {
      sf_cli_fail (subcommand, "%s must be a float array with %d dimensions", path, ndim);
      g_clear_pointer (&npy, sf_npy_free);
    }
  return npy;
}

int
sf_cli_unet (int argc, char **argv)
{
  g_auto (ModelOptions) m = { 0 };
  g_autofree char *latent_path = NULL, *context_path = NULL, *pooled_path = NULL;
  g_autofree char *ids_path = NULL, *output = NULL;
  double timestep = -1;
  GOptionEntry entries[] = {
    { "model", 0, 0, G_OPTION_ARG_FILENAME, &m.model, "SDXL checkpoint", "CKPT" },
    { "precision", 0, 0, G_OPTION_ARG_STRING, &m.precision, "fp32 (default) or fp16", "P" },
    { "latent", 0, 0, G_OPTION_ARG_FILENAME, &latent_path, "UNet input [B,C,H,W]", "X.npy" },
    { "timestep", 0, 0, G_OPTION_ARG_DOUBLE, &timestep, "Timestep", "T" },
    { "context", 0, 0, G_OPTION_ARG_FILENAME, &context_path, "Text conditioning [B,T,D]", "C.npy" },
    { "pooled", 0, 0, G_OPTION_ARG_FILENAME, &pooled_path, "Pooled text embedding [B,P]", "P.npy" },
    { "time-ids", 0, 0, G_OPTION_ARG_FILENAME, &ids_path, "Micro-conditioning [B,6] or [B,5]", "T.npy" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Predicted noise [B,C,H,W]", "EPS.npy" },
    { NULL },
  };
  if (!sf_cli_parse ("unet", "run one UNet evaluation", entries, &argc, &argv))
    return 2;
  g_autoptr (SfNpy) latent = load ("unet", "latent", latent_path, 4);
  g_autoptr (SfNpy) context = latent ? load ("unet", "context", context_path, 3) : NULL;
  g_autoptr (SfNpy) pooled = context ? load ("unet", "pooled", pooled_path, 2) : NULL;
  g_autoptr (SfNpy) ids = pooled ? load ("unet", "time-ids", ids_path, 2) : NULL;
  if (!ids)
    return 1;
  if (timestep < 0 || !output)
    return sf_cli_fail ("unet", "--timestep and --output are required");
  int batch = (int) latent->shape[0];
  if (context->shape[0] != batch || pooled->shape[0] != batch || ids->shape[0] != batch)
    return sf_cli_fail ("unet", "the inputs' batch sizes differ");
  g_autoptr (SfDevice) device = NULL;
  g_autoptr (SfSdxl) sdxl = open_model ("unet", &m, &device);
  if (!sdxl)
    return 1;
  g_autoptr (GError) error = NULL;
  SfUnet *unet = sf_sdxl_get_unet (sdxl, &error);
  if (!unet)
    return sf_cli_fail ("unet", "%s", error->message);
  const SfUnetInfo *info = sf_unet_get_info (unet);
  int n_ids = (int) ids->shape[1];
  int id_dim = (int) ((info->adm_channels - pooled->shape[1]) / MAX (n_ids, 1));
  g_autoptr (SfUnetPass) pass = sf_unet_pass_new (unet, batch, (int) latent->shape[2],
                                                  (int) latent->shape[3], (int) context->shape[1],
                                                  n_ids, id_dim, &error);
  if (!pass)
    return sf_cli_fail ("unet", "%s", error->message);
  g_autofree float *timesteps = g_new (float, batch);
  for (int b = 0; b < batch; b++)
    timesteps[b] = (float) timestep;
  int64_t shape[4] = { batch, info->out_channels, latent->shape[2], latent->shape[3] };
  g_autofree float *eps = g_new (float, shape[0] * shape[1] * shape[2] * shape[3]);
  if (!sf_unet_pass_run (pass, latent->f32, timesteps, context->f32, pooled->f32, ids->f32, eps,
                         NULL, &error)
      || !sf_npy_save_f32 (output, eps, 4, shape, &error))
    return sf_cli_fail ("unet", "%s", error->message);
  return 0;
}

static int
vae_command (int argc, char **argv, gboolean decode)
{
  const char *name = decode ? "vae-decode" : "vae-encode";
  g_auto (ModelOptions) m = { 0 };
  g_autofree char *input_path = NULL, *output = NULL;
  int band_rows = 0;
  GOptionEntry entries[] = {
    { "model", 0, 0, G_OPTION_ARG_FILENAME, &m.model, "Checkpoint with a VAE", "CKPT" },
    { "precision", 0, 0, G_OPTION_ARG_STRING, &m.precision, "fp32 (default) or fp16", "P" },
    { "input", 0, 0, G_OPTION_ARG_FILENAME, &input_path, "Input array", "IN.npy" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Output array", "OUT.npy" },
    { "band-rows", 0, 0, G_OPTION_ARG_INT, &band_rows, "Run in bands of at most N rows (default: one pass when it fits)", "N" },
    { NULL },
  };
  if (!sf_cli_parse (name, decode ? "latents to an image" : "an image to latents", entries,
                     &argc, &argv))
    return 2;
  g_autoptr (SfNpy) input = load (name, "input", input_path, 4);
  if (!input)
    return 1;
  if (!output)
    return sf_cli_fail (name, "--output is required");
  g_autoptr (SfDevice) device = NULL;
  g_autoptr (SfSdxl) sdxl = open_model (name, &m, &device);
  if (!sdxl)
    return 1;
  g_autoptr (GError) error = NULL;
  SfVae *vae = sf_sdxl_get_vae (sdxl, &error);
  if (!vae)
    return sf_cli_fail (name, "%s", error->message);
  sf_vae_set_band_rows (vae, band_rows);
  int scale = sf_vae_get_downscale (vae), z = sf_vae_get_latent_channels (vae);
  int64_t h = input->shape[2], w = input->shape[3];
  if (input->shape[0] != 1 || input->shape[1] != (decode ? z : 3))
    return sf_cli_fail (name, "the input must be [1, %d, H, W]", decode ? z : 3);
  int64_t shape[4] = { 1, decode ? 3 : 2 * z, decode ? h * scale : h / scale,
                       decode ? w * scale : w / scale };
  g_autofree float *out = g_new (float, shape[1] * shape[2] * shape[3]);
  gboolean ok = decode ? sf_vae_decode (vae, input->f32, (int) h, (int) w, out, NULL, &error)
                       : sf_vae_encode (vae, input->f32, (int) h, (int) w, out, NULL, &error);
  if (!ok || !sf_npy_save_f32 (output, out, 4, shape, &error))
    return sf_cli_fail (name, "%s", error->message);
  return 0;
}

int
sf_cli_vae_decode (int argc, char **argv)
{
  return vae_command (argc, argv, TRUE);
}

int
sf_cli_vae_encode (int argc, char **argv)
{
  return vae_command (argc, argv, FALSE);
}

int
sf_cli_encode_prompt (int argc, char **argv)
{
  g_auto (ModelOptions) m = { 0 };
  g_autofree char *prompt = NULL, *negative = NULL, *dir = NULL, *weighting = NULL;
  GOptionEntry entries[] = {
    { "model", 0, 0, G_OPTION_ARG_FILENAME, &m.model, "SDXL checkpoint", "CKPT" },
    { "precision", 0, 0, G_OPTION_ARG_STRING, &m.precision, "fp32 (default) or fp16", "P" },
    { "prompt", 0, 0, G_OPTION_ARG_STRING, &prompt, "The prompt", "TEXT" },
    { "negative", 0, 0, G_OPTION_ARG_STRING, &negative, "The negative prompt", "TEXT" },
    { "weighting", 0, 0, G_OPTION_ARG_STRING, &weighting, "a1111 (default) or comfy", "RULE" },
    { "output-dir", 0, 0, G_OPTION_ARG_FILENAME, &dir, "Where the .npy files go", "DIR" },
    { NULL },
  };
  if (!sf_cli_parse ("encode-prompt", "prompt conditioning as .npy files", entries, &argc, &argv))
    return 2;
  if (!dir)
    return sf_cli_fail ("encode-prompt", "--output-dir is required");
  if (g_mkdir_with_parents (dir, 0755) != 0)
    return sf_cli_fail ("encode-prompt", "cannot create %s: %s", dir, g_strerror (errno));
  g_autoptr (SfDevice) device = NULL;
  g_autoptr (SfSdxl) sdxl = open_model ("encode-prompt", &m, &device);
  if (!sdxl)
    return 1;
  g_autoptr (GError) error = NULL;
  g_auto (SfConditioning) c = { 0 };
  SfPromptWeighting rule = g_strcmp0 (weighting, "comfy") == 0 ? SF_PROMPT_WEIGHTING_COMFY
                                                               : SF_PROMPT_WEIGHTING_A1111;
  if (!sf_sdxl_encode_prompt (sdxl, prompt ? prompt : "", negative, rule, &c, NULL, &error))
    return sf_cli_fail ("encode-prompt", "%s", error->message);
  int64_t cond_shape[3] = { 1, c.tokens, c.context_dim };
  int64_t pooled_shape[2] = { 1, c.pooled_dim };
  int64_t ids_shape[2] = { c.windows, 77 };
  struct { const char *name; const float *data; int ndim; const int64_t *shape; } arrays[] = {
    { "cond.npy", c.cond, 3, cond_shape },
    { "uncond.npy", c.uncond, 3, cond_shape },
    { "pooled.npy", c.pooled, 2, pooled_shape },
    { "uncond_pooled.npy", c.uncond_pooled, 2, pooled_shape },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (arrays); i++)
    {
      g_autofree char *path = g_build_filename (dir, arrays[i].name, NULL);
      if (!sf_npy_save_f32 (path, arrays[i].data, arrays[i].ndim, arrays[i].shape, &error))
        return sf_cli_fail ("encode-prompt", "%s", error->message);
    }
  const char *id_names[] = { "tokens_l.npy", "tokens_g.npy" };
  const gint32 *ids[] = { c.ids_l, c.ids_g };
  for (int i = 0; i < 2; i++)
    {
      if (!ids[i])
        continue;
      g_autofree char *path = g_build_filename (dir, id_names[i], NULL);
      if (!sf_npy_save_i32 (path, ids[i], 2, ids_shape, &error))
        return sf_cli_fail ("encode-prompt", "%s", error->message);
    }
  return 0;
}
