#include "vk_internal.h"
#include "vk_pipeline.h"
#include "vk_memory.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

/* The Vulkan loader unloads drivers and layers when the instance goes;
 * LeakSanitizer, which reports at exit, then cannot name the module of
 * their own leaks. Sanitizer builds keep them mapped so that
 * tests/lsan.supp can name them, in every program (the CLI too). */
static void
pin_vulkan_modules (void)
{
#ifdef SF_SANITIZE_BUILD
  static const char *const modules[] = {
    "libvulkan_lvp.so", "libVkLayer_khronos_validation.so", "libVkLayer_MESA_device_select.so",
  };
  for (gsize i = 0; i < G_N_ELEMENTS (modules); i++)
    dlopen (modules[i], RTLD_NOW | RTLD_NODELETE | RTLD_LOCAL);
#endif
}

#define VALIDATION_LAYER "VK_LAYER_KHRONOS_validation"

/* The process-wide Vulkan instance (the one global STYLE.md allows),
 * reference-counted by the devices and enumerations that use it. */
static struct {
  GMutex lock;
  VkInstance instance;
  VkDebugUtilsMessengerEXT messenger;
  guint refs;
  gboolean validation;
} instance_state;

static gint validation_messages; /* atomic */

guint
sf_vk_validation_message_count (void)
{
  return (guint) g_atomic_int_get (&validation_messages);
}

static VKAPI_ATTR VkBool32 VKAPI_CALL
on_validation_message (VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                       VkDebugUtilsMessageTypeFlagsEXT types,
                       const VkDebugUtilsMessengerCallbackDataEXT *data,
                       void *user_data)
{
  if (severity < VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT)
    return VK_FALSE;
  g_atomic_int_inc (&validation_messages);
  g_printerr ("sfumato: Vulkan validation %s: %s\n",
              severity >= VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT ? "error" : "warning",
              data && data->pMessage ? data->pMessage : "(no message)");
  return VK_FALSE;
}

static gboolean
env_flag (const char *name)
{
  const char *value = g_getenv (name);
  return value && *value && g_strcmp0 (value, "0") != 0;
}

static gboolean
layer_available (const char *layer)
{
  uint32_t count = 0;
  if (vkEnumerateInstanceLayerProperties (&count, NULL) != VK_SUCCESS)
    return FALSE;
  g_autofree VkLayerProperties *layers = g_new0 (VkLayerProperties, MAX (count, 1));
  if (vkEnumerateInstanceLayerProperties (&count, layers) != VK_SUCCESS)
    return FALSE;
  for (uint32_t i = 0; i < count; i++)
    if (strcmp (layers[i].layerName, layer) == 0)
      return TRUE;
  return FALSE;
}

