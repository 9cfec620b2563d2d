#include "unet.h"

#include <string.h>

#include "graph.h"
#include "model_weights.h"
#include "vk_error.h"

#define P "model.diffusion_model."
#define RESNET_EPS 1e-5f      /* diffusers' norm_eps for the UNet's ResNets and conv_norm_out */
#define TRANSFORMER_NORM_EPS 1e-6f  /* Transformer2DModel's GroupNorm */
#define LAYER_NORM_EPS 1e-5f

typedef struct {
  SfTensor *in_norm_g, *in_norm_b, *in_conv_w, *in_conv_b;
  SfTensor *emb_w, *emb_b;
  SfTensor *out_norm_g, *out_norm_b, *out_conv_w, *out_conv_b;
  SfTensor *skip_w, *skip_b;   /* NULL when the channel count stays */
} ResBlock;

typedef struct {
  SfTensor *norm1_g, *norm1_b, *q, *k, *v, *out, *out_b;
  SfTensor *norm2_g, *norm2_b, *q2, *k2, *v2, *out2, *out2_b;
  SfTensor *norm3_g, *norm3_b, *ff_in, *ff_in_b, *ff_out, *ff_out_b;
} TransformerBlock;

typedef struct {
  SfTensor *norm_g, *norm_b, *proj_in, *proj_in_b, *proj_out, *proj_out_b;
  TransformerBlock *blocks;
  int depth;
  int heads;
} SpatialTransformer;

/* One entry of input_blocks / output_blocks / middle_block: a ResBlock and
 * an optional transformer, or a lone convolution (conv_in, downsample),
 * plus an upsampling convolution at the end of an output level. */
typedef struct {
  ResBlock *res;
  SpatialTransformer *attn;
  SfTensor *conv_w, *conv_b;   /* input: conv_in or the stride-2 downsample */
  SfTensor *up_w, *up_b;       /* output: nearest 2× then this 3×3 conv */
} Block;

struct SfUnet {
  SfDevice *device;
  SfUNetConfig config;
  SfArena *weights;
  GPtrArray *tensors;          /* every loaded tensor, for freeing */
  SfUnetInfo info;
  SfTensor *time1_w, *time1_b, *time2_w, *time2_b;
  SfTensor *label1_w, *label1_b, *label2_w, *label2_b;
  GArray *input;               /* Block */
  Block middle[3];
  GArray *output;              /* Block */
  SfTensor *out_norm_g, *out_norm_b, *out_conv_w, *out_conv_b;
  guint64 weight_bytes;
};

struct SfUnetPass {
  SfUnet *unet;
  SfStream *stream;
  SfArena *activations;
  int batch, height, width, context_tokens, time_ids;
  SfTensor *x, *timesteps, *context, *pooled, *time_id_values, *eps;
  float *staging;              /* NHWC host copy of the latent / eps */
};

/* ---- loading ----------------------------------------------------------- */

static ResBlock *
load_resblock (SfUnet *unet, SfWeightLoader *loader, const char *prefix)
{
  ResBlock *rb = g_new0 (ResBlock, 1);
  rb->in_norm_g = sf_load_vector (loader, "%s.in_layers.0.weight", prefix);
  rb->in_norm_b = sf_load_vector (loader, "%s.in_layers.0.bias", prefix);
  rb->in_conv_w = sf_load_conv (loader, "%s.in_layers.2", prefix);
  rb->in_conv_b = sf_load_vector (loader, "%s.in_layers.2.bias", prefix);
  rb->emb_w = sf_load_linear (loader, "%s.emb_layers.1", prefix);
  rb->emb_b = sf_load_vector (loader, "%s.emb_layers.1.bias", prefix);
  rb->out_norm_g = sf_load_vector (loader, "%s.out_layers.0.weight", prefix);
  rb->out_norm_b = sf_load_vector (loader, "%s.out_layers.0.bias", prefix);
  rb->out_conv_w = sf_load_conv (loader, "%s.out_layers.3", prefix);
  rb->out_conv_b = sf_load_vector (loader, "%s.out_layers.3.bias", prefix);
  if (sf_weight_exists (loader, "%s.skip_connection.weight", prefix))
    {
      rb->skip_w = sf_load_linear (loader, "%s.skip_connection", prefix);
      rb->skip_b = sf_load_vector (loader, "%s.skip_connection.bias", prefix);
    }
  return rb;
}

