/* Token embedding and sinusoidal timestep embedding (op_embedding.c). */
#include <math.h>
#include <string.h>

#include "dtype.h"
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

/* Looks up @ids in a random V×D table of @dtype and compares with the
 * host: the rows must come back exactly (f16 rows exactly widened). The
 * table is made as raw bits (cheap for CLIP's 38M values). */
static void
check_embedding (SfArena *arena, SfDType dtype, int64_t vocabulary, int64_t dim, int ids_ndim,
                 const int64_t *ids_shape, guint64 seed)
{
  SfDevice *device = sf_test_device ();
  SfTestRng rng;
  sf_test_rng_init (&rng, seed);
  gsize table_count = (gsize) (vocabulary * dim);
  gsize size = sf_dtype_size (dtype);
  g_autofree guint8 *table = g_malloc (table_count * size);
  guint32 state = (guint32) seed * 2654435761u + 1;
  for (gsize i = 0; i < table_count; i++)
    {
      state = state * 1664525u + 1013904223u;
      if (dtype == SF_DTYPE_F16)
        ((uint16_t *) table)[i] = (uint16_t) (0x3000u + (state >> 20) % 0x1800u) | ((state >> 15) & 0x8000u);
      else
        ((float *) table)[i] = (float) (gint32) state * (1.0f / 1073741824.0f);
    }
  gsize tokens = op_test_numel (ids_ndim, ids_shape);
  g_autofree gint32 *ids = g_new (gint32, tokens);
  const gint32 outside[] = { -1, (gint32) vocabulary, (gint32) vocabulary + 5, G_MININT32,
                             G_MAXINT32 };
  for (gsize i = 0; i < tokens; i++)
    ids[i] = i % 7 == 3 ? outside[i % G_N_ELEMENTS (outside)]
                        : (gint32) (sf_test_rng_uniform (&rng, 0.0f, 1.0f) * vocabulary)
                          % (gint32) vocabulary;
  ids[0] = (gint32) vocabulary - 1;
  g_autofree float *expected = g_new0 (float, tokens * dim);
  for (gsize t = 0; t < tokens; t++)
    if (ids[t] >= 0 && ids[t] < vocabulary)
      for (int64_t d = 0; d < dim; d++)
        {
          gsize source = (gsize) ids[t] * dim + d;
          expected[t * dim + d] = dtype == SF_DTYPE_F16
                                  ? sf_f16_to_f32 (((uint16_t *) table)[source])
                                  : ((float *) table)[source];
        }

  g_autoptr (GError) error = NULL;
  g_autoptr (SfTensor) table_t = sf_tensor_new (arena, dtype, 2, (int64_t[]) { vocabulary, dim },
                                                &error);
  g_assert_no_error (error);
  g_assert_true (sf_tensor_upload_raw (table_t, table, &error));
  g_autoptr (SfTensor) ids_t = sf_tensor_new (arena, SF_DTYPE_I32, ids_ndim, ids_shape, &error);
  g_assert_no_error (error);
  g_assert_true (sf_tensor_upload_raw (ids_t, ids, &error));
  int64_t out_shape[4];
  memcpy (out_shape, ids_shape, ids_ndim * sizeof (int64_t));
  out_shape[ids_ndim] = dim;
  g_autoptr (SfTensor) out = op_test_tensor (arena, SF_DTYPE_F32, ids_ndim + 1, out_shape, NULL);
  g_autoptr (SfStream) stream = sf_stream_new (device, NULL);
  g_assert_true (sf_op_embedding (stream, table_t, ids_t, out, &error));
  g_assert_no_error (error);
  op_test_run (stream);
  g_autofree float *actual = op_test_download (out);
  for (gsize i = 0; i < tokens * dim; i++)
    if (actual[i] != expected[i])
      g_error ("%s table %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT ": token %" G_GSIZE_FORMAT
               " (id %d) element %" G_GSIZE_FORMAT " is %g, expected %g", sf_dtype_name (dtype),
               vocabulary, dim, i / dim, ids[i / dim], i % dim, actual[i], expected[i]);
}

static void
test_embedding_small_tables (void)
{
  g_autoptr (SfArena) arena = sf_arena_new (sf_test_device (), "test");
  for (int d = 0; d < 2; d++)
    {
      SfDType dtype = d ? SF_DTYPE_F16 : SF_DTYPE_F32;
      check_embedding (arena, dtype, 1, 1, 1, (int64_t[]) { 3 }, 1);
      check_embedding (arena, dtype, 10, 3, 1, (int64_t[]) { 9 }, 2);
      check_embedding (arena, dtype, 37, 8, 1, (int64_t[]) { 20 }, 3);
      check_embedding (arena, dtype, 50, 13, 2, (int64_t[]) { 2, 11 }, 4);
      check_embedding (arena, dtype, 100, 36, 2, (int64_t[]) { 3, 7 }, 5);
    }
}

