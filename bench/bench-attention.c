/* Fused attention at SDXL's shapes (1024² image): level-2 and level-3
 * self-attention, cross-attention over 77 text tokens, and the VAE's
 * single 512-wide head (at 512², 64×64 tokens). */
#include "bench.h"

#include <math.h>

typedef struct {
  SfTensor *q, *k, *v, *out;
  int heads;
  float scale;
} AttentionCase;

static gboolean
record_attention (SfStream *stream, gpointer data, GError **error)
{
  AttentionCase *c = data;
  return sf_op_attention (stream, c->q, c->k, c->v, c->heads, c->scale, FALSE, c->out, error);
}

static void
run (SfBench *bench, const char *name, int64_t sq, int64_t sk, int heads, int64_t d)
{
  g_autoptr (GError) error = NULL;
  SfArena *arena = sf_bench_get_arena (bench);
  const int64_t width = heads * d;
  g_autoptr (SfTensor) q = sf_tensor_new (arena, SF_DTYPE_F32, 3, (int64_t[]) { 1, sq, width }, &error);
  g_autoptr (SfTensor) k = sf_tensor_new (arena, SF_DTYPE_F32, 3, (int64_t[]) { 1, sk, width }, &error);
  g_autoptr (SfTensor) v = sf_tensor_new (arena, SF_DTYPE_F32, 3, (int64_t[]) { 1, sk, width }, &error);
  g_autoptr (SfTensor) out = sf_tensor_new (arena, SF_DTYPE_F32, 3, (int64_t[]) { 1, sq, width }, &error);
  if (!q || !k || !v || !out || !sf_bench_randomize (bench, q, &error)
      || !sf_bench_randomize (bench, k, &error) || !sf_bench_randomize (bench, v, &error))
    {
      g_printerr ("attention: %s\n", error->message);
      return;
    }
  AttentionCase c = { q, k, v, out, heads, 1.0f / sqrtf ((float) d) };
  g_autofree char *shape = g_strdup_printf ("%" G_GINT64_FORMAT "x%" G_GINT64_FORMAT " %dx%"
                                            G_GINT64_FORMAT, sq, sk, heads, d);
  sf_bench_case (bench, name, shape, 4.0 * (double) sq * (double) sk * (double) width, 0,
                 record_attention, &c);
}

SF_BENCH_SUITE (attention)
{
  run (bench, "attention", 4096, 4096, 10, 64);
  run (bench, "attention", 1024, 1024, 20, 64);
  run (bench, "attention cross", 4096, 77, 10, 64);
  run (bench, "attention cross", 1024, 77, 20, 64);
  run (bench, "attention vae", 4096, 4096, 1, 512);
}
