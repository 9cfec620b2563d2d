/* The GEMM recorder shared by matmul and conv2d: variant choice, limits,
 * splitting large outputs into several dispatches. See op_gemm.h. */
#include "op_gemm.h"
#include "vk_internal.h"

#include <stdio.h>
#include <string.h>

/* ---- variant choice ---------------------------------------------------- */

/* Mesa's major version from driverInfo ("Mesa 22.3.6 (LLVM 15.0.6)");
 * failing that from driverVersion, which newer Mesa fills with its own
 * version (22.3's lavapipe says 0.0.1). */
static int
mesa_major (const SfDeviceInfo *info)
{
  const char *mesa = strstr (info->driver_info, "Mesa ");
  int major = 0;
  if (mesa && sscanf (mesa + 5, "%d", &major) == 1)
    return major;
  return (int) VK_VERSION_MAJOR (info->driver_version);
}

/* Tiles by CPU. With AVX-512VL LLVM has 32 vector registers and a 32x8
 * tile, one texel per K step, measured best on Zen 5 (bench/RESULTS.md:
 * 16x8, 24x8, 24x10, 16x12, 16x16 and two texels per step were slower).
 * AVX2-only cores (Zen 3: 16 registers, a code-size cliff near 16 KiB of
 * hot loop, PERFORMANCE.md) get the smaller 16x8, about half the code;
 * not measured on such a core yet. */
static void
choose_cpu_tiles (SfDType weight_dtype, SfKernelChoice *choice)
{
  choice->tile_rows = 32;
  choice->tile_blocks = 8;
  choice->workgroup = 32;
  choice->k_step = 1;
#if defined(__x86_64__) || defined(__i386__)
  if (!__builtin_cpu_supports ("avx512vl"))
    choice->tile_rows = 16;
#endif
}

void
sf_kernels_choose (SfDevice *device, SfDType weight_dtype, SfKernelChoice *choice)
{
  const SfDeviceInfo *info = sf_device_get_info (device);
  const char *forced = g_getenv ("SFUMATO_KERNELS");
  gboolean unrolled = info->driver_id != VK_DRIVER_ID_MESA_LLVMPIPE || mesa_major (info) >= 23;
  if (forced && strcmp (forced, "gpu") == 0)
    choice->family = SF_KERNELS_GPU;
  else if (forced && strcmp (forced, "cpu-rolled") == 0)
    choice->family = SF_KERNELS_CPU_ROLLED;
  else if (forced && strcmp (forced, "cpu-unrolled") == 0)
    choice->family = SF_KERNELS_CPU_UNROLLED;
  else if ((forced && strcmp (forced, "cpu") == 0) || sf_device_is_cpu (device))
    choice->family = unrolled ? SF_KERNELS_CPU_UNROLLED : SF_KERNELS_CPU_ROLLED;
  else
    choice->family = SF_KERNELS_GPU;
  /* The CPU kernels shuffle rows between the 8 lanes of a subgroup; other
   * devices run the GPU kernels even when a CPU family is forced. */
  if (info->subgroup_size != 8)
    choice->family = SF_KERNELS_GPU;

  choose_cpu_tiles (weight_dtype, choice);
  const char *tile = g_getenv ("SFUMATO_TILE");
  int rows = 0, blocks = 0, workgroup = 0, k_step = 0;
  if (tile && sscanf (tile, "%dx%dx%dx%d", &rows, &blocks, &workgroup, &k_step) >= 2 && rows >= 1
      && rows <= 32 && blocks >= 2 && blocks <= 32 && blocks % 2 == 0)
    {
      choice->tile_rows = rows;
      choice->tile_blocks = blocks;
      if (workgroup >= 8 && workgroup <= 256 && workgroup % 8 == 0)
        choice->workgroup = workgroup;
      if (k_step >= 1 && k_step <= 8)
        choice->k_step = k_step;
    }
}

int64_t
sf_op_loop_limit (SfDevice *device)
{
  /* llvmpipe ends a shader invocation after 65535 loop iterations, all
   * loops together (LP_MAX_TGSI_LOOP_ITERATIONS); keep a margin. */
  if (sf_device_get_info (device)->driver_id == VK_DRIVER_ID_MESA_LLVMPIPE)
    return 60000;
  return G_MAXINT32;
}

