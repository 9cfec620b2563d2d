#include "generate.h"

#include <math.h>
#include <string.h>

#include "npy.h"
#include "rng.h"
#include "vk_error.h"

void
sf_generate_params_init (SfGenerateParams *params)
{
  memset (params, 0, sizeof *params);
  params->width = 1024;
  params->height = 1024;
  params->steps = 30;
  params->cfg = 5.0;
  params->sampler = SF_SAMPLER_EULER;
  params->scheduler = SF_SCHEDULER_NORMAL;
  params->strength = 0.75;
  params->refiner_start = 0.8;
  params->aesthetic_score = 6.0;
  params->negative_aesthetic_score = 2.5;
  params->weighting = SF_PROMPT_WEIGHTING_A1111;
}

/* ---- dumps ------------------------------------------------------------- */

static gboolean
dump (const SfGenerateParams *params, const char *name, const float *data, int ndim,
      const int64_t *shape, GError **error)
{
  if (!params->dump_dir)
    return TRUE;
  g_autofree char *path = g_build_filename (params->dump_dir, name, NULL);
  return sf_npy_save_f32 (path, data, ndim, shape, error);
}

static gboolean
dump_ids (const SfGenerateParams *params, const char *name, const gint32 *ids, int windows,
          GError **error)
{
  if (!params->dump_dir || !ids)
    return TRUE;
  g_autofree char *path = g_build_filename (params->dump_dir, name, NULL);
  int64_t shape[2] = { windows, 77 };
  return sf_npy_save_i32 (path, ids, 2, shape, error);
}

/* ---- one model's share of the sampling --------------------------------- */

/* Everything the denoiser needs for one model: the recorded UNet pass and
 * the batch-2 inputs [uncond, cond] (diffusers' CFG order). */
typedef struct {
  SfUnetPass *pass;
  int in_channels, h, w;
  double cfg;
  float *input;        /* [2, in_channels, h, w] */
  float *eps;          /* [2, 4, h, w] */
  float *context;      /* [2, tokens, dim] */
  float *pooled;       /* [2, pooled] */
  float *time_ids;     /* [2, n] */
  const float *mask_latent;     /* 9-channel inpainting: [1, 1, h, w] */
  const float *masked_latents;  /* and [1, 4, h, w] */
  GCancellable *cancellable;
} Denoiser;

static void
denoiser_clear (Denoiser *d)
{
  g_clear_pointer (&d->pass, sf_unet_pass_free);
  g_free (d->input);
  g_free (d->eps);
  g_free (d->context);
  g_free (d->pooled);
  g_free (d->time_ids);
  memset (d, 0, sizeof *d);
}

static gboolean
denoise (gpointer data, const float *model_input, float timestep, float *eps_out, GError **error)
{
  Denoiser *d = data;
  gsize plane = (gsize) d->h * d->w;
  for (int row = 0; row < 2; row++)
    {
      float *dst = d->input + (gsize) row * d->in_channels * plane;
      memcpy (dst, model_input, 4 * plane * sizeof (float));
      if (d->in_channels == 9)
        {
          memcpy (dst + 4 * plane, d->mask_latent, plane * sizeof (float));
          memcpy (dst + 5 * plane, d->masked_latents, 4 * plane * sizeof (float));
        }
    }
  float timesteps[2] = { timestep, timestep };
  if (!sf_unet_pass_run (d->pass, d->input, timesteps, d->context, d->pooled, d->time_ids, d->eps,
                         d->cancellable, error))
    return FALSE;
  const float *uncond = d->eps, *cond = d->eps + 4 * plane;
  for (gsize i = 0; i < 4 * plane; i++)
    eps_out[i] = uncond[i] + (float) d->cfg * (cond[i] - uncond[i]);
  return TRUE;
}

