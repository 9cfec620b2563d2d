#include "op_support.h"

SfDivisor
sf_op_divisor (uint32_t divisor)
{
  g_return_val_if_fail (divisor > 0, ((SfDivisor) { 1, 0, 0, 1 }));
  /* l = ceil(log2 d); m' = floor(2^32 (2^l - d) / d) + 1;
   * q = (t + ((n - t) >> min(l, 1))) >> max(l - 1, 0) with t = mulhi(m', n). */
  uint32_t l = 0;
  while (l < 32 && ((uint64_t) 1 << l) < divisor)
    l++;
  uint64_t multiplier = ((((uint64_t) 1 << l) - divisor) << 32) / divisor + 1;
  return (SfDivisor) {
    .multiplier = (uint32_t) multiplier,
    .shift1 = MIN (l, 1u),
    .shift2 = l > 0 ? l - 1 : 0,
    .divisor = divisor,
  };
}

gboolean
sf_op_grid (const char *op, uint64_t items, uint32_t per_group, uint32_t groups[3],
            GError **error)
{
  uint64_t total = (items + per_group - 1) / per_group;
  if (total > (uint64_t) 65535 * 65535)
    return sf_op_fail (error, op, "%" G_GUINT64_FORMAT " workgroups are more than one dispatch "
                       "can hold", total);
  sf_op_groups_1d (items, per_group, groups);
  return TRUE;
}

SfBinding
sf_op_bind_bytes (const SfTensor *tensor, VkDeviceSize offset, VkDeviceSize range,
                  gboolean writes)
{
  SfBinding binding = sf_tensor_bind_buffer (tensor, writes);
  binding.offset += offset;
  binding.range = range;
  return binding;
}

SfBinding
sf_op_bind_texel_bytes (const SfTensor *tensor, VkDeviceSize offset, VkDeviceSize range,
                        guint components)
{
  SfBinding binding = sf_tensor_bind_texels (tensor, components);
  VkDeviceSize texel = sf_dtype_size (tensor->dtype) * components;
  binding.offset += offset;
  binding.range = range / texel * texel;
  return binding;
}

VkDeviceSize
sf_op_binding_limit (const SfDevice *device)
{
  VkDeviceSize limit = sf_device_get_info (device)->max_storage_buffer_range;
  const char *lower = g_getenv ("SFUMATO_MAX_BINDING_BYTES");
  if (lower)
    {
      guint64 bytes = g_ascii_strtoull (lower, NULL, 10);
      if (bytes >= 16 && bytes < limit)
        limit = bytes & ~(guint64) 15;
    }
  return limit;
}

uint64_t
sf_op_units_per_binding (const SfDevice *device, uint64_t unit_bytes, uint64_t multiple)
{
  g_return_val_if_fail (unit_bytes > 0 && multiple > 0, 0);
  uint64_t units = sf_op_binding_limit (device) / unit_bytes;
  return units / multiple * multiple;
}

uint64_t
sf_op_aligned_rows (uint64_t floats_per_row)
{
  return floats_per_row % 4 == 0 ? 1 : floats_per_row % 2 == 0 ? 2 : 4;
}

gboolean
sf_op_check_texel_view (const char *op, const char *what, const SfTensor *tensor,
                        guint components, GError **error)
{
  const SfDeviceInfo *info = sf_device_get_info (tensor->device);
  uint64_t texels = (uint64_t) sf_tensor_bytes (tensor)
                    / (sf_dtype_size (tensor->dtype) * components);
  if (texels <= info->max_texel_buffer_elements)
    return TRUE;
  g_autofree char *text = sf_tensor_describe (tensor);
  return sf_op_fail (error, op, "%s %s needs %" G_GUINT64_FORMAT " texels of %u components; %s "
                     "allows at most %u in one texel buffer view", what, text, texels,
                     components, info->name, info->max_texel_buffer_elements);
}

