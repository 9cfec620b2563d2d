/* The invisible watermark: embedded into natural-looking pictures of
 * several sizes (odd ones too), written to PNG and read back, it is found
 * with high confidence; unmarked pictures (noisy, smooth, flat) read as
 * unmarked; the change stays above 38 dB PSNR; and the marked blocks sit
 * on the quantisation lattice by a transform computed here from scratch. */
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "png-io.h"
#include "sf-test.h"
#include "watermark.h"

/* Smooth gradients, a few soft blobs and a little noise: roughly what a
 * generated picture looks like to a block transform. */
static guint8 *
make_picture (int width, int height, guint64 seed, float noise)
{
  SfTestRng rng;
  sf_test_rng_init (&rng, seed);
  double phase[3], freq[3], blob_x[4], blob_y[4], blob_r[4], blob_c[4][3];
  for (int c = 0; c < 3; c++)
    {
      phase[c] = sf_test_rng_uniform (&rng, 0, 6.28f);
      freq[c] = sf_test_rng_uniform (&rng, 0.005f, 0.03f);
    }
  for (int b = 0; b < 4; b++)
    {
      blob_x[b] = sf_test_rng_uniform (&rng, 0, width);
      blob_y[b] = sf_test_rng_uniform (&rng, 0, height);
      blob_r[b] = sf_test_rng_uniform (&rng, 10, 80);
      for (int c = 0; c < 3; c++)
        blob_c[b][c] = sf_test_rng_uniform (&rng, -60, 60);
    }
  guint8 *rgba = g_malloc ((gsize) width * height * 4);
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        guint8 *p = rgba + ((gsize) y * width + x) * 4;
        for (int c = 0; c < 3; c++)
          {
            double v = 128 + 70 * sin (phase[c] + freq[c] * x + 0.6 * freq[c] * y);
            for (int b = 0; b < 4; b++)
              {
                double d = hypot (x - blob_x[b], y - blob_y[b]) / blob_r[b];
                v += blob_c[b][c] * exp (-d * d);
              }
            v += sf_test_rng_uniform (&rng, -noise, noise);
            p[c] = (guint8) CLAMP (v + 0.5, 0, 255);
          }
        p[3] = (guint8) (200 + (x + y) % 56);
      }
  return rgba;
}

static double
psnr (const guint8 *a, const guint8 *b, int width, int height)
{
  double sum = 0;
  for (gsize i = 0; i < (gsize) width * height; i++)
    for (int c = 0; c < 3; c++)
      {
        double d = (double) a[i * 4 + c] - b[i * 4 + c];
        sum += d * d;
      }
  double mse = sum / ((double) width * height * 3);
  return mse > 0 ? 10 * log10 (255.0 * 255.0 / mse) : HUGE_VAL;
}

/* Writes @rgba as a PNG and reads it back. */
static SfImage *
through_png (const guint8 *rgba, int width, int height)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("sf-watermark-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *path = g_build_filename (dir, "marked.png", NULL);
  g_assert_true (sf_png_save (path, rgba, width, height, width * 4, SF_PNG_RGBA, NULL, &error));
  g_assert_no_error (error);
  SfImage *image = sf_png_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (image->width, ==, width);
  g_assert_cmpint (image->height, ==, height);
  g_unlink (path);
  g_rmdir (dir);
  return image;
}