static gboolean
instance_ref (GError **error)
{
  g_mutex_lock (&instance_state.lock);
  if (instance_state.refs > 0)
    {
      instance_state.refs++;
      g_mutex_unlock (&instance_state.lock);
      return TRUE;
    }

  gboolean validation = env_flag ("SFUMATO_VALIDATE");
  if (validation && !layer_available (VALIDATION_LAYER))
    {
      g_mutex_unlock (&instance_state.lock);
      g_set_error (error, SF_VK_ERROR, SF_VK_ERROR_UNSUPPORTED,
                   "SFUMATO_VALIDATE is set but the layer %s is not installed "
                   "(Debian: apt-get install vulkan-validationlayers)", VALIDATION_LAYER);
      return FALSE;
    }

  VkApplicationInfo app = {
    .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
    .pApplicationName = "Sfumato",
    .applicationVersion = VK_MAKE_API_VERSION (0, 0, 1, 0),
    .pEngineName = "Sfumato",
    .engineVersion = VK_MAKE_API_VERSION (0, 0, 1, 0),
    .apiVersion = VK_API_VERSION_1_2,
  };
  VkDebugUtilsMessengerCreateInfoEXT messenger_info = {
    .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
    .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT
                       | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
    .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT
                   | VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT
                   | VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT,
    .pfnUserCallback = on_validation_message,
  };
  /* Synchronization validation too: a missing barrier fails the tests. */
  VkValidationFeatureEnableEXT enables[] = {
    VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT,
  };
  VkValidationFeaturesEXT features = {
    .sType = VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT,
    .pNext = &messenger_info,
    .enabledValidationFeatureCount = G_N_ELEMENTS (enables),
    .pEnabledValidationFeatures = enables,
  };
  const char *layers[] = { VALIDATION_LAYER };
  const char *extensions[] = { VK_EXT_DEBUG_UTILS_EXTENSION_NAME };
  VkInstanceCreateInfo info = {
    .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
    /* Chained so that instance creation and destruction are checked too. */
    .pNext = validation ? &features : NULL,
    .pApplicationInfo = &app,
    .enabledLayerCount = validation ? 1 : 0,
    .ppEnabledLayerNames = layers,
    .enabledExtensionCount = validation ? 1 : 0,
    .ppEnabledExtensionNames = extensions,
  };
  VkInstance instance = VK_NULL_HANDLE;
  pin_vulkan_modules ();
  VkResult result = vkCreateInstance (&info, NULL, &instance);
  if (result == VK_ERROR_INCOMPATIBLE_DRIVER)
    {
      g_mutex_unlock (&instance_state.lock);
      g_set_error (error, SF_VK_ERROR, SF_VK_ERROR_NO_DEVICE,
                   "No Vulkan driver found. Install your GPU's Vulkan driver, or "
                   "Mesa's lavapipe to run on the CPU (Debian: apt-get install "
                   "mesa-vulkan-drivers)");
      return FALSE;
    }
  if (!sf_vk_check (result, "vkCreateInstance", error))
    {
      g_mutex_unlock (&instance_state.lock);
      return FALSE;
    }

  VkDebugUtilsMessengerEXT messenger = VK_NULL_HANDLE;
  if (validation)
    {
      PFN_vkCreateDebugUtilsMessengerEXT create_messenger = (PFN_vkCreateDebugUtilsMessengerEXT)
        vkGetInstanceProcAddr (instance, "vkCreateDebugUtilsMessengerEXT");
      if (!create_messenger
          || !sf_vk_check (create_messenger (instance, &messenger_info, NULL, &messenger),
                           "vkCreateDebugUtilsMessengerEXT", error))
        {
          if (!create_messenger)
            g_set_error (error, SF_VK_ERROR, SF_VK_ERROR_UNSUPPORTED,
                         "VK_EXT_debug_utils is not available for validation");
          vkDestroyInstance (instance, NULL);
          g_mutex_unlock (&instance_state.lock);
          return FALSE;
        }
    }

  instance_state.instance = instance;
  instance_state.messenger = messenger;
  instance_state.validation = validation;
  instance_state.refs = 1;
  g_mutex_unlock (&instance_state.lock);
  return TRUE;
}

static void
instance_unref (void)
{
  g_mutex_lock (&instance_state.lock);
  g_assert (instance_state.refs > 0);
  if (--instance_state.refs == 0)
    {
      if (instance_state.messenger)
        {
          PFN_vkDestroyDebugUtilsMessengerEXT destroy_messenger = (PFN_vkDestroyDebugUtilsMessengerEXT)
            vkGetInstanceProcAddr (instance_state.instance, "vkDestroyDebugUtilsMessengerEXT");
          if (destroy_messenger)
            destroy_messenger (instance_state.instance, instance_state.messenger, NULL);
        }
      vkDestroyInstance (instance_state.instance, NULL);
      instance_state.instance = VK_NULL_HANDLE;
      instance_state.messenger = VK_NULL_HANDLE;
    }
  g_mutex_unlock (&instance_state.lock);
}

static gboolean
has_device_extension (VkPhysicalDevice physical, const char *name)
{
  uint32_t count = 0;
  if (vkEnumerateDeviceExtensionProperties (physical, NULL, &count, NULL) != VK_SUCCESS)
    return FALSE;
  g_autofree VkExtensionProperties *props = g_new0 (VkExtensionProperties, MAX (count, 1));
  if (vkEnumerateDeviceExtensionProperties (physical, NULL, &count, props) != VK_SUCCESS)
    return FALSE;
  for (uint32_t i = 0; i < count; i++)
    if (strcmp (props[i].extensionName, name) == 0)
      return TRUE;
  return FALSE;
}

