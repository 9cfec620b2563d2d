/* sfumato info --devices: what the engine can run on.
 * sfumato info --model PATH [--vae PATH]: what a checkpoint holds. */
#include "cli.h"

#include <stdio.h>

#include "checkpoint.h"
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

static void
print_levels (const char *label, const int *values, int n, gboolean dash_zero)
{
  printf ("%s[", label);
  for (int l = 0; l < n; l++)
    {
      if (dash_zero && values[l] == 0)
        printf ("%s-", l ? ", " : "");
      else
        printf ("%s%d", l ? ", " : "", values[l]);
    }
  printf ("]");
}

static void
print_clip (const char *label, const SfClipConfig *clip)
{
  printf ("%s hidden %d, %d layers, %d heads × %d, MLP %d (%s), %d positions, vocabulary %d",
          label, clip->hidden, clip->layers, clip->heads, clip->head_dim, clip->intermediate,
          clip->activation == SF_CLIP_ACTIVATION_GELU ? "gelu" : "quick_gelu", clip->max_positions,
          clip->vocab_size);
  if (clip->projection_dim)
    printf (", projection %d", clip->projection_dim);
  printf ("\n");
}

static int
print_model (const char *path, const char *vae_path, gboolean hash)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SfCheckpoint) checkpoint = vae_path ? sf_checkpoint_open_parts (path, vae_path, &error)
                                                 : sf_checkpoint_open (path, &error);
  if (!checkpoint)
    return sf_cli_fail ("info", "%s", error->message);
  const SfModelConfig *config = sf_checkpoint_get_config (checkpoint);
  SfCheckpointStats stats;
  sf_checkpoint_get_stats (checkpoint, &stats);
  g_autofree char *size = g_format_size_full (stats.total_bytes, G_FORMAT_SIZE_IEC_UNITS);

  printf ("model:         %s\n", path);
  if (vae_path)
    printf ("vae:           %s\n", vae_path);
  printf ("layout:        %s (%u file%s)\n",
          sf_checkpoint_layout_name (sf_checkpoint_get_layout (checkpoint)), stats.n_files,
          stats.n_files == 1 ? "" : "s");
  printf ("architecture:  %s\n", sf_arch_name (config->arch));
  printf ("tensors:       %u (stored as F16 %u, BF16 %u, F32 %u), %s (%" G_GUINT64_FORMAT " bytes)\n",
          stats.n_tensors, stats.n_f16, stats.n_bf16, stats.n_f32, size, stats.total_bytes);
  const char *hash_path = sf_checkpoint_get_hash_path (checkpoint);
  if (hash && hash_path)
    {
      g_autofree char *sha256 = sf_file_sha256 (hash_path, &error);
      if (!sha256)
        return sf_cli_fail ("info", "%s", error->message);
      printf ("hash:          %.10s (AutoV2; SHA-256 %s)\n", sha256, sha256);
    }

  if (config->has_unet)
    {
      const SfUNetConfig *u = &config->unet;
      printf ("UNet:          in %d, out %d, %d channels × ", u->in_channels, u->out_channels,
              u->model_channels);
      print_levels ("", u->channel_mult, u->num_levels, FALSE);
      printf (", %d res blocks per level\n", u->num_res_blocks);
      print_levels ("               attention depth ", u->transformer_depth, u->num_levels, FALSE);
      printf (" (up ");
      print_levels ("", u->transformer_depth_output, u->num_levels, FALSE);
      printf ("), middle %d\n", u->transformer_depth_middle);
      print_levels ("               heads ", u->num_heads, u->num_levels, TRUE);
      printf (" × ");
      print_levels ("", u->head_dim, u->num_levels, TRUE);
      printf (" channels, middle %d × %d\n", u->num_heads_middle, u->head_dim_middle);
      printf ("               context %d, added embedding %d (%d time ids × %d), time embedding %d, "
              "%s projections\n", u->context_dim, u->adm_in_channels, u->num_time_ids,
              u->addition_time_embed_dim, u->time_embed_dim,
              u->use_linear_projection ? "linear" : "1×1 conv");
    }
  else
    printf ("UNet:          none\n");
  if (config->has_clip_l)
    print_clip ("CLIP ViT-L:   ", &config->clip_l);
  else
    printf ("CLIP ViT-L:    none\n");
  if (config->has_clip_g)
    print_clip ("OpenCLIP bigG:", &config->clip_g);
  else
    printf ("OpenCLIP bigG: none\n");
  if (config->has_vae)
    {
      const SfVaeConfig *v = &config->vae;
      printf ("VAE:           %d channels × ", v->base_channels);
      print_levels ("", v->channel_mult, v->num_levels, FALSE);
      printf (", %d res blocks, %d latent channels, scaling factor %g\n", v->num_res_blocks,
              v->z_channels, v->scaling_factor);
    }
  else
    printf ("VAE:           none\n");
  return 0;
}

int
sf_cli_info (int argc, char **argv)
{
  gboolean devices = FALSE, no_hash = FALSE;
  g_autofree char *model = NULL, *vae = NULL;
  GOptionEntry entries[] = {
    { "devices", 0, 0, G_OPTION_ARG_NONE, &devices, "List the Vulkan devices", NULL },
    { "model", 0, 0, G_OPTION_ARG_FILENAME, &model,
      "Describe a checkpoint (.safetensors file or diffusers folder)", "PATH" },
    { "vae", 0, 0, G_OPTION_ARG_FILENAME, &vae, "A separate VAE file for --model", "PATH" },
    { "no-hash", 0, 0, G_OPTION_ARG_NONE, &no_hash,
      "Skip the SHA-256 of the file (slow on big files)", NULL },
    { NULL },
  };
  if (!sf_cli_parse ("info", "describe devices and models", entries, &argc, &argv))
    return 2;
  if (!devices && !model)
    return sf_cli_fail ("info", "nothing to describe: use --devices or --model PATH");
  if (vae && !model)
    return sf_cli_fail ("info", "--vae needs --model");
  if (model)
    {
      int status = print_model (model, vae, !no_hash);
      if (status != 0 || !devices)
        return status;
      printf ("\n");
    }

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
