/* sf_op_matmul and sf_op_matmul_geglu against a float64 reference, on
 * every kernel variant (SFUMATO_KERNELS), at random shapes that are not
 * tile multiples and at SDXL's real ones. */
#include <math.h>
#include <string.h>

#include "ops.h"
#include "sf-test.h"
#include "kernel-test.h"
#include "vk_error.h"

/* out[m, n] = Σ_k a[m, k] w[n, k] + bias[n] + residual[m, n], for the
 * rows listed in @rows (all when NULL). */
static void
reference_matmul (const float *a, const float *w, const float *bias, const float *residual,
                  int64_t m, int64_t n, int64_t k, const int64_t *rows, int64_t row_count,
                  float *out)
{
  for (int64_t ri = 0; ri < (rows ? row_count : m); ri++)
    {
      int64_t i = rows ? rows[ri] : ri;
      for (int64_t j = 0; j < n; j++)
        {
          double sum = 0;
          for (int64_t t = 0; t < k; t++)
            sum += (double) a[i * k + t] * (double) w[j * k + t];
          if (bias)
            sum += bias[j];
          if (residual)
            sum += residual[i * n + j];
          out[ri * n + j] = (float) sum;
        }
    }
}

static double
reference_gelu (double x)
{
  return 0.5 * x * (1.0 + erf (x / sqrt (2.0)));
}

typedef struct MatmulCase MatmulCase;
static void reference (const MatmulCase *c, const float *a, const float *w, const float *bias,
                       const float *residual, int64_t m, const int64_t *rows, int64_t row_count,
                       float *out);

struct MatmulCase {
  int64_t lead[3];     /* leading dims of a (0 = absent) */
  int64_t n, k;
  SfDType wdtype;
  gboolean bias, residual, geglu;
  guint check_rows;    /* 0: all rows, else this many spread over M */
};

/* The op's result for @rows: matmul with bias and residual, or the
 * GEGLU product computed as the full [.., 2F] matmul and gelu gate. */
static void
reference (const MatmulCase *c, const float *a, const float *w, const float *bias,
           const float *residual, int64_t m, const int64_t *rows, int64_t row_count, float *out)
{
  if (!c->geglu)
    {
      reference_matmul (a, w, c->bias ? bias : NULL, c->residual ? residual : NULL, m, c->n, c->k,
                        rows, row_count, out);
      return;
    }
  g_autofree float *full = g_new (float, row_count * 2 * c->n);
  reference_matmul (a, w, c->bias ? bias : NULL, NULL, m, 2 * c->n, c->k, rows, row_count, full);
  for (int64_t i = 0; i < row_count; i++)
    for (int64_t j = 0; j < c->n; j++)
      out[i * c->n + j] = (float) ((double) full[i * 2 * c->n + j]
                                   * reference_gelu (full[i * 2 * c->n + c->n + j]));
}

