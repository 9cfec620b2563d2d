/* Device memory: arenas of large blocks, sub-allocated with alignment.
 *
 * Each block is one VkDeviceMemory bound to one VkBuffer that spans it, so
 * an allocation is (buffer, offset, size). Weights of one model live in one
 * arena and go away together (free memory between stages); activations
 * use an arena whose ranges are released and reused. On unified-memory
 * devices (lavapipe, integrated GPUs) blocks stay mapped and uploads are
 * plain copies; elsewhere they go through a staging buffer. */
#pragma once

#include "vk_device.h"

G_BEGIN_DECLS

typedef struct SfArena SfArena;

typedef struct {
  VkBuffer buffer;       /* the block's buffer */
  VkDeviceSize offset;   /* of this allocation in @buffer */
  VkDeviceSize size;     /* bytes asked for, rounded up to the alignment */
  void *host;            /* mapped address of @offset, or NULL */
  guint block;           /* block index inside the arena */
} SfAllocation;

/* @name appears in out-of-memory messages ("UNet weights").
 * Returns: (transfer full). */
SfArena *sf_arena_new (SfDevice *device, const char *name);
void sf_arena_free (SfArena *arena);

SfDevice *sf_arena_get_device (const SfArena *arena);

/* Sub-allocates @size bytes. Out of memory gives SF_VK_ERROR_OUT_OF_MEMORY
 * with a message naming the size, the heap and the arena. */
gboolean sf_arena_alloc (SfArena *arena, VkDeviceSize size, SfAllocation *out,
                         GError **error);
/* Returns the range to the arena for reuse. */
void sf_arena_release (SfArena *arena, const SfAllocation *allocation);
/* Frees blocks that hold no allocation. */
void sf_arena_trim (SfArena *arena);

VkDeviceSize sf_arena_bytes_in_use (const SfArena *arena);
VkDeviceSize sf_arena_bytes_reserved (const SfArena *arena);

/* The alignment of every allocation's offset (and of texel-view offsets). */
VkDeviceSize sf_device_alignment (const SfDevice *device);

/* Copies between host memory and an allocation. Callers make sure no
 * submitted work is still using the range. */
gboolean sf_device_upload (SfDevice *device, const SfAllocation *dst, VkDeviceSize offset,
                           const void *src, VkDeviceSize bytes, GError **error);
gboolean sf_device_download (SfDevice *device, const SfAllocation *src, VkDeviceSize offset,
                             void *dst, VkDeviceSize bytes, GError **error);

/* Frees the device's staging buffer (called when the device is freed). */
void sf_staging_fini (SfDevice *device);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SfArena, sf_arena_free)

G_END_DECLS
