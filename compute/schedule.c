/* diffusers' set_timesteps for SDXL's scheduler config, written from
 * diffusers v0.25.0 (schedulers/scheduling_*.py) and checked against it
 * (tests/data/sampler/schedules.json). Where diffusers computes in float32
 * torch tensors, so does this file, in the same order; where it computes
 * in float64 NumPy, double. */
#include "schedule.h"

#include <gio/gio.h>
#include <math.h>

#define TRAIN SF_SCHEDULE_TRAIN_STEPS

static const double BETA_START = 0.00085;
static const double BETA_END = 0.012;
static const int STEPS_OFFSET = 1;

/* torch.linspace (start, end, TRAIN, dtype=float32) as torch 1.13's CPU
 * kernel computes it: each 8-wide vector starts from a fused
 * start + step·i (or end − step·(n−1−i) past the halfway point) and adds
 * k·step rounded; the tail past the last 16-element chunk is scalar. */
static void
torch_linspace_f32 (float start, float end, float *out)
{
  const int n = TRAIN;
  const float step = (end - start) / (float) (n - 1);
  const int halfway = n / 2;
  int i = 0;
  for (; i + 16 <= n; i += 16)
    for (int v = i; v < i + 16; v += 8)
      {
        float base = v < halfway ? fmaf (step, (float) v, start)
                                 : fmaf (-step, (float) (n - v - 1), end);
        for (int k = 0; k < 8; k++)
          out[v + k] = base + (float) k * step;
      }
  for (; i < n; i++)
    out[i] = i < halfway ? fmaf (step, (float) i, start) : fmaf (-step, (float) (n - i - 1), end);
}

/* betas = linspace (√0.00085, √0.012, 1000)², alphas_cumprod by
 * torch.cumprod, which accumulates in double and rounds each output. */
static void
compute_alphas_cumprod (float *alphas_cumprod)
{
  float root_betas[TRAIN];
  torch_linspace_f32 ((float) sqrt (BETA_START), (float) sqrt (BETA_END), root_betas);
  double product = 1.0;
  for (int t = 0; t < TRAIN; t++)
    {
      float beta = root_betas[t] * root_betas[t];
      float alpha = 1.0f - beta;
      product *= (double) alpha;
      alphas_cumprod[t] = (float) product;
    }
}

/* ((1 - alphas_cumprod) / alphas_cumprod) ** 0.5 in float32. */
static void
compute_train_sigmas (const float *alphas_cumprod, float *sigmas)
{
  for (int t = 0; t < TRAIN; t++)
    sigmas[t] = sqrtf ((1.0f - alphas_cumprod[t]) / alphas_cumprod[t]);
}

/* _sigma_to_t: the fractional training timestep whose log-sigma, linearly
 * interpolated, is log (@sigma). diffusers takes np.log of the float32
 * sigmas; NumPy's float32 log is not correctly rounded on every CPU (on
 * this machine 190 of the 1000 values differ by 1-2 ulp), so the
 * correctly rounded value is used here. Timesteps then agree with
 * diffusers to ~4e-7 relative. */
static double
sigma_to_t (double sigma, const float *log_sigmas)
{
  double log_sigma = log (fmax (sigma, 1e-10));
  int low = 0;
  for (int t = 0; t < TRAIN; t++)
    if (log_sigma - (double) log_sigmas[t] >= 0)
      low = t;
  if (low > TRAIN - 2)
    low = TRAIN - 2;
  double lo = log_sigmas[low], hi = log_sigmas[low + 1];
  double w = (lo - log_sigma) / (lo - hi);
  w = fmin (fmax (w, 0.0), 1.0);
  return (1.0 - w) * low + w * (low + 1);
}

/* _convert_to_karras: rho = 7 between @sigma_max and @sigma_min (double). */
static void
karras_sigmas (double sigma_min, double sigma_max, int steps, double *out)
{
  const double rho = 7.0;
  double min_inv_rho = pow (sigma_min, 1.0 / rho);
  double max_inv_rho = pow (sigma_max, 1.0 / rho);
  for (int i = 0; i < steps; i++)
    {
      /* np.linspace (0, 1, steps): i * (1 / (steps - 1)), the last exactly 1. */
      double ramp = steps == 1 ? 0.0 : (i == steps - 1 ? 1.0 : i * (1.0 / (steps - 1)));
      out[i] = pow (max_inv_rho + ramp * (min_inv_rho - max_inv_rho), rho);
    }
}

/* "leading" spacing: (arange (steps) · ratio) reversed, plus steps_offset. */
static double
leading_timestep (int steps, int ratio, int i)
{
  return (double) ((steps - 1 - i) * ratio + STEPS_OFFSET);
}

/* EulerDiscrete, EulerAncestral and Heun before Heun repeats entries:
 * @steps timesteps and @steps sigmas (the trailing 0 is added later). */
