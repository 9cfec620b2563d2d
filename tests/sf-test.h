/* Shared by the test programs: the device (opened once per program, with
 * validation on), a validation check around every test, deterministic
 * random data and error measures. */
#pragma once

#include <glib.h>

#include "vk_device.h"

G_BEGIN_DECLS

/* g_test_init plus the settings every Sfumato test wants. */
void sf_test_init (int *argc, char ***argv);

/* Registers @func; the test fails if any validation-layer warning or error
 * appears while it runs. */
void sf_test_add (const char *path, void (*func) (void));

/* Runs the tests, frees the device, and fails when the validation layer
 * spoke during teardown (leaks are reported at vkDestroyDevice). */
int sf_test_run (void);

/* TRUE under sanitizers (SF_TEST_QUICK is set): tests then check fewer
 * and smaller cases, since the driver's shader compiler and the validation
 * layer run many times slower on the sanitizer's allocator. */
gboolean sf_test_quick (void);

/* The program's device, opened on first use (aborts the test if none). */
SfDevice *sf_test_device (void);

/* Deterministic pseudo-random numbers (splitmix64). */
typedef struct { guint64 state; } SfTestRng;
void sf_test_rng_init (SfTestRng *rng, guint64 seed);
float sf_test_rng_uniform (SfTestRng *rng, float low, float high);
float sf_test_rng_normal (SfTestRng *rng);
float *sf_test_random_array (SfTestRng *rng, gsize count, float low, float high);

/* ||a - b|| / ||b||, in double; 0 when both are 0. */
double sf_test_rel_l2 (const float *a, const float *b, gsize count);
double sf_test_max_abs_diff (const float *a, const float *b, gsize count);

/* Asserts rel_l2 <= @tolerance, printing where the worst element is. */
#define sf_assert_close(actual, expected, count, tolerance) \
  sf_test_assert_close_impl (G_STRLOC, #actual, (actual), (expected), (count), (tolerance))
void sf_test_assert_close_impl (const char *where, const char *what, const float *actual,
                                const float *expected, gsize count, double tolerance);

G_END_DECLS
