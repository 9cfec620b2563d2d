/* SfSchedule against diffusers v0.25.0's schedulers set up for SDXL
 * (tests/data/sampler/schedules.json). */
#include <gio/gio.h>
#include <math.h>

#include "sampler-data.h"
#include "schedule.h"
#include "sf-test.h"

static JsonObject *
schedules_root (JsonParser *parser)
{
  return json_node_get_object (json_parser_get_root (parser));
}

static SfSamplerKind
sampler_from_name (const char *name)
{
  static const char *const names[] = { "euler", "euler_a", "dpmpp_2m", "dpmpp_2m_sde", "ddim",
                                       "heun" };
  for (int i = 0; i < (int) G_N_ELEMENTS (names); i++)
    if (g_str_equal (names[i], name))
      return (SfSamplerKind) i;
  g_error ("unknown sampler %s in the data", name);
}

static SfSchedule *
schedule_for (JsonObject *entry)
{
  SfSamplerKind sampler = sampler_from_name (json_object_get_string_member (entry, "sampler"));
  SfSchedulerKind scheduler = g_str_equal (json_object_get_string_member (entry, "scheduler"), "karras")
                                ? SF_SCHEDULER_KARRAS : SF_SCHEDULER_NORMAL;
  g_autoptr (GError) error = NULL;
  SfSchedule *s = sf_schedule_new (sampler, scheduler,
                                   (int) json_object_get_int_member (entry, "steps"), &error);
  g_assert_no_error (error);
  return s;
}

static double
relative (double a, double b)
{
  return a == b ? 0.0 : fabs (a - b) / fmax (fabs (b), 1e-30);
}

/* Bit-exact: torch.linspace's float32 kernel, the squares and the double
 * accumulation of torch.cumprod are reproduced. */
static void
test_alphas_cumprod_are_exact (void)
{
  g_autoptr (JsonParser) parser = sf_sampler_data_json ("schedules.json");
  guint n;
  g_autofree double *expected = sf_sampler_data_doubles (
    json_object_get_array_member (schedules_root (parser), "alphas_cumprod"), &n);
  g_assert_cmpuint (n, ==, SF_SCHEDULE_TRAIN_STEPS);
  g_autoptr (GError) error = NULL;
  g_autoptr (SfSchedule) s = sf_schedule_new (SF_SAMPLER_EULER, SF_SCHEDULER_NORMAL, 10, &error);
  g_assert_no_error (error);
  for (guint t = 0; t < n; t++)
    if (s->alphas_cumprod[t] != (float) expected[t])
      g_error ("alphas_cumprod[%u] = %.9g, diffusers %.9g", t, s->alphas_cumprod[t], expected[t]);
}

/* Timesteps and sigmas: normal schedules are exact; Karras timesteps come
 * from a log-sigma interpolation in which diffusers uses NumPy's float32
 * log (not correctly rounded), so they agree to 1e-6 relative. */
static void
test_timesteps_and_sigmas_match_diffusers (void)
{
  g_autoptr (JsonParser) parser = sf_sampler_data_json ("schedules.json");
  JsonArray *entries = json_object_get_array_member (schedules_root (parser), "schedules");
  double worst_t = 0, worst_sigma = 0;
  guint inexact_t = 0, inexact_sigma = 0, values = 0;
  for (guint e = 0; e < json_array_get_length (entries); e++)
    {
      JsonObject *entry = json_array_get_object_element (entries, e);
      g_autoptr (SfSchedule) s = schedule_for (entry);
      gboolean karras = s->scheduler == SF_SCHEDULER_KARRAS;
      guint n;
      g_autofree double *t = sf_sampler_data_doubles (
        json_object_get_array_member (entry, "timesteps"), &n);
      g_assert_cmpint (s->length, ==, (int) n);
      for (guint i = 0; i < n; i++)
        {
          double r = relative (s->timesteps[i], t[i]);
          if (!karras || s->sampler == SF_SAMPLER_DPMPP_2M || s->sampler == SF_SAMPLER_DPMPP_2M_SDE)
            g_assert_cmpfloat (s->timesteps[i], ==, t[i]); /* integers */
          else
            g_assert_cmpfloat (r, <=, 1e-6);
          worst_t = fmax (worst_t, r);
          inexact_t += r != 0;
          values++;
        }
      if (json_object_has_member (entry, "sigmas"))
        {
          g_autofree double *sigma = sf_sampler_data_doubles (
            json_object_get_array_member (entry, "sigmas"), &n);
          g_assert_cmpint (s->length + 1, ==, (int) n);
          for (guint i = 0; i < n; i++)
            {
              double r = relative (s->sigmas[i], sigma[i]);
              g_assert_cmpfloat (r, <=, 1e-6);
              worst_sigma = fmax (worst_sigma, r);
              inexact_sigma += r != 0;
            }
        }
      else
        g_assert_null (s->sigmas);
      double init = json_object_get_double_member (entry, "init_noise_sigma");
      g_assert_cmpfloat (s->init_noise_sigma, ==, (float) init);
    }
  g_test_message ("%u timesteps: %u inexact, worst %.3g relative; sigmas: %u inexact, worst %.3g",
                  values, inexact_t, worst_t, inexact_sigma, worst_sigma);
}

