/* Fill and conversion: memory-bound baselines. */
#include "bench.h"

static gboolean
record_fill (SfStream *stream, gpointer data, GError **error)
{
  return sf_op_fill (stream, data, 1.0f, error);
}

typedef struct {
  SfTensor *src;
  SfTensor *out;
} Pair;

static gboolean
record_convert (SfStream *stream, gpointer data, GError **error)
{
  Pair *pair = data;
  return sf_op_convert (stream, pair->src, pair->out, error);
}

SF_BENCH_SUITE (basic)
{
  g_autoptr (GError) error = NULL;
  const int64_t shape[] = { 2, 128, 128, 320 };
  g_autoptr (SfTensor) a = sf_tensor_new (sf_bench_get_arena (bench), SF_DTYPE_F32, 4, shape, &error);
  g_autoptr (SfTensor) h = sf_tensor_new (sf_bench_get_arena (bench), SF_DTYPE_F16, 4, shape, &error);
  if (!a || !h || !sf_bench_randomize (bench, a, &error))
    {
      g_printerr ("basic: %s\n", error->message);
      return;
    }
  double bytes = (double) sf_tensor_bytes (a);
  sf_bench_case (bench, "fill", "2x128x128x320 f32", 0, bytes, record_fill, a);
  Pair pair = { a, h };
  sf_bench_case (bench, "convert f32->f16", "2x128x128x320", 0,
                 bytes + (double) sf_tensor_bytes (h), record_convert, &pair);
}
