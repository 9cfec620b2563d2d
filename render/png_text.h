/* PNG text chunks: reading every tEXt/zTXt/iTXt chunk of a file, and a
 * small RGBA8 writer that embeds text chunks (the history store writes its
 * outputs with it; the document's own image I/O lives elsewhere).
 *
 * Text is UTF-8 on both sides. tEXt and zTXt are Latin-1 by the PNG
 * specification; bytes that already form valid UTF-8 are taken as UTF-8,
 * since several tools write UTF-8 into tEXt. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SF_PNG_TEXT_ERROR (sf_png_text_error_quark ())
GQuark sf_png_text_error_quark (void);

typedef enum {
  SF_PNG_TEXT_ERROR_NOT_PNG,  /* no PNG signature */
  SF_PNG_TEXT_ERROR_CORRUPT,  /* libpng refused the data (truncated, bad CRC, ...) */
  SF_PNG_TEXT_ERROR_INVALID,  /* an argument the writer cannot encode */
} SfPngTextError;

/* Every text chunk of the PNG in @data, keyword -> value (both UTF-8; a
 * keyword seen twice keeps its last value).
 * Returns: (transfer full): a GHashTable of strings, NULL on error. */
GHashTable *sf_png_text_read_data (const guint8 *data, gsize size, GError **error);

/* The same for a file. Returns: (transfer full). */
GHashTable *sf_png_text_read_file (const char *path, GError **error);

/* Encodes @width_px x @height_px RGBA8 pixels (rows @stride bytes apart)
 * as an 8-bit RGBA PNG (RGB when @drop_alpha) with the text chunks in
 * @keys/@values (NULL-terminated, may be NULL), placed before the image
 * data so readers that stop early still see them. Latin-1 text is written
 * as tEXt, anything else as iTXt.
 * Returns: (transfer full): the PNG file's bytes, NULL on error. */
GBytes *sf_png_write_rgba (const guint8 *pixels, int width_px, int height_px, gsize stride,
                           gboolean drop_alpha, const char *const *keys,
                           const char *const *values, GError **error);

/* Decodes any PNG to RGBA8 (stride 4 * width).
 * Returns: (transfer full): the pixels, NULL on error. */
guint8 *sf_png_decode_rgba (const guint8 *data, gsize size, int *width_px, int *height_px,
                            GError **error);

G_END_DECLS
