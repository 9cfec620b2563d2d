#include "text_encoder.h"

#include "graph.h"
#include "model_weights.h"
#include "vk_error.h"

#define LAYER_NORM_EPS 1e-5f

typedef struct {
  SfTensor *ln1_g, *ln1_b, *q, *q_b, *k, *k_b, *v, *v_b, *o, *o_b;
  SfTensor *ln2_g, *ln2_b, *fc1, *fc1_b, *fc2, *fc2_b;
} Layer;

struct SfTextEncoder {
  SfDevice *device;
  SfArena *weights;
  GPtrArray *tensors;
  SfActivation act;
  int hidden, tokens, heads, projection;
  SfTensor *token_embedding, *position_embedding;
  Layer *layers;
  int layer_count;
  SfTensor *final_g, *final_b, *projection_w;
  guint64 weight_bytes;
};

static void
load_layer_transformers (SfTextEncoder *clip, SfWeightLoader *l, const char *p, int i, Layer *layer)
{
  g_autofree char *b = g_strdup_printf ("%sencoder.layers.%d", p, i);
  layer->ln1_g = sf_load_vector (l, "%s.layer_norm1.weight", b);
  layer->ln1_b = sf_load_vector (l, "%s.layer_norm1.bias", b);
  layer->q = sf_load_linear (l, "%s.self_attn.q_proj", b);
  layer->q_b = sf_load_vector (l, "%s.self_attn.q_proj.bias", b);
  layer->k = sf_load_linear (l, "%s.self_attn.k_proj", b);
  layer->k_b = sf_load_vector (l, "%s.self_attn.k_proj.bias", b);
  layer->v = sf_load_linear (l, "%s.self_attn.v_proj", b);
  layer->v_b = sf_load_vector (l, "%s.self_attn.v_proj.bias", b);
  layer->o = sf_load_linear (l, "%s.self_attn.out_proj", b);
  layer->o_b = sf_load_vector (l, "%s.self_attn.out_proj.bias", b);
  layer->ln2_g = sf_load_vector (l, "%s.layer_norm2.weight", b);
  layer->ln2_b = sf_load_vector (l, "%s.layer_norm2.bias", b);
  layer->fc1 = sf_load_linear (l, "%s.mlp.fc1", b);
  layer->fc1_b = sf_load_vector (l, "%s.mlp.fc1.bias", b);
  layer->fc2 = sf_load_linear (l, "%s.mlp.fc2", b);
  layer->fc2_b = sf_load_vector (l, "%s.mlp.fc2.bias", b);
}

/* OpenCLIP fuses q, k, v into in_proj_weight [3D, D] (rows q, then k, then v). */
static void
load_layer_openclip (SfTextEncoder *clip, SfWeightLoader *l, const char *p, int i, Layer *layer)
{
  g_autofree char *b = g_strdup_printf ("%stransformer.resblocks.%d", p, i);
  int64_t d = clip->hidden;
  layer->ln1_g = sf_load_vector (l, "%s.ln_1.weight", b);
  layer->ln1_b = sf_load_vector (l, "%s.ln_1.bias", b);
  layer->q = sf_load_matrix_rows (l, 0, d, "%s.attn.in_proj_weight", b);
  layer->k = sf_load_matrix_rows (l, d, d, "%s.attn.in_proj_weight", b);
  layer->v = sf_load_matrix_rows (l, 2 * d, d, "%s.attn.in_proj_weight", b);
  layer->q_b = sf_load_vector_range (l, 0, d, "%s.attn.in_proj_bias", b);
  layer->k_b = sf_load_vector_range (l, d, d, "%s.attn.in_proj_bias", b);
  layer->v_b = sf_load_vector_range (l, 2 * d, d, "%s.attn.in_proj_bias", b);
  layer->o = sf_load_linear (l, "%s.attn.out_proj", b);
  layer->o_b = sf_load_vector (l, "%s.attn.out_proj.bias", b);
  layer->ln2_g = sf_load_vector (l, "%s.ln_2.weight", b);
  layer->ln2_b = sf_load_vector (l, "%s.ln_2.bias", b);
  layer->fc1 = sf_load_linear (l, "%s.mlp.c_fc", b);
  layer->fc1_b = sf_load_vector (l, "%s.mlp.c_fc.bias", b);
  layer->fc2 = sf_load_linear (l, "%s.mlp.c_proj", b);
  layer->fc2_b = sf_load_vector (l, "%s.mlp.c_proj.bias", b);
}

/* OpenCLIP's text_projection is [D, P], used as x @ P; a linear layer wants
 * its transpose [P, D]. */