static void
describe_physical_device (VkPhysicalDevice physical, guint index, SfDeviceInfo *info)
{
  VkPhysicalDeviceDriverProperties driver = {
    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES,
  };
  VkPhysicalDeviceSubgroupProperties subgroup = {
    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES,
    .pNext = &driver,
  };
  VkPhysicalDeviceProperties2 props = {
    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
    .pNext = &subgroup,
  };
  vkGetPhysicalDeviceProperties2 (physical, &props);

  VkPhysicalDeviceShaderFloat16Int8Features f16i8 = {
    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES,
  };
  VkPhysicalDevice16BitStorageFeatures storage16 = {
    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES,
    .pNext = &f16i8,
  };
  VkPhysicalDeviceFeatures2 features = {
    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
    .pNext = &storage16,
  };
  vkGetPhysicalDeviceFeatures2 (physical, &features);

  VkPhysicalDeviceMemoryProperties memory;
  vkGetPhysicalDeviceMemoryProperties (physical, &memory);

  const VkPhysicalDeviceLimits *limits = &props.properties.limits;
  memset (info, 0, sizeof *info);
  info->index = index;
  g_strlcpy (info->name, props.properties.deviceName, sizeof info->name);
  info->type = props.properties.deviceType;
  g_strlcpy (info->driver_name, driver.driverName, sizeof info->driver_name);
  g_strlcpy (info->driver_info, driver.driverInfo, sizeof info->driver_info);
  info->driver_id = driver.driverID;
  info->api_version = props.properties.apiVersion;
  info->driver_version = props.properties.driverVersion;
  info->vendor_id = props.properties.vendorID;
  info->device_id = props.properties.deviceID;
  memcpy (info->uuid, props.properties.pipelineCacheUUID, VK_UUID_SIZE);
  info->shader_float16 = f16i8.shaderFloat16;
  info->shader_int8 = f16i8.shaderInt8;
  info->storage_16bit = storage16.storageBuffer16BitAccess;
  info->cooperative_matrix = has_device_extension (physical, "VK_KHR_cooperative_matrix");
  info->subgroup_size = subgroup.subgroupSize;
  info->shared_memory_bytes = limits->maxComputeSharedMemorySize;
  info->max_workgroup_invocations = limits->maxComputeWorkGroupInvocations;
  info->max_storage_buffer_range = limits->maxStorageBufferRange;
  info->max_texel_buffer_elements = limits->maxTexelBufferElements;
  info->max_allocation_size = 1u << 30;
  {
    VkPhysicalDeviceMaintenance3Properties m3 = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES,
    };
    VkPhysicalDeviceProperties2 p2 = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &m3,
    };
    vkGetPhysicalDeviceProperties2 (physical, &p2);
    if (m3.maxMemoryAllocationSize)
      info->max_allocation_size = m3.maxMemoryAllocationSize;
  }
  info->heap_count = memory.memoryHeapCount;
  for (uint32_t i = 0; i < memory.memoryHeapCount; i++)
    {
      info->heaps[i].size = memory.memoryHeaps[i].size;
      info->heaps[i].device_local = (memory.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) != 0;
    }
}

static gboolean
enumerate_physical (VkPhysicalDevice **out, uint32_t *count, GError **error)
{
  *count = 0;
  if (!sf_vk_check (vkEnumeratePhysicalDevices (instance_state.instance, count, NULL),
                    "vkEnumeratePhysicalDevices", error))
    return FALSE;
  *out = g_new0 (VkPhysicalDevice, MAX (*count, 1));
  if (!sf_vk_check (vkEnumeratePhysicalDevices (instance_state.instance, count, *out),
                    "vkEnumeratePhysicalDevices", error))
    {
      g_clear_pointer (out, g_free);
      return FALSE;
    }
  return TRUE;
}

GPtrArray *
sf_device_enumerate (GError **error)
{
  if (!instance_ref (error))
    return NULL;
  g_autofree VkPhysicalDevice *physical = NULL;
  uint32_t count = 0;
  gboolean ok = enumerate_physical (&physical, &count, error);
  GPtrArray *infos = NULL;
  if (ok)
    {
      infos = g_ptr_array_new_with_free_func (g_free);
      for (uint32_t i = 0; i < count; i++)
        {
          SfDeviceInfo *info = g_new0 (SfDeviceInfo, 1);
          describe_physical_device (physical[i], i, info);
          g_ptr_array_add (infos, info);
        }
    }
  instance_unref ();
  return infos;
}

