/* Token embedding lookup and the sinusoidal timestep embedding. */
#include "op_support.h"

#include <math.h>

static const SfKernel EMBEDDING_VEC4 = { "embedding@vec4", "uub", 32 };
static const SfKernel EMBEDDING_SCALAR = { "embedding@scalar", "uub", 32 };
static const SfKernel TIMESTEP_EMBEDDING = { "timestep_embedding", "ub", 24 };

gboolean
sf_op_embedding (SfStream *stream, const SfTensor *table, const SfTensor *ids, SfTensor *out,
                 GError **error)
{
  const char *op = "embedding";
  if (!table || !ids)
    return sf_op_fail (error, op, "%s is missing", table ? "ids" : "table");
  g_autofree char *tt = sf_tensor_describe (table);
  g_autofree char *ti = sf_tensor_describe (ids);
  if (table->ndim != 2 || (table->dtype != SF_DTYPE_F32 && table->dtype != SF_DTYPE_F16)
      || table->layout != SF_LAYOUT_ROW_MAJOR)
    return sf_op_fail (error, op, "table %s must be a plain f32 or f16 matrix [V, D]", tt);
  if (ids->dtype != SF_DTYPE_I32)
    return sf_op_fail (error, op, "ids %s must be i32", ti);
  if (!sf_op_check_f32 (op, "out", out, error)
      || !sf_op_check_no_overlap (op, "out", out, "table", table, FALSE, error)
      || !sf_op_check_no_overlap (op, "out", out, "ids", ids, FALSE, error))
    return FALSE;
  /* ids [T] (or any shape) → out [T, D] (that shape plus D). */
  gboolean ok = out->ndim == ids->ndim + 1 && out->shape[out->ndim - 1] == table->shape[1];
  for (int i = 0; i < ids->ndim && ok; i++)
    ok = out->shape[i] == ids->shape[i];
  if (!ok)
    {
      g_autofree char *to = sf_tensor_describe (out);
      return sf_op_fail (error, op, "out %s must be ids %s with table %s's row size D appended",
                         to, ti, tt);
    }
  if (table->shape[0] > G_MAXINT32 || (uint64_t) sf_tensor_numel (table) > G_MAXUINT32)
    return sf_op_fail (error, op, "table %s is too large to index", tt);
  if (sf_tensor_numel (out) == 0)
    return TRUE;
  guint width = table->shape[1] % 4 == 0 ? 4 : 1;
  struct {
    SfDivisor row;
    uint32_t vocabulary, pad, count, first;
  } push = {
    sf_op_divisor ((uint32_t) (table->shape[1] / width)), (uint32_t) table->shape[0], 0, 0, 0,
  };
  SfOpMap map = {
    .op = op, .kernel = width == 4 ? &EMBEDDING_VEC4 : &EMBEDDING_SCALAR,
    .whole = { table, ids }, .whole_count = 2, .whole_width = { width, 1 }, .out = out,
    .width = width, .push = &push,
  };
  return sf_op_record_map (stream, &map, error);
}

gboolean
sf_op_timestep_embedding (SfStream *stream, const SfTensor *timesteps, gboolean flip_sin_to_cos,
                          float downscale_freq_shift, float max_period, SfTensor *out,
                          GError **error)
{
  const char *op = "timestep_embedding";
  if (!sf_op_check_f32 (op, "timesteps", timesteps, error)
      || !sf_op_check_f32 (op, "out", out, error)
      || !sf_op_check_tensor (op, "timesteps", timesteps, 1, SF_DTYPE_F32, error)
      || !sf_op_check_tensor (op, "out", out, 2, SF_DTYPE_F32, error)
      || !sf_op_check_no_overlap (op, "out", out, "timesteps", timesteps, FALSE, error))
    return FALSE;
  g_autofree char *tt = sf_tensor_describe (timesteps);
  g_autofree char *to = sf_tensor_describe (out);
  if (out->shape[0] != timesteps->shape[0])
    return sf_op_fail (error, op, "out %s must have one row per timestep of %s", to, tt);
  int64_t half = out->shape[1] / 2;
  /* diffusers computes half - shift in Python (double), then uses it as a
   * float32 divisor. */
  double denominator = (double) half - (double) downscale_freq_shift;
  if (half < 1 || !(denominator > 0) || !(max_period > 0) || !isfinite (max_period))
    return sf_op_fail (error, op, "needs dim >= 2 (out %s), dim/2 - downscale_freq_shift > 0 "
                       "(shift %g) and a positive max_period (%g)", to,
                       (double) downscale_freq_shift, (double) max_period);
  if (sf_tensor_numel (out) == 0)
    return TRUE;
  if ((uint64_t) sf_tensor_bytes (out) > sf_op_binding_limit (sf_stream_get_device (stream)))
    return sf_op_fail (error, op, "out %s is larger than one binding may be", to);
  struct {
    uint32_t batch, half_dim, dim, flip;
    float neg_log_period, denominator;
  } push = {
    (uint32_t) timesteps->shape[0], (uint32_t) half, (uint32_t) out->shape[1],
    flip_sin_to_cos ? 1 : 0, (float) -log ((double) max_period), (float) denominator,
  };
  SfBinding bindings[] = { sf_tensor_bind_texels (timesteps, 1), sf_tensor_bind_buffer (out, TRUE) };
  SfDispatch dispatch = {
    .kernel = &TIMESTEP_EMBEDDING, .bindings = bindings, .push = &push, .label = op,
    .bytes = (double) (sf_tensor_bytes (out) + sf_tensor_bytes (timesteps)),
  };
  return sf_op_grid (op, (uint64_t) timesteps->shape[0] * half, 64, dispatch.groups, error)
         && sf_stream_dispatch (stream, &dispatch, error);
}
