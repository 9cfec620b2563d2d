#include "vk_memory.h"
#include "vk_internal.h"

#include <string.h>

#define DEFAULT_BLOCK_BYTES ((VkDeviceSize) 256 << 20)
#define STAGING_BYTES ((VkDeviceSize) 32 << 20)

typedef struct {
  VkDeviceSize offset;
  VkDeviceSize size;
} Range;

typedef struct {
  VkDeviceMemory memory;
  VkBuffer buffer;
  VkDeviceSize size;
  void *host;
  GArray *free_ranges;   /* of Range, sorted by offset, never adjacent */
  VkDeviceSize used;
} Block;

struct SfArena {
  SfDevice *device;
  char *name;
  GPtrArray *blocks;     /* of Block*, NULL where freed by trim */
  VkDeviceSize in_use;
};

VkDeviceSize
sf_device_alignment (const SfDevice *device)
{
  VkPhysicalDeviceProperties props;
  vkGetPhysicalDeviceProperties (device->physical, &props);
  VkDeviceSize align = 256;
  align = MAX (align, props.limits.minStorageBufferOffsetAlignment);
  align = MAX (align, props.limits.minTexelBufferOffsetAlignment);
  return align;
}

static VkDeviceSize
round_up (VkDeviceSize value, VkDeviceSize align)
{
  return (value + align - 1) / align * align;
}

static const VkBufferUsageFlags BUFFER_USAGE =
  VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_STORAGE_TEXEL_BUFFER_BIT
  | VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT
  | VK_BUFFER_USAGE_TRANSFER_DST_BIT;

static void
block_destroy (SfDevice *device, Block *block)
{
  if (!block)
    return;
  if (block->buffer)
    vkDestroyBuffer (device->device, block->buffer, NULL);
  if (block->host)
    vkUnmapMemory (device->device, block->memory);
  sf_device_release_memory (device, block->memory, block->size);
  g_array_unref (block->free_ranges);
  g_free (block);
}

/* A buffer over a fresh allocation of @type. */
static Block *
block_create (SfDevice *device, VkDeviceSize size, uint32_t type, gboolean map,
              const char *purpose, GError **error)
{
  Block *block = g_new0 (Block, 1);
  block->size = size;
  block->free_ranges = g_array_new (FALSE, FALSE, sizeof (Range));

  VkBufferCreateInfo buffer_info = {
    .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
    .size = size,
    .usage = BUFFER_USAGE,
    .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
  };
  if (!sf_vk_check (vkCreateBuffer (device->device, &buffer_info, NULL, &block->buffer),
                    "vkCreateBuffer", error))
    goto fail;
  VkMemoryRequirements req;
  vkGetBufferMemoryRequirements (device->device, block->buffer, &req);
  if (!(req.memoryTypeBits & (1u << type)))
    {
      g_set_error (error, SF_VK_ERROR, SF_VK_ERROR_UNSUPPORTED,
                   "%s cannot place storage buffers in memory type %u",
                   device->info.name, type);
      goto fail;
    }
  if (!sf_device_allocate_memory (device, req.size, type, purpose, &block->memory, error))
    goto fail;
  block->size = req.size;
  if (!sf_vk_check (vkBindBufferMemory (device->device, block->buffer, block->memory, 0),
                    "vkBindBufferMemory", error))
    goto fail;
  if (map && !sf_vk_check (vkMapMemory (device->device, block->memory, 0, VK_WHOLE_SIZE, 0,
                                        &block->host), "vkMapMemory", error))
    goto fail;
  Range all = { 0, size };
  g_array_append_val (block->free_ranges, all);
  return block;

fail:
  block_destroy (device, block);
  return NULL;
}

SfArena *
sf_arena_new (SfDevice *device, const char *name)
{
  SfArena *arena = g_new0 (SfArena, 1);
  arena->device = device;
  arena->name = g_strdup (name);
  arena->blocks = g_ptr_array_new ();
  return arena;
}

void
sf_arena_free (SfArena *arena)
{
  if (!arena)
    return;
  for (guint i = 0; i < arena->blocks->len; i++)
    block_destroy (arena->device, arena->blocks->pdata[i]);
  g_ptr_array_unref (arena->blocks);
  g_free (arena->name);
  g_free (arena);
}

SfDevice *
sf_arena_get_device (const SfArena *arena)
{
  return arena->device;
}

/* First fit inside one block. */
static gboolean
block_take (Block *block, VkDeviceSize size, VkDeviceSize *offset)
{
  for (guint i = 0; i < block->free_ranges->len; i++)
    {
      Range *range = &g_array_index (block->free_ranges, Range, i);
      if (range->size < size)
        continue;
      *offset = range->offset;
      range->offset += size;
      range->size -= size;
      if (range->size == 0)
        g_array_remove_index (block->free_ranges, i);
      block->used += size;
      return TRUE;
    }
  return FALSE;
}

static void
fill_allocation (SfArena *arena, guint index, VkDeviceSize offset, VkDeviceSize size,
                 SfAllocation *out)
{
  Block *block = arena->blocks->pdata[index];
  out->buffer = block->buffer;
  out->offset = offset;
  out->size = size;
  out->host = block->host ? (char *) block->host + offset : NULL;
  out->block = index;
  arena->in_use += size;
}

