/* The VAE over images too large for one pass: layer by layer, in bands of
 * rows, with every activation in host memory between layers.
 *
 * Exactness: GroupNorm needs statistics of the whole image, so each norm
 * is computed on the host over the whole activation (double sums) and
 * applied per band as a per-channel scale and shift (+ SiLU) right before
 * the convolution that follows it; a 3×3 convolution reads one row of
 * halo from the neighbouring band (and zero padding at the image's top
 * and bottom, exactly as the one-pass convolution does); the mid-block's
 * attention is global, so the mid-block runs whole at latent resolution.
 * The result equals the one-pass result up to float rounding. */
#include <math.h>
#include <string.h>

#include "vae_private.h"
#include "vk_error.h"

#define BAND_BYTES ((guint64) 48 << 20)

/* An NHWC activation of batch 1 in host memory. */
typedef struct {
  int h, w, c;
  float *data;
} Plane;

static void
plane_init (Plane *p, int h, int w, int c)
{
  p->h = h;
  p->w = w;
  p->c = c;
  p->data = g_new (float, (gsize) h * w * c);
}

static void
plane_clear (Plane *p)
{
  g_clear_pointer (&p->data, g_free);
}

static gsize
row_floats (const Plane *p)
{
  return (gsize) p->w * p->c;
}

static float *
download_vector (const SfTensor *t, GError **error)
{
  float *host = g_new (float, sf_tensor_numel (t));
  if (!sf_tensor_download (t, host, error))
    g_clear_pointer (&host, g_free);
  return host;
}

/* GroupNorm(32) of the whole plane folded into a per-channel affine map:
 * y = x · scale + shift. */
static gboolean
group_norm_affine (const Plane *x, const SfTensor *gamma, const SfTensor *beta, float *scale,
                   float *shift, GError **error)
{
  const int groups = 32;
  int per_group = x->c / groups;
  if (x->c % groups)
    {
      g_set_error (error, SF_VK_ERROR, SF_VK_ERROR_INVALID,
                   "GroupNorm over %d channels needs a multiple of %d", x->c, groups);
      return FALSE;
    }
  g_autofree float *g = download_vector (gamma, error);
  g_autofree float *b = g ? download_vector (beta, error) : NULL;
  if (!b)
    return FALSE;
  /* Per channel first (the inner loop runs along memory), then per group;
   * shifted by the channel's first value so large means keep precision. */
  g_autofree double *sum = g_new0 (double, x->c);
  g_autofree double *sum2 = g_new0 (double, x->c);
  gsize pixels = (gsize) x->h * x->w;
  const float *origin = x->data;
  for (gsize i = 0; i < pixels; i++)
    {
      const float *px = x->data + i * x->c;
      for (int ch = 0; ch < x->c; ch++)
        {
          double d = (double) px[ch] - origin[ch];
          sum[ch] += d;
          sum2[ch] += d * d;
        }
    }
  for (int gi = 0; gi < groups; gi++)
    {
      /* Combine the channels' shifted moments into the group's. */
      double n = (double) pixels * per_group, mean = 0, m2 = 0;
      for (int k = 0; k < per_group; k++)
        {
          int ch = gi * per_group + k;
          mean += sum[ch] + (double) origin[ch] * pixels;
        }
      mean /= n;
      for (int k = 0; k < per_group; k++)
        {
          int ch = gi * per_group + k;
          double o = origin[ch] - mean; /* shift of this channel's sums */
          m2 += sum2[ch] + 2 * o * sum[ch] + o * o * pixels;
        }
      double var = m2 / n;
      double rstd = 1.0 / sqrt (var + 1e-6);
      for (int k = 0; k < per_group; k++)
        {
          int ch = gi * per_group + k;
          scale[ch] = (float) (g[ch] * rstd);
          shift[ch] = (float) (b[ch] - mean * g[ch] * rstd);
        }
    }
  return TRUE;
}

