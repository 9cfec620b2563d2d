/* Compositing: every blend mode against a per-pixel reference written
 * from the formulas (PDF 1.7 §11.3.5 separable blend modes and
 * Porter–Duff over/plus), with layer opacity and masks; clipping to the
 * canvas; the cache following changes. */
#include <math.h>
#include <string.h>

#include "document.h"
#include "pixels.h"
#include "sf-test.h"

/* Cairo/pixman work in 8 bits with one rounding per step (source × mask,
 * × opacity, the blend): up to 3 levels apart from exact arithmetic. */
#define TOLERANCE 3

static double
blend_channel (SfBlendMode mode, double cb, double cs)
{
  switch (mode)
    {
    case SF_BLEND_MULTIPLY:
      return cb * cs;
    case SF_BLEND_SCREEN:
      return cb + cs - cb * cs;
    case SF_BLEND_OVERLAY:
      return cb <= 0.5 ? 2 * cs * cb : 1 - 2 * (1 - cs) * (1 - cb);
    case SF_BLEND_DARKEN:
      return MIN (cb, cs);
    case SF_BLEND_LIGHTEN:
      return MAX (cb, cs);
    default:
      return cs;
    }
}

/* Straight RGBA in 0…1 of the backdrop, the source and the source's
 * effective alpha factor (opacity × mask); returns premultiplied 0…255. */
static void
reference_pixel (SfBlendMode mode, const double backdrop[4], const double source[4],
                 double factor, double out[4])
{
  double ab = backdrop[3], as = source[3] * factor;
  if (mode == SF_BLEND_ADD)
    {
      for (int c = 0; c < 3; c++)
        out[c] = MIN (1.0, source[c] * as + backdrop[c] * ab) * 255;
      out[3] = MIN (1.0, as + ab) * 255;
      return;
    }
  double ar = as + ab * (1 - as);
  for (int c = 0; c < 3; c++)
    {
      double cb = backdrop[c], cs = source[c];
      double premult = (1 - as) * ab * cb + (1 - ab) * as * cs + as * ab * blend_channel (mode, cb, cs);
      out[c] = premult * 255;
    }
  out[3] = ar * 255;
}

static void
unpack_straight (guint32 argb, double out[4])
{
  guint8 rgba[4];
  sf_pixels_argb_to_rgba ((guint8 *) &argb, 4, rgba, 4, 1, 1);
  for (int c = 0; c < 4; c++)
    out[c] = rgba[c] / 255.0;
}

static guint32
random_premultiplied (SfTestRng *rng)
{
  guint a = (guint) sf_test_rng_uniform (rng, 0, 256);
  if (a > 255)
    a = 255;
  if (sf_test_rng_uniform (rng, 0, 1) < 0.3f)
    a = 255; /* plenty of opaque pixels, where blends matter most */
  guint32 p = a << 24;
  for (int c = 0; c < 3; c++)
    p |= (guint32) MIN (a, (guint) sf_test_rng_uniform (rng, 0, (float) a + 1)) << (8 * c);
  return p;
}

static void
check_mode (SfBlendMode mode, double opacity, gboolean with_mask)
{
  /* Two layers 256×64: a random backdrop and a random top with @mode. */
  const int width = 256, height = 64;
  SfTestRng rng;
  sf_test_rng_init (&rng, 1000 + mode * 10 + with_mask);
  g_autoptr (SfDocument) document = sf_document_new (width, height);
  g_autofree guint32 *bottom = g_new (guint32, width * height);
  g_autofree guint32 *top = g_new (guint32, width * height);
  g_autofree guint8 *mask = g_new (guint8, width * height);
  for (int i = 0; i < width * height; i++)
    {
      bottom[i] = random_premultiplied (&rng);
      top[i] = random_premultiplied (&rng);
      mask[i] = (guint8) MIN (255, (int) sf_test_rng_uniform (&rng, 0, 256));
    }
  SfLayer *background = sf_document_get_layer (document, 0);
  sf_document_remove_layer (document, background);
  g_autoptr (GError) error = NULL;
  sf_document_add_layer_from_argb (document, 0, (guint8 *) bottom, width, height, width * 4, 0,
                                   0, "bottom", NULL, &error);
  g_assert_no_error (error);
  SfLayer *layer = sf_document_add_layer_from_argb (document, 1, (guint8 *) top, width, height,
                                                    width * 4, 0, 0, "top", NULL, &error);
  g_assert_no_error (error);
  sf_document_set_layer_blend_mode (document, layer, mode);
  sf_document_set_layer_opacity (document, layer, opacity);
  if (with_mask)
    {
      sf_document_add_layer_mask (document, layer);
      SfRect rect = { 0, 0, width, height };
      sf_tile_grid_write (sf_layer_get_mask (layer), &rect, mask, width);
    }

  g_autofree guint32 *out = g_new (guint32, width * height);
  SfRect rect = { 0, 0, width, height };
  sf_document_read_argb (document, &rect, (guint8 *) out, width * 4);
  int worst = 0;
  for (int i = 0; i < width * height; i++)
    {
      double b[4], s[4], expected[4];
      unpack_straight (bottom[i], b);
      unpack_straight (top[i], s);
      double factor = opacity * (with_mask ? mask[i] / 255.0 : 1.0);
      reference_pixel (mode, b, s, factor, expected);
      const int shifts[4] = { 16, 8, 0, 24 }; /* R, G, B, A in ARGB32 */
      for (int c = 0; c < 4; c++)
        {
          int actual = (int) ((out[i] >> shifts[c]) & 0xff);
          int diff = abs (actual - (int) lround (expected[c]));
          if (diff > worst)
            worst = diff;
          if (diff > TOLERANCE)
            g_error ("%s (opacity %.2f, mask %d): pixel %d channel %d is %d, reference %.2f "
                     "(bottom 0x%08x top 0x%08x)",
                     sf_blend_mode_get_label (mode), opacity, with_mask, i, c, actual,
                     expected[c], bottom[i], top[i]);
        }
    }
  g_test_message ("%s: worst difference %d", sf_blend_mode_get_label (mode), worst);
}

