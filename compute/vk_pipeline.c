#include "vk_pipeline.h"
#include "vk_internal.h"
#include "shader_table.h"

#include <errno.h>
#include <string.h>

static const SfShaderCode *
find_shader (const char *name)
{
  for (size_t i = 0; i < sf_shader_table_length; i++)
    if (strcmp (sf_shader_table[i].name, name) == 0)
      return &sf_shader_table[i];
  return NULL;
}

static char *
cache_file_path (const SfDevice *device)
{
  g_autoptr (GString) uuid = g_string_new (NULL);
  for (guint i = 0; i < VK_UUID_SIZE; i++)
    g_string_append_printf (uuid, "%02x", device->info.uuid[i]);
  g_autofree char *base = g_strdup_printf ("pipelines-%04x-%04x-%s.bin", device->info.vendor_id,
                                           device->info.device_id, uuid->str);
  return g_build_filename (g_get_user_cache_dir (), "sfumato", base, NULL);
}

/* The header a driver writes (VkPipelineCacheHeaderVersionOne); data made
 * by another device or driver is dropped rather than handed over. */
static gboolean
cache_header_matches (const SfDevice *device, const guint8 *data, gsize length)
{
  if (length < 16 + VK_UUID_SIZE)
    return FALSE;
  guint32 header[4];
  memcpy (header, data, sizeof header);
  return header[0] >= 16 + VK_UUID_SIZE && header[0] <= length
         && header[1] == VK_PIPELINE_CACHE_HEADER_VERSION_ONE
         && header[2] == device->info.vendor_id && header[3] == device->info.device_id
         && memcmp (data + 16, device->info.uuid, VK_UUID_SIZE) == 0;
}

void
sf_pipelines_init (SfDevice *device)
{
  device->pipelines = g_hash_table_new (g_str_hash, g_str_equal);
  device->set_layouts = g_hash_table_new (g_str_hash, g_str_equal);
  device->pipeline_cache_path = cache_file_path (device);

  g_autofree guint8 *data = NULL;
  gsize length = 0;
  if (!g_file_get_contents (device->pipeline_cache_path, (char **) &data, &length, NULL)
      || !cache_header_matches (device, data, length))
    length = 0;
  VkPipelineCacheCreateInfo info = {
    .sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO,
    .initialDataSize = length,
    .pInitialData = length ? data : NULL,
  };
  if (vkCreatePipelineCache (device->device, &info, NULL, &device->pipeline_cache) != VK_SUCCESS)
    {
      /* A cache the driver refuses is not worth failing for. */
      info.initialDataSize = 0;
      info.pInitialData = NULL;
      if (vkCreatePipelineCache (device->device, &info, NULL, &device->pipeline_cache) != VK_SUCCESS)
        device->pipeline_cache = VK_NULL_HANDLE;
    }
}

static void
save_pipeline_cache (SfDevice *device)
{
  size_t size = 0;
  if (!device->pipeline_cache || !device->pipeline_cache_path
      || vkGetPipelineCacheData (device->device, device->pipeline_cache, &size, NULL) != VK_SUCCESS
      || size == 0)
    return;
  g_autofree guint8 *data = g_malloc (size);
  if (vkGetPipelineCacheData (device->device, device->pipeline_cache, &size, data) != VK_SUCCESS)
    return;
  g_autofree char *dir = g_path_get_dirname (device->pipeline_cache_path);
  g_autoptr (GError) error = NULL;
  if (g_mkdir_with_parents (dir, 0700) != 0
      || !g_file_set_contents_full (device->pipeline_cache_path, (const char *) data, size,
                                    G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error))
    g_debug ("sfumato: pipeline cache not saved to %s: %s", device->pipeline_cache_path,
             error ? error->message : g_strerror (errno));
}

void
sf_pipelines_fini (SfDevice *device)
{
  if (!device->pipelines)
    return;
  gboolean made_new = g_hash_table_size (device->pipelines) > 0;
  GHashTableIter iter;
  gpointer key, value;
  g_hash_table_iter_init (&iter, device->pipelines);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      SfPipeline *pipeline = value;
      vkDestroyPipeline (device->device, pipeline->pipeline, NULL);
      vkDestroyPipelineLayout (device->device, pipeline->layout, NULL);
      g_free (key);
      g_free (pipeline);
    }
  g_hash_table_iter_init (&iter, device->set_layouts);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      vkDestroyDescriptorSetLayout (device->device, (VkDescriptorSetLayout) value, NULL);
      g_free (key);
    }
  if (made_new)
    save_pipeline_cache (device);
  if (device->pipeline_cache)
    vkDestroyPipelineCache (device->device, device->pipeline_cache, NULL);
  g_clear_pointer (&device->pipelines, g_hash_table_unref);
  g_clear_pointer (&device->set_layouts, g_hash_table_unref);
  g_clear_pointer (&device->pipeline_cache_path, g_free);
}