/* A convolution layer over bands. */
typedef struct {
  const float *scale, *shift;      /* GroupNorm + SiLU before the conv, or NULL */
  const SfTensor *w, *b;           /* [Cout, kh, kw, Cin] */
  int stride;                      /* 1: "same" padding; 2: LDM's (0, 1, 0, 1) */
  const Plane *residual;           /* added to the output, or NULL */
  const SfTensor *shortcut_w, *shortcut_b;  /* 1×1 applied to the residual first */
} ConvLayer;

static gboolean
upload_rows (SfArena *arena, const Plane *p, int first, int count, SfTensor **out, GError **error)
{
  *out = sf_tensor_new (arena, SF_DTYPE_F32, 4, (int64_t[]) { 1, count, p->w, p->c }, error);
  return *out && sf_tensor_upload (*out, p->data + (gsize) first * row_floats (p), error);
}

static gboolean
upload_vector (SfArena *arena, const float *data, int count, SfTensor **out, GError **error)
{
  *out = sf_tensor_new (arena, SF_DTYPE_F32, 1, (int64_t[]) { count }, error);
  return *out && sf_tensor_upload (*out, data, error);
}

/* Output rows [r0, r1) of one layer: upload the input rows they read
 * (with the halo), normalise, convolve, add the residual, download. */
static gboolean
run_band (SfDevice *device, const Plane *x, const ConvLayer *layer, Plane *out, int r0, int r1,
          GCancellable *cancellable, GError **error)
{
  int k = (int) layer->w->shape[1];
  int pad = layer->stride == 1 ? k / 2 : 0;
  /* Input rows read by output rows r0..r1-1 (clamped to the image; rows
   * outside it are the conv's zero padding). */
  int first = r0 * layer->stride - pad, last = (r1 - 1) * layer->stride - pad + k - 1;
  int in0 = MAX (first, 0), in1 = MIN (last + 1, x->h);
  int pad_top = in0 - first;

  g_autoptr (SfArena) arena = sf_arena_new (device, "VAE band");
  g_autoptr (SfStream) stream = sf_stream_new (device, error);
  g_autoptr (SfTensor) in = NULL, scale = NULL, shift = NULL, residual = NULL;
  g_autoptr (SfTensor) skip = NULL, result = NULL;
  if (!stream || !upload_rows (arena, x, in0, in1 - in0, &in, error))
    return FALSE;
  if (layer->scale
      && (!upload_vector (arena, layer->scale, x->c, &scale, error)
          || !upload_vector (arena, layer->shift, x->c, &shift, error)))
    return FALSE;
  if (layer->residual && !upload_rows (arena, layer->residual, r0, r1 - r0, &residual, error))
    return FALSE;
  /* Every host-filled tensor exists before anything is recorded. */
  result = sf_tensor_new (arena, SF_DTYPE_F32, 4,
                          (int64_t[]) { 1, r1 - r0, out->w, out->c }, error);
  if (!result)
    return FALSE;
  if (layer->scale
      && (!sf_op_mul (stream, in, scale, in, error) || !sf_op_add (stream, in, shift, in, error)
          || !sf_op_activation (stream, SF_ACT_SILU, in, in, error)))
    return FALSE;
  const SfTensor *add = residual;
  if (residual && layer->shortcut_w)
    {
      skip = sf_tensor_new (arena, SF_DTYPE_F32, 4,
                            (int64_t[]) { 1, r1 - r0, out->w, out->c }, error);
      if (!skip || !sf_op_matmul (stream, residual, layer->shortcut_w, layer->shortcut_b, NULL,
                                  skip, error))
        return FALSE;
      add = skip;
    }
  if (!sf_op_conv2d (stream, in, layer->w, layer->b, add, layer->stride, pad_top, pad, result,
                     error)
      || !sf_stream_run (stream, cancellable, error))
    return FALSE;
  return sf_tensor_download (result, out->data + (gsize) r0 * row_floats (out), error);
}

