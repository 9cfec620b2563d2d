/* Sampling steps written from diffusers v0.25.0's scheduler step()
 * functions (scheduling_euler_discrete.py, scheduling_euler_ancestral_
 * discrete.py, scheduling_dpmsolver_multistep.py, scheduling_ddim.py,
 * scheduling_heun_discrete.py). diffusers computes the per-step scalars as
 * 0-dim float32 tensors and the updates as float32 tensor ops; this file
 * keeps the same operations in the same order in float (and is compiled
 * with -ffp-contract=off), so trajectories agree to ~1e-7. */
#include "sampler.h"

#include <math.h>
#include <string.h>

/* ---- names ---------------------------------------------------------- */

static const struct {
  const char *name;
  const char *label;
} sampler_names[SF_SAMPLER_KIND_COUNT] = {
  [SF_SAMPLER_EULER] = { "euler", "Euler" },
  [SF_SAMPLER_EULER_A] = { "euler_a", "Euler a" },
  [SF_SAMPLER_DPMPP_2M] = { "dpmpp_2m", "DPM++ 2M" },
  [SF_SAMPLER_DPMPP_2M_SDE] = { "dpmpp_2m_sde", "DPM++ 2M SDE" },
  [SF_SAMPLER_DDIM] = { "ddim", "DDIM" },
  [SF_SAMPLER_HEUN] = { "heun", "Heun" },
};

static const struct {
  const char *name;
  const char *label;
} scheduler_names[SF_SCHEDULER_KIND_COUNT] = {
  [SF_SCHEDULER_NORMAL] = { "normal", "Automatic" },
  [SF_SCHEDULER_KARRAS] = { "karras", "Karras" },
};

gboolean
sf_sampler_kind_parse (const char *name, SfSamplerKind *kind, GError **error)
{
  for (int i = 0; name && i < SF_SAMPLER_KIND_COUNT; i++)
    if (g_str_equal (name, sampler_names[i].name) || g_str_equal (name, sampler_names[i].label))
      {
        *kind = (SfSamplerKind) i;
        return TRUE;
      }
  if (name && g_str_equal (name, "euler_ancestral")) /* ComfyUI's own spelling */
    {
      *kind = SF_SAMPLER_EULER_A;
      return TRUE;
    }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
               "Unknown sampler “%s”; choose euler, euler_a, dpmpp_2m, dpmpp_2m_sde, ddim or heun",
               name ? name : "(null)");
  return FALSE;
}

const char *
sf_sampler_kind_name (SfSamplerKind kind)
{
  g_return_val_if_fail ((int) kind >= 0 && kind < SF_SAMPLER_KIND_COUNT, NULL);
  return sampler_names[kind].name;
}

const char *
sf_sampler_kind_describe (SfSamplerKind kind)
{
  g_return_val_if_fail ((int) kind >= 0 && kind < SF_SAMPLER_KIND_COUNT, NULL);
  return sampler_names[kind].label;
}

gboolean
sf_scheduler_kind_parse (const char *name, SfSchedulerKind *kind, GError **error)
{
  for (int i = 0; name && i < SF_SCHEDULER_KIND_COUNT; i++)
    if (g_str_equal (name, scheduler_names[i].name) || g_str_equal (name, scheduler_names[i].label))
      {
        *kind = (SfSchedulerKind) i;
        return TRUE;
      }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
               "Unknown scheduler “%s”; choose normal or karras", name ? name : "(null)");
  return FALSE;
}

const char *
sf_scheduler_kind_name (SfSchedulerKind kind)
{
  g_return_val_if_fail ((int) kind >= 0 && kind < SF_SCHEDULER_KIND_COUNT, NULL);
  return scheduler_names[kind].name;
}

const char *
sf_scheduler_kind_describe (SfSchedulerKind kind)
{
  g_return_val_if_fail ((int) kind >= 0 && kind < SF_SCHEDULER_KIND_COUNT, NULL);
  return scheduler_names[kind].label;
}

/* ---- state ------------------------------------------------------------ */

struct SfSampler {
  SfSchedule *schedule;

  /* The scheduler's state after set_timesteps, advanced by step(). */
  int step_index;        /* -1: not yet set (diffusers' None) */
  int steps_done;
  int *step_counts;      /* heun's _index_counter, by first position of a value */

  /* Work buffers, sized for the run's element count. */
  size_t count;
  float *model_input, *eps, *denoised, *noise;
  float *previous_output; /* dpmpp: model_outputs[-2] */
  int lower_order_nums;
  float *derivative, *first_sample; /* heun: between its two evaluations */
  float dt;
  gboolean heun_second;
};

