/* The op library: each op is one shader (shaders/NAME.comp) and one
 * recorder here that checks its tensors and appends a dispatch to a stream.
 * Outputs are allocated by the caller; activations are float32, NHWC. */
#pragma once

#include "tensor.h"

G_BEGIN_DECLS

/* out[i] = value. out: f32, any shape. */
gboolean sf_op_fill (SfStream *stream, SfTensor *out, float value, GError **error);

/* out = src converted to out's dtype (f32 <-> f16); same shape. */
gboolean sf_op_convert (SfStream *stream, const SfTensor *src, SfTensor *out, GError **error);

G_END_DECLS
