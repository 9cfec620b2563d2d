#include "vae_private.h"

#include <math.h>
#include <string.h>

#include "model_weights.h"
#include "vk_error.h"

static void
load_resblock (SfVae *vae, SfWeightLoader *l, const char *prefix, ResBlock *rb)
{
  rb->norm1_g = sf_load_vector (l, "%s.norm1.weight", prefix);
  rb->norm1_b = sf_load_vector (l, "%s.norm1.bias", prefix);
  rb->conv1_w = sf_load_conv (l, "%s.conv1", prefix);
  rb->conv1_b = sf_load_vector (l, "%s.conv1.bias", prefix);
  rb->norm2_g = sf_load_vector (l, "%s.norm2.weight", prefix);
  rb->norm2_b = sf_load_vector (l, "%s.norm2.bias", prefix);
  rb->conv2_w = sf_load_conv (l, "%s.conv2", prefix);
  rb->conv2_b = sf_load_vector (l, "%s.conv2.bias", prefix);
  if (sf_weight_exists (l, "%s.nin_shortcut.weight", prefix))
    {
      rb->shortcut_w = sf_load_linear (l, "%s.nin_shortcut", prefix);
      rb->shortcut_b = sf_load_vector (l, "%s.nin_shortcut.bias", prefix);
    }
}

static void
load_attn (SfVae *vae, SfWeightLoader *l, const char *prefix, AttnBlock *ab)
{
  ab->norm_g = sf_load_vector (l, "%s.norm.weight", prefix);
  ab->norm_b = sf_load_vector (l, "%s.norm.bias", prefix);
  ab->q = sf_load_linear (l, "%s.q", prefix);
  ab->q_b = sf_load_vector (l, "%s.q.bias", prefix);
  ab->k = sf_load_linear (l, "%s.k", prefix);
  ab->k_b = sf_load_vector (l, "%s.k.bias", prefix);
  ab->v = sf_load_linear (l, "%s.v", prefix);
  ab->v_b = sf_load_vector (l, "%s.v.bias", prefix);
  ab->proj = sf_load_linear (l, "%s.proj_out", prefix);
  ab->proj_b = sf_load_vector (l, "%s.proj_out.bias", prefix);
}

/* @part: "encoder" or "decoder"; @stage: "down" or "up"; @resample:
 * "downsample" or "upsample". */
static void
load_coder (SfVae *vae, SfWeightLoader *l, Coder *coder, const char *part, const char *stage,
            const char *resample, const char *quant)
{
  int ndim;
  int64_t shape[4];
  if (!sf_weight_shape (l, &ndim, shape, P "%s.conv_in.weight", part))
    return;
  coder->present = TRUE;
  coder->in_channels = (int) shape[1];
  coder->conv_in_w = sf_load_conv (l, P "%s.conv_in", part);
  coder->conv_in_b = sf_load_vector (l, P "%s.conv_in.bias", part);
  while (coder->level_count < MAX_LEVELS
         && sf_weight_exists (l, P "%s.%s.%d.block.0.conv1.weight", part, stage, coder->level_count))
    coder->level_count++;
  for (int i = 0; i < coder->level_count; i++)
    {
      Level *level = &coder->levels[i];
      while (sf_weight_exists (l, P "%s.%s.%d.block.%d.conv1.weight", part, stage, i,
                               level->block_count))
        level->block_count++;
      level->blocks = g_new0 (ResBlock, level->block_count);
      for (int j = 0; j < level->block_count; j++)
        {
          g_autofree char *prefix = g_strdup_printf (P "%s.%s.%d.block.%d", part, stage, i, j);
          load_resblock (vae, l, prefix, &level->blocks[j]);
          if (sf_weight_shape (l, &ndim, shape, "%s.conv2.weight", prefix))
            coder->max_channels = MAX (coder->max_channels, (int) shape[0]);
        }
      if (sf_weight_exists (l, P "%s.%s.%d.%s.conv.weight", part, stage, i, resample))
        {
          level->resample_w = sf_load_conv (l, P "%s.%s.%d.%s.conv", part, stage, i, resample);
          level->resample_b = sf_load_vector (l, P "%s.%s.%d.%s.conv.bias", part, stage, i,
                                                    resample);
        }
    }
  g_autofree char *mid1 = g_strdup_printf (P "%s.mid.block_1", part);
  g_autofree char *mid2 = g_strdup_printf (P "%s.mid.block_2", part);
  g_autofree char *attn = g_strdup_printf (P "%s.mid.attn_1", part);
  load_resblock (vae, l, mid1, &coder->mid1);
  load_attn (vae, l, attn, &coder->attn);
  load_resblock (vae, l, mid2, &coder->mid2);
  coder->norm_out_g = sf_load_vector (l, P "%s.norm_out.weight", part);
  coder->norm_out_b = sf_load_vector (l, P "%s.norm_out.bias", part);
  if (sf_weight_shape (l, &ndim, shape, P "%s.conv_out.weight", part))
    coder->out_channels = (int) shape[0];
  coder->conv_out_w = sf_load_conv (l, P "%s.conv_out", part);
  coder->conv_out_b = sf_load_vector (l, P "%s.conv_out.bias", part);
  if (sf_weight_exists (l, P "%s.weight", quant))
    {
      coder->quant_w = sf_load_linear (l, P "%s", quant);
      coder->quant_b = sf_load_vector (l, P "%s.bias", quant);
    }
}

