#include "graph.h"

#include <math.h>

void
sf_graph_init (SfGraph *graph, SfStream *stream, SfArena *arena)
{
  graph->stream = stream;
  graph->arena = arena;
  graph->error = NULL;
}

gboolean
sf_graph_finish (SfGraph *graph, GError **error)
{
  if (!graph->error)
    return TRUE;
  g_propagate_error (error, g_steal_pointer (&graph->error));
  return FALSE;
}

gboolean
sf_graph_ok (const SfGraph *graph)
{
  return graph->error == NULL;
}

void
sf_graph_fail (SfGraph *graph, GError *error)
{
  if (!graph->error)
    graph->error = error;
  else
    g_error_free (error);
}

SfTensor *
sf_graph_new (SfGraph *graph, int ndim, const int64_t *shape)
{
  if (graph->error)
    return NULL;
  return sf_tensor_new (graph->arena, SF_DTYPE_F32, ndim, shape, &graph->error);
}

SfTensor *
sf_graph_new_like (SfGraph *graph, const SfTensor *like, int64_t last)
{
  if (graph->error || !like)
    return NULL;
  int64_t shape[SF_MAX_DIMS];
  for (int i = 0; i < like->ndim; i++)
    shape[i] = like->shape[i];
  shape[like->ndim - 1] = last;
  return sf_graph_new (graph, like->ndim, shape);
}

/* Records with @ok; on failure frees @out and returns NULL. */
static SfTensor *
finish_op (SfGraph *graph, gboolean ok, SfTensor *out)
{
  if (ok)
    return out;
  sf_tensor_free (out);
  return NULL;
}

SfTensor *
sf_graph_linear (SfGraph *graph, const SfTensor *x, const SfTensor *w, const SfTensor *bias,
                 const SfTensor *residual)
{
  SfTensor *out = sf_graph_new_like (graph, x, w ? w->shape[0] : 0);
  if (!out)
    return NULL;
  return finish_op (graph, sf_op_matmul (graph->stream, x, w, bias, residual, out, &graph->error),
                    out);
}

SfTensor *
sf_graph_linear_geglu (SfGraph *graph, const SfTensor *x, const SfTensor *w, const SfTensor *bias)
{
  /* GEGLU weights are [2, F, K] (sf_weight_new_geglu). */
  SfTensor *out = sf_graph_new_like (graph, x, w ? (w->ndim == 3 ? w->shape[1] : w->shape[0] / 2) : 0);
  if (!out)
    return NULL;
  return finish_op (graph, sf_op_matmul_geglu (graph->stream, x, w, bias, out, &graph->error),
                    out);
}

SfTensor *
sf_graph_conv (SfGraph *graph, const SfTensor *x, const SfTensor *w, const SfTensor *bias,
               const SfTensor *residual, int stride)
{
  if (graph->error || !x || !w)
    return NULL;
  /* w: [Cout, kh, kw, Cin]; x: [N, H, W, Cin]. */
  int64_t kh = w->shape[1], kw = w->shape[2];
  int pad_top = (int) (kh / 2), pad_left = (int) (kw / 2);
  int64_t shape[4] = {
    x->shape[0],
    (x->shape[1] + 2 * pad_top - kh) / stride + 1,
    (x->shape[2] + 2 * pad_left - kw) / stride + 1,
    w->shape[0],
  };
  SfTensor *out = sf_graph_new (graph, 4, shape);
  if (!out)
    return NULL;
  return finish_op (graph, sf_op_conv2d (graph->stream, x, w, bias, residual, stride, pad_top,
                                         pad_left, out, &graph->error), out);
}

SfTensor *
sf_graph_group_norm (SfGraph *graph, const SfTensor *x, const SfTensor *gamma,
                     const SfTensor *beta, float eps, gboolean silu)
{
  SfTensor *out = sf_graph_new_like (graph, x, x ? x->shape[x->ndim - 1] : 0);
  if (!out)
    return NULL;
  return finish_op (graph, sf_op_group_norm (graph->stream, x, gamma, beta, 32, eps, silu, out,
                                             &graph->error), out);
}

