/* Normalisation: group norm (with optional SiLU), layer norm, softmax.
 *
 * Group norm over large images takes three passes (shaders group_norm_*):
 *  1. statistics: per chunk of rows and per channel, sums of x - K and
 *     its square (K a value of the channel, so nothing large cancels),
 *     kept as (K, mean - K, M2), into a scratch region;
 *  2. combine: per (image, group), the chunks and channels merged into the
 *     group's K, mean - K and 1/sqrt(var + eps);
 *  3. apply: x * scale + shift per channel, then SiLU.
 * The op has no memory of its own but its output, so the scratch lives at
 * the end of @out: the apply pass leaves the rows holding the statistics
 * to a last dispatch of one workgroup, which reads them into shared
 * memory before overwriting them. Channel counts that are not a multiple
 * of 4, small tensors, and shapes where the scratch would not fit take a
 * one-dispatch kernel (one workgroup per group) instead.
 *
 * Layer norm and softmax: one row per lane, 64 rows per workgroup. */
#include "op_support.h"

#include <math.h>

static const SfKernel GROUP_NORM_STATS = { "group_norm_stats", "tb", 16 };
static const SfKernel GROUP_NORM_COMBINE = { "group_norm_combine", "tb", 32 };
static const SfKernel GROUP_NORM_APPLY = { "group_norm@apply", "ttttb", 40 };
static const SfKernel GROUP_NORM_APPLY_QUAD = { "group_norm@apply_quad", "ttttb", 40 };
static const SfKernel GROUP_NORM_TAIL = { "group_norm@tail", "ttttb", 40 };
static const SfKernel GROUP_NORM_SMALL = { "group_norm_small", "tttb", 24 };
static const SfKernel LAYER_NORM_VEC4 = { "layer_norm@vec4", "tttb", 20 };
static const SfKernel LAYER_NORM_SCALAR = { "layer_norm@scalar", "tttb", 20 };
static const SfKernel SOFTMAX_VEC4 = { "softmax@vec4", "tb", 12 };
static const SfKernel SOFTMAX_SCALAR = { "softmax@scalar", "tb", 12 };

/* Groups the tail workgroup can hold in shared memory (group_norm.comp). */
#define TAIL_MAX_GROUPS 1024
/* Below this many elements the one-dispatch kernel is as fast. */
#define GROUP_NORM_SMALL_ELEMENTS 65536

static gboolean
check_norm_parameter (const char *op, const char *what, const SfTensor *t, int64_t channels,
                      GError **error)
{
  if (!sf_op_check_f32 (op, what, t, error))
    return FALSE;
  if (sf_tensor_numel (t) != channels)
    {
      g_autofree char *text = sf_tensor_describe (t);
      return sf_op_fail (error, op, "%s %s must hold one value per channel (%" G_GINT64_FORMAT
                         ")", what, text, channels);
    }
  return TRUE;
}

static gboolean
record_group_norm_small (SfStream *stream, const SfTensor *x, const SfTensor *gamma,
                         const SfTensor *beta, int64_t n, int64_t positions, int64_t channels,
                         int groups, float eps, gboolean silu, SfTensor *out, GError **error)
{
  const char *op = "group_norm";
  if (sf_tensor_bytes (out) > sf_op_binding_limit (sf_stream_get_device (stream)))
    {
      g_autofree char *text = sf_tensor_describe (out);
      return sf_op_fail (error, op, "out %s is larger than one storage binding may be on this "
                         "device, and its %" G_GINT64_FORMAT " channels are not a multiple of 4 "
                         "(needed to write it in slices)", text, channels);
    }
  if (!sf_op_check_texel_view (op, "x", x, 1, error))
    return FALSE;
  struct {
    uint32_t channels, positions, groups, group_channels, count;
    float eps;
  } push = {
    (uint32_t) channels, (uint32_t) positions, (uint32_t) groups,
    (uint32_t) (channels / groups), (uint32_t) (n * groups), eps,
  };
  uint32_t spec = silu ? 1 : 0;
  SfBinding bindings[] = {
    sf_tensor_bind_texels (x, 1), sf_tensor_bind_texels (gamma, 1),
    sf_tensor_bind_texels (beta, 1), sf_tensor_bind_buffer (out, TRUE),
  };
  SfDispatch dispatch = {
    .kernel = &GROUP_NORM_SMALL, .spec = &spec, .spec_count = 1, .bindings = bindings,
    .push = &push, .label = op, .bytes = 4.0 * (double) sf_tensor_bytes (x),
  };
  sf_op_groups_1d ((uint64_t) n * groups, 1, dispatch.groups);
  return sf_stream_dispatch (stream, &dispatch, error);
}

