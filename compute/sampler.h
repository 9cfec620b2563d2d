/* The sampling loop: diffusers' SDXL pipelines' denoising loop with their
 * schedulers' step() (diffusers v0.25.0), on the CPU in float32.
 *
 * The engine supplies the model as an SfDenoiser returning guided epsilon
 * (CFG applied inside) for the whole latent batch. Latents are float32
 * arrays in torch's NCHW order [B, C, H, W]. Random numbers come from the
 * caller's SfTorchGenerator, drawn in diffusers' order, so one generator
 * seeded with N and used as below gives diffusers' latents for a CPU
 * torch.Generator seeded with N:
 *
 *   txt2img   sf_sampler_prepare_txt2img_latents (randn × init_noise_sigma),
 *             then sf_sampler_run over sf_schedule_full_range.
 *   img2img   (StableDiffusionXLImg2ImgPipeline) range from
 *             sf_schedule_img2img_range; encode the image and draw
 *             sf_latent_dist_sample (the VAE posterior sample: the first
 *             draw), then the noise with sf_torch_randn (the second), then
 *             sf_sampler_add_noise at range.begin; then sf_sampler_run.
 *   refiner   base: sf_schedule_denoising_end_range (full, f) with the base
 *             model; refiner: sf_schedule_denoising_start_range (f) with the
 *             refiner model on the base's latents, no noise added, the same
 *             generator. Each sf_sampler_run starts the scheduler afresh, as
 *             the second pipeline's own scheduler does.
 *   inpaint   (4-channel UNet) image latents from sf_latent_dist_sample,
 *             then the noise (randn); the start is noise × init_noise_sigma
 *             at strength 1, else sf_sampler_add_noise at range.begin.
 *             After each step but the last, the step callback blends latents = (1 − mask)·init_noised + mask·latents
 *             with init_noised = sf_sampler_add_noise (position + 1) of the
 *             image latents and the initial noise; after the last step, with
 *             the clean image latents.
 *
 * Per-step draws, as diffusers: euler draws one (unused) randn of the
 * latent's size per step, because EulerDiscreteScheduler.step always
 * does; euler_a and dpmpp_2m_sde one each, used; the others none.
 *
 * Errors are G_IO_ERROR: INVALID_ARGUMENT for bad names, steps, ranges or
 * fractions, NOT_SUPPORTED for ddim + karras, CANCELLED on cancel, or the
 * error the denoiser or step callback set. */
#pragma once

#include <gio/gio.h>

#include "rng.h"
#include "schedule.h"

G_BEGIN_DECLS

/* ---- names ---------------------------------------------------------- */

/* ComfyUI's names: "euler", "euler_a" (also "euler_ancestral"),
 * "dpmpp_2m", "dpmpp_2m_sde", "ddim", "heun"; the labels A1111 writes
 * ("Euler a", "DPM++ 2M", ...) are accepted too. */
gboolean sf_sampler_kind_parse (const char *name, SfSamplerKind *kind, GError **error);
const char *sf_sampler_kind_name (SfSamplerKind kind);
/* The label A1111 writes after "Sampler: " in PNG parameters:
 * "Euler", "Euler a", "DPM++ 2M", "DPM++ 2M SDE", "DDIM", "Heun". */
const char *sf_sampler_kind_describe (SfSamplerKind kind);

/* "normal" or "karras" (A1111's "Automatic" and "Karras" are accepted). */
gboolean sf_scheduler_kind_parse (const char *name, SfSchedulerKind *kind, GError **error);
const char *sf_scheduler_kind_name (SfSchedulerKind kind);
/* A1111's "Schedule type" label: "Automatic" (the sampler's own schedule,
 * which A1111 leaves out of the parameters) or "Karras". */
const char *sf_scheduler_kind_describe (SfSchedulerKind kind);

/* ---- the sampler ------------------------------------------------------ */

typedef struct SfSampler SfSampler;

/* A sampler with its schedule for @steps steps (see sf_schedule_new).
 * Returns: (transfer full) or NULL. */
SfSampler *sf_sampler_new (SfSamplerKind sampler, SfSchedulerKind scheduler, int steps,
                           GError **error);
void sf_sampler_free (SfSampler *sampler);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SfSampler, sf_sampler_free)

const SfSchedule *sf_sampler_get_schedule (const SfSampler *sampler);

/* The model: writes guided epsilon for @model_input (already divided as
 * scheduler.scale_model_input does) at @timestep (the value diffusers
 * passes to the UNet) into @eps_out, both of the run's element count. */
typedef gboolean (*SfDenoiser) (gpointer data, const float *model_input, float timestep,
                                float *eps_out, GError **error);

typedef struct {
  int step;              /* 0-based, among this run's model evaluations */
  int total;             /* model evaluations in this run */
  int position;          /* index of this step's timestep in the schedule */
  float timestep;        /* what the model saw */
  float *latents;        /* after this step; the callback may change them */
  const float *denoised; /* this step's prediction of the clean latents */
  size_t count;
} SfSamplerStep;

/* After every step: progress, preview, inpaint blending. Returning FALSE
 * (with @error set) stops the run with that error. */
typedef gboolean (*SfStepCallback) (gpointer data, SfSampler *sampler, const SfSamplerStep *step,
                                    GError **error);

/* torch.randn into @latents, times the schedule's init_noise_sigma
 * (StableDiffusionXLPipeline.prepare_latents). */
void sf_sampler_prepare_txt2img_latents (SfSampler *sampler, SfTorchGenerator *generator,
                                         float *latents, size_t count);

/* Runs the steps at @range's positions on @latents (@count floats) in
 * place (an empty range does nothing). The scheduler state starts afresh
 * (set_timesteps), then each step
 * calls @denoiser once and @callback (if any). @generator is needed by
 * euler_a and dpmpp_2m_sde; euler draws from it when given. @cancellable
 * is checked before every step; on cancel or error @latents hold the last
 * completed step and G_IO_ERROR_CANCELLED or the error is returned. */
gboolean sf_sampler_run (SfSampler *sampler, SfStepRange range, float *latents, size_t count,
                         SfTorchGenerator *generator, SfDenoiser denoiser, gpointer denoiser_data,
                         SfStepCallback callback, gpointer callback_data,
                         GCancellable *cancellable, GError **error);

/* scheduler.add_noise (@original, @noise, timesteps[@position]) as the
 * scheduler computes it: original + σ·noise (euler, euler_a, heun),
 * α·original + σ_t·noise (dpmpp_*: α = 1/√(σ²+1), σ_t = σ·α), or
 * √ᾱ·original + √(1−ᾱ)·noise (ddim), with σ looked up from the timestep
 * value as diffusers does (heun's lookup depends on the steps run so far).
 * @out may be @original. */
gboolean sf_sampler_add_noise (SfSampler *sampler, int position, const float *original,
                               const float *noise, float *out, size_t count, GError **error);

/* ---- the VAE posterior draw of img2img and inpaint --------------------- */

/* DiagonalGaussianDistribution (@moments).sample (generator) times
 * @scaling_factor, as diffusers' _encode_vae_image / prepare_latents do:
 * @moments is the encoder's [B, 2C, H, W] output (mean, then log-variance
 * clamped to [-30, 20]); one randn of B·C·H·W values is drawn; @out is
 * [B, C, H, W]. SDXL's scaling factor is 0.13025. */
void sf_latent_dist_sample (SfTorchGenerator *generator, const float *moments, size_t batch,
                            size_t channels, size_t pixels, float scaling_factor, float *out);

G_END_DECLS