static VkDescriptorType
descriptor_type (char letter)
{
  switch (letter)
    {
    case 't': return VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER;
    case 'u': return VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER;
    default: return VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
    }
}

/* device->lock held. */
static VkDescriptorSetLayout
get_set_layout (SfDevice *device, const char *bindings, GError **error)
{
  VkDescriptorSetLayout layout = g_hash_table_lookup (device->set_layouts, bindings);
  if (layout)
    return layout;
  guint count = strlen (bindings);
  VkDescriptorSetLayoutBinding items[32];
  g_return_val_if_fail (count <= G_N_ELEMENTS (items), VK_NULL_HANDLE);
  for (guint i = 0; i < count; i++)
    items[i] = (VkDescriptorSetLayoutBinding) {
      .binding = i,
      .descriptorType = descriptor_type (bindings[i]),
      .descriptorCount = 1,
      .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
    };
  VkDescriptorSetLayoutCreateInfo info = {
    .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
    .bindingCount = count,
    .pBindings = items,
  };
  if (!sf_vk_check (vkCreateDescriptorSetLayout (device->device, &info, NULL, &layout),
                    "vkCreateDescriptorSetLayout", error))
    return VK_NULL_HANDLE;
  g_hash_table_insert (device->set_layouts, g_strdup (bindings), layout);
  return layout;
}

SfPipeline *
sf_device_get_pipeline (SfDevice *device, const SfKernel *kernel, const uint32_t *spec,
                        guint spec_count, GError **error)
{
  g_autoptr (GString) key = g_string_new (kernel->shader);
  for (guint i = 0; i < spec_count; i++)
    g_string_append_printf (key, ":%u", spec[i]);

  g_mutex_lock (&device->lock);
  SfPipeline *pipeline = g_hash_table_lookup (device->pipelines, key->str);
  if (pipeline)
    {
      g_mutex_unlock (&device->lock);
      return pipeline;
    }

  const SfShaderCode *code = find_shader (kernel->shader);
  VkDescriptorSetLayout set_layout = VK_NULL_HANDLE;
  VkShaderModule module = VK_NULL_HANDLE;
  VkPipelineLayout layout = VK_NULL_HANDLE;
  VkPipeline handle = VK_NULL_HANDLE;
  if (!code)
    {
      g_set_error (error, SF_VK_ERROR, SF_VK_ERROR_INVALID,
                   "No shader named \"%s\" is built into this binary", kernel->shader);
      goto out;
    }
  set_layout = get_set_layout (device, kernel->bindings, error);
  if (!set_layout)
    goto out;

  VkShaderModuleCreateInfo module_info = {
    .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
    .codeSize = code->size_bytes,
    .pCode = code->words,
  };
  if (!sf_vk_check (vkCreateShaderModule (device->device, &module_info, NULL, &module),
                    "vkCreateShaderModule", error))
    goto out;

  VkPushConstantRange push = {
    .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
    .offset = 0,
    .size = kernel->push_size,
  };
  VkPipelineLayoutCreateInfo layout_info = {
    .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
    .setLayoutCount = 1,
    .pSetLayouts = &set_layout,
    .pushConstantRangeCount = kernel->push_size ? 1 : 0,
    .pPushConstantRanges = &push,
  };
  if (!sf_vk_check (vkCreatePipelineLayout (device->device, &layout_info, NULL, &layout),
                    "vkCreatePipelineLayout", error))
    goto out;

  VkSpecializationMapEntry entries[16];
  g_return_val_if_fail (spec_count <= G_N_ELEMENTS (entries), NULL);
  for (guint i = 0; i < spec_count; i++)
    entries[i] = (VkSpecializationMapEntry) { i, i * 4, 4 };
  VkSpecializationInfo spec_info = {
    .mapEntryCount = spec_count,
    .pMapEntries = entries,
    .dataSize = spec_count * 4,
    .pData = spec,
  };
  VkComputePipelineCreateInfo info = {
    .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
    .stage = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
      .stage = VK_SHADER_STAGE_COMPUTE_BIT,
      .module = module,
      .pName = "main",
      .pSpecializationInfo = spec_count ? &spec_info : NULL,
    },
    .layout = layout,
  };
  if (!sf_vk_check (vkCreateComputePipelines (device->device, device->pipeline_cache, 1, &info,
                                              NULL, &handle), "vkCreateComputePipelines", error))
    goto out;

  pipeline = g_new0 (SfPipeline, 1);
  pipeline->pipeline = handle;
  pipeline->layout = layout;
  pipeline->set_layout = set_layout;
  pipeline->bindings = kernel->bindings;
  pipeline->push_size = kernel->push_size;
  g_hash_table_insert (device->pipelines, g_string_free (g_steal_pointer (&key), FALSE), pipeline);
  layout = VK_NULL_HANDLE;

out:
  if (module)
    vkDestroyShaderModule (device->device, module, NULL);
  if (layout)
    vkDestroyPipelineLayout (device->device, layout, NULL);
  g_mutex_unlock (&device->lock);
  return pipeline;
}
