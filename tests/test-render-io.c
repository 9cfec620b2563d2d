/* Files: PNG of every colour type and depth (written here with libpng
 * directly, the expected pixels computed from the samples), PNG and ORA
 * round trips bit for bit, text chunks, damaged files, export, opening by
 * content, atomic saving and crash recovery. */
#include <glib/gstdio.h>
#include <png.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zip.h>

#include "autosave.h"
#include "brush.h"
#include "document-io.h"
#include "sf-test.h"
#include "test-render-util.h"

static char *
temp_path (const char *name)
{
  g_autofree char *dir = g_build_filename (g_get_user_cache_dir (), "test-render-io", NULL);
  g_mkdir_with_parents (dir, 0755);
  return g_build_filename (dir, name, NULL);
}

/* An independent PNG writer for test images: one sample per byte (or two
 * big-endian bytes at depth 16), libpng packs them. */
typedef struct {
  int colour;
  int depth;
  gboolean interlaced;
  gboolean trns;
} Format;

static void
append (png_structp png, png_bytep data, png_size_t length)
{
  g_byte_array_append (png_get_io_ptr (png), data, (guint) length);
}

static void
flush (png_structp png)
{
}

static int
channels_of (int colour)
{
  switch (colour)
    {
    case PNG_COLOR_TYPE_GRAY:
    case PNG_COLOR_TYPE_PALETTE:
      return 1;
    case PNG_COLOR_TYPE_GRAY_ALPHA:
      return 2;
    case PNG_COLOR_TYPE_RGB:
      return 3;
    default:
      return 4;
    }
}

static guint
sample_at (const Format *format, int x, int y, int c)
{
  guint max = (1u << format->depth) - 1;
  return (guint) (x * 7 + y * 13 + c * 101 + (x * y) % 17) * 2654435761u % (max + 1);
}

