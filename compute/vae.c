#include "vae.h"

#include <math.h>
#include <string.h>

#include "graph.h"
#include "model_weights.h"
#include "vk_error.h"

#define P "first_stage_model."
#define VAE_EPS 1e-6f
#define MAX_LEVELS 8

typedef struct {
  SfTensor *norm1_g, *norm1_b, *conv1_w, *conv1_b;
  SfTensor *norm2_g, *norm2_b, *conv2_w, *conv2_b;
  SfTensor *shortcut_w, *shortcut_b;
} ResBlock;

typedef struct {
  SfTensor *norm_g, *norm_b, *q, *q_b, *k, *k_b, *v, *v_b, *proj, *proj_b;
} AttnBlock;

typedef struct {
  ResBlock *blocks;
  int block_count;
  SfTensor *resample_w, *resample_b;   /* encoder: downsample; decoder: upsample */
} Level;

typedef struct {
  gboolean present;
  SfTensor *conv_in_w, *conv_in_b;
  Level levels[MAX_LEVELS];
  int level_count;
  ResBlock mid1, mid2;
  AttnBlock attn;
  SfTensor *norm_out_g, *norm_out_b, *conv_out_w, *conv_out_b;
  SfTensor *quant_w, *quant_b;          /* quant_conv / post_quant_conv (1×1) */
  int in_channels, out_channels;
  int max_channels;
} Coder;

struct SfVae {
  SfDevice *device;
  SfArena *weights;
  GPtrArray *tensors;
  Coder encoder, decoder;
  int latent_channels;
  int tile, overlap;
  guint64 weight_bytes;
};

static SfTensor *
keep (SfVae *vae, SfTensor *tensor)
{
  if (tensor)
    g_ptr_array_add (vae->tensors, tensor);
  return tensor;
}

#define KEEP(expr) keep (vae, (expr))

static void
load_resblock (SfVae *vae, SfWeightLoader *l, const char *prefix, ResBlock *rb)
{
  rb->norm1_g = KEEP (sf_load_vector (l, "%s.norm1.weight", prefix));
  rb->norm1_b = KEEP (sf_load_vector (l, "%s.norm1.bias", prefix));
  rb->conv1_w = KEEP (sf_load_conv (l, "%s.conv1", prefix));
  rb->conv1_b = KEEP (sf_load_vector (l, "%s.conv1.bias", prefix));
  rb->norm2_g = KEEP (sf_load_vector (l, "%s.norm2.weight", prefix));
  rb->norm2_b = KEEP (sf_load_vector (l, "%s.norm2.bias", prefix));
  rb->conv2_w = KEEP (sf_load_conv (l, "%s.conv2", prefix));
  rb->conv2_b = KEEP (sf_load_vector (l, "%s.conv2.bias", prefix));
  if (sf_weight_exists (l, "%s.nin_shortcut.weight", prefix))
    {
      rb->shortcut_w = KEEP (sf_load_linear (l, "%s.nin_shortcut", prefix));
      rb->shortcut_b = KEEP (sf_load_vector (l, "%s.nin_shortcut.bias", prefix));
    }
}

static void
load_attn (SfVae *vae, SfWeightLoader *l, const char *prefix, AttnBlock *ab)
{
  ab->norm_g = KEEP (sf_load_vector (l, "%s.norm.weight", prefix));
  ab->norm_b = KEEP (sf_load_vector (l, "%s.norm.bias", prefix));
  ab->q = KEEP (sf_load_linear (l, "%s.q", prefix));
  ab->q_b = KEEP (sf_load_vector (l, "%s.q.bias", prefix));
  ab->k = KEEP (sf_load_linear (l, "%s.k", prefix));
  ab->k_b = KEEP (sf_load_vector (l, "%s.k.bias", prefix));
  ab->v = KEEP (sf_load_linear (l, "%s.v", prefix));
  ab->v_b = KEEP (sf_load_vector (l, "%s.v.bias", prefix));
  ab->proj = KEEP (sf_load_linear (l, "%s.proj_out", prefix));
  ab->proj_b = KEEP (sf_load_vector (l, "%s.proj_out.bias", prefix));
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
  coder->conv_in_w = KEEP (sf_load_conv (l, P "%s.conv_in", part));
  coder->conv_in_b = KEEP (sf_load_vector (l, P "%s.conv_in.bias", part));
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
          level->resample_w = KEEP (sf_load_conv (l, P "%s.%s.%d.%s.conv", part, stage, i, resample));
          level->resample_b = KEEP (sf_load_vector (l, P "%s.%s.%d.%s.conv.bias", part, stage, i,
                                                    resample));
        }
    }
  g_autofree char *mid1 = g_strdup_printf (P "%s.mid.block_1", part);
  g_autofree char *mid2 = g_strdup_printf (P "%s.mid.block_2", part);
  g_autofree char *attn = g_strdup_printf (P "%s.mid.attn_1", part);
  load_resblock (vae, l, mid1, &coder->mid1);
  load_attn (vae, l, attn, &coder->attn);
  load_resblock (vae, l, mid2, &coder->mid2);
  coder->norm_out_g = KEEP (sf_load_vector (l, P "%s.norm_out.weight", part));
  coder->norm_out_b = KEEP (sf_load_vector (l, P "%s.norm_out.bias", part));
  if (sf_weight_shape (l, &ndim, shape, P "%s.conv_out.weight", part))
    coder->out_channels = (int) shape[0];
  coder->conv_out_w = KEEP (sf_load_conv (l, P "%s.conv_out", part));
  coder->conv_out_b = KEEP (sf_load_vector (l, P "%s.conv_out.bias", part));
  if (sf_weight_exists (l, P "%s.weight", quant))
    {
      coder->quant_w = KEEP (sf_load_linear (l, P "%s", quant));
      coder->quant_b = KEEP (sf_load_vector (l, P "%s.bias", quant));
    }
}

