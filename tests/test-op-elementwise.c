/* Elementwise ops (op_elementwise.c) against plain C references computed
 * in double: activations, GEGLU, broadcast add and multiply, scale. */
#include <math.h>
#include <string.h>

#include "op-test.h"
#include "vk_error.h"

/* Every op here is a few float32 operations per element; the shaders' exp
 * (llvmpipe's polynomial) and the erfc fit (1.2e-7) keep results within a
 * few units in the last place, so the STYLE.md tolerance holds. */
#define TOLERANCE 1e-5
/* Sums and products of two floats are correctly rounded: only the final
 * rounding separates them from the double reference. */
#define EXACT_TOLERANCE 1e-7

static double
reference_activation (SfActivation act, double x)
{
  switch (act)
    {
    case SF_ACT_SILU:
      return x / (1.0 + exp (-x));
    case SF_ACT_GELU:
      /* 0.5 x (1 + erf(x/√2)), written with erfc so that the tail for
       * negative x does not cancel to 0 in double either. */
      return 0.5 * x * erfc (-x / sqrt (2.0));
    case SF_ACT_GELU_TANH:
      /* 0.5 x (1 + tanh(u)) = x / (1 + exp(-2u)), which does not cancel. */
      return x / (1.0 + exp (-2.0 * sqrt (2.0 / G_PI) * (x + 0.044715 * x * x * x)));
    case SF_ACT_QUICK_GELU:
      return x / (1.0 + exp (-1.702 * x));
    }
  g_assert_not_reached ();
}

/* Mostly N(0, 3²) with every 17th value pushed far into a tail. */
static float *
random_activations (SfTestRng *rng, gsize count)
{
  float *data = g_new (float, MAX (count, 1));
  for (gsize i = 0; i < count; i++)
    {
      data[i] = 3.0f * sf_test_rng_normal (rng);
      if (i % 17 == 5)
        data[i] = sf_test_rng_uniform (rng, -40.0f, 40.0f);
    }
  return data;
}

static const int64_t activation_shapes[][5] = {
  /* ndim, shape */
  { 1, 1 }, { 1, 7 }, { 2, 3, 5 }, { 3, 3, 7, 11 }, { 4, 2, 3, 4, 5 },
  { 2, 33, 64 }, { 4, 2, 16, 16, 8 }, { 3, 1, 77, 3073 },
};

static void
check_activation (SfActivation act, gboolean in_place)
{
  SfDevice *device = sf_test_device ();
  g_autoptr (SfArena) arena = sf_arena_new (device, "test");
  SfTestRng rng;
  sf_test_rng_init (&rng, 100 + act * 2 + in_place);
  for (gsize s = 0; s < G_N_ELEMENTS (activation_shapes); s++)
    {
      int ndim = (int) activation_shapes[s][0];
      const int64_t *shape = &activation_shapes[s][1];
      gsize count = op_test_numel (ndim, shape);
      g_autofree float *input = random_activations (&rng, count);
      g_autofree float *expected = g_new (float, count);
      for (gsize i = 0; i < count; i++)
        expected[i] = (float) reference_activation (act, input[i]);

      g_autoptr (SfTensor) x = op_test_tensor (arena, SF_DTYPE_F32, ndim, shape, input);
      g_autoptr (SfTensor) y = in_place ? NULL : op_test_tensor_like (arena, x);
      g_autoptr (SfStream) stream = sf_stream_new (device, NULL);
      g_autoptr (GError) error = NULL;
      g_assert_true (sf_op_activation (stream, act, x, in_place ? x : y, &error));
      g_assert_no_error (error);
      op_test_run (stream);
      g_autofree float *actual = op_test_download (in_place ? x : y);
      g_autofree char *text = op_test_shape_text (ndim, shape);
      g_test_message ("activation %d %s%s: rel L2 %.3g", act, text, in_place ? " in place" : "",
                      sf_test_rel_l2 (actual, expected, count));
      for (gsize i = 0; i < count; i++)
        g_assert_false (isnan (actual[i]));
      sf_assert_close (actual, expected, count, TOLERANCE);
    }
}

