#include "vk_stream.h"
#include "vk_internal.h"

#include <string.h>

#define POOL_SETS 512
#define QUERIES_PER_POOL 4096

typedef struct {
  VkBuffer buffer;
  VkDeviceSize begin;
  VkDeviceSize end;
} Span;

typedef struct {
  VkBuffer buffer;
  VkDeviceSize offset;
  VkDeviceSize range;
  VkFormat format;
} ViewKey;

typedef struct {
  const char *label;     /* interned */
  double flops;
  double bytes;
  VkQueryPool pool;
  uint32_t query;        /* start; end is query + 1 */
} Timed;

typedef enum { STREAM_EMPTY, STREAM_RECORDING, STREAM_READY } StreamState;

struct SfStream {
  SfDevice *device;
  VkCommandPool command_pool;
  VkCommandBuffer cmd;
  VkFence fence;
  StreamState state;
  guint dispatches;

  GPtrArray *descriptor_pools;   /* VkDescriptorPool */
  GArray *views;                 /* ViewKey, parallel to view_handles */
  GArray *view_handles;          /* VkBufferView */
  GHashTable *view_index;        /* ViewKey* (in a private copy) -> index+1 */

  GArray *written;               /* Span written since the last barrier */
  GArray *read;                  /* Span read since the last barrier */

  GPtrArray *query_pools;        /* VkQueryPool, only when profiling */
  uint32_t queries_used;         /* in the last pool */
  GArray *timed;                 /* Timed */
};

static guint
view_key_hash (gconstpointer data)
{
  const ViewKey *key = data;
  return g_int64_hash (&key->offset) ^ (guint) (gsize) key->buffer ^ (guint) key->range * 31u
         ^ (guint) key->format * 131u;
}

static gboolean
view_key_equal (gconstpointer a, gconstpointer b)
{
  return memcmp (a, b, sizeof (ViewKey)) == 0;
}

SfStream *
sf_stream_new (SfDevice *device, GError **error)
{
  SfStream *stream = g_new0 (SfStream, 1);
  stream->device = device;
  stream->descriptor_pools = g_ptr_array_new ();
  stream->views = g_array_new (FALSE, FALSE, sizeof (ViewKey));
  stream->view_handles = g_array_new (FALSE, FALSE, sizeof (VkBufferView));
  stream->view_index = g_hash_table_new_full (view_key_hash, view_key_equal, g_free, NULL);
  stream->written = g_array_new (FALSE, FALSE, sizeof (Span));
  stream->read = g_array_new (FALSE, FALSE, sizeof (Span));
  stream->query_pools = g_ptr_array_new ();
  stream->timed = g_array_new (FALSE, FALSE, sizeof (Timed));

  VkCommandPoolCreateInfo pool_info = {
    .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
    .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
    .queueFamilyIndex = device->queue_family,
  };
  VkFenceCreateInfo fence_info = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
  if (!sf_vk_check (vkCreateCommandPool (device->device, &pool_info, NULL, &stream->command_pool),
                    "vkCreateCommandPool", error)
      || !sf_vk_check (vkCreateFence (device->device, &fence_info, NULL, &stream->fence),
                       "vkCreateFence", error))
    {
      sf_stream_free (stream);
      return NULL;
    }
  VkCommandBufferAllocateInfo cmd_info = {
    .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
    .commandPool = stream->command_pool,
    .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
    .commandBufferCount = 1,
  };
  if (!sf_vk_check (vkAllocateCommandBuffers (device->device, &cmd_info, &stream->cmd),
                    "vkAllocateCommandBuffers", error))
    {
      sf_stream_free (stream);
      return NULL;
    }
  return stream;
}

static void
release_recording (SfStream *stream)
{
  VkDevice vk = stream->device->device;
  for (guint i = 0; i < stream->view_handles->len; i++)
    vkDestroyBufferView (vk, g_array_index (stream->view_handles, VkBufferView, i), NULL);
  g_array_set_size (stream->views, 0);
  g_array_set_size (stream->view_handles, 0);
  g_hash_table_remove_all (stream->view_index);
  for (guint i = 0; i < stream->descriptor_pools->len; i++)
    vkDestroyDescriptorPool (vk, stream->descriptor_pools->pdata[i], NULL);
  g_ptr_array_set_size (stream->descriptor_pools, 0);
  for (guint i = 0; i < stream->query_pools->len; i++)
    vkDestroyQueryPool (vk, stream->query_pools->pdata[i], NULL);
  g_ptr_array_set_size (stream->query_pools, 0);
  stream->queries_used = 0;
  g_array_set_size (stream->timed, 0);
  g_array_set_size (stream->written, 0);
  g_array_set_size (stream->read, 0);
  stream->dispatches = 0;
}