char *
sf_kernels_describe (SfDevice *device, SfDType weight_dtype)
{
  SfKernelChoice choice;
  sf_kernels_choose (device, weight_dtype, &choice);
  if (choice.family == SF_KERNELS_GPU || sf_device_get_info (device)->subgroup_size != 8)
    return g_strdup ("gpu (shared-memory tiles of 64x64)");
  return g_strdup_printf ("%s, tile %dx%d, workgroup %d, %d texel%s per K step",
                          choice.family == SF_KERNELS_CPU_ROLLED ? "cpu-rolled" : "cpu-unrolled",
                          choice.tile_rows, choice.tile_blocks * 8, choice.workgroup,
                          choice.k_step, choice.k_step > 1 ? "s" : "");
}

/* ---- bindings over windows of a tensor -------------------------------- */

void
sf_op_get_limits (SfDevice *device, SfOpLimits *limits)
{
  VkPhysicalDeviceProperties props;
  vkGetPhysicalDeviceProperties (device->physical, &props);
  limits->align = MAX (16, MAX (props.limits.minStorageBufferOffsetAlignment,
                                props.limits.minTexelBufferOffsetAlignment));
  limits->max_buffer = props.limits.maxStorageBufferRange;
  limits->max_texels = props.limits.maxTexelBufferElements;
  limits->max_groups = MIN (props.limits.maxComputeWorkGroupCount[0],
                            props.limits.maxComputeWorkGroupCount[1]);
  /* Tests make the splitting of large outputs happen at small sizes. */
  const char *smaller = g_getenv ("SFUMATO_MAX_BINDING_BYTES");
  if (smaller && g_ascii_strtoull (smaller, NULL, 10) >= 1024)
    {
      VkDeviceSize bytes = g_ascii_strtoull (smaller, NULL, 10);
      limits->max_buffer = MIN (limits->max_buffer, bytes);
      limits->max_texels = MIN (limits->max_texels, bytes / 4);
    }
}

SfBinding
sf_op_window (const SfTensor *t, int64_t first, int64_t count, int texel_elems, VkFormat format,
        gboolean writes, VkDeviceSize align, int64_t *first_texel)
{
  VkDeviceSize texel_bytes = 4 * (VkDeviceSize) texel_elems;
  VkDeviceSize begin = t->memory.offset + (VkDeviceSize) first * 4;
  VkDeviceSize end = t->memory.offset + (VkDeviceSize) (first + count) * 4;
  begin -= begin % align;
  end = begin + (end - begin + texel_bytes - 1) / texel_bytes * texel_bytes;
  *first_texel = ((int64_t) begin - (int64_t) t->memory.offset) / (int64_t) texel_bytes;
  return (SfBinding) { t->memory.buffer, begin, end - begin, format, writes };
}

static VkDeviceSize
window_bytes (int64_t count, VkDeviceSize align)
{
  return (VkDeviceSize) count * 4 + align;
}

/* A small read-only binding standing in for an absent bias or residual. */
static SfBinding
dummy (const SfTensor *w, gboolean buffer)
{
  return (SfBinding) { w->memory.buffer, w->memory.offset, 16,
                       buffer ? VK_FORMAT_UNDEFINED : VK_FORMAT_R32_SFLOAT, FALSE };
}

/* ---- recording --------------------------------------------------------- */

typedef struct {
  int32_t m, m_base, n, blocks, k4, k, a_first, out_first, res_first, flags;
  int32_t h, w, ho, wo, kh, kw, stride, pad_top, pad_left;
} GemmPush;

/* The input pixels (conv) or rows (matmul) that output rows
 * [m0, m0 + count) read, as elements of @a. */
static void
input_window (const SfGemm *g, int64_t m0, int64_t count, int64_t *first, int64_t *elems)
{
  if (!g->conv)
    {
      *first = m0 * g->k;
      *elems = count * g->k;
      return;
    }
  int64_t plane = (int64_t) g->out_h * g->out_w;
  int64_t m1 = m0 + count - 1;
  int64_t img0 = m0 / plane, oy0 = m0 % plane / g->out_w;
  int64_t img1 = m1 / plane, oy1 = m1 % plane / g->out_w;
  int64_t lo = CLAMP (oy0 * g->stride - g->pad_top, 0, g->in_h - 1);
  int64_t hi = CLAMP (oy1 * g->stride - g->pad_top + g->kh - 1, 0, g->in_h - 1);
  int64_t begin = (img0 * g->in_h + lo) * g->in_w;
  int64_t end = MAX ((img1 * g->in_h + hi + 1) * g->in_w, begin + 1);
  *first = begin * g->k;
  *elems = (end - begin) * g->k;
}

