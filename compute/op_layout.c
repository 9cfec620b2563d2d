/* Layout ops: nearest 2x upsampling, concatenation along the last dim,
 * permutation, copying into a window of a larger tensor.
 *
 * All are gathers: output-driven kernels that store four texels at a time
 * (except copy_into, which is driven by its input), reading through texel
 * views of 4 floats when the innermost sizes allow, else 1. Plain copies
 * (an identity permutation, a copy into a contiguous window) are buffer
 * copies instead. */
#include "op_support.h"

static const SfKernel UPSAMPLE_VEC4 = { "upsample_nearest2x@vec4", "tb", 48 };
static const SfKernel UPSAMPLE_SCALAR = { "upsample_nearest2x@scalar", "tb", 48 };
static const SfKernel UPSAMPLE_SPREAD = { "upsample_nearest2x@spread", "tb", 48 };
static const SfKernel CONCAT_VEC4 = { "concat_last@vec4", "ttb", 32 };
static const SfKernel CONCAT_SCALAR = { "concat_last@scalar", "ttb", 32 };
static const SfKernel PERMUTE_VEC4 = { "permute@vec4", "tb", 72 };
static const SfKernel PERMUTE_SCALAR = { "permute@scalar", "tb", 72 };
static const SfKernel COPY_INTO_VEC4 = { "copy_into@vec4", "tb", 40 };
static const SfKernel COPY_INTO_SCALAR = { "copy_into@scalar", "tb", 40 };
static const SfKernel COPY_WINDOW_VEC4 = { "copy_window@vec4", "tb", 28 };
static const SfKernel COPY_WINDOW_SCALAR = { "copy_window@scalar", "tb", 28 };

gboolean
sf_op_upsample_nearest2x (SfStream *stream, const SfTensor *x, SfTensor *out, GError **error)
{
  const char *op = "upsample_nearest2x";
  if (!sf_op_check_f32 (op, "x", x, error) || !sf_op_check_f32 (op, "out", out, error)
      || !sf_op_check_tensor (op, "x", x, 4, SF_DTYPE_F32, error)
      || !sf_op_check_no_overlap (op, "out", out, "x", x, FALSE, error))
    return FALSE;
  if (out->ndim != 4 || out->shape[0] != x->shape[0] || out->shape[1] != 2 * x->shape[1]
      || out->shape[2] != 2 * x->shape[2] || out->shape[3] != x->shape[3])
    {
      g_autofree char *tx = sf_tensor_describe (x);
      g_autofree char *to = sf_tensor_describe (out);
      return sf_op_fail (error, op, "out %s must be x %s with H and W doubled (NHWC)", to, tx);
    }
  if (sf_tensor_numel (out) == 0)
    return TRUE;
  struct {
    SfDivisor channels, width;
    uint32_t in_width, pad, count, first;
  } push = { .in_width = (uint32_t) x->shape[2] };
  /* Input-driven when C allows, in slices of whole input rows (n * H + y),
   * each covering two output rows; else (or when two output rows do not
   * fit in one binding) output-driven. */
  uint64_t quads_per_row = (uint64_t) x->shape[2] * x->shape[3] / 16;
  uint64_t out_row_bytes = 4 * (uint64_t) out->shape[2] * out->shape[3];
  uint64_t per = sf_op_units_per_binding (sf_stream_get_device (stream), 2 * out_row_bytes, 1);
  if (quads_per_row > 0)
    per = MIN (per, (uint64_t) G_MAXUINT32 / quads_per_row);
  if (x->shape[3] % 16 == 0 && per > 0)
    {
      uint64_t rows = (uint64_t) x->shape[0] * x->shape[1];
      if (!sf_op_check_texel_view (op, "x", x, 4, error))
        return FALSE;
      push.channels = sf_op_divisor ((uint32_t) (x->shape[3] / 16));
      push.width = sf_op_divisor ((uint32_t) x->shape[2]);
      for (uint64_t first = 0; first < rows; first += per)
        {
          uint64_t count = MIN (per, rows - first);
          push.count = (uint32_t) (count * quads_per_row);
          push.first = (uint32_t) first;
          SfBinding bindings[] = {
            sf_tensor_bind_texels (x, 4),
            sf_op_bind_bytes (out, first * 2 * out_row_bytes, count * 2 * out_row_bytes, TRUE),
          };
          SfDispatch dispatch = {
            .kernel = &UPSAMPLE_SPREAD, .bindings = bindings, .push = &push, .label = op,
            .bytes = 1.25 * (double) (count * 2 * out_row_bytes),
          };
          /* SF_OP_BLOCK texels per workgroup = SF_OP_BLOCK / 4 quads. */
          sf_op_groups_1d (push.count, SF_OP_BLOCK / 4, dispatch.groups);
          if (!sf_stream_dispatch (stream, &dispatch, error))
            return FALSE;
        }
      return TRUE;
    }
  guint width = x->shape[3] % 4 == 0 ? 4 : 1;
  push.channels = sf_op_divisor ((uint32_t) (x->shape[3] / width));
  push.width = sf_op_divisor ((uint32_t) out->shape[2]);
  SfOpMap map = {
    .op = op, .kernel = width == 4 ? &UPSAMPLE_VEC4 : &UPSAMPLE_SCALAR,
    .whole = { x }, .whole_count = 1, .out = out, .width = width, .push = &push,
  };
  return sf_op_record_map (stream, &map, error);
}

