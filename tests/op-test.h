/* Helpers for the op tests (test-op-*.c, test-ops-basic.c): tensors made
 * from host data, streams run to completion, results downloaded, and
 * shapes written as text for messages. */
#pragma once

#include "ops.h"
#include "sf-test.h"

G_BEGIN_DECLS

/* An f32 (or f16) tensor of @shape in @arena holding @data (NULL: left
 * uninitialised). Asserts on failure. */
SfTensor *op_test_tensor (SfArena *arena, SfDType dtype, int ndim, const int64_t *shape,
                          const float *data);
/* A tensor of the same shape and dtype as @like (uninitialised). */
SfTensor *op_test_tensor_like (SfArena *arena, const SfTensor *like);

/* Runs @stream once and asserts success. */
void op_test_run (SfStream *stream);

/* Downloads @tensor as float32. Returns: (transfer full). */
float *op_test_download (const SfTensor *tensor);

/* Product of @shape's @ndim entries. */
gsize op_test_numel (int ndim, const int64_t *shape);

/* "[2,3,4]" for messages. Returns: (transfer full). */
char *op_test_shape_text (int ndim, const int64_t *shape);

/* Sets SFUMATO_MAX_BINDING_BYTES so that ops slice their outputs into
 * many dispatches; 0 clears it. */
void op_test_limit_bindings (guint64 bytes);

G_END_DECLS
