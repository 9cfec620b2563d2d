/* SfSampler against diffusers v0.25.0's schedulers in the SDXL pipelines'
 * order (tests/data/sampler/trajectories.json), with the synthetic
 * denoiser of make_sampler_reference.py implemented here. */
#include <gio/gio.h>
#include <math.h>
#include <string.h>

#include "sampler-data.h"
#include "sampler.h"
#include "sf-test.h"

/* fp32 arithmetic in the same order as torch; what is left is libm vs
 * torch's vectorized tanh/log/exp in the last bit, amplified a little by
 * the steps. */
#define TRAJECTORY_TOLERANCE 1e-5

/* eps[b,c,h,w] = tanh (a·x + k·t) + m·x[b,(c+1)%C,h,w], as the reference. */
typedef struct {
  double a, k, m;
  gsize shape[4];
  GArray *timesteps; /* what the model saw, in order */
  int calls;
  int fail_at; /* call index that fails, or -1 */
} Model;

static gboolean
synthetic_denoiser (gpointer data, const float *x, float timestep, float *eps, GError **error)
{
  Model *model = data;
  if (model->calls++ == model->fail_at)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "the model failed");
      return FALSE;
    }
  g_array_append_val (model->timesteps, timestep);
  gsize B = model->shape[0], C = model->shape[1], HW = model->shape[2] * model->shape[3];
  float a = (float) model->a, m = (float) model->m;
  float kt = (float) (model->k * (double) timestep);
  for (gsize b = 0; b < B; b++)
    for (gsize c = 0; c < C; c++)
      for (gsize i = 0; i < HW; i++)
        {
          gsize at = (b * C + c) * HW + i;
          gsize next = (b * C + (c + 1) % C) * HW + i;
          eps[at] = tanhf (a * x[at] + kt) + m * x[next];
        }
  return TRUE;
}

static void
model_init (Model *model, JsonObject *root, const char *which, const gsize *shape)
{
  JsonArray *c = json_object_get_array_member (json_object_get_object_member (root, "models"), which);
  model->a = json_array_get_double_element (c, 0);
  model->k = json_array_get_double_element (c, 1);
  model->m = json_array_get_double_element (c, 2);
  memcpy (model->shape, shape, sizeof model->shape);
  model->timesteps = g_array_new (FALSE, FALSE, sizeof (float));
  model->calls = 0;
  model->fail_at = -1;
}

/* moments_for (): mean and log-variance of a fixed VAE posterior. */
static float *
make_moments (const gsize *shape, int seed)
{
  gsize B = shape[0], C = shape[1], HW = shape[2] * shape[3];
  float *moments = g_new (float, B * 2 * C * HW);
  for (gsize b = 0; b < B; b++)
    for (gsize c = 0; c < C; c++)
      for (gsize i = 0; i < HW; i++)
        {
          double index = (double) ((b * C + c) * HW + i);
          double mean = 6.0 * sin (0.37 * index + seed);
          double logvar = index == 0 ? -40.0 : -2.0 + 0.5 * cos (0.11 * index);
          moments[(b * 2 * C + c) * HW + i] = (float) mean;
          moments[(b * 2 * C + C + c) * HW + i] = (float) logvar;
        }
  return moments;
}

/* mask_for (): 1 where the latent is regenerated. */
static float *
make_mask (const gsize *shape)
{
  gsize B = shape[0], H = shape[2], W = shape[3];
  float *mask = g_new0 (float, B * H * W);
  for (gsize b = 0; b < B; b++)
    for (gsize y = 0; y < H; y++)
      for (gsize x = 0; x < W; x++)
        if (x >= (W * (b + 1)) / 3 || y < H / 3)
          mask[(b * H + y) * W + x] = 1.0f;
  return mask;
}

typedef struct {
  const char *name;
  const float *expected; /* [records, count] */
  int records;
  int next;              /* the record the next step must match */
  gsize count;
  gsize shape[4];
  double worst;
  int expected_total;
  /* inpainting */
  const float *image_latents, *noise, *mask;
} Trajectory;