static void
run_case (SfArena *arena, const MatmulCase *c, guint64 seed)
{
  SfDevice *device = sf_test_device ();
  g_autoptr (GError) error = NULL;
  SfTestRng rng;
  sf_test_rng_init (&rng, seed);

  int ndim = 1;
  int64_t a_shape[4], out_shape[4], m = 1;
  for (int i = 0; i < 3 && c->lead[i]; i++)
    {
      a_shape[i] = out_shape[i] = c->lead[i];
      /* Under sanitizers, SDXL-sized cases keep their N and K but run
       * fewer rows. */
      if (i == 0 && c->check_rows && sf_kernel_test_quick ())
        a_shape[0] = out_shape[0] = MIN (c->lead[0], 384);
      m *= a_shape[i];
      ndim = i + 2;
    }
  int64_t wrows = c->geglu ? 2 * c->n : c->n;
  a_shape[ndim - 1] = c->k;
  out_shape[ndim - 1] = c->n;

  g_autofree float *a = sf_test_random_array (&rng, (gsize) (m * c->k), -1, 1);
  g_autofree float *w = sf_test_random_array (&rng, (gsize) (wrows * c->k), -0.5f, 0.5f);
  g_autofree float *bias = sf_test_random_array (&rng, (gsize) wrows, -1, 1);
  g_autofree float *residual = sf_test_random_array (&rng, (gsize) (m * c->n), -1, 1);

  g_autoptr (SfTensor) ta = sf_tensor_new (arena, SF_DTYPE_F32, ndim, a_shape, &error);
  g_autoptr (SfTensor) tout = sf_tensor_new (arena, SF_DTYPE_F32, ndim, out_shape, &error);
  g_autoptr (SfTensor) tres = sf_tensor_new (arena, SF_DTYPE_F32, ndim, out_shape, &error);
  g_autoptr (SfTensor) tbias = sf_tensor_new (arena, SF_DTYPE_F32, 1, &wrows, &error);
  g_assert_no_error (error);
  g_autoptr (SfTensor) tw = c->geglu
    ? sf_weight_new_geglu (arena, c->wdtype, c->n, c->k, w, SF_DTYPE_F32, &error)
    : sf_weight_new_linear (arena, c->wdtype, c->n, c->k, w, SF_DTYPE_F32, &error);
  g_assert_no_error (error);
  g_assert_true (sf_tensor_upload (ta, a, &error));
  g_assert_true (sf_tensor_upload (tres, residual, &error));
  g_assert_true (sf_tensor_upload (tbias, bias, &error));
  g_assert_no_error (error);

  /* The weights as the device holds them. */
  g_autofree float *w_stored = sf_kernel_test_round (w, (gsize) (wrows * c->k), c->wdtype);
  g_autofree float *got = g_new (float, m * c->n);
  for (const char *const *v = sf_kernel_test_variants (); *v; v++)
    {
      const char *variant = *v;
      sf_kernel_test_use (variant);
      /* The GPU variant is slow on a CPU device: at SDXL's shapes it runs
       * on the first rows only (a view of a and out). */
      int64_t m_run = c->check_rows && g_str_equal (variant, "gpu") ? MIN (m, 192) : m;
      SfTensor a_run = sf_tensor_slice (ta, 0, m_run / (m / a_shape[0]));
      SfTensor out_run = sf_tensor_slice (tout, 0, m_run / (m / a_shape[0]));
      SfTensor res_run = sf_tensor_slice (tres, 0, m_run / (m / a_shape[0]));
      g_autofree int64_t *rows = sf_kernel_test_pick_rows (m_run, c->check_rows);
      int64_t row_count = sf_kernel_test_row_count (m_run, c->check_rows);

      g_autoptr (SfStream) stream = sf_stream_new (device, &error);
      g_assert_true (sf_op_fill (stream, tout, NAN, &error));
      gboolean ok = c->geglu
        ? sf_op_matmul_geglu (stream, &a_run, tw, c->bias ? tbias : NULL, &out_run, &error)
        : sf_op_matmul (stream, &a_run, tw, c->bias ? tbias : NULL, c->residual ? &res_run : NULL,
                        &out_run, &error);
      g_assert_no_error (error);
      g_assert_true (ok);
      g_assert_true (sf_stream_run (stream, NULL, &error));
      g_assert_true (sf_tensor_download (tout, got, &error));
      g_assert_no_error (error);

      /* The reference with the stored weights (the kernel's own arithmetic,
       * f32 tolerance) and with the given ones (the op library's contract:
       * f16 storage within 2e-3). */
      g_autofree float *got_rows = g_new (float, row_count * c->n);
      for (int64_t i = 0; i < row_count; i++)
        memcpy (got_rows + i * c->n, got + rows[i] * c->n, sizeof (float) * c->n);
      for (int s = 0; s < 2; s++)
        {
          g_autofree float *expected = g_new (float, row_count * c->n);
          reference (c, a, s == 0 ? w_stored : w, bias, residual, m, rows, row_count, expected);
          if (s == 0)
            g_test_message ("%s: M=%" G_GINT64_FORMAT " N=%" G_GINT64_FORMAT " K=%"
                            G_GINT64_FORMAT " %s%s: rel L2 %.3g", variant, m_run, c->n, c->k,
                            sf_dtype_name (c->wdtype), c->geglu ? " geglu" : "",
                            sf_test_rel_l2 (got_rows, expected, row_count * c->n));
          sf_assert_close (got_rows, expected, row_count * c->n,
                           s == 1 && c->wdtype == SF_DTYPE_F16 ? 2e-3 : 1e-5);
        }
      /* Every output element of the rows run was written (the fill left
       * NaN), and none past them. */
      for (int64_t i = 0; i < m * c->n; i++)
        g_assert_true (isnan (got[i]) == (i >= m_run * c->n));
    }
  sf_kernel_test_use (NULL);
}

