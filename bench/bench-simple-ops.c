/* The elementwise, layout and norm ops at SDXL's shapes (1024x1024 images:
 * 128x128 latents; the VAE's decoder at 512x512 for its 128-channel group
 * norm). GB/s counts the bytes each op must move at least once: inputs
 * read once and the output written once (group norm reads x twice, but
 * that is not counted). `sfumato-bench-ops simple` runs this suite. */
#include "bench.h"

typedef struct {
  const SfTensor *x;
  const SfTensor *y;
  const SfTensor *gamma;
  const SfTensor *beta;
  SfTensor *out;
  int groups;
  float eps;
} Case;

static SfTensor *
new_random (SfBench *bench, int ndim, const int64_t *shape, GError **error)
{
  SfTensor *tensor = sf_tensor_new (sf_bench_get_arena (bench), SF_DTYPE_F32, ndim, shape, error);
  if (tensor && !sf_bench_randomize (bench, tensor, error))
    g_clear_pointer (&tensor, sf_tensor_free);
  return tensor;
}

static gboolean
record_group_norm_silu (SfStream *stream, gpointer data, GError **error)
{
  Case *c = data;
  return sf_op_group_norm (stream, c->x, c->gamma, c->beta, c->groups, c->eps, TRUE, c->out,
                           error);
}

static gboolean
record_layer_norm (SfStream *stream, gpointer data, GError **error)
{
  Case *c = data;
  return sf_op_layer_norm (stream, c->x, c->gamma, c->beta, c->eps, c->out, error);
}

static gboolean
record_softmax (SfStream *stream, gpointer data, GError **error)
{
  Case *c = data;
  return sf_op_softmax (stream, c->x, c->out, error);
}

static gboolean
record_add (SfStream *stream, gpointer data, GError **error)
{
  Case *c = data;
  return sf_op_add (stream, c->x, c->y, c->out, error);
}

static gboolean
record_silu (SfStream *stream, gpointer data, GError **error)
{
  Case *c = data;
  return sf_op_activation (stream, SF_ACT_SILU, c->x, c->out, error);
}

static gboolean
record_gelu (SfStream *stream, gpointer data, GError **error)
{
  Case *c = data;
  return sf_op_activation (stream, SF_ACT_GELU, c->x, c->out, error);
}

static gboolean
record_geglu (SfStream *stream, gpointer data, GError **error)
{
  Case *c = data;
  return sf_op_geglu (stream, c->x, c->out, error);
}

static gboolean
record_upsample (SfStream *stream, gpointer data, GError **error)
{
  Case *c = data;
  return sf_op_upsample_nearest2x (stream, c->x, c->out, error);
}

static gboolean
record_concat (SfStream *stream, gpointer data, GError **error)
{
  Case *c = data;
  return sf_op_concat_last (stream, c->x, c->y, c->out, error);
}

static double
bytes_of (const SfTensor *a, const SfTensor *b, const SfTensor *c)
{
  return (double) sf_tensor_bytes (a) + (b ? (double) sf_tensor_bytes (b) : 0)
         + (c ? (double) sf_tensor_bytes (c) : 0);
}

static void
bench_group_norms (SfBench *bench)
{
  static const int64_t shapes[][4] = {
    { 2, 128, 128, 320 }, { 2, 64, 64, 640 }, { 2, 32, 32, 1280 }, { 1, 512, 512, 128 },
  };
  for (gsize s = 0; s < G_N_ELEMENTS (shapes); s++)
    {
      g_autoptr (GError) error = NULL;
      int64_t c = shapes[s][3];
      g_autoptr (SfTensor) x = new_random (bench, 4, shapes[s], &error);
      g_autoptr (SfTensor) gamma = x ? new_random (bench, 1, &c, &error) : NULL;
      g_autoptr (SfTensor) beta = gamma ? new_random (bench, 1, &c, &error) : NULL;
      g_autoptr (SfTensor) out = beta ? new_random (bench, 4, shapes[s], &error) : NULL;
      if (!out)
        {
          g_printerr ("group_norm: %s\n", error->message);
          return;
        }
      Case data = { .x = x, .gamma = gamma, .beta = beta, .out = out, .groups = 32,
                    .eps = 1e-5f };
      g_autofree char *shape = sf_tensor_describe (x);
      sf_bench_case (bench, "group_norm+silu", shape, 0, bytes_of (x, out, NULL),
                     record_group_norm_silu, &data);
    }
}