static void
test_activation_silu (void)
{
  check_activation (SF_ACT_SILU, FALSE);
  check_activation (SF_ACT_SILU, TRUE);
}

static void
test_activation_gelu (void)
{
  check_activation (SF_ACT_GELU, FALSE);
  check_activation (SF_ACT_GELU, TRUE);
}

static void
test_activation_gelu_tanh (void)
{
  check_activation (SF_ACT_GELU_TANH, FALSE);
  check_activation (SF_ACT_GELU_TANH, TRUE);
}

static void
test_activation_quick_gelu (void)
{
  check_activation (SF_ACT_QUICK_GELU, FALSE);
  check_activation (SF_ACT_QUICK_GELU, TRUE);
}

/* Each element on its own: the relative error per element stays small
 * even in the tails, where the values are tiny. float32 rounding of an
 * exp() argument near -70 (GELU at x = -12) alone is ~4e-6 relative. */
static void
test_activation_tails_are_accurate (void)
{
  SfDevice *device = sf_test_device ();
  g_autoptr (SfArena) arena = sf_arena_new (device, "test");
  const int64_t n = 4096;
  g_autofree float *input = g_new (float, n);
  for (int64_t i = 0; i < n; i++)
    input[i] = -12.0f + 24.0f * (float) i / (float) (n - 1);
  for (int act = SF_ACT_SILU; act <= SF_ACT_QUICK_GELU; act++)
    {
      g_autoptr (SfTensor) x = op_test_tensor (arena, SF_DTYPE_F32, 1, &n, input);
      g_autoptr (SfStream) stream = sf_stream_new (device, NULL);
      g_assert_true (sf_op_activation (stream, act, x, x, NULL));
      op_test_run (stream);
      g_autofree float *actual = op_test_download (x);
      double worst = 0;
      int64_t worst_i = 0;
      for (int64_t i = 0; i < n; i++)
        {
          double expected = reference_activation (act, input[i]);
          double e = fabs (actual[i] - expected) / fabs (expected);
          if (fabs (expected) > 1e-30 && e > worst)
            {
              worst = e;
              worst_i = i;
            }
        }
      g_test_message ("activation %d: worst relative error per element %.3g at x = %g: %g vs %g",
                      act, worst, input[worst_i], actual[worst_i],
                      reference_activation (act, input[worst_i]));
      g_assert_cmpfloat (worst, <, 5e-5);
    }
}

static void
test_geglu (void)
{
  static const int64_t shapes[][4] = {
    /* ndim, shape of x */
    { 1, 2 }, { 2, 3, 6 }, { 3, 3, 5, 16 }, { 3, 1, 77, 20 }, { 2, 9, 34 }, { 3, 2, 64, 640 },
  };
  SfDevice *device = sf_test_device ();
  g_autoptr (SfArena) arena = sf_arena_new (device, "test");
  SfTestRng rng;
  sf_test_rng_init (&rng, 7);
  for (gsize s = 0; s < G_N_ELEMENTS (shapes); s++)
    {
      int ndim = (int) shapes[s][0];
      int64_t shape[4], out_shape[4];
      for (int i = 0; i < ndim; i++)
        shape[i] = out_shape[i] = shapes[s][1 + i];
      out_shape[ndim - 1] /= 2;
      int64_t half = out_shape[ndim - 1];
      gsize count = op_test_numel (ndim, out_shape), rows = count / (gsize) half;
      g_autofree float *input = random_activations (&rng, 2 * count);
      g_autofree float *expected = g_new (float, count);
      for (gsize r = 0; r < rows; r++)
        for (int64_t j = 0; j < half; j++)
          expected[r * half + j] = (float) (input[r * 2 * half + j]
                                            * reference_activation (SF_ACT_GELU,
                                                                    input[r * 2 * half + half + j]));
      g_autoptr (SfTensor) x = op_test_tensor (arena, SF_DTYPE_F32, ndim, shape, input);
      g_autoptr (SfTensor) y = op_test_tensor (arena, SF_DTYPE_F32, ndim, out_shape, NULL);
      g_autoptr (SfStream) stream = sf_stream_new (device, NULL);
      g_autoptr (GError) error = NULL;
      g_assert_true (sf_op_geglu (stream, x, y, &error));
      g_assert_no_error (error);
      op_test_run (stream);
      g_autofree float *actual = op_test_download (y);
      sf_assert_close (actual, expected, count, TOLERANCE);
    }
}