static void
check_record (Trajectory *tr, const float *latents)
{
  g_assert_cmpint (tr->next, <, tr->records);
  const float *expected = tr->expected + (gsize) tr->next * tr->count;
  double error = sf_test_rel_l2 (latents, expected, tr->count);
  if (!(error <= TRAJECTORY_TOLERANCE))
    g_error ("%s: record %d is %.3g from diffusers (relative L2)", tr->name, tr->next, error);
  tr->worst = fmax (tr->worst, error);
  tr->next++;
}

static gboolean
on_step (gpointer data, SfSampler *sampler, const SfSamplerStep *step, GError **error)
{
  Trajectory *tr = data;
  g_assert_cmpint (step->total, ==, tr->expected_total);
  g_assert_cmpuint (step->count, ==, tr->count);
  g_assert_nonnull (step->denoised);
  if (tr->mask)
    {
      /* The 4-channel inpaint pipeline's blend after each step. */
      g_autofree float *proper = g_memdup2 (tr->image_latents, tr->count * sizeof (float));
      if (step->step < step->total - 1
          && !sf_sampler_add_noise (sampler, step->position + 1, tr->image_latents, tr->noise,
                                    proper, tr->count, error))
        return FALSE;
      gsize B = tr->shape[0], C = tr->shape[1], HW = tr->shape[2] * tr->shape[3];
      for (gsize b = 0; b < B; b++)
        for (gsize c = 0; c < C; c++)
          for (gsize i = 0; i < HW; i++)
            {
              gsize at = (b * C + c) * HW + i;
              float m = tr->mask[b * HW + i];
              step->latents[at] = (1.0f - m) * proper[at] + m * step->latents[at];
            }
    }
  check_record (tr, step->latents);
  return TRUE;
}

