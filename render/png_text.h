/* PNG text chunks: reading every tEXt/zTXt/iTXt chunk of a file, wherever
 * it stands (before or after the image data). Writing PNGs, text chunks
 * included, is png-io.h's.
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
  SF_PNG_TEXT_ERROR_INVALID,  /* the text is not what was asked for (no generation parameters) */
} SfPngTextError;

/* Every text chunk of the PNG in @data, keyword -> value (both UTF-8; a
 * keyword seen twice keeps its last value).
 * Returns: (transfer full): a GHashTable of strings, NULL on error. */
GHashTable *sf_png_text_read_data (const guint8 *data, gsize size, GError **error);

/* The same for a file. Returns: (transfer full). */
GHashTable *sf_png_text_read_file (const char *path, GError **error);

G_END_DECLS
