/* sf_op_conv2d against a float64 reference on every kernel variant:
 * odd sizes and channel counts, strides 1 and 2, asymmetric padding,
 * kernels of several shapes, bias and residual, and SDXL's 640→640 3×3. */
#include <math.h>
#include <string.h>

#include "kernel-test.h"
#include "ops.h"
#include "sf-test.h"
#include "vk_error.h"

typedef struct {
  int64_t n, h, w, cin, cout;
  int kh, kw, stride, pad_top, pad_left;
  int64_t ho, wo;
  SfDType wdtype;
  gboolean bias, residual;
  guint check_pixels;   /* 0: all output pixels, else this many spread out */
  gboolean cpu_only;    /* too slow for the GPU variant on a CPU device */
  guint min_dispatches; /* the op must split its work at least this much */
  const char *variant;  /* run on this kernel variant only; NULL: all */
} ConvCase;

/* out pixel p (over N*Ho*Wo) = Σ x[..] w[co, ci, ky, kx] (torch layout). */
static void
reference_conv (const ConvCase *c, const float *x, const float *w, const float *bias,
                const float *residual, const int64_t *pixels, int64_t count, float *out)
{
  for (int64_t pi = 0; pi < count; pi++)
    {
      int64_t p = pixels[pi];
      int64_t ox = p % c->wo, oy = p / c->wo % c->ho, img = p / (c->wo * c->ho);
      for (int64_t co = 0; co < c->cout; co++)
        {
          double sum = bias ? bias[co] : 0.0;
          for (int ky = 0; ky < c->kh; ky++)
            for (int kx = 0; kx < c->kw; kx++)
              {
                int64_t iy = oy * c->stride - c->pad_top + ky;
                int64_t ix = ox * c->stride - c->pad_left + kx;
                if (iy < 0 || iy >= c->h || ix < 0 || ix >= c->w)
                  continue;
                const float *px = x + ((img * c->h + iy) * c->w + ix) * c->cin;
                for (int64_t ci = 0; ci < c->cin; ci++)
                  sum += (double) px[ci]
                         * (double) w[((co * c->cin + ci) * c->kh + ky) * c->kw + kx];
              }
          if (residual)
            sum += residual[p * c->cout + co];
          out[pi * c->cout + co] = (float) sum;
        }
    }
}

