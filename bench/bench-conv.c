/* 3×3 convolutions at SDXL's shapes (1024² image: 128×128 latent) and
 * the VAE decoder's, as implicit GEMMs over NHWC. */
#include <stdio.h>

#include "bench.h"
#include "op_gemm.h"

typedef struct {
  SfTensor *x, *w, *bias, *out;
  int stride, pad;
} ConvCase;

static gboolean
record_conv (SfStream *stream, gpointer data, GError **error)
{
  ConvCase *c = data;
  return sf_op_conv2d (stream, c->x, c->w, c->bias, NULL, c->stride, c->pad, c->pad, c->out,
                       error);
}

static void
run (SfBench *bench, const char *name, int64_t hw, int64_t cin, int64_t cout, int k, int stride,
     SfDType wdtype)
{
  g_autoptr (GError) error = NULL;
  SfArena *arena = sf_bench_get_arena (bench);
  const int pad = k / 2;
  const int64_t ho = (hw + 2 * pad - k) / stride + 1;
  g_autofree float *host = g_new (float, cout * cin * k * k);
  for (int64_t i = 0; i < cout * cin * k * k; i++)
    host[i] = (float) ((i * 7919) % 1000) * 0.001f - 0.5f;
  g_autoptr (SfTensor) x = sf_tensor_new (arena, SF_DTYPE_F32, 4, (int64_t[]) { 1, hw, hw, cin },
                                          &error);
  g_autoptr (SfTensor) out = sf_tensor_new (arena, SF_DTYPE_F32, 4,
                                            (int64_t[]) { 1, ho, ho, cout }, &error);
  g_autoptr (SfTensor) bias = sf_tensor_new (arena, SF_DTYPE_F32, 1, &cout, &error);
  g_autoptr (SfTensor) w = sf_weight_new_conv (arena, wdtype, cout, cin, k, k, host,
                                               SF_DTYPE_F32, &error);
  if (!x || !out || !bias || !w || !sf_bench_randomize (bench, x, &error)
      || !sf_bench_randomize (bench, bias, &error))
    {
      g_printerr ("conv: %s\n", error->message);
      return;
    }
  ConvCase c = { x, w, bias, out, stride, pad };
  g_autofree char *shape = g_strdup_printf ("%" G_GINT64_FORMAT "->%" G_GINT64_FORMAT " @%"
                                            G_GINT64_FORMAT "%s %s", cin, cout, hw,
                                            stride == 2 ? " s2" : "", sf_dtype_name (wdtype));
  sf_bench_case (bench, name, shape, 2.0 * (double) (ho * ho) * (double) cout
                 * (double) (cin * k * k), 0, record_conv, &c);
}

SF_BENCH_SUITE (conv)
{
  g_autofree char *kernels = sf_kernels_describe (sf_bench_get_device (bench), SF_DTYPE_F16);
  printf ("conv2d kernels: %s\n", kernels);
  /* The UNet (f16 weights). */
  run (bench, "conv2d 3x3", 128, 320, 320, 3, 1, SF_DTYPE_F16);
  run (bench, "conv2d 3x3", 64, 640, 640, 3, 1, SF_DTYPE_F16);
  run (bench, "conv2d 3x3", 32, 1280, 1280, 3, 1, SF_DTYPE_F16);
  run (bench, "conv2d 3x3 s2", 128, 320, 320, 3, 2, SF_DTYPE_F16);
  run (bench, "conv2d 3x3 s2", 64, 640, 640, 3, 2, SF_DTYPE_F16);
  run (bench, "conv2d 1x1", 64, 320, 640, 1, 1, SF_DTYPE_F16);
  /* The VAE decoder (f32): 512 channels at 128×128, and one 128×128 tile
   * of the 256-channel level at 512×512. */
  run (bench, "conv2d 3x3", 128, 512, 512, 3, 1, SF_DTYPE_F32);
  run (bench, "conv2d 3x3", 128, 256, 256, 3, 1, SF_DTYPE_F32);
}