/* The configuration's heads for a transformer of @width channels; 64
 * channels per head (SDXL's) when the configuration does not say. */
static int
heads_for_width (const SfUNetConfig *config, int width)
{
  for (int l = 0; l < config->num_levels && l < SF_UNET_MAX_LEVELS; l++)
    if (config->model_channels * config->channel_mult[l] == width && config->num_heads[l] > 0)
      return config->num_heads[l];
  if (config->num_heads_middle > 0 && config->head_dim_middle > 0
      && config->num_heads_middle * config->head_dim_middle == width)
    return config->num_heads_middle;
  return MAX (1, width / 64);
}

static SpatialTransformer *
load_transformer (SfUnet *unet, SfWeightLoader *loader, const char *prefix)
{
  SpatialTransformer *st = g_new0 (SpatialTransformer, 1);
  while (sf_weight_exists (loader, "%s.transformer_blocks.%d.attn1.to_q.weight", prefix, st->depth))
    st->depth++;
  int ndim;
  int64_t shape[4];
  if (sf_weight_shape (loader, &ndim, shape, "%s.proj_in.weight", prefix))
    st->heads = heads_for_width (&unet->config, (int) shape[0]);
  st->norm_g = sf_load_vector (loader, "%s.norm.weight", prefix);
  st->norm_b = sf_load_vector (loader, "%s.norm.bias", prefix);
  st->proj_in = sf_load_linear (loader, "%s.proj_in", prefix);
  st->proj_in_b = sf_load_vector (loader, "%s.proj_in.bias", prefix);
  st->proj_out = sf_load_linear (loader, "%s.proj_out", prefix);
  st->proj_out_b = sf_load_vector (loader, "%s.proj_out.bias", prefix);
  st->blocks = g_new0 (TransformerBlock, MAX (st->depth, 1));
  for (int d = 0; d < st->depth; d++)
    {
      TransformerBlock *tb = &st->blocks[d];
      g_autofree char *b = g_strdup_printf ("%s.transformer_blocks.%d", prefix, d);
      tb->norm1_g = sf_load_vector (loader, "%s.norm1.weight", b);
      tb->norm1_b = sf_load_vector (loader, "%s.norm1.bias", b);
      tb->q = sf_load_linear (loader, "%s.attn1.to_q", b);
      tb->k = sf_load_linear (loader, "%s.attn1.to_k", b);
      tb->v = sf_load_linear (loader, "%s.attn1.to_v", b);
      tb->out = sf_load_linear (loader, "%s.attn1.to_out.0", b);
      tb->out_b = sf_load_vector (loader, "%s.attn1.to_out.0.bias", b);
      tb->norm2_g = sf_load_vector (loader, "%s.norm2.weight", b);
      tb->norm2_b = sf_load_vector (loader, "%s.norm2.bias", b);
      tb->q2 = sf_load_linear (loader, "%s.attn2.to_q", b);
      tb->k2 = sf_load_linear (loader, "%s.attn2.to_k", b);
      tb->v2 = sf_load_linear (loader, "%s.attn2.to_v", b);
      tb->out2 = sf_load_linear (loader, "%s.attn2.to_out.0", b);
      tb->out2_b = sf_load_vector (loader, "%s.attn2.to_out.0.bias", b);
      tb->norm3_g = sf_load_vector (loader, "%s.norm3.weight", b);
      tb->norm3_b = sf_load_vector (loader, "%s.norm3.bias", b);
      tb->ff_in = sf_load_geglu (loader, "%s.ff.net.0.proj", b);
      tb->ff_in_b = sf_load_vector (loader, "%s.ff.net.0.proj.bias", b);
      tb->ff_out = sf_load_linear (loader, "%s.ff.net.2", b);
      tb->ff_out_b = sf_load_vector (loader, "%s.ff.net.2.bias", b);
      if (d == 0 && sf_weight_shape (loader, &ndim, shape, "%s.attn2.to_k.weight", b))
        unet->info.context_dim = (int) shape[1];
    }
  unet->info.transformer_blocks += st->depth;
  return st;
}

