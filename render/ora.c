/* Writing OpenRaster (https://www.openraster.org/) with an in-memory
 * libzip archive saved atomically. Reading is in ora-read.c. */
#include <cairo.h>
#include <glib/gi18n.h>
#include <string.h>
#include <zip.h>

#include "document-io.h"
#include "document-private.h"
#include "pixels.h"

#define ORA_MIMETYPE "image/openraster"
#define SF_NAMESPACE "urn:sfumato:openraster:1"
#define THUMBNAIL_SIZE 256
/* PNGs of layers are already compressed; a fast level keeps saving quick. */
#define LAYER_PNG_LEVEL 3

/* Writing */

typedef struct {
  zip_t *zip;
  GPtrArray *keep; /* GBytes the archive reads when it closes */
} Writer;

static gboolean
add_entry (Writer *writer, const char *name, GBytes *bytes, gboolean deflate, GError **error)
{
  gsize size;
  const void *data = g_bytes_get_data (bytes, &size);
  g_ptr_array_add (writer->keep, g_bytes_ref (bytes));
  zip_source_t *source = zip_source_buffer (writer->zip, data, size, 0);
  zip_int64_t index = source ? zip_file_add (writer->zip, name, source,
                                             ZIP_FL_OVERWRITE | ZIP_FL_ENC_UTF_8)
                             : -1;
  if (index < 0)
    {
      if (source)
        zip_source_free (source);
      g_set_error (error, SF_IO_ERROR, SF_IO_ERROR_WRITE, _("Could not add %s to the archive: %s"),
                   name, zip_strerror (writer->zip));
      return FALSE;
    }
  zip_set_file_compression (writer->zip, (zip_uint64_t) index,
                            deflate ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0);
  return TRUE;
}

/* The PNG of @rect of @grid: straight RGBA for pixels, grey for masks. */
static GBytes *
encode_grid (const SfTileGrid *grid, const SfRect *rect, GError **error)
{
  gboolean argb = sf_tile_grid_get_format (grid) == SF_TILE_ARGB32;
  gsize count = (gsize) rect->width * rect->height;
  g_autofree guint8 *raw = g_malloc (count * (argb ? 4 : 1));
  sf_tile_grid_read (grid, rect, raw, rect->width * (argb ? 4 : 1));
  if (!argb)
    return sf_png_encode (raw, rect->width, rect->height, rect->width, SF_PNG_GREY, NULL,
                          LAYER_PNG_LEVEL, error);
  /* In place: each pixel is read before it is written. */
  sf_pixels_argb_to_rgba (raw, rect->width * 4, raw, rect->width * 4, rect->width, rect->height);
  return sf_png_encode (raw, rect->width, rect->height, rect->width * 4, SF_PNG_RGBA, NULL,
                        LAYER_PNG_LEVEL, error);
}

/* Adds @grid's content (or one fill pixel when it has none) as @name and
 * sets @where to its rectangle. */
static gboolean
add_grid (Writer *writer, const char *name, const SfTileGrid *grid, const SfRect *canvas,
          SfRect *where, GError **error)
{
  if (!sf_tile_grid_get_content_bounds (grid, where))
    *where = (SfRect) { canvas->x, canvas->y, 1, 1 };
  g_autoptr (GBytes) png = encode_grid (grid, where, error);
  return png && add_entry (writer, name, png, FALSE, error);
}

static void
append_attribute (GString *xml, const char *name, const char *value)
{
  g_autofree char *escaped = g_markup_escape_text (value, -1);
  g_string_append_printf (xml, " %s=\"%s\"", name, escaped);
}