const char *
sf_device_type_name (VkPhysicalDeviceType type)
{
  switch (type)
    {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete GPU";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated GPU";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual GPU";
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return "CPU";
    default: return "other";
    }
}

/* Higher is preferred: discrete, integrated, virtual, then CPU. */
static int
type_rank (VkPhysicalDeviceType type)
{
  switch (type)
    {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return 4;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 3;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return 2;
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return 1;
    default: return 0;
    }
}

static gboolean
find_compute_queue (VkPhysicalDevice physical, uint32_t *family, uint32_t *timestamp_bits)
{
  uint32_t count = 0;
  vkGetPhysicalDeviceQueueFamilyProperties (physical, &count, NULL);
  g_autofree VkQueueFamilyProperties *families = g_new0 (VkQueueFamilyProperties, MAX (count, 1));
  vkGetPhysicalDeviceQueueFamilyProperties (physical, &count, families);
  /* Prefer a compute queue without graphics (an async compute engine). */
  int best = -1;
  for (uint32_t i = 0; i < count; i++)
    {
      if (!(families[i].queueFlags & VK_QUEUE_COMPUTE_BIT))
        continue;
      if (best < 0 || !(families[i].queueFlags & VK_QUEUE_GRAPHICS_BIT))
        best = (int) i;
    }
  if (best < 0)
    return FALSE;
  *family = (uint32_t) best;
  *timestamp_bits = families[best].timestampValidBits;
  return TRUE;
}

static int
select_device (const SfDeviceInfo *infos, uint32_t count, const char *selector, GError **error)
{
  if (count == 0)
    {
      g_set_error (error, SF_VK_ERROR, SF_VK_ERROR_NO_DEVICE,
                   "No Vulkan device found. Install your GPU's Vulkan driver, or Mesa's "
                   "lavapipe to run on the CPU (Debian: apt-get install mesa-vulkan-drivers)");
      return -1;
    }
  if (selector && *selector)
    {
      char *end = NULL;
      guint64 index = g_ascii_strtoull (selector, &end, 10);
      if (end && *end == '\0')
        {
          if (index < count)
            return (int) index;
        }
      else
        {
          g_autofree char *needle = g_utf8_casefold (selector, -1);
          for (uint32_t i = 0; i < count; i++)
            {
              g_autofree char *name = g_utf8_casefold (infos[i].name, -1);
              if (strstr (name, needle))
                return (int) i;
            }
        }
      g_autoptr (GString) names = g_string_new (NULL);
      for (uint32_t i = 0; i < count; i++)
        g_string_append_printf (names, "%s%u: %s", i ? ", " : "", i, infos[i].name);
      g_set_error (error, SF_VK_ERROR, SF_VK_ERROR_NO_DEVICE,
                   "No Vulkan device matches \"%s\" (SFUMATO_DEVICE takes an index or "
                   "part of a name; devices: %s)", selector, names->str);
      return -1;
    }
  int best = 0;
  for (uint32_t i = 1; i < count; i++)
    if (type_rank (infos[i].type) > type_rank (infos[best].type))
      best = (int) i;
  return best;
}

/* Tensors go to the largest device-local heap; among its types, a
 * host-visible coherent one is preferred (unified memory: no staging). */