static void
check_size (int width, int height, guint64 seed)
{
  g_autofree guint8 *original = make_picture (width, height, seed, 4);
  g_autofree guint8 *marked = g_memdup2 (original, (gsize) width * height * 4);
  g_autoptr (GError) error = NULL;
  g_assert_true (sf_watermark_embed_tag (marked, width, height, width * 4, &error));
  g_assert_no_error (error);

  double quality = psnr (original, marked, width, height);
  g_test_message ("%d×%d: PSNR %.1f dB", width, height, quality);
  g_assert_cmpfloat (quality, >, 38.0);
  /* Alpha, and the pixels past the last whole 8×8 block, are left alone. */
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        gsize i = ((gsize) y * width + x) * 4;
        g_assert_cmpuint (marked[i + 3], ==, original[i + 3]);
        if (x >= width / 8 * 8 || y >= height / 8 * 8)
          g_assert_cmpmem (marked + i, 4, original + i, 4);
      }

  g_autoptr (SfImage) image = through_png (marked, width, height);
  double confidence = 0;
  g_assert_true (sf_watermark_has_tag (image->pixels, width, height, width * 4, &confidence));
  g_test_message ("%d×%d: marked confidence %.3f", width, height, confidence);
  /* Clipping at 0/255 and rounding cost a few votes, not many. */
  g_assert_cmpfloat (confidence, >=, 0.9);
  guint8 message[4];
  g_assert_true (sf_watermark_detect (image->pixels, width, height, width * 4, message, 32,
                                      &confidence));
  g_assert_cmpmem (message, 4, "SFMT", 4);

  /* The unmarked original reads as unmarked. */
  g_assert_false (sf_watermark_has_tag (original, width, height, width * 4, &confidence));
  g_test_message ("%d×%d: unmarked confidence %.3f", width, height, confidence);
  g_assert_cmpfloat (confidence, <, SF_WATERMARK_THRESHOLD);
  g_assert_false (sf_watermark_detect (original, width, height, width * 4, message, 32, NULL));
}

static void
test_found_after_png_round_trip (void)
{
  check_size (512, 512, 1);
  check_size (333, 257, 2);
  check_size (1024, 768, 3);
  /* The smallest that holds 8 repeats of 32 bits: 16 × 16 blocks. */
  check_size (129, 135, 4);
  if (!sf_test_quick ())
    for (int i = 0; i < 6; i++)
      {
        SfTestRng rng;
        sf_test_rng_init (&rng, 100 + i);
        check_size ((int) sf_test_rng_uniform (&rng, 140, 700),
                    (int) sf_test_rng_uniform (&rng, 140, 700), 10 + i);
      }
}

static void
test_unmarked_pictures_read_unmarked (void)
{
  const int width = 400, height = 300;
  g_autofree guint8 *rgba = g_malloc (width * height * 4);
  guint8 message[4];
  double confidence;
  /* Flat, a smooth ramp, pure noise: none is marked, whatever they read. */
  for (int kind = 0; kind < 3; kind++)
    {
      SfTestRng rng;
      sf_test_rng_init (&rng, 7);
      for (int i = 0; i < width * height; i++)
        {
          int x = i % width, y = i / width;
          for (int c = 0; c < 3; c++)
            rgba[i * 4 + c] = kind == 0   ? 90
                              : kind == 1 ? (guint8) ((x * (c + 1) / 3 + y / 2) % 256)
                                          : (guint8) sf_test_rng_uniform (&rng, 0, 256);
          rgba[i * 4 + 3] = 255;
        }
      gboolean confident = sf_watermark_detect (rgba, width, height, width * 4, message, 32,
                                                &confidence);
      g_test_message ("kind %d: confidence %.3f", kind, confidence);
      g_assert_false (confident);
      g_assert_false (sf_watermark_has_tag (rgba, width, height, width * 4, NULL));
    }
}

static void
test_other_messages_and_light_noise (void)
{
  const int width = 640, height = 480;
  g_autofree guint8 *rgba = make_picture (width, height, 31, 4);
  const guint8 message[6] = { 0xde, 0xad, 0x00, 0xff, 0x5a, 0x01 };
  g_autoptr (GError) error = NULL;
  g_assert_true (sf_watermark_embed (rgba, width, height, width * 4, message, 48, &error));
  g_assert_no_error (error);
  /* ±2 levels of noise on every channel, as a mild re-encode might add. */
  SfTestRng rng;
  sf_test_rng_init (&rng, 5);
  for (int i = 0; i < width * height * 4; i++)
    if (i % 4 != 3)
      rgba[i] = (guint8) CLAMP (rgba[i] + (int) floorf (sf_test_rng_uniform (&rng, -2, 3)), 0, 255);
  guint8 read[6];
  double confidence;
  g_assert_true (sf_watermark_detect (rgba, width, height, width * 4, read, 48, &confidence));
  g_assert_cmpmem (read, 6, message, 6);
  g_assert_cmpfloat (confidence, >, 0.8);
  /* It is not Sfumato's tag. */
  g_assert_false (sf_watermark_has_tag (rgba, width, height, width * 4, NULL));
}