gboolean
sf_arena_alloc (SfArena *arena, VkDeviceSize size, SfAllocation *out, GError **error)
{
  SfDevice *device = arena->device;
  VkDeviceSize align = sf_device_alignment (device);
  size = round_up (MAX (size, 1), align);

  for (guint i = 0; i < arena->blocks->len; i++)
    {
      Block *block = arena->blocks->pdata[i];
      VkDeviceSize offset;
      if (block && block_take (block, size, &offset))
        {
          fill_allocation (arena, i, offset, size, out);
          return TRUE;
        }
    }

  /* A new block: the default size, or just the request when that is larger
   * or when the default would not fit under the memory limit. */
  g_autofree char *purpose = g_strdup_printf ("\"%s\"", arena->name);
  VkDeviceSize block_size = MAX (size, DEFAULT_BLOCK_BYTES);
  block_size = MIN (block_size, MAX (size, device->info.max_allocation_size));
  if (device->memory_limit && device->memory_allocated + block_size > device->memory_limit)
    block_size = size;
  Block *block = block_create (device, block_size, device->device_memory_type,
                               device->device_memory_mapped, purpose, NULL);
  if (!block && block_size > size)
    block = block_create (device, size, device->device_memory_type,
                          device->device_memory_mapped, purpose, NULL);
  if (!block)
    block = block_create (device, size, device->device_memory_type,
                          device->device_memory_mapped, purpose, error);
  if (!block)
    return FALSE;

  guint index = arena->blocks->len;
  for (guint i = 0; i < arena->blocks->len; i++)
    if (!arena->blocks->pdata[i])
      {
        index = i;
        break;
      }
  if (index == arena->blocks->len)
    g_ptr_array_add (arena->blocks, block);
  else
    arena->blocks->pdata[index] = block;

  VkDeviceSize offset;
  gboolean ok = block_take (block, size, &offset);
  g_assert (ok);
  fill_allocation (arena, index, offset, size, out);
  return TRUE;
}

void
sf_arena_release (SfArena *arena, const SfAllocation *allocation)
{
  if (!allocation || !allocation->buffer)
    return;
  g_return_if_fail (allocation->block < arena->blocks->len);
  Block *block = arena->blocks->pdata[allocation->block];
  g_return_if_fail (block && block->buffer == allocation->buffer);

  /* Insert sorted and merge with neighbours. */
  GArray *ranges = block->free_ranges;
  guint at = 0;
  while (at < ranges->len && g_array_index (ranges, Range, at).offset < allocation->offset)
    at++;
  Range range = { allocation->offset, allocation->size };
  g_array_insert_val (ranges, at, range);
  if (at + 1 < ranges->len)
    {
      Range *self = &g_array_index (ranges, Range, at);
      Range *next = &g_array_index (ranges, Range, at + 1);
      g_return_if_fail (self->offset + self->size <= next->offset);
      if (self->offset + self->size == next->offset)
        {
          self->size += next->size;
          g_array_remove_index (ranges, at + 1);
        }
    }
  if (at > 0)
    {
      Range *prev = &g_array_index (ranges, Range, at - 1);
      Range *self = &g_array_index (ranges, Range, at);
      if (prev->offset + prev->size == self->offset)
        {
          prev->size += self->size;
          g_array_remove_index (ranges, at);
        }
    }
  block->used -= allocation->size;
  arena->in_use -= allocation->size;
}

void
sf_arena_trim (SfArena *arena)
{
  for (guint i = 0; i < arena->blocks->len; i++)
    {
      Block *block = arena->blocks->pdata[i];
      if (block && block->used == 0)
        {
          block_destroy (arena->device, block);
          arena->blocks->pdata[i] = NULL;
        }
    }
}

VkDeviceSize
sf_arena_bytes_in_use (const SfArena *arena)
{
  return arena->in_use;
}

VkDeviceSize
sf_arena_bytes_reserved (const SfArena *arena)
{
  VkDeviceSize total = 0;
  for (guint i = 0; i < arena->blocks->len; i++)
    if (arena->blocks->pdata[i])
      total += ((Block *) arena->blocks->pdata[i])->size;
  return total;
}

/* ---- staging ---------------------------------------------------------- */

static gboolean
staging_ensure (SfDevice *device, GError **error)
{
  if (device->staging_buffer)
    return TRUE;
  Block *block = block_create (device, STAGING_BYTES, device->staging_memory_type, TRUE,
                               "the staging buffer", error);
  if (!block)
    return FALSE;
  device->staging_buffer = block->buffer;
  device->staging_memory = block->memory;
  device->staging_host = block->host;
  device->staging_size = block->size;
  g_array_unref (block->free_ranges);
  g_free (block);
  return TRUE;
}

