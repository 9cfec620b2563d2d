#include "history-test.h"

#include <glib/gstdio.h>

char *
sf_history_test_dir (void)
{
  g_autofree char *parent = g_build_filename (g_get_user_data_dir (), "history-tests", NULL);
  g_mkdir_with_parents (parent, 0700);
  char *dir = g_build_filename (parent, "run-XXXXXX", NULL);
  g_assert_nonnull (g_mkdtemp (dir));
  return dir;
}

SfGenerationRecord *
sf_history_test_record (int index)
{
  SfGenerationRecord *r = sf_generation_record_new ();
  r->created_us = 1700000000000000 + (gint64) index * 1000;
  g_free (r->prompt);
  r->prompt = g_strdup_printf ("prompt %d: a (lighthouse:1.2) at dusk,油絵", index);
  g_free (r->negative_prompt);
  r->negative_prompt = g_strdup_printf ("blurry %d", index);
  r->prompt_weights = g_strdup_printf ("[[\"prompt %d: a \",1.0],[\"lighthouse\",1.2]]", index);
  r->negative_weights = g_strdup ("[[\"blurry\",1.0]]");
  r->seed = 1000 + (guint64) index;
  g_free (r->sampler);
  r->sampler = g_strdup ("dpmpp_2m");
  g_free (r->scheduler);
  r->scheduler = g_strdup ("karras");
  r->steps = 20 + index % 10;
  r->cfg_scale = 6.5;
  r->width_px = 1024;
  r->height_px = 768;
  r->frame_x = 64 * index;
  r->frame_y = -32;
  r->model_name = g_strdup ("sd_xl_base_1.0");
  r->model_hash = g_strdup ("31e35c80fc");
  r->precision = g_strdup ("fp16");
  r->duration_us = 1500000 + index;
  r->device = g_strdup ("llvmpipe (LLVM 15.0.6, 256 bits)");
  return r;
}

guint8 *
sf_history_test_pixels (int width_px, int height_px, int seed)
{
  guint8 *pixels = g_malloc ((gsize) width_px * height_px * 4);
  for (int y = 0; y < height_px; y++)
    for (int x = 0; x < width_px; x++)
      {
        guint8 *p = pixels + ((gsize) y * width_px + x) * 4;
        p[0] = (guint8) (x * 255 / MAX (width_px - 1, 1));
        p[1] = (guint8) (y * 255 / MAX (height_px - 1, 1));
        p[2] = (guint8) (seed * 53 + (x ^ y));
        p[3] = 255;
      }
  return pixels;
}

static guint
count_in (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
    return 1;
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  if (!dir)
    return 0;
  guint count = 0;
  const char *name;
  while ((name = g_dir_read_name (dir)))
    {
      g_autofree char *child = g_build_filename (path, name, NULL);
      count += count_in (child);
    }
  return count;
}

guint
sf_history_test_count_files (const char *dir)
{
  g_autofree char *outputs = g_build_filename (dir, "outputs", NULL);
  return count_in (outputs);
}