gboolean
sf_op_group_norm (SfStream *stream, const SfTensor *x, const SfTensor *gamma,
                  const SfTensor *beta, int groups, float eps, gboolean silu, SfTensor *out,
                  GError **error)
{
  const char *op = "group_norm";
  if (!sf_op_check_f32 (op, "x", x, error) || !sf_op_check_f32 (op, "out", out, error)
      || !sf_op_check_same_shape (op, x, out, error))
    return FALSE;
  g_autofree char *tx = sf_tensor_describe (x);
  if (x->ndim < 2)
    return sf_op_fail (error, op, "x %s must be [N, ..., C]", tx);
  int64_t n = x->shape[0], channels = x->shape[x->ndim - 1];
  if (!check_norm_parameter (op, "gamma", gamma, channels, error)
      || !check_norm_parameter (op, "beta", beta, channels, error)
      || !sf_op_check_no_overlap (op, "out", out, "x", x, FALSE, error)
      || !sf_op_check_no_overlap (op, "out", out, "gamma", gamma, FALSE, error)
      || !sf_op_check_no_overlap (op, "out", out, "beta", beta, FALSE, error))
    return FALSE;
  if (groups < 1 || channels % groups != 0)
    return sf_op_fail (error, op, "%d groups do not divide x %s's %" G_GINT64_FORMAT " channels",
                       groups, tx, channels);
  if (!(eps >= 0.0f) || !isfinite (eps))
    return sf_op_fail (error, op, "eps %g must be finite and not negative", (double) eps);
  if (sf_tensor_numel (x) == 0)
    return TRUE;
  int64_t positions = sf_tensor_numel (x) / (n * channels);

  SfDevice *device = sf_stream_get_device (stream);
  uint64_t channels4 = (uint64_t) channels / 4;
  uint64_t blocks = (channels4 + 63) / 64;
  uint64_t out_bytes = sf_tensor_bytes (out);
  uint64_t row_bytes = (uint64_t) channels * 4;
  /* Pass 1 in enough workgroups to keep every CPU thread (or GPU core
   * group) busy, while its scratch stays a small part of out. */
  uint64_t chunks = MAX (1, (128 + n * blocks - 1) / (n * blocks));
  chunks = MIN (chunks, (uint64_t) MAX (1, positions / 16));
  uint64_t chunk_rows = (positions + chunks - 1) / chunks;
  chunks = (positions + chunk_rows - 1) / chunk_rows;
  uint64_t stats_bytes = ((uint64_t) n * groups * 12 + 15) / 16 * 16;
  uint64_t partial_bytes = (uint64_t) n * chunks * channels4 * 48;
  uint64_t tail_rows = (stats_bytes + row_bytes - 1) / row_bytes;
  gboolean big = channels % 4 == 0 && groups <= TAIL_MAX_GROUPS
                 && (uint64_t) sf_tensor_numel (x) >= GROUP_NORM_SMALL_ELEMENTS
                 && stats_bytes + partial_bytes <= out_bytes / 2
                 && tail_rows <= (uint64_t) positions
                 && tail_rows * row_bytes <= sf_op_binding_limit (device)
                 && partial_bytes <= sf_op_binding_limit (device);
  if (!big)
    return record_group_norm_small (stream, x, gamma, beta, n, positions, channels, groups, eps,
                                    silu, out, error);
  if (!sf_op_check_texel_view (op, "x", x, 4, error))
    return FALSE;

  uint64_t stats_offset = out_bytes - stats_bytes;
  uint64_t partial_offset = stats_offset - partial_bytes;
  uint32_t spec = silu ? 1 : 0;

  /* 1. Statistics per chunk and channel. */
  struct { uint32_t channels, positions, chunk_rows, chunks; } stats_push = {
    (uint32_t) channels4, (uint32_t) positions, (uint32_t) chunk_rows, (uint32_t) chunks,
  };
  SfBinding stats_bindings[] = {
    sf_tensor_bind_texels (x, 4),
    sf_op_bind_bytes (out, partial_offset, partial_bytes, TRUE),
  };
  SfDispatch stats = {
    .kernel = &GROUP_NORM_STATS, .bindings = stats_bindings, .push = &stats_push,
    .label = "group_norm (statistics)", .bytes = (double) sf_tensor_bytes (x),
    .groups = { (uint32_t) blocks, (uint32_t) (n * chunks), 1 },
  };
  if (n * chunks > 65535)
    return sf_op_fail (error, op, "x %s has too many images for one dispatch", tx);
  if (!sf_stream_dispatch (stream, &stats, error))
    return FALSE;

  /* 2. Per group. */
  struct {
    uint32_t channels, positions, chunk_rows, chunks, groups, group_channels, count;
    float eps;
  } combine_push = {
    (uint32_t) channels4, (uint32_t) positions, (uint32_t) chunk_rows, (uint32_t) chunks,
    (uint32_t) groups, (uint32_t) (channels / groups), (uint32_t) (n * groups), eps,
  };
  SfBinding combine_bindings[] = {
    sf_op_bind_texel_bytes (out, partial_offset, partial_bytes, 1),
    sf_op_bind_bytes (out, stats_offset, stats_bytes, TRUE),
  };
  SfDispatch combine = {
    .kernel = &GROUP_NORM_COMBINE, .bindings = combine_bindings, .push = &combine_push,
    .label = "group_norm (combine)", .bytes = (double) partial_bytes,
  };
  sf_op_groups_1d ((uint64_t) n * groups, 64, combine.groups);
  if (!sf_stream_dispatch (stream, &combine, error))
    return FALSE;

  /* 3. Apply, in slices of whole chunks of rows, leaving the rows that
   * hold the statistics (the last tail_rows of the last image). */
  gboolean quad = channels4 % 4 == 0;
  uint64_t unit = quad ? 4 : 1;                   /* texels per store */
  uint64_t units = channels4 / unit;
  uint64_t apply_blocks = (units + 63) / 64;
  uint64_t rows_per_lane = 128;
  uint64_t apply_rows = rows_per_lane * (64 / MIN (units, 64));
  apply_rows = MAX (1, MIN (apply_rows, sf_op_binding_limit (device) / row_bytes));
  uint64_t apply_chunks = (positions + apply_rows - 1) / apply_rows;
  uint64_t total_rows = (uint64_t) n * positions - tail_rows;
  struct {
    uint32_t channels, positions, chunk_rows, chunks, groups, group_channels, images,
             end_of_last, first_chunk, out_base;
  } apply_push = {
    (uint32_t) units, (uint32_t) positions, (uint32_t) apply_rows, (uint32_t) apply_chunks,
    (uint32_t) groups, (uint32_t) (channels / groups), (uint32_t) n,
    (uint32_t) (positions - tail_rows), 0, 0,
  };
  uint64_t chunks_per_slice = sf_op_units_per_binding (device, apply_rows * row_bytes, 1);
  chunks_per_slice = MIN (chunks_per_slice, 65535);
  if (chunks_per_slice == 0)
    return sf_op_fail (error, op, "a chunk of %" G_GUINT64_FORMAT " rows of out %s does not fit "
                       "in one binding", apply_rows, tx);
  uint64_t chunk_ids = (uint64_t) n * apply_chunks;
  for (uint64_t first = 0; first < chunk_ids; first += chunks_per_slice)
    {
      uint64_t last = MIN (first + chunks_per_slice, chunk_ids) - 1;
      uint64_t row_begin = (first / apply_chunks) * positions + (first % apply_chunks) * apply_rows;
      uint64_t row_end = (last / apply_chunks) * positions
                         + MIN ((last % apply_chunks + 1) * apply_rows, (uint64_t) positions);
      row_end = MIN (row_end, total_rows);
      if (row_end <= row_begin)
        break;
      apply_push.first_chunk = (uint32_t) first;
      apply_push.out_base = (uint32_t) (row_begin * units);
      SfBinding bindings[] = {
        sf_tensor_bind_texels (x, 4),
        sf_op_bind_texel_bytes (out, stats_offset, stats_bytes, 1),
        sf_tensor_bind_texels (gamma, 4), sf_tensor_bind_texels (beta, 4),
        sf_op_bind_bytes (out, row_begin * row_bytes, (row_end - row_begin) * row_bytes, TRUE),
      };
      SfDispatch apply = {
        .kernel = quad ? &GROUP_NORM_APPLY_QUAD : &GROUP_NORM_APPLY, .spec = &spec,
        .spec_count = 1, .bindings = bindings, .push = &apply_push, .label = op,
        .bytes = 2.0 * (double) ((row_end - row_begin) * row_bytes),
        .groups = { (uint32_t) apply_blocks, (uint32_t) (last - first + 1), 1 },
      };
      if (!sf_stream_dispatch (stream, &apply, error))
        return FALSE;
    }

  /* The tail: the statistics' rows, by one workgroup. */
  struct {
    uint32_t channels, positions, chunk_rows, chunks, groups, group_channels, images,
             end_of_last, first_chunk, out_base;
  } tail_push = {
    (uint32_t) channels4, (uint32_t) positions, 0, 0, (uint32_t) groups,
    (uint32_t) (channels / groups), (uint32_t) n, (uint32_t) (positions - tail_rows), 0,
    (uint32_t) (total_rows * channels4),
  };
  SfBinding tail_bindings[] = {
    sf_tensor_bind_texels (x, 4),
    sf_op_bind_texel_bytes (out, stats_offset, stats_bytes, 1),
    sf_tensor_bind_texels (gamma, 4), sf_tensor_bind_texels (beta, 4),
    sf_op_bind_bytes (out, total_rows * row_bytes, tail_rows * row_bytes, TRUE),
  };
  SfDispatch tail = {
    .kernel = &GROUP_NORM_TAIL, .spec = &spec, .spec_count = 1, .bindings = tail_bindings,
    .push = &tail_push, .label = op, .bytes = 2.0 * (double) (tail_rows * row_bytes),
    .groups = { 1, 1, 1 },
  };
  return sf_stream_dispatch (stream, &tail, error);
}

