/* Opening images and documents by content; exporting PNG. */
#include "document-io.h"

#include <glib/gi18n.h>
#include <string.h>

#include "document-private.h"
#include "pixels.h"

SfDocument *
sf_document_new_from_image (const SfImage *image, const char *layer_name)
{
  SfRect canvas = { 0, 0, image->width, image->height };
  SfDocument *document = sf_document_new_blank (&canvas);
  SfLayer *layer = sf_layer_new (layer_name);
  g_autofree guint8 *argb = g_malloc ((gsize) image->width * image->height * 4);
  sf_pixels_rgba_to_argb (image->pixels, image->width * 4, argb, image->width * 4, image->width,
                          image->height);
  sf_tile_grid_write (layer->pixels, &canvas, argb, image->width * 4);
  g_ptr_array_add (document->layers, layer);
  document->active = layer;
  return document;
}

SfDocument *
sf_document_open (const char *path, GError **error)
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
  SfDocument *document = NULL;
  static const guint8 png_signature[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
  if (size >= 8 && memcmp (contents, png_signature, 8) == 0)
    {
      g_autoptr (SfImage) image = sf_png_load_from_data ((const guint8 *) contents, size, &local);
      if (image)
        {
          g_autofree char *base = g_path_get_basename (path);
          char *dot = strrchr (base, '.');
          if (dot && dot != base)
            *dot = '\0';
          document = sf_document_new_from_image (image, base);
        }
    }
  else if (size >= 4 && memcmp (contents, "PK\003\004", 4) == 0)
    document = sf_document_decode_ora ((const guint8 *) contents, size, &local);
  else
    local = g_error_new (SF_IO_ERROR, SF_IO_ERROR_UNSUPPORTED,
                         _("It is neither a PNG image nor an OpenRaster document"));
  if (!document)
    g_set_error (error, SF_IO_ERROR, local->code, _("Could not open “%s”: %s"), path,
                 local->message);
  return document;
}

gboolean
sf_document_export_png (SfDocument *document, const char *path, const char *const *text,
                        GError **error)
{
  SfRect canvas = document->canvas;
  g_autofree guint8 *rgba = g_try_malloc ((gsize) canvas.width * canvas.height * 4);
  if (!rgba)
    {
      g_set_error (error, SF_IO_ERROR, SF_IO_ERROR_WRITE,
                   _("Not enough memory to export %d × %d pixels"), canvas.width, canvas.height);
      return FALSE;
    }
  sf_document_read_rgba (document, &canvas, rgba, canvas.width * 4);
  return sf_png_save (path, rgba, canvas.width, canvas.height, canvas.width * 4, SF_PNG_RGBA,
                      text, error);
}