SfVae *
sf_vae_load (SfCheckpoint *checkpoint, SfDevice *device, SfDType weight_dtype, GError **error)
{
  g_autoptr (SfVae) vae = g_new0 (SfVae, 1);
  vae->device = device;
  vae->weights = sf_arena_new (device, "VAE weights");
  SfWeightLoader loader;
  sf_weight_loader_init (&loader, checkpoint, vae->weights, weight_dtype);
  vae->tensors = loader.tensors; /* the model frees what the loader makes */
  load_coder (vae, &loader, &vae->decoder, "decoder", "up", "upsample", "post_quant_conv");
  load_coder (vae, &loader, &vae->encoder, "encoder", "down", "downsample", "quant_conv");
  if (!sf_weight_loader_finish (&loader, error))
    return NULL;
  if (!vae->decoder.present && !vae->encoder.present)
    {
      g_set_error (error, SF_VK_ERROR, SF_VK_ERROR_INVALID,
                   "The checkpoint has no VAE (no " P "decoder.conv_in.weight)");
      return NULL;
    }
  vae->latent_channels = vae->decoder.present ? vae->decoder.in_channels
                                              : vae->encoder.out_channels / 2;
  vae->weight_bytes = loader.bytes;
  return g_steal_pointer (&vae);
}

static void
coder_clear (Coder *coder)
{
  for (int i = 0; i < coder->level_count; i++)
    g_free (coder->levels[i].blocks);
}

void
sf_vae_free (SfVae *vae)
{
  if (!vae)
    return;
  coder_clear (&vae->encoder);
  coder_clear (&vae->decoder);
  g_clear_pointer (&vae->tensors, g_ptr_array_unref);
  g_clear_pointer (&vae->weights, sf_arena_free);
  g_free (vae);
}

gboolean sf_vae_has_encoder (const SfVae *vae) { return vae->encoder.present; }
gboolean sf_vae_has_decoder (const SfVae *vae) { return vae->decoder.present; }
int sf_vae_get_latent_channels (const SfVae *vae) { return vae->latent_channels; }
guint64 sf_vae_weight_bytes (const SfVae *vae) { return vae->weight_bytes; }

int
sf_vae_get_downscale (const SfVae *vae)
{
  const Coder *coder = vae->decoder.present ? &vae->decoder : &vae->encoder;
  int scale = 1;
  for (int i = 0; i < coder->level_count; i++)
    if (coder->levels[i].resample_w)
      scale *= 2;
  return scale;
}

/* ---- forward ----------------------------------------------------------- */

SfTensor *
sf_vae_resblock_forward (SfGraph *g, const ResBlock *rb, const SfTensor *x)
{
  g_autoptr (SfTensor) h0 = sf_graph_group_norm (g, x, rb->norm1_g, rb->norm1_b, VAE_EPS, TRUE);
  g_autoptr (SfTensor) h1 = sf_graph_conv (g, h0, rb->conv1_w, rb->conv1_b, NULL, 1);
  g_clear_pointer (&h0, sf_tensor_free);
  g_autoptr (SfTensor) h2 = sf_graph_group_norm (g, h1, rb->norm2_g, rb->norm2_b, VAE_EPS, TRUE);
  g_clear_pointer (&h1, sf_tensor_free);
  g_autoptr (SfTensor) shortcut = rb->shortcut_w
    ? sf_graph_linear (g, x, rb->shortcut_w, rb->shortcut_b, NULL) : NULL;
  return sf_graph_conv (g, h2, rb->conv2_w, rb->conv2_b, shortcut ? shortcut : x, 1);
}

