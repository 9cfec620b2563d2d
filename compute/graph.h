/* Recording a forward pass: a stream, the arena its activations come
 * from, and the first error. Every helper allocates its output, records
 * the op and returns the new tensor; after an error every helper returns
 * NULL and records nothing, so model code reads as a plain sequence and
 * checks once at the end (sf_graph_finish).
 *
 * Freeing a tensor while recording is safe: its range goes back to the
 * arena and the stream's hazard tracking orders any later reuse after the
 * recorded reads. But the host writes at once, not when the stream runs:
 * a tensor the host fills must be made before any temporary is freed (or
 * come from another arena), or a recorded dispatch may overwrite it. */
#pragma once

#include "ops.h"

G_BEGIN_DECLS

typedef struct {
  SfStream *stream;
  SfArena *arena;
  GError *error;
} SfGraph;

void sf_graph_init (SfGraph *graph, SfStream *stream, SfArena *arena);
/* Returns FALSE and moves the first error to @error if any step failed. */
gboolean sf_graph_finish (SfGraph *graph, GError **error);
gboolean sf_graph_ok (const SfGraph *graph);
/* Records @error as the graph's error (if it has none) and frees it. */
void sf_graph_fail (SfGraph *graph, GError *error);

/* A new f32 activation tensor. */
SfTensor *sf_graph_new (SfGraph *graph, int ndim, const int64_t *shape);
/* A new f32 tensor shaped like @like, with the last dimension @last. */
SfTensor *sf_graph_new_like (SfGraph *graph, const SfTensor *like, int64_t last);

/* Ops that make their output. Inputs may be NULL only after an error. */
SfTensor *sf_graph_linear (SfGraph *graph, const SfTensor *x, const SfTensor *w,
                           const SfTensor *bias, const SfTensor *residual);
SfTensor *sf_graph_linear_geglu (SfGraph *graph, const SfTensor *x, const SfTensor *w,
                                 const SfTensor *bias);
/* stride 1: same size ("same" padding for odd kernels); stride 2: halves
 * with padding k/2 (the UNet's downsample). */
SfTensor *sf_graph_conv (SfGraph *graph, const SfTensor *x, const SfTensor *w,
                         const SfTensor *bias, const SfTensor *residual, int stride);
SfTensor *sf_graph_group_norm (SfGraph *graph, const SfTensor *x, const SfTensor *gamma,
                               const SfTensor *beta, float eps, gboolean silu);
SfTensor *sf_graph_layer_norm (SfGraph *graph, const SfTensor *x, const SfTensor *gamma,
                               const SfTensor *beta, float eps);
SfTensor *sf_graph_activation (SfGraph *graph, SfActivation act, const SfTensor *x);
SfTensor *sf_graph_attention (SfGraph *graph, const SfTensor *q, const SfTensor *k,
                              const SfTensor *v, int heads, gboolean causal);
SfTensor *sf_graph_add (SfGraph *graph, const SfTensor *a, const SfTensor *b);
SfTensor *sf_graph_concat_last (SfGraph *graph, const SfTensor *a, const SfTensor *b);
SfTensor *sf_graph_upsample2x (SfGraph *graph, const SfTensor *x);
SfTensor *sf_graph_timestep_embedding (SfGraph *graph, const SfTensor *timesteps, int dim);

/* Records an op that writes into an existing tensor (in place). */
void sf_graph_add_into (SfGraph *graph, SfTensor *a, const SfTensor *b);

G_END_DECLS