static void
run_part (SfSampler *sampler, SfStepRange range, float *latents, SfTorchGenerator *gen,
          Model *model, Trajectory *tr)
{
  g_autoptr (GError) error = NULL;
  tr->expected_total = range.end - range.begin;
  gboolean ok = sf_sampler_run (sampler, range, latents, tr->count, gen, synthetic_denoiser, model,
                                on_step, tr, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
}

static void
check_timesteps (const char *name, GArray *seen, JsonArray *expected)
{
  g_assert_cmpuint (seen->len, ==, json_array_get_length (expected));
  for (guint i = 0; i < seen->len; i++)
    {
      double want = json_array_get_double_element (expected, i);
      double got = g_array_index (seen, float, i);
      if (!(fabs (got - want) <= 1e-6 * fabs (want)))
        g_error ("%s: model call %u saw timestep %.9g, diffusers %.9g", name, i, got, want);
    }
}

static void
run_trajectory (JsonObject *root, JsonObject *entry, double *worst)
{
  const char *sampler_name = json_object_get_string_member (entry, "sampler");
  const char *scheduler_name = json_object_get_string_member (entry, "scheduler");
  const char *mode = json_object_get_string_member (entry, "mode");
  int steps = (int) json_object_get_int_member (entry, "steps");
  int seed = (int) json_object_get_int_member (entry, "seed");
  g_autofree char *name = g_strdup_printf ("%s %s %d steps %s seed %d", sampler_name,
                                           scheduler_name, steps, mode, seed);

  SfSamplerKind kind;
  SfSchedulerKind scheduler;
  g_autoptr (GError) error = NULL;
  g_assert_true (sf_sampler_kind_parse (sampler_name, &kind, &error));
  g_assert_true (sf_scheduler_kind_parse (scheduler_name, &scheduler, &error));
  g_autoptr (SfSampler) sampler = sf_sampler_new (kind, scheduler, steps, &error);
  g_assert_no_error (error);
  const SfSchedule *sch = sf_sampler_get_schedule (sampler);

  Trajectory tr = { .name = name };
  JsonArray *shape = json_object_get_array_member (entry, "shape");
  for (int d = 0; d < 4; d++)
    tr.shape[d] = (gsize) json_array_get_int_element (shape, d);
  tr.count = tr.shape[0] * tr.shape[1] * tr.shape[2] * tr.shape[3];
  gsize npy_count;
  int ndim;
  gint64 npy_shape[8];
  g_autofree float *expected = sf_sampler_data_npy (json_object_get_string_member (entry, "file"),
                                                    &npy_count, &ndim, npy_shape);
  g_assert_cmpint (ndim, ==, 5);
  tr.expected = expected;
  tr.records = (int) npy_shape[0];
  g_assert_cmpuint (npy_count, ==, tr.records * tr.count);

  g_autoptr (SfTorchGenerator) gen = sf_torch_generator_new ((guint64) seed);
  g_autofree float *x = g_new (float, tr.count);
  Model base, refiner;
  model_init (&base, root, "base", tr.shape);
  model_init (&refiner, root, "refiner", tr.shape);
  g_autofree float *moments = make_moments (tr.shape, seed);
  g_autofree float *image_latents = g_new (float, tr.count);
  g_autofree float *noise = g_new (float, tr.count);
  g_autofree float *mask = NULL;
  float scaling = (float) json_object_get_double_member (root, "vae_scaling_factor");
  gsize pixels = tr.shape[2] * tr.shape[3];
  SfStepRange range = sf_schedule_full_range (sch);

  if (g_str_equal (mode, "txt2img") || g_str_equal (mode, "split"))
    {
      sf_sampler_prepare_txt2img_latents (sampler, gen, x, tr.count);
      check_record (&tr, x);
      gboolean split = g_str_equal (mode, "split");
      if (split)
        g_assert_true (sf_schedule_denoising_end_range (sch, range, 0.8, &range, &error));
      run_part (sampler, range, x, gen, &base, &tr);
      if (split)
        {
          /* The refiner pipeline: a fresh scheduler run on the base's
           * latents, no noise added, the same generator. */
          g_assert_true (sf_schedule_denoising_start_range (sch, 0.8, &range, &error));
          if (range.begin == range.end)
            {
              /* dpmpp with 4 steps: the base ran every step. diffusers'
               * refiner then runs them all again (timesteps[-0:]); ours
               * runs none, so only the base part can be compared. */
              JsonArray *parts = json_object_get_array_member (entry, "parts");
              g_assert_cmpint (json_array_get_int_element (parts, 0), ==, sch->length);
              g_assert_cmpint (json_array_get_int_element (parts, 1), ==, sch->length);
              g_array_unref (base.timesteps);
              g_array_unref (refiner.timesteps);
              return;
            }
          run_part (sampler, range, x, gen, &refiner, &tr);
        }
    }
  else if (g_str_equal (mode, "img2img"))
    {
      double strength = json_object_get_double_member (entry, "strength");
      g_assert_true (sf_schedule_img2img_range (sch, strength, &range, &error));
      /* prepare_latents: the posterior sample draws first, then the noise. */
      sf_latent_dist_sample (gen, moments, tr.shape[0], tr.shape[1], pixels, scaling, image_latents);
      sf_torch_randn (gen, noise, tr.count);
      g_assert_true (sf_sampler_add_noise (sampler, range.begin, image_latents, noise, x, tr.count,
                                           &error));
      check_record (&tr, x);
      run_part (sampler, range, x, gen, &base, &tr);
    }
  else
    {
      g_assert_true (g_str_has_prefix (mode, "inpaint"));
      double strength = json_object_get_double_member (entry, "strength");
      g_assert_true (sf_schedule_img2img_range (sch, strength, &range, &error));
      sf_latent_dist_sample (gen, moments, tr.shape[0], tr.shape[1], pixels, scaling, image_latents);
      sf_torch_randn (gen, noise, tr.count);
      if (strength == 1.0)
        for (gsize i = 0; i < tr.count; i++)
          x[i] = noise[i] * sch->init_noise_sigma;
      else
        g_assert_true (sf_sampler_add_noise (sampler, range.begin, image_latents, noise, x,
                                             tr.count, &error));
      check_record (&tr, x);
      mask = make_mask (tr.shape);
      tr.image_latents = image_latents;
      tr.noise = noise;
      tr.mask = mask;
      run_part (sampler, range, x, gen, &base, &tr);
    }
  g_assert_no_error (error);
  g_assert_cmpint (tr.next, ==, tr.records);

  /* Every timestep the models saw, base then refiner. */
  g_array_append_vals (base.timesteps, refiner.timesteps->data, refiner.timesteps->len);
  check_timesteps (name, base.timesteps, json_object_get_array_member (entry, "timesteps"));

  /* The generator drew exactly what diffusers drew. */
  float after[17];
  sf_torch_randn (gen, after, 17);
  JsonArray *want = json_object_get_array_member (entry, "after");
  for (int i = 0; i < 17; i++)
    if (after[i] != (float) json_array_get_double_element (want, i))
      g_error ("%s: the generator is not where diffusers left it", name);

  g_array_unref (base.timesteps);
  g_array_unref (refiner.timesteps);
  *worst = fmax (*worst, tr.worst);
}

static void
test_trajectories_match_diffusers (void)
{
  g_autoptr (JsonParser) parser = sf_sampler_data_json ("trajectories.json");
  JsonObject *root = json_node_get_object (json_parser_get_root (parser));
  JsonArray *all = json_object_get_array_member (root, "trajectories");
  double worst = 0;
  guint n = json_array_get_length (all);
  g_assert_cmpuint (n, ==, 176);
  for (guint i = 0; i < n; i++)
    run_trajectory (root, json_array_get_object_element (all, i), &worst);
  g_test_message ("%u trajectories, every step within %.3g relative L2 of diffusers", n, worst);
}

/* ---- cancel and errors ------------------------------------------------ */

typedef struct {
  GCancellable *cancellable;
  int cancel_after;
  int steps_seen;
  int fail_after;
} StopAt;

static gboolean
stop_at_step (gpointer data, SfSampler *sampler, const SfSamplerStep *step, GError **error)
{
  StopAt *stop = data;
  g_assert_cmpint (step->step, ==, stop->steps_seen);
  stop->steps_seen++;
  if (step->step == stop->cancel_after)
    g_cancellable_cancel (stop->cancellable);
  if (step->step == stop->fail_after)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "the preview failed");
      return FALSE;
    }
  return TRUE;
}