static void
block_clear (Block *block)
{
  g_free (block->res);
  if (block->attn)
    g_free (block->attn->blocks);
  g_free (block->attn);
}

/* input_blocks.N / output_blocks.N: which parts exist decides the block. */
static void
load_block (SfUnet *unet, SfWeightLoader *loader, const char *prefix, gboolean output, Block *block)
{
  memset (block, 0, sizeof *block);
  if (sf_weight_exists (loader, "%s.0.in_layers.0.weight", prefix))
    {
      g_autofree char *res = g_strdup_printf ("%s.0", prefix);
      block->res = load_resblock (unet, loader, res);
      int next = 1;
      if (sf_weight_exists (loader, "%s.1.proj_in.weight", prefix))
        {
          g_autofree char *attn = g_strdup_printf ("%s.1", prefix);
          block->attn = load_transformer (unet, loader, attn);
          next = 2;
        }
      if (output && sf_weight_exists (loader, "%s.%d.conv.weight", prefix, next))
        {
          block->up_w = sf_load_conv (loader, "%s.%d.conv", prefix, next);
          block->up_b = sf_load_vector (loader, "%s.%d.conv.bias", prefix, next);
        }
    }
  else if (sf_weight_exists (loader, "%s.0.op.weight", prefix))
    {
      block->conv_w = sf_load_conv (loader, "%s.0.op", prefix);
      block->conv_b = sf_load_vector (loader, "%s.0.op.bias", prefix);
    }
  else
    {
      block->conv_w = sf_load_conv (loader, "%s.0", prefix);
      block->conv_b = sf_load_vector (loader, "%s.0.bias", prefix);
    }
}

static gboolean
load_structure (SfUnet *unet, SfWeightLoader *loader, GError **error)
{
  SfUnetInfo *info = &unet->info;
  int ndim;
  int64_t shape[4];
  if (!sf_weight_shape (loader, &ndim, shape, P "input_blocks.0.0.weight") || ndim != 4)
    {
      g_set_error (error, SF_VK_ERROR, SF_VK_ERROR_INVALID,
                   "The checkpoint has no SDXL UNet (no " P "input_blocks.0.0.weight)");
      return FALSE;
    }
  info->model_channels = (int) shape[0];
  info->in_channels = (int) shape[1];
  if (sf_weight_shape (loader, &ndim, shape, P "out.2.weight"))
    info->out_channels = (int) shape[0];
  if (sf_weight_shape (loader, &ndim, shape, P "time_embed.0.weight"))
    info->time_embed_dim = (int) shape[0];
  if (sf_weight_shape (loader, &ndim, shape, P "label_emb.0.0.weight"))
    info->adm_channels = (int) shape[1];

  unet->time1_w = sf_load_linear (loader, P "time_embed.0");
  unet->time1_b = sf_load_vector (loader, P "time_embed.0.bias");
  unet->time2_w = sf_load_linear (loader, P "time_embed.2");
  unet->time2_b = sf_load_vector (loader, P "time_embed.2.bias");
  unet->label1_w = sf_load_linear (loader, P "label_emb.0.0");
  unet->label1_b = sf_load_vector (loader, P "label_emb.0.0.bias");
  unet->label2_w = sf_load_linear (loader, P "label_emb.0.2");
  unet->label2_b = sf_load_vector (loader, P "label_emb.0.2.bias");

  info->levels = 1;
  info->level_channels[0] = info->model_channels;
  for (int i = 0; sf_weight_exists (loader, P "input_blocks.%d.0.weight", i)
                  || sf_weight_exists (loader, P "input_blocks.%d.0.in_layers.0.weight", i)
                  || sf_weight_exists (loader, P "input_blocks.%d.0.op.weight", i); i++)
    {
      g_autofree char *prefix = g_strdup_printf (P "input_blocks.%d", i);
      Block block;
      load_block (unet, loader, prefix, FALSE, &block);
      g_array_append_val (unet->input, block);
      if (block.res && sf_weight_shape (loader, &ndim, shape, "%s.0.out_layers.3.weight", prefix))
        info->level_channels[info->levels - 1] = (int) shape[0];
      if (!block.res && i > 0 && info->levels < (int) G_N_ELEMENTS (info->level_channels))
        {
          info->level_channels[info->levels] = info->level_channels[info->levels - 1];
          info->levels++;
        }
    }
  for (int i = 0; i < 3; i++)
    {
      g_autofree char *prefix = g_strdup_printf (P "middle_block.%d", i);
      if (i == 1 && sf_weight_exists (loader, "%s.proj_in.weight", prefix))
        unet->middle[1].attn = load_transformer (unet, loader, prefix);
      else if (i != 1 || sf_weight_exists (loader, "%s.in_layers.0.weight", prefix))
        unet->middle[i].res = load_resblock (unet, loader, prefix);
    }
  for (int i = 0; sf_weight_exists (loader, P "output_blocks.%d.0.in_layers.0.weight", i); i++)
    {
      g_autofree char *prefix = g_strdup_printf (P "output_blocks.%d", i);
      Block block;
      load_block (unet, loader, prefix, TRUE, &block);
      g_array_append_val (unet->output, block);
    }
  unet->out_norm_g = sf_load_vector (loader, P "out.0.weight");
  unet->out_norm_b = sf_load_vector (loader, P "out.0.bias");
  unet->out_conv_w = sf_load_conv (loader, P "out.2");
  unet->out_conv_b = sf_load_vector (loader, P "out.2.bias");
  info->input_blocks = (int) unet->input->len;
  info->output_blocks = (int) unet->output->len;
  if (unet->input->len != unet->output->len || unet->input->len < 2)
    {
      g_set_error (error, SF_VK_ERROR, SF_VK_ERROR_INVALID,
                   "The UNet has %u input blocks and %u output blocks; they must match",
                   unet->input->len, unet->output->len);
      return FALSE;
    }
  return TRUE;
}

