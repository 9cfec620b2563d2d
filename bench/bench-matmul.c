/* Matmul and the fused GEGLU projection at SDXL's shapes (1024² image,
 * 128×128 latent): attention projections, feed-forward, resnet 1×1. */
#include <stdio.h>

#include "bench.h"
#include "op_gemm.h"

typedef struct {
  SfTensor *a, *w, *bias, *out;
  gboolean geglu;
} MatmulCase;

static gboolean
record_matmul (SfStream *stream, gpointer data, GError **error)
{
  MatmulCase *c = data;
  if (c->geglu)
    return sf_op_matmul_geglu (stream, c->a, c->w, c->bias, c->out, error);
  return sf_op_matmul (stream, c->a, c->w, c->bias, NULL, c->out, error);
}

static void
run (SfBench *bench, int64_t m, int64_t n, int64_t k, SfDType wdtype, gboolean geglu)
{
  g_autoptr (GError) error = NULL;
  SfArena *arena = sf_bench_get_arena (bench);
  int64_t wrows = geglu ? 2 * n : n;
  g_autofree float *host = g_new (float, wrows * k);
  for (int64_t i = 0; i < wrows * k; i++)
    host[i] = (float) ((i * 7919) % 1000) * 0.001f - 0.5f;
  g_autoptr (SfTensor) a = sf_tensor_new (arena, SF_DTYPE_F32, 2, (int64_t[]) { m, k }, &error);
  g_autoptr (SfTensor) out = sf_tensor_new (arena, SF_DTYPE_F32, 2, (int64_t[]) { m, n }, &error);
  g_autoptr (SfTensor) bias = sf_tensor_new (arena, SF_DTYPE_F32, 1, &wrows, &error);
  g_autoptr (SfTensor) w = geglu
    ? sf_weight_new_geglu (arena, wdtype, n, k, host, SF_DTYPE_F32, &error)
    : sf_weight_new_linear (arena, wdtype, n, k, host, SF_DTYPE_F32, &error);
  if (!a || !out || !bias || !w || !sf_bench_randomize (bench, a, &error)
      || !sf_bench_randomize (bench, bias, &error))
    {
      g_printerr ("matmul: %s\n", error->message);
      return;
    }
  MatmulCase c = { a, w, bias, out, geglu };
  g_autofree char *shape = g_strdup_printf ("%" G_GINT64_FORMAT "x%" G_GINT64_FORMAT "x%"
                                            G_GINT64_FORMAT " %s", m, geglu ? 2 * n : n, k,
                                            sf_dtype_name (wdtype));
  sf_bench_case (bench, geglu ? "matmul_geglu" : "matmul", shape,
                 2.0 * (double) m * (double) wrows * (double) k, 0, record_matmul, &c);
}

SF_BENCH_SUITE (matmul)
{
  static const struct { int64_t m, n, k; gboolean geglu; } shapes[] = {
    { 4096, 640, 640, FALSE },    /* level-2 attention projections */
    { 1024, 1280, 1280, FALSE },  /* level-3 attention projections */
    { 4096, 2560, 640, TRUE },    /* level-2 GEGLU: 4096×5120×640 */
    { 16384, 320, 320, FALSE },   /* level-1 resnet 1×1 (shortcut-sized) */
    { 4096, 640, 2560, FALSE },   /* level-2 feed-forward out */
  };
  g_autofree char *kernels = sf_kernels_describe (sf_bench_get_device (bench), SF_DTYPE_F16);
  printf ("matmul kernels: %s\n", kernels);
  const char *only = g_getenv ("SF_BENCH_DTYPE");
  const char *custom = g_getenv ("SF_BENCH_MATMUL");   /* "MxNxK[g],..." */
  if (custom)
    {
      g_auto (GStrv) items = g_strsplit (custom, ",", -1);
      for (char **item = items; *item; item++)
        {
          gint64 m, n, k;
          char g = 0;
          if (sscanf (*item, "%" G_GINT64_FORMAT "x%" G_GINT64_FORMAT "x%" G_GINT64_FORMAT "%c",
                      &m, &n, &k, &g) < 3)
            continue;
          for (int d = 0; d < 2; d++)
            if (!only || g_strcmp0 (only, d == 0 ? "f16" : "f32") == 0)
              run (bench, m, g == 'g' ? n / 2 : n, k, d == 0 ? SF_DTYPE_F16 : SF_DTYPE_F32,
                   g == 'g');
        }
      return;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (shapes); i++)
    for (int d = 0; d < 2; d++)
      {
        SfDType dtype = d == 0 ? SF_DTYPE_F16 : SF_DTYPE_F32;
        if (only && g_strcmp0 (only, sf_dtype_name (dtype)) != 0)
          continue;
        run (bench, shapes[i].m, shapes[i].n, shapes[i].k, dtype, shapes[i].geglu);
      }
}