gboolean
sf_op_concat_last (SfStream *stream, const SfTensor *a, const SfTensor *b, SfTensor *out,
                   GError **error)
{
  const char *op = "concat_last";
  if (!sf_op_check_f32 (op, "a", a, error) || !sf_op_check_f32 (op, "b", b, error)
      || !sf_op_check_f32 (op, "out", out, error)
      || !sf_op_check_no_overlap (op, "out", out, "a", a, FALSE, error)
      || !sf_op_check_no_overlap (op, "out", out, "b", b, FALSE, error))
    return FALSE;
  int last = out->ndim - 1;
  gboolean ok = a->ndim == out->ndim && b->ndim == out->ndim
                && out->shape[last] == a->shape[last] + b->shape[last];
  for (int i = 0; i < last && ok; i++)
    ok = a->shape[i] == out->shape[i] && b->shape[i] == out->shape[i];
  if (!ok)
    {
      g_autofree char *ta = sf_tensor_describe (a);
      g_autofree char *tb = sf_tensor_describe (b);
      g_autofree char *to = sf_tensor_describe (out);
      return sf_op_fail (error, op, "out %s must be a %s and b %s joined along the last "
                         "dimension", to, ta, tb);
    }
  if (sf_tensor_numel (out) == 0)
    return TRUE;
  if (a->shape[last] == 0 || b->shape[last] == 0)
    {
      /* One side is empty: a copy of the other. */
      const SfTensor *src = a->shape[last] ? a : b;
      return sf_stream_copy (stream, src->memory.buffer, src->memory.offset, out->memory.buffer,
                             out->memory.offset, sf_tensor_bytes (out), error);
    }
  guint width = a->shape[last] % 4 == 0 && b->shape[last] % 4 == 0 ? 4 : 1;
  struct {
    SfDivisor out_channels;
    uint32_t a_channels, b_channels, count, first;
  } push = {
    sf_op_divisor ((uint32_t) (out->shape[last] / width)),
    (uint32_t) (a->shape[last] / width), (uint32_t) (b->shape[last] / width), 0, 0,
  };
  SfOpMap map = {
    .op = op, .kernel = width == 4 ? &CONCAT_VEC4 : &CONCAT_SCALAR,
    .whole = { a, b }, .whole_count = 2, .out = out, .width = width, .push = &push,
  };
  return sf_op_record_map (stream, &map, error);
}

