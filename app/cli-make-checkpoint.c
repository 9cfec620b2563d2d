/* sfumato make-checkpoint --random --arch sdxl-base OUT.safetensors */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#include "make_checkpoint.h"

static void
print_tensor (const SfArchTensor *t, gpointer data)
{
  g_ptr_array_add (data, sf_arch_tensor_describe (t));
}

static gint
compare_lines (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static void
report_progress (double fraction, gpointer data)
{
  int *last = data;
  int percent = (int) (fraction * 100);
  if (percent != *last)
    {
      fprintf (stderr, "\rwriting: %3d%%", percent);
      *last = percent;
    }
}

int
sf_cli_make_checkpoint (int argc, char **argv)
{
  gboolean random = FALSE, list = FALSE;
  g_autofree char *arch_name = NULL, *dtype_name = NULL;
  gint64 seed = 0;
  GOptionEntry entries[] = {
    { "random", 0, 0, G_OPTION_ARG_NONE, &random, "Random weights (the only kind made)", NULL },
    { "arch", 0, 0, G_OPTION_ARG_STRING, &arch_name, "sdxl-base or sdxl-refiner", "ARCH" },
    { "dtype", 0, 0, G_OPTION_ARG_STRING, &dtype_name, "f16 (default) or f32", "DTYPE" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "Seed of the random values", "N" },
    { "list", 0, 0, G_OPTION_ARG_NONE, &list, "Print the tensors (name, dtype, shape) instead", NULL },
    { NULL },
  };
  if (!sf_cli_parse ("make-checkpoint", "write a random-weight SDXL checkpoint", entries, &argc,
                     &argv))
    return 2;
  const SfSdxlArch *arch = sf_sdxl_arch_lookup (arch_name ? arch_name : "sdxl-base");
  if (!arch)
    return sf_cli_fail ("make-checkpoint", "unknown --arch \"%s\" (sdxl-base, sdxl-refiner)",
                        arch_name);
  if (list)
    {
      g_autoptr (GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
      sf_sdxl_arch_enumerate (arch, print_tensor, lines);
      g_ptr_array_sort (lines, compare_lines);
      for (guint i = 0; i < lines->len; i++)
        puts (lines->pdata[i]);
      return 0;
    }
  if (!random)
    return sf_cli_fail ("make-checkpoint", "only --random checkpoints can be made");
  if (argc != 2)
    return sf_cli_fail ("make-checkpoint", "give one output file");
  SfDType dtype = SF_DTYPE_F16;
  if (dtype_name && g_strcmp0 (dtype_name, "f32") == 0)
    dtype = SF_DTYPE_F32;
  else if (dtype_name && g_strcmp0 (dtype_name, "f16") != 0)
    return sf_cli_fail ("make-checkpoint", "--dtype is f16 or f32, not \"%s\"", dtype_name);
  int last = -1;
  g_autoptr (GError) error = NULL;
  if (!sf_make_random_checkpoint (arch, argv[1], dtype, (guint64) seed, report_progress, &last,
                                  NULL, &error))
    {
      fprintf (stderr, "\n");
      return sf_cli_fail ("make-checkpoint", "%s", error->message);
    }
  fprintf (stderr, "\rwrote %s (%s, random weights, seed %" G_GINT64_FORMAT ")\n", argv[1],
           arch->name, seed);
  return 0;
}