static void
test_blend_modes_match_the_reference (void)
{
  for (SfBlendMode mode = 0; mode < SF_BLEND_COUNT; mode++)
    {
      check_mode (mode, 1.0, FALSE);
      check_mode (mode, 0.6, FALSE);
      check_mode (mode, 0.75, TRUE);
    }
}

static void
test_outside_the_canvas_is_transparent (void)
{
  g_autoptr (SfDocument) document = sf_document_new (100, 80);
  /* A layer that spills over every edge. */
  const int w = 300, h = 300;
  g_autofree guint8 *rgba = g_new (guint8, w * h * 4);
  memset (rgba, 200, (gsize) w * h * 4);
  g_autoptr (GError) error = NULL;
  sf_document_add_layer_from_rgba (document, -1, rgba, w, h, w * 4, -100, -100, NULL, NULL,
                                   &error);
  g_assert_no_error (error);
  SfRect rect = { -50, -50, 200, 200 };
  g_autofree guint8 *out = g_new (guint8, 200 * 200 * 4);
  sf_document_read_rgba (document, &rect, out, 200 * 4);
  for (int y = 0; y < 200; y++)
    for (int x = 0; x < 200; x++)
      {
        gboolean inside = x >= 50 && x < 150 && y >= 50 && y < 130;
        const guint8 *p = out + (y * 200 + x) * 4;
        g_assert_cmpuint (p[3], ==, inside ? 200 : 0);
        g_assert_cmpuint (p[0], ==, inside ? 200 : 0);
      }
  /* Far away: transparent, and no composite tile is made for it. */
  SfRect far = { 100000, 100000, 4, 4 };
  guint8 small[64];
  memset (small, 1, sizeof small);
  sf_document_read_rgba (document, &far, small, 16);
  for (int i = 0; i < 64; i++)
    g_assert_cmpuint (small[i], ==, 0);
}

static void
test_hidden_and_transparent_layers_add_nothing (void)
{
  g_autoptr (SfDocument) document = sf_document_new (64, 64);
  guint8 pixel[4] = { 10, 20, 30, 255 };
  g_autoptr (GError) error = NULL;
  SfLayer *a = sf_document_add_layer_from_rgba (document, -1, pixel, 1, 1, 4, 5, 5, NULL, NULL,
                                                &error);
  SfRect rect = { 5, 5, 1, 1 };
  guint8 out[4];
  sf_document_read_rgba (document, &rect, out, 4);
  g_assert_cmpmem (out, 4, pixel, 4);
  sf_document_set_layer_visible (document, a, FALSE);
  sf_document_read_rgba (document, &rect, out, 4);
  g_assert_cmpuint (out[3], ==, 0);
  sf_document_set_layer_visible (document, a, TRUE);
  sf_document_set_layer_opacity (document, a, 0.0);
  sf_document_read_rgba (document, &rect, out, 4);
  g_assert_cmpuint (out[3], ==, 0);
  /* Undo brings the opacity back, and the cached composite follows. */
  sf_document_undo (document);
  sf_document_read_rgba (document, &rect, out, 4);
  g_assert_cmpmem (out, 4, pixel, 4);
}

static void
test_composite_cache_follows_changes (void)
{
  g_autoptr (SfDocument) document = sf_document_new (512, 512);
  SfTile *before = sf_document_get_composite_tile (document, 1, 1);
  /* Unchanged: the same cached tile. */
  g_assert_true (sf_document_get_composite_tile (document, 1, 1) == before);
  SfTile *untouched = sf_document_get_composite_tile (document, 0, 0);

  guint8 pixel[4] = { 255, 0, 0, 255 };
  g_autoptr (GError) error = NULL;
  sf_document_add_layer_from_rgba (document, -1, pixel, 1, 1, 4, 300, 300, NULL, NULL, &error);
  g_assert_no_error (error);
  /* The tile under the change is made again, the others are kept. */
  g_assert_true (sf_document_get_composite_tile (document, 0, 0) == untouched);
  SfTile *after = sf_document_get_composite_tile (document, 1, 1);
  const guint32 *data = (const guint32 *) sf_tile_peek_data (after);
  g_assert_cmphex (data[44 * 256 + 44], ==, 0xffff0000);
}

int
main (int argc, char **argv)
{
  sf_test_init (&argc, &argv);
  sf_test_add ("/render/composite/blend-modes-match-the-reference",
               test_blend_modes_match_the_reference);
  sf_test_add ("/render/composite/outside-the-canvas-is-transparent",
               test_outside_the_canvas_is_transparent);
  sf_test_add ("/render/composite/hidden-and-transparent-layers-add-nothing",
               test_hidden_and_transparent_layers_add_nothing);
  sf_test_add ("/render/composite/cache-follows-changes", test_composite_cache_follows_changes);
  return sf_test_run ();
}
