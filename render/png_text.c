#include "png_text.h"

#include <png.h>
#include <setjmp.h>
#include <string.h>

G_DEFINE_QUARK (sf-png-text-error-quark, sf_png_text_error)

/* libpng reports errors by calling our error function, which must not
 * return: it longjmps back to the setjmp in the caller. Everything the
 * cleanup path needs lives in this struct, allocated before setjmp, so no
 * local variable changes between setjmp and longjmp (C17 7.13.2.1). */
typedef struct {
  const guint8 *data;
  gsize size;
  gsize offset;
  guint8 *row;
  char message[256];
} PngState;

static void
on_png_error (png_structp png, png_const_charp message)
{
  PngState *state = png_get_error_ptr (png);
  g_strlcpy (state->message, message ? message : "unknown libpng error", sizeof state->message);
  png_longjmp (png, 1);
}

static void
on_png_warning (png_structp png, png_const_charp message)
{
  /* Warnings (a bad CRC in an ancillary chunk, an unknown chunk) are not
   * failures: libpng skips what it cannot use. */
}

static void
read_from_memory (png_structp png, png_bytep out, png_size_t length)
{
  PngState *state = png_get_io_ptr (png);
  if (length > state->size - state->offset)
    png_error (png, "the file ends early (truncated)");
  memcpy (out, state->data + state->offset, length);
  state->offset += length;
}

/* Text from a chunk as UTF-8. */
static char *
text_to_utf8 (const char *text, gboolean is_utf8)
{
  if (g_utf8_validate (text, -1, NULL))
    return g_strdup (text);
  if (is_utf8)
    return g_utf8_make_valid (text, -1);
  /* Latin-1 maps byte for byte onto U+0000..U+00FF, so this cannot fail. */
  char *converted = g_convert (text, -1, "UTF-8", "ISO-8859-1", NULL, NULL, NULL);
  return converted ? converted : g_utf8_make_valid (text, -1);
}

static void
collect_text (png_structp png, png_infop info, GHashTable *table)
{
  png_textp texts = NULL;
  int count = png_get_text (png, info, &texts, NULL);
  for (int i = 0; i < count; i++)
    {
      gboolean utf8 = texts[i].compression == PNG_ITXT_COMPRESSION_NONE
                      || texts[i].compression == PNG_ITXT_COMPRESSION_zTXt;
      const char *value = texts[i].text ? texts[i].text : "";
      g_hash_table_replace (table, text_to_utf8 (texts[i].key, FALSE), text_to_utf8 (value, utf8));
    }
}

/* Walks the chunk headers: a chunk longer than what is left means a
 * truncated or damaged file, caught before libpng allocates for it. */
static gboolean
check_chunk_lengths (const guint8 *data, gsize size, GError **error)
{
  gsize offset = 8;
  while (offset + 12 <= size)
    {
      guint32 length = (guint32) data[offset] << 24 | (guint32) data[offset + 1] << 16
                       | (guint32) data[offset + 2] << 8 | data[offset + 3];
      if (length > size - offset - 12)
        break;
      if (memcmp (data + offset + 4, "IEND", 4) == 0)
        return TRUE;
      offset += 12 + (gsize) length;
    }
  g_set_error (error, SF_PNG_TEXT_ERROR, SF_PNG_TEXT_ERROR_CORRUPT,
               "damaged PNG file: it ends early (truncated at byte %zu of a chunk)", offset);
  return FALSE;
}

GHashTable *
sf_png_text_read_data (const guint8 *data, gsize size, GError **error)
{
  if (size < 8 || png_sig_cmp (data, 0, 8) != 0)
    {
      g_set_error (error, SF_PNG_TEXT_ERROR, SF_PNG_TEXT_ERROR_NOT_PNG,
                   "not a PNG file (no PNG signature)");
      return NULL;
    }
  if (!check_chunk_lengths (data, size, error))
    return NULL;
  g_autofree PngState *state = g_new0 (PngState, 1);
  state->data = data;
  state->size = size;
  state->offset = 8;
  png_structp png = png_create_read_struct (PNG_LIBPNG_VER_STRING, state, on_png_error,
                                            on_png_warning);
  png_infop info = png ? png_create_info_struct (png) : NULL;
  if (!info)
    {
      png_destroy_read_struct (&png, NULL, NULL);
      g_set_error (error, SF_PNG_TEXT_ERROR, SF_PNG_TEXT_ERROR_CORRUPT, "out of memory in libpng");
      return NULL;
    }
  GHashTable *table = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  if (setjmp (png_jmpbuf (png)))
    {
      g_free (state->row);
      png_destroy_read_struct (&png, &info, NULL);
      g_hash_table_unref (table);
      g_set_error (error, SF_PNG_TEXT_ERROR, SF_PNG_TEXT_ERROR_CORRUPT, "damaged PNG file: %s",
                   state->message);
      return NULL;
    }
  png_set_read_fn (png, state, read_from_memory);
  png_set_sig_bytes (png, 8);
  png_set_user_limits (png, 1 << 16, 1 << 16);
  png_set_chunk_malloc_max (png, size);
  png_read_info (png, info);
  /* Text may follow the image data, so the rows are read (one at a time,
   * into one buffer) to reach the end of the file. */
  int passes = png_set_interlace_handling (png);
  png_read_update_info (png, info);
  png_uint_32 height = png_get_image_height (png, info);
  state->row = g_malloc (png_get_rowbytes (png, info));
  for (int pass = 0; pass < passes; pass++)
    for (png_uint_32 y = 0; y < height; y++)
      png_read_row (png, state->row, NULL);
  png_read_end (png, info);
  collect_text (png, info, table);
  g_free (state->row);
  png_destroy_read_struct (&png, &info, NULL);
  return table;
}

GHashTable *
sf_png_text_read_file (const char *path, GError **error)
{
  g_autofree char *contents = NULL;
  gsize length = 0;
  if (!g_file_get_contents (path, &contents, &length, error))
    return NULL;
  g_autoptr (GError) local_error = NULL;
  GHashTable *table = sf_png_text_read_data ((const guint8 *) contents, length, &local_error);
  if (!table)
    {
      g_autofree char *name = g_filename_display_name (path);
      g_set_error (error, local_error->domain, local_error->code, "%s: %s", name,
                   local_error->message);
    }
  return table;
}