SfVae *
sf_vae_load (SfCheckpoint *checkpoint, SfDevice *device, SfDType weight_dtype, GError **error)
{
  g_autoptr (SfVae) vae = g_new0 (SfVae, 1);
  vae->device = device;
  vae->weights = sf_arena_new (device, "VAE weights");
  vae->tensors = g_ptr_array_new_with_free_func ((GDestroyNotify) sf_tensor_free);
  SfWeightLoader loader;
  sf_weight_loader_init (&loader, checkpoint, vae->weights, weight_dtype);
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
  sf_vae_set_tiling (vae, 0, 0);
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

static SfTensor *
resblock_forward (SfGraph *g, const ResBlock *rb, const SfTensor *x)
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

static SfTensor *
mid_forward (SfGraph *g, const Coder *coder, const SfTensor *x)
{
  g_autoptr (SfTensor) m1 = resblock_forward (g, &coder->mid1, x);
  g_autoptr (SfTensor) m2 = attn_forward (g, &coder->attn, m1);
  return resblock_forward (g, &coder->mid2, m2);
}

/* Takes ownership of @x. */
static SfTensor *
blocks_forward (SfGraph *g, const Level *level, SfTensor *x)
{
  for (int j = 0; j < level->block_count && x; j++)
    {
      SfTensor *next = resblock_forward (g, &level->blocks[j], x);
      sf_tensor_free (x);
      x = next;
    }
  return x;
}

static gboolean
record_decoder (SfGraph *g, const Coder *dec, const SfTensor *z, SfTensor *out)
{
  g_autoptr (SfTensor) zq = dec->quant_w ? sf_graph_linear (g, z, dec->quant_w, dec->quant_b, NULL)
                                         : NULL;
  g_autoptr (SfTensor) h0 = sf_graph_conv (g, zq ? zq : z, dec->conv_in_w, dec->conv_in_b, NULL, 1);
  g_clear_pointer (&zq, sf_tensor_free);
  SfTensor *x = mid_forward (g, dec, h0);
  g_clear_pointer (&h0, sf_tensor_free);
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
  g_autoptr (SfTensor) m = mid_forward (g, enc, x);
  sf_tensor_free (x);
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

/* A recorded coder pass over one tile shape, replayed for every tile. */
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

/* Runs the pass on an NHWC host tile. */
static gboolean
pass_run (Pass *pass, const float *input, float *output, GCancellable *cancellable, GError **error)
{
  return sf_tensor_upload (pass->input, input, error)
         && sf_stream_run (pass->stream, cancellable, error)
         && sf_tensor_download (pass->output, output, error);
}

/* ---- tiling ------------------------------------------------------------ */

void
sf_vae_set_tiling (SfVae *vae, int tile_latent, int overlap_latent)
{
  if (tile_latent <= 0)
    {
      /* The largest tile whose biggest activation (the highest decoder
       * level at full resolution) fits in one storage buffer binding. */
      const SfDeviceInfo *info = sf_device_get_info (vae->device);
      int scale = sf_vae_get_downscale (vae);
      int channels = MAX (vae->decoder.max_channels, vae->encoder.max_channels);
      tile_latent = 64;
      while (tile_latent > 16
             && (guint64) (tile_latent * scale) * (guint64) (tile_latent * scale)
                * (guint64) MAX (channels, 1) * 4 > info->max_storage_buffer_range / 2)
        tile_latent -= 8;
    }
  if (overlap_latent <= 0)
    overlap_latent = MAX (2, tile_latent / 4);
  vae->tile = MAX (tile_latent, 2);
  vae->overlap = CLAMP (overlap_latent, 1, vae->tile - 1);
}

/* Tile origins along one side of @length: every tile has size @tile (the
 * last one moved back to end at the edge), neighbours overlap by at least
 * @overlap. */
static GArray *
tile_origins (int length, int tile, int overlap)
{
  GArray *origins = g_array_new (FALSE, FALSE, sizeof (int));
  if (length <= tile)
    {
      int zero = 0;
      g_array_append_val (origins, zero);
      return origins;
    }
  int stride = tile - overlap;
  for (int at = 0;; at += stride)
    {
      int origin = MIN (at, length - tile);
      g_array_append_val (origins, origin);
      if (origin + tile >= length)
        break;
    }
  return origins;
}

/* Weight of a tile's pixel at @pos (of @size, tile starts at @origin along
 * a side of @length): 1 inside, a linear ramp over the part shared with a
 * neighbouring tile, so overlapping tiles cross-fade. */
static float
ramp (int pos, int size, int origin, int length, int fade)
{
  float w = 1.0f;
  if (origin > 0 && pos < fade)
    w = MIN (w, (pos + 0.5f) / fade);
  if (origin + size < length && pos >= size - fade)
    w = MIN (w, (size - pos - 0.5f) / fade);
  return w;
}

/* Runs @decode (or encode) over tiles of @in (NCHW [1, cin, h, w]) into
 * @out (NCHW [1, cout, h*s, w*s] for decode, h/s for encode). */
static gboolean
run_tiled (SfVae *vae, gboolean decode, const float *in, int cin, int h, int w, float *out,
           int cout, GCancellable *cancellable, GError **error)
{
  int scale = sf_vae_get_downscale (vae);
  /* Tiles are measured in latent pixels. */
  int lat_h = decode ? h : h / scale, lat_w = decode ? w : w / scale;
  int tile_h = MIN (vae->tile, lat_h), tile_w = MIN (vae->tile, lat_w);
  int in_factor = decode ? 1 : scale, out_factor = decode ? scale : 1;
  int tin_h = tile_h * in_factor, tin_w = tile_w * in_factor;
  int tout_h = tile_h * out_factor, tout_w = tile_w * out_factor;
  int out_h = lat_h * out_factor, out_w = lat_w * out_factor;

  Pass pass = { 0 };
  if (!pass_init (vae, &pass, decode, tin_h, tin_w, error))
    {
      pass_clear (&pass);
      return FALSE;
    }
  g_autoptr (GArray) rows = tile_origins (lat_h, tile_h, vae->overlap);
  g_autoptr (GArray) cols = tile_origins (lat_w, tile_w, vae->overlap);
  gsize out_plane = (gsize) out_h * out_w;
  g_autofree float *sum = g_new0 (float, out_plane * cout);
  g_autofree float *weight = g_new0 (float, out_plane);
  g_autofree float *tile_in = g_new (float, (gsize) tin_h * tin_w * cin);
  g_autofree float *tile_out = g_new (float, (gsize) tout_h * tout_w * cout);
  int fade = vae->overlap * out_factor;
  gboolean ok = TRUE;
  for (guint r = 0; r < rows->len && ok; r++)
    for (guint c = 0; c < cols->len && ok; c++)
      {
        int y0 = g_array_index (rows, int, r), x0 = g_array_index (cols, int, c);
        /* Gather the tile, NCHW → NHWC. */
        for (int y = 0; y < tin_h; y++)
          for (int x = 0; x < tin_w; x++)
            for (int ch = 0; ch < cin; ch++)
              tile_in[((gsize) y * tin_w + x) * cin + ch] =
                in[((gsize) ch * h + y0 * in_factor + y) * w + x0 * in_factor + x];
        ok = pass_run (&pass, tile_in, tile_out, cancellable, error);
        if (!ok)
          break;
        int oy = y0 * out_factor, ox = x0 * out_factor;
        for (int y = 0; y < tout_h; y++)
          {
            float wy = ramp (y, tout_h, oy, out_h, fade);
            for (int x = 0; x < tout_w; x++)
              {
                float wt = wy * ramp (x, tout_w, ox, out_w, fade);
                gsize at = (gsize) (oy + y) * out_w + ox + x;
                weight[at] += wt;
                for (int ch = 0; ch < cout; ch++)
                  sum[ch * out_plane + at] += wt * tile_out[((gsize) y * tout_w + x) * cout + ch];
              }
          }
      }
  pass_clear (&pass);
  if (!ok)
    return FALSE;
  for (int ch = 0; ch < cout; ch++)
    for (gsize i = 0; i < out_plane; i++)
      out[ch * out_plane + i] = sum[ch * out_plane + i] / weight[i];
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
  return run_tiled (vae, TRUE, latent, vae->latent_channels, h, w, image,
                    vae->decoder.out_channels, cancellable, error);
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
  return run_tiled (vae, FALSE, image, vae->encoder.in_channels, height, width, moments,
                    2 * vae->latent_channels, cancellable, error);
}