static GBytes *
encode_merged (SfDocument *document, GBytes **thumbnail, GError **error)
{
  SfRect canvas = document->canvas;
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, canvas.width,
                                                         canvas.height);
  if (cairo_surface_status (surface) != CAIRO_STATUS_SUCCESS)
    {
      cairo_surface_destroy (surface);
      g_set_error (error, SF_IO_ERROR, SF_IO_ERROR_WRITE,
                   _("Not enough memory to flatten the picture"));
      return NULL;
    }
  cairo_surface_flush (surface);
  guint8 *argb = cairo_image_surface_get_data (surface);
  int stride = cairo_image_surface_get_stride (surface);
  sf_document_read_argb (document, &canvas, argb, stride);
  cairo_surface_mark_dirty (surface);

  double scale = MIN (1.0, (double) THUMBNAIL_SIZE / MAX (canvas.width, canvas.height));
  int tw = MAX (1, (int) (canvas.width * scale + 0.5));
  int th = MAX (1, (int) (canvas.height * scale + 0.5));
  cairo_surface_t *small = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, tw, th);
  cairo_t *cr = cairo_create (small);
  cairo_scale (cr, (double) tw / canvas.width, (double) th / canvas.height);
  cairo_set_source_surface (cr, surface, 0, 0);
  cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_GOOD);
  cairo_paint (cr);
  cairo_destroy (cr);
  cairo_surface_flush (small);
  g_autofree guint8 *small_rgba = g_malloc ((gsize) tw * th * 4);
  sf_pixels_argb_to_rgba (cairo_image_surface_get_data (small),
                          cairo_image_surface_get_stride (small), small_rgba, tw * 4, tw, th);
  cairo_surface_destroy (small);
  *thumbnail = sf_png_encode (small_rgba, tw, th, tw * 4, SF_PNG_RGBA, NULL, 6, error);

  g_autofree guint8 *rgba = g_malloc ((gsize) canvas.width * canvas.height * 4);
  sf_pixels_argb_to_rgba (argb, stride, rgba, canvas.width * 4, canvas.width, canvas.height);
  cairo_surface_destroy (surface);
  if (!*thumbnail)
    return NULL;
  return sf_png_encode (rgba, canvas.width, canvas.height, canvas.width * 4, SF_PNG_RGBA, NULL,
                        LAYER_PNG_LEVEL, error);
}

static gboolean
write_entries (Writer *writer, SfDocument *document, GError **error)
{
  g_autoptr (GBytes) mimetype = g_bytes_new_static (ORA_MIMETYPE, strlen (ORA_MIMETYPE));
  /* The spec wants the mimetype first and stored, as in ODF. */
  if (!add_entry (writer, "mimetype", mimetype, FALSE, error))
    return FALSE;

  SfRect canvas = document->canvas;
  GString *xml = g_string_new ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
  g_string_append_printf (xml,
                          "<image version=\"0.0.5\" w=\"%d\" h=\"%d\" xres=\"72\" yres=\"72\""
                          " xmlns:sfumato=\"" SF_NAMESPACE "\" sfumato:origin-x=\"%d\""
                          " sfumato:origin-y=\"%d\" sfumato:frame=\"%d %d %d %d\"",
                          canvas.width, canvas.height, canvas.x, canvas.y, document->frame.x,
                          document->frame.y, document->frame.width, document->frame.height);
  SfRect where;
  if (sf_tile_grid_get_content_bounds (document->mask, &where))
    {
      if (!add_grid (writer, "sfumato/inpaint-mask.png", document->mask, &canvas, &where, error))
        {
          g_string_free (xml, TRUE);
          return FALSE;
        }
      g_string_append_printf (xml,
                              " sfumato:mask-src=\"sfumato/inpaint-mask.png\""
                              " sfumato:mask-x=\"%d\" sfumato:mask-y=\"%d\"",
                              where.x - canvas.x, where.y - canvas.y);
    }
  g_string_append (xml, ">\n <stack>\n");
  for (guint i = document->layers->len; i-- > 0;)
    {
      const SfLayer *layer = document->layers->pdata[i];
      g_autofree char *src = g_strdup_printf ("data/layer%u.png", i);
      if (!add_grid (writer, src, layer->pixels, &canvas, &where, error))
        {
          g_string_free (xml, TRUE);
          return FALSE;
        }
      char opacity[G_ASCII_DTOSTR_BUF_SIZE];
      g_ascii_dtostr (opacity, sizeof opacity, layer->opacity);
      g_string_append (xml, "  <layer");
      append_attribute (xml, "name", layer->name);
      append_attribute (xml, "src", src);
      g_string_append_printf (xml, " x=\"%d\" y=\"%d\" opacity=\"%s\" visibility=\"%s\"",
                              where.x - canvas.x, where.y - canvas.y, opacity,
                              layer->visible ? "visible" : "hidden");
      append_attribute (xml, "composite-op", sf_blend_mode_to_ora (layer->blend_mode));
      if (layer->alpha_locked)
        g_string_append (xml, " sfumato:alpha-locked=\"true\"");
      if (layer == document->active)
        g_string_append (xml, " selected=\"true\"");
      if (layer->generation_id)
        append_attribute (xml, "sfumato:generation-id", layer->generation_id);
      if (layer->mask)
        {
          g_autofree char *mask_src = g_strdup_printf ("sfumato/layer%u-mask.png", i);
          if (!add_grid (writer, mask_src, layer->mask, &canvas, &where, error))
            {
              g_string_free (xml, TRUE);
              return FALSE;
            }
          append_attribute (xml, "sfumato:mask-src", mask_src);
          g_string_append_printf (xml, " sfumato:mask-x=\"%d\" sfumato:mask-y=\"%d\"",
                                  where.x - canvas.x, where.y - canvas.y);
        }
      g_string_append (xml, "/>\n");
    }
  g_string_append (xml, " </stack>\n</image>\n");
  g_autoptr (GBytes) stack = g_string_free_to_bytes (xml);
  if (!add_entry (writer, "stack.xml", stack, TRUE, error))
    return FALSE;

  g_autoptr (GBytes) thumbnail = NULL;
  g_autoptr (GBytes) merged = encode_merged (document, &thumbnail, error);
  return merged && add_entry (writer, "mergedimage.png", merged, FALSE, error)
         && add_entry (writer, "Thumbnails/thumbnail.png", thumbnail, FALSE, error);
}