void
sf_stream_free (SfStream *stream)
{
  if (!stream)
    return;
  VkDevice vk = stream->device->device;
  release_recording (stream);
  if (stream->fence)
    vkDestroyFence (vk, stream->fence, NULL);
  if (stream->command_pool)
    vkDestroyCommandPool (vk, stream->command_pool, NULL);
  g_ptr_array_unref (stream->descriptor_pools);
  g_array_unref (stream->views);
  g_array_unref (stream->view_handles);
  g_hash_table_unref (stream->view_index);
  g_array_unref (stream->written);
  g_array_unref (stream->read);
  g_ptr_array_unref (stream->query_pools);
  g_array_unref (stream->timed);
  g_free (stream);
}

SfDevice *
sf_stream_get_device (const SfStream *stream)
{
  return stream->device;
}

guint
sf_stream_get_dispatch_count (const SfStream *stream)
{
  return stream->dispatches;
}

void
sf_stream_reset (SfStream *stream)
{
  vkResetCommandBuffer (stream->cmd, 0);
  release_recording (stream);
  stream->state = STREAM_EMPTY;
}

static void
full_barrier (VkCommandBuffer cmd)
{
  VkMemoryBarrier barrier = {
    .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
    .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
    .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT
                     | VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
  };
  VkPipelineStageFlags stages = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
  vkCmdPipelineBarrier (cmd, stages, stages, 0, 1, &barrier, 0, NULL, 0, NULL);
}

static gboolean
begin_if_needed (SfStream *stream, GError **error)
{
  if (stream->state == STREAM_RECORDING)
    return TRUE;
  if (stream->state == STREAM_READY)
    {
      g_set_error (error, SF_VK_ERROR, SF_VK_ERROR_INVALID,
                   "A stream that has run must be reset before recording more");
      return FALSE;
    }
  VkCommandBufferBeginInfo begin = { .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO };
  if (!sf_vk_check (vkBeginCommandBuffer (stream->cmd, &begin), "vkBeginCommandBuffer", error))
    return FALSE;
  /* Writes of an earlier run (or of another stream) become visible. */
  full_barrier (stream->cmd);
  stream->state = STREAM_RECORDING;
  return TRUE;
}

static gboolean
spans_overlap (const GArray *spans, const Span *span)
{
  for (guint i = 0; i < spans->len; i++)
    {
      const Span *other = &g_array_index (spans, Span, i);
      if (other->buffer == span->buffer && other->begin < span->end && span->begin < other->end)
        return TRUE;
    }
  return FALSE;
}

/* Records a barrier when the accesses in @spans (@writes says which are
 * written) conflict with what ran since the last barrier. */
static void
track_hazards (SfStream *stream, const Span *spans, const gboolean *writes, guint count)
{
  gboolean needed = FALSE;
  for (guint i = 0; i < count && !needed; i++)
    needed = spans_overlap (stream->written, &spans[i])
             || (writes[i] && spans_overlap (stream->read, &spans[i]));
  if (needed)
    {
      full_barrier (stream->cmd);
      g_array_set_size (stream->written, 0);
      g_array_set_size (stream->read, 0);
    }
  for (guint i = 0; i < count; i++)
    g_array_append_val (writes[i] ? stream->written : stream->read, spans[i]);
}