gboolean
sf_op_check_f32 (const char *op, const char *what, const SfTensor *tensor, GError **error)
{
  if (!tensor)
    return sf_op_fail (error, op, "%s is missing", what);
  if (tensor->dtype != SF_DTYPE_F32)
    {
      g_autofree char *text = sf_tensor_describe (tensor);
      return sf_op_fail (error, op, "%s is %s; this op takes f32 tensors", what, text);
    }
  if (tensor->layout != SF_LAYOUT_ROW_MAJOR)
    return sf_op_fail (error, op, "%s is a packed weight; this op reads plain tensors", what);
  if (sf_tensor_numel (tensor) > G_MAXUINT32)
    {
      g_autofree char *text = sf_tensor_describe (tensor);
      return sf_op_fail (error, op, "%s %s has more than 2^32 - 1 elements", what, text);
    }
  return TRUE;
}

gboolean
sf_op_check_no_overlap (const char *op, const char *what_a, const SfTensor *a,
                        const char *what_b, const SfTensor *b, gboolean allow_same,
                        GError **error)
{
  if (a->memory.buffer != b->memory.buffer)
    return TRUE;
  VkDeviceSize a0 = a->memory.offset, a1 = a0 + sf_tensor_bytes (a);
  VkDeviceSize b0 = b->memory.offset, b1 = b0 + sf_tensor_bytes (b);
  if (a1 <= b0 || b1 <= a0 || a0 == a1 || b0 == b1)
    return TRUE;
  if (allow_same && a0 == b0 && a->dtype == b->dtype && sf_tensor_same_shape (a, b))
    return TRUE;
  g_autofree char *ta = sf_tensor_describe (a);
  g_autofree char *tb = sf_tensor_describe (b);
  return sf_op_fail (error, op, "%s %s and %s %s share memory; the output may not overlap %s",
                     what_a, ta, what_b, tb,
                     allow_same ? "an input except in place" : "an input");
}

gboolean
sf_op_record_map (SfStream *stream, const SfOpMap *map, GError **error)
{
  SfDevice *device = sf_stream_get_device (stream);
  uint64_t texel_bytes = 4 * (uint64_t) map->width;
  uint64_t total = (uint64_t) sf_tensor_numel (map->out) / map->width;
  /* Scalar slices start at multiples of 4 floats: 16-byte aligned. */
  uint64_t per = sf_op_units_per_binding (device, texel_bytes, map->width == 4 ? 1 : 4);
  per = MIN (per, sf_device_get_info (device)->max_texel_buffer_elements / 4 * 4);
  per = MIN (per, (uint64_t) 65535 * 65535 * SF_OP_BLOCK / 4 * 4);
  if (per == 0)
    return sf_op_fail (error, map->op, "the device's binding limits are too small");
  guint whole_width[2];
  for (guint i = 0; i < map->whole_count; i++)
    {
      whole_width[i] = map->whole_width[i] ? map->whole_width[i] : map->width;
      if (!sf_op_check_texel_view (map->op, "an input", map->whole[i], whole_width[i], error))
        return FALSE;
    }
  double whole_bytes = 0;
  for (guint i = 0; i < map->whole_count; i++)
    whole_bytes += (double) sf_tensor_bytes (map->whole[i]);
  uint32_t *tail = (uint32_t *) ((char *) map->push + map->kernel->push_size - 8);
  for (uint64_t first = 0; first < total; first += per)
    {
      uint64_t count = MIN (per, total - first);
      VkDeviceSize offset = first * texel_bytes, range = count * texel_bytes;
      SfBinding bindings[5];
      guint n = 0;
      for (guint i = 0; i < map->sliced_count; i++)
        bindings[n++] = sf_op_bind_texel_bytes (map->sliced[i], offset, range, map->width);
      for (guint i = 0; i < map->whole_count; i++)
        bindings[n++] = sf_tensor_bind_texels (map->whole[i], whole_width[i]);
      bindings[n++] = sf_op_bind_bytes (map->out, offset, range, TRUE);
      tail[0] = (uint32_t) count;
      tail[1] = (uint32_t) first;
      SfDispatch dispatch = {
        .kernel = map->kernel, .spec = map->spec, .spec_count = map->spec_count,
        .bindings = bindings, .push = map->push, .label = map->op,
        .flops = map->flops_per_element * (double) (count * map->width),
        .bytes = (double) range * (map->sliced_count + 1) + whole_bytes * (double) count / total,
      };
      sf_op_groups_1d (count, SF_OP_BLOCK, dispatch.groups);
      if (!sf_stream_dispatch (stream, &dispatch, error))
        return FALSE;
    }
  return TRUE;
}