static void
choose_memory_types (SfDevice *device)
{
  VkPhysicalDeviceMemoryProperties memory;
  vkGetPhysicalDeviceMemoryProperties (device->physical, &memory);
  const VkMemoryPropertyFlags mapped = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT
                                       | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
  int best = -1;
  VkDeviceSize best_heap = 0;
  gboolean best_mapped = FALSE;
  for (uint32_t i = 0; i < memory.memoryTypeCount; i++)
    {
      VkMemoryPropertyFlags flags = memory.memoryTypes[i].propertyFlags;
      if (!(flags & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT))
        continue;
      VkDeviceSize heap = memory.memoryHeaps[memory.memoryTypes[i].heapIndex].size;
      gboolean is_mapped = (flags & mapped) == mapped;
      if (best < 0 || heap > best_heap || (heap == best_heap && is_mapped && !best_mapped))
        {
          best = (int) i;
          best_heap = heap;
          best_mapped = is_mapped;
        }
    }
  if (best < 0)
    best = 0;
  device->device_memory_type = (uint32_t) best;
  device->device_memory_mapped = (memory.memoryTypes[best].propertyFlags & mapped) == mapped;

  int staging = -1;
  for (uint32_t i = 0; i < memory.memoryTypeCount; i++)
    {
      VkMemoryPropertyFlags flags = memory.memoryTypes[i].propertyFlags;
      if ((flags & mapped) != mapped)
        continue;
      if (staging < 0 || (flags & VK_MEMORY_PROPERTY_HOST_CACHED_BIT))
        staging = (int) i;
      if (flags & VK_MEMORY_PROPERTY_HOST_CACHED_BIT)
        break;
    }
  device->staging_memory_type = staging < 0 ? device->device_memory_type : (uint32_t) staging;
}

static gboolean
create_logical_device (SfDevice *device, GError **error)
{
  VkPhysicalDeviceVulkan12Features vk12 = {
    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
    .shaderFloat16 = device->info.shader_float16,
    .shaderInt8 = device->info.shader_int8,
  };
  VkPhysicalDeviceVulkan11Features vk11 = {
    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES,
    .pNext = &vk12,
    .storageBuffer16BitAccess = device->info.storage_16bit,
  };
  VkPhysicalDeviceFeatures2 features = {
    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
    .pNext = &vk11,
  };
  float priority = 1.0f;
  VkDeviceQueueCreateInfo queue = {
    .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
    .queueFamilyIndex = device->queue_family,
    .queueCount = 1,
    .pQueuePriorities = &priority,
  };
  VkDeviceCreateInfo info = {
    .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
    .pNext = &features,
    .queueCreateInfoCount = 1,
    .pQueueCreateInfos = &queue,
  };
  if (!sf_vk_check (vkCreateDevice (device->physical, &info, NULL, &device->device),
                    "vkCreateDevice", error))
    return FALSE;
  vkGetDeviceQueue (device->device, device->queue_family, 0, &device->queue);
  return TRUE;
}

SfDevice *
sf_device_open (const char *selector, GError **error)
{
  if (!instance_ref (error))
    return NULL;

  g_autofree VkPhysicalDevice *physical = NULL;
  uint32_t count = 0;
  if (!enumerate_physical (&physical, &count, error))
    {
      instance_unref ();
      return NULL;
    }
  g_autofree SfDeviceInfo *infos = g_new0 (SfDeviceInfo, MAX (count, 1));
  for (uint32_t i = 0; i < count; i++)
    describe_physical_device (physical[i], i, &infos[i]);

  if (!selector)
    selector = g_getenv ("SFUMATO_DEVICE");
  int chosen = select_device (infos, count, selector, error);
  if (chosen < 0)
    {
      instance_unref ();
      return NULL;
    }

  SfDevice *device = g_new0 (SfDevice, 1);
  g_mutex_init (&device->lock);
  g_mutex_init (&device->queue_lock);
  device->info = infos[chosen];
  device->physical = physical[chosen];
  if (device->info.api_version < VK_API_VERSION_1_2)
    {
      g_set_error (error, SF_VK_ERROR, SF_VK_ERROR_UNSUPPORTED,
                   "%s supports Vulkan %u.%u; Sfumato needs 1.2 or newer",
                   device->info.name, VK_API_VERSION_MAJOR (device->info.api_version),
                   VK_API_VERSION_MINOR (device->info.api_version));
      sf_device_free (device);
      return NULL;
    }
  if (!find_compute_queue (device->physical, &device->queue_family, &device->timestamp_valid_bits))
    {
      g_set_error (error, SF_VK_ERROR, SF_VK_ERROR_UNSUPPORTED,
                   "%s has no compute queue", device->info.name);
      sf_device_free (device);
      return NULL;
    }
  VkPhysicalDeviceProperties props;
  vkGetPhysicalDeviceProperties (device->physical, &props);
  device->timestamp_period_ns = props.limits.timestampPeriod;
  choose_memory_types (device);

  const char *limit = g_getenv ("SFUMATO_MEMORY_LIMIT_MB");
  if (limit && *limit)
    device->memory_limit = g_ascii_strtoull (limit, NULL, 10) << 20;

  if (!create_logical_device (device, error))
    {
      sf_device_free (device);
      return NULL;
    }

  device->profiling = env_flag ("SFUMATO_PROFILE") && device->timestamp_valid_bits > 0;
  device->profile = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  VkCommandPoolCreateInfo pool_info = {
    .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
    .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
    .queueFamilyIndex = device->queue_family,
  };
  VkFenceCreateInfo fence_info = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
  if (!sf_vk_check (vkCreateCommandPool (device->device, &pool_info, NULL, &device->transfer_pool),
                    "vkCreateCommandPool", error)
      || !sf_vk_check (vkCreateFence (device->device, &fence_info, NULL, &device->transfer_fence),
                       "vkCreateFence", error))
    {
      sf_device_free (device);
      return NULL;
    }
  VkCommandBufferAllocateInfo cmd_info = {
    .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
    .commandPool = device->transfer_pool,
    .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
    .commandBufferCount = 1,
  };
  if (!sf_vk_check (vkAllocateCommandBuffers (device->device, &cmd_info, &device->transfer_cmd),
                    "vkAllocateCommandBuffers", error))
    {
      sf_device_free (device);
      return NULL;
    }

  sf_pipelines_init (device);
  return device;
}