static void
test_ranges_match_the_sdxl_pipelines (void)
{
  g_autoptr (JsonParser) parser = sf_sampler_data_json ("schedules.json");
  JsonArray *entries = json_object_get_array_member (schedules_root (parser), "schedules");
  for (guint e = 0; e < json_array_get_length (entries); e++)
    {
      JsonObject *entry = json_array_get_object_element (entries, e);
      g_autoptr (SfSchedule) s = schedule_for (entry);
      SfStepRange full = sf_schedule_full_range (s);
      g_assert_cmpint (full.begin, ==, 0);
      g_assert_cmpint (full.end, ==, s->length);

      JsonObject *img2img = json_object_get_object_member (entry, "img2img_begin");
      static const char *const strengths[] = { "0.3", "0.6", "0.75", "1.0" };
      for (guint i = 0; i < G_N_ELEMENTS (strengths); i++)
        {
          int begin = (int) json_object_get_int_member (img2img, strengths[i]);
          SfStepRange r;
          g_autoptr (GError) error = NULL;
          gboolean ok = sf_schedule_img2img_range (s, g_ascii_strtod (strengths[i], NULL), &r, &error);
          if (begin >= s->length)
            {
              /* diffusers would run nothing; Sfumato says so. */
              g_assert_false (ok);
              g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
              continue;
            }
          g_assert_no_error (error);
          g_assert_cmpint (r.begin, ==, begin);
          g_assert_cmpint (r.end, ==, s->length);
        }

      JsonObject *ends = json_object_get_object_member (entry, "denoising_end");
      JsonObject *starts = json_object_get_object_member (entry, "denoising_start");
      static const char *const fractions[] = { "0.5", "0.8" };
      for (guint i = 0; i < G_N_ELEMENTS (fractions); i++)
        {
          double f = g_ascii_strtod (fractions[i], NULL);
          int count = (int) json_object_get_int_member (ends, fractions[i]);
          int begin = (int) json_object_get_int_member (starts, fractions[i]);
          SfStepRange base, refiner;
          g_autoptr (GError) error = NULL;
          gboolean ok = sf_schedule_denoising_end_range (s, full, f, &base, &error);
          g_assert_cmpint (ok, ==, count > 0);
          if (ok)
            g_assert_cmpint (base.end, ==, count);
          g_clear_error (&error);
          g_assert_true (sf_schedule_denoising_start_range (s, f, &refiner, &error));
          g_assert_no_error (error);
          g_assert_cmpint (refiner.end, ==, s->length);
          if (refiner.begin == refiner.end)
            {
              /* No timestep below the cut: the base ran every step, and
               * diffusers' refiner takes timesteps[-0:], all of them
               * again; Sfumato's refiner runs none. */
              g_assert_cmpint (begin, ==, 0);
              g_assert_cmpint (count, ==, s->length);
            }
          else
            g_assert_cmpint (refiner.begin, ==, begin);
        }
    }
}

