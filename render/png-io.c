#include "png-io.h"

#include <glib/gi18n.h>
#include <png.h>
#include <string.h>

G_DEFINE_QUARK (sf-io-error-quark, sf_io_error)

SfImage *
sf_image_new (int width, int height)
{
  g_return_val_if_fail (width > 0 && height > 0, NULL);
  SfImage *image = g_new0 (SfImage, 1);
  image->width = width;
  image->height = height;
  image->pixels = g_malloc0 ((gsize) width * height * 4);
  return image;
}

void
sf_image_free (SfImage *image)
{
  if (image)
    {
      g_free (image->pixels);
      g_free (image);
    }
}

gboolean
sf_file_write_atomic (const char *path, const void *data, gsize size, GError **error)
{
  g_autoptr (GError) local = NULL;
  if (!g_file_set_contents_full (path, data, (gssize) size,
                                 G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                 0644, &local))
    {
      g_set_error (error, SF_IO_ERROR, SF_IO_ERROR_WRITE, _("Could not save “%s”: %s"), path,
                   local->message);
      return FALSE;
    }
  return TRUE;
}

/* libpng reports errors by longjmp; everything that must survive it lives
 * in this heap struct, whose pointer is set before setjmp. */
typedef struct {
  const guint8 *data;
  gsize size;
  gsize offset;
  SfIoError code;
  char message[256];
  SfImage *image;
  png_bytep *rows;
  GByteArray *out;
  png_text *texts;
} PngState;

static void
on_error (png_structp png, png_const_charp message)
{
  PngState *state = png_get_error_ptr (png);
  g_strlcpy (state->message, message, sizeof state->message);
  png_longjmp (png, 1);
}

static void
on_warning (png_structp png, png_const_charp message)
{
  /* Ancillary problems (a bad CRC in a text chunk, an unknown profile)
   * do not stop a read; nothing to tell. */
}

static void
read_data (png_structp png, png_bytep out, png_size_t length)
{
  PngState *state = png_get_io_ptr (png);
  if (state->size - state->offset < length)
    png_error (png, "the file ends too early (it is truncated)");
  memcpy (out, state->data + state->offset, length);
  state->offset += length;
}

static void
state_free (PngState *state)
{
  sf_image_free (state->image);
  g_free (state->rows);
  if (state->out)
    g_byte_array_unref (state->out);
  g_free (state->texts);
  g_free (state);
}

