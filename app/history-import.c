#include "history-import.h"

#include <string.h>

#include "infotext.h"
#include "png_text.h"

/* The width and height in the IHDR chunk, which follows the signature. */
static gboolean
read_png_size (const guint8 *data, gsize size, int *width, int *height)
{
  if (size < 24 || memcmp (data + 12, "IHDR", 4) != 0)
    return FALSE;
  guint32 w = (guint32) data[16] << 24 | (guint32) data[17] << 16 | (guint32) data[18] << 8 | data[19];
  guint32 h = (guint32) data[20] << 24 | (guint32) data[21] << 16 | (guint32) data[22] << 8 | data[23];
  if (w == 0 || h == 0 || w > G_MAXINT || h > G_MAXINT)
    return FALSE;
  *width = (int) w;
  *height = (int) h;
  return TRUE;
}

SfGenerationRecord *
sf_history_read_png_record (const char *path, GBytes **png_out, GError **error)
{
  g_autofree char *contents = NULL;
  gsize size = 0;
  if (!g_file_get_contents (path, &contents, &size, error))
    return NULL;
  g_autofree char *name = g_filename_display_name (path);
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GHashTable) chunks = sf_png_text_read_data ((guint8 *) contents, size, &local_error);
  g_autoptr (SfInfotext) info = chunks ? sf_infotext_from_png_text (chunks, &local_error) : NULL;
  if (!info)
    {
      g_set_error (error, local_error->domain, local_error->code, "%s: %s", name, local_error->message);
      return NULL;
    }
  SfGenerationRecord *record = sf_generation_record_from_infotext (info);
  if (record->width_px <= 0 || record->height_px <= 0)
    read_png_size ((guint8 *) contents, size, &record->width_px, &record->height_px);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GFileInfo) file_info = g_file_query_info (file, G_FILE_ATTRIBUTE_TIME_MODIFIED ","
                                                       G_FILE_ATTRIBUTE_TIME_MODIFIED_USEC,
                                                       G_FILE_QUERY_INFO_NONE, NULL, NULL);
  if (file_info && g_file_info_has_attribute (file_info, G_FILE_ATTRIBUTE_TIME_MODIFIED))
    record->created_us = (gint64) g_file_info_get_attribute_uint64 (file_info, G_FILE_ATTRIBUTE_TIME_MODIFIED)
                           * G_USEC_PER_SEC
                         + g_file_info_get_attribute_uint32 (file_info, G_FILE_ATTRIBUTE_TIME_MODIFIED_USEC);
  if (png_out)
    *png_out = g_bytes_new_take (g_steal_pointer (&contents), size);
  return record;
}

gint64
sf_history_import_png (SfHistory *history, const char *path, GError **error)
{
  g_autoptr (GBytes) png = NULL;
  g_autoptr (SfGenerationRecord) record = sf_history_read_png_record (path, &png, error);
  if (!record)
    return 0;
  SfHistoryImage image = { .png = png };
  return sf_history_insert (history, record, &image, NULL, NULL, error);
}