static VkBufferView
get_view (SfStream *stream, const SfBinding *binding, GError **error)
{
  ViewKey key = { binding->buffer, binding->offset, binding->range, binding->format };
  gpointer found = g_hash_table_lookup (stream->view_index, &key);
  if (found)
    return g_array_index (stream->view_handles, VkBufferView, GPOINTER_TO_UINT (found) - 1);
  VkBufferViewCreateInfo info = {
    .sType = VK_STRUCTURE_TYPE_BUFFER_VIEW_CREATE_INFO,
    .buffer = binding->buffer,
    .format = binding->format,
    .offset = binding->offset,
    .range = binding->range,
  };
  VkBufferView view = VK_NULL_HANDLE;
  if (!sf_vk_check (vkCreateBufferView (stream->device->device, &info, NULL, &view),
                    "vkCreateBufferView", error))
    return VK_NULL_HANDLE;
  g_array_append_val (stream->views, key);
  g_array_append_val (stream->view_handles, view);
  g_hash_table_insert (stream->view_index, g_memdup2 (&key, sizeof key),
                       GUINT_TO_POINTER (stream->view_handles->len));
  return view;
}

static VkDescriptorSet
allocate_set (SfStream *stream, VkDescriptorSetLayout layout, GError **error)
{
  VkDevice vk = stream->device->device;
  for (int attempt = 0; attempt < 2; attempt++)
    {
      if (stream->descriptor_pools->len > 0)
        {
          VkDescriptorSetAllocateInfo info = {
            .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
            .descriptorPool = g_ptr_array_index (stream->descriptor_pools,
                                                 stream->descriptor_pools->len - 1),
            .descriptorSetCount = 1,
            .pSetLayouts = &layout,
          };
          VkDescriptorSet set = VK_NULL_HANDLE;
          VkResult result = vkAllocateDescriptorSets (vk, &info, &set);
          if (result == VK_SUCCESS)
            return set;
          if (result != VK_ERROR_OUT_OF_POOL_MEMORY && result != VK_ERROR_FRAGMENTED_POOL)
            {
              sf_vk_check (result, "vkAllocateDescriptorSets", error);
              return VK_NULL_HANDLE;
            }
        }
      VkDescriptorPoolSize sizes[] = {
        { VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER, POOL_SETS * 6 },
        { VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER, POOL_SETS * 2 },
        { VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, POOL_SETS * 4 },
      };
      VkDescriptorPoolCreateInfo pool_info = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
        .maxSets = POOL_SETS,
        .poolSizeCount = G_N_ELEMENTS (sizes),
        .pPoolSizes = sizes,
      };
      VkDescriptorPool pool = VK_NULL_HANDLE;
      if (!sf_vk_check (vkCreateDescriptorPool (vk, &pool_info, NULL, &pool),
                        "vkCreateDescriptorPool", error))
        return VK_NULL_HANDLE;
      g_ptr_array_add (stream->descriptor_pools, pool);
    }
  g_set_error (error, SF_VK_ERROR, SF_VK_ERROR_FAILED, "A fresh descriptor pool had no room");
  return VK_NULL_HANDLE;
}

static gboolean
next_query (SfStream *stream, VkQueryPool *pool, uint32_t *query, GError **error)
{
  if (stream->query_pools->len == 0 || stream->queries_used + 2 > QUERIES_PER_POOL)
    {
      VkQueryPoolCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
        .queryType = VK_QUERY_TYPE_TIMESTAMP,
        .queryCount = QUERIES_PER_POOL,
      };
      VkQueryPool fresh = VK_NULL_HANDLE;
      if (!sf_vk_check (vkCreateQueryPool (stream->device->device, &info, NULL, &fresh),
                        "vkCreateQueryPool", error))
        return FALSE;
      /* Recorded in the stream, so every replay resets it too. */
      vkCmdResetQueryPool (stream->cmd, fresh, 0, QUERIES_PER_POOL);
      g_ptr_array_add (stream->query_pools, fresh);
      stream->queries_used = 0;
    }
  *pool = g_ptr_array_index (stream->query_pools, stream->query_pools->len - 1);
  *query = stream->queries_used;
  stream->queries_used += 2;
  return TRUE;
}