SfUnet *
sf_unet_load (SfCheckpoint *checkpoint, SfDevice *device, SfDType weight_dtype,
              const SfUNetConfig *config, GError **error)
{
  g_autoptr (SfUnet) unet = g_new0 (SfUnet, 1);
  unet->device = device;
  unet->weights = sf_arena_new (device, "UNet weights");
  unet->input = g_array_new (FALSE, TRUE, sizeof (Block));
  unet->output = g_array_new (FALSE, TRUE, sizeof (Block));
  unet->config = *config;

  SfWeightLoader loader;
  sf_weight_loader_init (&loader, checkpoint, unet->weights, weight_dtype);
  unet->tensors = loader.tensors; /* the model frees what the loader makes */
  gboolean ok = load_structure (unet, &loader, error);
  if (!sf_weight_loader_finish (&loader, ok ? error : NULL) || !ok)
    return NULL;
  unet->weight_bytes = loader.bytes;
  return g_steal_pointer (&unet);
}

void
sf_unet_free (SfUnet *unet)
{
  if (!unet)
    return;
  if (unet->input)
    for (guint i = 0; i < unet->input->len; i++)
      block_clear (&g_array_index (unet->input, Block, i));
  if (unet->output)
    for (guint i = 0; i < unet->output->len; i++)
      block_clear (&g_array_index (unet->output, Block, i));
  for (int i = 0; i < 3; i++)
    block_clear (&unet->middle[i]);
  g_clear_pointer (&unet->input, g_array_unref);
  g_clear_pointer (&unet->output, g_array_unref);
  g_clear_pointer (&unet->tensors, g_ptr_array_unref);
  g_clear_pointer (&unet->weights, sf_arena_free);
  g_free (unet);
}

const SfUnetInfo *
sf_unet_get_info (const SfUnet *unet)
{
  return &unet->info;
}

guint64
sf_unet_weight_bytes (const SfUnet *unet)
{
  return unet->weight_bytes;
}

/* ---- the forward pass -------------------------------------------------- */