SfSampler *
sf_sampler_new (SfSamplerKind kind, SfSchedulerKind scheduler, int steps, GError **error)
{
  SfSchedule *schedule = sf_schedule_new (kind, scheduler, steps, error);
  if (!schedule)
    return NULL;
  SfSampler *sampler = g_new0 (SfSampler, 1);
  sampler->schedule = schedule;
  sampler->step_index = -1;
  sampler->step_counts = g_new0 (int, schedule->length);
  return sampler;
}

static void
free_buffers (SfSampler *s)
{
  g_clear_pointer (&s->model_input, g_free);
  g_clear_pointer (&s->eps, g_free);
  g_clear_pointer (&s->denoised, g_free);
  g_clear_pointer (&s->noise, g_free);
  g_clear_pointer (&s->previous_output, g_free);
  g_clear_pointer (&s->derivative, g_free);
  g_clear_pointer (&s->first_sample, g_free);
  s->count = 0;
}

void
sf_sampler_free (SfSampler *sampler)
{
  if (!sampler)
    return;
  free_buffers (sampler);
  g_free (sampler->step_counts);
  sf_schedule_free (sampler->schedule);
  g_free (sampler);
}

const SfSchedule *
sf_sampler_get_schedule (const SfSampler *sampler)
{
  return sampler->schedule;
}

/* set_timesteps again: what a new pipeline call does. */
static void
reset_state (SfSampler *s)
{
  s->step_index = -1;
  s->steps_done = 0;
  memset (s->step_counts, 0, sizeof (int) * s->schedule->length);
  s->lower_order_nums = 0;
  s->heun_second = FALSE;
  s->dt = 0.0f;
}

static void
ensure_buffers (SfSampler *s, size_t count)
{
  if (s->count == count)
    return;
  free_buffers (s);
  s->count = count;
  s->model_input = g_new (float, count);
  s->eps = g_new (float, count);
  s->denoised = g_new (float, count);
  s->noise = g_new (float, count);
  if (s->schedule->sampler == SF_SAMPLER_DPMPP_2M || s->schedule->sampler == SF_SAMPLER_DPMPP_2M_SDE)
    s->previous_output = g_new (float, count);
  if (s->schedule->sampler == SF_SAMPLER_HEUN)
    {
      s->derivative = g_new (float, count);
      s->first_sample = g_new (float, count);
    }
}

/* ---- the steps ---------------------------------------------------------- */

/* EulerDiscreteScheduler.step with s_churn = 0: gamma = 0, sigma_hat = sigma. */
static void
step_euler (SfSampler *s, float *x, size_t n)
{
  const float *sig = s->schedule->sigmas;
  float sigma_hat = sig[s->step_index];
  float dt = sig[s->step_index + 1] - sigma_hat;
  for (size_t i = 0; i < n; i++)
    {
      float pred = x[i] - sigma_hat * s->eps[i];
      float derivative = (x[i] - pred) / sigma_hat;
      s->denoised[i] = pred;
      x[i] = x[i] + derivative * dt;
    }
}

/* EulerAncestralDiscreteScheduler.step. */
static void
step_euler_ancestral (SfSampler *s, float *x, size_t n, SfTorchGenerator *gen)
{
  const float *sig = s->schedule->sigmas;
  float sigma = sig[s->step_index];
  float sigma_to = sig[s->step_index + 1];
  float from2 = sigma * sigma, to2 = sigma_to * sigma_to;
  float sigma_up = sqrtf (to2 * (from2 - to2) / from2);
  float sigma_down = sqrtf (to2 - sigma_up * sigma_up);
  float dt = sigma_down - sigma;
  for (size_t i = 0; i < n; i++)
    {
      float pred = x[i] - sigma * s->eps[i];
      float derivative = (x[i] - pred) / sigma;
      s->denoised[i] = pred;
      x[i] = x[i] + derivative * dt;
    }
  sf_torch_randn (gen, s->noise, n);
  for (size_t i = 0; i < n; i++)
    x[i] = x[i] + s->noise[i] * sigma_up;
}

/* DPMSolverMultistepScheduler._sigma_to_alpha_sigma_t and its lambda. */
typedef struct {
  float alpha, sigma, lambda;
} DpmPoint;

static DpmPoint
dpm_point (float sigma)
{
  DpmPoint p;
  p.alpha = 1.0f / sqrtf (sigma * sigma + 1.0f);
  p.sigma = sigma * p.alpha;
  p.lambda = logf (p.alpha) - logf (p.sigma);
  return p;
}

