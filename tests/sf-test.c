#include "sf-test.h"

#include <math.h>
#include <stdio.h>

static SfDevice *test_device;

typedef struct {
  void (*func) (void);
} TestCase;

void
sf_test_init (int *argc, char ***argv)
{
  g_test_init (argc, argv, NULL);
  /* Tests always run with validation; ctest sets it too. */
  g_setenv ("SFUMATO_VALIDATE", "1", FALSE);
}

gboolean
sf_test_quick (void)
{
  return g_getenv ("SF_TEST_QUICK") != NULL;
}

SfDevice *
sf_test_device (void)
{
  if (!test_device)
    {
      g_autoptr (GError) error = NULL;
      test_device = sf_device_open (NULL, &error);
      g_assert_no_error (error);
      g_assert_nonnull (test_device);
    }
  return test_device;
}

static void
run_case (gconstpointer data)
{
  const TestCase *test = data;
  guint before = sf_vk_validation_message_count ();
  test->func ();
  g_assert_cmpuint (sf_vk_validation_message_count (), ==, before);
}

void
sf_test_add (const char *path, void (*func) (void))
{
  TestCase *test = g_new0 (TestCase, 1); /* lives as long as the program */
  test->func = func;
  g_test_add_data_func_full (path, test, run_case, g_free);
}

int
sf_test_run (void)
{
  int status = g_test_run ();
  guint before = sf_vk_validation_message_count ();
  g_clear_pointer (&test_device, sf_device_free);
  if (sf_vk_validation_message_count () != before)
    {
      fprintf (stderr, "validation messages while freeing the device (leaks?)\n");
      return 1;
    }
  return status;
}

void
sf_test_rng_init (SfTestRng *rng, guint64 seed)
{
  rng->state = seed;
}

static guint64
next_u64 (SfTestRng *rng)
{
  guint64 z = (rng->state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

float
sf_test_rng_uniform (SfTestRng *rng, float low, float high)
{
  double unit = (double) (next_u64 (rng) >> 11) * (1.0 / 9007199254740992.0);
  return (float) (low + (high - low) * unit);
}

float
sf_test_rng_normal (SfTestRng *rng)
{
  double u1 = ((double) (next_u64 (rng) >> 11) + 1.0) * (1.0 / 9007199254740993.0);
  double u2 = (double) (next_u64 (rng) >> 11) * (1.0 / 9007199254740992.0);
  return (float) (sqrt (-2.0 * log (u1)) * cos (2.0 * G_PI * u2));
}

float *
sf_test_random_array (SfTestRng *rng, gsize count, float low, float high)
{
  float *data = g_new (float, MAX (count, 1));
  for (gsize i = 0; i < count; i++)
    data[i] = sf_test_rng_uniform (rng, low, high);
  return data;
}

double
sf_test_rel_l2 (const float *a, const float *b, gsize count)
{
  double diff = 0, norm = 0;
  for (gsize i = 0; i < count; i++)
    {
      double d = (double) a[i] - (double) b[i];
      diff += d * d;
      norm += (double) b[i] * (double) b[i];
    }
  if (norm == 0)
    return diff == 0 ? 0 : INFINITY;
  return sqrt (diff / norm);
}

double
sf_test_max_abs_diff (const float *a, const float *b, gsize count)
{
  double worst = 0;
  for (gsize i = 0; i < count; i++)
    {
      double d = fabs ((double) a[i] - (double) b[i]);
      if (!(d <= worst))
        worst = d; /* NaN propagates */
    }
  return worst;
}

void
sf_test_assert_close_impl (const char *where, const char *what, const float *actual,
                           const float *expected, gsize count, double tolerance)
{
  double error = sf_test_rel_l2 (actual, expected, count);
  if (error <= tolerance)
    return;
  gsize worst = 0;
  double worst_diff = -1;
  for (gsize i = 0; i < count; i++)
    {
      double d = fabs ((double) actual[i] - (double) expected[i]);
      if (isnan (d) || d > worst_diff)
        {
          worst = i;
          worst_diff = isnan (d) ? INFINITY : d;
        }
    }
  g_autofree char *message = g_strdup_printf (
    "%s: relative L2 error %.3g > %.3g over %" G_GSIZE_FORMAT " values; worst at [%" G_GSIZE_FORMAT
    "]: %.8g vs %.8g", what, error, tolerance, count, worst,
    count ? actual[worst] : 0.0f, count ? expected[worst] : 0.0f);
  g_assertion_message (G_LOG_DOMAIN, where, 0, G_STRFUNC, message);
}