static SfTensor *
resblock_forward (SfGraph *g, const ResBlock *rb, const SfTensor *x, const SfTensor *emb_silu)
{
  g_autoptr (SfTensor) h0 = sf_graph_group_norm (g, x, rb->in_norm_g, rb->in_norm_b, RESNET_EPS, TRUE);
  g_autoptr (SfTensor) h1 = sf_graph_conv (g, h0, rb->in_conv_w, rb->in_conv_b, NULL, 1);
  g_clear_pointer (&h0, sf_tensor_free);
  /* The timestep embedding, projected per ResBlock, added per channel. */
  g_autoptr (SfTensor) e = sf_graph_linear (g, emb_silu, rb->emb_w, rb->emb_b, NULL);
  if (e && h1)
    {
      SfTensor per_pixel = sf_tensor_reshape (e, 4, (int64_t[]) { e->shape[0], 1, 1, e->shape[1] });
      sf_graph_add_into (g, h1, &per_pixel);
    }
  g_autoptr (SfTensor) h2 = sf_graph_group_norm (g, h1, rb->out_norm_g, rb->out_norm_b, RESNET_EPS, TRUE);
  g_clear_pointer (&h1, sf_tensor_free);
  /* The 1×1 skip convolution is a linear layer over NHWC pixels. */
  g_autoptr (SfTensor) skip = rb->skip_w ? sf_graph_linear (g, x, rb->skip_w, rb->skip_b, NULL) : NULL;
  return sf_graph_conv (g, h2, rb->out_conv_w, rb->out_conv_b, skip ? skip : x, 1);
}

static SfTensor *
attention_forward (SfGraph *g, const SfTensor *x, const SfTensor *context, const SfTensor *wq,
                   const SfTensor *wk, const SfTensor *wv, const SfTensor *wo,
                   const SfTensor *bo, int heads, const SfTensor *residual)
{
  g_autoptr (SfTensor) q = sf_graph_linear (g, x, wq, NULL, NULL);
  g_autoptr (SfTensor) k = sf_graph_linear (g, context, wk, NULL, NULL);
  g_autoptr (SfTensor) v = sf_graph_linear (g, context, wv, NULL, NULL);
  g_autoptr (SfTensor) a = sf_graph_attention (g, q, k, v, heads, FALSE);
  return sf_graph_linear (g, a, wo, bo, residual);
}

/* diffusers' BasicTransformerBlock (layer norms, self-attention,
 * cross-attention, GEGLU feed-forward), each with its residual fused into
 * the last matmul. */
static SfTensor *
transformer_block_forward (SfGraph *g, const TransformerBlock *tb, int heads, SfTensor *t,
                           const SfTensor *context)
{
  g_autoptr (SfTensor) n1 = sf_graph_layer_norm (g, t, tb->norm1_g, tb->norm1_b, LAYER_NORM_EPS);
  g_autoptr (SfTensor) t1 = attention_forward (g, n1, n1, tb->q, tb->k, tb->v, tb->out, tb->out_b,
                                               heads, t);
  g_clear_pointer (&n1, sf_tensor_free);
  g_autoptr (SfTensor) n2 = sf_graph_layer_norm (g, t1, tb->norm2_g, tb->norm2_b, LAYER_NORM_EPS);
  g_autoptr (SfTensor) t2 = attention_forward (g, n2, context, tb->q2, tb->k2, tb->v2, tb->out2,
                                               tb->out2_b, heads, t1);
  g_clear_pointer (&n2, sf_tensor_free);
  g_clear_pointer (&t1, sf_tensor_free);
  g_autoptr (SfTensor) n3 = sf_graph_layer_norm (g, t2, tb->norm3_g, tb->norm3_b, LAYER_NORM_EPS);
  g_autoptr (SfTensor) f = sf_graph_linear_geglu (g, n3, tb->ff_in, tb->ff_in_b);
  g_clear_pointer (&n3, sf_tensor_free);
  return sf_graph_linear (g, f, tb->ff_out, tb->ff_out_b, t2);
}