static void
test_matmul_matches_reference_at_ragged_shapes (void)
{
  /* One arena for all cases: device memory blocks are costly to make. */
  g_autoptr (SfArena) arena = sf_arena_new (sf_test_device (), "test");
  const MatmulCase cases[] = {
    { { 1 }, 1, 4, SF_DTYPE_F32, FALSE, FALSE, FALSE, 0 },
    { { 37 }, 29, 52, SF_DTYPE_F32, TRUE, FALSE, FALSE, 0 },
    { { 2, 23 }, 67, 64, SF_DTYPE_F16, TRUE, TRUE, FALSE, 0 },
    { { 131 }, 200, 31, SF_DTYPE_F32, FALSE, TRUE, FALSE, 0 },
    { { 3, 5, 7 }, 13, 7, SF_DTYPE_F16, TRUE, FALSE, FALSE, 0 },
    { { 17 }, 257, 3, SF_DTYPE_F32, TRUE, TRUE, FALSE, 0 },
    { { 70 }, 520, 96, SF_DTYPE_F16, FALSE, FALSE, FALSE, 0 },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    run_case (arena, &cases[i], 100 + i);
}

static void
test_matmul_geglu_matches_matmul_then_gelu_gate (void)
{
  /* One arena for all cases: device memory blocks are costly to make. */
  g_autoptr (SfArena) arena = sf_arena_new (sf_test_device (), "test");
  const MatmulCase cases[] = {
    { { 19 }, 21, 40, SF_DTYPE_F16, TRUE, FALSE, TRUE, 0 },
    { { 2, 33 }, 64, 36, SF_DTYPE_F16, FALSE, FALSE, TRUE, 0 },
    { { 45 }, 83, 13, SF_DTYPE_F32, TRUE, FALSE, TRUE, 0 },
    { { 7 }, 3, 8, SF_DTYPE_F16, TRUE, FALSE, TRUE, 0 },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    run_case (arena, &cases[i], 200 + i);
}

static void
test_matmul_at_sdxl_shapes (void)
{
  /* One arena for all cases: device memory blocks are costly to make. */
  g_autoptr (SfArena) arena = sf_arena_new (sf_test_device (), "test");
  const MatmulCase cases[] = {
    { { 4096 }, 640, 640, SF_DTYPE_F16, TRUE, TRUE, FALSE, 24 },
    { { 1024 }, 1280, 1280, SF_DTYPE_F32, TRUE, FALSE, FALSE, 16 },
    { { 4096 }, 2560, 640, SF_DTYPE_F16, TRUE, FALSE, TRUE, 16 },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    run_case (arena, &cases[i], 300 + i);
}

static void
test_matmul_splits_outputs_larger_than_a_binding (void)
{
  /* One arena for all cases: device memory blocks are costly to make. */
  g_autoptr (SfArena) arena = sf_arena_new (sf_test_device (), "test");
  /* As if bindings held only 16 KiB: several dispatches over row ranges. */
  g_setenv ("SFUMATO_MAX_BINDING_BYTES", "16384", TRUE);
  const MatmulCase c = { { 3, 101 }, 40, 36, SF_DTYPE_F16, TRUE, TRUE, FALSE, 0 };
  run_case (arena, &c, 150);
  const MatmulCase g = { { 211 }, 27, 20, SF_DTYPE_F16, TRUE, FALSE, TRUE, 0 };
  run_case (arena, &g, 151);
  g_unsetenv ("SFUMATO_MAX_BINDING_BYTES");
}

static void
test_batched_matmul_uses_one_weight_per_batch (void)
{
  SfDevice *device = sf_test_device ();
  g_autoptr (GError) error = NULL;
  g_autoptr (SfArena) arena = sf_arena_new (device, "test");
  SfTestRng rng;
  sf_test_rng_init (&rng, 400);
  const int64_t batch = 3, m = 17, n = 9, k = 13;
  g_autofree float *a = sf_test_random_array (&rng, batch * m * k, -1, 1);
  g_autofree float *w = sf_test_random_array (&rng, batch * n * k, -1, 1);
  g_autofree float *bias = sf_test_random_array (&rng, n, -1, 1);
  g_autofree float *residual = sf_test_random_array (&rng, batch * m * n, -1, 1);
  g_autoptr (SfTensor) ta = sf_tensor_new (arena, SF_DTYPE_F32, 3, (int64_t[]) { batch, m, k }, &error);
  g_autoptr (SfTensor) tout = sf_tensor_new (arena, SF_DTYPE_F32, 3, (int64_t[]) { batch, m, n }, &error);
  g_autoptr (SfTensor) tres = sf_tensor_new (arena, SF_DTYPE_F32, 3, (int64_t[]) { batch, m, n }, &error);
  g_autoptr (SfTensor) tbias = sf_tensor_new (arena, SF_DTYPE_F32, 1, &n, &error);
  g_assert_no_error (error);
  g_assert_true (sf_tensor_upload (ta, a, &error));
  g_assert_true (sf_tensor_upload (tres, residual, &error));
  g_assert_true (sf_tensor_upload (tbias, bias, &error));
  for (int d = 0; d < 2; d++)
    {
      SfDType dtype = d ? SF_DTYPE_F16 : SF_DTYPE_F32;
      g_autoptr (SfTensor) tw = sf_tensor_new (arena, dtype, 3, (int64_t[]) { batch, n, k }, &error);
      g_assert_true (sf_tensor_upload (tw, w, &error));
      g_autofree float *w_stored = sf_kernel_test_round (w, batch * n * k, dtype);
      for (int fused = 0; fused < 2; fused++)
        {
          g_autoptr (SfStream) stream = sf_stream_new (device, &error);
          g_assert_true (sf_op_matmul (stream, ta, tw, fused ? tbias : NULL, fused ? tres : NULL,
                                       tout, &error));
          g_assert_true (sf_stream_run (stream, NULL, &error));
          g_assert_no_error (error);
          g_autofree float *got = g_new (float, batch * m * n);
          g_autofree float *expected = g_new (float, batch * m * n);
          g_assert_true (sf_tensor_download (tout, got, &error));
          for (int64_t b = 0; b < batch; b++)
            reference_matmul (a + b * m * k, w_stored + b * n * k, fused ? bias : NULL,
                              fused ? residual + b * m * n : NULL, m, n, k, NULL, 0,
                              expected + b * m * n);
          sf_assert_close (got, expected, batch * m * n, 1e-5);
        }
    }
}

static void
test_matmul_rejects_bad_shapes (void)
{
  SfDevice *device = sf_test_device ();
  g_autoptr (GError) error = NULL;
  g_autoptr (SfArena) arena = sf_arena_new (device, "test");
  float w[6 * 8] = { 0 };
  g_autoptr (SfTensor) weight = sf_weight_new_linear (arena, SF_DTYPE_F32, 6, 8, w,
                                                      SF_DTYPE_F32, &error);
  g_autoptr (SfTensor) geglu = sf_weight_new_geglu (arena, SF_DTYPE_F32, 3, 8, w,
                                                    SF_DTYPE_F32, &error);
  g_autoptr (SfTensor) a = sf_tensor_new (arena, SF_DTYPE_F32, 2, (int64_t[]) { 5, 8 }, &error);
  g_autoptr (SfTensor) a7 = sf_tensor_new (arena, SF_DTYPE_F32, 2, (int64_t[]) { 5, 7 }, &error);
  g_autoptr (SfTensor) out = sf_tensor_new (arena, SF_DTYPE_F32, 2, (int64_t[]) { 5, 6 }, &error);
  g_autoptr (SfTensor) out3 = sf_tensor_new (arena, SF_DTYPE_F32, 2, (int64_t[]) { 5, 3 }, &error);
  g_autoptr (SfTensor) out_rows = sf_tensor_new (arena, SF_DTYPE_F32, 2, (int64_t[]) { 4, 6 },
                                                 &error);
  g_autoptr (SfTensor) bias5 = sf_tensor_new (arena, SF_DTYPE_F32, 1, (int64_t[]) { 5 }, &error);
  g_autoptr (SfTensor) half = sf_tensor_new (arena, SF_DTYPE_F16, 2, (int64_t[]) { 5, 8 }, &error);
  g_autoptr (SfTensor) plain = sf_tensor_new (arena, SF_DTYPE_F32, 2, (int64_t[]) { 6, 8 }, &error);
  g_assert_no_error (error);
  g_autoptr (SfStream) stream = sf_stream_new (device, &error);

#define EXPECT_INVALID(call) \
  do { \
      g_assert_false (call); \
      g_assert_error (error, SF_VK_ERROR, SF_VK_ERROR_INVALID); \
      g_assert_nonnull (strstr (error->message, "matmul")); \
      g_test_message ("%s", error->message); \
      g_clear_error (&error); \
  } while (0)
  EXPECT_INVALID (sf_op_matmul (stream, a7, weight, NULL, NULL, out, &error));      /* K */
  EXPECT_INVALID (sf_op_matmul (stream, a, weight, NULL, NULL, out3, &error));      /* N */
  EXPECT_INVALID (sf_op_matmul (stream, a, weight, NULL, NULL, out_rows, &error));  /* M */
  EXPECT_INVALID (sf_op_matmul (stream, a, weight, bias5, NULL, out, &error));
  EXPECT_INVALID (sf_op_matmul (stream, a, weight, NULL, out3, out, &error));
  EXPECT_INVALID (sf_op_matmul (stream, a, weight, NULL, out, out, &error));       /* alias */
  EXPECT_INVALID (sf_op_matmul (stream, half, weight, NULL, NULL, out, &error));
  EXPECT_INVALID (sf_op_matmul (stream, a, plain, NULL, NULL, out, &error));
  EXPECT_INVALID (sf_op_matmul (stream, a, geglu, NULL, NULL, out3, &error));
  EXPECT_INVALID (sf_op_matmul_geglu (stream, a, weight, NULL, out3, &error));
  EXPECT_INVALID (sf_op_matmul_geglu (stream, a, geglu, NULL, out, &error));
  EXPECT_INVALID (sf_op_matmul_geglu (stream, a, geglu, bias5, out3, &error));
  g_assert_cmpuint (sf_stream_get_dispatch_count (stream), ==, 0);

  g_assert_null (sf_weight_new_linear (arena, SF_DTYPE_I32, 6, 8, w, SF_DTYPE_F32, &error));
  g_assert_error (error, SF_VK_ERROR, SF_VK_ERROR_INVALID);
}

int
main (int argc, char **argv)
{
  sf_test_init (&argc, &argv);
  sf_test_add ("/op-matmul/matches-reference-at-ragged-shapes",
               test_matmul_matches_reference_at_ragged_shapes);
  sf_test_add ("/op-matmul/geglu-matches-matmul-then-gelu-gate",
               test_matmul_geglu_matches_matmul_then_gelu_gate);
  sf_test_add ("/op-matmul/matches-reference-at-sdxl-shapes", test_matmul_at_sdxl_shapes);
  sf_test_add ("/op-matmul/splits-outputs-larger-than-a-binding",
               test_matmul_splits_outputs_larger_than_a_binding);
  sf_test_add ("/op-matmul/batched-uses-one-weight-per-batch",
               test_batched_matmul_uses_one_weight_per_batch);
  sf_test_add ("/op-matmul/rejects-bad-shapes", test_matmul_rejects_bad_shapes);
  return sf_test_run ();
}