/* CLIP ViT-L's token table (f16) with one prompt of 77, and a slice of
 * bigG's width (f32) with two. */
static void
test_embedding_clip_tables (void)
{
  g_autoptr (SfArena) arena = sf_arena_new (sf_test_device (), "test");
  check_embedding (arena, SF_DTYPE_F16, 49408, 768, 1, (int64_t[]) { 77 }, 6);
  check_embedding (arena, SF_DTYPE_F32, 4096, 1280, 2, (int64_t[]) { 2, 77 }, 7);
}

/* diffusers' get_timestep_embedding as torch computes it in float32:
 * each step rounded to float, exp, sin and cos correctly rounded. */
static void
reference_timestep_embedding (const float *t, int64_t batch, int64_t dim, gboolean flip,
                              float shift, float max_period, float *out)
{
  int64_t half = dim / 2;
  float neg_log = (float) -log ((double) max_period);
  float denominator = (float) ((double) half - (double) shift);
  for (int64_t b = 0; b < batch; b++)
    {
      for (int64_t j = 0; j < half; j++)
        {
          float exponent = (float) j * neg_log;
          exponent = exponent / denominator;
          float freq = (float) exp ((double) exponent);
          float arg = t[b] * freq;
          float s = (float) sin ((double) arg), c = (float) cos ((double) arg);
          out[b * dim + j] = flip ? c : s;
          out[b * dim + half + j] = flip ? s : c;
        }
      if (dim % 2)
        out[b * dim + dim - 1] = 0.0f;
    }
}