static SfTensor *
transformer_forward (SfGraph *g, const SpatialTransformer *st, const SfTensor *x,
                     const SfTensor *context)
{
  if (!sf_graph_ok (g) || !x)
    return NULL;
  int64_t b = x->shape[0], h = x->shape[1], w = x->shape[2], c = x->shape[3];
  int64_t tokens[3] = { b, h * w, c };
  g_autoptr (SfTensor) normed = sf_graph_group_norm (g, x, st->norm_g, st->norm_b,
                                                     TRANSFORMER_NORM_EPS, FALSE);
  if (!normed)
    return NULL;
  SfTensor seq = sf_tensor_reshape (normed, 3, tokens);
  SfTensor *t = sf_graph_linear (g, &seq, st->proj_in, st->proj_in_b, NULL);
  g_clear_pointer (&normed, sf_tensor_free);
  for (int d = 0; d < st->depth && t; d++)
    {
      SfTensor *next = transformer_block_forward (g, &st->blocks[d], st->heads, t, context);
      sf_tensor_free (t);
      t = next;
    }
  if (!t)
    return NULL;
  SfTensor residual = sf_tensor_reshape (x, 3, tokens);
  g_autoptr (SfTensor) out = sf_graph_linear (g, t, st->proj_out, st->proj_out_b, &residual);
  sf_tensor_free (t);
  if (!out)
    return NULL;
  /* Back to NHWC: the same memory, so move the allocation into a 4-D tensor. */
  out->ndim = 4;
  out->shape[0] = b;
  out->shape[1] = h;
  out->shape[2] = w;
  out->shape[3] = c;
  return g_steal_pointer (&out);
}

/* Applies one Block (with an optional transformer). */
static SfTensor *
block_body (SfGraph *g, const Block *block, const SfTensor *x, const SfTensor *emb_silu,
            const SfTensor *context)
{
  g_autoptr (SfTensor) h = block->res ? resblock_forward (g, block->res, x, emb_silu) : NULL;
  if (block->attn && h)
    {
      SfTensor *t = transformer_forward (g, block->attn, h, context);
      g_clear_pointer (&h, sf_tensor_free);
      h = t;
    }
  return g_steal_pointer (&h);
}

static SfTensor *
embedding_forward (SfGraph *g, SfUnetPass *pass)
{
  SfUnet *unet = pass->unet;
  g_autoptr (SfTensor) t_emb = sf_graph_timestep_embedding (g, pass->timesteps,
                                                            unet->info.model_channels);
  g_autoptr (SfTensor) t1 = sf_graph_linear (g, t_emb, unet->time1_w, unet->time1_b, NULL);
  if (t1)
    sf_op_activation (g->stream, SF_ACT_SILU, t1, t1, &g->error);
  g_autoptr (SfTensor) temb = sf_graph_linear (g, t1, unet->time2_w, unet->time2_b, NULL);

  /* SDXL's micro-conditioning: every time id embedded like a timestep,
   * after the pooled text embedding (diffusers: concat([text_embeds,
   * time_embeds])). */
  g_autoptr (SfTensor) ids = NULL;
  if (sf_graph_ok (g))
    {
      int64_t flat = (int64_t) pass->batch * pass->time_ids;
      SfTensor flat_ids = sf_tensor_reshape (pass->time_id_values, 1, &flat);
      int dim = (int) ((unet->info.adm_channels - pass->pooled->shape[1]) / pass->time_ids);
      ids = sf_graph_timestep_embedding (g, &flat_ids, dim);
    }
  g_autoptr (SfTensor) adm = NULL;
  if (ids)
    {
      SfTensor per_row = sf_tensor_reshape (ids, 2, (int64_t[]) { pass->batch,
                                            ids->shape[1] * pass->time_ids });
      adm = sf_graph_concat_last (g, pass->pooled, &per_row);
    }
  g_autoptr (SfTensor) a1 = sf_graph_linear (g, adm, unet->label1_w, unet->label1_b, NULL);
  if (a1)
    sf_op_activation (g->stream, SF_ACT_SILU, a1, a1, &g->error);
  g_autoptr (SfTensor) a2 = sf_graph_linear (g, a1, unet->label2_w, unet->label2_b, temb);
  /* The ResBlocks only ever see SiLU(emb). */
  if (a2)
    sf_op_activation (g->stream, SF_ACT_SILU, a2, a2, &g->error);
  return g_steal_pointer (&a2);
}