static gboolean
check_binding (const SfDevice *device, const SfDispatch *dispatch, guint index, char letter,
               GError **error)
{
  const SfBinding *binding = &dispatch->bindings[index];
  const VkDeviceSize align = 16;
  const char *problem = NULL;
  if (!binding->buffer || binding->range == 0)
    problem = "is empty";
  else if (letter == 'b' && binding->range > device->info.max_storage_buffer_range)
    problem = "is larger than the device's maxStorageBufferRange";
  else if (letter != 'b' && binding->format == VK_FORMAT_UNDEFINED)
    problem = "has no texel format";
  else if (letter != 'b' && binding->range / 2 > device->info.max_texel_buffer_elements
           * (VkDeviceSize) (binding->format == VK_FORMAT_R32G32B32A32_SFLOAT ? 8 :
                             binding->format == VK_FORMAT_R16G16B16A16_SFLOAT
                             || binding->format == VK_FORMAT_R32_SFLOAT ? 2 : 1))
    problem = "has more texels than the device's maxTexelBufferElements";
  else if (binding->offset % align != 0)
    problem = "starts at an offset that is not 16-byte aligned";
  if (!problem)
    return TRUE;
  g_set_error (error, SF_VK_ERROR, SF_VK_ERROR_INVALID,
               "Binding %u of %s (%" G_GUINT64_FORMAT " bytes at %" G_GUINT64_FORMAT ") %s",
               index, dispatch->kernel->shader, (guint64) binding->range,
               (guint64) binding->offset, problem);
  return FALSE;
}

