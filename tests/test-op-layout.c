/* Layout ops (op_layout.c) against plain C references: nearest 2x
 * upsampling, concatenation, permutation, copy into a window. They move
 * values without arithmetic, so results must match exactly. */
#include <string.h>

#include "op-test.h"
#include "vk_error.h"

#define expect_invalid(call, error, op) \
  G_STMT_START { \
    g_assert_false (call); \
    g_assert_error (error, SF_VK_ERROR, SF_VK_ERROR_INVALID); \
    g_assert_nonnull (strstr (error->message, op)); \
    g_test_message ("%s", error->message); \
    g_clear_error (&error); \
  } G_STMT_END

static float *
numbered (SfTestRng *rng, gsize count)
{
  /* Distinct values, so a misplaced element cannot go unnoticed. */
  float *data = g_new (float, MAX (count, 1));
  for (gsize i = 0; i < count; i++)
    data[i] = (float) i + sf_test_rng_uniform (rng, 0.0f, 0.5f);
  return data;
}

static void
assert_equal (const float *actual, const float *expected, gsize count, const char *what)
{
  for (gsize i = 0; i < count; i++)
    if (actual[i] != expected[i])
      g_error ("%s: element %" G_GSIZE_FORMAT " is %g, expected %g", what, i, actual[i],
               expected[i]);
}