static gboolean
record_forward (SfUnetPass *pass, GError **error)
{
  SfUnet *unet = pass->unet;
  SfGraph graph;
  SfGraph *g = &graph;
  sf_graph_init (g, pass->stream, pass->activations);

  g_autoptr (SfTensor) emb = embedding_forward (g, pass);
  g_autoptr (GPtrArray) skips = g_ptr_array_new_with_free_func ((GDestroyNotify) sf_tensor_free);
  SfTensor *h = NULL;
  for (guint i = 0; i < unet->input->len && sf_graph_ok (g); i++)
    {
      const Block *block = &g_array_index (unet->input, Block, i);
      const SfTensor *src = i == 0 ? pass->x : h;
      SfTensor *next;
      if (block->res)
        next = block_body (g, block, src, emb, pass->context);
      else
        next = sf_graph_conv (g, src, block->conv_w, block->conv_b, NULL, i == 0 ? 1 : 2);
      if (next)
        g_ptr_array_add (skips, next);
      h = next;
    }
  /* h is the last skip; the middle block makes its own copies. */
  g_autoptr (SfTensor) mid = NULL;
  if (sf_graph_ok (g))
    {
      g_autoptr (SfTensor) m0 = resblock_forward (g, unet->middle[0].res, h, emb);
      g_autoptr (SfTensor) m1 = unet->middle[1].attn
        ? transformer_forward (g, unet->middle[1].attn, m0, pass->context) : NULL;
      mid = resblock_forward (g, unet->middle[2].res, m1 ? m1 : m0, emb);
    }
  SfTensor *x = g_steal_pointer (&mid);
  for (guint i = 0; i < unet->output->len && sf_graph_ok (g); i++)
    {
      const Block *block = &g_array_index (unet->output, Block, i);
      SfTensor *skip = skips->len ? g_ptr_array_steal_index (skips, skips->len - 1) : NULL;
      g_autoptr (SfTensor) cat = sf_graph_concat_last (g, x, skip);
      sf_tensor_free (skip);
      sf_tensor_free (x);
      x = block_body (g, block, cat, emb, pass->context);
      if (block->up_w && x)
        {
          g_autoptr (SfTensor) up = sf_graph_upsample2x (g, x);
          sf_tensor_free (x);
          /* Odd sizes: the downsampling rounded up, so the upsampled tensor
           * is one row or column larger than the skip it meets; cropping
           * equals diffusers' nearest interpolation to the skip's size. */
          const SfTensor *next = skips->len ? skips->pdata[skips->len - 1] : NULL;
          for (int dim = 1; dim <= 2 && up && next; dim++)
            if (up->shape[dim] != next->shape[dim])
              {
                int64_t shape[4] = { up->shape[0], up->shape[1], up->shape[2], up->shape[3] };
                shape[dim] = next->shape[dim];
                SfTensor *cropped = sf_graph_new (g, 4, shape);
                if (cropped && !sf_op_copy_window (g->stream, up, dim, 0, cropped, &g->error))
                  g_clear_pointer (&cropped, sf_tensor_free);
                g_clear_pointer (&up, sf_tensor_free);
                up = cropped;
              }
          x = sf_graph_conv (g, up, block->up_w, block->up_b, NULL, 1);
        }
    }
  g_autoptr (SfTensor) normed = sf_graph_group_norm (g, x, unet->out_norm_g, unet->out_norm_b,
                                                     RESNET_EPS, TRUE);
  sf_tensor_free (x);
  if (sf_graph_ok (g) && normed)
    sf_op_conv2d (g->stream, normed, unet->out_conv_w, unet->out_conv_b, NULL, 1, 1, 1, pass->eps,
                  &g->error);
  return sf_graph_finish (g, error);
}

