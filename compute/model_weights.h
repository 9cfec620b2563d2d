/* Loading a model's parameters from a checkpoint into device tensors.
 *
 * Names are the canonical checkpoint names (those of
 * sd_xl_base_1.0.safetensors), formatted printf-style. Like SfGraph, the
 * loader keeps the first error and returns NULL afterwards, so model code
 * loads its parameters as a plain list and checks once. */
#pragma once

#include "checkpoint.h"
#include "ops.h"

G_BEGIN_DECLS

typedef struct {
  SfCheckpoint *checkpoint;  /* borrowed */
  SfArena *arena;            /* where the tensors go */
  SfDType matrix_dtype;      /* linear/conv weights: f16 or f32 */
  GError *error;
  guint64 bytes;             /* uploaded so far */
  GPtrArray *tensors;        /* every tensor loaded; the model steals it to free them */
} SfWeightLoader;

void sf_weight_loader_init (SfWeightLoader *loader, SfCheckpoint *checkpoint, SfArena *arena,
                            SfDType matrix_dtype);
/* Moves the first error (if any) to @error. The loaded tensors stay in
 * loader->tensors either way, for the model to take (g_steal_pointer) and
 * free with itself. */
gboolean sf_weight_loader_finish (SfWeightLoader *loader, GError **error);
/* Adds a tensor made outside the sf_load_* functions to the loader's list
 * and byte count. Returns: @tensor. */
SfTensor *sf_weight_loader_keep (SfWeightLoader *loader, SfTensor *tensor);

gboolean sf_weight_exists (SfWeightLoader *loader, const char *format, ...) G_GNUC_PRINTF (2, 3);

/* NAME.weight as a linear layer [N, K] (a 1×1 convolution [N, K, 1, 1]
 * loads the same way). */
SfTensor *sf_load_linear (SfWeightLoader *loader, const char *format, ...) G_GNUC_PRINTF (2, 3);
/* Rows @first .. @first+@count-1 of the matrix NAME (the full tensor name:
 * OpenCLIP's fused q,k,v is "...attn.in_proj_weight"), as a linear layer. */
SfTensor *sf_load_matrix_rows (SfWeightLoader *loader, int64_t first, int64_t count,
                               const char *format, ...) G_GNUC_PRINTF (4, 5);
/* NAME.weight [2F, K] for sf_op_matmul_geglu. */
SfTensor *sf_load_geglu (SfWeightLoader *loader, const char *format, ...) G_GNUC_PRINTF (2, 3);
/* NAME.weight [Cout, Cin, kh, kw]. */
SfTensor *sf_load_conv (SfWeightLoader *loader, const char *format, ...) G_GNUC_PRINTF (2, 3);
/* The whole tensor NAME as f32, any shape (biases, norm parameters,
 * embeddings used by value). */
SfTensor *sf_load_vector (SfWeightLoader *loader, const char *format, ...) G_GNUC_PRINTF (2, 3);
/* Elements @first .. @first+@count-1 of the 1-D tensor NAME, as f32. */
SfTensor *sf_load_vector_range (SfWeightLoader *loader, int64_t first, int64_t count,
                                const char *format, ...) G_GNUC_PRINTF (4, 5);
/* NAME as a plain [V, D] table in matrix_dtype (token embeddings). */
SfTensor *sf_load_table (SfWeightLoader *loader, const char *format, ...) G_GNUC_PRINTF (2, 3);
/* NAME as float32 host memory; shape in @shape (4 entries, unused = 1).
 * Returns: (transfer full) g_free() it. */
float *sf_load_host (SfWeightLoader *loader, int *ndim, int64_t shape[4], const char *format,
                     ...) G_GNUC_PRINTF (4, 5);

/* The shape of NAME, or FALSE (without an error) when absent. */
gboolean sf_weight_shape (SfWeightLoader *loader, int *ndim, int64_t shape[4],
                          const char *format, ...) G_GNUC_PRINTF (4, 5);

G_END_DECLS
