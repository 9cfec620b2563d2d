/* Elementwise ops: activations, GEGLU, broadcast add and multiply, scale.
 *
 * Each reads through texel views (4 floats per texel when the sizes allow,
 * else 1) and writes through a storage buffer. Outputs larger than one
 * storage-buffer binding may be are written in slices, one dispatch each. */
#include "op_support.h"

#include <string.h>

static const SfKernel ACTIVATION_VEC4 = { "activation@vec4", "tb", 8 };
static const SfKernel ACTIVATION_SCALAR = { "activation@scalar", "tb", 8 };
static const SfKernel SCALE_VEC4 = { "scale@vec4", "tb", 16 };
static const SfKernel SCALE_SCALAR = { "scale@scalar", "tb", 16 };
static const SfKernel GEGLU_VEC4 = { "geglu@vec4", "tb", 24 };
static const SfKernel GEGLU_SCALAR = { "geglu@scalar", "tb", 24 };
static const SfKernel ADD_VEC4 = { "add@vec4", "ttb", 72 };
static const SfKernel ADD_SCALAR = { "add@scalar", "ttb", 72 };
static const SfKernel MUL_VEC4 = { "mul@vec4", "ttb", 72 };
static const SfKernel MUL_SCALAR = { "mul@scalar", "ttb", 72 };

gboolean
sf_op_activation (SfStream *stream, SfActivation act, const SfTensor *x, SfTensor *out,
                  GError **error)
{
  if (!sf_op_check_f32 ("activation", "x", x, error)
      || !sf_op_check_f32 ("activation", "out", out, error)
      || !sf_op_check_same_shape ("activation", x, out, error)
      || !sf_op_check_no_overlap ("activation", "out", out, "x", x, TRUE, error))
    return FALSE;
  if ((int) act < SF_ACT_SILU || act > SF_ACT_QUICK_GELU)
    return sf_op_fail (error, "activation", "unknown activation %d", (int) act);
  if (sf_tensor_numel (out) == 0)
    return TRUE;
  gboolean vec4 = sf_tensor_numel (out) % 4 == 0;
  uint32_t spec = (uint32_t) act;
  struct { uint32_t count, first; } push = { 0 };
  SfOpMap map = {
    .op = "activation", .kernel = vec4 ? &ACTIVATION_VEC4 : &ACTIVATION_SCALAR,
    .spec = &spec, .spec_count = 1, .sliced = { x }, .sliced_count = 1, .out = out,
    .width = vec4 ? 4 : 1, .push = &push, .flops_per_element = 20,
  };
  return sf_op_record_map (stream, &map, error);
}

gboolean
sf_op_scale (SfStream *stream, const SfTensor *x, float scale, float shift, SfTensor *out,
             GError **error)
{
  if (!sf_op_check_f32 ("scale", "x", x, error)
      || !sf_op_check_f32 ("scale", "out", out, error)
      || !sf_op_check_same_shape ("scale", x, out, error)
      || !sf_op_check_no_overlap ("scale", "out", out, "x", x, TRUE, error))
    return FALSE;
  if (sf_tensor_numel (out) == 0)
    return TRUE;
  gboolean vec4 = sf_tensor_numel (out) % 4 == 0;
  struct { float scale, shift; uint32_t count, first; } push = { scale, shift, 0, 0 };
  SfOpMap map = {
    .op = "scale", .kernel = vec4 ? &SCALE_VEC4 : &SCALE_SCALAR,
    .sliced = { x }, .sliced_count = 1, .out = out,
    .width = vec4 ? 4 : 1, .push = &push, .flops_per_element = 2,
  };
  return sf_op_record_map (stream, &map, error);
}

gboolean
sf_op_geglu (SfStream *stream, const SfTensor *x, SfTensor *out, GError **error)
{
  const char *op = "geglu";
  if (!sf_op_check_f32 (op, "x", x, error) || !sf_op_check_f32 (op, "out", out, error)
      || !sf_op_check_no_overlap (op, "out", out, "x", x, FALSE, error))
    return FALSE;
  int last = x->ndim - 1;
  gboolean shapes_ok = x->ndim == out->ndim && x->shape[last] == 2 * out->shape[last];
  for (int i = 0; i < last && shapes_ok; i++)
    shapes_ok = x->shape[i] == out->shape[i];
  if (!shapes_ok)
    {
      g_autofree char *tx = sf_tensor_describe (x);
      g_autofree char *to = sf_tensor_describe (out);
      return sf_op_fail (error, op, "x %s must be out %s with the last dimension doubled", tx,
                         to);
    }
  if (sf_tensor_numel (out) == 0)
    return TRUE;
  SfDevice *device = sf_stream_get_device (stream);
  uint64_t half = (uint64_t) out->shape[last];
  uint64_t rows = (uint64_t) sf_tensor_numel (out) / half;
  guint width = half % 4 == 0 ? 4 : 1;
  if (!sf_op_check_texel_view (op, "x", x, width, error))
    return FALSE;
  uint64_t texels = half / width;
  uint64_t per = sf_op_units_per_binding (device, half * 4, sf_op_aligned_rows (half));
  if (per == 0)
    return sf_op_fail (error, op, "one row of out is larger than one binding may be");
  struct {
    SfDivisor half_width;
    uint32_t count, first_row;
  } push = { sf_op_divisor ((uint32_t) texels), 0, 0 };
  for (uint64_t first = 0; first < rows; first += per)
    {
      uint64_t count = MIN (per, rows - first);
      SfBinding bindings[] = {
        sf_tensor_bind_texels (x, width),
        sf_op_bind_bytes (out, first * half * 4, count * half * 4, TRUE),
      };
      push.count = (uint32_t) (count * texels);
      push.first_row = (uint32_t) first;
      SfDispatch dispatch = {
        .kernel = width == 4 ? &GEGLU_VEC4 : &GEGLU_SCALAR, .bindings = bindings, .push = &push,
        .label = op,
        .flops = 25.0 * (double) (count * half), .bytes = 12.0 * (double) (count * half),
      };
      if (!sf_op_grid (op, push.count, SF_OP_BLOCK, dispatch.groups, error)
          || !sf_stream_dispatch (stream, &dispatch, error))
        return FALSE;
    }
  return TRUE;
}