/* DPMSolverMultistepScheduler.step: convert_model_output to x0, then the
 * first-order update (the first step, and the last one when there are
 * fewer than 15) or the second-order midpoint update. */
static void
step_dpm (SfSampler *s, float *x, size_t n, SfTorchGenerator *gen, gboolean sde)
{
  const SfSchedule *sch = s->schedule;
  const float *sig = sch->sigmas;
  int si = s->step_index;

  DpmPoint s0 = dpm_point (sig[si]);
  for (size_t i = 0; i < n; i++)
    s->denoised[i] = (x[i] - s0.sigma * s->eps[i]) / s0.alpha;

  gboolean lower_order_final = si == sch->length - 1 && sch->length < 15;
  if (sde)
    sf_torch_randn (gen, s->noise, n);

  DpmPoint t = dpm_point (sig[si + 1]);
  float h = t.lambda - s0.lambda;
  const float *m0 = s->denoised, *m1 = s->previous_output, *z = s->noise;

  if (s->lower_order_nums < 1 || lower_order_final)
    {
      if (!sde)
        {
          float a = t.sigma / s0.sigma;
          float b = t.alpha * (expf (-h) - 1.0f);
          for (size_t i = 0; i < n; i++)
            x[i] = a * x[i] - b * m0[i];
        }
      else
        {
          float a = t.sigma / s0.sigma * expf (-h);
          float b = t.alpha * (1.0f - expf (-2.0f * h));
          float c = t.sigma * sqrtf (1.0f - expf (-2.0f * h));
          for (size_t i = 0; i < n; i++)
            x[i] = (a * x[i] + b * m0[i]) + c * z[i];
        }
    }
  else
    {
      DpmPoint s1 = dpm_point (sig[si - 1]);
      float h0 = s0.lambda - s1.lambda;
      float r0 = h0 / h;
      float d1_scale = 1.0f / r0;
      if (!sde)
        {
          float a = t.sigma / s0.sigma;
          float b = t.alpha * (expf (-h) - 1.0f);
          float half_b = 0.5f * b;
          for (size_t i = 0; i < n; i++)
            {
              float d1 = d1_scale * (m0[i] - m1[i]);
              x[i] = (a * x[i] - b * m0[i]) - half_b * d1;
            }
        }
      else
        {
          float a = t.sigma / s0.sigma * expf (-h);
          float b = t.alpha * (1.0f - expf (-2.0f * h));
          float half_b = 0.5f * b;
          float c = t.sigma * sqrtf (1.0f - expf (-2.0f * h));
          for (size_t i = 0; i < n; i++)
            {
              float d1 = d1_scale * (m0[i] - m1[i]);
              x[i] = ((a * x[i] + b * m0[i]) + half_b * d1) + c * z[i];
            }
        }
    }
  memcpy (s->previous_output, s->denoised, n * sizeof (float));
  if (s->lower_order_nums < 2)
    s->lower_order_nums++;
}

/* DDIMScheduler.step with eta = 0 (the pipelines' default): no noise. */
static void
step_ddim (SfSampler *s, int position, float *x, size_t n)
{
  const SfSchedule *sch = s->schedule;
  int t = (int) sch->timesteps[position];
  int prev_t = t - SF_SCHEDULE_TRAIN_STEPS / sch->steps;
  float alpha_t = sch->alphas_cumprod[t];
  /* set_alpha_to_one is false in SDXL's config: ᾱ_0 past the end. */
  float alpha_prev = prev_t >= 0 ? sch->alphas_cumprod[prev_t] : sch->alphas_cumprod[0];
  float beta_t = 1.0f - alpha_t;
  float sqrt_beta_t = sqrtf (beta_t), sqrt_alpha_t = sqrtf (alpha_t);
  float sqrt_alpha_prev = sqrtf (alpha_prev);
  float direction = sqrtf (1.0f - alpha_prev - 0.0f); /* std_dev_t = 0 */
  for (size_t i = 0; i < n; i++)
    {
      float pred = (x[i] - sqrt_beta_t * s->eps[i]) / sqrt_alpha_t;
      s->denoised[i] = pred;
      x[i] = sqrt_alpha_prev * pred + direction * s->eps[i];
    }
}

/* HeunDiscreteScheduler.step: an Euler step, then (at the repeated
 * timestep) the average of both derivatives from the first sample. */