static gboolean
run_layer (SfVae *vae, const Plane *x, const ConvLayer *layer, Plane *out,
           GCancellable *cancellable, GError **error)
{
  int out_h = layer->stride == 1 ? x->h : x->h / 2, out_w = layer->stride == 1 ? x->w : x->w / 2;
  plane_init (out, out_h, out_w, (int) layer->w->shape[0]);
  /* Bands sized so the band's input, output and residual stay small. */
  guint64 per_row = (guint64) MAX (MAX (x->c * layer->stride, out->c), 1) * x->w * 4
                    * (layer->residual ? 2 : 1);
  int rows = vae->band_rows > 0 ? vae->band_rows : (int) MAX (BAND_BYTES / per_row, 1);
  for (int r0 = 0; r0 < out_h; r0 += rows)
    if (!run_band (vae->device, x, layer, out, r0, MIN (r0 + rows, out_h), cancellable, error))
      {
        plane_clear (out);
        return FALSE;
      }
  return TRUE;
}

/* A ResnetBlock over bands: two norm+conv layers and the shortcut.
 * Replaces *x with the block's output. */
static gboolean
resblock_bands (SfVae *vae, const ResBlock *rb, Plane *x, GCancellable *cancellable,
                GError **error)
{
  g_autofree float *scale = g_new (float, MAX (x->c, (int) rb->conv1_w->shape[0]));
  g_autofree float *shift = g_new (float, MAX (x->c, (int) rb->conv1_w->shape[0]));
  Plane h = { 0 }, y = { 0 };
  ConvLayer first = { scale, shift, rb->conv1_w, rb->conv1_b, 1, NULL, NULL, NULL };
  if (!group_norm_affine (x, rb->norm1_g, rb->norm1_b, scale, shift, error)
      || !run_layer (vae, x, &first, &h, cancellable, error))
    return FALSE;
  ConvLayer second = { scale, shift, rb->conv2_w, rb->conv2_b, 1, x, rb->shortcut_w, rb->shortcut_b };
  gboolean ok = group_norm_affine (&h, rb->norm2_g, rb->norm2_b, scale, shift, error)
                && run_layer (vae, &h, &second, &y, cancellable, error);
  plane_clear (&h);
  if (!ok)
    return FALSE;
  plane_clear (x);
  *x = y;
  return TRUE;
}

static void
upsample_plane (Plane *x)
{
  Plane up;
  plane_init (&up, x->h * 2, x->w * 2, x->c);
  for (int y = 0; y < up.h; y++)
    for (int xx = 0; xx < up.w; xx++)
      memcpy (up.data + ((gsize) y * up.w + xx) * up.c,
              x->data + ((gsize) (y / 2) * x->w + xx / 2) * x->c, (gsize) x->c * sizeof (float));
  plane_clear (x);
  *x = up;
}

/* Runs @record over the whole (small) plane @x on the device. */
typedef gboolean (*RecordFunc) (SfGraph *g, const Coder *coder, const SfTensor *in, SfTensor *out);

static gboolean
run_whole_plane (SfVae *vae, const Coder *coder, RecordFunc record, const Plane *x, int out_h,
                 int out_w, int out_c, Plane *out, GCancellable *cancellable, GError **error)
{
  g_autoptr (SfArena) arena = sf_arena_new (vae->device, "VAE latent-resolution pass");
  g_autoptr (SfStream) stream = sf_stream_new (vae->device, error);
  g_autoptr (SfTensor) in = NULL, result = NULL;
  if (!stream || !upload_rows (arena, x, 0, x->h, &in, error))
    return FALSE;
  result = sf_tensor_new (arena, SF_DTYPE_F32, 4, (int64_t[]) { 1, out_h, out_w, out_c }, error);
  if (!result)
    return FALSE;
  SfGraph graph;
  sf_graph_init (&graph, stream, arena);
  record (&graph, coder, in, result);
  if (!sf_graph_finish (&graph, error) || !sf_stream_run (stream, cancellable, error))
    return FALSE;
  plane_init (out, out_h, out_w, out_c);
  if (!sf_tensor_download (result, out->data, error))
    {
      plane_clear (out);
      return FALSE;
    }
  return TRUE;
}

/* The decoder's latent-resolution head, into @out. */
static gboolean
record_decoder_head (SfGraph *g, const Coder *dec, const SfTensor *z, SfTensor *out)
{
  g_autoptr (SfTensor) mid = sf_vae_decoder_head (g, dec, z);
  if (mid && sf_graph_ok (g))
    sf_op_copy_into (g->stream, mid, out, 0, 0, &g->error);
  return sf_graph_ok (g);
}