/* Merged view of a broadcast: dims innermost first, alternating between
 * dims b has (stride > 0) and dims it broadcasts (stride 0). */
typedef struct {
  int ndim;
  uint64_t size[SF_MAX_DIMS];
  uint64_t b_stride[SF_MAX_DIMS];
} Broadcast;

static gboolean
merge_broadcast (const char *op, const SfTensor *a, const SfTensor *b, Broadcast *merged,
                 GError **error)
{
  g_autofree char *ta = sf_tensor_describe (a);
  g_autofree char *tb = sf_tensor_describe (b);
  memset (merged, 0, sizeof *merged);
  /* b's extra leading dims, if any, must be 1. */
  for (int i = 0; i < b->ndim - a->ndim; i++)
    if (b->shape[i] != 1)
      return sf_op_fail (error, op, "b %s does not broadcast onto a %s", tb, ta);
  gboolean broadcast_prev = FALSE;
  uint64_t stride = 1;
  for (int i = a->ndim - 1; i >= 0; i--)
    {
      int j = i - (a->ndim - b->ndim);
      uint64_t size = (uint64_t) a->shape[i];
      uint64_t b_size = j >= 0 ? (uint64_t) b->shape[j] : 1;
      if (b_size != size && b_size != 1)
        return sf_op_fail (error, op, "b %s does not broadcast onto a %s (dimension %d)", tb, ta,
                           i);
      if (size == 1)
        continue;
      gboolean broadcast = b_size == 1;
      if (merged->ndim > 0 && broadcast == broadcast_prev)
        merged->size[merged->ndim - 1] *= size;
      else
        {
          merged->size[merged->ndim] = size;
          merged->b_stride[merged->ndim] = broadcast ? 0 : stride;
          merged->ndim++;
        }
      if (!broadcast)
        stride *= size;
      broadcast_prev = broadcast;
    }
  if (merged->ndim == 0)
    {
      merged->ndim = 1;
      merged->size[0] = 1;
      merged->b_stride[0] = 1;
    }
  return TRUE;
}

static gboolean
record_binary (SfStream *stream, const char *op, const SfKernel *vec4_kernel,
               const SfKernel *scalar_kernel, const SfTensor *a, const SfTensor *b,
               SfTensor *out, GError **error)
{
  Broadcast merged;
  if (!sf_op_check_f32 (op, "a", a, error) || !sf_op_check_f32 (op, "b", b, error)
      || !sf_op_check_f32 (op, "out", out, error)
      || !sf_op_check_same_shape (op, a, out, error)
      || !merge_broadcast (op, a, b, &merged, error)
      || !sf_op_check_no_overlap (op, "out", out, "a", a, TRUE, error)
      || !sf_op_check_no_overlap (op, "out", out, "b", b,
                                  sf_tensor_same_shape (a, b), error))
    return FALSE;
  if (sf_tensor_numel (out) == 0)
    return TRUE;
  gboolean vec4 = merged.b_stride[0] != 0 && merged.size[0] % 4 == 0;
  guint width = vec4 ? 4 : 1;
  struct {
    SfDivisor size[3];
    uint32_t b_stride[4];
    uint32_t count, first;
  } push = { 0 };
  for (int d = 0; d < merged.ndim; d++)
    {
      uint64_t size = d == 0 ? merged.size[0] / width : merged.size[d];
      if (d < 3)
        push.size[d] = sf_op_divisor ((uint32_t) size);
      /* In texels: the innermost dim (which b has when vec4) still steps
       * by 1; the others step by whole multiples of it. */
      push.b_stride[d] = (uint32_t) (d == 0 ? merged.b_stride[0] : merged.b_stride[d] / width);
    }
  uint32_t spec = (uint32_t) merged.ndim;
  if (!sf_op_check_texel_view (op, "b", b, width, error))
    return FALSE;
  SfOpMap map = {
    .op = op, .kernel = vec4 ? vec4_kernel : scalar_kernel, .spec = &spec, .spec_count = 1,
    .sliced = { a }, .sliced_count = 1, .whole = { b }, .whole_count = 1, .out = out, .width = width,
    .push = &push, .flops_per_element = 1,
  };
  return sf_op_record_map (stream, &map, error);
}

gboolean
sf_op_add (SfStream *stream, const SfTensor *a, const SfTensor *b, SfTensor *out,
           GError **error)
{
  return record_binary (stream, "add", &ADD_VEC4, &ADD_SCALAR, a, b, out, error);
}

gboolean
sf_op_mul (SfStream *stream, const SfTensor *a, const SfTensor *b, SfTensor *out,
           GError **error)
{
  return record_binary (stream, "mul", &MUL_VEC4, &MUL_SCALAR, a, b, out, error);
}
