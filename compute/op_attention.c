/* Fused attention with an online softmax: shaders/attention_cpu.comp
 * (texel buffers, head dimension split over the 8 lanes of a subgroup)
 * and shaders/attention_gpu.comp (shared-memory key blocks). */
#include "op_gemm.h"

#include <math.h>
#include <string.h>

typedef struct {
  int32_t sq, sk, heads, d4, row, causal, q_base, q_count, q_first, k_first, v_first, out_first,
          batch;
  float scale_log2e;
} AttentionPush;

/* CPU kernel shape for a head of @d4 texels: DT texels per lane, TM
 * queries per chunk (16 for heads up to 64 wide, 4 for the VAE's 512;
 * measured in bench/RESULTS.md). */
static void
cpu_tiles (int64_t d4, int *dt, int *tm)
{
  *dt = (int) ((d4 + 7) / 8);
  *tm = CLAMP (64 / *dt, 1, 16);
}

gboolean
sf_op_attention (SfStream *stream, const SfTensor *q, const SfTensor *k, const SfTensor *v,
                 int heads, float scale, gboolean causal, SfTensor *out, GError **error)
{
  const char *op = "attention";
  if (!sf_op_check_tensor (op, "q", q, 3, SF_DTYPE_F32, error)
      || !sf_op_check_tensor (op, "k", k, 3, SF_DTYPE_F32, error)
      || !sf_op_check_tensor (op, "v", v, 3, SF_DTYPE_F32, error)
      || !sf_op_check_tensor (op, "out", out, 3, SF_DTYPE_F32, error)
      || !sf_op_check_same_shape (op, q, out, error) || !sf_op_check_same_shape (op, k, v, error))
    return FALSE;
  const int64_t batch = q->shape[0], sq = q->shape[1], width = q->shape[2], sk = k->shape[1];
  if (k->shape[0] != batch || k->shape[2] != width)
    {
      g_autofree char *tq = sf_tensor_describe (q);
      g_autofree char *tk = sf_tensor_describe (k);
      return sf_op_fail (error, op, "q %s and k %s do not fit [B,Sq,H*D] and [B,Sk,H*D]", tq, tk);
    }
  if (heads < 1 || width % heads != 0 || (width / heads) % 4 != 0 || sk < 1)
    return sf_op_fail (error, op, "%d heads over width %" G_GINT64_FORMAT " with %" G_GINT64_FORMAT
                       " keys: the head size must be a multiple of 4 and there must be keys",
                       heads, width, sk);
  if (!isfinite (scale))
    return sf_op_fail (error, op, "the scale %g is not finite", scale);
  if (q->memory.offset % 16 || k->memory.offset % 16 || v->memory.offset % 16)
    return sf_op_fail (error, op, "q, k and v must start at 16-byte aligned offsets");
  if (out->memory.buffer == q->memory.buffer || out->memory.buffer == k->memory.buffer
      || out->memory.buffer == v->memory.buffer)
    {
      const SfTensor *inputs[] = { q, k, v };
      for (int i = 0; i < 3; i++)
        if (inputs[i]->memory.buffer == out->memory.buffer
            && inputs[i]->memory.offset < out->memory.offset + sf_tensor_bytes (out)
            && out->memory.offset < inputs[i]->memory.offset + sf_tensor_bytes (inputs[i]))
          return sf_op_fail (error, op, "out may not alias q, k or v");
    }
  if (sf_tensor_numel (q) >= G_MAXINT32 / 2 || sf_tensor_numel (k) >= G_MAXINT32 / 2)
    return sf_op_fail (error, op, "tensors of 2^30 elements or more are not supported");
  if (sq == 0 || batch == 0)
    return TRUE;

  SfDevice *device = sf_stream_get_device (stream);
  const SfDeviceInfo *info = sf_device_get_info (device);
  SfOpLimits limits;
  sf_op_get_limits (device, &limits);
  SfKernelChoice choice;
  sf_kernels_choose (device, SF_DTYPE_F32, &choice);
  /* The CPU kernel's reductions assume subgroups of 8 invocations. */
  const gboolean gpu = choice.family == SF_KERNELS_GPU || info->subgroup_size != 8;
  const int64_t d4 = width / heads / 4, row = width / 4;

  int dt, tm;
  cpu_tiles (d4, &dt, &tm);
  const int workgroup = 32;
  const int64_t per_group = gpu ? 64 : (int64_t) tm * (workgroup / 8);
  /* GPU: as many keys per block as shared memory holds (k and a v slice). */
  int64_t gpu_keys = MIN (32, (int64_t) info->shared_memory_bytes / (16 * (d4 + 16)));
  if (gpu && (gpu_keys < 1 || d4 > 128))
    return sf_op_fail (error, op, "a head of %" G_GINT64_FORMAT " values does not fit the "
                       "shared memory of %s", d4 * 4, info->name);
  /* Key blocks (CPU) or keys (GPU) are loop iterations of one invocation. */
  if ((gpu ? sk + sk / gpu_keys + 1 : sk / 8 + 2) > sf_op_loop_limit (device))
    return sf_op_fail (error, op, "%" G_GINT64_FORMAT " keys are more than %s can go through in "
                       "one shader invocation", sk, info->name);
  const uint32_t spec_cpu[3] = { (uint32_t) tm, (uint32_t) dt, (uint32_t) workgroup };
  const uint32_t spec_gpu[5] = { 0, 0, 0, (uint32_t) gpu_keys, (uint32_t) d4 };
  /* One CPU kernel for every Mesa: its loops carry [[unroll]]. Left to
   * Mesa 22's own choice it was as fast at D = 64 and 4x slower at D = 512,
   * whose loops stayed rolled and then ran into llvmpipe's limit of 65535
   * loop iterations per invocation on long sequences (wrong results). */
  SfKernel kernel = {
    gpu ? "attention_gpu" : "attention_cpu",
    gpu ? "bbbb" : "tttb", sizeof (AttentionPush),
  };
  const VkFormat format = gpu ? VK_FORMAT_UNDEFINED : VK_FORMAT_R32G32B32A32_SFLOAT;

  /* Queries per dispatch: q and out windows within one binding. */
  VkDeviceSize kv_bytes = (VkDeviceSize) (sk * width * 4) + limits.align;
  if (gpu ? kv_bytes > limits.max_buffer : kv_bytes / 16 > limits.max_texels)
    return sf_op_fail (error, op, "k and v of one batch (%" G_GUINT64_FORMAT " bytes) are larger "
                       "than one binding of %s may be", (guint64) kv_bytes, info->name);
  int64_t rows = MIN (sq, (int64_t) limits.max_groups * per_group);
  while ((VkDeviceSize) (rows * width * 4) + limits.align > limits.max_buffer && rows > per_group)
    rows = MAX (per_group, rows / 2 / per_group * per_group);
  if ((VkDeviceSize) (rows * width * 4) + limits.align > limits.max_buffer
      || (uint64_t) heads > limits.max_groups)
    return sf_op_fail (error, op, "%" G_GINT64_FORMAT " queries of width %" G_GINT64_FORMAT
                       " in %d heads do not fit the device's limits", rows, width, heads);

  for (int64_t b = 0; b < batch; b++)
    {
      int64_t k_first, v_first;
      SfBinding k_binding = sf_op_window (k, b * sk * width, sk * width, 4, format, FALSE,
                                          limits.align, &k_first);
      SfBinding v_binding = sf_op_window (v, b * sk * width, sk * width, 4, format, FALSE,
                                          limits.align, &v_first);
      for (int64_t q0 = 0; q0 < sq; q0 += rows)
        {
          int64_t count = MIN (rows, sq - q0), q_first, out_first;
          SfBinding bindings[4] = {
            sf_op_window (q, (b * sq + q0) * width, count * width, 4, format, FALSE,
                          limits.align, &q_first),
            k_binding, v_binding,
            sf_op_window (out, (b * sq + q0) * width, count * width, 1, VK_FORMAT_UNDEFINED,
                          TRUE, limits.align, &out_first),
          };
          AttentionPush push = {
            .sq = (int32_t) sq, .sk = (int32_t) sk, .heads = heads, .d4 = (int32_t) d4,
            .row = (int32_t) row, .causal = causal ? 1 : 0, .q_base = (int32_t) q0,
            .q_count = (int32_t) count, .q_first = (int32_t) q_first,
            .k_first = (int32_t) k_first, .v_first = (int32_t) v_first,
            .out_first = (int32_t) out_first, .batch = (int32_t) b,
            .scale_log2e = scale * 1.4426950408889634f,   /* log2(e): softmax via exp2 */
          };
          SfDispatch dispatch = {
            .kernel = &kernel, .spec = gpu ? spec_gpu : spec_cpu, .spec_count = gpu ? 5 : 3,
            .bindings = bindings, .push = &push,
            .groups = { (uint32_t) ((count + per_group - 1) / per_group), (uint32_t) heads,
                        gpu ? (uint32_t) ((d4 + 15) / 16) : 1 },
            .label = "attention",
            .flops = 4.0 * (double) count * (double) sk * (double) width,
            .bytes = (double) (2 * count + 2 * sk) * (double) width * 4,
          };
          if (!sf_stream_dispatch (stream, &dispatch, error))
            return FALSE;
        }
    }
  return TRUE;
}