static GBytes *
write_test_png (const Format *format, int width, int height)
{
  GByteArray *out = g_byte_array_new ();
  png_structp png = png_create_write_struct (PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png_create_info_struct (png);
  g_assert_false (setjmp (png_jmpbuf (png)));
  png_set_write_fn (png, out, append, flush);
  png_set_IHDR (png, info, width, height, format->depth, format->colour,
                format->interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (format->colour == PNG_COLOR_TYPE_PALETTE)
    {
      png_color palette[256];
      png_byte alpha[256];
      for (int i = 0; i < 256; i++)
        {
          palette[i] = (png_color) { (png_byte) (i * 3), (png_byte) (255 - i), (png_byte) (i ^ 0x5a) };
          alpha[i] = (png_byte) (i * 5);
        }
      png_set_PLTE (png, info, palette, 1 << format->depth);
      if (format->trns)
        png_set_tRNS (png, info, alpha, (1 << format->depth) / 2, NULL);
    }
  else if (format->trns && format->colour == PNG_COLOR_TYPE_GRAY)
    {
      png_color_16 transparent = { .gray = (png_uint_16) sample_at (format, 1, 0, 0) };
      png_set_tRNS (png, info, NULL, 0, &transparent);
    }
  png_write_info (png, info);
  if (format->depth < 8)
    png_set_packing (png);
  int channels = channels_of (format->colour);
  int bytes = format->depth == 16 ? 2 : 1;
  g_autofree guint8 *row = g_malloc ((gsize) width * channels * bytes);
  int passes = png_set_interlace_handling (png);
  for (int pass = 0; pass < passes; pass++)
    for (int y = 0; y < height; y++)
      {
        for (int x = 0; x < width; x++)
          for (int c = 0; c < channels; c++)
            {
              guint v = sample_at (format, x, y, c);
              guint8 *p = row + ((gsize) x * channels + c) * bytes;
              if (bytes == 2)
                {
                  p[0] = (guint8) (v >> 8);
                  p[1] = (guint8) v;
                }
              else
                p[0] = (guint8) v;
            }
        png_write_row (png, row);
      }
  png_write_end (png, NULL);
  png_destroy_write_struct (&png, &info);
  return g_byte_array_free_to_bytes (out);
}

static guint8
to_8 (guint v, int depth)
{
  guint max = (1u << depth) - 1;
  return (guint8) ((v * 255.0 / max) + 0.5);
}

static void
expected_pixel (const Format *format, int x, int y, guint8 rgba[4])
{
  int d = format->depth;
  switch (format->colour)
    {
    case PNG_COLOR_TYPE_PALETTE:
      {
        guint i = sample_at (format, x, y, 0);
        rgba[0] = (guint8) (i * 3);
        rgba[1] = (guint8) (255 - i);
        rgba[2] = (guint8) (i ^ 0x5a);
        rgba[3] = format->trns && i < (1u << d) / 2 ? (guint8) (i * 5) : 255;
        return;
      }
    case PNG_COLOR_TYPE_GRAY:
    case PNG_COLOR_TYPE_GRAY_ALPHA:
      {
        guint v = sample_at (format, x, y, 0);
        rgba[0] = rgba[1] = rgba[2] = to_8 (v, d);
        if (format->colour == PNG_COLOR_TYPE_GRAY_ALPHA)
          rgba[3] = to_8 (sample_at (format, x, y, 1), d);
        else
          rgba[3] = format->trns && v == sample_at (format, 1, 0, 0) ? 0 : 255;
        return;
      }
    default:
      for (int c = 0; c < 3; c++)
        rgba[c] = to_8 (sample_at (format, x, y, c), d);
      rgba[3] = format->colour == PNG_COLOR_TYPE_RGBA ? to_8 (sample_at (format, x, y, 3), d)
                                                      : 255;
    }
}

static void
test_png_reads_every_colour_type_and_depth (void)
{
  const Format formats[] = {
    { PNG_COLOR_TYPE_GRAY, 1, FALSE, FALSE },         { PNG_COLOR_TYPE_GRAY, 2, FALSE, FALSE },
    { PNG_COLOR_TYPE_GRAY, 4, FALSE, FALSE },         { PNG_COLOR_TYPE_GRAY, 8, FALSE, FALSE },
    { PNG_COLOR_TYPE_GRAY, 16, FALSE, FALSE },        { PNG_COLOR_TYPE_GRAY, 8, FALSE, TRUE },
    { PNG_COLOR_TYPE_GRAY_ALPHA, 8, FALSE, FALSE },   { PNG_COLOR_TYPE_GRAY_ALPHA, 16, FALSE, FALSE },
    { PNG_COLOR_TYPE_PALETTE, 1, FALSE, FALSE },      { PNG_COLOR_TYPE_PALETTE, 2, FALSE, TRUE },
    { PNG_COLOR_TYPE_PALETTE, 4, FALSE, FALSE },      { PNG_COLOR_TYPE_PALETTE, 8, FALSE, TRUE },
    { PNG_COLOR_TYPE_RGB, 8, FALSE, FALSE },          { PNG_COLOR_TYPE_RGB, 16, FALSE, FALSE },
    { PNG_COLOR_TYPE_RGBA, 8, FALSE, FALSE },         { PNG_COLOR_TYPE_RGBA, 16, FALSE, FALSE },
    { PNG_COLOR_TYPE_RGBA, 8, TRUE, FALSE },   { PNG_COLOR_TYPE_PALETTE, 4, TRUE, TRUE },
    { PNG_COLOR_TYPE_GRAY, 1, TRUE, FALSE },   { PNG_COLOR_TYPE_RGB, 16, TRUE, FALSE },
  };
  const int width = 37, height = 23; /* odd sizes exercise Adam7's partial passes */
  for (gsize f = 0; f < G_N_ELEMENTS (formats); f++)
    {
      const Format *format = &formats[f];
      g_autoptr (GBytes) bytes = write_test_png (format, width, height);
      gsize size;
      const guint8 *data = g_bytes_get_data (bytes, &size);
      g_autoptr (GError) error = NULL;
      g_autoptr (SfImage) image = sf_png_load_from_data (data, size, &error);
      g_assert_no_error (error);
      g_assert_cmpint (image->width, ==, width);
      g_assert_cmpint (image->height, ==, height);
      for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++)
          {
            guint8 expected[4];
            expected_pixel (format, x, y, expected);
            const guint8 *actual = image->pixels + (y * width + x) * 4;
            for (int c = 0; c < 4; c++)
              /* 16 → 8 bits: libpng's scaling and round(v/257) may differ
               * by one; every other path is exact. */
              if (abs (actual[c] - expected[c]) > (format->depth == 16 ? 1 : 0))
                g_error ("colour type %d depth %d%s: pixel %d,%d channel %d is %u, not %u",
                         format->colour, format->depth, format->interlaced ? " interlaced" : "",
                         x, y, c, actual[c], expected[c]);
          }
    }
}

typedef struct {
  const guint8 *data;
  gsize size, offset;
} Cursor;

static void
read_cursor (png_structp png, png_bytep out, png_size_t length)
{
  Cursor *cursor = png_get_io_ptr (png);
  g_assert_cmpuint (cursor->offset + length, <=, cursor->size);
  memcpy (out, cursor->data + cursor->offset, length);
  cursor->offset += length;
}

/* The text chunks of a PNG: key → value, and key → chunk kind. */
static void
read_text_chunks (GBytes *bytes, GHashTable *values, GHashTable *kinds)
{
  Cursor cursor = { 0 };
  cursor.data = g_bytes_get_data (bytes, &cursor.size);
  png_structp png = png_create_read_struct (PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png_create_info_struct (png);
  g_assert_false (setjmp (png_jmpbuf (png)));
  png_set_read_fn (png, &cursor, read_cursor);
  png_read_info (png, info);
  png_textp text;
  int count = 0;
  png_get_text (png, info, &text, &count);
  for (int i = 0; i < count; i++)
    {
      g_hash_table_insert (values, g_strdup (text[i].key), g_strdup (text[i].text));
      g_hash_table_insert (kinds, g_strdup (text[i].key),
                           GINT_TO_POINTER (text[i].compression));
    }
  png_destroy_read_struct (&png, &info, NULL);
}

static void
test_png_round_trip_is_exact_and_keeps_text (void)
{
  SfTestRng rng;
  sf_test_rng_init (&rng, 99);
  const int width = 301, height = 67;
  g_autofree guint8 *rgba = g_new (guint8, width * height * 4);
  for (int i = 0; i < width * height * 4; i++)
    rgba[i] = (guint8) sf_test_rng_uniform (&rng, 0, 255.99f);
  const char *text[] = { "parameters",
                         "a lighthouse at dusk\nNegative prompt: blurry\nSteps: 30, Seed: 7",
                         "Comment", "naïve café ✓", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = sf_png_encode (rgba, width, height, width * 4, SF_PNG_RGBA, text, 6,
                                            &error);
  g_assert_no_error (error);
  gsize size;
  const guint8 *data = g_bytes_get_data (bytes, &size);
  g_autoptr (SfImage) image = sf_png_load_from_data (data, size, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (image->pixels, width * height * 4, rgba, width * height * 4);

  g_autoptr (GHashTable) values = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr (GHashTable) kinds = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  read_text_chunks (bytes, values, kinds);
  g_assert_cmpstr (g_hash_table_lookup (values, "parameters"), ==, text[1]);
  g_assert_cmpstr (g_hash_table_lookup (values, "Comment"), ==, text[3]);
  /* ASCII goes in tEXt (what AUTOMATIC1111 and PIL write), UTF-8 in iTXt. */
  g_assert_cmpint (GPOINTER_TO_INT (g_hash_table_lookup (kinds, "parameters")), ==,
                   PNG_TEXT_COMPRESSION_NONE);
  g_assert_cmpint (GPOINTER_TO_INT (g_hash_table_lookup (kinds, "Comment")), ==,
                   PNG_ITXT_COMPRESSION_NONE);

  /* Keys must be valid. */
  const char *bad[] = { "", "x", NULL };
  g_assert_null (sf_png_encode (rgba, width, height, width * 4, SF_PNG_RGBA, bad, 6, &error));
  g_assert_error (error, SF_IO_ERROR, SF_IO_ERROR_WRITE);
  g_clear_error (&error);

  /* Grey for masks. */
  g_autoptr (GBytes) grey = sf_png_encode (rgba, width, height, width * 4, SF_PNG_GREY, NULL, 1,
                                           &error);
  g_assert_no_error (error);
  data = g_bytes_get_data (grey, &size);
  g_autoptr (SfImage) back = sf_png_load_from_data (data, size, &error);
  g_assert_no_error (error);
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      g_assert_cmpuint (back->pixels[(y * width + x) * 4 + 1], ==, rgba[y * width * 4 + x]);
}

/* CRC-32 as PNG uses it (ISO 3309), bit by bit. */
static guint32
crc32_of (const guint8 *data, gsize length)
{
  guint32 crc = 0xffffffffu;
  for (gsize i = 0; i < length; i++)
    {
      crc ^= data[i];
      for (int k = 0; k < 8; k++)
        crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
    }
  return crc ^ 0xffffffffu;
}

/* A PNG with a valid IHDR claiming @width × @height, then the start of an
 * IDAT chunk (where libpng stops reading the header) and nothing more. */
static GBytes *
header_only_png (guint32 width, guint32 height)
{
  guint8 data[41] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R' };
  for (int i = 0; i < 4; i++)
    {
      data[16 + i] = (guint8) (width >> (24 - 8 * i));
      data[20 + i] = (guint8) (height >> (24 - 8 * i));
    }
  data[24] = 8; /* depth */
  data[25] = 6; /* RGBA */
  guint32 crc = crc32_of (data + 12, 17);
  for (int i = 0; i < 4; i++)
    data[29 + i] = (guint8) (crc >> (24 - 8 * i));
  memcpy (data + 33, "\0\0\0\x10IDAT", 8);
  return g_bytes_new (data, sizeof data);
}

static void
expect_png_error (const guint8 *data, gsize size)
{
  g_autoptr (GError) error = NULL;
  SfImage *image = sf_png_load_from_data (data, size, &error);
  g_assert_null (image);
  g_assert_nonnull (error);
  g_assert_true (error->domain == SF_IO_ERROR);
  g_assert_cmpuint (strlen (error->message), >, 0);
  g_test_message ("  → %s", error->message);
}

static void
test_damaged_pngs_give_errors (void)
{
  const Format format = { PNG_COLOR_TYPE_RGBA, 8, TRUE, FALSE };
  g_autoptr (GBytes) good = write_test_png (&format, 64, 48);
  gsize size;
  const guint8 *data = g_bytes_get_data (good, &size);
  /* Cut short anywhere. */
  for (gsize length = 0; length < size - 12; length += 7)
    expect_png_error (data, length);
  /* A flipped bit in the image data fails its CRC. */
  g_autofree guint8 *copy = g_memdup2 (data, size);
  copy[size / 2] ^= 0x10;
  expect_png_error (copy, size);
  /* Garbage, and a header promising a huge image, are refused without
   * allocating it. */
  guint8 garbage[100];
  memset (garbage, 0x55, sizeof garbage);
  expect_png_error (garbage, sizeof garbage);
  g_autoptr (GError) error = NULL;
  const guint32 sizes[][2] = { { 100000, 100000 }, { 16384, 16385 }, { 1u << 30, 1 } };
  for (gsize i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_autoptr (GBytes) huge = header_only_png (sizes[i][0], sizes[i][1]);
      data = g_bytes_get_data (huge, &size);
      g_assert_null (sf_png_load_from_data (data, size, &error));
      g_assert_nonnull (error);
      g_test_message ("  → %s", error->message);
      g_assert_true (error->domain == SF_IO_ERROR);
      /* Within libpng's limits our own check speaks; beyond, libpng's. */
      if (i < 2)
        g_assert_error (error, SF_IO_ERROR, SF_IO_ERROR_TOO_LARGE);
      g_clear_error (&error);
    }
  g_autofree char *missing = temp_path ("no-such-file.png");
  g_clear_error (&error);
  g_assert_null (sf_png_load (missing, &error));
  g_assert_error (error, SF_IO_ERROR, SF_IO_ERROR_READ);
}

static guint8 *
noise (SfTestRng *rng, int width, int height)
{
  guint8 *rgba = g_new (guint8, (gsize) width * height * 4);
  for (int i = 0; i < width * height; i++)
    {
      guint8 alpha = (guint8) sf_test_rng_uniform (rng, 0, 255.99f);
      if (i % 3 == 0)
        alpha = 255;
      rgba[i * 4 + 3] = alpha;
      for (int c = 0; c < 3; c++)
        rgba[i * 4 + c] = (guint8) sf_test_rng_uniform (rng, 0, 255.99f);
    }
  return rgba;
}

/* A document using everything an .ora must keep. */
static SfDocument *
rich_document (void)
{
  SfTestRng rng;
  sf_test_rng_init (&rng, 5);
  SfDocument *document = sf_document_new (500, 300);
  g_autoptr (GError) error = NULL;
  g_assert_true (sf_document_grow (document, 64, 40, 8, 0, &error));
  g_autofree guint8 *a = noise (&rng, 300, 200);
  g_autofree guint8 *b = noise (&rng, 260, 330);
  SfLayer *la = sf_document_add_layer_from_rgba (document, -1, a, 300, 200, 1200, -100, -30,
                                                 "Sky & <sea> \"quoted\"", NULL, &error);
  SfLayer *lb = sf_document_add_layer_from_rgba (document, -1, b, 260, 330, 1040, 270, 10,
                                                 "Généré", "history:1234", &error);
  g_assert_no_error (error);
  sf_document_set_layer_opacity (document, la, 0.123456789);
  sf_document_set_layer_blend_mode (document, la, SF_BLEND_OVERLAY);
  sf_document_set_layer_blend_mode (document, lb, SF_BLEND_ADD);
  sf_document_set_layer_alpha_locked (document, lb, TRUE);
  sf_document_set_layer_visible (document, sf_document_get_layer (document, 0), FALSE);
  sf_document_add_layer_mask (document, la);
  SfBrush brush;
  sf_brush_init (&brush);
  brush.on_layer_mask = TRUE;
  brush.size_px = 40;
  sf_document_set_active_layer (document, la);
  sf_document_stroke_line (document, &brush, 0, 0, 200, 100);
  brush.mode = SF_BRUSH_MASK;
  brush.hardness = 0.3;
  sf_document_stroke_line (document, &brush, -40, 200, 300, 250);
  SfRect frame = { -64, -40, 512, 768 };
  sf_document_set_frame (document, &frame);
  sf_document_add_layer (document, "empty");
  sf_document_set_active_layer (document, lb);
  return document;
}

static void
test_ora_round_trip_is_exact (void)
{
  g_autoptr (SfDocument) document = rich_document ();
  g_autoptr (GError) error = NULL;
  g_autofree char *path = temp_path ("round-trip.ora");
  g_assert_true (sf_document_save_ora (document, path, &error));
  g_assert_no_error (error);
  g_autoptr (SfDocument) loaded = sf_document_load_ora (path, &error);
  g_assert_no_error (error);
  g_autofree char *expected = fingerprint_full (document, FALSE);
  g_autofree char *actual = fingerprint_full (loaded, FALSE);
  g_assert_cmpstr (actual, ==, expected);
  g_assert_false (sf_document_can_undo (loaded));
  /* A snapshot saves the same bytes' worth of document. */
  g_autoptr (SfDocument) snapshot = sf_document_snapshot (document);
  g_autoptr (GBytes) again = sf_document_encode_ora (snapshot, &error);
  gsize size;
  const guint8 *data = g_bytes_get_data (again, &size);
  g_autoptr (SfDocument) reloaded = sf_document_decode_ora (data, size, &error);
  g_assert_no_error (error);
  g_autofree char *third = fingerprint_full (reloaded, FALSE);
  g_assert_cmpstr (third, ==, expected);
}

static void
test_ora_is_valid_openraster (void)
{
  g_autoptr (SfDocument) document = rich_document ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = sf_document_encode_ora (document, &error);
  g_assert_no_error (error);
  gsize size;
  const guint8 *data = g_bytes_get_data (bytes, &size);
  /* The mimetype comes first, stored, readable at a fixed offset. */
  g_assert_cmpmem (data + 30, 8, "mimetype", 8);
  g_assert_cmpmem (data + 38, 16, "image/openraster", 16);
  zip_error_t zip_error;
  zip_source_t *source = zip_source_buffer_create (data, size, 0, &zip_error);
  zip_t *zip = zip_open_from_source (source, ZIP_RDONLY | ZIP_CHECKCONS, &zip_error);
  g_assert_nonnull (zip);
  zip_stat_t stat;
  g_assert_cmpint (zip_stat_index (zip, 0, 0, &stat), ==, 0);
  g_assert_cmpstr (stat.name, ==, "mimetype");
  g_assert_cmpint (stat.comp_method, ==, ZIP_CM_STORE);
  const char *required[] = { "stack.xml", "mergedimage.png", "Thumbnails/thumbnail.png" };
  for (gsize i = 0; i < G_N_ELEMENTS (required); i++)
    g_assert_cmpint (zip_name_locate (zip, required[i], 0), >=, 0);
  /* mergedimage.png is the flattened canvas. */
  zip_int64_t index = zip_name_locate (zip, "mergedimage.png", 0);
  zip_stat_index (zip, (zip_uint64_t) index, 0, &stat);
  g_autofree guint8 *png = g_malloc (stat.size);
  zip_file_t *file = zip_fopen_index (zip, (zip_uint64_t) index, 0);
  g_assert_cmpint (zip_fread (file, png, stat.size), ==, (zip_int64_t) stat.size);
  zip_fclose (file);
  g_autoptr (SfImage) merged = sf_png_load_from_data (png, stat.size, &error);
  g_assert_no_error (error);
  SfRect canvas = sf_document_get_canvas (document);
  g_assert_cmpint (merged->width, ==, canvas.width);
  g_assert_cmpint (merged->height, ==, canvas.height);
  g_autofree guint8 *expected = g_malloc ((gsize) canvas.width * canvas.height * 4);
  sf_document_read_rgba (document, &canvas, expected, canvas.width * 4);
  g_assert_cmpmem (merged->pixels, canvas.width * canvas.height * 4, expected,
                   canvas.width * canvas.height * 4);
  zip_discard (zip);
}

static void
expect_ora_error (const guint8 *data, gsize size)
{
  g_autoptr (GError) error = NULL;
  SfDocument *document = sf_document_decode_ora (data, size, &error);
  g_assert_null (document);
  g_assert_nonnull (error);
  g_assert_true (error->domain == SF_IO_ERROR);
  g_test_message ("  → %s", error->message);
}

/* An archive with the given entries (name, contents, …, NULL). */
static GBytes *
make_zip (const char *first, ...)
{
  zip_error_t zip_error;
  zip_source_t *buffer = zip_source_buffer_create (NULL, 0, 0, &zip_error);
  zip_source_keep (buffer);
  zip_t *zip = zip_open_from_source (buffer, ZIP_TRUNCATE, &zip_error);
  va_list args;
  va_start (args, first);
  for (const char *name = first; name; name = va_arg (args, const char *))
    {
      const char *contents = va_arg (args, const char *);
      zip_file_add (zip, name, zip_source_buffer (zip, contents, strlen (contents), 0), 0);
    }
  va_end (args);
  g_assert_cmpint (zip_close (zip), ==, 0);
  zip_source_open (buffer);
  zip_source_seek (buffer, 0, SEEK_END);
  zip_int64_t size = zip_source_tell (buffer);
  zip_source_seek (buffer, 0, SEEK_SET);
  guint8 *data = g_malloc (size);
  zip_source_read (buffer, data, size);
  zip_source_close (buffer);
  zip_source_free (buffer);
  return g_bytes_new_take (data, size);
}

static void
test_damaged_ora_files_give_errors (void)
{
  g_autoptr (SfDocument) document = rich_document ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) good = sf_document_encode_ora (document, &error);
  gsize size;
  const guint8 *data = g_bytes_get_data (good, &size);
  for (gsize length = 0; length < size; length += size / 23)
    expect_ora_error (data, length);
  g_autofree guint8 *copy = g_memdup2 (data, size);
  for (gsize i = size / 3; i < size / 3 + 64; i++)
    copy[i] ^= 0xa5;
  expect_ora_error (copy, size);

  const char *stack_ok = "<image w=\"10\" h=\"10\"><stack><layer src=\"data/a.png\"/></stack></image>";
  const struct {
    const char *what;
    GBytes *zip;
  } cases[] = {
    { "wrong mimetype", make_zip ("mimetype", "image/png", "stack.xml", stack_ok, NULL) },
    { "no stack.xml", make_zip ("mimetype", "image/openraster", NULL) },
    { "broken XML", make_zip ("stack.xml", "<image w=\"10\" h=\"10\"><stack>", NULL) },
    { "no size", make_zip ("stack.xml", "<image><stack/></image>", NULL) },
    { "huge size", make_zip ("stack.xml", "<image w=\"99999999\" h=\"10\"/>", NULL) },
    { "missing layer file", make_zip ("stack.xml", stack_ok, NULL) },
    { "layer not a PNG", make_zip ("stack.xml", stack_ok, "data/a.png", "GIF89a", NULL) },
    { "layer without src", make_zip ("stack.xml", "<image w=\"4\" h=\"4\"><layer/></image>", NULL) },
    { "bad frame", make_zip ("stack.xml", "<image w=\"4\" h=\"4\" sfumato:frame=\"1 2\"/>", NULL) },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      data = g_bytes_get_data (cases[i].zip, &size);
      g_test_message ("%s", cases[i].what);
      expect_ora_error (data, size);
      g_bytes_unref (cases[i].zip);
    }
  /* A minimal foreign file (no mimetype, no Sfumato attributes) opens. */
  g_autoptr (GBytes) minimal = make_zip ("stack.xml", "<image w=\"16\" h=\"8\"><stack/></image>", NULL);
  data = g_bytes_get_data (minimal, &size);
  g_autoptr (SfDocument) loaded = sf_document_decode_ora (data, size, &error);
  g_assert_no_error (error);
  g_assert_cmpint (sf_document_get_width (loaded), ==, 16);
  g_assert_cmpuint (sf_document_get_layer_count (loaded), ==, 0);
}

static void
test_export_and_open_by_content (void)
{
  g_autoptr (SfDocument) document = rich_document ();
  g_autoptr (GError) error = NULL;
  g_autofree char *png = temp_path ("export.png");
  const char *text[] = { "parameters", "test", NULL };
  g_assert_true (sf_document_export_png (document, png, text, &error));
  g_assert_no_error (error);
  /* A PNG opens as one layer named after the file, holding the canvas. */
  g_autoptr (SfDocument) opened = sf_document_open (png, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sf_document_get_layer_count (opened), ==, 1);
  g_assert_cmpstr (sf_layer_get_name (sf_document_get_layer (opened, 0)), ==, "export");
  SfRect canvas = sf_document_get_canvas (document);
  gsize bytes = (gsize) canvas.width * canvas.height * 4;
  g_autofree guint8 *expected = g_malloc (bytes), *actual = g_malloc (bytes);
  sf_document_read_argb (document, &canvas, expected, canvas.width * 4);
  SfRect at_origin = { 0, 0, canvas.width, canvas.height };
  sf_document_read_argb (opened, &at_origin, actual, canvas.width * 4);
  g_assert_cmpmem (actual, bytes, expected, bytes);

  /* An .ora under another name still opens as one. */
  g_autofree char *disguised = temp_path ("document.png.bak");
  g_assert_true (sf_document_save_ora (document, disguised, &error));
  g_autoptr (SfDocument) reopened = sf_document_open (disguised, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sf_document_get_layer_count (reopened), ==, 4);

  g_autofree char *text_file = temp_path ("notes.txt");
  g_file_set_contents (text_file, "hello", -1, NULL);
  g_assert_null (sf_document_open (text_file, &error));
  g_assert_error (error, SF_IO_ERROR, SF_IO_ERROR_UNSUPPORTED);
}

static void
test_saving_is_atomic (void)
{
  g_autoptr (SfDocument) document = rich_document ();
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = temp_path ("atomic");
  g_mkdir_with_parents (dir, 0755);
  g_autofree char *path = g_build_filename (dir, "picture.ora", NULL);
  g_assert_true (sf_document_save_ora (document, path, &error));
  g_assert_true (sf_document_save_ora (document, path, &error));
  /* Only the file itself: no temporary left behind. */
  g_autoptr (GDir) folder = g_dir_open (dir, 0, NULL);
  const char *name;
  int count = 0;
  while ((name = g_dir_read_name (folder)))
    {
      g_assert_cmpstr (name, ==, "picture.ora");
      count++;
    }
  g_assert_cmpint (count, ==, 1);
  /* A failing save leaves the old file whole. */
  gsize before_size;
  g_autofree char *before = NULL;
  g_file_get_contents (path, &before, &before_size, NULL);
  g_autofree char *bad = g_build_filename (dir, "missing-folder", "x.ora", NULL);
  g_assert_false (sf_document_save_ora (document, bad, &error));
  g_assert_error (error, SF_IO_ERROR, SF_IO_ERROR_WRITE);
  gsize after_size;
  g_autofree char *after = NULL;
  g_file_get_contents (path, &after, &after_size, NULL);
  g_assert_cmpmem (after, after_size, before, before_size);
}

static void
test_autosaves_of_dead_processes_are_recoverable (void)
{
  g_autoptr (SfDocument) document = rich_document ();
  g_autoptr (GError) error = NULL;
  g_autofree char *id = sf_autosave_new_id ();
  g_assert_true (sf_autosave_write (document, id, "/home/someone/picture.ora", &error));
  g_assert_no_error (error);
  g_autofree char *dir = sf_autosave_get_dir ();
  g_assert_true (g_str_has_prefix (dir, g_get_user_data_dir ()));
  /* Our own autosave is not offered: this process is alive. */
  g_autoptr (GPtrArray) none = sf_autosave_list_recoverable ();
  for (guint i = 0; i < none->len; i++)
    g_assert_cmpstr (((SfAutosave *) none->pdata[i])->id, !=, id);

  /* Pretend it was written by a process that has since died. */
  pid_t child = fork ();
  if (child == 0)
    _exit (0);
  waitpid (child, NULL, 0);
  g_autofree char *info = g_strconcat (dir, "/", id, ".info", NULL);
  g_autoptr (GKeyFile) keys = g_key_file_new ();
  g_assert_true (g_key_file_load_from_file (keys, info, G_KEY_FILE_NONE, NULL));
  g_key_file_set_int64 (keys, "Autosave", "pid", child);
  g_assert_true (g_key_file_save_to_file (keys, info, NULL));

  g_autoptr (GPtrArray) found = sf_autosave_list_recoverable ();
  SfAutosave *mine = NULL;
  for (guint i = 0; i < found->len; i++)
    if (g_strcmp0 (((SfAutosave *) found->pdata[i])->id, id) == 0)
      mine = found->pdata[i];
  g_assert_nonnull (mine);
  g_assert_cmpstr (mine->document_path, ==, "/home/someone/picture.ora");
  g_assert_cmpint (mine->saved_unix, >, 0);
  g_autoptr (SfDocument) recovered = sf_document_open (mine->ora_path, &error);
  g_assert_no_error (error);
  g_autofree char *expected = fingerprint_full (document, FALSE);
  g_autofree char *actual = fingerprint_full (recovered, FALSE);
  g_assert_cmpstr (actual, ==, expected);
  sf_autosave_discard (id);
  g_assert_false (g_file_test (mine->ora_path, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (info, G_FILE_TEST_EXISTS));
}

int
main (int argc, char **argv)
{
  sf_test_init (&argc, &argv);
  sf_test_add ("/render/png/reads-every-colour-type-and-depth",
               test_png_reads_every_colour_type_and_depth);
  sf_test_add ("/render/png/round-trip-is-exact-and-keeps-text",
               test_png_round_trip_is_exact_and_keeps_text);
  sf_test_add ("/render/png/damaged-files-give-errors", test_damaged_pngs_give_errors);
  sf_test_add ("/render/ora/round-trip-is-exact", test_ora_round_trip_is_exact);
  sf_test_add ("/render/ora/file-is-valid-openraster", test_ora_is_valid_openraster);
  sf_test_add ("/render/ora/damaged-files-give-errors", test_damaged_ora_files_give_errors);
  sf_test_add ("/render/io/export-and-open-by-content", test_export_and_open_by_content);
  sf_test_add ("/render/io/saving-is-atomic", test_saving_is_atomic);
  sf_test_add ("/render/io/autosaves-of-dead-processes-are-recoverable",
               test_autosaves_of_dead_processes_are_recoverable);
  return sf_test_run ();
}