static const char *
shader_name (const SfGemm *g, const SfKernelChoice *choice, gboolean scalar)
{
  /* [family][conv][f16][scalar] */
  static const char *const names[3][2][2][2] = {
    { { { "matmul_cpu@f32", "matmul_cpu@f32s" }, { "matmul_cpu@f16", "matmul_cpu@f16s" } },
      { { "conv2d_cpu@f32", "conv2d_cpu@f32s" }, { "conv2d_cpu@f16", "conv2d_cpu@f16s" } } },
    { { { "matmul_cpu@f32u", "matmul_cpu@f32su" }, { "matmul_cpu@f16u", "matmul_cpu@f16su" } },
      { { "conv2d_cpu@f32u", "conv2d_cpu@f32su" }, { "conv2d_cpu@f16u", "conv2d_cpu@f16su" } } },
    { { { "matmul_gpu@f32", "matmul_gpu@f32s" }, { "matmul_gpu@f16", "matmul_gpu@f16s" } },
      { { "conv2d_gpu@f32", "conv2d_gpu@f32s" }, { "conv2d_gpu@f16", "conv2d_gpu@f16s" } } },
  };
  return names[choice->family][g->conv ? 1 : 0][g->w->dtype == SF_DTYPE_F16 ? 1 : 0]
              [scalar ? 1 : 0];
}

/* The GPU kernel's fixed tile (shaders/gemm_gpu.glsl). */
#define GPU_TILE 64
#define GPU_INVOCATIONS 256
#define GPU_SHARED_BYTES (2 * 16 * (GPU_TILE + 1) * 4)