static void
step_heun (SfSampler *s, float *x, size_t n)
{
  const float *sig = s->schedule->sigmas;
  int si = s->step_index;
  if (!s->heun_second)
    {
      float sigma_hat = sig[si];
      float dt = sig[si + 1] - sigma_hat;
      for (size_t i = 0; i < n; i++)
        {
          float pred = x[i] - sigma_hat * s->eps[i];
          float derivative = (x[i] - pred) / sigma_hat;
          s->denoised[i] = pred;
          s->derivative[i] = derivative;
          s->first_sample[i] = x[i];
          x[i] = x[i] + derivative * dt;
        }
      s->dt = dt;
      s->heun_second = TRUE;
    }
  else
    {
      float sigma_next = sig[si];
      for (size_t i = 0; i < n; i++)
        {
          float pred = x[i] - sigma_next * s->eps[i];
          float derivative = (x[i] - pred) / sigma_next;
          derivative = (s->derivative[i] + derivative) / 2.0f;
          s->denoised[i] = pred;
          x[i] = s->first_sample[i] + derivative * s->dt;
        }
      s->heun_second = FALSE;
    }
}

/* scale_model_input: x / √(σ² + 1) for the sigma-space schedulers. */
static const float *
scale_model_input (SfSampler *s, const float *x, size_t n)
{
  SfSamplerKind kind = s->schedule->sampler;
  if (kind == SF_SAMPLER_DPMPP_2M || kind == SF_SAMPLER_DPMPP_2M_SDE || kind == SF_SAMPLER_DDIM)
    return x;
  float sigma = s->schedule->sigmas[s->step_index];
  float scale = sqrtf (sigma * sigma + 1.0f);
  for (size_t i = 0; i < n; i++)
    s->model_input[i] = x[i] / scale;
  return s->model_input;
}

/* Heun's _index_counter is keyed by timestep value: count by the first
 * position holding the value. */
static int
first_position_of (const SfSchedule *sch, double value)
{
  for (int i = 0; i < sch->length; i++)
    if (sch->timesteps[i] == value)
      return i;
  return -1;
}

void
sf_sampler_prepare_txt2img_latents (SfSampler *sampler, SfTorchGenerator *generator,
                                    float *latents, size_t count)
{
  sf_torch_randn (generator, latents, count);
  float scale = sampler->schedule->init_noise_sigma;
  for (size_t i = 0; i < count; i++)
    latents[i] = latents[i] * scale;
}

gboolean
sf_sampler_run (SfSampler *s, SfStepRange range, float *latents, size_t count,
                SfTorchGenerator *generator, SfDenoiser denoiser, gpointer denoiser_data,
                SfStepCallback callback, gpointer callback_data, GCancellable *cancellable,
                GError **error)
{
  const SfSchedule *sch = s->schedule;
  SfSamplerKind kind = sch->sampler;
  if (range.begin < 0 || range.end > sch->length || range.begin > range.end)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "Cannot run steps %d to %d of a %d-step schedule", range.begin, range.end,
                   sch->length);
      return FALSE;
    }
  if (count == 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           "Cannot sample an empty latent");
      return FALSE;
    }
  if (!generator && (kind == SF_SAMPLER_EULER_A || kind == SF_SAMPLER_DPMPP_2M_SDE))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "The %s sampler adds noise every step and needs a generator",
                   sf_sampler_kind_name (kind));
      return FALSE;
    }

  reset_state (s);
  ensure_buffers (s, count);
  int total = range.end - range.begin;
  for (int position = range.begin; position < range.end; position++)
    {
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      if (s->step_index < 0)
        s->step_index = sf_schedule_lookup_index (sch, position);
      if (kind != SF_SAMPLER_DDIM && s->step_index >= sch->length)
        {
          /* Only diffusers' Heun hand-off quirks could get here. */
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                       "The %s schedule ran out of sigmas at step %d",
                       sf_sampler_kind_name (kind), position);
          return FALSE;
        }
      float timestep = (float) sch->timesteps[position];
      const float *input = scale_model_input (s, latents, count);
      if (!denoiser (denoiser_data, input, timestep, s->eps, error))
        return FALSE;

      switch (kind)
        {
        case SF_SAMPLER_EULER:
          if (generator) /* the draw EulerDiscreteScheduler.step makes and ignores */
            sf_torch_randn (generator, s->noise, count);
          step_euler (s, latents, count);
          break;
        case SF_SAMPLER_EULER_A:
          step_euler_ancestral (s, latents, count, generator);
          break;
        case SF_SAMPLER_DPMPP_2M:
          step_dpm (s, latents, count, generator, FALSE);
          break;
        case SF_SAMPLER_DPMPP_2M_SDE:
          step_dpm (s, latents, count, generator, TRUE);
          break;
        case SF_SAMPLER_DDIM:
          step_ddim (s, position, latents, count);
          break;
        case SF_SAMPLER_HEUN:
          step_heun (s, latents, count);
          break;
        }
      s->step_counts[first_position_of (sch, sch->timesteps[position])]++;
      s->steps_done++;
      s->step_index++;

      if (callback)
        {
          SfSamplerStep info = {
            .step = position - range.begin,
            .total = total,
            .position = position,
            .timestep = timestep,
            .latents = latents,
            .denoised = s->denoised,
            .count = count,
          };
          if (!callback (callback_data, s, &info, error))
            return FALSE;
        }
    }
  return TRUE;
}