SfImage *
sf_png_load_from_data (const guint8 *data, gsize size, GError **error)
{
  if (size < 8 || png_sig_cmp (data, 0, 8) != 0)
    {
      g_set_error (error, SF_IO_ERROR, SF_IO_ERROR_CORRUPT, _("This is not a PNG image"));
      return NULL;
    }
  PngState *state = g_new0 (PngState, 1);
  state->data = data;
  state->size = size;
  state->code = SF_IO_ERROR_CORRUPT;
  png_structp png = png_create_read_struct (PNG_LIBPNG_VER_STRING, state, on_error, on_warning);
  png_infop info = png ? png_create_info_struct (png) : NULL;
  if (!png || !info)
    {
      png_destroy_read_struct (&png, NULL, NULL);
      state_free (state);
      g_set_error (error, SF_IO_ERROR, SF_IO_ERROR_READ, _("Out of memory reading a PNG image"));
      return NULL;
    }
  if (setjmp (png_jmpbuf (png)))
    {
      png_destroy_read_struct (&png, &info, NULL);
      if (state->code == SF_IO_ERROR_TOO_LARGE)
        g_set_error (error, SF_IO_ERROR, state->code, _("The PNG image is too large: %s"),
                     state->message);
      else
        g_set_error (error, SF_IO_ERROR, state->code, _("The PNG image is damaged: %s"),
                     state->message);
      state_free (state);
      return NULL;
    }
  png_set_read_fn (png, state, read_data);
  /* libpng's own limit only guards its IHDR check; ours comes next, with
   * a clearer message. */
  png_set_user_limits (png, 1 << 24, 1 << 24);
  png_set_chunk_malloc_max (png, 64 << 20);
  png_read_info (png, info);

  png_uint_32 width, height;
  int depth, colour, interlace;
  png_get_IHDR (png, info, &width, &height, &depth, &colour, &interlace, NULL, NULL);
  if (width > SF_IMAGE_MAX_SIDE || height > SF_IMAGE_MAX_SIDE
      || (gint64) width * height > SF_IMAGE_MAX_PIXELS)
    {
      state->code = SF_IO_ERROR_TOO_LARGE;
      g_snprintf (state->message, sizeof state->message,
                  "it is %u × %u pixels; Sfumato opens images up to %d × %d", width, height,
                  SF_IMAGE_MAX_SIDE, SF_IMAGE_MAX_SIDE);
      png_longjmp (png, 1);
    }
  gboolean has_trns = png_get_valid (png, info, PNG_INFO_tRNS) != 0;
  if (colour == PNG_COLOR_TYPE_PALETTE)
    png_set_palette_to_rgb (png);
  if (colour == PNG_COLOR_TYPE_GRAY && depth < 8)
    png_set_expand_gray_1_2_4_to_8 (png);
  if (has_trns)
    png_set_tRNS_to_alpha (png);
  if (depth == 16)
    png_set_scale_16 (png);
  if (colour == PNG_COLOR_TYPE_GRAY || colour == PNG_COLOR_TYPE_GRAY_ALPHA)
    png_set_gray_to_rgb (png);
  if (!(colour & PNG_COLOR_MASK_ALPHA) && !has_trns)
    png_set_add_alpha (png, 0xff, PNG_FILLER_AFTER);
  png_set_interlace_handling (png);
  png_read_update_info (png, info);
  if (png_get_rowbytes (png, info) != (png_size_t) width * 4)
    png_error (png, "unexpected pixel layout after conversion");

  state->image = sf_image_new ((int) width, (int) height);
  state->rows = g_new (png_bytep, height);
  for (png_uint_32 y = 0; y < height; y++)
    state->rows[y] = state->image->pixels + (gsize) y * width * 4;
  png_read_image (png, state->rows);
  png_read_end (png, NULL);
  png_destroy_read_struct (&png, &info, NULL);
  SfImage *image = g_steal_pointer (&state->image);
  state_free (state);
  return image;
}

SfImage *
sf_png_load (const char *path, GError **error)
{
  g_autofree char *contents = NULL;
  gsize size = 0;
  g_autoptr (GError) local = NULL;
  if (!g_file_get_contents (path, &contents, &size, &local))
    {
      g_set_error (error, SF_IO_ERROR, SF_IO_ERROR_READ, _("Could not open “%s”: %s"), path,
                   local->message);
      return NULL;
    }
  SfImage *image = sf_png_load_from_data ((const guint8 *) contents, size, &local);
  if (!image)
    {
      g_set_error (error, SF_IO_ERROR, local->code, _("Could not open “%s”: %s"), path,
                   local->message);
      return NULL;
    }
  return image;
}

static void
write_data (png_structp png, png_bytep data, png_size_t length)
{
  PngState *state = png_get_io_ptr (png);
  g_byte_array_append (state->out, data, (guint) length);
}

static void
flush_data (png_structp png)
{
}

static gboolean
valid_key (const char *key)
{
  gsize length = strlen (key);
  if (length < 1 || length > 79 || key[0] == ' ' || key[length - 1] == ' ')
    return FALSE;
  for (gsize i = 0; i < length; i++)
    if ((guchar) key[i] < 32 || (guchar) key[i] > 126)
      return FALSE;
  return TRUE;
}

static gboolean
is_ascii (const char *text)
{
  for (; *text; text++)
    if ((guchar) *text > 127)
      return FALSE;
  return TRUE;
}

