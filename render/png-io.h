/* PNG reading and writing with libpng.
 *
 * Reading accepts every PNG colour type and depth (grey, grey+alpha,
 * palette with or without tRNS, RGB, RGBA; 1–16 bits; interlaced) and
 * gives straight (non-premultiplied) RGBA8; 16-bit samples are scaled
 * with rounding. Damaged or hostile files give a GError, never a crash,
 * and images too large to hold are refused before anything is allocated.
 *
 * Writing takes RGBA8 or 8-bit grey and optional text chunks: key/value
 * pairs such as "parameters" (the generation settings, in the format
 * AUTOMATIC1111 writes). Files are written atomically (a temporary file,
 * fsync, rename). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SF_IO_ERROR (sf_io_error_quark ())
GQuark sf_io_error_quark (void);

typedef enum {
  SF_IO_ERROR_READ,      /* the file could not be read */
  SF_IO_ERROR_WRITE,     /* the file could not be written */
  SF_IO_ERROR_CORRUPT,   /* not a valid file of its kind */
  SF_IO_ERROR_TOO_LARGE, /* larger than Sfumato holds */
  SF_IO_ERROR_UNSUPPORTED,
} SfIoError;

/* The largest side and pixel count an image may have. */
#define SF_IMAGE_MAX_SIDE 16384
#define SF_IMAGE_MAX_PIXELS ((gint64) 1 << 28)

/* Straight RGBA8, rows of stride = width × 4 bytes. */
typedef struct {
  int width;
  int height;
  guint8 *pixels;
} SfImage;

/* Returns: (transfer full). */
SfImage *sf_image_new (int width, int height);
void sf_image_free (SfImage *image);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SfImage, sf_image_free)

/* Returns: (transfer full) (nullable). */
SfImage *sf_png_load (const char *path, GError **error);
SfImage *sf_png_load_from_data (const guint8 *data, gsize size, GError **error);

typedef enum {
  SF_PNG_RGBA, /* 4 bytes per pixel */
  SF_PNG_GREY, /* 1 byte per pixel */
  SF_PNG_RGB,  /* 4 bytes per pixel in, written without the alpha (thumbnails) */
} SfPngFormat;

/* Encodes @pixels (@width × @height in @format, rows of @stride bytes).
 * @text: NULL or a NULL-terminated list of key, value, key, value …
 * (keys of 1–79 Latin-1 characters; values UTF-8, written as tEXt when
 * plain ASCII and as iTXt otherwise). @compression: zlib level 0–9.
 * Returns: (transfer full) (nullable). */
GBytes *sf_png_encode (const guint8 *pixels, int width, int height, int stride,
                       SfPngFormat format, const char *const *text, int compression,
                       GError **error);
/* Encodes and writes @path atomically. */
gboolean sf_png_save (const char *path, const guint8 *pixels, int width, int height, int stride,
                      SfPngFormat format, const char *const *text, GError **error);

/* Writes @data to @path atomically: a temporary file in the same folder,
 * fsync, rename (g_file_set_contents_full with DURABLE). */
gboolean sf_file_write_atomic (const char *path, const void *data, gsize size, GError **error);

G_END_DECLS
