#include "tensor.h"
#include "vk_error.h"

static gboolean
shape_valid (int ndim, const int64_t *shape, GError **error)
{
  if (ndim < 1 || ndim > SF_MAX_DIMS)
    {
      g_set_error (error, SF_VK_ERROR, SF_VK_ERROR_INVALID,
                   "A tensor has 1 to %d dimensions, not %d", SF_MAX_DIMS, ndim);
      return FALSE;
    }
  int64_t total = 1;
  for (int i = 0; i < ndim; i++)
    {
      if (shape[i] < 0 || (shape[i] > 0 && total > (INT64_C (1) << 40) / shape[i]))
        {
          g_set_error (error, SF_VK_ERROR, SF_VK_ERROR_INVALID,
                       "Tensor dimension %d has an invalid size %" G_GINT64_FORMAT, i, shape[i]);
          return FALSE;
        }
      total *= shape[i];
    }
  return TRUE;
}

SfTensor *
sf_tensor_new (SfArena *arena, SfDType dtype, int ndim, const int64_t *shape, GError **error)
{
  if (!shape_valid (ndim, shape, error))
    return NULL;
  SfTensor *tensor = g_new0 (SfTensor, 1);
  tensor->dtype = dtype;
  tensor->ndim = ndim;
  for (int i = 0; i < SF_MAX_DIMS; i++)
    tensor->shape[i] = i < ndim ? shape[i] : 1;
  tensor->device = sf_arena_get_device (arena);
  if (!sf_arena_alloc (arena, sf_tensor_bytes (tensor), &tensor->memory, error))
    {
      g_free (tensor);
      return NULL;
    }
  tensor->arena = arena;
  return tensor;
}

void
sf_tensor_free (SfTensor *tensor)
{
  if (!tensor)
    return;
  if (tensor->arena)
    sf_arena_release (tensor->arena, &tensor->memory);
  g_free (tensor);
}

int64_t
sf_tensor_numel (const SfTensor *tensor)
{
  int64_t total = 1;
  for (int i = 0; i < tensor->ndim; i++)
    total *= tensor->shape[i];
  return total;
}

VkDeviceSize
sf_tensor_bytes (const SfTensor *tensor)
{
  return (VkDeviceSize) sf_tensor_numel (tensor) * sf_dtype_size (tensor->dtype);
}

char *
sf_tensor_describe (const SfTensor *tensor)
{
  GString *text = g_string_new (sf_dtype_name (tensor->dtype));
  g_string_append_c (text, '[');
  for (int i = 0; i < tensor->ndim; i++)
    g_string_append_printf (text, "%s%" G_GINT64_FORMAT, i ? "," : "", tensor->shape[i]);
  g_string_append_c (text, ']');
  return g_string_free (text, FALSE);
}

gboolean
sf_tensor_same_shape (const SfTensor *a, const SfTensor *b)
{
  if (a->ndim != b->ndim)
    return FALSE;
  for (int i = 0; i < a->ndim; i++)
    if (a->shape[i] != b->shape[i])
      return FALSE;
  return TRUE;
}

SfTensor
sf_tensor_reshape (const SfTensor *tensor, int ndim, const int64_t *shape)
{
  SfTensor view = *tensor;
  view.arena = NULL;
  view.ndim = ndim;
  for (int i = 0; i < SF_MAX_DIMS; i++)
    view.shape[i] = i < ndim ? shape[i] : 1;
  g_return_val_if_fail (ndim >= 1 && ndim <= SF_MAX_DIMS
                        && sf_tensor_numel (&view) == sf_tensor_numel (tensor), *tensor);
  return view;
}

SfTensor
sf_tensor_slice (const SfTensor *tensor, int64_t first, int64_t count)
{
  SfTensor view = *tensor;
  view.arena = NULL;
  g_return_val_if_fail (first >= 0 && count >= 0 && first + count <= tensor->shape[0], *tensor);
  VkDeviceSize row = sf_tensor_bytes (tensor) / (VkDeviceSize) MAX (tensor->shape[0], 1);
  view.shape[0] = count;
  view.memory.offset += row * (VkDeviceSize) first;
  view.memory.size = row * (VkDeviceSize) count;
  if (view.memory.host)
    view.memory.host = (char *) view.memory.host + row * (VkDeviceSize) first;
  return view;
}

gboolean
sf_tensor_upload_raw (SfTensor *tensor, const void *data, GError **error)
{
  return sf_device_upload (tensor->device, &tensor->memory, 0, data, sf_tensor_bytes (tensor),
                           error);
}

gboolean
sf_tensor_download_raw (const SfTensor *tensor, void *data, GError **error)
{
  return sf_device_download (tensor->device, &tensor->memory, 0, data, sf_tensor_bytes (tensor),
                             error);
}

gboolean
sf_tensor_upload (SfTensor *tensor, const float *data, GError **error)
{
  g_return_val_if_fail (tensor->dtype != SF_DTYPE_I32, FALSE);
  if (tensor->dtype == SF_DTYPE_F32)
    return sf_tensor_upload_raw (tensor, data, error);
  gsize count = (gsize) sf_tensor_numel (tensor);
  g_autofree uint16_t *half = g_new (uint16_t, MAX (count, 1));
  sf_f32_to_f16_array (data, half, count);
  return sf_tensor_upload_raw (tensor, half, error);
}

gboolean
sf_tensor_download (const SfTensor *tensor, float *data, GError **error)
{
  g_return_val_if_fail (tensor->dtype != SF_DTYPE_I32, FALSE);
  if (tensor->dtype == SF_DTYPE_F32)
    return sf_device_download (tensor->device, &tensor->memory, 0, data,
                               sf_tensor_bytes (tensor), error);
  gsize count = (gsize) sf_tensor_numel (tensor);
  g_autofree uint16_t *half = g_new (uint16_t, MAX (count, 1));
  if (!sf_device_download (tensor->device, &tensor->memory, 0, half, sf_tensor_bytes (tensor),
                           error))
    return FALSE;
  sf_f16_to_f32_array (half, data, count);
  return TRUE;
}

SfBinding
sf_tensor_bind_buffer (const SfTensor *tensor, gboolean writes)
{
  return (SfBinding) {
    .buffer = tensor->memory.buffer,
    .offset = tensor->memory.offset,
    .range = sf_tensor_bytes (tensor),
    .format = VK_FORMAT_UNDEFINED,
    .writes = writes,
  };
}

SfBinding
sf_tensor_bind_texels (const SfTensor *tensor, guint components)
{
  VkFormat format;
  if (tensor->dtype == SF_DTYPE_I32)
    format = components == 4 ? VK_FORMAT_R32G32B32A32_SINT : VK_FORMAT_R32_SINT;
  else if (tensor->dtype == SF_DTYPE_F16)
    format = components == 4 ? VK_FORMAT_R16G16B16A16_SFLOAT : VK_FORMAT_R16_SFLOAT;
  else
    format = components == 4 ? VK_FORMAT_R32G32B32A32_SFLOAT : VK_FORMAT_R32_SFLOAT;
  VkDeviceSize texel = sf_dtype_size (tensor->dtype) * components;
  return (SfBinding) {
    .buffer = tensor->memory.buffer,
    .offset = tensor->memory.offset,
    .range = sf_tensor_bytes (tensor) / texel * texel,
    .format = format,
    .writes = FALSE,
  };
}
