#include "vk_error.h"

G_DEFINE_QUARK (sf-vk-error-quark, sf_vk_error)

const char *
sf_vk_result_name (VkResult result)
{
  switch (result)
    {
#define NAME(r) case r: return #r;
      NAME (VK_SUCCESS)
      NAME (VK_NOT_READY)
      NAME (VK_TIMEOUT)
      NAME (VK_EVENT_SET)
      NAME (VK_EVENT_RESET)
      NAME (VK_INCOMPLETE)
      NAME (VK_ERROR_OUT_OF_HOST_MEMORY)
      NAME (VK_ERROR_OUT_OF_DEVICE_MEMORY)
      NAME (VK_ERROR_INITIALIZATION_FAILED)
      NAME (VK_ERROR_DEVICE_LOST)
      NAME (VK_ERROR_MEMORY_MAP_FAILED)
      NAME (VK_ERROR_LAYER_NOT_PRESENT)
      NAME (VK_ERROR_EXTENSION_NOT_PRESENT)
      NAME (VK_ERROR_FEATURE_NOT_PRESENT)
      NAME (VK_ERROR_INCOMPATIBLE_DRIVER)
      NAME (VK_ERROR_TOO_MANY_OBJECTS)
      NAME (VK_ERROR_FORMAT_NOT_SUPPORTED)
      NAME (VK_ERROR_FRAGMENTED_POOL)
      NAME (VK_ERROR_UNKNOWN)
      NAME (VK_ERROR_OUT_OF_POOL_MEMORY)
      NAME (VK_ERROR_INVALID_EXTERNAL_HANDLE)
      NAME (VK_ERROR_FRAGMENTATION)
      NAME (VK_ERROR_INVALID_OPAQUE_CAPTURE_ADDRESS)
      NAME (VK_PIPELINE_COMPILE_REQUIRED)
#undef NAME
    default:
      return "VK_RESULT_UNKNOWN";
    }
}

gboolean
sf_vk_check (VkResult result, const char *call, GError **error)
{
  if (result >= 0)
    return TRUE;

  int code = SF_VK_ERROR_FAILED;
  if (result == VK_ERROR_OUT_OF_HOST_MEMORY || result == VK_ERROR_OUT_OF_DEVICE_MEMORY)
    code = SF_VK_ERROR_OUT_OF_MEMORY;
  else if (result == VK_ERROR_DEVICE_LOST)
    code = SF_VK_ERROR_DEVICE_LOST;
  else if (result == VK_ERROR_FEATURE_NOT_PRESENT || result == VK_ERROR_EXTENSION_NOT_PRESENT
           || result == VK_ERROR_INCOMPATIBLE_DRIVER || result == VK_ERROR_LAYER_NOT_PRESENT)
    code = SF_VK_ERROR_UNSUPPORTED;

  g_set_error (error, SF_VK_ERROR, code, "%s failed: %s (%d)",
               call, sf_vk_result_name (result), (int) result);
  return FALSE;
}