static gboolean
denoiser_init (Denoiser *d, SfSdxl *model, const SfConditioning *c, const SfGenerateParams *params,
               int h, int w, GCancellable *cancellable, GError **error)
{
  memset (d, 0, sizeof *d);
  SfUnet *unet = sf_sdxl_get_unet (model, error);
  if (!unet)
    return FALSE;
  const SfUnetInfo *info = sf_unet_get_info (unet);
  const SfUNetConfig *config = &sf_sdxl_get_config (model)->unet;
  gboolean refiner = sf_sdxl_is_refiner (model);
  int n_ids = refiner ? 5 : 6;
  int id_dim = config->addition_time_embed_dim > 0
                 ? config->addition_time_embed_dim
                 : (info->adm_channels - c->pooled_dim) / n_ids;
  if (c->context_dim != info->context_dim)
    {
      g_set_error (error, SF_VK_ERROR, SF_VK_ERROR_INVALID,
                   "The text encoders give %d channels per token but the UNet of %s takes %d",
                   c->context_dim, sf_sdxl_get_name (model), info->context_dim);
      return FALSE;
    }
  d->pass = sf_unet_pass_new (unet, 2, h, w, c->tokens, n_ids, id_dim, error);
  if (!d->pass)
    return FALSE;
  d->in_channels = info->in_channels;
  d->h = h;
  d->w = w;
  d->cfg = params->cfg;
  d->cancellable = cancellable;
  gsize plane = (gsize) h * w, tokens = (gsize) c->tokens * c->context_dim;
  d->input = g_new (float, 2 * d->in_channels * plane);
  d->eps = g_new (float, 2 * info->out_channels * plane);
  d->context = g_new (float, 2 * tokens);
  memcpy (d->context, c->uncond, tokens * sizeof (float));
  memcpy (d->context + tokens, c->cond, tokens * sizeof (float));
  d->pooled = g_new (float, 2 * c->pooled_dim);
  memcpy (d->pooled, c->uncond_pooled, c->pooled_dim * sizeof (float));
  memcpy (d->pooled + c->pooled_dim, c->pooled, c->pooled_dim * sizeof (float));
  /* Micro-conditioning: original size, crop top-left, then the target size
   * (base) or the aesthetic score (refiner), the same for both rows except
   * the refiner's score. */
  d->time_ids = g_new (float, 2 * n_ids);
  for (int row = 0; row < 2; row++)
    {
      float *ids = d->time_ids + row * n_ids;
      ids[0] = (float) params->height;
      ids[1] = (float) params->width;
      ids[2] = 0.0f;
      ids[3] = 0.0f;
      if (refiner)
        ids[4] = (float) (row == 0 ? params->negative_aesthetic_score : params->aesthetic_score);
      else
        {
          ids[4] = (float) params->height;
          ids[5] = (float) params->width;
        }
    }
  return TRUE;
}

/* ---- the run ----------------------------------------------------------- */

typedef struct {
  const SfGenerateParams *params;
  SfSampler *sampler;
  int done, total;
  int h, w;
  /* 4-channel inpainting: keep the unmasked latents on the original. */
  const float *image_latents;
  const float *noise;
  const float *mask_latent;
  int last_position;
  float *scratch;
} StepState;

static gboolean
on_step (gpointer data, SfSampler *sampler, const SfSamplerStep *step, GError **error)
{
  StepState *state = data;
  gsize plane = (gsize) state->h * state->w;
  if (state->image_latents && state->mask_latent)
    {
      /* diffusers' StableDiffusionXLInpaintPipeline with a 4-channel UNet:
       * latents = (1 − mask) · init_noised + mask · latents, the original
       * noised to the next timestep (or clean after the last step). */
      const float *keep = state->image_latents;
      if (step->position < state->last_position)
        {
          if (!sf_sampler_add_noise (sampler, step->position + 1, state->image_latents,
                                     state->noise, state->scratch, 4 * plane, error))
            return FALSE;
          keep = state->scratch;
        }
      for (int ch = 0; ch < 4; ch++)
        for (gsize i = 0; i < plane; i++)
          {
            float m = state->mask_latent[i];
            float *x = &step->latents[ch * plane + i];
            *x = (1.0f - m) * keep[ch * plane + i] + m * *x;
          }
    }
  state->done++;
  if (state->params->dump_dir)
    {
      g_autofree char *name = g_strdup_printf ("latent_step_%03d.npy", state->done - 1);
      int64_t shape[4] = { 1, 4, state->h, state->w };
      if (!dump (state->params, name, step->latents, 4, shape, error))
        return FALSE;
    }
  if (state->params->progress)
    {
      SfGenerateProgress progress = {
        .step = state->done, .total = state->total,
        .latent_width = state->w, .latent_height = state->h,
        .latent = step->latents, .denoised = step->denoised,
      };
      state->params->progress (&progress, state->params->progress_data);
    }
  return TRUE;
}