/* One head over all pixels, 1×1 convolutions as linear layers. */
static SfTensor *
attn_forward (SfGraph *g, const AttnBlock *ab, const SfTensor *x)
{
  if (!sf_graph_ok (g) || !x)
    return NULL;
  int64_t b = x->shape[0], h = x->shape[1], w = x->shape[2], c = x->shape[3];
  int64_t seq[3] = { b, h * w, c };
  g_autoptr (SfTensor) normed = sf_graph_group_norm (g, x, ab->norm_g, ab->norm_b, VAE_EPS, FALSE);
  if (!normed)
    return NULL;
  SfTensor n = sf_tensor_reshape (normed, 3, seq);
  g_autoptr (SfTensor) q = sf_graph_linear (g, &n, ab->q, ab->q_b, NULL);
  g_autoptr (SfTensor) k = sf_graph_linear (g, &n, ab->k, ab->k_b, NULL);
  g_autoptr (SfTensor) v = sf_graph_linear (g, &n, ab->v, ab->v_b, NULL);
  g_clear_pointer (&normed, sf_tensor_free);
  g_autoptr (SfTensor) a = sf_graph_attention (g, q, k, v, 1, FALSE);
  SfTensor residual = sf_tensor_reshape (x, 3, seq);
  SfTensor *out = sf_graph_linear (g, a, ab->proj, ab->proj_b, &residual);
  if (out)
    {
      out->ndim = 4;
      out->shape[1] = h;
      out->shape[2] = w;
      out->shape[3] = c;
    }
  return out;
}

SfTensor *
sf_vae_mid_forward (SfGraph *g, const Coder *coder, const SfTensor *x)
{
  g_autoptr (SfTensor) m1 = sf_vae_resblock_forward (g, &coder->mid1, x);
  g_autoptr (SfTensor) m2 = attn_forward (g, &coder->attn, m1);
  return sf_vae_resblock_forward (g, &coder->mid2, m2);
}

/* Takes ownership of @x. */
static SfTensor *
blocks_forward (SfGraph *g, const Level *level, SfTensor *x)
{
  for (int j = 0; j < level->block_count && x; j++)
    {
      SfTensor *next = sf_vae_resblock_forward (g, &level->blocks[j], x);
      sf_tensor_free (x);
      x = next;
    }
  return x;
}

static gboolean
record_decoder (SfGraph *g, const Coder *dec, const SfTensor *z, SfTensor *out)
{
  SfTensor *x = sf_vae_decoder_head (g, dec, z);
  /* Highest level first (up.N-1 ... up.0), as the LDM decoder runs. */
  for (int i = dec->level_count - 1; i >= 0 && x; i--)
    {
      const Level *level = &dec->levels[i];
      x = blocks_forward (g, level, x);
      if (level->resample_w && x)
        {
          g_autoptr (SfTensor) up = sf_graph_upsample2x (g, x);
          sf_tensor_free (x);
          x = sf_graph_conv (g, up, level->resample_w, level->resample_b, NULL, 1);
        }
    }
  g_autoptr (SfTensor) normed = sf_graph_group_norm (g, x, dec->norm_out_g, dec->norm_out_b,
                                                     VAE_EPS, TRUE);
  sf_tensor_free (x);
  if (normed && sf_graph_ok (g))
    sf_op_conv2d (g->stream, normed, dec->conv_out_w, dec->conv_out_b, NULL, 1, 1, 1, out,
                  &g->error);
  return sf_graph_ok (g);
}

static gboolean
record_encoder (SfGraph *g, const Coder *enc, const SfTensor *image, SfTensor *out)
{
  SfTensor *x = sf_graph_conv (g, image, enc->conv_in_w, enc->conv_in_b, NULL, 1);
  for (int i = 0; i < enc->level_count && x; i++)
    {
      const Level *level = &enc->levels[i];
      x = blocks_forward (g, level, x);
      if (level->resample_w && x)
        {
          /* LDM pads (0, 1, 0, 1) before a stride-2 3×3 convolution. */
          int64_t shape[4] = { x->shape[0], x->shape[1] / 2, x->shape[2] / 2,
                               level->resample_w->shape[0] };
          SfTensor *down = sf_graph_new (g, 4, shape);
          if (down && !sf_op_conv2d (g->stream, x, level->resample_w, level->resample_b, NULL, 2,
                                     0, 0, down, &g->error))
            g_clear_pointer (&down, sf_tensor_free);
          sf_tensor_free (x);
          x = down;
        }
    }
  gboolean ok = x && sf_vae_record_encoder_tail (g, enc, x, out);
  sf_tensor_free (x);
  return ok;
}