SF_BENCH_SUITE (simple)
{
  g_autoptr (GError) error = NULL;
  const int64_t image[] = { 2, 64, 64, 640 }, seq[] = { 2, 4096, 640 }, c640[] = { 640 };
  const int64_t geglu_in[] = { 2, 4096, 5120 }, geglu_out[] = { 2, 4096, 2560 };
  const int64_t small[] = { 2, 64, 64, 640 }, big[] = { 2, 128, 128, 640 };
  const int64_t skip_a[] = { 2, 128, 128, 640 }, skip_b[] = { 2, 128, 128, 320 };
  const int64_t skip_out[] = { 2, 128, 128, 960 };
  const int64_t scores[] = { 20, 4096, 77 };

  bench_group_norms (bench);

  g_autoptr (SfTensor) x = new_random (bench, 3, seq, &error);
  g_autoptr (SfTensor) gamma = new_random (bench, 1, c640, &error);
  g_autoptr (SfTensor) beta = new_random (bench, 1, c640, &error);
  g_autoptr (SfTensor) y = new_random (bench, 3, seq, &error);
  g_autoptr (SfTensor) a = new_random (bench, 4, image, &error);
  g_autoptr (SfTensor) b = new_random (bench, 4, image, &error);
  g_autoptr (SfTensor) sum = new_random (bench, 4, image, &error);
  if (!x || !gamma || !beta || !y || !a || !b || !sum)
    {
      g_printerr ("simple: %s\n", error->message);
      return;
    }
  Case ln = { .x = x, .gamma = gamma, .beta = beta, .out = y, .eps = 1e-5f };
  sf_bench_case (bench, "layer_norm", "f32[2,4096,640]", 0, bytes_of (x, y, NULL),
                 record_layer_norm, &ln);
  Case add = { .x = a, .y = b, .out = sum };
  sf_bench_case (bench, "add", "f32[2,64,64,640]", 0, bytes_of (a, b, sum), record_add, &add);
  Case silu = { .x = a, .out = sum };
  sf_bench_case (bench, "silu", "f32[2,64,64,640]", 0, bytes_of (a, sum, NULL), record_silu,
                 &silu);
  sf_bench_case (bench, "gelu (erf)", "f32[2,64,64,640]", 0, bytes_of (a, sum, NULL),
                 record_gelu, &silu);
  g_clear_pointer (&x, sf_tensor_free);
  g_clear_pointer (&y, sf_tensor_free);
  g_clear_pointer (&a, sf_tensor_free);
  g_clear_pointer (&b, sf_tensor_free);
  g_clear_pointer (&sum, sf_tensor_free);

  {
    g_autoptr (SfTensor) gi = new_random (bench, 3, geglu_in, &error);
    g_autoptr (SfTensor) go = gi ? new_random (bench, 3, geglu_out, &error) : NULL;
    if (!go)
      {
        g_printerr ("geglu: %s\n", error->message);
        return;
      }
    Case geglu = { .x = gi, .out = go };
    sf_bench_case (bench, "geglu", "f32[2,4096,5120]", 0, bytes_of (gi, go, NULL), record_geglu,
                   &geglu);
  }
  {
    g_autoptr (SfTensor) ui = new_random (bench, 4, small, &error);
    g_autoptr (SfTensor) uo = ui ? new_random (bench, 4, big, &error) : NULL;
    if (!uo)
      {
        g_printerr ("upsample: %s\n", error->message);
        return;
      }
    Case up = { .x = ui, .out = uo };
    sf_bench_case (bench, "upsample_nearest2x", "f32[2,64,64,640]", 0, bytes_of (ui, uo, NULL),
                   record_upsample, &up);
  }
  {
    g_autoptr (SfTensor) ca = new_random (bench, 4, skip_a, &error);
    g_autoptr (SfTensor) cb = ca ? new_random (bench, 4, skip_b, &error) : NULL;
    g_autoptr (SfTensor) co = cb ? new_random (bench, 4, skip_out, &error) : NULL;
    if (!co)
      {
        g_printerr ("concat: %s\n", error->message);
        return;
      }
    Case cat = { .x = ca, .y = cb, .out = co };
    sf_bench_case (bench, "concat_last", "640+320 at 2x128x128", 0, bytes_of (ca, cb, co),
                   record_concat, &cat);
  }
  {
    g_autoptr (SfTensor) si = new_random (bench, 3, scores, &error);
    g_autoptr (SfTensor) so = si ? new_random (bench, 3, scores, &error) : NULL;
    if (!so)
      {
        g_printerr ("softmax: %s\n", error->message);
        return;
      }
    Case sm = { .x = si, .out = so };
    sf_bench_case (bench, "softmax", "f32[20,4096,77]", 0, bytes_of (si, so, NULL),
                   record_softmax, &sm);
  }
}