/* Nearest-neighbour downsampling of the mask to latent size, binarized as
 * diffusers' mask processor does (≥ 0.5 repaints). */
static float *
mask_to_latent (const float *mask, int height, int width, int h, int w)
{
  float *out = g_new (float, (gsize) h * w);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        int sy = (int) floor ((y + 0.0) * height / h), sx = (int) floor ((x + 0.0) * width / w);
        out[(gsize) y * w + x] = mask[(gsize) sy * width + sx] >= 0.5f ? 1.0f : 0.0f;
      }
  return out;
}

/* VAE posterior sample of @image ([0, 1] planes), as diffusers' pipelines
 * draw it from the shared generator. */
static float *
encode_sample (SfSdxl *model, SfTorchGenerator *generator, const float *image, int height,
               int width, GCancellable *cancellable, GError **error)
{
  SfVae *vae = sf_sdxl_get_vae (model, error);
  if (!vae)
    return NULL;
  int scale = sf_vae_get_downscale (vae), z = sf_vae_get_latent_channels (vae);
  gsize pixels = (gsize) height * width;
  g_autofree float *scaled = g_new (float, 3 * pixels);
  for (gsize i = 0; i < 3 * pixels; i++)
    scaled[i] = image[i] * 2.0f - 1.0f;
  gsize lat = (gsize) (height / scale) * (width / scale);
  g_autofree float *moments = g_new (float, 2 * z * lat);
  if (!sf_vae_encode (vae, scaled, height, width, moments, cancellable, error))
    return NULL;
  float *latents = g_new (float, z * lat);
  sf_latent_dist_sample (generator, moments, 1, (size_t) z, lat,
                         (float) sf_sdxl_get_config (model)->vae.scaling_factor, latents);
  return latents;
}

static gboolean
check_params (SfSdxl *model, const SfGenerateParams *p, GError **error)
{
  const char *problem = NULL;
  if (p->width < 8 || p->height < 8 || p->width % 8 || p->height % 8 || p->width > 8192
      || p->height > 8192)
    problem = "width and height must be multiples of 8 between 8 and 8192";
  else if (p->steps < 1 || p->steps > 500)
    problem = "steps must be between 1 and 500";
  else if (!(p->cfg >= 0 && p->cfg <= 100))
    problem = "the CFG scale must be between 0 and 100";
  else if (p->init_image && !(p->strength > 0 && p->strength <= 1))
    problem = "strength must be above 0 and at most 1";
  else if (p->mask && !p->init_image)
    problem = "a mask needs an init image";
  else if (p->refiner && !(p->refiner_start > 0 && p->refiner_start < 1))
    problem = "the refiner start must be between 0 and 1";
  else if (sf_sdxl_is_refiner (model))
    problem = "this is a refiner model: give it with --refiner and a base model with --model";
  if (!problem)
    return TRUE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "%s", problem);
  return FALSE;
}

