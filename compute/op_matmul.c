/* Matrix products: linear layers (packed weights, any leading dims), the
 * fused GEGLU projection, and the plain batched product. */
#include "op_gemm.h"

/* Leading dims of @a and @out equal, last dims @k and @n; M their product. */
static gboolean
check_rows (const char *op, const SfTensor *a, const SfTensor *out, int64_t k, int64_t n,
            int64_t *m, GError **error)
{
  if (!sf_op_check_tensor (op, "a", a, -1, SF_DTYPE_F32, error)
      || !sf_op_check_tensor (op, "out", out, a ? a->ndim : -1, SF_DTYPE_F32, error))
    return FALSE;
  gboolean ok = a->shape[a->ndim - 1] == k && out->shape[out->ndim - 1] == n;
  for (int i = 0; i + 1 < a->ndim; i++)
    ok = ok && a->shape[i] == out->shape[i];
  if (!ok)
    {
      g_autofree char *ta = sf_tensor_describe (a);
      g_autofree char *tout = sf_tensor_describe (out);
      return sf_op_fail (error, op, "a %s and out %s do not fit a weight of %" G_GINT64_FORMAT
                         " outputs x %" G_GINT64_FORMAT " inputs", ta, tout, n, k);
    }
  *m = sf_tensor_numel (a) / MAX (k, 1);
  return TRUE;
}

static gboolean
check_vector (const char *op, const char *what, const SfTensor *t, int64_t length,
              GError **error)
{
  if (!t)
    return TRUE;
  if (!sf_op_check_tensor (op, what, t, -1, SF_DTYPE_F32, error))
    return FALSE;
  if (sf_tensor_numel (t) != length || t->layout != SF_LAYOUT_ROW_MAJOR)
    {
      g_autofree char *text = sf_tensor_describe (t);
      return sf_op_fail (error, op, "%s is %s; expected %" G_GINT64_FORMAT " values", what, text,
                         length);
    }
  return TRUE;
}

static gboolean
check_residual (const char *op, const SfTensor *residual, const SfTensor *out, GError **error)
{
  if (!residual)
    return TRUE;
  if (!sf_op_check_tensor (op, "residual", residual, -1, SF_DTYPE_F32, error)
      || !sf_op_check_same_shape (op, residual, out, error))
    return FALSE;
  if (residual->memory.buffer == out->memory.buffer
      && residual->memory.offset < out->memory.offset + sf_tensor_bytes (out)
      && out->memory.offset < residual->memory.offset + sf_tensor_bytes (residual))
    return sf_op_fail (error, op, "residual may not alias out");
  return TRUE;
}

static gboolean
check_weight_dtype (const char *op, const SfTensor *w, GError **error)
{
  if (w->dtype != SF_DTYPE_F32 && w->dtype != SF_DTYPE_F16)
    return sf_op_fail (error, op, "weights are f16 or f32, not %s", sf_dtype_name (w->dtype));
  return TRUE;
}

static gboolean record_batched (SfStream *stream, const SfTensor *a, const SfTensor *w,
                                const SfTensor *bias, const SfTensor *residual, SfTensor *out,
                                GError **error);

gboolean
sf_op_matmul (SfStream *stream, const SfTensor *a, const SfTensor *w, const SfTensor *bias,
              const SfTensor *residual, SfTensor *out, GError **error)
{
  if (!w || !a || !out)
    return sf_op_fail (error, "matmul", "a, w and out are required");
  if (!check_weight_dtype ("matmul", w, error))
    return FALSE;
  if (w->layout == SF_LAYOUT_ROW_MAJOR && w->ndim == 3)
    return record_batched (stream, a, w, bias, residual, out, error);
  if (w->layout != SF_LAYOUT_PACKED || w->ndim != 2)
    {
      g_autofree char *text = sf_tensor_describe (w);
      return sf_op_fail (error, "matmul", "w %s is neither a weight from sf_weight_new_linear "
                         "nor a plain [B, N, K] tensor", text);
    }
  int64_t n = w->shape[0], k = w->shape[1], m;
  if (!check_rows ("matmul", a, out, k, n, &m, error)
      || !check_vector ("matmul", "bias", bias, n, error)
      || !check_residual ("matmul", residual, out, error))
    return FALSE;
  SfGemm gemm = {
    .op = "matmul", .label = "matmul", .a = a, .w = w, .bias = bias, .residual = residual,
    .out = out, .m = m, .n = n, .k = k, .k4 = (k + 3) / 4, .blocks = (n + 7) / 8,
    .flops = 2.0 * (double) m * (double) n * (double) k,
  };
  return sf_gemm_record (stream, &gemm, error);
}