static void
euler_family_schedule (const SfSchedule *s, const float *train_sigmas, gboolean karras,
                       gboolean timesteps_float32, double *timesteps, float *sigmas)
{
  int ratio = TRAIN / s->steps;
  for (int i = 0; i < s->steps; i++)
    {
      timesteps[i] = leading_timestep (s->steps, ratio, i);
      /* np.interp at integer timesteps returns the table entries. */
      sigmas[i] = train_sigmas[(int) timesteps[i]];
    }
  if (!karras)
    return;

  float log_sigmas[TRAIN];
  for (int t = 0; t < TRAIN; t++)
    log_sigmas[t] = (float) log ((double) train_sigmas[t]);
  g_autofree double *k = g_new (double, s->steps);
  karras_sigmas (sigmas[s->steps - 1], sigmas[0], s->steps, k);
  for (int i = 0; i < s->steps; i++)
    {
      double t = sigma_to_t (k[i], log_sigmas);
      timesteps[i] = timesteps_float32 ? (double) (float) t : t;
      sigmas[i] = (float) k[i];
    }
}

static void
dpm_schedule (SfSchedule *s, const float *train_sigmas, gboolean karras)
{
  s->length = s->steps;
  s->timesteps = g_new (double, s->length);
  s->sigmas = g_new (float, s->length + 1);
  if (!karras)
    {
      /* last_timestep is 1000 (lambda_min_clipped = -inf), and "leading"
       * spaces steps + 1 points by 1000 // (steps + 1), dropping 0. */
      int ratio = TRAIN / (s->steps + 1);
      for (int i = 0; i < s->steps; i++)
        {
          int t = (s->steps - i) * ratio + STEPS_OFFSET;
          s->timesteps[i] = t;
          s->sigmas[i] = train_sigmas[t];
        }
      s->sigmas[s->steps] = train_sigmas[0]; /* sigma_last: σ at t = 0 */
      return;
    }
  float log_sigmas[TRAIN];
  for (int t = 0; t < TRAIN; t++)
    log_sigmas[t] = (float) log ((double) train_sigmas[t]);
  g_autofree double *k = g_new (double, s->steps);
  karras_sigmas (train_sigmas[0], train_sigmas[TRAIN - 1], s->steps, k);
  for (int i = 0; i < s->steps; i++)
    {
      /* .round() is NumPy's: halves to even, as nearbyint. */
      s->timesteps[i] = nearbyint (sigma_to_t (k[i], log_sigmas));
      s->sigmas[i] = (float) k[i];
    }
  s->sigmas[s->steps] = s->sigmas[s->steps - 1];
}

static float
max_sigma_init (const SfSchedule *s)
{
  float max = 0.0f;
  for (int i = 0; i <= s->length; i++)
    max = fmaxf (max, s->sigmas[i]);
  /* "leading" spacing: (max² + 1) ** 0.5, in float32. */
  return sqrtf (max * max + 1.0f);
}

SfSchedule *
sf_schedule_new (SfSamplerKind sampler, SfSchedulerKind scheduler, int steps, GError **error)
{
  if ((int) sampler < 0 || sampler >= SF_SAMPLER_KIND_COUNT || (int) scheduler < 0
      || scheduler >= SF_SCHEDULER_KIND_COUNT)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "Unknown sampler (%d) or scheduler (%d)", (int) sampler, (int) scheduler);
      return NULL;
    }
  if (steps < 1 || steps > SF_SCHEDULE_MAX_STEPS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "Cannot sample with %d steps: the number of steps must be 1 to %d", steps,
                   SF_SCHEDULE_MAX_STEPS);
      return NULL;
    }
  gboolean karras = scheduler == SF_SCHEDULER_KARRAS;
  if (sampler == SF_SAMPLER_DDIM && karras)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                           "The ddim sampler has no karras schedule (diffusers' DDIMScheduler "
                           "has none); use the normal scheduler");
      return NULL;
    }

  g_autoptr (SfSchedule) s = g_new0 (SfSchedule, 1);
  s->sampler = sampler;
  s->scheduler = scheduler;
  s->steps = steps;
  s->order = sampler == SF_SAMPLER_HEUN ? 2 : 1;
  compute_alphas_cumprod (s->alphas_cumprod);
  float train_sigmas[TRAIN];
  compute_train_sigmas (s->alphas_cumprod, train_sigmas);

  switch (sampler)
    {
    case SF_SAMPLER_EULER:
    case SF_SAMPLER_EULER_A:
      s->length = steps;
      s->timesteps = g_new (double, steps);
      s->sigmas = g_new (float, steps + 1);
      euler_family_schedule (s, train_sigmas, karras, TRUE, s->timesteps, s->sigmas);
      s->sigmas[steps] = 0.0f;
      s->init_noise_sigma = max_sigma_init (s);
      break;

    case SF_SAMPLER_HEUN:
      {
        g_autofree double *t = g_new (double, steps);
        g_autofree float *sigma = g_new (float, steps);
        /* Karras timesteps stay float64 in HeunDiscreteScheduler. */
        euler_family_schedule (s, train_sigmas, karras, !karras, t, sigma);
        s->length = 2 * steps - 1;
        s->timesteps = g_new (double, s->length);
        s->sigmas = g_new (float, s->length + 1);
        /* [t0, t1, t1, ..., tn-1, tn-1] and [s0, s1, s1, ..., sn-1, sn-1, 0] */
        s->timesteps[0] = t[0];
        s->sigmas[0] = sigma[0];
        for (int i = 1; i < steps; i++)
          {
            s->timesteps[2 * i - 1] = s->timesteps[2 * i] = t[i];
            s->sigmas[2 * i - 1] = s->sigmas[2 * i] = sigma[i];
          }
        s->sigmas[s->length] = 0.0f;
        s->init_noise_sigma = max_sigma_init (s);
        break;
      }

    case SF_SAMPLER_DPMPP_2M:
    case SF_SAMPLER_DPMPP_2M_SDE:
      dpm_schedule (s, train_sigmas, karras);
      s->init_noise_sigma = 1.0f;
      break;

    case SF_SAMPLER_DDIM:
      {
        int ratio = TRAIN / steps;
        s->length = steps;
        s->timesteps = g_new (double, steps);
        for (int i = 0; i < steps; i++)
          s->timesteps[i] = leading_timestep (steps, ratio, i);
        s->init_noise_sigma = 1.0f;
        break;
      }
    }
  return g_steal_pointer (&s);
}