gboolean
sf_generate (SfSdxl *model, const SfGenerateParams *params, float *image,
             GCancellable *cancellable, GError **error)
{
  if (!check_params (model, params, error))
    return FALSE;
  int height = params->height, width = params->width;
  int h = height / 8, w = width / 8;
  gsize plane = (gsize) h * w, count = 4 * plane;
  int64_t latent_shape[4] = { 1, 4, h, w };

  /* 1. Conditioning for the base (and, with a refiner, for it). */
  g_auto (SfConditioning) cond = { 0 };
  if (!sf_sdxl_encode_prompt (model, params->prompt, params->negative, params->weighting, &cond,
                              cancellable, error))
    return FALSE;
  int64_t cond_shape[3] = { 1, cond.tokens, cond.context_dim };
  int64_t pooled_shape[2] = { 1, cond.pooled_dim };
  if (!dump_ids (params, "tokens_l.npy", cond.ids_l, cond.windows, error)
      || !dump_ids (params, "tokens_g.npy", cond.ids_g, cond.windows, error)
      || !dump (params, "cond.npy", cond.cond, 3, cond_shape, error)
      || !dump (params, "pooled.npy", cond.pooled, 2, pooled_shape, error)
      || !dump (params, "uncond.npy", cond.uncond, 3, cond_shape, error)
      || !dump (params, "uncond_pooled.npy", cond.uncond_pooled, 2, pooled_shape, error))
    return FALSE;
  g_auto (SfConditioning) refiner_cond = { 0 };
  if (params->refiner
      && !sf_sdxl_encode_prompt (params->refiner, params->prompt, params->negative,
                                 params->weighting, &refiner_cond, cancellable, error))
    return FALSE;
  if (params->low_memory)
    {
      sf_sdxl_release (model, SF_SDXL_TEXT);
      if (params->refiner)
        sf_sdxl_release (params->refiner, SF_SDXL_TEXT);
    }

  /* 2. The schedule and the starting latents, drawing from one generator in
   * diffusers' order. */
  g_autoptr (SfSampler) sampler = sf_sampler_new (params->sampler, params->scheduler, params->steps,
                                                  error);
  if (!sampler)
    return FALSE;
  const SfSchedule *schedule = sf_sampler_get_schedule (sampler);
  g_autoptr (SfTorchGenerator) generator = sf_torch_generator_new (params->seed);
  SfStepRange range = sf_schedule_full_range (schedule);
  if (params->init_image && !(params->mask && params->strength >= 1.0)
      && !sf_schedule_img2img_range (schedule, params->strength, &range, error))
    return FALSE;

  g_autofree float *latents = g_new (float, count);
  g_autofree float *noise = g_new (float, count);
  g_autofree float *image_latents = NULL;
  g_autofree float *mask_latent = NULL;
  g_autofree float *masked_latents = NULL;
  if (params->init_image)
    {
      image_latents = encode_sample (model, generator, params->init_image, height, width,
                                     cancellable, error);
      if (!image_latents)
        return FALSE;
    }
  sf_torch_randn (generator, noise, count);
  if (!dump (params, "noise.npy", noise, 4, latent_shape, error))
    return FALSE;
  if (params->mask)
    {
      mask_latent = mask_to_latent (params->mask, height, width, h, w);
      /* The masked image is encoded (and a sample drawn) even for a
       * 4-channel UNet, which does not use it: the draw moves the
       * generator as diffusers' does. */
      gsize pixels = (gsize) height * width;
      g_autofree float *masked = g_new (float, 3 * pixels);
      for (int ch = 0; ch < 3; ch++)
        for (gsize i = 0; i < pixels; i++)
          masked[ch * pixels + i] = params->mask[i] >= 0.5f ? 0.5f : params->init_image[ch * pixels + i];
      masked_latents = encode_sample (model, generator, masked, height, width, cancellable, error);
      if (!masked_latents)
        return FALSE;
    }
  /* From the image noised to the start of the range (img2img, inpainting
   * below full strength), or pure noise (txt2img; inpainting at strength
   * 1, as diffusers' is_strength_max). */
  gboolean pure_noise = !image_latents || (params->mask && params->strength >= 1.0);
  if (!pure_noise)
    {
      if (!sf_sampler_add_noise (sampler, range.begin, image_latents, noise, latents, count, error))
        return FALSE;
    }
  else
    {
      for (gsize i = 0; i < count; i++)
        latents[i] = noise[i] * (float) schedule->init_noise_sigma;
    }
  if (params->low_memory)
    sf_sdxl_release (model, SF_SDXL_VAE);

  /* 3. Sampling: the base over its range, then the refiner over the rest. */
  SfStepRange base_range = range, refiner_range = { 0, 0 };
  if (params->refiner)
    {
      if (!sf_schedule_denoising_end_range (schedule, range, params->refiner_start, &base_range,
                                            error)
          || !sf_schedule_denoising_start_range (schedule, params->refiner_start, &refiner_range,
                                                 error))
        return FALSE;
    }
  g_autofree float *scratch = g_new (float, count);
  StepState state = {
    .params = params, .sampler = sampler, .h = h, .w = w,
    /* A position in the schedule is one model evaluation (Heun has two per step). */
    .total = (base_range.end - base_range.begin) + (refiner_range.end - refiner_range.begin),
    .scratch = scratch,
  };
  Denoiser d;
  if (!denoiser_init (&d, model, &cond, params, h, w, cancellable, error))
    {
      denoiser_clear (&d);
      return FALSE;
    }
  int64_t ids_shape[2] = { 1, sf_sdxl_is_refiner (model) ? 5 : 6 };
  if (!dump (params, "time_ids.npy", d.time_ids + ids_shape[1], 2, ids_shape, error))
    {
      denoiser_clear (&d);
      return FALSE;
    }
  if (mask_latent)
    {
      if (d.in_channels == 9)
        {
          d.mask_latent = mask_latent;
          d.masked_latents = masked_latents;
        }
      else
        {
          state.image_latents = image_latents;
          state.noise = noise;
          state.mask_latent = mask_latent;
          state.last_position = range.end - 1;
        }
    }
  gboolean ok = sf_sampler_run (sampler, base_range, latents, count, generator, denoise, &d,
                                on_step, &state, cancellable, error);
  denoiser_clear (&d);
  if (ok && params->refiner && refiner_range.end > refiner_range.begin)
    {
      if (params->low_memory)
        sf_sdxl_release (model, SF_SDXL_UNET);
      ok = denoiser_init (&d, params->refiner, &refiner_cond, params, h, w, cancellable, error)
           && sf_sampler_run (sampler, refiner_range, latents, count, generator, denoise, &d,
                              on_step, &state, cancellable, error);
      denoiser_clear (&d);
      if (params->low_memory)
        sf_sdxl_release (params->refiner, SF_SDXL_UNET);
    }
  if (!ok)
    return FALSE;
  if (!dump (params, "latent_final.npy", latents, 4, latent_shape, error))
    return FALSE;
  if (params->low_memory)
    sf_sdxl_release (model, SF_SDXL_UNET);

  /* 4. Decode. */
  SfVae *vae = sf_sdxl_get_vae (model, error);
  if (!vae)
    return FALSE;
  float scaling = (float) sf_sdxl_get_config (model)->vae.scaling_factor;
  for (gsize i = 0; i < count; i++)
    scratch[i] = latents[i] / scaling;
  if (!sf_vae_decode (vae, scratch, h, w, image, cancellable, error))
    return FALSE;
  gsize values = 3 * (gsize) height * width;
  for (gsize i = 0; i < values; i++)
    image[i] = CLAMP (image[i] * 0.5f + 0.5f, 0.0f, 1.0f);
  int64_t image_shape[4] = { 1, 3, height, width };
  return dump (params, "image.npy", image, 4, image_shape, error);
}