gboolean
sf_op_permute (SfStream *stream, const SfTensor *x, const int *perm, SfTensor *out,
               GError **error)
{
  const char *op = "permute";
  if (!sf_op_check_f32 (op, "x", x, error) || !sf_op_check_f32 (op, "out", out, error)
      || !sf_op_check_no_overlap (op, "out", out, "x", x, FALSE, error))
    return FALSE;
  if (!perm)
    return sf_op_fail (error, op, "perm is missing");
  g_autofree char *tx = sf_tensor_describe (x);
  g_autofree char *to = sf_tensor_describe (out);
  gboolean seen[SF_MAX_DIMS] = { FALSE };
  for (int i = 0; i < x->ndim; i++)
    {
      if (perm[i] < 0 || perm[i] >= x->ndim || seen[perm[i]])
        return sf_op_fail (error, op, "perm is not a permutation of x %s's %d dimensions", tx,
                           x->ndim);
      seen[perm[i]] = TRUE;
    }
  gboolean ok = out->ndim == x->ndim;
  for (int i = 0; i < x->ndim && ok; i++)
    ok = out->shape[i] == x->shape[perm[i]];
  if (!ok)
    return sf_op_fail (error, op, "out %s is not x %s permuted", to, tx);
  if (sf_tensor_numel (out) == 0)
    return TRUE;

  /* x's strides, then out's dims (innermost first) as (size, x stride),
   * without dims of size 1, merging neighbours that are neighbours in x. */
  uint64_t x_stride[SF_MAX_DIMS];
  uint64_t s = 1;
  for (int i = x->ndim - 1; i >= 0; i--)
    {
      x_stride[i] = s;
      s *= (uint64_t) x->shape[i];
    }
  uint64_t size[SF_MAX_DIMS], stride[SF_MAX_DIMS];
  int ndim = 0;
  for (int i = out->ndim - 1; i >= 0; i--)
    {
      uint64_t n = (uint64_t) out->shape[i];
      if (n == 1)
        continue;
      if (ndim > 0 && x_stride[perm[i]] == stride[ndim - 1] * size[ndim - 1])
        size[ndim - 1] *= n;
      else
        {
          size[ndim] = n;
          stride[ndim] = x_stride[perm[i]];
          ndim++;
        }
    }
  if (ndim == 0 || (ndim == 1 && stride[0] == 1))
    return sf_stream_copy (stream, x->memory.buffer, x->memory.offset, out->memory.buffer,
                           out->memory.offset, sf_tensor_bytes (out), error);

  guint width = stride[0] == 1 && size[0] % 4 == 0 ? 4 : 1;
  struct {
    SfDivisor size[3];
    uint32_t stride[4];
    uint32_t count, first;
  } push = { 0 };
  for (int d = 0; d < ndim; d++)
    {
      if (d < 3)
        push.size[d] = sf_op_divisor ((uint32_t) (d == 0 ? size[0] / width : size[d]));
      /* In texels: dim 0 steps by 1 when vec4, the others by multiples of
       * x's innermost run, which dim 0 then holds. */
      push.stride[d] = (uint32_t) (d == 0 ? stride[0] : stride[d] / width);
    }
  uint32_t spec = (uint32_t) ndim;
  SfOpMap map = {
    .op = op, .kernel = width == 4 ? &PERMUTE_VEC4 : &PERMUTE_SCALAR,
    .spec = &spec, .spec_count = 1, .whole = { x }, .whole_count = 1, .out = out,
    .width = width, .push = &push,
  };
  return sf_op_record_map (stream, &map, error);
}

gboolean
sf_op_copy_into (SfStream *stream, const SfTensor *x, SfTensor *out, int dim, int64_t offset,
                 GError **error)
{
  const char *op = "copy_into";
  if (!sf_op_check_f32 (op, "x", x, error) || !sf_op_check_f32 (op, "out", out, error)
      || !sf_op_check_no_overlap (op, "out", out, "x", x, FALSE, error))
    return FALSE;
  g_autofree char *tx = sf_tensor_describe (x);
  g_autofree char *to = sf_tensor_describe (out);
  if (dim < 0 || dim >= out->ndim)
    return sf_op_fail (error, op, "dimension %d is not one of out %s's", dim, to);
  gboolean ok = x->ndim == out->ndim && offset >= 0
                && offset + x->shape[dim] <= out->shape[dim];
  for (int i = 0; i < out->ndim && ok; i++)
    ok = i == dim || x->shape[i] == out->shape[i];
  if (!ok)
    return sf_op_fail (error, op, "x %s does not fit in out %s at %" G_GINT64_FORMAT
                       " along dimension %d", tx, to, offset, dim);
  if (sf_tensor_numel (x) == 0)
    return TRUE;

  uint64_t outer = 1, inner = 1;
  for (int i = 0; i < dim; i++)
    outer *= (uint64_t) out->shape[i];
  for (int i = dim + 1; i < out->ndim; i++)
    inner *= (uint64_t) out->shape[i];
  uint64_t x_row = (uint64_t) x->shape[dim] * inner, out_row = (uint64_t) out->shape[dim] * inner;
  uint64_t start = (uint64_t) offset * inner;
  if (outer == 1 || x_row == out_row)
    return sf_stream_copy (stream, x->memory.buffer, x->memory.offset, out->memory.buffer,
                           out->memory.offset + start * 4, sf_tensor_bytes (x), error);

  guint width = x_row % 4 == 0 && out_row % 4 == 0 && start % 4 == 0 ? 4 : 1;
  x_row /= width;
  out_row /= width;
  start /= width;
  if (!sf_op_check_texel_view (op, "x", x, width, error))
    return FALSE;
  SfDevice *device = sf_stream_get_device (stream);
  /* Texels of out one binding may span, less the slack for starting on a
   * 16-byte boundary below the first texel written. */
  uint64_t limit = sf_op_binding_limit (device) / (4 * width);
  if (limit <= 4)
    return sf_op_fail (error, op, "the device's binding limit is too small");
  limit -= 4;
  /* Slices of whole rows of x when a row of out fits in a binding, else
   * pieces of one row at a time. */
  uint64_t piece = out_row <= limit ? (limit / out_row) * x_row : MIN (limit, x_row);
  struct {
    SfDivisor x_row;
    uint32_t out_row, offset, out_base, pad, count, first;
  } push = {
    sf_op_divisor ((uint32_t) x_row), (uint32_t) out_row, (uint32_t) start, 0, 0, 0, 0,
  };
  uint64_t total = (uint64_t) sf_tensor_numel (x) / width;
  for (uint64_t first = 0; first < total;)
    {
      uint64_t row = first / x_row, column = first % x_row;
      uint64_t count = MIN (piece, total - first);
      if (out_row > limit)
        count = MIN (count, x_row - column);   /* stay inside the row */
      uint64_t last = first + count - 1;
      uint64_t begin = row * out_row + start + column;
      uint64_t end = (last / x_row) * out_row + start + last % x_row + 1;
      uint64_t base = width == 4 ? begin : begin / 4 * 4;
      SfBinding bindings[] = {
        sf_tensor_bind_texels (x, width),
        sf_op_bind_bytes (out, base * 4 * width, (end - base) * 4 * width, TRUE),
      };
      push.out_base = (uint32_t) base;
      push.count = (uint32_t) count;
      push.first = (uint32_t) first;
      SfDispatch dispatch = {
        .kernel = width == 4 ? &COPY_INTO_VEC4 : &COPY_INTO_SCALAR, .bindings = bindings,
        .push = &push, .label = op, .bytes = 8.0 * (double) (count * width),
      };
      sf_op_groups_1d (count, SF_OP_BLOCK, dispatch.groups);
      if (!sf_stream_dispatch (stream, &dispatch, error))
        return FALSE;
      first += count;
    }
  return TRUE;
}