gboolean
sf_op_matmul_geglu (SfStream *stream, const SfTensor *a, const SfTensor *w,
                    const SfTensor *bias, SfTensor *out, GError **error)
{
  if (!w || !a || !out)
    return sf_op_fail (error, "matmul_geglu", "a, w and out are required");
  if (!check_weight_dtype ("matmul_geglu", w, error))
    return FALSE;
  if (w->layout != SF_LAYOUT_PACKED || w->ndim != 3 || w->shape[0] != 2)
    {
      g_autofree char *text = sf_tensor_describe (w);
      return sf_op_fail (error, "matmul_geglu", "w %s is not a weight from sf_weight_new_geglu",
                         text);
    }
  int64_t f = w->shape[1], k = w->shape[2], m;
  if (!check_rows ("matmul_geglu", a, out, k, f, &m, error)
      || !check_vector ("matmul_geglu", "bias", bias, 2 * f, error))
    return FALSE;
  SfGemm gemm = {
    .op = "matmul_geglu", .label = "matmul geglu", .a = a, .w = w, .bias = bias, .out = out,
    .m = m, .n = f, .k = k, .k4 = (k + 3) / 4, .blocks = 2 * ((f + 7) / 8), .geglu = TRUE,
    .flops = 2.0 * (double) m * (double) (2 * f) * (double) k,
  };
  return sf_gemm_record (stream, &gemm, error);
}

/* ---- batched: a [B, M, K] · w[b]ᵀ with w [B, N, K] plain ---------------- */

static const SfKernel MATMUL_BATCHED = { "matmul_batched", "uuuub", 5 * sizeof (uint32_t) };

static gboolean
record_batched (SfStream *stream, const SfTensor *a, const SfTensor *w, const SfTensor *bias,
                const SfTensor *residual, SfTensor *out, GError **error)
{
  const char *op = "matmul";
  if (!sf_op_check_tensor (op, "a", a, 3, SF_DTYPE_F32, error)
      || !sf_op_check_tensor (op, "out", out, 3, SF_DTYPE_F32, error))
    return FALSE;
  int64_t batch = w->shape[0], n = w->shape[1], k = w->shape[2], m = a->shape[1];
  if (a->shape[0] != batch || a->shape[2] != k || out->shape[0] != batch || out->shape[1] != m
      || out->shape[2] != n)
    {
      g_autofree char *ta = sf_tensor_describe (a);
      g_autofree char *tw = sf_tensor_describe (w);
      g_autofree char *tout = sf_tensor_describe (out);
      return sf_op_fail (error, op, "batched a %s, w %s and out %s do not fit [B,M,K] · "
                         "[B,N,K]ᵀ = [B,M,N]", ta, tw, tout);
    }
  if (!check_vector (op, "bias", bias, n, error) || !check_residual (op, residual, out, error))
    return FALSE;
  const SfDeviceInfo *info = sf_device_get_info (sf_stream_get_device (stream));
  if (sf_tensor_numel (out) > G_MAXINT32 / 2 || sf_tensor_numel (a) > G_MAXINT32 / 2
      || sf_tensor_numel (w) > G_MAXINT32 / 2
      || sf_tensor_bytes (out) > info->max_storage_buffer_range
      || k > sf_op_loop_limit (sf_stream_get_device (stream)))
    return sf_op_fail (error, op, "the batched product is too large for one dispatch on %s",
                       info->name);
  struct { uint32_t count, m, n, k, flags; } push = {
    (uint32_t) sf_tensor_numel (out), (uint32_t) m, (uint32_t) n, (uint32_t) k,
    (bias ? 1u : 0u) | (residual ? 2u : 0u),
  };
  SfBinding bindings[] = {
    sf_tensor_bind_texels (a, 1), sf_tensor_bind_texels (w, 1),
    sf_tensor_bind_texels (bias ? bias : a, 1), sf_tensor_bind_texels (residual ? residual : a, 1),
    sf_tensor_bind_buffer (out, TRUE),
  };
  SfDispatch dispatch = {
    .kernel = &MATMUL_BATCHED, .bindings = bindings, .push = &push, .label = "matmul batched",
    .flops = 2.0 * (double) batch * (double) m * (double) n * (double) k,
    .bytes = (double) (sf_tensor_bytes (a) + sf_tensor_bytes (w) + sf_tensor_bytes (out)),
  };
  sf_op_groups_1d (push.count, 64, dispatch.groups);
  return sf_stream_dispatch (stream, &dispatch, error);
}