void
sf_device_free (SfDevice *device)
{
  if (!device)
    return;
  if (device->device)
    {
      vkDeviceWaitIdle (device->device);
      sf_device_print_profile (device);
      sf_pipelines_fini (device);
      sf_staging_fini (device);
      if (device->transfer_fence)
        vkDestroyFence (device->device, device->transfer_fence, NULL);
      if (device->transfer_pool)
        vkDestroyCommandPool (device->device, device->transfer_pool, NULL);
      if (device->memory_allocated != 0)
        g_warning ("sfumato: %" G_GUINT64_FORMAT " bytes of device memory still allocated "
                   "when the device was freed", (guint64) device->memory_allocated);
      vkDestroyDevice (device->device, NULL);
    }
  g_clear_pointer (&device->profile, g_hash_table_unref);
  g_mutex_clear (&device->lock);
  g_mutex_clear (&device->queue_lock);
  g_free (device);
  instance_unref ();
}

const SfDeviceInfo *
sf_device_get_info (const SfDevice *device)
{
  return &device->info;
}

gboolean
sf_device_is_cpu (const SfDevice *device)
{
  return device->info.type == VK_PHYSICAL_DEVICE_TYPE_CPU;
}

gboolean
sf_device_wait_idle (SfDevice *device, GError **error)
{
  g_mutex_lock (&device->queue_lock);
  gboolean ok = sf_vk_check (vkDeviceWaitIdle (device->device), "vkDeviceWaitIdle", error);
  g_mutex_unlock (&device->queue_lock);
  return ok;
}

char *
sf_format_bytes (VkDeviceSize bytes)
{
  return g_format_size_full (bytes, G_FORMAT_SIZE_IEC_UNITS);
}