gboolean
sf_op_copy_window (SfStream *stream, const SfTensor *x, int dim, int64_t offset, SfTensor *out,
                   GError **error)
{
  const char *op = "copy_window";
  if (!sf_op_check_f32 (op, "x", x, error) || !sf_op_check_f32 (op, "out", out, error)
      || !sf_op_check_no_overlap (op, "out", out, "x", x, FALSE, error))
    return FALSE;
  g_autofree char *tx = sf_tensor_describe (x);
  g_autofree char *to = sf_tensor_describe (out);
  if (dim < 0 || dim >= x->ndim)
    return sf_op_fail (error, op, "dimension %d is not one of x %s's", dim, tx);
  gboolean ok = x->ndim == out->ndim && offset >= 0 && offset + out->shape[dim] <= x->shape[dim];
  for (int i = 0; i < x->ndim && ok; i++)
    ok = i == dim || x->shape[i] == out->shape[i];
  if (!ok)
    return sf_op_fail (error, op, "out %s is not a window of x %s at %" G_GINT64_FORMAT
                       " along dimension %d", to, tx, offset, dim);
  if (sf_tensor_numel (out) == 0)
    return TRUE;
  uint64_t inner = 1;
  for (int i = dim + 1; i < x->ndim; i++)
    inner *= (uint64_t) x->shape[i];
  uint64_t x_row = (uint64_t) x->shape[dim] * inner, out_row = (uint64_t) out->shape[dim] * inner;
  uint64_t start = (uint64_t) offset * inner;
  guint width = x_row % 4 == 0 && out_row % 4 == 0 && start % 4 == 0 ? 4 : 1;
  uint64_t count = (uint64_t) sf_tensor_numel (out) / width;
  if (!sf_op_check_texel_view (op, "x", x, width, error))
    return FALSE;
  if (sf_tensor_bytes (out) > sf_op_binding_limit (sf_stream_get_device (stream))
      || count > G_MAXUINT32 || x_row / width > G_MAXUINT32)
    return sf_op_fail (error, op, "out %s is larger than one binding", to);
  struct {
    SfDivisor out_row;
    uint32_t x_row, offset, count;
  } push = {
    sf_op_divisor ((uint32_t) (out_row / width)), (uint32_t) (x_row / width),
    (uint32_t) (start / width), (uint32_t) count,
  };
  SfBinding bindings[] = { sf_tensor_bind_texels (x, width), sf_tensor_bind_buffer (out, TRUE) };
  SfDispatch dispatch = {
    .kernel = width == 4 ? &COPY_WINDOW_VEC4 : &COPY_WINDOW_SCALAR,
    .bindings = bindings, .push = &push, .label = "copy_window",
    .bytes = (double) sf_tensor_bytes (out) * 2,
  };
  sf_op_groups_1d (count, 64, dispatch.groups);
  return sf_stream_dispatch (stream, &dispatch, error);
}