static void
run_case (SfArena *arena, const ConvCase *c, guint64 seed)
{
  SfDevice *device = sf_test_device ();
  g_autoptr (GError) error = NULL;
  SfTestRng rng;
  sf_test_rng_init (&rng, seed);
  const int64_t x_count = c->n * c->h * c->w * c->cin;
  const int64_t w_count = c->cout * c->cin * c->kh * c->kw;
  const int64_t pixels = c->n * c->ho * c->wo, out_count = pixels * c->cout;
  g_autofree float *x = sf_test_random_array (&rng, x_count, -1, 1);
  g_autofree float *w = sf_test_random_array (&rng, w_count, -0.5f, 0.5f);
  g_autofree float *bias = sf_test_random_array (&rng, c->cout, -1, 1);
  g_autofree float *residual = sf_test_random_array (&rng, out_count, -1, 1);

  const int64_t x_shape[] = { c->n, c->h, c->w, c->cin };
  const int64_t out_shape[] = { c->n, c->ho, c->wo, c->cout };
  g_autoptr (SfTensor) tx = sf_tensor_new (arena, SF_DTYPE_F32, 4, x_shape, &error);
  g_autoptr (SfTensor) tout = sf_tensor_new (arena, SF_DTYPE_F32, 4, out_shape, &error);
  g_autoptr (SfTensor) tres = sf_tensor_new (arena, SF_DTYPE_F32, 4, out_shape, &error);
  g_autoptr (SfTensor) tbias = sf_tensor_new (arena, SF_DTYPE_F32, 1, &c->cout, &error);
  g_autoptr (SfTensor) tw = sf_weight_new_conv (arena, c->wdtype, c->cout, c->cin, c->kh, c->kw,
                                                w, SF_DTYPE_F32, &error);
  g_assert_no_error (error);
  g_assert_cmpint (tw->shape[1], ==, c->kh);
  g_assert_cmpint (tw->shape[3], ==, c->cin);
  g_assert_true (sf_tensor_upload (tx, x, &error));
  g_assert_true (sf_tensor_upload (tres, residual, &error));
  g_assert_true (sf_tensor_upload (tbias, bias, &error));
  g_assert_no_error (error);

  g_autofree int64_t *picked = sf_kernel_test_pick_rows (pixels, c->check_pixels);
  int64_t count = sf_kernel_test_row_count (pixels, c->check_pixels);
  g_autofree float *w_stored = sf_kernel_test_round (w, w_count, c->wdtype);
  g_autofree float *expected = g_new (float, count * c->cout);
  g_autofree float *contract = g_new (float, count * c->cout);
  reference_conv (c, x, w_stored, c->bias ? bias : NULL, c->residual ? residual : NULL, picked,
                  count, expected);
  reference_conv (c, x, w, c->bias ? bias : NULL, c->residual ? residual : NULL, picked, count,
                  contract);

  g_autofree float *got = g_new (float, out_count);
  g_autofree float *got_picked = g_new (float, count * c->cout);
  for (const char *const *v = sf_kernel_test_variants (); *v; v++)
    {
      if ((c->cpu_only && g_str_equal (*v, "gpu")) || (c->variant && !g_str_equal (*v, c->variant)))
        continue;
      sf_kernel_test_use (*v);
      g_autoptr (SfStream) stream = sf_stream_new (device, &error);
      g_assert_true (sf_op_fill (stream, tout, NAN, &error));
      g_assert_true (sf_op_conv2d (stream, tx, tw, c->bias ? tbias : NULL,
                                   c->residual ? tres : NULL, c->stride, c->pad_top, c->pad_left,
                                   tout, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (sf_stream_get_dispatch_count (stream), >=, 1 + c->min_dispatches);
      g_assert_true (sf_stream_run (stream, NULL, &error));
      g_assert_true (sf_tensor_download (tout, got, &error));
      g_assert_no_error (error);
      for (int64_t i = 0; i < count; i++)
        memcpy (got_picked + i * c->cout, got + picked[i] * c->cout, sizeof (float) * c->cout);
      g_test_message ("%s: [%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT ",%"
                      G_GINT64_FORMAT "] -> %" G_GINT64_FORMAT " %dx%d s%d pad (%d,%d) %s: rel "
                      "L2 %.3g", *v, c->n, c->h, c->w, c->cin, c->cout, c->kh, c->kw, c->stride,
                      c->pad_top, c->pad_left, sf_dtype_name (c->wdtype),
                      sf_test_rel_l2 (got_picked, expected, count * c->cout));
      /* f32 arithmetic on the stored weights; f16 storage within 2e-3. */
      sf_assert_close (got_picked, expected, count * c->cout, 1e-5);
      sf_assert_close (got_picked, contract, count * c->cout,
                       c->wdtype == SF_DTYPE_F16 ? 2e-3 : 1e-5);
      for (int64_t i = 0; i < out_count; i++)
        g_assert_false (isnan (got[i]));
    }
  sf_kernel_test_use (NULL);
}

static void
test_conv_matches_reference_at_odd_shapes (void)
{
  /* One arena for all cases: device memory blocks are costly to make. */
  g_autoptr (SfArena) arena = sf_arena_new (sf_test_device (), "test");
  const ConvCase cases[] = {
    /* n h w cin cout kh kw s pt pl ho wo */
    { 1, 7, 5, 3, 5, 3, 3, 1, 1, 1, 7, 5, SF_DTYPE_F32, TRUE, FALSE, 0, FALSE, 0, NULL },
    { 2, 9, 11, 5, 13, 3, 3, 2, 1, 1, 5, 6, SF_DTYPE_F16, TRUE, TRUE, 0, FALSE, 0, NULL },
    { 1, 8, 8, 8, 16, 1, 1, 1, 0, 0, 8, 8, SF_DTYPE_F32, TRUE, TRUE, 0, FALSE, 0, NULL },
    /* The VAE's downsample: pad (0, 1, 0, 1), stride 2. */
    { 1, 10, 7, 12, 20, 3, 3, 2, 0, 0, 5, 3, SF_DTYPE_F32, TRUE, FALSE, 0, FALSE, 0, NULL },
    { 1, 6, 9, 4, 9, 5, 3, 1, 2, 1, 6, 9, SF_DTYPE_F16, FALSE, TRUE, 0, FALSE, 0, NULL },
    { 3, 13, 17, 16, 24, 3, 3, 1, 1, 1, 13, 17, SF_DTYPE_F16, TRUE, FALSE, 0, FALSE, 0, NULL },
    { 1, 9, 9, 7, 3, 1, 1, 2, 0, 0, 5, 5, SF_DTYPE_F32, FALSE, FALSE, 0, FALSE, 0, NULL },
    { 1, 5, 6, 33, 67, 2, 2, 1, 0, 0, 4, 5, SF_DTYPE_F32, TRUE, TRUE, 0, FALSE, 0, NULL },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    run_case (arena, &cases[i], 500 + i);
}

static void
test_conv_at_sdxl_shapes (void)
{
  /* One arena for all cases: device memory blocks are costly to make. */
  g_autoptr (SfArena) arena = sf_arena_new (sf_test_device (), "test");
  const ConvCase cases[] = {
    /* Level 2 of the UNet: 640→640 3×3 at 64×64 (the GPU variant runs the
     * same channels on a smaller image). */
    { 1, 64, 64, 640, 640, 3, 3, 1, 1, 1, 64, 64, SF_DTYPE_F16, TRUE, TRUE, 24, TRUE, 0, NULL },
    { 1, 12, 10, 640, 640, 3, 3, 1, 1, 1, 12, 10, SF_DTYPE_F16, TRUE, TRUE, 30, FALSE, 0, NULL },
    /* A downsample 320→320 stride 2, and the VAE's conv_in (Cin 4). */
    { 1, 32, 32, 320, 320, 3, 3, 2, 1, 1, 16, 16, SF_DTYPE_F32, TRUE, FALSE, 20, FALSE, 0, NULL },
    { 1, 32, 24, 4, 128, 3, 3, 1, 1, 1, 32, 24, SF_DTYPE_F32, TRUE, FALSE, 40, FALSE, 0, NULL },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    if (!(cases[i].cpu_only && sf_kernel_test_quick ()))
      run_case (arena, &cases[i], 600 + i);
}

static void
test_conv_splits_outputs_larger_than_a_binding (void)
{
  /* One arena for all cases: device memory blocks are costly to make. */
  g_autoptr (SfArena) arena = sf_arena_new (sf_test_device (), "test");
  /* As if storage buffer bindings held only 16 KiB: the op splits the
   * output rows into several dispatches (and input windows follow). */
  g_setenv ("SFUMATO_MAX_BINDING_BYTES", "16384", TRUE);
  const ConvCase c = { 2, 15, 13, 8, 40, 3, 3, 1, 1, 1, 15, 13, SF_DTYPE_F32, TRUE, TRUE, 0,
                       FALSE, 4, NULL };
  run_case (arena, &c, 700);
  g_unsetenv ("SFUMATO_MAX_BINDING_BYTES");
}

static void
test_conv_long_reductions_with_each_cpu_tile (void)
{
  /* The tiles sf_kernels_choose picks (32x8 on AVX-512 cores, 16x8 on
   * AVX2 ones) and a ragged 12-row one, at a reduction of 9 * 1280
   * values: the tile loops must be unrolled, or llvmpipe's limit of
   * 65535 loop iterations per invocation would cut the K loop short. The
   * variant for Mesa 22 leaves unrolling to Mesa; the other asks for it. */
  g_autoptr (SfArena) arena = sf_arena_new (sf_test_device (), "test");
  static const char *const tiles[] = { "32x8x32x1", "16x8x32x1", "12x10x16x2" };
  for (gsize t = 0; t < G_N_ELEMENTS (tiles); t++)
    {
      g_setenv ("SFUMATO_TILE", tiles[t], TRUE);
      const ConvCase c = { 1, 6, 5, 1280, 24, 3, 3, 1, 1, 1, 6, 5, SF_DTYPE_F16, TRUE, FALSE, 0,
                           FALSE, 0, "cpu-rolled" };
      run_case (arena, &c, 750 + t);
    }
  g_unsetenv ("SFUMATO_TILE");
}

static void
test_conv_rejects_bad_shapes (void)
{
  SfDevice *device = sf_test_device ();
  g_autoptr (GError) error = NULL;
  g_autoptr (SfArena) arena = sf_arena_new (device, "test");
  float w[4 * 3 * 3 * 3] = { 0 };
  g_autoptr (SfTensor) weight = sf_weight_new_conv (arena, SF_DTYPE_F16, 4, 3, 3, 3, w,
                                                    SF_DTYPE_F32, &error);
  g_autoptr (SfTensor) linear = sf_weight_new_linear (arena, SF_DTYPE_F32, 4, 3, w,
                                                      SF_DTYPE_F32, &error);
  g_autoptr (SfTensor) x = sf_tensor_new (arena, SF_DTYPE_F32, 4, (int64_t[]) { 1, 6, 6, 3 }, &error);
  g_autoptr (SfTensor) x5 = sf_tensor_new (arena, SF_DTYPE_F32, 4, (int64_t[]) { 1, 6, 6, 5 }, &error);
  g_autoptr (SfTensor) out = sf_tensor_new (arena, SF_DTYPE_F32, 4, (int64_t[]) { 1, 6, 6, 4 }, &error);
  g_autoptr (SfTensor) big = sf_tensor_new (arena, SF_DTYPE_F32, 4, (int64_t[]) { 1, 9, 6, 4 }, &error);
  g_autoptr (SfTensor) out2 = sf_tensor_new (arena, SF_DTYPE_F32, 4, (int64_t[]) { 2, 6, 6, 4 }, &error);
  g_autoptr (SfTensor) bias3 = sf_tensor_new (arena, SF_DTYPE_F32, 1, (int64_t[]) { 3 }, &error);
  g_autoptr (SfTensor) flat = sf_tensor_new (arena, SF_DTYPE_F32, 3, (int64_t[]) { 6, 6, 3 }, &error);
  g_assert_no_error (error);
  g_autoptr (SfStream) stream = sf_stream_new (device, &error);
#define EXPECT_INVALID(call) \
  do { \
      g_assert_false (call); \
      g_assert_error (error, SF_VK_ERROR, SF_VK_ERROR_INVALID); \
      g_assert_nonnull (strstr (error->message, "conv2d")); \
      g_test_message ("%s", error->message); \
      g_clear_error (&error); \
  } while (0)
  EXPECT_INVALID (sf_op_conv2d (stream, x5, weight, NULL, NULL, 1, 1, 1, out, &error));
  EXPECT_INVALID (sf_op_conv2d (stream, x, weight, NULL, NULL, 1, 1, 1, out2, &error));
  EXPECT_INVALID (sf_op_conv2d (stream, x, weight, NULL, NULL, 1, 1, 1, big, &error));
  EXPECT_INVALID (sf_op_conv2d (stream, x, weight, NULL, NULL, 0, 1, 1, out, &error));
  EXPECT_INVALID (sf_op_conv2d (stream, x, weight, NULL, NULL, 1, -1, 1, out, &error));
  EXPECT_INVALID (sf_op_conv2d (stream, x, weight, bias3, NULL, 1, 1, 1, out, &error));
  EXPECT_INVALID (sf_op_conv2d (stream, x, weight, NULL, out, 1, 1, 1, out, &error));
  EXPECT_INVALID (sf_op_conv2d (stream, x, weight, NULL, big, 1, 1, 1, out, &error));
  EXPECT_INVALID (sf_op_conv2d (stream, x, linear, NULL, NULL, 1, 1, 1, out, &error));
  EXPECT_INVALID (sf_op_conv2d (stream, flat, weight, NULL, NULL, 1, 1, 1, out, &error));
  g_assert_cmpuint (sf_stream_get_dispatch_count (stream), ==, 0);
  g_assert_null (sf_weight_new_conv (arena, SF_DTYPE_F32, 4, 0, 3, 3, w, SF_DTYPE_F32, &error));
  g_assert_error (error, SF_VK_ERROR, SF_VK_ERROR_INVALID);
}

int
main (int argc, char **argv)
{
  sf_test_init (&argc, &argv);
  sf_test_add ("/op-conv/matches-reference-at-odd-shapes",
               test_conv_matches_reference_at_odd_shapes);
  sf_test_add ("/op-conv/matches-reference-at-sdxl-shapes", test_conv_at_sdxl_shapes);
  sf_test_add ("/op-conv/splits-outputs-larger-than-a-binding",
               test_conv_splits_outputs_larger_than_a_binding);
  sf_test_add ("/op-conv/long-reductions-with-each-cpu-tile",
               test_conv_long_reductions_with_each_cpu_tile);
  sf_test_add ("/op-conv/rejects-bad-shapes", test_conv_rejects_bad_shapes);
  return sf_test_run ();
}
