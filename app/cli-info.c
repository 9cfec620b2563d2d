/* sfumato info --devices: what the engine can run on. */
#include "cli.h"

#include <stdio.h>

#include "vk_device.h"

static void
print_device (const SfDeviceInfo *info, gboolean chosen)
{
  printf ("%u: %s%s\n", info->index, info->name, chosen ? "  (chosen)" : "");
  printf ("   type:            %s\n", sf_device_type_name (info->type));
  printf ("   driver:          %s %s\n", info->driver_name, info->driver_info);
  printf ("   Vulkan:          %u.%u.%u\n", VK_API_VERSION_MAJOR (info->api_version),
          VK_API_VERSION_MINOR (info->api_version), VK_API_VERSION_PATCH (info->api_version));
  for (guint h = 0; h < info->heap_count; h++)
    {
      g_autofree char *size = g_format_size_full (info->heaps[h].size, G_FORMAT_SIZE_IEC_UNITS);
      printf ("   memory heap %u:   %s%s\n", h, size,
              info->heaps[h].device_local ? " device-local" : "");
    }
  printf ("   fp16 arithmetic: %s\n", info->shader_float16 ? "yes" : "no");
  printf ("   int8 arithmetic: %s\n", info->shader_int8 ? "yes" : "no");
  printf ("   16-bit storage:  %s\n", info->storage_16bit ? "yes" : "no");
  printf ("   cooperative matrix: %s\n", info->cooperative_matrix ? "yes" : "no");
  printf ("   subgroup size:   %u\n", info->subgroup_size);
  g_autofree char *shared = g_format_size_full (info->shared_memory_bytes, G_FORMAT_SIZE_IEC_UNITS);
  printf ("   shared memory:   %s\n", shared);
}

int
sf_cli_info (int argc, char **argv)
{
  gboolean devices = FALSE;
  GOptionEntry entries[] = {
    { "devices", 0, 0, G_OPTION_ARG_NONE, &devices, "List the Vulkan devices", NULL },
    { NULL },
  };
  if (!sf_cli_parse ("info", "describe devices and models", entries, &argc, &argv))
    return 2;
  if (!devices)
    return sf_cli_fail ("info", "nothing to describe: use --devices");

  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) infos = sf_device_enumerate (&error);
  if (!infos)
    return sf_cli_fail ("info", "%s", error->message);
  /* The one the engine would choose, honouring SFUMATO_DEVICE. */
  g_autoptr (SfDevice) device = sf_device_open (NULL, &error);
  if (!device)
    fprintf (stderr, "sfumato info: %s\n", error->message);
  for (guint i = 0; i < infos->len; i++)
    {
      const SfDeviceInfo *info = infos->pdata[i];
      print_device (info, device && sf_device_get_info (device)->index == info->index);
    }
  return device ? 0 : 1;
}