static void
check_upsample (SfArena *arena, SfTestRng *rng, const int64_t *shape)
{
  SfDevice *device = sf_test_device ();
  int64_t n = shape[0], h = shape[1], w = shape[2], c = shape[3];
  const int64_t out_shape[] = { n, 2 * h, 2 * w, c };
  gsize count = op_test_numel (4, shape), out_count = 4 * count;
  g_autofree float *input = numbered (rng, count);
  g_autofree float *expected = g_new (float, out_count);
  gsize e = 0;
  for (int64_t i = 0; i < n; i++)
    for (int64_t y = 0; y < 2 * h; y++)
      for (int64_t x = 0; x < 2 * w; x++)
        for (int64_t k = 0; k < c; k++)
          expected[e++] = input[((i * h + y / 2) * w + x / 2) * c + k];
  g_autoptr (SfTensor) xt = op_test_tensor (arena, SF_DTYPE_F32, 4, shape, input);
  g_autoptr (SfTensor) out = op_test_tensor (arena, SF_DTYPE_F32, 4, out_shape, NULL);
  g_autoptr (SfStream) stream = sf_stream_new (device, NULL);
  g_autoptr (GError) error = NULL;
  gboolean ok = sf_op_upsample_nearest2x (stream, xt, out, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  op_test_run (stream);
  g_autofree float *actual = op_test_download (out);
  g_autofree char *text = op_test_shape_text (4, shape);
  assert_equal (actual, expected, out_count, text);
}

static const int64_t upsample_shapes[][4] = {
  { 1, 1, 1, 1 }, { 2, 3, 5, 7 }, { 1, 4, 6, 8 }, { 2, 7, 3, 12 }, { 1, 5, 9, 2 },
  { 1, 64, 64, 320 }, { 2, 3, 5, 32 },
};

static void
test_upsample (void)
{
  g_autoptr (SfArena) arena = sf_arena_new (sf_test_device (), "test");
  SfTestRng rng;
  sf_test_rng_init (&rng, 1);
  for (gsize s = 0; s < G_N_ELEMENTS (upsample_shapes); s++)
    check_upsample (arena, &rng, upsample_shapes[s]);
}

static void
check_concat (SfArena *arena, SfTestRng *rng, int ndim, const int64_t *lead, int64_t ca,
              int64_t cb)
{
  SfDevice *device = sf_test_device ();
  int64_t a_shape[4], b_shape[4], o_shape[4];
  for (int i = 0; i < ndim - 1; i++)
    a_shape[i] = b_shape[i] = o_shape[i] = lead[i];
  a_shape[ndim - 1] = ca;
  b_shape[ndim - 1] = cb;
  o_shape[ndim - 1] = ca + cb;
  gsize rows = op_test_numel (ndim - 1, lead);
  g_autofree float *a = numbered (rng, rows * ca);
  g_autofree float *b = numbered (rng, rows * cb);
  g_autofree float *expected = g_new (float, rows * (ca + cb));
  for (gsize r = 0; r < rows; r++)
    {
      memcpy (expected + r * (ca + cb), a + r * ca, ca * sizeof (float));
      memcpy (expected + r * (ca + cb) + ca, b + r * cb, cb * sizeof (float));
    }
  g_autoptr (SfTensor) at = op_test_tensor (arena, SF_DTYPE_F32, ndim, a_shape, a);
  g_autoptr (SfTensor) bt = op_test_tensor (arena, SF_DTYPE_F32, ndim, b_shape, b);
  g_autoptr (SfTensor) out = op_test_tensor (arena, SF_DTYPE_F32, ndim, o_shape, NULL);
  g_autoptr (SfStream) stream = sf_stream_new (device, NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (sf_op_concat_last (stream, at, bt, out, &error));
  g_assert_no_error (error);
  op_test_run (stream);
  g_autofree float *actual = op_test_download (out);
  g_autofree char *text = op_test_shape_text (ndim, o_shape);
  assert_equal (actual, expected, rows * (ca + cb), text);
}

static void
test_concat (void)
{
  g_autoptr (SfArena) arena = sf_arena_new (sf_test_device (), "test");
  SfTestRng rng;
  sf_test_rng_init (&rng, 2);
  check_concat (arena, &rng, 1, NULL, 3, 5);
  check_concat (arena, &rng, 2, (int64_t[]) { 7 }, 1, 1);
  check_concat (arena, &rng, 2, (int64_t[]) { 9 }, 4, 8);
  check_concat (arena, &rng, 3, (int64_t[]) { 3, 5 }, 7, 4);
  check_concat (arena, &rng, 3, (int64_t[]) { 2, 11 }, 12, 3);
  check_concat (arena, &rng, 4, (int64_t[]) { 2, 3, 5 }, 13, 6);
  /* The UNet's skip connection at 32×32: 640 + 320 channels. */
  check_concat (arena, &rng, 4, (int64_t[]) { 2, 32, 32 }, 640, 320);
}

static void
check_permute (SfArena *arena, SfTestRng *rng, int ndim, const int64_t *shape, const int *perm)
{
  SfDevice *device = sf_test_device ();
  int64_t out_shape[4], stride[4], s = 1;
  for (int i = ndim - 1; i >= 0; i--)
    {
      stride[i] = s;
      s *= shape[i];
    }
  for (int i = 0; i < ndim; i++)
    out_shape[i] = shape[perm[i]];
  gsize count = op_test_numel (ndim, shape);
  g_autofree float *input = numbered (rng, count);
  g_autofree float *expected = g_new (float, count);
  for (gsize e = 0; e < count; e++)
    {
      gsize rest = e, source = 0;
      for (int i = ndim - 1; i >= 0; i--)
        {
          source += (rest % out_shape[i]) * stride[perm[i]];
          rest /= out_shape[i];
        }
      expected[e] = input[source];
    }
  g_autoptr (SfTensor) xt = op_test_tensor (arena, SF_DTYPE_F32, ndim, shape, input);
  g_autoptr (SfTensor) out = op_test_tensor (arena, SF_DTYPE_F32, ndim, out_shape, NULL);
  g_autoptr (SfStream) stream = sf_stream_new (device, NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (sf_op_permute (stream, xt, perm, out, &error));
  g_assert_no_error (error);
  op_test_run (stream);
  g_autofree float *actual = op_test_download (out);
  g_autofree char *text = op_test_shape_text (ndim, shape);
  g_autofree char *what = g_strdup_printf ("%s by (%d,%d,%d,%d)", text, perm[0],
                                           ndim > 1 ? perm[1] : -1, ndim > 2 ? perm[2] : -1,
                                           ndim > 3 ? perm[3] : -1);
  assert_equal (actual, expected, count, what);
}

/* Every permutation of four dims, on a shape with odd sizes and on one
 * whose innermost size allows 4-float texels. */
static void
test_permute_all_orders (void)
{
  g_autoptr (SfArena) arena = sf_arena_new (sf_test_device (), "test");
  SfTestRng rng;
  sf_test_rng_init (&rng, 3);
  const int64_t odd[] = { 2, 3, 5, 7 }, even[] = { 3, 2, 5, 8 };
  for (int p = 0; p < 24; p++)
    {
      int rest[4] = { 0, 1, 2, 3 }, perm[4], code = p;
      for (int i = 0; i < 4; i++)
        {
          int pick = code % (4 - i);
          code /= 4 - i;
          perm[i] = rest[pick];
          memmove (rest + pick, rest + pick + 1, (3 - pick) * sizeof (int));
        }
      check_permute (arena, &rng, 4, odd, perm);
      check_permute (arena, &rng, 4, even, perm);
    }
}

static void
test_permute_common_layouts (void)
{
  g_autoptr (SfArena) arena = sf_arena_new (sf_test_device (), "test");
  SfTestRng rng;
  sf_test_rng_init (&rng, 4);
  /* NCHW -> NHWC and back (model input and output). */
  check_permute (arena, &rng, 4, (int64_t[]) { 2, 4, 33, 17 }, (int[]) { 0, 2, 3, 1 });
  check_permute (arena, &rng, 4, (int64_t[]) { 2, 33, 17, 4 }, (int[]) { 0, 3, 1, 2 });
  /* Heads: [B, L, H, D] -> [B, H, L, D]. */
  check_permute (arena, &rng, 4, (int64_t[]) { 2, 77, 10, 64 }, (int[]) { 0, 2, 1, 3 });
  check_permute (arena, &rng, 2, (int64_t[]) { 17, 33 }, (int[]) { 1, 0 });
  check_permute (arena, &rng, 3, (int64_t[]) { 1, 9, 1 }, (int[]) { 2, 1, 0 });   /* a copy */
  check_permute (arena, &rng, 3, (int64_t[]) { 4, 5, 6 }, (int[]) { 0, 1, 2 });   /* identity */
  check_permute (arena, &rng, 1, (int64_t[]) { 11 }, (int[]) { 0 });
}

static void
check_copy_into (SfArena *arena, SfTestRng *rng, int ndim, const int64_t *out_shape, int dim,
                 int64_t size, int64_t offset)
{
  SfDevice *device = sf_test_device ();
  int64_t x_shape[4];
  memcpy (x_shape, out_shape, ndim * sizeof (int64_t));
  x_shape[dim] = size;
  gsize out_count = op_test_numel (ndim, out_shape), count = op_test_numel (ndim, x_shape);
  g_autofree float *before = numbered (rng, out_count);
  g_autofree float *input = numbered (rng, count);
  for (gsize i = 0; i < count; i++)
    input[i] = -input[i] - 1.0f;
  g_autofree float *expected = g_memdup2 (before, out_count * sizeof (float));
  gsize outer = op_test_numel (dim, out_shape);
  gsize inner = op_test_numel (ndim - dim - 1, out_shape + dim + 1);
  for (gsize r = 0; r < outer; r++)
    memcpy (expected + (r * out_shape[dim] + offset) * inner, input + r * size * inner,
            size * inner * sizeof (float));
  g_autoptr (SfTensor) xt = op_test_tensor (arena, SF_DTYPE_F32, ndim, x_shape, input);
  g_autoptr (SfTensor) out = op_test_tensor (arena, SF_DTYPE_F32, ndim, out_shape, before);
  g_autoptr (SfStream) stream = sf_stream_new (device, NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (sf_op_copy_into (stream, xt, out, dim, offset, &error));
  g_assert_no_error (error);
  op_test_run (stream);
  g_autofree float *actual = op_test_download (out);
  g_autofree char *text = op_test_shape_text (ndim, out_shape);
  g_autofree char *what = g_strdup_printf ("%s dim %d [%" G_GINT64_FORMAT ", +%" G_GINT64_FORMAT
                                           ")", text, dim, offset, size);
  assert_equal (actual, expected, out_count, what);
}

static void
test_copy_into (void)
{
  g_autoptr (SfArena) arena = sf_arena_new (sf_test_device (), "test");
  SfTestRng rng;
  sf_test_rng_init (&rng, 5);
  const int64_t odd[] = { 3, 5, 7, 9 }, even[] = { 2, 6, 4, 8 };
  for (int dim = 0; dim < 4; dim++)
    {
      check_copy_into (arena, &rng, 4, odd, dim, odd[dim] - 2, 1);
      check_copy_into (arena, &rng, 4, odd, dim, 1, odd[dim] - 1);
      check_copy_into (arena, &rng, 4, even, dim, even[dim] / 2, even[dim] / 2);
      check_copy_into (arena, &rng, 4, even, dim, even[dim], 0);
    }
  check_copy_into (arena, &rng, 1, (int64_t[]) { 13 }, 0, 5, 8);
  check_copy_into (arena, &rng, 2, (int64_t[]) { 1, 13 }, 1, 5, 3);
  /* A 64×64 latent tile into a 96×96 one. */
  check_copy_into (arena, &rng, 4, (int64_t[]) { 1, 96, 96, 4 }, 1, 64, 32);
}

/* out = the window of x at @offset along @dim, @size wide. */
static void
check_copy_window (SfArena *arena, SfTestRng *rng, int ndim, const int64_t *x_shape, int dim,
                   int64_t size, int64_t offset)
{
  int64_t out_shape[4];
  memcpy (out_shape, x_shape, ndim * sizeof (int64_t));
  out_shape[dim] = size;
  gsize count = op_test_numel (ndim, x_shape), out_count = op_test_numel (ndim, out_shape);
  g_autofree float *input = numbered (rng, count);
  g_autofree float *expected = g_new (float, MAX (out_count, 1));
  gsize outer = op_test_numel (dim, x_shape);
  gsize inner = op_test_numel (ndim - dim - 1, x_shape + dim + 1);
  for (gsize r = 0; r < outer; r++)
    memcpy (expected + r * size * inner, input + (r * x_shape[dim] + offset) * inner,
            size * inner * sizeof (float));
  g_autoptr (SfTensor) xt = op_test_tensor (arena, SF_DTYPE_F32, ndim, x_shape, input);
  g_autoptr (SfTensor) out = op_test_tensor (arena, SF_DTYPE_F32, ndim, out_shape, NULL);
  g_autoptr (SfStream) stream = sf_stream_new (sf_test_device (), NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (sf_op_copy_window (stream, xt, dim, offset, out, &error));
  g_assert_no_error (error);
  op_test_run (stream);
  g_autofree float *actual = op_test_download (out);
  g_autofree char *text = op_test_shape_text (ndim, x_shape);
  g_autofree char *what = g_strdup_printf ("%s dim %d [%" G_GINT64_FORMAT ", +%" G_GINT64_FORMAT
                                           ")", text, dim, offset, size);
  assert_equal (actual, expected, out_count, what);
}

static void
test_copy_window (void)
{
  g_autoptr (SfArena) arena = sf_arena_new (sf_test_device (), "test");
  SfTestRng rng;
  sf_test_rng_init (&rng, 9);
  const int64_t odd[] = { 3, 5, 7, 9 }, even[] = { 2, 6, 4, 8 };
  for (int dim = 0; dim < 4; dim++)
    {
      check_copy_window (arena, &rng, 4, odd, dim, odd[dim] - 2, 1);
      check_copy_window (arena, &rng, 4, odd, dim, 1, odd[dim] - 1);
      check_copy_window (arena, &rng, 4, even, dim, even[dim] / 2, even[dim] / 2);
      check_copy_window (arena, &rng, 4, even, dim, even[dim], 0);
    }
  /* The UNet's crop: an upsampled [2, 8, 14, 64] to its skip's 7 rows. */
  check_copy_window (arena, &rng, 4, (int64_t[]) { 2, 8, 14, 64 }, 1, 7, 0);
  check_copy_window (arena, &rng, 4, (int64_t[]) { 2, 7, 14, 64 }, 2, 13, 0);

  /* A window that does not fit is an error. */
  g_autoptr (SfTensor) x = op_test_tensor (arena, SF_DTYPE_F32, 2, (int64_t[]) { 4, 4 }, NULL);
  g_autoptr (SfTensor) out = op_test_tensor (arena, SF_DTYPE_F32, 2, (int64_t[]) { 4, 3 }, NULL);
  g_autoptr (SfStream) stream = sf_stream_new (sf_test_device (), NULL);
  g_autoptr (GError) error = NULL;
  g_assert_false (sf_op_copy_window (stream, x, 1, 2, out, &error));
  g_assert_error (error, SF_VK_ERROR, SF_VK_ERROR_INVALID);
}

/* With bindings limited to a few KiB the ops write in many slices (and
 * copy_into in pieces of rows); results must not change. */
static void
test_layout_ops_slice_large_outputs (void)
{
  g_autoptr (SfArena) arena = sf_arena_new (sf_test_device (), "test");
  SfTestRng rng;
  sf_test_rng_init (&rng, 6);
  op_test_limit_bindings (2048);
  check_upsample (arena, &rng, (int64_t[]) { 2, 9, 7, 5 });
  check_upsample (arena, &rng, (int64_t[]) { 1, 6, 10, 16 });   /* 2 rows > a binding */
  check_upsample (arena, &rng, (int64_t[]) { 2, 5, 3, 16 });    /* input-driven, sliced */
  check_concat (arena, &rng, 3, (int64_t[]) { 3, 41 }, 12, 8);
  check_concat (arena, &rng, 3, (int64_t[]) { 3, 41 }, 5, 2);
  check_permute (arena, &rng, 4, (int64_t[]) { 3, 20, 4, 13 }, (int[]) { 1, 3, 0, 2 });
  check_copy_into (arena, &rng, 3, (int64_t[]) { 5, 30, 9 }, 1, 20, 7);
  check_copy_into (arena, &rng, 3, (int64_t[]) { 4, 40, 8 }, 1, 32, 4);
  /* Rows of out longer than a binding: pieces of rows. */
  check_copy_into (arena, &rng, 2, (int64_t[]) { 3, 1201 }, 1, 1100, 51);
  check_copy_into (arena, &rng, 2, (int64_t[]) { 3, 1600 }, 1, 1200, 200);
  op_test_limit_bindings (0);
}

static void
test_bad_layouts_are_refused (void)
{
  SfDevice *device = sf_test_device ();
  g_autoptr (SfArena) arena = sf_arena_new (device, "test");
  g_autoptr (SfTensor) img = op_test_tensor (arena, SF_DTYPE_F32, 4, (int64_t[]) { 1, 2, 3, 4 }, NULL);
  g_autoptr (SfTensor) big = op_test_tensor (arena, SF_DTYPE_F32, 4, (int64_t[]) { 1, 4, 6, 5 }, NULL);
  g_autoptr (SfTensor) flat = op_test_tensor (arena, SF_DTYPE_F32, 2, (int64_t[]) { 6, 4 }, NULL);
  g_autoptr (SfTensor) wide = op_test_tensor (arena, SF_DTYPE_F32, 2, (int64_t[]) { 6, 9 }, NULL);
  g_autoptr (SfTensor) other = op_test_tensor (arena, SF_DTYPE_F32, 2, (int64_t[]) { 6, 4 }, NULL);
  g_autoptr (SfTensor) half = op_test_tensor (arena, SF_DTYPE_F16, 2, (int64_t[]) { 6, 4 }, NULL);
  g_autoptr (SfStream) stream = sf_stream_new (device, NULL);
  GError *error = NULL;

  expect_invalid (sf_op_upsample_nearest2x (stream, img, big, &error), error, "upsample");
  expect_invalid (sf_op_upsample_nearest2x (stream, flat, wide, &error), error, "upsample");
  expect_invalid (sf_op_concat_last (stream, flat, flat, wide, &error), error, "concat_last");
  expect_invalid (sf_op_concat_last (stream, flat, half, wide, &error), error, "concat_last");
  expect_invalid (sf_op_permute (stream, flat, (int[]) { 0, 0 }, other, &error), error,
                  "permute");
  expect_invalid (sf_op_permute (stream, flat, (int[]) { 1, 0 }, other, &error), error,
                  "permute");
  expect_invalid (sf_op_permute (stream, flat, (int[]) { 0, 1 }, flat, &error), error,
                  "permute");
  expect_invalid (sf_op_permute (stream, flat, (int[]) { 0, 2 }, wide, &error), error,
                  "permute");
  expect_invalid (sf_op_copy_into (stream, flat, wide, 1, 6, &error), error, "copy_into");
  expect_invalid (sf_op_copy_into (stream, flat, wide, 0, 0, &error), error, "copy_into");
  expect_invalid (sf_op_copy_into (stream, flat, wide, 2, 0, &error), error, "copy_into");
  expect_invalid (sf_op_copy_into (stream, flat, wide, 1, -1, &error), error, "copy_into");
  expect_invalid (sf_op_copy_into (stream, flat, flat, 1, 0, &error), error, "copy_into");
  g_assert_cmpuint (sf_stream_get_dispatch_count (stream), ==, 0);
}

int
main (int argc, char **argv)
{
  sf_test_init (&argc, &argv);
  sf_test_add ("/op/upsample-nearest2x/repeats-each-pixel-twice-each-way", test_upsample);
  sf_test_add ("/op/concat-last/joins-channels", test_concat);
  sf_test_add ("/op/permute/handles-every-order-of-four-dims", test_permute_all_orders);
  sf_test_add ("/op/permute/handles-common-layouts", test_permute_common_layouts);
  sf_test_add ("/op/copy-into/writes-a-window-along-each-dim", test_copy_into);
  sf_test_add ("/op/layout/copy-window-takes-a-window", test_copy_window);
  sf_test_add ("/op/layout/slices-outputs-larger-than-a-binding",
               test_layout_ops_slice_large_outputs);
  sf_test_add ("/op/layout/refuses-bad-shapes", test_bad_layouts_are_refused);
  return sf_test_run ();
}