void
sf_latent_preview_rgb (const float *latent, int h, int w, guint8 *rgb)
{
  /* Widely used linear approximation of SDXL's VAE decoder per latent
   * pixel (as in ComfyUI's and A1111's "approx" previews). */
  static const float factors[4][3] = {
    { 0.3651f, 0.4232f, 0.4341f },
    { -0.2533f, -0.0042f, 0.1068f },
    { 0.1076f, 0.1111f, -0.0362f },
    { -0.3165f, -0.2492f, -0.2188f },
  };
  static const float bias[3] = { 0.1084f, -0.0175f, -0.0011f };
  gsize plane = (gsize) h * w;
  for (gsize i = 0; i < plane; i++)
    for (int c = 0; c < 3; c++)
      {
        float v = bias[c];
        for (int k = 0; k < 4; k++)
          v += latent[k * plane + i] * factors[k][c];
        rgb[i * 3 + c] = (guint8) CLAMP ((v + 1.0f) * 127.5f, 0.0f, 255.0f);
      }
}

float *
sf_rgba_to_planes (const guint8 *rgba, int width, int height)
{
  gsize pixels = (gsize) width * height;
  float *planes = g_new (float, 3 * pixels);
  for (gsize i = 0; i < pixels; i++)
    for (int c = 0; c < 3; c++)
      planes[c * pixels + i] = rgba[i * 4 + c] / 255.0f;
  return planes;
}

GBytes *
sf_planes_to_rgba (const float *planes, int width, int height)
{
  gsize pixels = (gsize) width * height;
  guint8 *rgba = g_malloc (pixels * 4);
  for (gsize i = 0; i < pixels; i++)
    {
      for (int c = 0; c < 3; c++)
        rgba[i * 4 + c] = (guint8) (CLAMP (planes[c * pixels + i], 0.0f, 1.0f) * 255.0f + 0.5f);
      rgba[i * 4 + 3] = 255;
    }
  return g_bytes_new_take (rgba, pixels * 4);
}