SfTensor *
sf_graph_layer_norm (SfGraph *graph, const SfTensor *x, const SfTensor *gamma,
                     const SfTensor *beta, float eps)
{
  SfTensor *out = sf_graph_new_like (graph, x, x ? x->shape[x->ndim - 1] : 0);
  if (!out)
    return NULL;
  return finish_op (graph, sf_op_layer_norm (graph->stream, x, gamma, beta, eps, out,
                                             &graph->error), out);
}

SfTensor *
sf_graph_activation (SfGraph *graph, SfActivation act, const SfTensor *x)
{
  SfTensor *out = sf_graph_new_like (graph, x, x ? x->shape[x->ndim - 1] : 0);
  if (!out)
    return NULL;
  return finish_op (graph, sf_op_activation (graph->stream, act, x, out, &graph->error), out);
}

SfTensor *
sf_graph_attention (SfGraph *graph, const SfTensor *q, const SfTensor *k, const SfTensor *v,
                    int heads, gboolean causal)
{
  if (graph->error || !q || !k || !v)
    return NULL;
  SfTensor *out = sf_graph_new_like (graph, q, q->shape[q->ndim - 1]);
  if (!out)
    return NULL;
  int64_t head_dim = q->shape[q->ndim - 1] / heads;
  float scale = (float) (1.0 / sqrt ((double) head_dim));
  return finish_op (graph, sf_op_attention (graph->stream, q, k, v, heads, scale, causal, out,
                                            &graph->error), out);
}

SfTensor *
sf_graph_add (SfGraph *graph, const SfTensor *a, const SfTensor *b)
{
  SfTensor *out = sf_graph_new_like (graph, a, a ? a->shape[a->ndim - 1] : 0);
  if (!out)
    return NULL;
  return finish_op (graph, sf_op_add (graph->stream, a, b, out, &graph->error), out);
}

void
sf_graph_add_into (SfGraph *graph, SfTensor *a, const SfTensor *b)
{
  if (graph->error || !a || !b)
    return;
  sf_op_add (graph->stream, a, b, a, &graph->error);
}

SfTensor *
sf_graph_concat_last (SfGraph *graph, const SfTensor *a, const SfTensor *b)
{
  if (graph->error || !a || !b)
    return NULL;
  SfTensor *out = sf_graph_new_like (graph, a, a->shape[a->ndim - 1] + b->shape[b->ndim - 1]);
  if (!out)
    return NULL;
  return finish_op (graph, sf_op_concat_last (graph->stream, a, b, out, &graph->error), out);
}

SfTensor *
sf_graph_upsample2x (SfGraph *graph, const SfTensor *x)
{
  if (graph->error || !x)
    return NULL;
  int64_t shape[4] = { x->shape[0], x->shape[1] * 2, x->shape[2] * 2, x->shape[3] };
  SfTensor *out = sf_graph_new (graph, 4, shape);
  if (!out)
    return NULL;
  return finish_op (graph, sf_op_upsample_nearest2x (graph->stream, x, out, &graph->error), out);
}

SfTensor *
sf_graph_timestep_embedding (SfGraph *graph, const SfTensor *timesteps, int dim)
{
  if (graph->error || !timesteps)
    return NULL;
  int64_t shape[2] = { sf_tensor_numel (timesteps), dim };
  SfTensor *out = sf_graph_new (graph, 2, shape);
  if (!out)
    return NULL;
  /* diffusers' UNet: flip_sin_to_cos, freq_shift 0, max period 10000. */
  return finish_op (graph, sf_op_timestep_embedding (graph->stream, timesteps, TRUE, 0.0f,
                                                     10000.0f, out, &graph->error), out);
}