static gboolean
record (SfStream *stream, const SfGemm *g, const SfKernelChoice *choice, const SfOpLimits *limits,
        GError **error)
{
  const SfDeviceInfo *info = sf_device_get_info (sf_stream_get_device (stream));
  /* The CPU kernel shuffles A between the 8 lanes of a subgroup. */
  const gboolean gpu = choice->family == SF_KERNELS_GPU || info->subgroup_size != 8;
  /* Rows of A (or pixels) are read as vec4 when they are whole texels. */
  const gboolean scalar = g->k % 4 != 0 || g->a->memory.offset % 16 != 0;
  const int a_texel = scalar ? 1 : 4;
  SfKernel kernel = { shader_name (g, choice, scalar), gpu ? "bbbbb" : "ttttb",
                      sizeof (GemmPush) };
  const int tm = gpu ? GPU_TILE : choice->tile_rows;
  const int64_t blocks_per_group = gpu ? GPU_TILE / 8
                                   : (int64_t) choice->tile_blocks * (choice->workgroup / 8);
  const int64_t groups_x = (g->blocks + blocks_per_group - 1) / blocks_per_group;
  const int64_t taps = g->conv ? (int64_t) g->kh * g->kw : 1;
  const VkDeviceSize w_bytes = (VkDeviceSize) (g->blocks * taps * g->k4 * 32)
                               * sf_dtype_size (g->w->dtype);

  if (gpu && (info->shared_memory_bytes < GPU_SHARED_BYTES
              || info->max_workgroup_invocations < GPU_INVOCATIONS))
    return sf_op_fail (error, g->op, "%s has too little shared memory (%u bytes) or too small "
                       "workgroups (%u invocations) for the GPU kernels", info->name,
                       info->shared_memory_bytes, info->max_workgroup_invocations);
  /* Iterations of the K loops (and the tap loop) of one invocation. */
  const int64_t iterations = gpu ? (taps * g->k4 + 3) / 4
                                 : taps * (g->k4 / choice->k_step + choice->k_step + 1);
  if (iterations > sf_op_loop_limit (sf_stream_get_device (stream)))
    return sf_op_fail (error, g->op, "a reduction over %" G_GINT64_FORMAT " values is longer "
                       "than %s can run in one shader invocation", taps * g->k, info->name);
  if (groups_x > limits->max_groups)
    return sf_op_fail (error, g->op, "%" G_GINT64_FORMAT " output columns are more than this "
                       "device's %u workgroups can cover", g->n, limits->max_groups);
  if (gpu ? w_bytes > limits->max_buffer : w_bytes / (sf_dtype_size (g->w->dtype) * 4)
                                           > limits->max_texels)
    return sf_op_fail (error, g->op, "the weight (%" G_GUINT64_FORMAT " bytes) is larger than "
                       "one binding of this device may be", (guint64) w_bytes);

  /* Rows per dispatch: the output, residual and input windows fit one
   * binding each (storage buffer or texel buffer), the grid the
   * workgroup count limit. */
  int64_t rows = MIN (g->m, (int64_t) limits->max_groups * tm);
  for (;;)
    {
      int64_t first, elems;
      input_window (g, 0, rows, &first, &elems);
      VkDeviceSize out_bytes = window_bytes (rows * g->n, limits->align);
      VkDeviceSize in_bytes = window_bytes (elems, limits->align);
      gboolean fits = out_bytes <= limits->max_buffer
                      && (gpu ? in_bytes <= limits->max_buffer
                              : out_bytes / 4 <= limits->max_texels
                                && in_bytes / (4 * a_texel) <= limits->max_texels);
      if (fits)
        break;
      if (rows <= tm)
        return sf_op_fail (error, g->op, "one tile of %d rows does not fit the device's "
                           "buffer limits (%" G_GUINT64_FORMAT " bytes per binding)", tm,
                           (guint64) limits->max_buffer);
      rows = MAX (tm, (rows / 2) / tm * tm);
    }

  uint32_t spec[5] = { (uint32_t) choice->tile_rows, (uint32_t) choice->tile_blocks,
                       (uint32_t) choice->workgroup, g->geglu ? 1u : 0u,
                       (uint32_t) choice->k_step };
  for (int64_t m0 = 0; m0 < g->m; m0 += rows)
    {
      int64_t count = MIN (rows, g->m - m0);
      int64_t a_first, a_elems, a_texel_first, out_first, res_first = 0;
      input_window (g, m0, count, &a_first, &a_elems);
      SfBinding bindings[5];
      bindings[0] = sf_op_window (g->a, a_first, a_elems, a_texel,
                            gpu ? VK_FORMAT_UNDEFINED
                                : scalar ? VK_FORMAT_R32_SFLOAT : VK_FORMAT_R32G32B32A32_SFLOAT,
                            FALSE, limits->align, &a_texel_first);
      bindings[1] = gpu ? sf_tensor_bind_buffer (g->w, FALSE) : sf_tensor_bind_texels (g->w, 4);
      bindings[1].range = w_bytes;
      bindings[2] = g->bias ? (gpu ? sf_tensor_bind_buffer (g->bias, FALSE)
                                   : sf_tensor_bind_texels (g->bias, 1))
                            : dummy (g->w, gpu);
      bindings[4] = sf_op_window (g->out, m0 * g->n, count * g->n, 1, VK_FORMAT_UNDEFINED, TRUE,
                            limits->align, &out_first);
      bindings[3] = g->residual
                    ? sf_op_window (g->residual, m0 * g->n, count * g->n, 1,
                              gpu ? VK_FORMAT_UNDEFINED : VK_FORMAT_R32_SFLOAT, FALSE,
                              limits->align, &res_first)
                    : dummy (g->w, gpu);
      GemmPush push = {
        .m = (int32_t) count, .m_base = (int32_t) m0, .n = (int32_t) g->n,
        .blocks = (int32_t) g->blocks, .k4 = (int32_t) g->k4, .k = (int32_t) g->k,
        .a_first = (int32_t) a_texel_first, .out_first = (int32_t) out_first,
        .res_first = (int32_t) res_first,
        .flags = (g->bias ? 1 : 0) | (g->residual ? 2 : 0),
        .h = g->in_h, .w = g->in_w, .ho = g->out_h, .wo = g->out_w, .kh = g->kh, .kw = g->kw,
        .stride = g->stride, .pad_top = g->pad_top, .pad_left = g->pad_left,
      };
      SfDispatch dispatch = {
        .kernel = &kernel, .spec = spec, .spec_count = G_N_ELEMENTS (spec),
        .bindings = bindings, .push = &push,
        .groups = { (uint32_t) groups_x, (uint32_t) ((count + tm - 1) / tm), 1 },
        .label = g->label,
        .flops = g->flops * (double) count / (double) g->m,
        .bytes = (double) (a_elems * 4 + count * g->n * 4) + (double) w_bytes,
      };
      if (!sf_stream_dispatch (stream, &dispatch, error))
        return FALSE;
    }
  return TRUE;
}

gboolean
sf_gemm_record (SfStream *stream, const SfGemm *g, GError **error)
{
  SfDevice *device = sf_stream_get_device (stream);
  if (g->m == 0 || g->n == 0)
    return TRUE;
  /* Shaders index elements with 32-bit integers. */
  if (sf_tensor_numel (g->a) >= G_MAXINT32 / 2 || sf_tensor_numel (g->out) >= G_MAXINT32 / 2)
    return sf_op_fail (error, g->op, "tensors of 2^30 elements or more are not supported; "
                       "split the work");
  SfOpLimits limits;
  sf_op_get_limits (device, &limits);
  SfKernelChoice choice;
  sf_kernels_choose (device, g->w->dtype, &choice);
  return record (stream, g, &choice, &limits, error);
}