static void
test_cancel_stops_between_steps (void)
{
  const gsize shape[4] = { 1, 4, 8, 8 };
  gsize count = 256;
  g_autoptr (GError) error = NULL;
  g_autoptr (SfSampler) sampler = sf_sampler_new (SF_SAMPLER_EULER_A, SF_SCHEDULER_NORMAL, 7, &error);
  g_assert_no_error (error);
  SfStepRange range = sf_schedule_full_range (sf_sampler_get_schedule (sampler));
  g_autoptr (SfTorchGenerator) gen = sf_torch_generator_new (5);
  float x[256], y[256];

  /* Reference: the same steps, uncancelled, stopped by hand. */
  Model model = { .a = 0.5, .k = 0.001, .m = 0.05, .fail_at = -1 };
  memcpy (model.shape, shape, sizeof model.shape);
  model.timesteps = g_array_new (FALSE, FALSE, sizeof (float));
  sf_sampler_prepare_txt2img_latents (sampler, gen, x, count);
  memcpy (y, x, sizeof x);
  SfStepRange three = { 0, 3 };
  g_assert_true (sf_sampler_run (sampler, three, y, count, gen, synthetic_denoiser, &model, NULL,
                                 NULL, NULL, &error));

  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  sf_torch_generator_manual_seed (gen, 5);
  sf_sampler_prepare_txt2img_latents (sampler, gen, x, count);
  model.calls = 0;
  StopAt stop = { .cancellable = cancellable, .cancel_after = 2, .fail_after = -1 };
  g_assert_false (sf_sampler_run (sampler, range, x, count, gen, synthetic_denoiser, &model,
                                  stop_at_step, &stop, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_assert_cmpint (model.calls, ==, 3);
  g_assert_cmpint (stop.steps_seen, ==, 3);
  g_assert_cmpmem (x, sizeof x, y, sizeof y); /* the last completed step */

  /* Cancelled before the start: the model is never called. */
  model.calls = 0;
  g_assert_false (sf_sampler_run (sampler, range, x, count, gen, synthetic_denoiser, &model, NULL,
                                  NULL, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (model.calls, ==, 0);
  g_array_unref (model.timesteps);
}

static void
test_errors_stop_the_run (void)
{
  const gsize shape[4] = { 1, 4, 4, 4 };
  gsize count = 64;
  g_autoptr (GError) error = NULL;
  g_autoptr (SfSampler) sampler = sf_sampler_new (SF_SAMPLER_EULER, SF_SCHEDULER_KARRAS, 5, &error);
  g_assert_no_error (error);
  SfStepRange range = sf_schedule_full_range (sf_sampler_get_schedule (sampler));
  g_autoptr (SfTorchGenerator) gen = sf_torch_generator_new (1);
  float x[64];
  sf_sampler_prepare_txt2img_latents (sampler, gen, x, count);
  Model model = { .a = 0.5, .k = 0.001, .m = 0.05, .fail_at = 4 };
  memcpy (model.shape, shape, sizeof model.shape);
  model.timesteps = g_array_new (FALSE, FALSE, sizeof (float));

  g_assert_false (sf_sampler_run (sampler, range, x, count, gen, synthetic_denoiser, &model, NULL,
                                  NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_cmpint (model.calls, ==, 5);
  g_clear_error (&error);

  model.calls = 0;
  model.fail_at = -1;
  StopAt stop = { .cancel_after = -1, .fail_after = 1 };
  g_assert_false (sf_sampler_run (sampler, range, x, count, gen, synthetic_denoiser, &model,
                                  stop_at_step, &stop, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_cmpint (model.calls, ==, 2);
  g_clear_error (&error);

  SfStepRange backwards = { 3, 2 }, past = { 0, range.end + 1 };
  g_assert_false (sf_sampler_run (sampler, backwards, x, count, gen, synthetic_denoiser, &model,
                                  NULL, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (sf_sampler_run (sampler, past, x, count, gen, synthetic_denoiser, &model, NULL,
                                  NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (sf_sampler_run (sampler, range, x, 0, gen, synthetic_denoiser, &model, NULL,
                                  NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_autoptr (SfSampler) ancestral = sf_sampler_new (SF_SAMPLER_EULER_A, SF_SCHEDULER_NORMAL, 5,
                                                    &error);
  g_assert_no_error (error);
  g_assert_false (sf_sampler_run (ancestral, sf_schedule_full_range (sf_sampler_get_schedule (ancestral)),
                                  x, count, NULL, synthetic_denoiser, &model,
                                  NULL, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_array_unref (model.timesteps);
}

static void
test_add_noise_rejects_bad_positions (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SfSampler) sampler = sf_sampler_new (SF_SAMPLER_DDIM, SF_SCHEDULER_NORMAL, 5, &error);
  g_assert_no_error (error);
  float x[16] = { 0 };
  g_assert_false (sf_sampler_add_noise (sampler, 5, x, x, x, 16, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (sf_sampler_add_noise (sampler, -1, x, x, x, 16, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  /* √ᾱ·x + √(1 − ᾱ)·noise at timestep 801 (1000 // 5 spacing, offset 1). */
  float one = 1.0f, zero = 0.0f, out;
  g_assert_true (sf_sampler_add_noise (sampler, 0, &one, &zero, &out, 1, &error));
  const SfSchedule *s = sf_sampler_get_schedule (sampler);
  g_assert_cmpfloat (s->timesteps[0], ==, 801);
  g_assert_cmpfloat (out, ==, sqrtf (s->alphas_cumprod[801]));
}

/* EulerDiscreteScheduler.step draws noise it does not use: with or
 * without a generator the latents are the same, but the generator moves
 * on by one draw per step. */
static void
test_euler_draws_but_ignores_noise (void)
{
  const gsize shape[4] = { 1, 4, 5, 7 };
  gsize count = 140;
  g_autoptr (GError) error = NULL;
  g_autoptr (SfSampler) sampler = sf_sampler_new (SF_SAMPLER_EULER, SF_SCHEDULER_KARRAS, 6, &error);
  g_assert_no_error (error);
  SfStepRange range = sf_schedule_full_range (sf_sampler_get_schedule (sampler));
  Model model = { .a = 0.5, .k = 0.001, .m = 0.05, .fail_at = -1 };
  memcpy (model.shape, shape, sizeof model.shape);
  model.timesteps = g_array_new (FALSE, FALSE, sizeof (float));
  g_autoptr (SfTorchGenerator) gen = sf_torch_generator_new (9);
  float x[140], y[140], after[140], expected_after[140];
  sf_sampler_prepare_txt2img_latents (sampler, gen, x, count);
  memcpy (y, x, sizeof x);
  g_assert_true (sf_sampler_run (sampler, range, x, count, gen, synthetic_denoiser, &model, NULL,
                                 NULL, NULL, &error));
  g_assert_true (sf_sampler_run (sampler, range, y, count, NULL, synthetic_denoiser, &model, NULL,
                                 NULL, NULL, &error));
  g_assert_cmpmem (x, sizeof x, y, sizeof y);

  g_autoptr (SfTorchGenerator) skip = sf_torch_generator_new (9);
  sf_torch_randn (skip, after, count);         /* the initial latents */
  for (int i = 0; i < 6; i++)
    sf_torch_randn (skip, after, count);       /* one per step */
  sf_torch_randn (skip, expected_after, count);
  sf_torch_randn (gen, after, count);
  g_assert_cmpmem (after, sizeof after, expected_after, sizeof expected_after);
  g_array_unref (model.timesteps);
}

/* ---- names ------------------------------------------------------------ */

static void
test_names_parse_and_describe (void)
{
  static const struct {
    const char *name, *label;
  } samplers[] = {
    { "euler", "Euler" },         { "euler_a", "Euler a" }, { "dpmpp_2m", "DPM++ 2M" },
    { "dpmpp_2m_sde", "DPM++ 2M SDE" }, { "ddim", "DDIM" }, { "heun", "Heun" },
  };
  g_autoptr (GError) error = NULL;
  for (guint i = 0; i < G_N_ELEMENTS (samplers); i++)
    {
      SfSamplerKind kind = 99, from_label = 99;
      g_assert_true (sf_sampler_kind_parse (samplers[i].name, &kind, &error));
      g_assert_true (sf_sampler_kind_parse (samplers[i].label, &from_label, &error));
      g_assert_no_error (error);
      g_assert_cmpint (kind, ==, from_label);
      g_assert_cmpstr (sf_sampler_kind_name (kind), ==, samplers[i].name);
      g_assert_cmpstr (sf_sampler_kind_describe (kind), ==, samplers[i].label);
    }
  SfSamplerKind kind;
  g_assert_true (sf_sampler_kind_parse ("euler_ancestral", &kind, &error));
  g_assert_cmpint (kind, ==, SF_SAMPLER_EULER_A);

  SfSchedulerKind scheduler;
  g_assert_true (sf_scheduler_kind_parse ("karras", &scheduler, &error));
  g_assert_cmpint (scheduler, ==, SF_SCHEDULER_KARRAS);
  g_assert_cmpstr (sf_scheduler_kind_describe (scheduler), ==, "Karras");
  g_assert_true (sf_scheduler_kind_parse ("Automatic", &scheduler, &error));
  g_assert_cmpint (scheduler, ==, SF_SCHEDULER_NORMAL);
  g_assert_cmpstr (sf_scheduler_kind_name (scheduler), ==, "normal");
  g_assert_cmpstr (sf_scheduler_kind_describe (scheduler), ==, "Automatic");
  g_assert_no_error (error);

  static const char *const bad[] = { "", "Euler A", "dpm++2m", "euler a", "lms" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_assert_false (sf_sampler_kind_parse (bad[i], &kind, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, "dpmpp_2m_sde"));
      g_clear_error (&error);
    }
  g_assert_false (sf_sampler_kind_parse (NULL, &kind, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (sf_scheduler_kind_parse ("karas", &scheduler, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (sf_sampler_new (SF_SAMPLER_DDIM, SF_SCHEDULER_KARRAS, 20, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
}

int
main (int argc, char **argv)
{
  sf_test_init (&argc, &argv);
  sf_test_add ("/sampler/trajectories-match-diffusers", test_trajectories_match_diffusers);
  sf_test_add ("/sampler/cancel-stops-between-steps", test_cancel_stops_between_steps);
  sf_test_add ("/sampler/errors-stop-the-run", test_errors_stop_the_run);
  sf_test_add ("/sampler/euler-draws-but-ignores-noise", test_euler_draws_but_ignores_noise);
  sf_test_add ("/sampler/add-noise-rejects-bad-positions", test_add_noise_rejects_bad_positions);
  sf_test_add ("/sampler/names-parse-and-describe", test_names_parse_and_describe);
  return sf_test_run ();
}