static void
check_timestep_embedding (SfArena *arena, const float *t, int64_t batch, int64_t dim,
                          gboolean flip, float shift, float max_period)
{
  SfDevice *device = sf_test_device ();
  g_autofree float *expected = g_new (float, batch * dim);
  reference_timestep_embedding (t, batch, dim, flip, shift, max_period, expected);
  g_autoptr (SfTensor) tt = op_test_tensor (arena, SF_DTYPE_F32, 1, &batch, t);
  g_autoptr (SfTensor) out = op_test_tensor (arena, SF_DTYPE_F32, 2,
                                             (int64_t[]) { batch, dim }, NULL);
  g_autoptr (SfStream) stream = sf_stream_new (device, NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (sf_op_timestep_embedding (stream, tt, flip, shift, max_period, out, &error));
  g_assert_no_error (error);
  op_test_run (stream);
  g_autofree float *actual = op_test_download (out);
  g_test_message ("timestep embedding %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT
                  " flip %d shift %g: rel L2 %.3g, max abs %.3g", batch, dim, flip,
                  (double) shift, sf_test_rel_l2 (actual, expected, batch * dim),
                  sf_test_max_abs_diff (actual, expected, batch * dim));
  /* One unit in the last place of a frequency moves an argument near 1000
   * by 6e-5; the shader's exp is correctly rounded in almost every case,
   * so the rare miss stays far below the fp32 tolerance. */
  sf_assert_close (actual, expected, batch * dim, 1e-5);
  g_assert_cmpfloat (sf_test_max_abs_diff (actual, expected, batch * dim), <, 2e-4);
}

/* The UNet's time_proj: dim 320, flip_sin_to_cos, shift 0, over every
 * timestep a scheduler can use (and some in between). */
static void
test_timestep_embedding_unet (void)
{
  g_autoptr (SfArena) arena = sf_arena_new (sf_test_device (), "test");
  const int64_t batch = 1000;
  g_autofree float *t = g_new (float, batch);
  for (int64_t i = 0; i < batch; i++)
    t[i] = (float) i;
  check_timestep_embedding (arena, t, batch, 320, TRUE, 0.0f, 10000.0f);
  SfTestRng rng;
  sf_test_rng_init (&rng, 8);
  for (int64_t i = 0; i < batch; i++)
    t[i] = sf_test_rng_uniform (&rng, 0.0f, 1000.0f);
  check_timestep_embedding (arena, t, batch, 320, TRUE, 0.0f, 10000.0f);
}

/* SDXL's add_time_proj: dim 256 over its size and crop conditioning. */
static void
test_timestep_embedding_size_conditioning (void)
{
  g_autoptr (SfArena) arena = sf_arena_new (sf_test_device (), "test");
  const float ids[] = { 1024, 1024, 0, 0, 1024, 1024, 768, 1344, 64, 32, 4096, 2048, 512, 1 };
  check_timestep_embedding (arena, ids, G_N_ELEMENTS (ids), 256, TRUE, 0.0f, 10000.0f);
}

/* Other settings: no flip, a shift of 1 (Stable Diffusion 1), odd and
 * tiny dims, another period. */
static void
test_timestep_embedding_variants (void)
{
  g_autoptr (SfArena) arena = sf_arena_new (sf_test_device (), "test");
  const float t[] = { 0.0f, 1.0f, 0.5f, 17.25f, 999.0f, 250.0f, 3.0f };
  check_timestep_embedding (arena, t, 7, 320, FALSE, 1.0f, 10000.0f);
  check_timestep_embedding (arena, t, 7, 7, TRUE, 0.0f, 10000.0f);
  check_timestep_embedding (arena, t, 7, 2, FALSE, 0.0f, 10000.0f);
  check_timestep_embedding (arena, t, 7, 33, FALSE, 0.5f, 100.0f);
  check_timestep_embedding (arena, t, 1, 1280, TRUE, 0.0f, 10000.0f);
}

static void
test_embedding_refuses_bad_input (void)
{
  SfDevice *device = sf_test_device ();
  g_autoptr (SfArena) arena = sf_arena_new (device, "test");
  g_autoptr (GError) ids_error = NULL;
  g_autoptr (SfTensor) table = op_test_tensor (arena, SF_DTYPE_F32, 2, (int64_t[]) { 10, 4 }, NULL);
  g_autoptr (SfTensor) ids = sf_tensor_new (arena, SF_DTYPE_I32, 1, (int64_t[]) { 3 }, &ids_error);
  g_autoptr (SfTensor) fids = op_test_tensor (arena, SF_DTYPE_F32, 1, (int64_t[]) { 3 }, NULL);
  g_autoptr (SfTensor) out = op_test_tensor (arena, SF_DTYPE_F32, 2, (int64_t[]) { 3, 4 }, NULL);
  g_autoptr (SfTensor) wrong = op_test_tensor (arena, SF_DTYPE_F32, 2, (int64_t[]) { 3, 5 }, NULL);
  g_autoptr (SfTensor) t = op_test_tensor (arena, SF_DTYPE_F32, 1, (int64_t[]) { 3 }, NULL);
  g_autoptr (SfTensor) emb1 = op_test_tensor (arena, SF_DTYPE_F32, 2, (int64_t[]) { 3, 1 }, NULL);
  g_autoptr (SfStream) stream = sf_stream_new (device, NULL);
  GError *error = NULL;
  expect_invalid (sf_op_embedding (stream, table, fids, out, &error), error, "embedding");
  expect_invalid (sf_op_embedding (stream, table, ids, wrong, &error), error, "embedding");
  expect_invalid (sf_op_embedding (stream, out, ids, table, &error), error, "embedding");
  expect_invalid (sf_op_timestep_embedding (stream, t, TRUE, 0.0f, 10000.0f, table, &error),
                  error, "timestep_embedding");
  expect_invalid (sf_op_timestep_embedding (stream, t, TRUE, 0.0f, 10000.0f, emb1, &error),
                  error, "timestep_embedding");
  expect_invalid (sf_op_timestep_embedding (stream, t, TRUE, 2.0f, 10000.0f, out, &error),
                  error, "timestep_embedding");
  expect_invalid (sf_op_timestep_embedding (stream, t, TRUE, 0.0f, -1.0f, out, &error),
                  error, "timestep_embedding");
  g_assert_cmpuint (sf_stream_get_dispatch_count (stream), ==, 0);
}

int
main (int argc, char **argv)
{
  sf_test_init (&argc, &argv);
  sf_test_add ("/op/embedding/looks-up-rows-and-zeroes-unknown-ids", test_embedding_small_tables);
  sf_test_add ("/op/embedding/handles-clip-sized-tables", test_embedding_clip_tables);
  sf_test_add ("/op/timestep-embedding/matches-diffusers-for-unet-timesteps",
               test_timestep_embedding_unet);
  sf_test_add ("/op/timestep-embedding/matches-diffusers-for-size-conditioning",
               test_timestep_embedding_size_conditioning);
  sf_test_add ("/op/timestep-embedding/handles-flip-shift-and-odd-dims",
               test_timestep_embedding_variants);
  sf_test_add ("/op/embedding/refuses-bad-input", test_embedding_refuses_bad_input);
  return sf_test_run ();
}
