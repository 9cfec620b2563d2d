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
  GByteArray *output;
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

static void
write_to_memory (png_structp png, png_bytep data, png_size_t length)
{
  PngState *state = png_get_io_ptr (png);
  g_byte_array_append (state->output, data, length);
}

static void
flush_nothing (png_structp png)
{
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

/* A keyword is 1-79 Latin-1 printable characters (PNG 11.3.4.3). */
static char *
keyword_to_latin1 (const char *key)
{
  if (!key || !*key || !g_utf8_validate (key, -1, NULL) || g_utf8_strlen (key, -1) > 79)
    return NULL;
  for (const char *p = key; *p; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);
      if (c < 32 || (c > 126 && c < 161) || c > 255)
        return NULL;
    }
  return g_convert (key, -1, "ISO-8859-1", "UTF-8", NULL, NULL, NULL);
}

static gboolean
is_latin1 (const char *text)
{
  for (const char *p = text; *p; p = g_utf8_next_char (p))
    if (g_utf8_get_char (p) > 255)
      return FALSE;
  return TRUE;
}

GBytes *
sf_png_write_rgba (const guint8 *pixels, int width_px, int height_px, gsize stride,
                   gboolean drop_alpha, const char *const *keys, const char *const *values,
                   GError **error)
{
  if (width_px <= 0 || height_px <= 0 || width_px > (1 << 16) || height_px > (1 << 16)
      || stride < (gsize) width_px * 4 || !pixels)
    {
      g_set_error (error, SF_PNG_TEXT_ERROR, SF_PNG_TEXT_ERROR_INVALID,
                   "cannot write a %dx%d PNG (stride %zu)", width_px, height_px, stride);
      return NULL;
    }
  guint text_count = keys ? g_strv_length ((char **) keys) : 0;
  if (text_count && (!values || g_strv_length ((char **) values) != text_count))
    {
      g_set_error (error, SF_PNG_TEXT_ERROR, SF_PNG_TEXT_ERROR_INVALID,
                   "PNG text keys and values differ in number");
      return NULL;
    }
  /* Every string libpng sees is prepared before setjmp. */
  g_autoptr (GPtrArray) strings = g_ptr_array_new_with_free_func (g_free);
  g_autofree png_text *texts = g_new0 (png_text, text_count + 1);
  for (guint i = 0; i < text_count; i++)
    {
      char *key = keyword_to_latin1 (keys[i]);
      if (!key || !g_utf8_validate (values[i], -1, NULL))
        {
          g_free (key);
          g_set_error (error, SF_PNG_TEXT_ERROR, SF_PNG_TEXT_ERROR_INVALID,
                       "cannot write PNG text chunk “%s”: the keyword must be 1-79 Latin-1 "
                       "characters and the value UTF-8", keys[i]);
          return NULL;
        }
      g_ptr_array_add (strings, key);
      texts[i].key = key;
      if (is_latin1 (values[i]))
        {
          char *text = g_convert (values[i], -1, "ISO-8859-1", "UTF-8", NULL, NULL, NULL);
          g_ptr_array_add (strings, text);
          texts[i].compression = PNG_TEXT_COMPRESSION_NONE;
          texts[i].text = text;
          texts[i].text_length = strlen (text);
        }
      else
        {
          texts[i].compression = PNG_ITXT_COMPRESSION_NONE;
          texts[i].text = (char *) values[i];
          texts[i].itxt_length = strlen (values[i]);
          texts[i].lang = (char *) "";
          texts[i].lang_key = (char *) "";
        }
    }

  g_autofree PngState *state = g_new0 (PngState, 1);
  state->output = g_byte_array_new ();
  png_structp png = png_create_write_struct (PNG_LIBPNG_VER_STRING, state, on_png_error,
                                             on_png_warning);
  png_infop info = png ? png_create_info_struct (png) : NULL;
  if (!info)
    {
      png_destroy_write_struct (&png, NULL);
      g_byte_array_unref (state->output);
      g_set_error (error, SF_PNG_TEXT_ERROR, SF_PNG_TEXT_ERROR_INVALID, "out of memory in libpng");
      return NULL;
    }
  if (setjmp (png_jmpbuf (png)))
    {
      png_destroy_write_struct (&png, &info);
      g_byte_array_unref (state->output);
      g_set_error (error, SF_PNG_TEXT_ERROR, SF_PNG_TEXT_ERROR_INVALID, "cannot encode PNG: %s",
                   state->message);
      return NULL;
    }
  png_set_write_fn (png, state, write_to_memory, flush_nothing);
  png_set_IHDR (png, info, (png_uint_32) width_px, (png_uint_32) height_px, 8,
                drop_alpha ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_RGB_ALPHA, PNG_INTERLACE_NONE,
                PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (text_count)
    png_set_text (png, info, texts, (int) text_count);
  png_write_info (png, info);
  if (drop_alpha)
    png_set_filler (png, 0, PNG_FILLER_AFTER); /* strips the 4th byte of each input pixel */
  for (int y = 0; y < height_px; y++)
    png_write_row (png, pixels + (gsize) y * stride);
  png_write_end (png, info);
  png_destroy_write_struct (&png, &info);
  return g_byte_array_free_to_bytes (state->output);
}

guint8 *
sf_png_decode_rgba (const guint8 *data, gsize size, int *width_px, int *height_px, GError **error)
{
  /* The simplified API catches libpng's errors itself and reports them in
   * image.message. */
  png_image image = { .version = PNG_IMAGE_VERSION };
  if (!png_image_begin_read_from_memory (&image, data, size))
    {
      g_set_error (error, SF_PNG_TEXT_ERROR, SF_PNG_TEXT_ERROR_CORRUPT, "cannot read PNG: %s",
                   image.message);
      return NULL;
    }
  if ((guint64) image.width * image.height > (1u << 28))
    {
      png_image_free (&image);
      g_set_error (error, SF_PNG_TEXT_ERROR, SF_PNG_TEXT_ERROR_CORRUPT,
                   "PNG of %ux%u pixels is too large", image.width, image.height);
      return NULL;
    }
  image.format = PNG_FORMAT_RGBA;
  guint8 *pixels = g_try_malloc (PNG_IMAGE_SIZE (image));
  if (!pixels || !png_image_finish_read (&image, NULL, pixels, 0, NULL))
    {
      g_set_error (error, SF_PNG_TEXT_ERROR, SF_PNG_TEXT_ERROR_CORRUPT, "cannot read PNG: %s",
                   pixels ? image.message : "out of memory");
      png_image_free (&image);
      g_free (pixels);
      return NULL;
    }
  *width_px = (int) image.width;
  *height_px = (int) image.height;
  return pixels;
}