GBytes *
sf_png_encode (const guint8 *pixels, int width, int height, int stride, SfPngFormat format,
               const char *const *text, int compression, GError **error)
{
  int bytes_per_pixel = format == SF_PNG_GREY ? 1 : 4;
  if (width < 1 || height < 1 || width > SF_IMAGE_MAX_SIDE || height > SF_IMAGE_MAX_SIDE
      || stride < width * bytes_per_pixel)
    {
      g_set_error (error, SF_IO_ERROR, SF_IO_ERROR_WRITE,
                   _("Cannot write a PNG image of %d × %d pixels"), width, height);
      return NULL;
    }
  guint text_count = text ? g_strv_length ((char **) text) : 0;
  if (text_count % 2 != 0)
    {
      g_set_error (error, SF_IO_ERROR, SF_IO_ERROR_WRITE,
                   _("PNG text needs a value for every key"));
      return NULL;
    }
  for (guint i = 0; i < text_count; i += 2)
    if (!valid_key (text[i]) || !g_utf8_validate (text[i + 1], -1, NULL))
      {
        g_set_error (error, SF_IO_ERROR, SF_IO_ERROR_WRITE,
                     _("“%s” cannot be a PNG text key (1 to 79 printable ASCII characters) "
                       "or its value is not UTF-8"),
                     text[i]);
        return NULL;
      }

  PngState *state = g_new0 (PngState, 1);
  state->out = g_byte_array_new ();
  png_structp png = png_create_write_struct (PNG_LIBPNG_VER_STRING, state, on_error, on_warning);
  png_infop info = png ? png_create_info_struct (png) : NULL;
  if (!png || !info)
    {
      png_destroy_write_struct (&png, NULL);
      state_free (state);
      g_set_error (error, SF_IO_ERROR, SF_IO_ERROR_WRITE, _("Out of memory writing a PNG image"));
      return NULL;
    }
  if (setjmp (png_jmpbuf (png)))
    {
      png_destroy_write_struct (&png, &info);
      g_set_error (error, SF_IO_ERROR, SF_IO_ERROR_WRITE, _("Could not encode a PNG image: %s"),
                   state->message);
      state_free (state);
      return NULL;
    }
  png_set_write_fn (png, state, write_data, flush_data);
  png_set_IHDR (png, info, (png_uint_32) width, (png_uint_32) height, 8,
                format == SF_PNG_RGBA  ? PNG_COLOR_TYPE_RGBA
                : format == SF_PNG_RGB ? PNG_COLOR_TYPE_RGB
                                       : PNG_COLOR_TYPE_GRAY,
                PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_set_compression_level (png, CLAMP (compression, 0, 9));
  if (text_count > 0)
    {
      state->texts = g_new0 (png_text, text_count / 2);
      for (guint i = 0; i < text_count / 2; i++)
        {
          png_text *t = &state->texts[i];
          const char *value = text[2 * i + 1];
          t->compression = is_ascii (value) ? PNG_TEXT_COMPRESSION_NONE
                                            : PNG_ITXT_COMPRESSION_NONE;
          t->key = (char *) text[2 * i];
          t->text = (char *) value;
          t->text_length = strlen (value);
          t->lang = NULL;
          t->lang_key = NULL;
        }
      png_set_text (png, info, state->texts, (int) text_count / 2);
    }
  png_write_info (png, info);
  if (format == SF_PNG_RGB)
    png_set_filler (png, 0, PNG_FILLER_AFTER); /* skips each input pixel's 4th byte */
  for (int y = 0; y < height; y++)
    png_write_row (png, (png_const_bytep) (pixels + (gsize) y * stride));
  png_write_end (png, NULL);
  png_destroy_write_struct (&png, &info);
  GBytes *bytes = g_byte_array_free_to_bytes (g_steal_pointer (&state->out));
  state_free (state);
  return bytes;
}

gboolean
sf_png_save (const char *path, const guint8 *pixels, int width, int height, int stride,
             SfPngFormat format, const char *const *text, GError **error)
{
  g_autoptr (GBytes) bytes = sf_png_encode (pixels, width, height, stride, format, text, 6, error);
  if (!bytes)
    return FALSE;
  gsize size;
  const void *data = g_bytes_get_data (bytes, &size);
  return sf_file_write_atomic (path, data, size, error);
}