void
sf_schedule_free (SfSchedule *schedule)
{
  if (!schedule)
    return;
  g_free (schedule->timesteps);
  g_free (schedule->sigmas);
  g_free (schedule);
}

SfStepRange
sf_schedule_full_range (const SfSchedule *schedule)
{
  return (SfStepRange) { 0, schedule->length };
}

static gboolean
check_fraction (double value, const char *what, gboolean closed, GError **error)
{
  gboolean ok = closed ? (value >= 0.0 && value <= 1.0) : (value > 0.0 && value < 1.0);
  if (!ok)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                 "The %s must be %s 0 and 1, not %g", what,
                 closed ? "from" : "strictly between", value);
  return ok;
}

gboolean
sf_schedule_img2img_range (const SfSchedule *s, double strength, SfStepRange *range,
                           GError **error)
{
  if (!check_fraction (strength, "img2img strength", TRUE, error))
    return FALSE;
  int init_timestep = MIN ((int) (s->steps * strength), s->steps);
  int t_start = MAX (s->steps - init_timestep, 0);
  SfStepRange r = { t_start * s->order, s->length };
  if (r.begin >= r.end)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "An img2img strength of %g with %d steps leaves no step to run; "
                   "raise the strength or the steps", strength, s->steps);
      return FALSE;
    }
  *range = r;
  return TRUE;
}

/* int (round (1000 - fraction * 1000)); Python's round halves to even. */
static int
cutoff_timestep (double fraction)
{
  return (int) nearbyint (TRAIN - fraction * TRAIN);
}

gboolean
sf_schedule_denoising_end_range (const SfSchedule *s, SfStepRange range, double denoising_end,
                                 SfStepRange *result, GError **error)
{
  if (!check_fraction (denoising_end, "refiner start (denoising_end)", FALSE, error))
    return FALSE;
  g_return_val_if_fail (range.begin >= 0 && range.end <= s->length, FALSE);
  int cutoff = cutoff_timestep (denoising_end);
  int count = 0;
  for (int i = range.begin; i < range.end; i++)
    if (s->timesteps[i] >= cutoff)
      count++;
  if (count == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "Ending the base model at %g leaves it no step to run", denoising_end);
      return FALSE;
    }
  *result = (SfStepRange) { range.begin, range.begin + count };
  return TRUE;
}

gboolean
sf_schedule_denoising_start_range (const SfSchedule *s, double denoising_start,
                                   SfStepRange *result, GError **error)
{
  if (!check_fraction (denoising_start, "refiner start (denoising_start)", FALSE, error))
    return FALSE;
  int cutoff = cutoff_timestep (denoising_start);
  int count = 0;
  for (int i = 0; i < s->length; i++)
    if (s->timesteps[i] < cutoff)
      count++;
  /* No timestep below the cut (dpmpp with 4 steps stops at 201): the base
   * ran them all. diffusers would take timesteps[-0:] and run every step
   * again; the refiner runs none here. */
  if (count == 0)
    {
      *result = (SfStepRange) { s->length, s->length };
      return TRUE;
    }
  /* Second-order schedulers repeat timesteps; an even count would start
   * between the two evaluations of one step. */
  if (s->order == 2 && count % 2 == 0)
    count++;
  *result = (SfStepRange) { MAX (s->length - count, 0), s->length };
  return TRUE;
}

int
sf_schedule_lookup_index (const SfSchedule *s, int position)
{
  g_return_val_if_fail (position >= 0 && position < s->length, 0);
  double value = s->timesteps[position];
  int found = 0, first = -1;
  for (int i = 0; i < s->length; i++)
    if (s->timesteps[i] == value)
      {
        if (found == 1)
          return i;
        if (found == 0)
          first = i;
        found++;
      }
  return first;
}