static SfTensor *
load_projection (SfTextEncoder *clip, SfWeightLoader *l, const char *name)
{
  int ndim;
  int64_t shape[4];
  g_autofree float *host = sf_load_host (l, &ndim, shape, "%s", name);
  if (!host)
    return NULL;
  if (ndim != 2 || shape[0] != clip->hidden)
    {
      g_set_error (&l->error, SF_VK_ERROR, SF_VK_ERROR_INVALID,
                   "%s has an unexpected shape for a text projection", name);
      return NULL;
    }
  int64_t d = shape[0], p = shape[1];
  g_autofree float *transposed = g_new (float, d * p);
  for (int64_t i = 0; i < d; i++)
    for (int64_t j = 0; j < p; j++)
      transposed[j * d + i] = host[i * p + j];
  clip->projection = (int) p;
  return sf_weight_loader_keep (l, sf_weight_new_linear (l->arena, l->matrix_dtype, p, d,
                                                          transposed, SF_DTYPE_F32, &l->error));
}

SfTextEncoder *
sf_text_encoder_load (SfCheckpoint *checkpoint, SfDevice *device, const char *prefix,
                   SfTextNames names, SfActivation act, SfDType weight_dtype, int head_dim,
                   GError **error)
{
  g_autoptr (SfTextEncoder) clip = g_new0 (SfTextEncoder, 1);
  clip->device = device;
  clip->act = act;
  clip->weights = sf_arena_new (device, "text encoder weights");
  gboolean openclip = names == SF_TEXT_NAMES_OPENCLIP;

  SfWeightLoader loader;
  SfWeightLoader *l = &loader;
  sf_weight_loader_init (l, checkpoint, clip->weights, weight_dtype);
  clip->tensors = loader.tensors; /* the model frees what the loader makes */
  const char *token_name = openclip ? "token_embedding.weight" : "embeddings.token_embedding.weight";
  const char *position_name = openclip ? "positional_embedding" : "embeddings.position_embedding.weight";
  int ndim;
  int64_t shape[4];
  if (!sf_weight_shape (l, &ndim, shape, "%s%s", prefix, position_name) || ndim != 2)
    {
      g_set_error (error, SF_VK_ERROR, SF_VK_ERROR_INVALID,
                   "The checkpoint has no text encoder at %s (no %s)", prefix, position_name);
      return NULL;
    }
  clip->tokens = (int) shape[0];
  clip->hidden = (int) shape[1];
  clip->heads = MAX (1, clip->hidden / (head_dim > 0 ? head_dim : 64));
  const char *layer_probe = openclip ? "%stransformer.resblocks.%d.ln_1.weight"
                                     : "%sencoder.layers.%d.layer_norm1.weight";
  while (sf_weight_exists (l, layer_probe, prefix, clip->layer_count))
    clip->layer_count++;
  if (clip->layer_count < 2)
    {
      g_set_error (error, SF_VK_ERROR, SF_VK_ERROR_INVALID,
                   "The text encoder at %s has %d layers; SDXL needs at least 2", prefix,
                   clip->layer_count);
      return NULL;
    }

  clip->token_embedding = sf_load_table (l, "%s%s", prefix, token_name);
  clip->position_embedding = sf_load_vector (l, "%s%s", prefix, position_name);
  clip->layers = g_new0 (Layer, clip->layer_count);
  for (int i = 0; i < clip->layer_count; i++)
    {
      if (openclip)
        load_layer_openclip (clip, l, prefix, i, &clip->layers[i]);
      else
        load_layer_transformers (clip, l, prefix, i, &clip->layers[i]);
    }
  const char *final_name = openclip ? "ln_final" : "final_layer_norm";
  clip->final_g = sf_load_vector (l, "%s%s.weight", prefix, final_name);
  clip->final_b = sf_load_vector (l, "%s%s.bias", prefix, final_name);
  if (openclip && sf_weight_exists (l, "%stext_projection", prefix))
    {
      g_autofree char *name = g_strconcat (prefix, "text_projection", NULL);
      clip->projection_w = load_projection (clip, l, name);
    }
  if (!sf_weight_loader_finish (l, error))
    return NULL;
  clip->weight_bytes = loader.bytes;
  return g_steal_pointer (&clip);
}

void
sf_text_encoder_free (SfTextEncoder *clip)
{
  if (!clip)
    return;
  g_free (clip->layers);
  g_clear_pointer (&clip->tensors, g_ptr_array_unref);
  g_clear_pointer (&clip->weights, sf_arena_free);
  g_free (clip);
}

int sf_text_encoder_get_hidden (const SfTextEncoder *clip) { return clip->hidden; }
int sf_text_encoder_get_tokens (const SfTextEncoder *clip) { return clip->tokens; }
int sf_text_encoder_get_layers (const SfTextEncoder *clip) { return clip->layer_count; }
int sf_text_encoder_get_projection (const SfTextEncoder *clip) { return clip->projection; }
guint64 sf_text_encoder_weight_bytes (const SfTextEncoder *clip) { return clip->weight_bytes; }