gboolean
sf_stream_dispatch (SfStream *stream, const SfDispatch *dispatch, GError **error)
{
  SfDevice *device = stream->device;
  const SfKernel *kernel = dispatch->kernel;
  guint count = strlen (kernel->bindings);
  g_return_val_if_fail (count <= 16, FALSE);
  for (guint i = 0; i < count; i++)
    if (!check_binding (device, dispatch, i, kernel->bindings[i], error))
      return FALSE;
  if (dispatch->groups[0] == 0 || dispatch->groups[1] == 0 || dispatch->groups[2] == 0)
    return TRUE; /* nothing to do: an empty tensor */

  SfPipeline *pipeline = sf_device_get_pipeline (device, kernel, dispatch->spec,
                                                 dispatch->spec_count, error);
  if (!pipeline || !begin_if_needed (stream, error))
    return FALSE;

  VkDescriptorSet set = allocate_set (stream, pipeline->set_layout, error);
  if (!set)
    return FALSE;
  VkWriteDescriptorSet writes[16];
  VkDescriptorBufferInfo buffers[16];
  VkBufferView views[16];
  Span spans[16];
  gboolean writes_binding[16];
  for (guint i = 0; i < count; i++)
    {
      const SfBinding *binding = &dispatch->bindings[i];
      writes[i] = (VkWriteDescriptorSet) {
        .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
        .dstSet = set,
        .dstBinding = i,
        .descriptorCount = 1,
      };
      if (kernel->bindings[i] == 'b')
        {
          buffers[i] = (VkDescriptorBufferInfo) { binding->buffer, binding->offset, binding->range };
          writes[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
          writes[i].pBufferInfo = &buffers[i];
        }
      else
        {
          views[i] = get_view (stream, binding, error);
          if (!views[i])
            return FALSE;
          writes[i].descriptorType = kernel->bindings[i] == 't'
                                     ? VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER
                                     : VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER;
          writes[i].pTexelBufferView = &views[i];
        }
      spans[i] = (Span) { binding->buffer, binding->offset, binding->offset + binding->range };
      writes_binding[i] = binding->writes;
    }
  vkUpdateDescriptorSets (device->device, count, writes, 0, NULL);

  track_hazards (stream, spans, writes_binding, count);

  Timed timed = { 0 };
  if (device->profiling)
    {
      if (!next_query (stream, &timed.pool, &timed.query, error))
        return FALSE;
      timed.label = g_intern_string (dispatch->label ? dispatch->label : kernel->shader);
      timed.flops = dispatch->flops;
      timed.bytes = dispatch->bytes;
      vkCmdWriteTimestamp (stream->cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, timed.pool,
                           timed.query);
    }
  vkCmdBindPipeline (stream->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline->pipeline);
  vkCmdBindDescriptorSets (stream->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline->layout, 0, 1,
                           &set, 0, NULL);
  if (kernel->push_size)
    vkCmdPushConstants (stream->cmd, pipeline->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0,
                        kernel->push_size, dispatch->push);
  vkCmdDispatch (stream->cmd, dispatch->groups[0], dispatch->groups[1], dispatch->groups[2]);
  if (device->profiling)
    {
      vkCmdWriteTimestamp (stream->cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, timed.pool,
                           timed.query + 1);
      g_array_append_val (stream->timed, timed);
    }
  stream->dispatches++;
  return TRUE;
}

gboolean
sf_stream_copy (SfStream *stream, VkBuffer src, VkDeviceSize src_offset, VkBuffer dst,
                VkDeviceSize dst_offset, VkDeviceSize bytes, GError **error)
{
  if (bytes == 0)
    return TRUE;
  if (!begin_if_needed (stream, error))
    return FALSE;
  Span spans[2] = {
    { src, src_offset, src_offset + bytes },
    { dst, dst_offset, dst_offset + bytes },
  };
  gboolean writes[2] = { FALSE, TRUE };
  track_hazards (stream, spans, writes, 2);
  VkBufferCopy region = { src_offset, dst_offset, bytes };
  vkCmdCopyBuffer (stream->cmd, src, dst, 1, &region);
  return TRUE;
}

static void
collect_profile (SfStream *stream)
{
  SfDevice *device = stream->device;
  uint64_t mask = device->timestamp_valid_bits >= 64 ? UINT64_MAX
                  : (((uint64_t) 1 << device->timestamp_valid_bits) - 1);
  for (guint i = 0; i < stream->timed->len; i++)
    {
      const Timed *timed = &g_array_index (stream->timed, Timed, i);
      uint64_t stamps[2];
      if (vkGetQueryPoolResults (device->device, timed->pool, timed->query, 2, sizeof stamps,
                                 stamps, sizeof stamps[0], VK_QUERY_RESULT_64_BIT) != VK_SUCCESS)
        continue;
      double ns = (double) ((stamps[1] - stamps[0]) & mask) * device->timestamp_period_ns;
      sf_device_profile_add (device, timed->label, ns, timed->flops, timed->bytes);
    }
}

gboolean
sf_stream_run (SfStream *stream, GCancellable *cancellable, GError **error)
{
  SfDevice *device = stream->device;
  if (g_cancellable_is_cancelled (cancellable))
    {
      g_set_error (error, SF_VK_ERROR, SF_VK_ERROR_CANCELLED, "Cancelled");
      return FALSE;
    }
  if (stream->state == STREAM_EMPTY)
    return TRUE;
  if (stream->state == STREAM_RECORDING)
    {
      /* Results become visible to the host and to whatever runs next. */
      VkMemoryBarrier barrier = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
        .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
        .dstAccessMask = VK_ACCESS_HOST_READ_BIT,
      };
      vkCmdPipelineBarrier (stream->cmd,
                            VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                            VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &barrier, 0, NULL, 0, NULL);
      if (!sf_vk_check (vkEndCommandBuffer (stream->cmd), "vkEndCommandBuffer", error))
        return FALSE;
      stream->state = STREAM_READY;
    }

  VkSubmitInfo submit = {
    .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
    .commandBufferCount = 1,
    .pCommandBuffers = &stream->cmd,
  };
  g_mutex_lock (&device->queue_lock);
  gboolean ok = sf_vk_check (vkResetFences (device->device, 1, &stream->fence), "vkResetFences", error)
                && sf_vk_check (vkQueueSubmit (device->queue, 1, &submit, stream->fence),
                                "vkQueueSubmit", error);
  g_mutex_unlock (&device->queue_lock);
  if (!ok)
    return FALSE;

  /* Wait in slices so a cancel is noticed, but always wait for the end:
   * the buffers stay in use until the fence signals. */
  gboolean cancelled = FALSE;
  for (;;)
    {
      VkResult result = vkWaitForFences (device->device, 1, &stream->fence, VK_TRUE,
                                         100 * 1000 * 1000);
      if (result == VK_SUCCESS)
        break;
      if (result != VK_TIMEOUT)
        return sf_vk_check (result, "vkWaitForFences", error);
      cancelled = cancelled || g_cancellable_is_cancelled (cancellable);
    }
  if (device->profiling)
    collect_profile (stream);
  if (cancelled)
    {
      g_set_error (error, SF_VK_ERROR, SF_VK_ERROR_CANCELLED, "Cancelled");
      return FALSE;
    }
  return TRUE;
}