/* numpy's broadcast of b onto a, in double. */
static void
reference_binary (gboolean multiply, int ndim, const int64_t *a_shape, const float *a,
                  int b_ndim, const int64_t *b_shape, const float *b, float *out)
{
  int64_t bs[4] = { 1, 1, 1, 1 }, as[4] = { 1, 1, 1, 1 };
  for (int i = 0; i < ndim; i++)
    as[4 - ndim + i] = a_shape[i];
  for (int i = 0; i < b_ndim; i++)
    bs[4 - b_ndim + i] = b_shape[i];
  gsize e = 0;
  for (int64_t i0 = 0; i0 < as[0]; i0++)
    for (int64_t i1 = 0; i1 < as[1]; i1++)
      for (int64_t i2 = 0; i2 < as[2]; i2++)
        for (int64_t i3 = 0; i3 < as[3]; i3++, e++)
          {
            int64_t j = (((bs[0] > 1 ? i0 : 0) * bs[1] + (bs[1] > 1 ? i1 : 0)) * bs[2]
                         + (bs[2] > 1 ? i2 : 0)) * bs[3] + (bs[3] > 1 ? i3 : 0);
            out[e] = (float) (multiply ? (double) a[e] * b[j] : (double) a[e] + b[j]);
          }
}

typedef struct {
  int a_ndim;
  int64_t a[4];
  int b_ndim;
  int64_t b[4];
} BroadcastCase;

static const BroadcastCase broadcast_cases[] = {
  { 1, { 7 }, 1, { 7 } },                          /* same shape, odd */
  { 3, { 3, 5, 12 }, 3, { 3, 5, 12 } },            /* same shape, vec4 */
  { 2, { 9, 5 }, 1, { 5 } },                       /* bias, odd */
  { 3, { 2, 7, 16 }, 1, { 16 } },                  /* bias, vec4 */
  { 4, { 2, 5, 3, 8 }, 4, { 2, 1, 1, 8 } },        /* time embedding */
  { 4, { 2, 5, 3, 7 }, 4, { 2, 1, 1, 7 } },
  { 4, { 2, 3, 4, 5 }, 4, { 2, 1, 4, 1 } },        /* alternating: 4 merged dims */
  { 4, { 3, 2, 4, 5 }, 4, { 1, 2, 1, 5 } },
  { 4, { 3, 5, 7, 8 }, 4, { 1, 5, 1, 8 } },        /* 4 merged dims, vec4 */
  { 3, { 7, 3001, 12 }, 3, { 7, 1, 12 } },         /* large divisors */
  { 3, { 4, 3, 5 }, 3, { 4, 1, 1 } },              /* per-row scale */
  { 2, { 6, 11 }, 1, { 1 } },                      /* scalar */
  { 2, { 3, 4 }, 4, { 1, 1, 3, 1 } },              /* b with extra leading 1s */
  { 1, { 1 }, 1, { 1 } },
};

