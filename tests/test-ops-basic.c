/* sf_op_fill and sf_op_convert (op_basic.c) against the host. */
#include <math.h>
#include <string.h>

#include "dtype.h"
#include "op-test.h"
#include "vk_error.h"

static const int64_t basic_sizes[] = { 1, 3, 16, 64, 65, 1000, 4097 };

static void
test_fill_sets_every_element (void)
{
  SfDevice *device = sf_test_device ();
  g_autoptr (SfArena) arena = sf_arena_new (device, "test");
  for (gsize s = 0; s < G_N_ELEMENTS (basic_sizes); s++)
    {
      int64_t shape[] = { basic_sizes[s], 1, 1 };
      g_autofree float *garbage = g_new (float, basic_sizes[s]);
      for (int64_t i = 0; i < basic_sizes[s]; i++)
        garbage[i] = (float) i;
      g_autoptr (SfTensor) t = op_test_tensor (arena, SF_DTYPE_F32, 3, shape, garbage);
      g_autoptr (SfStream) stream = sf_stream_new (device, NULL);
      g_assert_true (sf_op_fill (stream, t, -1.25f, NULL));
      op_test_run (stream);
      g_autofree float *back = op_test_download (t);
      for (int64_t i = 0; i < basic_sizes[s]; i++)
        g_assert_cmpfloat (back[i], ==, -1.25f);
    }
}

/* More than 65535 workgroups of 64: the grid spills into y. */
static void
test_fill_covers_a_two_dimensional_grid (void)
{
#ifdef __SANITIZE_ADDRESS__
  /* lavapipe allocates for every workgroup, and ASan's aligned allocation
   * makes 65536 of them take ~20 s; the plain build runs this. */
  g_test_skip ("too slow under AddressSanitizer");
  return;
#endif
  SfDevice *device = sf_test_device ();
  g_autoptr (SfArena) arena = sf_arena_new (device, "test");
  const int64_t shape[] = { 65535 * 64 + 77 };
  g_autoptr (SfTensor) t = op_test_tensor (arena, SF_DTYPE_F32, 1, shape, NULL);
  g_autoptr (SfStream) stream = sf_stream_new (device, NULL);
  g_assert_true (sf_op_fill (stream, t, 0.0f, NULL));
  g_assert_true (sf_op_fill (stream, t, 3.5f, NULL));
  op_test_run (stream);
  g_autofree float *back = op_test_download (t);
  for (int64_t i = 0; i < shape[0]; i++)
    if (back[i] != 3.5f)
      g_error ("element %" G_GINT64_FORMAT " is %g", i, back[i]);
}

static void
test_fill_refuses_other_dtypes (void)
{
  SfDevice *device = sf_test_device ();
  g_autoptr (SfArena) arena = sf_arena_new (device, "test");
  g_autoptr (SfTensor) h = op_test_tensor (arena, SF_DTYPE_F16, 1, (int64_t[]) { 8 }, NULL);
  g_autoptr (SfStream) stream = sf_stream_new (device, NULL);
  g_autoptr (GError) error = NULL;
  g_assert_false (sf_op_fill (stream, h, 1.0f, &error));
  g_assert_error (error, SF_VK_ERROR, SF_VK_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "fill"));
}

/* Values that exercise rounding: ties, overflow, subnormals, signs. */
static float *
conversion_inputs (gsize count)
{
  static const float special[] = {
    0.0f, -0.0f, 1.0f, -2.5f, 65504.0f, 65520.0f, 65535.0f, -65530.0f, 65519.0f, 70000.0f, -1e9f, 6.1035156e-05f,
    5.9604645e-08f, 2.9802322e-08f, 1e-10f, 1.00048828125f, 1.00146484375f, 0.333333343f,
    -3.0517578e-05f, INFINITY, -INFINITY, NAN,
  };
  SfTestRng rng;
  sf_test_rng_init (&rng, 3);
  float *data = g_new (float, count);
  for (gsize i = 0; i < count; i++)
    data[i] = i < G_N_ELEMENTS (special) ? special[i]
              : ldexpf (sf_test_rng_uniform (&rng, -1.0f, 1.0f), (int) (i % 40) - 24);
  return data;
}

static void
test_convert_rounds_to_nearest_half (void)
{
  SfDevice *device = sf_test_device ();
  g_autoptr (SfArena) arena = sf_arena_new (device, "test");
  for (gsize s = 0; s < G_N_ELEMENTS (basic_sizes); s++)
    {
      gsize n = (gsize) basic_sizes[s];
      g_autofree float *input = conversion_inputs (n);
      g_autoptr (SfTensor) f = op_test_tensor (arena, SF_DTYPE_F32, 1, basic_sizes + s, input);
      g_autoptr (SfTensor) h = op_test_tensor (arena, SF_DTYPE_F16, 1, basic_sizes + s, NULL);
      g_autoptr (SfTensor) back = op_test_tensor (arena, SF_DTYPE_F32, 1, basic_sizes + s, NULL);
      g_autoptr (SfStream) stream = sf_stream_new (device, NULL);
      g_autoptr (GError) error = NULL;
      g_assert_true (sf_op_convert (stream, f, h, &error));
      g_assert_true (sf_op_convert (stream, h, back, &error));
      g_assert_no_error (error);
      op_test_run (stream);
      g_autofree uint16_t *bits = g_new (uint16_t, n);
      g_assert_true (sf_tensor_download_raw (h, bits, &error));
      g_autofree float *widened = op_test_download (back);
      for (gsize i = 0; i < n; i++)
        {
          uint16_t expected = sf_f32_to_f16 (input[i]);
          if (isnan (input[i]))
            {
              g_assert_cmphex (bits[i] & 0x7c00u, ==, 0x7c00u);
              g_assert_cmphex (bits[i] & 0x03ffu, !=, 0);
              g_assert_true (isnan (widened[i]));
              continue;
            }
          if (bits[i] != expected)
            g_error ("%.9g became 0x%04x, not 0x%04x", input[i], bits[i], expected);
          g_assert_cmpfloat (widened[i], ==, sf_f16_to_f32 (bits[i]));
        }
    }
}

static void
test_convert_refuses_shape_mismatch (void)
{
  SfDevice *device = sf_test_device ();
  g_autoptr (SfArena) arena = sf_arena_new (device, "test");
  g_autoptr (SfTensor) a = op_test_tensor (arena, SF_DTYPE_F32, 1, (int64_t[]) { 8 }, NULL);
  g_autoptr (SfTensor) b = op_test_tensor (arena, SF_DTYPE_F16, 1, (int64_t[]) { 9 }, NULL);
  g_autoptr (SfStream) stream = sf_stream_new (device, NULL);
  g_autoptr (GError) error = NULL;
  g_assert_false (sf_op_convert (stream, a, b, &error));
  g_assert_error (error, SF_VK_ERROR, SF_VK_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "convert"));
  g_assert_cmpuint (sf_stream_get_dispatch_count (stream), ==, 0);
}

int
main (int argc, char **argv)
{
  sf_test_init (&argc, &argv);
  sf_test_add ("/op/fill/sets-every-element", test_fill_sets_every_element);
  sf_test_add ("/op/fill/covers-a-two-dimensional-grid", test_fill_covers_a_two_dimensional_grid);
  sf_test_add ("/op/fill/refuses-other-dtypes", test_fill_refuses_other_dtypes);
  sf_test_add ("/op/convert/rounds-to-nearest-half-and-back", test_convert_rounds_to_nearest_half);
  sf_test_add ("/op/convert/refuses-shape-mismatch", test_convert_refuses_shape_mismatch);
  return sf_test_run ();
}