static void
nchw_to_plane (const float *src, int c, int h, int w, Plane *p)
{
  plane_init (p, h, w, c);
  gsize plane = (gsize) h * w;
  for (int ch = 0; ch < c; ch++)
    for (gsize i = 0; i < plane; i++)
      p->data[i * c + ch] = src[ch * plane + i];
}

static void
plane_to_nchw (const Plane *p, float *dst)
{
  gsize plane = (gsize) p->h * p->w;
  for (int ch = 0; ch < p->c; ch++)
    for (gsize i = 0; i < plane; i++)
      dst[ch * plane + i] = p->data[i * p->c + ch];
}

gboolean
sf_vae_decode_banded (SfVae *vae, const float *latent, int h, int w, float *image,
                      GCancellable *cancellable, GError **error)
{
  const Coder *dec = &vae->decoder;
  Plane z = { 0 }, x = { 0 };
  nchw_to_plane (latent, vae->latent_channels, h, w, &z);
  int mid_c = (int) dec->conv_in_w->shape[0];
  gboolean ok = run_whole_plane (vae, dec, record_decoder_head, &z, h, w, mid_c, &x, cancellable,
                                 error);
  plane_clear (&z);
  for (int i = dec->level_count - 1; i >= 0 && ok; i--)
    {
      const Level *level = &dec->levels[i];
      for (int j = 0; j < level->block_count && ok; j++)
        ok = resblock_bands (vae, &level->blocks[j], &x, cancellable, error);
      if (ok && level->resample_w)
        {
          upsample_plane (&x);
          Plane y = { 0 };
          ConvLayer up = { NULL, NULL, level->resample_w, level->resample_b, 1, NULL, NULL, NULL };
          ok = run_layer (vae, &x, &up, &y, cancellable, error);
          plane_clear (&x);
          x = y;
        }
    }
  if (ok)
    {
      g_autofree float *scale = g_new (float, x.c);
      g_autofree float *shift = g_new (float, x.c);
      Plane y = { 0 };
      ConvLayer last = { scale, shift, dec->conv_out_w, dec->conv_out_b, 1, NULL, NULL, NULL };
      ok = group_norm_affine (&x, dec->norm_out_g, dec->norm_out_b, scale, shift, error)
           && run_layer (vae, &x, &last, &y, cancellable, error);
      if (ok)
        plane_to_nchw (&y, image);
      plane_clear (&y);
    }
  plane_clear (&x);
  return ok;
}

gboolean
sf_vae_encode_banded (SfVae *vae, const float *image, int height, int width, float *moments,
                      GCancellable *cancellable, GError **error)
{
  const Coder *enc = &vae->encoder;
  Plane x = { 0 };
  nchw_to_plane (image, enc->in_channels, height, width, &x);
  Plane y = { 0 };
  ConvLayer first = { NULL, NULL, enc->conv_in_w, enc->conv_in_b, 1, NULL, NULL, NULL };
  gboolean ok = run_layer (vae, &x, &first, &y, cancellable, error);
  plane_clear (&x);
  x = y;
  for (int i = 0; i < enc->level_count && ok; i++)
    {
      const Level *level = &enc->levels[i];
      for (int j = 0; j < level->block_count && ok; j++)
        ok = resblock_bands (vae, &level->blocks[j], &x, cancellable, error);
      if (ok && level->resample_w)
        {
          Plane down = { 0 };
          ConvLayer layer = { NULL, NULL, level->resample_w, level->resample_b, 2, NULL, NULL, NULL };
          ok = run_layer (vae, &x, &layer, &down, cancellable, error);
          plane_clear (&x);
          x = down;
        }
    }
  if (ok)
    {
      int out_c = enc->quant_w ? (int) enc->quant_w->shape[0] : enc->out_channels;
      Plane out = { 0 };
      ok = run_whole_plane (vae, enc, sf_vae_record_encoder_tail, &x, x.h, x.w, out_c, &out, cancellable,
                            error);
      if (ok)
        plane_to_nchw (&out, moments);
      plane_clear (&out);
    }
  plane_clear (&x);
  return ok;
}