gboolean
sf_op_layer_norm (SfStream *stream, const SfTensor *x, const SfTensor *gamma,
                  const SfTensor *beta, float eps, SfTensor *out, GError **error)
{
  const char *op = "layer_norm";
  if (!sf_op_check_f32 (op, "x", x, error) || !sf_op_check_f32 (op, "out", out, error)
      || !sf_op_check_same_shape (op, x, out, error))
    return FALSE;
  int64_t channels = x->shape[x->ndim - 1];
  if (!check_norm_parameter (op, "gamma", gamma, channels, error)
      || !check_norm_parameter (op, "beta", beta, channels, error)
      || !sf_op_check_no_overlap (op, "out", out, "x", x, FALSE, error)
      || !sf_op_check_no_overlap (op, "out", out, "gamma", gamma, FALSE, error)
      || !sf_op_check_no_overlap (op, "out", out, "beta", beta, FALSE, error))
    return FALSE;
  if (!(eps >= 0.0f) || !isfinite (eps))
    return sf_op_fail (error, op, "eps %g must be finite and not negative", (double) eps);
  if (sf_tensor_numel (x) == 0)
    return TRUE;
  guint width = channels % 4 == 0 ? 4 : 1;
  if (!sf_op_check_texel_view (op, "x", x, width, error))
    return FALSE;
  SfDevice *device = sf_stream_get_device (stream);
  uint64_t rows = (uint64_t) sf_tensor_numel (x) / channels;
  uint64_t row_bytes = (uint64_t) channels * 4;
  uint64_t per = sf_op_units_per_binding (device, row_bytes, sf_op_aligned_rows (channels));
  if (per == 0)
    return sf_op_fail (error, op, "one row of out is larger than one binding may be");
  struct {
    uint32_t channels, width, rows, first_row;
    float eps;
  } push = { (uint32_t) (channels / width), width, 0, 0, eps };
  for (uint64_t first = 0; first < rows; first += per)
    {
      uint64_t count = MIN (per, rows - first);
      push.rows = (uint32_t) count;
      push.first_row = (uint32_t) first;
      SfBinding bindings[] = {
        sf_tensor_bind_texels (x, width), sf_tensor_bind_texels (gamma, width),
        sf_tensor_bind_texels (beta, width),
        sf_op_bind_bytes (out, first * row_bytes, count * row_bytes, TRUE),
      };
      SfDispatch dispatch = {
        .kernel = width == 4 ? &LAYER_NORM_VEC4 : &LAYER_NORM_SCALAR, .bindings = bindings,
        .push = &push, .label = op, .bytes = 2.0 * (double) (count * row_bytes),
      };
      if (!sf_op_grid (op, count, 64, dispatch.groups, error)
          || !sf_stream_dispatch (stream, &dispatch, error))
        return FALSE;
    }
  return TRUE;
}