gboolean
sf_device_allocate_memory (SfDevice *device, VkDeviceSize size, uint32_t type,
                           const char *purpose, VkDeviceMemory *memory, GError **error)
{
  VkPhysicalDeviceMemoryProperties props;
  vkGetPhysicalDeviceMemoryProperties (device->physical, &props);
  uint32_t heap = props.memoryTypes[type].heapIndex;
  g_autofree char *size_text = sf_format_bytes (size);
  g_autofree char *heap_text = sf_format_bytes (props.memoryHeaps[heap].size);

  g_mutex_lock (&device->lock);
  gboolean over_limit = device->memory_limit
                        && device->memory_allocated + size > device->memory_limit;
  g_mutex_unlock (&device->lock);
  VkResult result = VK_ERROR_OUT_OF_DEVICE_MEMORY;
  if (size > device->info.max_allocation_size)
    {
      g_autofree char *max_text = sf_format_bytes (device->info.max_allocation_size);
      g_set_error (error, SF_VK_ERROR, SF_VK_ERROR_OUT_OF_MEMORY,
                   "Cannot allocate %s of device memory for %s: one allocation on %s "
                   "may be at most %s", size_text, purpose, device->info.name, max_text);
      return FALSE;
    }
  if (!over_limit)
    {
      VkMemoryAllocateInfo info = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .allocationSize = size,
        .memoryTypeIndex = type,
      };
      result = vkAllocateMemory (device->device, &info, NULL, memory);
    }
  if (result == VK_ERROR_OUT_OF_DEVICE_MEMORY || result == VK_ERROR_OUT_OF_HOST_MEMORY)
    {
      g_autofree char *used_text = sf_format_bytes (device->memory_allocated);
      g_set_error (error, SF_VK_ERROR, SF_VK_ERROR_OUT_OF_MEMORY,
                   "Out of device memory: could not allocate %s for %s from heap %u "
                   "(%s%s) of %s; %s already in use by Sfumato%s",
                   size_text, purpose, heap, heap_text,
                   props.memoryHeaps[heap].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT
                     ? ", device-local" : "",
                   device->info.name, used_text,
                   over_limit ? " (limit set by SFUMATO_MEMORY_LIMIT_MB)" : "");
      return FALSE;
    }
  if (!sf_vk_check (result, "vkAllocateMemory", error))
    return FALSE;
  g_mutex_lock (&device->lock);
  device->memory_allocated += size;
  g_mutex_unlock (&device->lock);
  return TRUE;
}

void
sf_device_release_memory (SfDevice *device, VkDeviceMemory memory, VkDeviceSize size)
{
  if (!memory)
    return;
  vkFreeMemory (device->device, memory, NULL);
  g_mutex_lock (&device->lock);
  device->memory_allocated -= size;
  g_mutex_unlock (&device->lock);
}

void
sf_device_profile_add (SfDevice *device, const char *op, double ns, double flops, double bytes)
{
  g_mutex_lock (&device->lock);
  SfProfileEntry *entry = g_hash_table_lookup (device->profile, op);
  if (!entry)
    {
      entry = g_new0 (SfProfileEntry, 1);
      g_hash_table_insert (device->profile, g_strdup (op), entry);
    }
  entry->calls++;
  entry->total_ns += ns;
  entry->flops += flops;
  entry->bytes += bytes;
  g_mutex_unlock (&device->lock);
}

static gint
compare_by_time (gconstpointer a, gconstpointer b, gpointer profile)
{
  const SfProfileEntry *ea = g_hash_table_lookup (profile, *(const char **) a);
  const SfProfileEntry *eb = g_hash_table_lookup (profile, *(const char **) b);
  return (ea->total_ns < eb->total_ns) - (ea->total_ns > eb->total_ns);
}

void
sf_device_print_profile (SfDevice *device)
{
  if (!device->profiling || g_hash_table_size (device->profile) == 0)
    return;
  g_mutex_lock (&device->lock);
  g_autoptr (GPtrArray) names = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer key;
  g_hash_table_iter_init (&iter, device->profile);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (names, key);
  g_ptr_array_sort_with_data (names, compare_by_time, device->profile);
  double total = 0;
  for (guint i = 0; i < names->len; i++)
    total += ((SfProfileEntry *) g_hash_table_lookup (device->profile, names->pdata[i]))->total_ns;
  fprintf (stderr, "\nSfumato profile on %s\n", device->info.name);
  fprintf (stderr, "%-28s %8s %12s %7s %10s %10s\n", "op", "calls", "total ms", "%", "GFLOP/s", "GB/s");
  for (guint i = 0; i < names->len; i++)
    {
      const SfProfileEntry *e = g_hash_table_lookup (device->profile, names->pdata[i]);
      double seconds = e->total_ns * 1e-9;
      fprintf (stderr, "%-28s %8u %12.3f %6.1f%% %10.2f %10.2f\n", (const char *) names->pdata[i],
               e->calls, e->total_ns * 1e-6, total > 0 ? 100.0 * e->total_ns / total : 0.0,
               seconds > 0 ? e->flops / seconds * 1e-9 : 0.0,
               seconds > 0 ? e->bytes / seconds * 1e-9 : 0.0);
    }
  fprintf (stderr, "%-28s %8s %12.3f\n", "total", "", total * 1e-6);
  g_hash_table_remove_all (device->profile);
  g_mutex_unlock (&device->lock);
}
