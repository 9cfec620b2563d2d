/* sf_op_attention against a float64 softmax reference on every kernel
 * variant: head sizes 12 to 512, Sq ≠ Sk, 77-token cross-attention, the
 * causal mask, large logits, and SDXL's 4096-token self-attention. */
#include <math.h>
#include <string.h>

#include "kernel-test.h"
#include "ops.h"
#include "sf-test.h"
#include "vk_error.h"

typedef struct {
  int64_t batch, sq, sk;
  int heads;
  int64_t d;
  gboolean causal;
  float spread;         /* q values in [-spread, spread]: large logits */
  guint check_rows;     /* 0: every query, else this many (per batch) */
  int64_t cpu_rows;     /* the CPU variants run only this many queries (0: all) */
  int64_t gpu_rows;     /* the GPU variant runs only this many queries (0: all, -1: none) */
} AttentionCase;

static void
reference_attention (const AttentionCase *c, const float *q, const float *k, const float *v,
                     float scale, int64_t b, int64_t i, float *out_row)
{
  const int64_t width = c->heads * c->d;
  g_autofree double *scores = g_new (double, c->sk);
  for (int h = 0; h < c->heads; h++)
    {
      const float *qi = q + (b * c->sq + i) * width + h * c->d;
      double top = -INFINITY;
      for (int64_t j = 0; j < c->sk; j++)
        {
          double dot = 0;
          const float *kj = k + (b * c->sk + j) * width + h * c->d;
          for (int64_t t = 0; t < c->d; t++)
            dot += (double) qi[t] * (double) kj[t];
          scores[j] = c->causal && j > i ? -INFINITY : dot * scale;
          top = MAX (top, scores[j]);
        }
      double total = 0;
      for (int64_t j = 0; j < c->sk; j++)
        total += scores[j] = exp (scores[j] - top);
      for (int64_t t = 0; t < c->d; t++)
        {
          double sum = 0;
          for (int64_t j = 0; j < c->sk; j++)
            sum += scores[j] * (double) v[(b * c->sk + j) * width + h * c->d + t];
          out_row[h * c->d + t] = (float) (sum / total);
        }
    }
}