static void
test_heun_lookup_takes_the_second_of_a_pair (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SfSchedule) s = sf_schedule_new (SF_SAMPLER_HEUN, SF_SCHEDULER_NORMAL, 4, &error);
  g_assert_no_error (error);
  /* 751, 501, 501, 251, 251, 1, 1 */
  g_assert_cmpint (s->length, ==, 7);
  g_assert_cmpfloat (s->timesteps[0], ==, 751);
  g_assert_cmpfloat (s->timesteps[6], ==, 1);
  g_assert_cmpint (sf_schedule_lookup_index (s, 0), ==, 0);
  g_assert_cmpint (sf_schedule_lookup_index (s, 1), ==, 2);
  g_assert_cmpint (sf_schedule_lookup_index (s, 2), ==, 2);
  g_assert_cmpint (sf_schedule_lookup_index (s, 5), ==, 6);
  g_assert_cmpfloat (s->sigmas[7], ==, 0.0f);
  g_assert_cmpfloat (s->sigmas[1], ==, s->sigmas[2]);
}

/* SDXL's documented numbers: σ_max ≈ 14.61, σ_min ≈ 0.0292; DPM++ 2M
 * Karras ends at σ_min and repeats it. */
static void
test_dpm_karras_ends_at_sigma_min (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SfSchedule) s = sf_schedule_new (SF_SAMPLER_DPMPP_2M, SF_SCHEDULER_KARRAS, 25, &error);
  g_assert_no_error (error);
  g_assert_cmpfloat_with_epsilon (s->sigmas[0], 14.6146, 1e-3);
  g_assert_cmpfloat_with_epsilon (s->sigmas[24], 0.0292, 1e-4);
  g_assert_cmpfloat (s->sigmas[25], ==, s->sigmas[24]);
  g_assert_cmpfloat (s->timesteps[0], ==, 999);
  g_assert_cmpfloat (s->timesteps[24], ==, 0);
}

static void
test_bad_arguments_give_errors (void)
{
  g_autoptr (GError) error = NULL;
  g_assert_null (sf_schedule_new (SF_SAMPLER_EULER, SF_SCHEDULER_NORMAL, 0, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (sf_schedule_new (SF_SAMPLER_EULER, SF_SCHEDULER_NORMAL, SF_SCHEDULE_MAX_STEPS + 1,
                                  &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (sf_schedule_new (SF_SAMPLER_DDIM, SF_SCHEDULER_KARRAS, 20, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
  g_clear_error (&error);
  g_assert_null (sf_schedule_new ((SfSamplerKind) 17, SF_SCHEDULER_NORMAL, 20, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_autoptr (SfSchedule) s = sf_schedule_new (SF_SAMPLER_EULER, SF_SCHEDULER_NORMAL, 4, &error);
  g_assert_no_error (error);
  SfStepRange r = { -1, -1 };
  g_assert_false (sf_schedule_img2img_range (s, 1.5, &r, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (sf_schedule_img2img_range (s, NAN, &r, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (sf_schedule_img2img_range (s, 0.2, &r, &error)); /* int (4 · 0.2) = 0 steps */
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (sf_schedule_denoising_end_range (s, sf_schedule_full_range (s), 1.0, &r, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (sf_schedule_denoising_start_range (s, 0.0, &r, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  /* Timesteps 751, 501, 251, 1: nothing at or above 990. */
  g_assert_false (sf_schedule_denoising_end_range (s, sf_schedule_full_range (s), 0.01, &r, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  /* Nothing below 0: nothing for the refiner. */
  g_assert_true (sf_schedule_denoising_start_range (s, 0.9995, &r, &error));
  g_assert_no_error (error);
  g_assert_cmpint (r.begin, ==, 4);
  g_assert_cmpint (r.end, ==, 4);
}

int
main (int argc, char **argv)
{
  sf_test_init (&argc, &argv);
  sf_test_add ("/schedule/alphas-cumprod-are-exact", test_alphas_cumprod_are_exact);
  sf_test_add ("/schedule/timesteps-and-sigmas-match-diffusers",
               test_timesteps_and_sigmas_match_diffusers);
  sf_test_add ("/schedule/ranges-match-the-sdxl-pipelines", test_ranges_match_the_sdxl_pipelines);
  sf_test_add ("/schedule/heun-lookup-takes-the-second-of-a-pair",
               test_heun_lookup_takes_the_second_of_a_pair);
  sf_test_add ("/schedule/dpm-karras-ends-at-sigma-min", test_dpm_karras_ends_at_sigma_min);
  sf_test_add ("/schedule/bad-arguments-give-errors", test_bad_arguments_give_errors);
  return sf_test_run ();
}
