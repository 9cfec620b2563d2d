/* Normalisation ops (op_norm.c) against plain C references in double:
 * group norm (both of its paths, SiLU, SDXL's shapes, groups with a large
 * mean), layer norm, softmax. */
#include <math.h>
#include <string.h>

#include "op-test.h"
#include "vk_error.h"

/* fp32 statistics over up to 10^6 values per group and one rounding per
 * step of the normalisation: well within STYLE.md's 1e-5. */
#define TOLERANCE 1e-5

#define expect_invalid(call, error, text) \
  G_STMT_START { \
    g_assert_false (call); \
    g_assert_error (error, SF_VK_ERROR, SF_VK_ERROR_INVALID); \
    g_assert_nonnull (strstr (error->message, text)); \
    g_test_message ("%s", error->message); \
    g_clear_error (&error); \
  } G_STMT_END

static double
silu (double v)
{
  return v / (1.0 + exp (-v));
}

static void
reference_group_norm (const float *x, const float *gamma, const float *beta, int64_t n,
                      int64_t positions, int64_t channels, int groups, double eps,
                      gboolean with_silu, float *out)
{
  int64_t cg = channels / groups;
  for (int64_t i = 0; i < n; i++)
    for (int g = 0; g < groups; g++)
      {
        const float *base = x + i * positions * channels + g * cg;
        double sum = 0, m2 = 0;
        for (int64_t s = 0; s < positions; s++)
          for (int64_t c = 0; c < cg; c++)
            sum += base[s * channels + c];
        double mean = sum / (double) (positions * cg);
        for (int64_t s = 0; s < positions; s++)
          for (int64_t c = 0; c < cg; c++)
            {
              double d = base[s * channels + c] - mean;
              m2 += d * d;
            }
        double rstd = 1.0 / sqrt (m2 / (double) (positions * cg) + eps);
        for (int64_t s = 0; s < positions; s++)
          for (int64_t c = 0; c < cg; c++)
            {
              int64_t channel = g * cg + c;
              int64_t index = (i * positions + s) * channels + channel;
              double y = (x[index] - mean) * rstd * gamma[channel] + beta[channel];
              out[index] = (float) (with_silu ? silu (y) : y);
            }
      }
}

/* Data: uniform with mean @offset and standard deviation @scale, plus a
 * per-channel bias so that channels within a group differ. A cheap
 * generator: the VAE-sized case has 33M values. */
static float *
image_data (SfTestRng *rng, gsize count, int64_t channels, float offset, float scale)
{
  float *data = g_new (float, MAX (count, 1));
  guint32 state = (guint32) (sf_test_rng_uniform (rng, 0.0f, 1.0f) * 4294967295.0f) | 1u;
  for (gsize i = 0; i < count; i++)
    {
      state = state * 1664525u + 1013904223u;
      float unit = (float) (state >> 8) * (1.0f / 16777216.0f) - 0.5f;   /* var 1/12 */
      data[i] = offset + scale * 3.4641016f * unit + 0.3f * (float) ((i % channels) % 7);
    }
  return data;
}