static void
run_case (SfArena *arena, const AttentionCase *c, guint64 seed)
{
  SfDevice *device = sf_test_device ();
  g_autoptr (GError) error = NULL;
  SfTestRng rng;
  sf_test_rng_init (&rng, seed);
  const int64_t width = c->heads * c->d;
  const float scale = 1.0f / sqrtf ((float) c->d);
  g_autofree float *q = sf_test_random_array (&rng, c->batch * c->sq * width, -c->spread, c->spread);
  g_autofree float *k = sf_test_random_array (&rng, c->batch * c->sk * width, -1, 1);
  g_autofree float *v = sf_test_random_array (&rng, c->batch * c->sk * width, -1, 1);
  const int64_t q_shape[] = { c->batch, c->sq, width }, k_shape[] = { c->batch, c->sk, width };
  g_autoptr (SfTensor) tq = sf_tensor_new (arena, SF_DTYPE_F32, 3, q_shape, &error);
  g_autoptr (SfTensor) tk = sf_tensor_new (arena, SF_DTYPE_F32, 3, k_shape, &error);
  g_autoptr (SfTensor) tv = sf_tensor_new (arena, SF_DTYPE_F32, 3, k_shape, &error);
  g_autoptr (SfTensor) tout = sf_tensor_new (arena, SF_DTYPE_F32, 3, q_shape, &error);
  g_assert_no_error (error);
  g_assert_true (sf_tensor_upload (tq, q, &error));
  g_assert_true (sf_tensor_upload (tk, k, &error));
  g_assert_true (sf_tensor_upload (tv, v, &error));
  g_assert_no_error (error);

  g_autofree float *got = g_new (float, c->batch * c->sq * width);
  /* Reference rows, computed when first needed (the variants check
   * overlapping sets of rows). */
  g_autoptr (GPtrArray) reference = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_set_size (reference, (guint) (c->batch * c->sq));
  for (const char *const *variant = sf_kernel_test_variants (); *variant; variant++)
    {
      if (c->gpu_rows < 0 && g_str_equal (*variant, "gpu"))
        continue;
      sf_kernel_test_use (*variant);
      /* At SDXL's sizes the kernels run the first queries only (views of
       * q and out; batch 1), against all keys; the GPU variant, slow on a
       * CPU device, fewer. */
      int64_t sq_run = g_str_equal (*variant, "gpu") ? c->gpu_rows : c->cpu_rows;
      sq_run = sq_run ? sq_run : c->sq;
      SfTensor q_run = *tq, out_run = *tout;
      if (sq_run != c->sq)
        {
          g_assert_cmpint (c->batch, ==, 1);
          const int64_t rows[] = { c->sq, width }, run_shape[] = { 1, sq_run, width };
          SfTensor q_rows = sf_tensor_reshape (tq, 2, rows), out_rows = sf_tensor_reshape (tout, 2, rows);
          SfTensor q_part = sf_tensor_slice (&q_rows, 0, sq_run);
          SfTensor out_part = sf_tensor_slice (&out_rows, 0, sq_run);
          q_run = sf_tensor_reshape (&q_part, 3, run_shape);
          out_run = sf_tensor_reshape (&out_part, 3, run_shape);
        }
      g_autoptr (SfStream) stream = sf_stream_new (device, &error);
      g_assert_true (sf_op_fill (stream, tout, NAN, &error));
      g_assert_true (sf_op_attention (stream, &q_run, tk, tv, c->heads, scale, c->causal, &out_run,
                                      &error));
      g_assert_no_error (error);
      g_assert_true (sf_stream_run (stream, NULL, &error));
      g_assert_true (sf_tensor_download (tout, got, &error));
      g_assert_no_error (error);

      g_autofree int64_t *rows = sf_kernel_test_pick_rows (sq_run, c->check_rows);
      int64_t count = sf_kernel_test_row_count (sq_run, c->check_rows);
      g_autofree float *expected = g_new (float, c->batch * count * width);
      g_autofree float *actual = g_new (float, c->batch * count * width);
      for (int64_t b = 0; b < c->batch; b++)
        for (int64_t r = 0; r < count; r++)
          {
            int64_t at = (b * count + r) * width;
            float **cached = (float **) &reference->pdata[b * c->sq + rows[r]];
            if (!*cached)
              {
                *cached = g_new (float, width);
                reference_attention (c, q, k, v, scale, b, rows[r], *cached);
              }
            memcpy (expected + at, *cached, sizeof (float) * width);
            memcpy (actual + at, got + (b * c->sq + rows[r]) * width, sizeof (float) * width);
          }
      g_test_message ("%s: B=%" G_GINT64_FORMAT " Sq=%" G_GINT64_FORMAT " Sk=%" G_GINT64_FORMAT
                      " H=%d D=%" G_GINT64_FORMAT "%s: rel L2 %.3g", *variant, c->batch, sq_run,
                      c->sk, c->heads, c->d, c->causal ? " causal" : "",
                      sf_test_rel_l2 (actual, expected, c->batch * count * width));
      sf_assert_close (actual, expected, c->batch * count * width, 1e-5);
      /* Every query that ran was written, and nothing else. */
      for (int64_t i = 0; i < c->batch * c->sq * width; i++)
        g_assert_true (isnan (got[i]) == (i % (c->sq * width) >= sq_run * width));
    }
  sf_kernel_test_use (NULL);
}