static SfTensor *
layer_forward (SfGraph *g, const SfTextEncoder *clip, const Layer *layer, const SfTensor *x)
{
  g_autoptr (SfTensor) n1 = sf_graph_layer_norm (g, x, layer->ln1_g, layer->ln1_b, LAYER_NORM_EPS);
  g_autoptr (SfTensor) q = sf_graph_linear (g, n1, layer->q, layer->q_b, NULL);
  g_autoptr (SfTensor) k = sf_graph_linear (g, n1, layer->k, layer->k_b, NULL);
  g_autoptr (SfTensor) v = sf_graph_linear (g, n1, layer->v, layer->v_b, NULL);
  g_clear_pointer (&n1, sf_tensor_free);
  g_autoptr (SfTensor) a = sf_graph_attention (g, q, k, v, clip->heads, TRUE);
  g_autoptr (SfTensor) x1 = sf_graph_linear (g, a, layer->o, layer->o_b, x);
  g_autoptr (SfTensor) n2 = sf_graph_layer_norm (g, x1, layer->ln2_g, layer->ln2_b, LAYER_NORM_EPS);
  g_autoptr (SfTensor) f = sf_graph_linear (g, n2, layer->fc1, layer->fc1_b, NULL);
  if (f)
    sf_op_activation (g->stream, clip->act, f, f, &g->error);
  return sf_graph_linear (g, f, layer->fc2, layer->fc2_b, x1);
}

gboolean
sf_text_encoder_encode (SfTextEncoder *clip, const gint32 *ids, int batch, float *penultimate,
                     float *pooled, GCancellable *cancellable, GError **error)
{
  if (pooled && !clip->projection_w)
    {
      g_set_error (error, SF_VK_ERROR, SF_VK_ERROR_INVALID,
                   "This text encoder has no projection for a pooled output");
      return FALSE;
    }
  g_autoptr (SfArena) arena = sf_arena_new (clip->device, "text encoder activations");
  g_autoptr (SfStream) stream = sf_stream_new (clip->device, error);
  if (!stream)
    return FALSE;
  int64_t rows = (int64_t) batch * clip->tokens;
  g_autoptr (SfTensor) id_tensor = sf_tensor_new (arena, SF_DTYPE_I32, 1, &rows, error);
  if (!id_tensor || !sf_tensor_upload_raw (id_tensor, ids, error))
    return FALSE;
  /* Rows of the pooled tokens: the first EOS of each row (HF's argmax of
   * the ids). Filled by the host, so made before any temporary. */
  g_autoptr (SfTensor) eos_rows = NULL;
  if (pooled)
    {
      g_autofree gint32 *eos = g_new (gint32, batch);
      for (int b = 0; b < batch; b++)
        {
          int at = clip->tokens - 1;
          for (int t = 0; t < clip->tokens; t++)
            if (ids[(gsize) b * clip->tokens + t] == SF_TEXT_EOS)
              {
                at = t;
                break;
              }
          eos[b] = b * clip->tokens + at;
        }
      eos_rows = sf_tensor_new (arena, SF_DTYPE_I32, 1, (int64_t[]) { batch }, error);
      if (!eos_rows || !sf_tensor_upload_raw (eos_rows, eos, error))
        return FALSE;
    }

  SfGraph graph;
  SfGraph *g = &graph;
  sf_graph_init (g, stream, arena);
  int64_t seq_shape[3] = { batch, clip->tokens, clip->hidden };
  SfTensor *x = sf_graph_new (g, 3, seq_shape);
  if (x)
    {
      SfTensor flat = sf_tensor_reshape (x, 2, (int64_t[]) { rows, clip->hidden });
      if (sf_op_embedding (stream, clip->token_embedding, id_tensor, &flat, &g->error))
        sf_graph_add_into (g, x, clip->position_embedding);
    }
  /* x walks through the layers; the penultimate layer's output is kept. */
  g_autoptr (SfTensor) hidden_penultimate = NULL;
  int last = pooled ? clip->layer_count : clip->layer_count - 1;
  for (int i = 0; i < last && x; i++)
    {
      SfTensor *next = layer_forward (g, clip, &clip->layers[i], x);
      if (x != hidden_penultimate)
        sf_tensor_free (x);
      x = next;
      if (i == clip->layer_count - 2)
        hidden_penultimate = x;
    }
  g_autoptr (SfTensor) pooled_out = NULL;
  if (pooled && sf_graph_ok (g))
    {
      g_autoptr (SfTensor) final = sf_graph_layer_norm (g, x, clip->final_g, clip->final_b,
                                                        LAYER_NORM_EPS);
      g_autoptr (SfTensor) picked = sf_graph_new (g, 2, (int64_t[]) { batch, clip->hidden });
      if (final && picked)
        {
          SfTensor table = sf_tensor_reshape (final, 2, (int64_t[]) { rows, clip->hidden });
          sf_op_embedding (stream, &table, eos_rows, picked, &g->error);
        }
      pooled_out = sf_graph_linear (g, picked, clip->projection_w, NULL, NULL);
    }
  if (x != hidden_penultimate)
    sf_tensor_free (x);
  if (!sf_graph_finish (g, error) || !sf_stream_run (stream, cancellable, error)
      || !sf_tensor_download (hidden_penultimate, penultimate, error))
    return FALSE;
  if (pooled && !sf_tensor_download (pooled_out, pooled, error))
    return FALSE;
  return TRUE;
}
