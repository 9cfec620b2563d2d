/* Noise schedules as diffusers' schedulers compute them for SDXL.
 *
 * SDXL's scheduler config (base and refiner): 1000 training steps,
 * "scaled_linear" betas from 0.00085 to 0.012, "leading" timestep spacing
 * with steps_offset 1, epsilon prediction. Each sampler name stands for the
 * diffusers scheduler a user would set up from that config (diffusers
 * v0.25.0):
 *
 *   euler         EulerDiscreteScheduler
 *   euler_a       EulerAncestralDiscreteScheduler
 *   dpmpp_2m      DPMSolverMultistepScheduler (dpmsolver++, order 2)
 *   dpmpp_2m_sde  DPMSolverMultistepScheduler (algorithm_type sde-dpmsolver++)
 *   ddim          DDIMScheduler (eta 0)
 *   heun          HeunDiscreteScheduler
 *
 * and "karras" is use_karras_sigmas=True. Two combinations have no diffusers
 * counterpart: DDIMScheduler has no Karras sigmas (refused), and
 * EulerAncestralDiscreteScheduler has none either; euler_a + karras runs the
 * ancestral step on EulerDiscreteScheduler's Karras schedule.
 *
 * diffusers' quirks are kept on purpose, so that a seed gives diffusers'
 * image: DPMSolverMultistep's "leading" timesteps are spaced by
 * 1000 / (steps + 1) and its last sigma is σ_min (about 0.029), not 0
 * (with Karras sigmas the final step repeats σ_min and changes nothing;
 * ComfyUI's karras schedule ends at 0 instead); EulerDiscrete's and Heun's
 * Karras schedules run from the sigma of the first "leading" timestep (not
 * σ_max = 14.6) down to the sigma of timestep 1. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  SF_SAMPLER_EULER,
  SF_SAMPLER_EULER_A,
  SF_SAMPLER_DPMPP_2M,
  SF_SAMPLER_DPMPP_2M_SDE,
  SF_SAMPLER_DDIM,
  SF_SAMPLER_HEUN,
} SfSamplerKind;

#define SF_SAMPLER_KIND_COUNT 6

typedef enum {
  SF_SCHEDULER_NORMAL, /* the scheduler's own spacing ("leading") */
  SF_SCHEDULER_KARRAS,
} SfSchedulerKind;

#define SF_SCHEDULER_KIND_COUNT 2

#define SF_SCHEDULE_TRAIN_STEPS 1000
#define SF_SCHEDULE_MAX_STEPS 500

/* The state of a diffusers scheduler right after set_timesteps (steps).
 * Plain data; read it, don't change it. */
typedef struct {
  SfSamplerKind sampler;
  SfSchedulerKind scheduler;
  int steps;       /* num_inference_steps */
  int order;       /* scheduler.order: 2 for heun, else 1 */
  int length;      /* entries in timesteps: 2 * steps - 1 for heun */
  /* scheduler.timesteps (heun repeats all but the first). Values as
   * diffusers holds them (integers, or fractions for Karras schedules);
   * the UNet gets them as float32. */
  double *timesteps;
  /* scheduler.sigmas, length + 1 entries; NULL for ddim. */
  float *sigmas;
  float init_noise_sigma;
  float alphas_cumprod[SF_SCHEDULE_TRAIN_STEPS];
} SfSchedule;

/* Positions [begin, end) into SfSchedule.timesteps that one pipeline call
 * runs. */
typedef struct {
  int begin;
  int end;
} SfStepRange;

/* scheduler.set_timesteps (@steps) for the scheduler behind @sampler.
 * Fails for steps outside 1..SF_SCHEDULE_MAX_STEPS and for ddim + karras.
 * Returns: (transfer full) or NULL. */
SfSchedule *sf_schedule_new (SfSamplerKind sampler, SfSchedulerKind scheduler, int steps,
                             GError **error);
void sf_schedule_free (SfSchedule *schedule);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SfSchedule, sf_schedule_free)

/* Every timestep: txt2img. */
SfStepRange sf_schedule_full_range (const SfSchedule *schedule);

/* img2img: the timesteps StableDiffusionXLImg2ImgPipeline.get_timesteps
 * keeps for @strength in [0, 1] (t_start = steps - int (steps * strength),
 * times the scheduler's order). The first kept timestep is where the init
 * latents are noised (sf_sampler_add_noise at range.begin). Fails when no
 * step would run. */
gboolean sf_schedule_img2img_range (const SfSchedule *schedule, double strength,
                                    SfStepRange *range, GError **error);

/* Base half of a base → refiner hand-off: the leading part of @range whose
 * timesteps are ≥ round (1000 · (1 − @denoising_end)), as the SDXL
 * pipelines' denoising_end does. @denoising_end in (0, 1). */
gboolean sf_schedule_denoising_end_range (const SfSchedule *schedule, SfStepRange range,
                                          double denoising_end, SfStepRange *result,
                                          GError **error);

/* Refiner half: the trailing timesteps below round (1000 · (1 − @denoising_start)),
 * one more for second-order schedulers when the count is even, as
 * StableDiffusionXLImg2ImgPipeline.get_timesteps does with denoising_start.
 * @denoising_start in (0, 1). When no timestep is below the cut (dpmpp_2m
 * with 4 steps ends at timestep 201) the range is empty and the refiner has
 * nothing to do; diffusers instead takes timesteps[-0:] and runs the whole
 * schedule again with the refiner. */
gboolean sf_schedule_denoising_start_range (const SfSchedule *schedule, double denoising_start,
                                            SfStepRange *result, GError **error);

/* The position diffusers' _init_step_index / index lookup finds for the
 * timestep value at @position: the second of several equal entries (heun's
 * repeats, or Karras timesteps that round alike), else the only one. */
int sf_schedule_lookup_index (const SfSchedule *schedule, int position);

G_END_DECLS