SfUnetPass *
sf_unet_pass_new (SfUnet *unet, int batch, int height, int width, int context_tokens,
                  int time_ids, int time_id_dim, GError **error)
{
  const SfUnetInfo *info = &unet->info;
  int64_t pooled_dim = info->adm_channels - (int64_t) time_ids * time_id_dim;
  if (batch < 1 || height < 1 || width < 1 || context_tokens < 1 || time_ids < 1
      || time_id_dim < 2 || pooled_dim < 1)
    {
      g_set_error (error, SF_VK_ERROR, SF_VK_ERROR_INVALID,
                   "A UNet pass needs a latent (got %d×%d) and time ids that fit the "
                   "add-embedding (%d ids × %d of %d)",
                   height, width, time_ids, time_id_dim, info->adm_channels);
      return NULL;
    }
  g_autoptr (SfUnetPass) pass = g_new0 (SfUnetPass, 1);
  pass->unet = unet;
  pass->batch = batch;
  pass->height = height;
  pass->width = width;
  pass->context_tokens = context_tokens;
  pass->time_ids = time_ids;
  pass->activations = sf_arena_new (unet->device, "UNet activations");
  pass->stream = sf_stream_new (unet->device, error);
  if (!pass->stream)
    return NULL;
  SfArena *arena = pass->activations;
  if (!(pass->x = sf_tensor_new (arena, SF_DTYPE_F32, 4,
                                 (int64_t[]) { batch, height, width, info->in_channels }, error))
      || !(pass->timesteps = sf_tensor_new (arena, SF_DTYPE_F32, 1, (int64_t[]) { batch }, error))
      || !(pass->context = sf_tensor_new (arena, SF_DTYPE_F32, 3,
                                          (int64_t[]) { batch, context_tokens, info->context_dim },
                                          error))
      || !(pass->pooled = sf_tensor_new (arena, SF_DTYPE_F32, 2, (int64_t[]) { batch, pooled_dim },
                                         error))
      || !(pass->time_id_values = sf_tensor_new (arena, SF_DTYPE_F32, 2,
                                                 (int64_t[]) { batch, time_ids }, error))
      || !(pass->eps = sf_tensor_new (arena, SF_DTYPE_F32, 4,
                                      (int64_t[]) { batch, height, width, info->out_channels },
                                      error)))
    return NULL;
  pass->staging = g_new (float, (gsize) batch * height * width
                                * MAX (info->in_channels, info->out_channels));
  if (!record_forward (pass, error))
    return NULL;
  return g_steal_pointer (&pass);
}

void
sf_unet_pass_free (SfUnetPass *pass)
{
  if (!pass)
    return;
  g_clear_pointer (&pass->stream, sf_stream_free);
  sf_tensor_free (pass->x);
  sf_tensor_free (pass->timesteps);
  sf_tensor_free (pass->context);
  sf_tensor_free (pass->pooled);
  sf_tensor_free (pass->time_id_values);
  sf_tensor_free (pass->eps);
  g_clear_pointer (&pass->activations, sf_arena_free);
  g_free (pass->staging);
  g_free (pass);
}

gboolean
sf_unet_pass_run (SfUnetPass *pass, const float *latent, const float *timesteps,
                  const float *context, const float *pooled, const float *time_ids, float *eps,
                  GCancellable *cancellable, GError **error)
{
  const SfUnetInfo *info = &pass->unet->info;
  int b = pass->batch, h = pass->height, w = pass->width;
  sf_nchw_to_nhwc (latent, pass->staging, b, info->in_channels, h, w);
  if (!sf_tensor_upload (pass->x, pass->staging, error)
      || !sf_tensor_upload (pass->timesteps, timesteps, error)
      || !sf_tensor_upload (pass->context, context, error)
      || !sf_tensor_upload (pass->pooled, pooled, error)
      || !sf_tensor_upload (pass->time_id_values, time_ids, error)
      || !sf_stream_run (pass->stream, cancellable, error)
      || !sf_tensor_download (pass->eps, pass->staging, error))
    return FALSE;
  sf_nhwc_to_nchw (pass->staging, eps, b, info->out_channels, h, w);
  return TRUE;
}

void
sf_nchw_to_nhwc (const float *src, float *dst, int b, int c, int h, int w)
{
  for (int n = 0; n < b; n++)
    for (int ch = 0; ch < c; ch++)
      for (int i = 0; i < h * w; i++)
        dst[((gsize) n * h * w + i) * c + ch] = src[((gsize) n * c + ch) * h * w + i];
}

void
sf_nhwc_to_nchw (const float *src, float *dst, int b, int c, int h, int w)
{
  for (int n = 0; n < b; n++)
    for (int ch = 0; ch < c; ch++)
      for (int i = 0; i < h * w; i++)
        dst[((gsize) n * c + ch) * h * w + i] = src[((gsize) n * h * w + i) * c + ch];
}
