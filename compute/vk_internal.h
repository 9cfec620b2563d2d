/* Internals shared by the compute core's modules (vk_*.c, ops): the
 * device struct and small helpers. Nothing outside compute/ includes this. */
#pragma once

#include "vk_device.h"
#include "vk_error.h"

typedef struct SfPipeline SfPipeline;

typedef struct {
  guint calls;
  double total_ns;
  double flops;
  double bytes;
} SfProfileEntry;

struct SfDevice {
  SfDeviceInfo info;
  VkPhysicalDevice physical;
  VkDevice device;
  VkQueue queue;
  uint32_t queue_family;
  uint32_t timestamp_valid_bits;
  double timestamp_period_ns;

  /* Memory types: where tensors live, and where staging copies live. */
  uint32_t device_memory_type;
  gboolean device_memory_mapped;     /* device-local and host-visible+coherent */
  uint32_t staging_memory_type;
  VkDeviceSize memory_limit;         /* SFUMATO_MEMORY_LIMIT_MB, 0 = none */
  VkDeviceSize memory_allocated;     /* bytes in live VkDeviceMemory blocks */

  GMutex queue_lock;                 /* guards the queue and the transfer objects */
  GMutex lock;                       /* guards pipelines, profile, memory counters */
  GHashTable *set_layouts;           /* bindings string -> VkDescriptorSetLayout */
  GHashTable *pipelines;             /* key -> SfPipeline* */
  VkPipelineCache pipeline_cache;
  char *pipeline_cache_path;         /* NULL when no cache dir is usable */

  /* One-shot transfers (uploads/downloads through staging). */
  VkCommandPool transfer_pool;
  VkCommandBuffer transfer_cmd;
  VkFence transfer_fence;
  VkBuffer staging_buffer;
  VkDeviceMemory staging_memory;
  void *staging_host;
  VkDeviceSize staging_size;

  gboolean profiling;
  GHashTable *profile;               /* op name -> SfProfileEntry* */
};

/* Allocates device memory of @type, honouring SFUMATO_MEMORY_LIMIT_MB, and
 * turns failure into an error naming the size and the heap. */
gboolean sf_device_allocate_memory (SfDevice *device, VkDeviceSize size,
                                    uint32_t type, const char *purpose,
                                    VkDeviceMemory *memory, GError **error);
void sf_device_release_memory (SfDevice *device, VkDeviceMemory memory,
                               VkDeviceSize size);

/* Adds one timed dispatch to the profile table. */
void sf_device_profile_add (SfDevice *device, const char *op, double ns,
                            double flops, double bytes);

/* Human-readable byte count, e.g. "1.5 GiB". Returns: (transfer full). */
char *sf_format_bytes (VkDeviceSize bytes);