static void
test_refuses_what_cannot_hold_it (void)
{
  g_autofree guint8 *rgba = make_picture (120, 120, 1, 4);
  g_autoptr (GError) error = NULL;
  /* 15 × 15 blocks: 7 repeats of 32 bits. */
  g_assert_false (sf_watermark_embed_tag (rgba, 120, 120, 480, &error));
  g_assert_error (error, SF_WATERMARK_ERROR, SF_WATERMARK_ERROR_TOO_SMALL);
  g_clear_error (&error);
  guint8 message[1] = { 1 };
  g_assert_false (sf_watermark_embed (rgba, 120, 120, 480, message, 0, &error));
  g_assert_error (error, SF_WATERMARK_ERROR, SF_WATERMARK_ERROR_INVALID);
  double confidence = 1;
  guint8 read[4];
  g_assert_false (sf_watermark_detect (rgba, 120, 120, 480, read, 32, &confidence));
  g_assert_cmpfloat (confidence, ==, 0);
}

/* The method by its definition, independently: U = 0.492 (B − Y), the
 * Haar low band (a + b + c + d) / 2, the orthonormal 4×4 DCT-II, and the
 * largest AC coefficient's magnitude modulo 36 at ¼ or ¾ of the scale. */
static double
lattice_share (const guint8 *rgba, int width, int height)
{
  int on = 0, blocks = 0;
  for (int by = 0; by + 8 <= height; by += 8)
    for (int bx = 0; bx + 8 <= width; bx += 8)
      {
        double low[4][4];
        for (int i = 0; i < 4; i++)
          for (int j = 0; j < 4; j++)
            {
              double sum = 0;
              for (int dy = 0; dy < 2; dy++)
                for (int dx = 0; dx < 2; dx++)
                  {
                    const guint8 *p = rgba + ((by + 2 * i + dy) * width + bx + 2 * j + dx) * 4;
                    double y = 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
                    sum += 0.492 * (p[2] - y);
                  }
              low[i][j] = sum / 2;
            }
        double best = -1;
        for (int u = 0; u < 4; u++)
          for (int v = 0; v < 4; v++)
            {
              if (u == 0 && v == 0)
                continue;
              double acc = 0;
              for (int m = 0; m < 4; m++)
                for (int n = 0; n < 4; n++)
                  acc += low[m][n] * cos (G_PI * (2 * m + 1) * u / 8) * cos (G_PI * (2 * n + 1) * v / 8);
              acc *= (u ? sqrt (0.5) : 0.5) * (v ? sqrt (0.5) : 0.5);
              best = MAX (best, fabs (acc));
            }
        double phase = fmod (best, 36.0) / 36.0;
        on += fabs (phase - 0.25) < 0.05 || fabs (phase - 0.75) < 0.05;
        blocks++;
      }
  return (double) on / blocks;
}

static void
test_marked_blocks_sit_on_the_lattice (void)
{
  const int width = 480, height = 360;
  g_autofree guint8 *rgba = make_picture (width, height, 77, 4);
  double before = lattice_share (rgba, width, height);
  g_autoptr (GError) error = NULL;
  g_assert_true (sf_watermark_embed_tag (rgba, width, height, width * 4, &error));
  double after = lattice_share (rgba, width, height);
  g_test_message ("blocks near the lattice: %.3f before, %.3f after", before, after);
  /* ±0.05 around two points covers 20 % of evenly spread residues; a
   * smooth picture's small coefficients crowd a little towards ¼. */
  g_assert_cmpfloat (before, <, 0.45);
  g_assert_cmpfloat (after, >, 0.9);
}

int
main (int argc, char **argv)
{
  sf_test_init (&argc, &argv);
  sf_test_add ("/watermark/is-found-after-a-png-round-trip", test_found_after_png_round_trip);
  sf_test_add ("/watermark/unmarked-pictures-read-unmarked", test_unmarked_pictures_read_unmarked);
  sf_test_add ("/watermark/carries-other-messages-through-light-noise",
               test_other_messages_and_light_noise);
  sf_test_add ("/watermark/refuses-pictures-too-small", test_refuses_what_cannot_hold_it);
  sf_test_add ("/watermark/marked-blocks-sit-on-the-lattice", test_marked_blocks_sit_on_the_lattice);
  return sf_test_run ();
}