static double
check_group_norm (SfArena *arena, SfTestRng *rng, int ndim, const int64_t *shape, int groups,
                  float eps, gboolean with_silu, float offset, float scale, double tolerance)
{
  SfDevice *device = sf_test_device ();
  int64_t channels = shape[ndim - 1], n = shape[0];
  gsize count = op_test_numel (ndim, shape);
  int64_t positions = (int64_t) count / (n * channels);
  g_autofree float *x = image_data (rng, count, channels, offset, scale);
  g_autofree float *gamma = sf_test_random_array (rng, channels, 0.5f, 1.5f);
  g_autofree float *beta = sf_test_random_array (rng, channels, -0.5f, 0.5f);
  g_autofree float *expected = g_new (float, count);
  reference_group_norm (x, gamma, beta, n, positions, channels, groups, eps, with_silu,
                        expected);
  g_autoptr (SfTensor) xt = op_test_tensor (arena, SF_DTYPE_F32, ndim, shape, x);
  g_autoptr (SfTensor) gt = op_test_tensor (arena, SF_DTYPE_F32, 1, &channels, gamma);
  g_autoptr (SfTensor) bt = op_test_tensor (arena, SF_DTYPE_F32, 1, &channels, beta);
  g_autoptr (SfTensor) out = op_test_tensor_like (arena, xt);
  g_autoptr (SfStream) stream = sf_stream_new (device, NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (sf_op_group_norm (stream, xt, gt, bt, groups, eps, with_silu, out, &error));
  g_assert_no_error (error);
  guint dispatches = sf_stream_get_dispatch_count (stream);
  op_test_run (stream);
  g_autofree float *actual = op_test_download (out);
  double rel = sf_test_rel_l2 (actual, expected, count);
  g_autofree char *text = op_test_shape_text (ndim, shape);
  g_test_message ("group_norm %s G=%d eps %g silu %d mean %g: %u dispatches, rel L2 %.3g", text,
                  groups, (double) eps, with_silu, (double) offset, dispatches, rel);
  sf_assert_close (actual, expected, count, tolerance);
  return rel;
}

/* Channel counts that are not a multiple of 4 and small tensors: the
 * one-dispatch kernel. */
static void
test_group_norm_small_and_odd (void)
{
  g_autoptr (SfArena) arena = sf_arena_new (sf_test_device (), "test");
  SfTestRng rng;
  sf_test_rng_init (&rng, 1);
  check_group_norm (arena, &rng, 4, (int64_t[]) { 1, 5, 5, 6 }, 3, 1e-5f,
                    FALSE, 0.0f, 1.0f, TOLERANCE);
  check_group_norm (arena, &rng, 3, (int64_t[]) { 2, 7, 6 }, 2, 1e-6f, TRUE, 0.5f, 2.0f, TOLERANCE);
  check_group_norm (arena, &rng, 4, (int64_t[]) { 2, 3, 3, 10 }, 5, 1e-5f,
                    TRUE, 0.0f, 1.0f, TOLERANCE);
  check_group_norm (arena, &rng, 4, (int64_t[]) { 1, 1, 1, 4 }, 2, 1e-5f,
                    FALSE, 0.0f, 1.0f, TOLERANCE);
  check_group_norm (arena, &rng, 3, (int64_t[]) { 2, 2, 32 }, 32, 1e-5f,
                    FALSE, 0.0f, 1.0f, TOLERANCE);
  check_group_norm (arena, &rng, 4, (int64_t[]) { 1, 33, 31, 9 }, 3, 1e-6f,
                    FALSE, 3.0f, 1.0f, TOLERANCE);
  check_group_norm (arena, &rng, 2, (int64_t[]) { 3, 12 }, 4, 1e-5f, TRUE, 0.0f, 1.0f, TOLERANCE);
}

/* The three-pass path: column blocks that do not fill 64 lanes, groups
 * that straddle texels and blocks, odd spatial sizes, quads and single
 * texels per store. */
static void
test_group_norm_large_images (void)
{
  g_autoptr (SfArena) arena = sf_arena_new (sf_test_device (), "test");
  SfTestRng rng;
  sf_test_rng_init (&rng, 2);
  check_group_norm (arena, &rng, 4, (int64_t[]) { 1, 32, 32, 128 }, 32, 1e-6f,
                    TRUE, 0.0f, 1.0f, TOLERANCE);
  check_group_norm (arena, &rng, 4, (int64_t[]) { 2, 16, 16, 320 }, 32, 1e-5f,
                    TRUE, 0.0f, 1.0f, TOLERANCE);
  check_group_norm (arena, &rng, 4, (int64_t[]) { 1, 17, 19, 640 }, 32, 1e-5f,
                    FALSE, 1.0f, 2.0f, TOLERANCE);
  check_group_norm (arena, &rng, 4, (int64_t[]) { 2, 9, 11, 1280 }, 32, 1e-5f,
                    TRUE, 0.0f, 1.0f, TOLERANCE);
  check_group_norm (arena, &rng, 4, (int64_t[]) { 1, 40, 41, 44 }, 11, 1e-5f,
                    FALSE, 0.0f, 1.0f, TOLERANCE);
  check_group_norm (arena, &rng, 3, (int64_t[]) { 2, 999, 96 }, 8, 1e-5f,
                    TRUE, 0.0f, 1.0f, TOLERANCE);
  check_group_norm (arena, &rng, 4, (int64_t[]) { 1, 64, 64, 960 }, 32, 1e-5f,
                    TRUE, 0.0f, 1.0f, TOLERANCE);
}

/* The UNet's group norm at 64×64 with 640 channels, batch 2. */
static void
test_group_norm_sdxl_shape (void)
{
  g_autoptr (SfArena) arena = sf_arena_new (sf_test_device (), "test");
  SfTestRng rng;
  sf_test_rng_init (&rng, 3);
  check_group_norm (arena, &rng, 4, (int64_t[]) { 2, 64, 64, 640 }, 32, 1e-5f,
                    TRUE, 0.0f, 1.0f, TOLERANCE);
}

/* 128×128 positions × 10 channels per group, all far from zero: a one-pass
 * sum of squares in fp32 would lose the variance; the shifted block-wise
 * updates keep it. */
static void
test_group_norm_keeps_variance_of_large_groups_with_offset (void)
{
  g_autoptr (SfArena) arena = sf_arena_new (sf_test_device (), "test");
  SfTestRng rng;
  sf_test_rng_init (&rng, 4);
  const int64_t shape[] = { 1, 128, 128, 320 };
  check_group_norm (arena, &rng, 4, shape, 32, 1e-5f, FALSE, 100.0f, 1.0f, TOLERANCE);
  /* The same through the one-dispatch kernel (10 channels per group). */
  check_group_norm (arena, &rng, 4, (int64_t[]) { 1, 128, 128, 10 }, 1, 1e-6f, FALSE, 100.0f,
                    1.0f, TOLERANCE);
  /* Mean -1000, std 0.5: an fp32 mean alone would be off by up to half a
   * unit in the last place of 1000, 6e-5 of the std; the shifted sums keep
   * the mean as K + (mean - K) instead. */
  check_group_norm (arena, &rng, 4, shape, 32, 1e-6f, FALSE, -1000.0f, 0.5f, TOLERANCE);
  check_group_norm (arena, &rng, 4, (int64_t[]) { 2, 100, 100, 12 }, 3, 1e-6f, TRUE, 1000.0f,
                    0.5f, TOLERANCE);
}

/* The VAE's largest group norm input at 512×512 output: exactly 128 MiB,
 * the most one storage binding may span on lavapipe. */
static void
test_group_norm_vae_shape (void)
{
#ifdef __SANITIZE_ADDRESS__
  g_test_skip ("too slow under AddressSanitizer (33M elements, reference in double)");
  return;
#endif
  g_autoptr (SfArena) arena = sf_arena_new (sf_test_device (), "test");
  SfTestRng rng;
  sf_test_rng_init (&rng, 5);
  check_group_norm (arena, &rng, 4, (int64_t[]) { 1, 512, 512, 128 }, 32, 1e-6f, TRUE, 0.0f,
                    1.0f, TOLERANCE);
}

/* With small bindings, apply runs in slices and copes with the scratch
 * rows at the end; results must not change. */
static void
test_group_norm_slices_large_outputs (void)
{
  g_autoptr (SfArena) arena = sf_arena_new (sf_test_device (), "test");
  SfTestRng rng;
  sf_test_rng_init (&rng, 6);
  op_test_limit_bindings (64 * 1024);
  check_group_norm (arena, &rng, 4, (int64_t[]) { 2, 24, 24, 64 }, 32, 1e-5f,
                    TRUE, 0.0f, 1.0f, TOLERANCE);
  check_group_norm (arena, &rng, 4, (int64_t[]) { 1, 50, 50, 32 }, 8, 1e-5f,
                    FALSE, 0.0f, 1.0f, TOLERANCE);
  op_test_limit_bindings (0);
}

static void
reference_layer_norm (const float *x, const float *gamma, const float *beta, gsize rows,
                      int64_t channels, double eps, float *out)
{
  for (gsize r = 0; r < rows; r++)
    {
      const float *row = x + r * channels;
      double sum = 0, m2 = 0;
      for (int64_t c = 0; c < channels; c++)
        sum += row[c];
      double mean = sum / (double) channels;
      for (int64_t c = 0; c < channels; c++)
        m2 += (row[c] - mean) * (row[c] - mean);
      double rstd = 1.0 / sqrt (m2 / (double) channels + eps);
      for (int64_t c = 0; c < channels; c++)
        out[r * channels + c] = (float) ((row[c] - mean) * rstd * gamma[c] + beta[c]);
    }
}

static void
check_layer_norm (SfArena *arena, SfTestRng *rng, int ndim, const int64_t *shape, float eps,
                  float offset, float scale)
{
  SfDevice *device = sf_test_device ();
  int64_t channels = shape[ndim - 1];
  gsize count = op_test_numel (ndim, shape);
  g_autofree float *x = image_data (rng, count, channels, offset, scale);
  g_autofree float *gamma = sf_test_random_array (rng, channels, 0.5f, 1.5f);
  g_autofree float *beta = sf_test_random_array (rng, channels, -0.5f, 0.5f);
  g_autofree float *expected = g_new (float, count);
  reference_layer_norm (x, gamma, beta, count / channels, channels, eps, expected);
  g_autoptr (SfTensor) xt = op_test_tensor (arena, SF_DTYPE_F32, ndim, shape, x);
  g_autoptr (SfTensor) gt = op_test_tensor (arena, SF_DTYPE_F32, 1, &channels, gamma);
  g_autoptr (SfTensor) bt = op_test_tensor (arena, SF_DTYPE_F32, 1, &channels, beta);
  g_autoptr (SfTensor) out = op_test_tensor_like (arena, xt);
  g_autoptr (SfStream) stream = sf_stream_new (device, NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (sf_op_layer_norm (stream, xt, gt, bt, eps, out, &error));
  g_assert_no_error (error);
  op_test_run (stream);
  g_autofree float *actual = op_test_download (out);
  g_autofree char *text = op_test_shape_text (ndim, shape);
  g_test_message ("layer_norm %s mean %g: rel L2 %.3g", text, (double) offset,
                  sf_test_rel_l2 (actual, expected, count));
  sf_assert_close (actual, expected, count, TOLERANCE);
}

static void
test_layer_norm (void)
{
  g_autoptr (SfArena) arena = sf_arena_new (sf_test_device (), "test");
  SfTestRng rng;
  sf_test_rng_init (&rng, 7);
  check_layer_norm (arena, &rng, 1, (int64_t[]) { 1 }, 1e-5f, 0.0f, 1.0f);
  check_layer_norm (arena, &rng, 2, (int64_t[]) { 3, 7 }, 1e-5f, 0.0f, 1.0f);
  check_layer_norm (arena, &rng, 2, (int64_t[]) { 5, 8 }, 1e-6f, 0.0f, 1.0f);
  check_layer_norm (arena, &rng, 2, (int64_t[]) { 130, 13 }, 1e-5f, 2.0f, 3.0f);
  check_layer_norm (arena, &rng, 3, (int64_t[]) { 2, 77, 768 }, 1e-5f, 0.0f, 1.0f);
  check_layer_norm (arena, &rng, 3, (int64_t[]) { 1, 77, 1280 }, 1e-5f, 0.0f, 20.0f);
  check_layer_norm (arena, &rng, 2, (int64_t[]) { 65, 1001 }, 1e-5f, 0.0f, 1.0f);
  /* Rows far from zero. */
  check_layer_norm (arena, &rng, 2, (int64_t[]) { 100, 640 }, 1e-5f, 1000.0f, 1.0f);
  check_layer_norm (arena, &rng, 2, (int64_t[]) { 100, 77 }, 1e-5f, -300.0f, 0.25f);
}

/* The UNet's transformer blocks at 64×64: [2, 4096, 640]. */
static void
test_layer_norm_sdxl_shape (void)
{
  g_autoptr (SfArena) arena = sf_arena_new (sf_test_device (), "test");
  SfTestRng rng;
  sf_test_rng_init (&rng, 8);
  check_layer_norm (arena, &rng, 3, (int64_t[]) { 2, 4096, 640 }, 1e-5f, 0.0f, 1.0f);
}

static void
check_softmax (SfArena *arena, SfTestRng *rng, int ndim, const int64_t *shape, float scale,
               gboolean masked)
{
  SfDevice *device = sf_test_device ();
  int64_t channels = shape[ndim - 1];
  gsize count = op_test_numel (ndim, shape), rows = count / channels;
  g_autofree float *x = g_new (float, count);
  for (gsize i = 0; i < count; i++)
    x[i] = scale * sf_test_rng_normal (rng);
  if (masked)   /* a causal mask: -inf past the diagonal */
    for (gsize r = 0; r < rows; r++)
      for (int64_t c = (int64_t) (r % channels) + 1; c < channels; c++)
        x[r * channels + c] = -INFINITY;
  g_autofree float *expected = g_new (float, count);
  for (gsize r = 0; r < rows; r++)
    {
      const float *row = x + r * channels;
      double top = -INFINITY, sum = 0;
      for (int64_t c = 0; c < channels; c++)
        top = MAX (top, row[c]);
      for (int64_t c = 0; c < channels; c++)
        sum += exp (row[c] - top);
      for (int64_t c = 0; c < channels; c++)
        expected[r * channels + c] = (float) (exp (row[c] - top) / sum);
    }
  g_autoptr (SfTensor) xt = op_test_tensor (arena, SF_DTYPE_F32, ndim, shape, x);
  g_autoptr (SfTensor) out = op_test_tensor_like (arena, xt);
  g_autoptr (SfStream) stream = sf_stream_new (device, NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (sf_op_softmax (stream, xt, out, &error));
  g_assert_no_error (error);
  op_test_run (stream);
  g_autofree float *actual = op_test_download (out);
  g_autofree char *text = op_test_shape_text (ndim, shape);
  g_test_message ("softmax %s scale %g: rel L2 %.3g", text, (double) scale,
                  sf_test_rel_l2 (actual, expected, count));
  sf_assert_close (actual, expected, count, TOLERANCE);
}

static void
test_softmax (void)
{
  g_autoptr (SfArena) arena = sf_arena_new (sf_test_device (), "test");
  SfTestRng rng;
  sf_test_rng_init (&rng, 9);
  check_softmax (arena, &rng, 1, (int64_t[]) { 1 }, 1.0f, FALSE);
  check_softmax (arena, &rng, 2, (int64_t[]) { 3, 5 }, 1.0f, FALSE);
  check_softmax (arena, &rng, 2, (int64_t[]) { 193, 8 }, 3.0f, FALSE);
  check_softmax (arena, &rng, 3, (int64_t[]) { 10, 300, 77 }, 2.0f, FALSE);
  check_softmax (arena, &rng, 2, (int64_t[]) { 2, 4096 }, 1.0f, FALSE);
  check_softmax (arena, &rng, 2, (int64_t[]) { 7, 4097 }, 1.0f, FALSE);
  /* Large logits: exp would overflow without subtracting the max. */
  check_softmax (arena, &rng, 2, (int64_t[]) { 65, 33 }, 1000.0f, FALSE);
  check_softmax (arena, &rng, 2, (int64_t[]) { 77, 77 }, 1.0f, TRUE);
  check_softmax (arena, &rng, 2, (int64_t[]) { 80, 80 }, 1.0f, TRUE);
}

static void
test_norms_slice_large_outputs (void)
{
  g_autoptr (SfArena) arena = sf_arena_new (sf_test_device (), "test");
  SfTestRng rng;
  sf_test_rng_init (&rng, 10);
  op_test_limit_bindings (4096);
  check_layer_norm (arena, &rng, 2, (int64_t[]) { 300, 20 }, 1e-5f, 0.0f, 1.0f);
  check_layer_norm (arena, &rng, 2, (int64_t[]) { 300, 13 }, 1e-5f, 0.0f, 1.0f);
  check_softmax (arena, &rng, 2, (int64_t[]) { 300, 24 }, 1.0f, FALSE);
  check_softmax (arena, &rng, 2, (int64_t[]) { 301, 7 }, 1.0f, FALSE);
  op_test_limit_bindings (0);
}

/* A tensor header claiming @shape on top of @real's memory: enough for
 * checks that must fail before anything is recorded. */
static SfTensor
pretend (const SfTensor *real, int ndim, const int64_t *shape)
{
  SfTensor fake = *real;
  fake.arena = NULL;
  fake.ndim = ndim;
  for (int i = 0; i < SF_MAX_DIMS; i++)
    fake.shape[i] = i < ndim ? shape[i] : 1;
  return fake;
}

static void
test_norms_refuse_bad_input (void)
{
  SfDevice *device = sf_test_device ();
  g_autoptr (SfArena) arena = sf_arena_new (device, "test");
  g_autoptr (SfTensor) x = op_test_tensor (arena, SF_DTYPE_F32, 4, (int64_t[]) { 1, 4, 4, 8 }, NULL);
  g_autoptr (SfTensor) y = op_test_tensor (arena, SF_DTYPE_F32, 4, (int64_t[]) { 1, 4, 4, 8 }, NULL);
  g_autoptr (SfTensor) odd = op_test_tensor (arena, SF_DTYPE_F32, 4, (int64_t[]) { 1, 4, 4, 9 }, NULL);
  g_autoptr (SfTensor) odd_out = op_test_tensor_like (arena, odd);
  g_autoptr (SfTensor) c8 = op_test_tensor (arena, SF_DTYPE_F32, 1, (int64_t[]) { 8 }, NULL);
  g_autoptr (SfTensor) c9 = op_test_tensor (arena, SF_DTYPE_F32, 1, (int64_t[]) { 9 }, NULL);
  g_autoptr (SfTensor) c7 = op_test_tensor (arena, SF_DTYPE_F32, 1, (int64_t[]) { 7 }, NULL);
  g_autoptr (SfTensor) h = op_test_tensor (arena, SF_DTYPE_F16, 4, (int64_t[]) { 1, 4, 4, 8 }, NULL);
  g_autoptr (SfStream) stream = sf_stream_new (device, NULL);
  GError *error = NULL;

  expect_invalid (sf_op_group_norm (stream, x, c8, c8, 3, 1e-5f, FALSE, y, &error), error,
                  "groups");
  expect_invalid (sf_op_group_norm (stream, x, c7, c8, 2, 1e-5f, FALSE, y, &error), error,
                  "gamma");
  expect_invalid (sf_op_group_norm (stream, x, c8, c8, 2, 1e-5f, FALSE, odd, &error), error,
                  "group_norm");
  expect_invalid (sf_op_group_norm (stream, x, c8, c8, 2, 1e-5f, FALSE, x, &error), error,
                  "share memory");
  expect_invalid (sf_op_group_norm (stream, h, c8, c8, 2, 1e-5f, FALSE, y, &error), error,
                  "f32");
  expect_invalid (sf_op_group_norm (stream, x, c8, c8, 2, -1.0f, FALSE, y, &error), error,
                  "eps");
  expect_invalid (sf_op_layer_norm (stream, x, c9, c8, 1e-5f, y, &error), error, "gamma");
  expect_invalid (sf_op_layer_norm (stream, x, c8, c8, 1e-5f, odd, &error), error,
                  "layer_norm");
  expect_invalid (sf_op_softmax (stream, x, odd, &error), error, "softmax");
  expect_invalid (sf_op_softmax (stream, x, x, &error), error, "share memory");

  /* Larger than one binding may be, where the op cannot slice (9 channels
   * is not a multiple of 4): a clear error, nothing recorded. */
  op_test_limit_bindings (256);
  expect_invalid (sf_op_group_norm (stream, odd, c9, c9, 3, 1e-5f, FALSE, odd_out, &error),
                  error, "binding");
  op_test_limit_bindings (0);

  /* Larger than a texel view may be (4 GiB): refused before recording.
   * Each pretend tensor sits in its own arena (its own buffer), so they do
   * not overlap. */
  g_autoptr (SfArena) arena_out = sf_arena_new (device, "test");
  g_autoptr (SfArena) arena_gamma = sf_arena_new (device, "test");
  g_autoptr (SfTensor) y2 = op_test_tensor (arena_out, SF_DTYPE_F32, 1, (int64_t[]) { 4 }, NULL);
  g_autoptr (SfTensor) g2 = op_test_tensor (arena_gamma, SF_DTYPE_F32, 1, (int64_t[]) { 16 },
                                            NULL);
  const int64_t huge[] = { 1, 8192, 8192, 16 };
  SfTensor huge_x = pretend (x, 4, huge), huge_out = pretend (y2, 4, huge);
  expect_invalid (sf_op_group_norm (stream, &huge_x, g2, g2, 4, 1e-5f, TRUE, &huge_out, &error),
                  error, "texel");
  expect_invalid (sf_op_layer_norm (stream, &huge_x, g2, g2, 1e-5f, &huge_out, &error), error,
                  "texel");
  expect_invalid (sf_op_softmax (stream, &huge_x, &huge_out, &error), error, "texel");
  g_assert_cmpuint (sf_stream_get_dispatch_count (stream), ==, 0);
}

int
main (int argc, char **argv)
{
  sf_test_init (&argc, &argv);
  sf_test_add ("/op/group-norm/handles-odd-channels-and-small-tensors",
               test_group_norm_small_and_odd);
  sf_test_add ("/op/group-norm/handles-large-images", test_group_norm_large_images);
  sf_test_add ("/op/group-norm/handles-the-unet-shape", test_group_norm_sdxl_shape);
  sf_test_add ("/op/group-norm/keeps-variance-of-large-groups-far-from-zero",
               test_group_norm_keeps_variance_of_large_groups_with_offset);
  sf_test_add ("/op/group-norm/handles-a-128-mib-vae-tensor", test_group_norm_vae_shape);
  sf_test_add ("/op/group-norm/slices-outputs-larger-than-a-binding",
               test_group_norm_slices_large_outputs);
  sf_test_add ("/op/layer-norm/matches-reference", test_layer_norm);
  sf_test_add ("/op/layer-norm/handles-the-unet-shape", test_layer_norm_sdxl_shape);
  sf_test_add ("/op/softmax/matches-reference-and-stays-stable", test_softmax);
  sf_test_add ("/op/norm/slices-outputs-larger-than-a-binding", test_norms_slice_large_outputs);
  sf_test_add ("/op/norm/refuses-bad-input", test_norms_refuse_bad_input);
  return sf_test_run ();
}