static void
check_binary (gboolean multiply, gboolean in_place)
{
  SfDevice *device = sf_test_device ();
  g_autoptr (SfArena) arena = sf_arena_new (device, "test");
  SfTestRng rng;
  sf_test_rng_init (&rng, 31 + multiply * 2 + in_place);
  for (gsize c = 0; c < G_N_ELEMENTS (broadcast_cases); c++)
    {
      const BroadcastCase *bc = &broadcast_cases[c];
      gsize count = op_test_numel (bc->a_ndim, bc->a), b_count = op_test_numel (bc->b_ndim, bc->b);
      g_autofree float *a_data = sf_test_random_array (&rng, count, -4.0f, 4.0f);
      g_autofree float *b_data = sf_test_random_array (&rng, b_count, -4.0f, 4.0f);
      g_autofree float *expected = g_new (float, count);
      reference_binary (multiply, bc->a_ndim, bc->a, a_data, bc->b_ndim, bc->b, b_data, expected);
      g_autoptr (SfTensor) a = op_test_tensor (arena, SF_DTYPE_F32, bc->a_ndim, bc->a, a_data);
      g_autoptr (SfTensor) b = op_test_tensor (arena, SF_DTYPE_F32, bc->b_ndim, bc->b, b_data);
      g_autoptr (SfTensor) out = in_place ? NULL : op_test_tensor_like (arena, a);
      SfTensor *target = in_place ? a : out;
      g_autoptr (SfStream) stream = sf_stream_new (device, NULL);
      g_autoptr (GError) error = NULL;
      gboolean ok = multiply ? sf_op_mul (stream, a, b, target, &error)
                             : sf_op_add (stream, a, b, target, &error);
      g_assert_no_error (error);
      g_assert_true (ok);
      op_test_run (stream);
      g_autofree float *actual = op_test_download (target);
      g_autofree char *ta = op_test_shape_text (bc->a_ndim, bc->a);
      g_autofree char *tb = op_test_shape_text (bc->b_ndim, bc->b);
      g_test_message ("%s %s by %s: rel L2 %.3g", multiply ? "mul" : "add", ta, tb,
                      sf_test_rel_l2 (actual, expected, count));
      sf_assert_close (actual, expected, count, EXACT_TOLERANCE);
    }
}

static void
test_add_broadcasts (void)
{
  check_binary (FALSE, FALSE);
  check_binary (FALSE, TRUE);
}

static void
test_mul_broadcasts (void)
{
  check_binary (TRUE, FALSE);
  check_binary (TRUE, TRUE);
}

/* The UNet's residual add and its time-embedding add at 64×64×640. */
static void
test_add_sdxl_shapes (void)
{
  SfDevice *device = sf_test_device ();
  g_autoptr (SfArena) arena = sf_arena_new (device, "test");
  SfTestRng rng;
  sf_test_rng_init (&rng, 5);
  const int64_t shape[] = { 2, 64, 64, 640 }, temb_shape[] = { 2, 1, 1, 640 };
  gsize count = op_test_numel (4, shape);
  g_autofree float *h = sf_test_random_array (&rng, count, -2.0f, 2.0f);
  g_autofree float *r = sf_test_random_array (&rng, count, -2.0f, 2.0f);
  g_autofree float *t = sf_test_random_array (&rng, 2 * 640, -2.0f, 2.0f);
  g_autofree float *expected = g_new (float, count);
  g_autofree float *both = g_new (float, count);
  reference_binary (FALSE, 4, shape, h, 4, temb_shape, t, expected);
  reference_binary (FALSE, 4, shape, expected, 4, shape, r, both);

  g_autoptr (SfTensor) ht = op_test_tensor (arena, SF_DTYPE_F32, 4, shape, h);
  g_autoptr (SfTensor) rt = op_test_tensor (arena, SF_DTYPE_F32, 4, shape, r);
  g_autoptr (SfTensor) tt = op_test_tensor (arena, SF_DTYPE_F32, 4, temb_shape, t);
  g_autoptr (SfStream) stream = sf_stream_new (device, NULL);
  g_autoptr (GError) error = NULL;
  /* Two dependent in-place adds in one recording. */
  g_assert_true (sf_op_add (stream, ht, tt, ht, &error));
  g_assert_true (sf_op_add (stream, ht, rt, ht, &error));
  g_assert_no_error (error);
  op_test_run (stream);
  g_autofree float *actual = op_test_download (ht);
  sf_assert_close (actual, both, count, EXACT_TOLERANCE);
}