GBytes *
sf_document_encode_ora (SfDocument *document, GError **error)
{
  zip_error_t zip_error;
  zip_error_init (&zip_error);
  zip_source_t *buffer = zip_source_buffer_create (NULL, 0, 0, &zip_error);
  Writer writer = { NULL, g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref) };
  if (buffer)
    {
      zip_source_keep (buffer);
      writer.zip = zip_open_from_source (buffer, ZIP_TRUNCATE, &zip_error);
    }
  if (!writer.zip)
    {
      g_set_error (error, SF_IO_ERROR, SF_IO_ERROR_WRITE, _("Could not create an archive: %s"),
                   zip_error_strerror (&zip_error));
      zip_error_fini (&zip_error);
      if (buffer)
        zip_source_free (buffer);
      g_ptr_array_unref (writer.keep);
      return NULL;
    }
  zip_error_fini (&zip_error);
  if (!write_entries (&writer, document, error))
    {
      zip_discard (writer.zip);
      zip_source_free (buffer);
      g_ptr_array_unref (writer.keep);
      return NULL;
    }
  if (zip_close (writer.zip) < 0)
    {
      g_set_error (error, SF_IO_ERROR, SF_IO_ERROR_WRITE, _("Could not write the archive: %s"),
                   zip_strerror (writer.zip));
      zip_discard (writer.zip);
      zip_source_free (buffer);
      g_ptr_array_unref (writer.keep);
      return NULL;
    }
  g_ptr_array_unref (writer.keep);

  /* Read the finished archive back out of the buffer source (as in
   * libzip's in-memory example). */
  GByteArray *out = NULL;
  if (zip_source_open (buffer) == 0)
    {
      zip_int64_t size = -1;
      if (zip_source_seek (buffer, 0, SEEK_END) == 0)
        size = zip_source_tell (buffer);
      if (size > 0 && size < G_MAXUINT && zip_source_seek (buffer, 0, SEEK_SET) == 0)
        {
          out = g_byte_array_sized_new ((guint) size);
          g_byte_array_set_size (out, (guint) size);
          if (zip_source_read (buffer, out->data, (zip_uint64_t) size) != size)
            g_clear_pointer (&out, g_byte_array_unref);
        }
      zip_source_close (buffer);
    }
  zip_source_free (buffer);
  if (!out)
    {
      g_set_error (error, SF_IO_ERROR, SF_IO_ERROR_WRITE, _("Could not read the archive back"));
      return NULL;
    }
  return g_byte_array_free_to_bytes (out);
}

gboolean
sf_document_save_ora (SfDocument *document, const char *path, GError **error)
{
  g_autoptr (GBytes) bytes = sf_document_encode_ora (document, error);
  if (!bytes)
    return FALSE;
  gsize size;
  const void *data = g_bytes_get_data (bytes, &size);
  return sf_file_write_atomic (path, data, size, error);
}
