/* The Vulkan device the engine computes on.
 *
 * Opening picks a discrete GPU, then an integrated one, then anything
 * else (a CPU implementation such as lavapipe); SFUMATO_DEVICE=<index or
 * name substring> overrides. SFUMATO_VALIDATE=1 enables the Khronos
 * validation layer with a debug messenger that counts every warning and
 * error (tests fail on any). SFUMATO_PROFILE=1 times every dispatch and
 * prints a per-op table when the device is freed. */
#pragma once

#include <glib.h>
#include <vulkan/vulkan.h>

G_BEGIN_DECLS

typedef struct SfDevice SfDevice;

typedef struct {
  VkDeviceSize size;
  gboolean device_local;
} SfMemoryHeapInfo;

typedef struct {
  guint index;                       /* position in vkEnumeratePhysicalDevices */
  char name[VK_MAX_PHYSICAL_DEVICE_NAME_SIZE];
  VkPhysicalDeviceType type;
  char driver_name[VK_MAX_DRIVER_NAME_SIZE];
  char driver_info[VK_MAX_DRIVER_INFO_SIZE];
  VkDriverId driver_id;
  uint32_t api_version;
  uint32_t driver_version;
  uint32_t vendor_id;
  uint32_t device_id;
  uint8_t uuid[VK_UUID_SIZE];
  gboolean shader_float16;
  gboolean shader_int8;
  gboolean storage_16bit;            /* 16-bit types in storage buffers */
  gboolean cooperative_matrix;       /* VK_KHR_cooperative_matrix */
  uint32_t subgroup_size;
  uint32_t shared_memory_bytes;
  uint32_t max_workgroup_invocations;
  uint32_t max_storage_buffer_range;
  uint32_t max_texel_buffer_elements;
  VkDeviceSize max_allocation_size;
  uint32_t heap_count;
  SfMemoryHeapInfo heaps[VK_MAX_MEMORY_HEAPS];
} SfDeviceInfo;

/* Every physical device the loader sees, in its order.
 * Returns: (transfer full) (element-type SfDeviceInfo) or NULL on error. */
GPtrArray *sf_device_enumerate (GError **error);

/* Opens a device. @selector: NULL to use SFUMATO_DEVICE or the automatic
 * choice, else an index or a case-insensitive name substring.
 * Returns: (transfer full) or NULL with @error set. */
SfDevice *sf_device_open (const char *selector, GError **error);
void sf_device_free (SfDevice *device);

const SfDeviceInfo *sf_device_get_info (const SfDevice *device);

/* TRUE when the device is a CPU implementation (lavapipe, SwiftShader):
 * the engine then picks its texel-buffer kernels. */
gboolean sf_device_is_cpu (const SfDevice *device);

/* "discrete GPU", "integrated GPU", "CPU", ... */
const char *sf_device_type_name (VkPhysicalDeviceType type);

/* Number of validation-layer warnings and errors seen in this process. */
guint sf_vk_validation_message_count (void);

/* Waits until the device is idle; used before freeing shared resources. */
gboolean sf_device_wait_idle (SfDevice *device, GError **error);

/* Prints the per-op profile table (SFUMATO_PROFILE=1) to stderr and
 * clears it. Does nothing when profiling is off. */
void sf_device_print_profile (SfDevice *device);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SfDevice, sf_device_free)

G_END_DECLS