static void
test_scale (void)
{
  static const int64_t shapes[][5] = {
    { 1, 1 }, { 1, 13 }, { 2, 5, 8 }, { 3, 3, 3, 3 }, { 4, 2, 7, 5, 4 },
  };
  SfDevice *device = sf_test_device ();
  g_autoptr (SfArena) arena = sf_arena_new (device, "test");
  SfTestRng rng;
  sf_test_rng_init (&rng, 11);
  for (gsize s = 0; s < G_N_ELEMENTS (shapes); s++)
    for (int in_place = 0; in_place < 2; in_place++)
      {
        int ndim = (int) shapes[s][0];
        const int64_t *shape = &shapes[s][1];
        gsize count = op_test_numel (ndim, shape);
        g_autofree float *input = sf_test_random_array (&rng, count, -3.0f, 3.0f);
        const float scale = 0.18215f, shift = -0.5f;
        g_autofree float *expected = g_new (float, count);
        for (gsize i = 0; i < count; i++)
          expected[i] = (float) ((double) input[i] * scale + shift);
        g_autoptr (SfTensor) x = op_test_tensor (arena, SF_DTYPE_F32, ndim, shape, input);
        g_autoptr (SfTensor) y = in_place ? NULL : op_test_tensor_like (arena, x);
        g_autoptr (SfStream) stream = sf_stream_new (device, NULL);
        g_assert_true (sf_op_scale (stream, x, scale, shift, in_place ? x : y, NULL));
        op_test_run (stream);
        g_autofree float *actual = op_test_download (in_place ? x : y);
        /* A multiply and an add, each rounded (no FMA on lavapipe). */
        sf_assert_close (actual, expected, count, 2 * EXACT_TOLERANCE);
      }
}

/* With bindings limited to 4 KiB every op writes its output in many
 * slices; the results must not change. */
static void
test_outputs_larger_than_a_binding_are_sliced (void)
{
  SfDevice *device = sf_test_device ();
  g_autoptr (SfArena) arena = sf_arena_new (device, "test");
  SfTestRng rng;
  sf_test_rng_init (&rng, 99);
  op_test_limit_bindings (4096);
  const int64_t odd[] = { 3, 37, 41 }, even[] = { 5, 20, 36 }, bias[] = { 36 };
  for (int vec = 0; vec < 2; vec++)
    {
      const int64_t *shape = vec ? even : odd;
      gsize count = op_test_numel (3, shape);
      g_autofree float *input = random_activations (&rng, count);
      g_autofree float *b_data = sf_test_random_array (&rng, count, -1.0f, 1.0f);
      g_autofree float *expected = g_new (float, count);
      g_autoptr (SfTensor) x = op_test_tensor (arena, SF_DTYPE_F32, 3, shape, input);
      g_autoptr (SfTensor) y = op_test_tensor_like (arena, x);
      g_autoptr (SfTensor) b = vec ? op_test_tensor (arena, SF_DTYPE_F32, 1, bias, b_data)
                                   : op_test_tensor (arena, SF_DTYPE_F32, 3, shape, b_data);
      g_autoptr (SfStream) stream = sf_stream_new (device, NULL);
      g_assert_true (sf_op_activation (stream, SF_ACT_GELU, x, y, NULL));
      g_assert_true (sf_op_add (stream, y, b, y, NULL));
      g_assert_cmpuint (sf_stream_get_dispatch_count (stream), >=, 2 * count * 4 / 4096);
      op_test_run (stream);
      for (gsize i = 0; i < count; i++)
        expected[i] = (float) (reference_activation (SF_ACT_GELU, input[i])
                               + b_data[vec ? i % 36 : i]);
      g_autofree float *actual = op_test_download (y);
      sf_assert_close (actual, expected, count, TOLERANCE);

      /* GEGLU slices by rows. */
      int64_t half_shape[] = { shape[0], shape[1], shape[2] / 2 };
      if (shape[2] % 2 == 0)
        {
          g_autoptr (SfTensor) g = op_test_tensor (arena, SF_DTYPE_F32, 3, half_shape, NULL);
          sf_stream_reset (stream);
          g_assert_true (sf_op_geglu (stream, x, g, NULL));
          op_test_run (stream);
          g_autofree float *gated = op_test_download (g);
          gsize half = (gsize) half_shape[2];
          for (gsize i = 0; i < count / 2; i++)
            {
              gsize r = i / half, j = i % half;
              expected[i] = (float) (input[r * 2 * half + j]
                                     * reference_activation (SF_ACT_GELU,
                                                             input[r * 2 * half + half + j]));
            }
          sf_assert_close (gated, expected, count / 2, TOLERANCE);
        }
    }
  op_test_limit_bindings (0);
}

