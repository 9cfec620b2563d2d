/* The GEMM engine under sf_op_matmul, sf_op_matmul_geglu and sf_op_conv2d
 * (a convolution is an implicit GEMM over NHWC). Not part of the API.
 *
 * Packed weights ("w8k4", SF_LAYOUT_PACKED, made by compute/weights.c)
 * ------------------------------------------------------------------
 * A weight W [N, K] (N output columns, K reduction) is stored as blocks of
 * 8 columns; inside a block, K runs in texels of 4 values:
 *
 *     element (n, k) → component k % 4 of texel ((n / 8) * K4 + k / 4) * 8 + n % 8
 *
 * with K4 = ceil(K / 4) and N rounded up to a multiple of 8; padding is
 * zero. 8 consecutive texels (128 bytes in f32) hold 4 K values of 8
 * neighbouring columns: one texel fetch of 8 lanes on a CPU device, one
 * coalesced read on a GPU. The layout does not depend on any tile size,
 * so every kernel variant reads the same weights.
 * - Linear [N, K]: tensor shape [N, K].
 * - GEGLU [2F, K] (value rows, then gate rows): blocks alternate, block
 *   2b holds value columns 8b..8b+7 and block 2b+1 the gate columns of the
 *   same f; tensor shape [2, F, K].
 * - Convolution [Cout, Cin, kh, kw] (torch): K is ordered tap, then
 *   channel, with each tap's channels padded to Cin4 = ceil(Cin / 4)
 *   texels, so k = (ky * kw + kx) * Cin4 * 4 + c; tensor shape
 *   [Cout, kh, kw, Cin].
 *
 * Kernel variants (chosen per device; SFUMATO_KERNELS overrides)
 * --------------------------------------------------------------
 * - "cpu": register tiles over texel buffers (shaders/gemm_cpu.glsl) for
 *   CPU devices such as lavapipe; tile loops written for Mesa 22's loop
 *   unroller ("cpu-rolled") or with [[unroll]] for Mesa ≥ 23
 *   ("cpu-unrolled"), picked from the driver's version. They shuffle
 *   operands between the 8 lanes of a subgroup and read out-of-range
 *   texels as zero (conv padding), as lavapipe does; on devices with
 *   other subgroup sizes the GPU kernels run instead.
 * - "gpu": shared-memory tiles over storage buffers
 *   (shaders/gemm_gpu.glsl) for every other device. */
#pragma once

#include "op_common.h"

G_BEGIN_DECLS

typedef enum {
  SF_KERNELS_CPU_ROLLED,
  SF_KERNELS_CPU_UNROLLED,
  SF_KERNELS_GPU,
} SfKernelFamily;

typedef struct {
  SfKernelFamily family;
  int tile_rows;      /* CPU: rows per 8-lane chunk (TM) */
  int tile_blocks;    /* CPU: 8-column blocks per chunk (TN), even */
  int workgroup;      /* CPU: invocations per workgroup, a multiple of 8 */
  int k_step;         /* CPU: K texels per iteration of the K loop */
} SfKernelChoice;

/* The variant for @device and weights of @weight_dtype: SFUMATO_KERNELS
 * (cpu, cpu-rolled, cpu-unrolled, gpu) when set, else the device's kind
 * and driver version; CPU tiles from this CPU's features, or
 * SFUMATO_TILE=ROWSxBLOCKS[xWORKGROUP[xKSTEP]]. */
void sf_kernels_choose (SfDevice *device, SfDType weight_dtype, SfKernelChoice *choice);

/* "cpu-rolled, tile 32x8, workgroup 32, 1 texel per K step" (benchmarks
 * print what they measured). Returns: (transfer full). */
char *sf_kernels_describe (SfDevice *device, SfDType weight_dtype);

/* One GEMM: out[m, n] = Σ_k A[m, k] W[n, k] (+ bias) (+ residual), or the
 * GEGLU form, where A's rows are rows of @a (matmul) or the receptive
 * fields of output pixels over the image @a (conv). */
typedef struct {
  const char *op;               /* for messages: "matmul", "conv2d" */
  const char *label;            /* profile row */
  const SfTensor *a;            /* f32: rows [M, K] or image [N, H, W, Cin] */
  const SfTensor *w;            /* packed, see above */
  const SfTensor *bias;         /* f32 [N] ([2F] for GEGLU) or NULL */
  const SfTensor *residual;     /* f32, out's shape, or NULL */
  SfTensor *out;                /* f32 [M, N] */
  int64_t m;                    /* output rows (pixels) */
  int64_t n;                    /* output columns (F for GEGLU) */
  int64_t k;                    /* values per A row (matmul) or channels per pixel (conv) */
  int64_t k4;                   /* weight texels per tap: ceil(k / 4) */
  int64_t blocks;               /* 8-column blocks in the packed weight */
  gboolean geglu;
  gboolean conv;
  int in_h, in_w, out_h, out_w, kh, kw, stride, pad_top, pad_left;   /* conv only */
  double flops;
} SfGemm;

gboolean sf_gemm_record (SfStream *stream, const SfGemm *gemm, GError **error);

/* ---- shared by the hot-kernel recorders ---- */

typedef struct {
  VkDeviceSize align;           /* binding offsets */
  VkDeviceSize max_buffer;      /* maxStorageBufferRange */
  VkDeviceSize max_texels;      /* maxTexelBufferElements */
  uint32_t max_groups;          /* maxComputeWorkGroupCount[0..1] */
} SfOpLimits;

/* The device's limits; SFUMATO_MAX_BINDING_BYTES (≥ 1024) lowers the
 * binding sizes so that tests can exercise the splitting of large work. */
void sf_op_get_limits (SfDevice *device, SfOpLimits *limits);

/* The most loop iterations one shader invocation may run on @device
 * (llvmpipe stops an invocation after 65535, all loops together). */
int64_t sf_op_loop_limit (SfDevice *device);

/* Elements [first, first + count) of the f32 tensor @t, bound from an
 * aligned offset at or before them, in texels of @texel_elems values
 * (@format: the texel format, VK_FORMAT_UNDEFINED for a storage buffer).
 * Element e is then at texel e / texel_elems - *@first_texel of the
 * binding. */
SfBinding sf_op_window (const SfTensor *t, int64_t first, int64_t count, int texel_elems,
                        VkFormat format, gboolean writes, VkDeviceSize align,
                        int64_t *first_texel);

G_END_DECLS