gboolean
sf_op_softmax (SfStream *stream, const SfTensor *x, SfTensor *out, GError **error)
{
  const char *op = "softmax";
  if (!sf_op_check_f32 (op, "x", x, error) || !sf_op_check_f32 (op, "out", out, error)
      || !sf_op_check_same_shape (op, x, out, error)
      || !sf_op_check_no_overlap (op, "out", out, "x", x, FALSE, error))
    return FALSE;
  if (sf_tensor_numel (x) == 0)
    return TRUE;
  int64_t channels = x->shape[x->ndim - 1];
  guint width = channels % 4 == 0 ? 4 : 1;
  if (!sf_op_check_texel_view (op, "x", x, width, error))
    return FALSE;
  SfDevice *device = sf_stream_get_device (stream);
  uint64_t rows = (uint64_t) sf_tensor_numel (x) / channels;
  uint64_t row_bytes = (uint64_t) channels * 4;
  uint64_t per = sf_op_units_per_binding (device, row_bytes, sf_op_aligned_rows (channels));
  if (per == 0)
    return sf_op_fail (error, op, "one row of out is larger than one binding may be");
  struct { uint32_t channels, rows, first_row; } push = { (uint32_t) (channels / width), 0, 0 };
  for (uint64_t first = 0; first < rows; first += per)
    {
      uint64_t count = MIN (per, rows - first);
      push.rows = (uint32_t) count;
      push.first_row = (uint32_t) first;
      SfBinding bindings[] = {
        sf_tensor_bind_texels (x, width),
        sf_op_bind_bytes (out, first * row_bytes, count * row_bytes, TRUE),
      };
      SfDispatch dispatch = {
        .kernel = width == 4 ? &SOFTMAX_VEC4 : &SOFTMAX_SCALAR, .bindings = bindings,
        .push = &push, .label = op, .bytes = 2.0 * (double) (count * row_bytes),
      };
      if (!sf_op_grid (op, count, 64, dispatch.groups, error)
          || !sf_stream_dispatch (stream, &dispatch, error))
        return FALSE;
    }
  return TRUE;
}