SfTensor *
sf_vae_decoder_head (SfGraph *g, const Coder *dec, const SfTensor *z)
{
  g_autoptr (SfTensor) zq = dec->quant_w ? sf_graph_linear (g, z, dec->quant_w, dec->quant_b, NULL)
                                         : NULL;
  g_autoptr (SfTensor) h0 = sf_graph_conv (g, zq ? zq : z, dec->conv_in_w, dec->conv_in_b, NULL, 1);
  g_clear_pointer (&zq, sf_tensor_free);
  return sf_vae_mid_forward (g, dec, h0);
}

gboolean
sf_vae_record_encoder_tail (SfGraph *g, const Coder *enc, const SfTensor *x, SfTensor *out)
{
  g_autoptr (SfTensor) m = sf_vae_mid_forward (g, enc, x);
  g_autoptr (SfTensor) normed = sf_graph_group_norm (g, m, enc->norm_out_g, enc->norm_out_b,
                                                     VAE_EPS, TRUE);
  g_clear_pointer (&m, sf_tensor_free);
  if (!enc->quant_w)
    {
      if (normed && sf_graph_ok (g))
        sf_op_conv2d (g->stream, normed, enc->conv_out_w, enc->conv_out_b, NULL, 1, 1, 1, out,
                      &g->error);
      return sf_graph_ok (g);
    }
  g_autoptr (SfTensor) moments = sf_graph_conv (g, normed, enc->conv_out_w, enc->conv_out_b, NULL, 1);
  if (moments && sf_graph_ok (g))
    sf_op_matmul (g->stream, moments, enc->quant_w, enc->quant_b, NULL, out, &g->error);
  return sf_graph_ok (g);
}

/* A recorded pass of the whole coder over one image. */
typedef struct {
  SfStream *stream;
  SfArena *arena;
  SfTensor *input, *output;
} Pass;

static void
pass_clear (Pass *pass)
{
  g_clear_pointer (&pass->stream, sf_stream_free);
  g_clear_pointer (&pass->input, sf_tensor_free);
  g_clear_pointer (&pass->output, sf_tensor_free);
  g_clear_pointer (&pass->arena, sf_arena_free);
}

static gboolean
pass_init (SfVae *vae, Pass *pass, gboolean decode, int in_h, int in_w, GError **error)
{
  const Coder *coder = decode ? &vae->decoder : &vae->encoder;
  int scale = sf_vae_get_downscale (vae);
  int out_h = decode ? in_h * scale : in_h / scale;
  int out_w = decode ? in_w * scale : in_w / scale;
  pass->arena = sf_arena_new (vae->device, decode ? "VAE decoder activations"
                                                  : "VAE encoder activations");
  pass->stream = sf_stream_new (vae->device, error);
  if (!pass->stream)
    return FALSE;
  int64_t in_shape[4] = { 1, in_h, in_w, coder->in_channels };
  int64_t out_shape[4] = { 1, out_h, out_w, coder->quant_w && !decode ? coder->quant_w->shape[0]
                                                                      : coder->out_channels };
  pass->input = sf_tensor_new (pass->arena, SF_DTYPE_F32, 4, in_shape, error);
  if (!pass->input)
    return FALSE;
  pass->output = sf_tensor_new (pass->arena, SF_DTYPE_F32, 4, out_shape, error);
  if (!pass->output)
    return FALSE;
  SfGraph graph;
  sf_graph_init (&graph, pass->stream, pass->arena);
  if (decode)
    record_decoder (&graph, coder, pass->input, pass->output);
  else
    record_encoder (&graph, coder, pass->input, pass->output);
  return sf_graph_finish (&graph, error);
}

/* Runs the pass on an NHWC host image. */
static gboolean
pass_run (Pass *pass, const float *input, float *output, GCancellable *cancellable, GError **error)
{
  return sf_tensor_upload (pass->input, input, error)
         && sf_stream_run (pass->stream, cancellable, error)
         && sf_tensor_download (pass->output, output, error);
}

/* ---- whole image or bands ---------------------------------------------- */

void
sf_vae_set_band_rows (SfVae *vae, int rows)
{
  vae->band_rows = MAX (rows, 0);
}

/* The largest activation of a one-pass decode of an image of @h × @w
 * pixels: each decoder level's width at its resolution, and the upsampled
 * tensor that leaves it. (The encoder mirrors it.) */