void
sf_staging_fini (SfDevice *device)
{
  if (!device->staging_buffer)
    return;
  vkDestroyBuffer (device->device, device->staging_buffer, NULL);
  vkUnmapMemory (device->device, device->staging_memory);
  sf_device_release_memory (device, device->staging_memory, device->staging_size);
  device->staging_buffer = VK_NULL_HANDLE;
  device->staging_memory = VK_NULL_HANDLE;
  device->staging_host = NULL;
}

/* One copy through the transfer command buffer; device->queue_lock held. */
static gboolean
copy_and_wait (SfDevice *device, VkBuffer src, VkDeviceSize src_offset, VkBuffer dst,
               VkDeviceSize dst_offset, VkDeviceSize bytes, GError **error)
{
  VkCommandBuffer cmd = device->transfer_cmd;
  VkCommandBufferBeginInfo begin = {
    .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
    .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
  };
  if (!sf_vk_check (vkResetCommandBuffer (cmd, 0), "vkResetCommandBuffer", error)
      || !sf_vk_check (vkBeginCommandBuffer (cmd, &begin), "vkBeginCommandBuffer", error))
    return FALSE;
  /* Earlier compute writes become visible to the copy, and the copy's
   * writes to later work (submission order alone does not do that). */
  VkMemoryBarrier before = {
    .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
    .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_HOST_WRITE_BIT,
    .dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
  };
  vkCmdPipelineBarrier (cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_HOST_BIT,
                        VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &before, 0, NULL, 0, NULL);
  VkBufferCopy region = { src_offset, dst_offset, bytes };
  vkCmdCopyBuffer (cmd, src, dst, 1, &region);
  VkMemoryBarrier after = {
    .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
    .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
    .dstAccessMask = VK_ACCESS_HOST_READ_BIT | VK_ACCESS_SHADER_READ_BIT,
  };
  vkCmdPipelineBarrier (cmd, VK_PIPELINE_STAGE_TRANSFER_BIT,
                        VK_PIPELINE_STAGE_HOST_BIT | VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                        0, 1, &after, 0, NULL, 0, NULL);
  if (!sf_vk_check (vkEndCommandBuffer (cmd), "vkEndCommandBuffer", error))
    return FALSE;
  VkSubmitInfo submit = {
    .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
    .commandBufferCount = 1,
    .pCommandBuffers = &cmd,
  };
  if (!sf_vk_check (vkResetFences (device->device, 1, &device->transfer_fence),
                    "vkResetFences", error)
      || !sf_vk_check (vkQueueSubmit (device->queue, 1, &submit, device->transfer_fence),
                       "vkQueueSubmit", error)
      || !sf_vk_check (vkWaitForFences (device->device, 1, &device->transfer_fence, VK_TRUE,
                                        UINT64_MAX), "vkWaitForFences", error))
    return FALSE;
  return TRUE;
}

static gboolean
check_range (const SfAllocation *allocation, VkDeviceSize offset, VkDeviceSize bytes,
             GError **error)
{
  if (offset > allocation->size || bytes > allocation->size - offset)
    {
      g_set_error (error, SF_VK_ERROR, SF_VK_ERROR_INVALID,
                   "Copy of %" G_GUINT64_FORMAT " bytes at %" G_GUINT64_FORMAT
                   " is outside an allocation of %" G_GUINT64_FORMAT " bytes",
                   (guint64) bytes, (guint64) offset, (guint64) allocation->size);
      return FALSE;
    }
  return TRUE;
}

gboolean
sf_device_upload (SfDevice *device, const SfAllocation *dst, VkDeviceSize offset,
                  const void *src, VkDeviceSize bytes, GError **error)
{
  if (!check_range (dst, offset, bytes, error))
    return FALSE;
  if (dst->host)
    {
      memcpy ((char *) dst->host + offset, src, bytes);
      return TRUE;
    }
  g_mutex_lock (&device->queue_lock);
  gboolean ok = staging_ensure (device, error);
  for (VkDeviceSize done = 0; ok && done < bytes;)
    {
      VkDeviceSize chunk = MIN (bytes - done, device->staging_size);
      memcpy (device->staging_host, (const char *) src + done, chunk);
      ok = copy_and_wait (device, device->staging_buffer, 0, dst->buffer,
                          dst->offset + offset + done, chunk, error);
      done += chunk;
    }
  g_mutex_unlock (&device->queue_lock);
  return ok;
}

gboolean
sf_device_download (SfDevice *device, const SfAllocation *src, VkDeviceSize offset,
                    void *dst, VkDeviceSize bytes, GError **error)
{
  if (!check_range (src, offset, bytes, error))
    return FALSE;
  if (src->host)
    {
      memcpy (dst, (const char *) src->host + offset, bytes);
      return TRUE;
    }
  g_mutex_lock (&device->queue_lock);
  gboolean ok = staging_ensure (device, error);
  for (VkDeviceSize done = 0; ok && done < bytes;)
    {
      VkDeviceSize chunk = MIN (bytes - done, device->staging_size);
      ok = copy_and_wait (device, src->buffer, src->offset + offset + done,
                          device->staging_buffer, 0, chunk, error);
      if (ok)
        memcpy ((char *) dst + done, device->staging_host, chunk);
      done += chunk;
    }
  g_mutex_unlock (&device->queue_lock);
  return ok;
}