#define expect_invalid(call, error, op) \
  G_STMT_START { \
    g_assert_false (call); \
    g_assert_error (error, SF_VK_ERROR, SF_VK_ERROR_INVALID); \
    g_assert_nonnull (strstr (error->message, op)); \
    g_test_message ("%s", error->message); \
  } G_STMT_END

static void
test_bad_shapes_are_refused (void)
{
  SfDevice *device = sf_test_device ();
  g_autoptr (SfArena) arena = sf_arena_new (device, "test");
  const int64_t s34[] = { 3, 4 }, s3[] = { 3 }, s43[] = { 4, 3 }, s33[] = { 3, 3 };
  g_autoptr (SfTensor) a = op_test_tensor (arena, SF_DTYPE_F32, 2, s34, NULL);
  g_autoptr (SfTensor) b = op_test_tensor (arena, SF_DTYPE_F32, 1, s3, NULL);
  g_autoptr (SfTensor) c = op_test_tensor (arena, SF_DTYPE_F32, 2, s43, NULL);
  g_autoptr (SfTensor) d = op_test_tensor (arena, SF_DTYPE_F32, 2, s33, NULL);
  g_autoptr (SfTensor) h = op_test_tensor (arena, SF_DTYPE_F16, 2, s34, NULL);
  g_autoptr (SfStream) stream = sf_stream_new (device, NULL);
  GError *error = NULL;

  expect_invalid (sf_op_add (stream, a, b, a, &error), error, "add");  /* 3 vs 4 */
  g_clear_error (&error);
  expect_invalid (sf_op_mul (stream, a, a, c, &error), error, "mul");  /* out shape */
  g_clear_error (&error);
  expect_invalid (sf_op_add (stream, h, a, h, &error), error, "add");  /* f16 */
  g_clear_error (&error);
  expect_invalid (sf_op_activation (stream, SF_ACT_SILU, a, c, &error), error, "activation");
  g_clear_error (&error);
  expect_invalid (sf_op_activation (stream, (SfActivation) 9, a, a, &error), error,
                  "activation");
  g_clear_error (&error);
  expect_invalid (sf_op_geglu (stream, a, a, &error), error, "geglu");
  g_clear_error (&error);
  expect_invalid (sf_op_geglu (stream, a, d, &error), error, "geglu");
  g_clear_error (&error);
  expect_invalid (sf_op_scale (stream, a, 1.0f, 0.0f, c, &error), error, "scale");
  g_clear_error (&error);
  /* The output may be a but not overlap b. */
  SfTensor row = sf_tensor_slice (a, 0, 1);
  SfTensor row4 = sf_tensor_reshape (&row, 1, (int64_t[]) { 4 });
  expect_invalid (sf_op_add (stream, a, &row4, a, &error), error, "add");
  g_clear_error (&error);
  g_assert_cmpuint (sf_stream_get_dispatch_count (stream), ==, 0);
}

int
main (int argc, char **argv)
{
  sf_test_init (&argc, &argv);
  sf_test_add ("/op/activation/silu-matches-reference", test_activation_silu);
  sf_test_add ("/op/activation/gelu-matches-erf-reference", test_activation_gelu);
  sf_test_add ("/op/activation/gelu-tanh-matches-reference", test_activation_gelu_tanh);
  sf_test_add ("/op/activation/quick-gelu-matches-reference", test_activation_quick_gelu);
  sf_test_add ("/op/activation/tails-are-accurate-per-element", test_activation_tails_are_accurate);
  sf_test_add ("/op/geglu/gates-the-first-half-with-gelu-of-the-second", test_geglu);
  sf_test_add ("/op/add/broadcasts-like-numpy", test_add_broadcasts);
  sf_test_add ("/op/mul/broadcasts-like-numpy", test_mul_broadcasts);
  sf_test_add ("/op/add/handles-unet-residual-and-time-embedding", test_add_sdxl_shapes);
  sf_test_add ("/op/scale/multiplies-and-shifts", test_scale);
  sf_test_add ("/op/elementwise/slices-outputs-larger-than-a-binding",
               test_outputs_larger_than_a_binding_are_sliced);
  sf_test_add ("/op/elementwise/refuses-bad-shapes", test_bad_shapes_are_refused);
  return sf_test_run ();
}