static guint64
largest_activation (const SfVae *vae, int h, int w)
{
  const Coder *coder = vae->decoder.present ? &vae->decoder : &vae->encoder;
  guint64 pixels = (guint64) h * w, largest = 0;
  int levels = coder->level_count;
  for (int i = 0; i < levels; i++)
    {
      const Level *level = &coder->levels[i];
      int64_t channels = level->block_count ? level->blocks[0].conv2_w->shape[0] : 0;
      /* Decoder level i runs at 1/2^i of full resolution; its upsampled
       * output is 4× that. */
      guint64 at = pixels >> (2 * i);
      largest = MAX (largest, at * (guint64) channels * 4);
      if (level->resample_w)
        largest = MAX (largest, (at << 2) * (guint64) channels * 4);
    }
  return largest;
}

/* Whether one pass over the whole image stays within the device's limits:
 * its largest activation in one binding, and a few of them in half the
 * largest device-local heap. */
static gboolean
fits_whole (SfVae *vae, int image_h, int image_w)
{
  if (vae->band_rows > 0)
    return FALSE;
  const SfDeviceInfo *info = sf_device_get_info (vae->device);
  guint64 largest = largest_activation (vae, image_h, image_w);
  guint64 heap = 0;
  for (guint i = 0; i < info->heap_count; i++)
    if (info->heaps[i].device_local)
      heap = MAX (heap, info->heaps[i].size);
  return largest <= info->max_storage_buffer_range && largest * 4 <= heap / 2;
}

/* One recorded pass over the whole (NHWC) image. */
static gboolean
run_whole (SfVae *vae, gboolean decode, const float *in, int cin, int h, int w, float *out,
           int cout, GCancellable *cancellable, GError **error)
{
  int scale = sf_vae_get_downscale (vae);
  int out_h = decode ? h * scale : h / scale, out_w = decode ? w * scale : w / scale;
  gsize in_plane = (gsize) h * w, out_plane = (gsize) out_h * out_w;
  g_autofree float *nhwc_in = g_new (float, in_plane * cin);
  g_autofree float *nhwc_out = g_new (float, out_plane * cout);
  for (int c = 0; c < cin; c++)
    for (gsize i = 0; i < in_plane; i++)
      nhwc_in[i * cin + c] = in[c * in_plane + i];
  Pass pass = { 0 };
  gboolean ok = pass_init (vae, &pass, decode, h, w, error)
                && pass_run (&pass, nhwc_in, nhwc_out, cancellable, error);
  pass_clear (&pass);
  if (!ok)
    return FALSE;
  for (int c = 0; c < cout; c++)
    for (gsize i = 0; i < out_plane; i++)
      out[c * out_plane + i] = nhwc_out[i * cout + c];
  return TRUE;
}

gboolean
sf_vae_decode (SfVae *vae, const float *latent, int h, int w, float *image,
               GCancellable *cancellable, GError **error)
{
  if (!vae->decoder.present)
    {
      g_set_error (error, SF_VK_ERROR, SF_VK_ERROR_INVALID, "This VAE has no decoder");
      return FALSE;
    }
  if (h < 1 || w < 1)
    {
      g_set_error (error, SF_VK_ERROR, SF_VK_ERROR_INVALID, "Cannot decode an empty latent");
      return FALSE;
    }
  int scale = sf_vae_get_downscale (vae);
  if (fits_whole (vae, h * scale, w * scale))
    return run_whole (vae, TRUE, latent, vae->latent_channels, h, w, image,
                      vae->decoder.out_channels, cancellable, error);
  return sf_vae_decode_banded (vae, latent, h, w, image, cancellable, error);
}

gboolean
sf_vae_encode (SfVae *vae, const float *image, int height, int width, float *moments,
               GCancellable *cancellable, GError **error)
{
  int scale = sf_vae_get_downscale (vae);
  if (!vae->encoder.present)
    {
      g_set_error (error, SF_VK_ERROR, SF_VK_ERROR_INVALID, "This VAE has no encoder");
      return FALSE;
    }
  if (height < scale || width < scale || height % scale || width % scale)
    {
      g_set_error (error, SF_VK_ERROR, SF_VK_ERROR_INVALID,
                   "The image to encode is %d×%d; its sides must be multiples of %d", width,
                   height, scale);
      return FALSE;
    }
  if (fits_whole (vae, height, width))
    return run_whole (vae, FALSE, image, vae->encoder.in_channels, height, width, moments,
                      2 * vae->latent_channels, cancellable, error);
  return sf_vae_encode_banded (vae, image, height, width, moments, cancellable, error);
}