static void
test_attention_matches_reference_at_odd_shapes (void)
{
  g_autoptr (SfArena) arena = sf_arena_new (sf_test_device (), "test");
  const AttentionCase cases[] = {
    { 1, 37, 37, 2, 16, FALSE, 1, 0, 0, 0 },
    { 2, 29, 77, 3, 64, FALSE, 1, 0, 0, 0 },      /* cross-attention */
    { 2, 77, 77, 4, 32, TRUE, 1, 0, 0, 0 },       /* text encoder */
    { 1, 50, 13, 1, 12, FALSE, 1, 0, 0, 0 },      /* head smaller than 8 texels */
    { 1, 9, 200, 5, 64, TRUE, 1, 0, 0, 0 },       /* causal with Sq < Sk */
    { 1, 70, 33, 2, 40, TRUE, 1, 0, 0, 0 },
    { 1, 96, 96, 1, 512, FALSE, 1, 0, 0, 0 },     /* the VAE's mid-block head */
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    if (!(cases[i].d > 256 && sf_kernel_test_quick ()))   /* big kernels, slow to compile */
      run_case (arena, &cases[i], 800 + i);
}

static void
test_attention_is_stable_with_large_logits (void)
{
  /* Logits in the hundreds: a softmax without the running maximum would
   * overflow float32. */
  g_autoptr (SfArena) arena = sf_arena_new (sf_test_device (), "test");
  const AttentionCase c = { 1, 40, 90, 2, 64, FALSE, 60, 0, 0, 0 };
  run_case (arena, &c, 900);
}

static void
test_attention_at_sdxl_shapes (void)
{
  g_autoptr (SfArena) arena = sf_arena_new (sf_test_device (), "test");
  const gboolean quick = sf_kernel_test_quick ();
  const AttentionCase cases[] = {
    /* Level-2 self-attention: 4096 tokens, 10 heads of 64. */
    { 1, 4096, 4096, 10, 64, FALSE, 1, 12, quick ? 128 : 512, 64 },
    /* Its cross-attention over 77 text tokens, batch 2 (guidance). */
    { 2, quick ? 256 : 1024, 77, 10, 64, FALSE, 1, 12, 0, 0 },
    /* The VAE's mid-block attention at 1024²: one head of 512 over
     * 128×128 = 16384 tokens (a few queries of it; the GPU variant, which
     * recomputes scores per 64-wide slice of the head, is too slow here). */
    { 1, 48, 16384, 1, 512, FALSE, 1, 8, 0, -1 },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    if (!(cases[i].d > 256 && quick))
      run_case (arena, &cases[i], 1000 + i);
}

static void
test_attention_splits_queries_over_dispatches (void)
{
  g_setenv ("SFUMATO_MAX_BINDING_BYTES", "16384", TRUE);
  g_autoptr (SfArena) arena = sf_arena_new (sf_test_device (), "test");
  const AttentionCase c = { 2, 300, 21, 2, 16, TRUE, 1, 0, 0, 0 };
  run_case (arena, &c, 1100);
  g_unsetenv ("SFUMATO_MAX_BINDING_BYTES");
}

static void
test_attention_rejects_bad_shapes (void)
{
  SfDevice *device = sf_test_device ();
  g_autoptr (GError) error = NULL;
  g_autoptr (SfArena) arena = sf_arena_new (device, "test");
  g_autoptr (SfTensor) q = sf_tensor_new (arena, SF_DTYPE_F32, 3, (int64_t[]) { 1, 5, 32 }, &error);
  g_autoptr (SfTensor) k = sf_tensor_new (arena, SF_DTYPE_F32, 3, (int64_t[]) { 1, 7, 32 }, &error);
  g_autoptr (SfTensor) v = sf_tensor_new (arena, SF_DTYPE_F32, 3, (int64_t[]) { 1, 7, 32 }, &error);
  g_autoptr (SfTensor) v6 = sf_tensor_new (arena, SF_DTYPE_F32, 3, (int64_t[]) { 1, 6, 32 }, &error);
  g_autoptr (SfTensor) k2 = sf_tensor_new (arena, SF_DTYPE_F32, 3, (int64_t[]) { 2, 7, 32 }, &error);
  g_autoptr (SfTensor) out = sf_tensor_new (arena, SF_DTYPE_F32, 3, (int64_t[]) { 1, 5, 32 }, &error);
  g_autoptr (SfTensor) half = sf_tensor_new (arena, SF_DTYPE_F16, 3, (int64_t[]) { 1, 5, 32 }, &error);
  g_assert_no_error (error);
  g_autoptr (SfStream) stream = sf_stream_new (device, &error);
#define EXPECT_INVALID(call) \
  do { \
      g_assert_false (call); \
      g_assert_error (error, SF_VK_ERROR, SF_VK_ERROR_INVALID); \
      g_assert_nonnull (strstr (error->message, "attention")); \
      g_test_message ("%s", error->message); \
      g_clear_error (&error); \
  } while (0)
  EXPECT_INVALID (sf_op_attention (stream, q, k, v6, 2, 0.25f, FALSE, out, &error));
  EXPECT_INVALID (sf_op_attention (stream, q, k2, k2, 2, 0.25f, FALSE, out, &error));
  EXPECT_INVALID (sf_op_attention (stream, q, k, v, 3, 0.25f, FALSE, out, &error));
  EXPECT_INVALID (sf_op_attention (stream, q, k, v, 16, 0.25f, FALSE, out, &error)); /* D=2 */
  EXPECT_INVALID (sf_op_attention (stream, q, k, v, 0, 0.25f, FALSE, out, &error));
  EXPECT_INVALID (sf_op_attention (stream, q, k, v, 2, NAN, FALSE, out, &error));
  EXPECT_INVALID (sf_op_attention (stream, half, k, v, 2, 0.25f, FALSE, out, &error));
  EXPECT_INVALID (sf_op_attention (stream, q, k, v, 2, 0.25f, FALSE, q, &error));
  EXPECT_INVALID (sf_op_attention (stream, q, k, v, 2, 0.25f, FALSE, k, &error));
  g_assert_cmpuint (sf_stream_get_dispatch_count (stream), ==, 0);
}

int
main (int argc, char **argv)
{
  sf_test_init (&argc, &argv);
  sf_test_add ("/op-attention/matches-reference-at-odd-shapes",
               test_attention_matches_reference_at_odd_shapes);
  sf_test_add ("/op-attention/is-stable-with-large-logits",
               test_attention_is_stable_with_large_logits);
  sf_test_add ("/op-attention/matches-reference-at-sdxl-shapes", test_attention_at_sdxl_shapes);
  sf_test_add ("/op-attention/splits-queries-over-dispatches",
               test_attention_splits_queries_over_dispatches);
  sf_test_add ("/op-attention/rejects-bad-shapes", test_attention_rejects_bad_shapes);
  return sf_test_run ();
}