/* The sigma index add_noise looks up for the value at @position. */
static int
add_noise_index (const SfSampler *s, int position, GError **error)
{
  const SfSchedule *sch = s->schedule;
  double value = sch->timesteps[position];
  int matches = 0;
  for (int i = 0; i < sch->length; i++)
    matches += sch->timesteps[i] == value;

  switch (sch->sampler)
    {
    case SF_SAMPLER_EULER:
    case SF_SAMPLER_EULER_A:
      /* (schedule_timesteps == t).nonzero ().item (): exactly one match. */
      if (matches != 1)
        break;
      return first_position_of (sch, value);
    case SF_SAMPLER_HEUN:
      {
        /* index_for_timestep: before any step the second of a pair,
         * afterwards the entry after as many as were stepped at. */
        int pos = s->steps_done == 0 ? (matches > 1 ? 1 : 0)
                                     : s->step_counts[first_position_of (sch, value)];
        if (pos >= matches)
          break;
        return first_position_of (sch, value) + pos;
      }
    case SF_SAMPLER_DPMPP_2M:
    case SF_SAMPLER_DPMPP_2M_SDE:
    case SF_SAMPLER_DDIM:
      return sf_schedule_lookup_index (sch, position);
    }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
               "The %s scheduler cannot add noise at timestep %g now (diffusers fails here too)",
               sf_sampler_kind_name (sch->sampler), value);
  return -1;
}

gboolean
sf_sampler_add_noise (SfSampler *s, int position, const float *original, const float *noise,
                      float *out, size_t count, GError **error)
{
  const SfSchedule *sch = s->schedule;
  if (position < 0 || position >= sch->length)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "Cannot add noise at step %d of a %d-step schedule", position, sch->length);
      return FALSE;
    }
  int index = add_noise_index (s, position, error);
  if (index < 0)
    return FALSE;

  switch (sch->sampler)
    {
    case SF_SAMPLER_EULER:
    case SF_SAMPLER_EULER_A:
    case SF_SAMPLER_HEUN:
      {
        float sigma = sch->sigmas[index];
        for (size_t i = 0; i < count; i++)
          out[i] = original[i] + noise[i] * sigma;
        break;
      }
    case SF_SAMPLER_DPMPP_2M:
    case SF_SAMPLER_DPMPP_2M_SDE:
      {
        DpmPoint p = dpm_point (sch->sigmas[index]);
        for (size_t i = 0; i < count; i++)
          out[i] = p.alpha * original[i] + p.sigma * noise[i];
        break;
      }
    case SF_SAMPLER_DDIM:
      {
        float alpha = sch->alphas_cumprod[(int) sch->timesteps[position]];
        float a = sqrtf (alpha), b = sqrtf (1.0f - alpha);
        for (size_t i = 0; i < count; i++)
          out[i] = a * original[i] + b * noise[i];
        break;
      }
    }
  return TRUE;
}

void
sf_latent_dist_sample (SfTorchGenerator *generator, const float *moments, size_t batch,
                       size_t channels, size_t pixels, float scaling_factor, float *out)
{
  size_t plane = channels * pixels;
  sf_torch_randn (generator, out, batch * plane);
  for (size_t b = 0; b < batch; b++)
    {
      const float *mean = moments + b * 2 * plane;
      const float *logvar = mean + plane;
      float *o = out + b * plane;
      for (size_t i = 0; i < plane; i++)
        {
          float lv = fminf (fmaxf (logvar[i], -30.0f), 20.0f);
          float std = expf (0.5f * lv);
          o[i] = scaling_factor * (mean[i] + std * o[i]);
        }
    }
}
