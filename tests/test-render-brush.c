/* The brush engine: dab coverage against an exactly integrated disc, dab
 * spacing, opacity versus flow, eraser, locked alpha, pressure curves,
 * smoothing, the mask brushes, layer masks, clipping and undo. */
#include <math.h>
#include <string.h>

#include "brush.h"
#include "sf-test.h"

/* The fraction of pixel (px, py) inside the disc, by 64×64 supersampling
 * (error below 1/64 along the boundary). */
static double
disc_area_in_pixel (double cx, double cy, double radius, int px, int py)
{
  int inside = 0;
  for (int j = 0; j < 64; j++)
    for (int i = 0; i < 64; i++)
      {
        double x = px + (i + 0.5) / 64 - cx, y = py + (j + 0.5) / 64 - cy;
        inside += x * x + y * y <= radius * radius;
      }
  return inside / 4096.0;
}

static void
test_hard_dab_covers_the_disc (void)
{
  const double radii[] = { 0.8, 3, 10.5, 40 };
  const double centres[][2] = { { 50, 50 }, { 50.5, 50.5 }, { 50.3, 49.8 } };
  for (gsize r = 0; r < G_N_ELEMENTS (radii); r++)
    for (gsize c = 0; c < G_N_ELEMENTS (centres); c++)
      {
        double radius = radii[r], cx = centres[c][0], cy = centres[c][1];
        double total = 0, exact_total = 0, worst = 0;
        for (int y = 0; y < 100; y++)
          for (int x = 0; x < 100; x++)
            {
              double coverage = sf_brush_dab_coverage (cx, cy, radius, 1.0, x, y);
              double exact = disc_area_in_pixel (cx, cy, radius, x, y);
              total += coverage;
              exact_total += exact;
              worst = MAX (worst, fabs (coverage - exact));
            }
        /* A linear ramp across the rim approximates the pixel's area: a
         * pixel the edge crosses diagonally is off by at most ~0.2, and
         * the errors cancel over the disc (total within 2 %, or 0.3 px² for
         * sub-pixel dabs). */
        g_assert_cmpfloat (worst, <=, 0.2);
        g_assert_cmpfloat (fabs (total - exact_total), <=, MAX (0.02 * exact_total, 0.3));
      }
}

static void
test_soft_dab_falls_off_from_its_core (void)
{
  const double radius = 20, hardness = 0.5;
  float previous = 2;
  for (int x = 50; x < 80; x++)
    {
      float coverage = sf_brush_dab_coverage (50.5, 50.5, radius, hardness, x, 50);
      double distance = x - 50;
      if (distance <= hardness * radius)
        g_assert_cmpfloat (coverage, ==, 1.0f);
      if (distance >= radius + 0.5)
        g_assert_cmpfloat (coverage, ==, 0.0f);
      g_assert_cmpfloat (coverage, <=, previous);
      previous = coverage;
      /* Symmetric. */
      g_assert_cmpfloat (coverage, ==,
                         sf_brush_dab_coverage (50.5, 50.5, radius, hardness, 100 - x, 50));
      g_assert_cmpfloat (coverage, ==,
                         sf_brush_dab_coverage (50.5, 50.5, radius, hardness, 50, x));
    }
  /* Halfway through the falloff, smoothstep gives one half. */
  float middle = sf_brush_dab_coverage (50.5, 50.5, radius, hardness, 50 + 15, 50);
  g_assert_cmpfloat (fabs (middle - 0.5f), <, 1e-6);
}

static guint8
alpha_at (SfDocument *document, SfLayer *layer, int x, int y)
{
  guint32 pixel;
  SfRect rect = { x, y, 1, 1 };
  sf_tile_grid_read (sf_layer_get_pixels (layer), &rect, (guint8 *) &pixel, 4);
  return (guint8) (pixel >> 24);
}

static guint32
pixel_at (SfLayer *layer, int x, int y)
{
  guint32 pixel;
  SfRect rect = { x, y, 1, 1 };
  sf_tile_grid_read (sf_layer_get_pixels (layer), &rect, (guint8 *) &pixel, 4);
  return pixel;
}

static void
test_dabs_are_spaced_by_a_fraction_of_the_size (void)
{
  g_autoptr (SfDocument) document = sf_document_new (400, 100);
  SfBrush brush;
  sf_brush_init (&brush);
  brush.size_px = 20;
  brush.hardness = 1;
  brush.spacing = 0.5; /* every 10 px */
  SfStroke *stroke = sf_stroke_begin (document, &brush, 10.5, 50.5, 1.0);
  sf_stroke_motion (stroke, 110.5, 50.5, 1.0);
  sf_stroke_motion (stroke, 210.5, 50.5, 1.0);
  g_assert_cmpuint (sf_stroke_get_dab_count (stroke), ==, 21);
  sf_stroke_end (stroke);

  /* Wide spacing leaves gaps: dabs at 10, 50, 90 …, radius 10. */
  g_autoptr (SfDocument) sparse = sf_document_new (400, 100);
  brush.spacing = 2.0;
  stroke = sf_stroke_begin (sparse, &brush, 10.5, 50.5, 1.0);
  for (int x = 20; x <= 210; x += 7) /* many small motions */
    sf_stroke_motion (stroke, x + 0.5, 50.5, 1.0);
  g_assert_cmpuint (sf_stroke_get_dab_count (stroke), ==, 5);
  sf_stroke_end (stroke);
  SfLayer *layer = sf_document_get_active_layer (sparse);
  for (int centre = 10; centre <= 170; centre += 40)
    {
      g_assert_cmpuint (alpha_at (sparse, layer, centre, 50), ==, 255);
      g_assert_cmpuint (alpha_at (sparse, layer, centre + 20, 50), ==, 0);
      g_assert_cmpuint (alpha_at (sparse, layer, centre, 50 + 12), ==, 0);
    }
}

static void
test_opacity_caps_a_stroke_that_crosses_itself (void)
{
  g_autoptr (SfDocument) document = sf_document_new (200, 200);
  SfLayer *layer = sf_document_get_active_layer (document);
  SfBrush brush;
  sf_brush_init (&brush);
  brush.size_px = 30;
  brush.hardness = 1;
  brush.opacity = 0.5;
  SfStroke *stroke = sf_stroke_begin (document, &brush, 20, 100, 1.0);
  sf_stroke_motion (stroke, 180, 100, 1.0);
  sf_stroke_motion (stroke, 20, 100, 1.0);
  sf_stroke_motion (stroke, 100, 20, 1.0);
  sf_stroke_motion (stroke, 100, 180, 1.0);
  sf_stroke_end (stroke);
  for (int x = 0; x < 200; x++)
    g_assert_cmpuint (alpha_at (document, layer, x, 100), <=, 128);
  g_assert_cmpuint (alpha_at (document, layer, 100, 100), ==, 128);

  /* A second stroke builds on the first: 0.5 + 0.5 × 0.5. */
  sf_document_stroke_line (document, &brush, 20, 100, 180, 100);
  g_assert_cmpint (abs (alpha_at (document, layer, 100, 100) - 191), <=, 1);

  /* Low flow builds up within a stroke where dabs overlap: one dab of
   * flow 0.1 gives 26; along a line, each dab adds 0.1 × its coverage of
   * what is left (dabs every 3 px from x = 20). */
  g_autoptr (SfDocument) light = sf_document_new (200, 200);
  layer = sf_document_get_active_layer (light);
  brush.opacity = 1;
  brush.flow = 0.1;
  sf_stroke_end (sf_stroke_begin (light, &brush, 50, 50, 1.0));
  g_assert_cmpuint (alpha_at (light, layer, 50, 50), ==, 26);
  sf_document_stroke_line (light, &brush, 20, 150, 180, 150);
  double coverage = 0;
  for (double x = 20; x <= 180; x += 3)
    coverage += (1 - coverage) * 0.1 * sf_brush_dab_coverage (x, 150, 15, 1, 100, 150);
  guint8 built = alpha_at (light, layer, 100, 150);
  g_assert_cmpint (abs (built - (int) (coverage * 255 + 0.5)), <=, 1);
  g_assert_cmpuint (built, >, 150);
}

static void
test_eraser_and_locked_alpha (void)
{
  g_autoptr (SfDocument) document = sf_document_new (200, 100);
  g_autoptr (GError) error = NULL;
  /* Half-transparent red everywhere. */
  g_autofree guint8 *rgba = g_new (guint8, 200 * 100 * 4);
  for (int i = 0; i < 200 * 100; i++)
    memcpy (rgba + i * 4, (guint8[]) { 255, 0, 0, 128 }, 4);
  SfLayer *layer = sf_document_add_layer_from_rgba (document, -1, rgba, 200, 100, 800, 0, 0,
                                                    NULL, NULL, &error);
  g_assert_no_error (error);
  SfBrush brush;
  sf_brush_init (&brush);
  brush.size_px = 20;
  brush.hardness = 1;
  brush.color[2] = 1.0; /* blue */
  sf_document_set_layer_alpha_locked (document, layer, TRUE);
  sf_document_stroke_line (document, &brush, 50, 50, 150, 50);
  /* Blue now, alpha unchanged: premultiplied (0, 0, 128) at alpha 128. */
  g_assert_cmphex (pixel_at (layer, 100, 50), ==, 0x80000080);
  g_assert_cmphex (pixel_at (layer, 100, 80), ==, 0x80800000);
  /* Erasing a locked layer changes nothing. */
  brush.mode = SF_BRUSH_ERASE;
  sf_document_stroke_line (document, &brush, 50, 50, 150, 50);
  g_assert_cmphex (pixel_at (layer, 100, 50), ==, 0x80000080);
  sf_document_set_layer_alpha_locked (document, layer, FALSE);
  sf_document_stroke_line (document, &brush, 50, 50, 150, 50);
  g_assert_cmphex (pixel_at (layer, 100, 50), ==, 0);
  g_assert_cmphex (pixel_at (layer, 100, 80), ==, 0x80800000);
  /* Half opacity erases half. */
  brush.opacity = 0.5;
  sf_document_stroke_line (document, &brush, 50, 80, 150, 80);
  g_assert_cmphex (pixel_at (layer, 100, 80), ==, 0x40400000);
}

static void
test_pressure_scales_size_through_the_curve (void)
{
  g_autoptr (SfDocument) document = sf_document_new (200, 100);
  SfLayer *layer = sf_document_get_active_layer (document);
  SfBrush brush;
  sf_brush_init (&brush);
  brush.size_px = 40;
  brush.hardness = 1;
  sf_stroke_end (sf_stroke_begin (document, &brush, 50, 50, 0.5));
  /* Radius 10 at half pressure. */
  g_assert_cmpuint (alpha_at (document, layer, 50 + 8, 50), ==, 255);
  g_assert_cmpuint (alpha_at (document, layer, 50 + 11, 50), ==, 0);

  /* A curve that saturates at half pressure: full size. */
  brush.size_curve = (SfPressureCurve) { .count = 2, .x = { 0, 0.5 }, .y = { 0, 1 } };
  g_assert_cmpfloat (sf_pressure_curve_eval (&brush.size_curve, 0.25), ==, 0.5);
  g_assert_cmpfloat (sf_pressure_curve_eval (&brush.size_curve, 0.9), ==, 1.0);
  sf_stroke_end (sf_stroke_begin (document, &brush, 150, 50, 0.5));
  g_assert_cmpuint (alpha_at (document, layer, 150 + 18, 50), ==, 255);

  /* Pressure to opacity. */
  brush.pressure_size = FALSE;
  brush.pressure_opacity = TRUE;
  sf_pressure_curve_init_linear (&brush.opacity_curve);
  sf_stroke_end (sf_stroke_begin (document, &brush, 100, 20, 0.25));
  g_assert_cmpint (abs (alpha_at (document, layer, 100, 20) - 64), <=, 1);
}

static void
test_smoothing_lags_then_catches_up (void)
{
  g_autoptr (SfDocument) document = sf_document_new (300, 100);
  SfLayer *layer = sf_document_get_active_layer (document);
  SfBrush brush;
  sf_brush_init (&brush);
  brush.size_px = 6;
  brush.hardness = 1;
  brush.smoothing = 0.9;
  SfStroke *stroke = sf_stroke_begin (document, &brush, 10, 50, 1.0);
  sf_stroke_motion (stroke, 250, 50, 1.0);
  /* One motion moves the path a tenth of the way. */
  g_assert_cmpuint (alpha_at (document, layer, 30, 50), ==, 255);
  g_assert_cmpuint (alpha_at (document, layer, 40, 50), ==, 0);
  sf_stroke_end (stroke);
  g_assert_cmpuint (alpha_at (document, layer, 249, 50), ==, 255);
}

static void
test_mask_brush_and_eraser_touch_only_the_mask (void)
{
  g_autoptr (SfDocument) document = sf_document_new (200, 200);
  SfLayer *layer = sf_document_get_active_layer (document);
  SfBrush brush;
  sf_brush_init (&brush);
  brush.mode = SF_BRUSH_MASK;
  brush.size_px = 40;
  brush.hardness = 1;
  g_assert_true (sf_document_mask_is_empty (document));
  sf_document_stroke_line (document, &brush, 50, 100, 150, 100);
  g_assert_false (sf_document_mask_is_empty (document));
  g_assert_cmpuint (sf_tile_grid_get_count (sf_layer_get_pixels (layer)), ==, 0);
  guint8 mask[200];
  SfRect row = { 0, 100, 200, 1 };
  sf_document_read_mask (document, &row, mask, 200);
  g_assert_cmpuint (mask[100], ==, 255);
  g_assert_cmpuint (mask[20], ==, 0);
  g_assert_cmpuint (mask[175], ==, 0);
  brush.mode = SF_BRUSH_MASK_ERASE;
  brush.size_px = 10;
  sf_document_stroke_line (document, &brush, 100, 50, 100, 150);
  sf_document_read_mask (document, &row, mask, 200);
  g_assert_cmpuint (mask[100], ==, 0);
  g_assert_cmpuint (mask[90], ==, 255);
  g_assert_cmpstr (sf_document_get_undo_label (document), ==, "Mask Eraser Stroke");
}

static void
test_painting_a_layer_mask_hides_and_shows (void)
{
  g_autoptr (SfDocument) document = sf_document_new (100, 100);
  SfLayer *layer = sf_document_get_active_layer (document);
  SfBrush brush;
  sf_brush_init (&brush);
  brush.size_px = 100;
  brush.hardness = 1;
  brush.color[0] = 1;
  sf_document_stroke_line (document, &brush, 50, 50, 50, 50); /* red everywhere near */
  sf_document_add_layer_mask (document, layer);
  brush.on_layer_mask = TRUE;
  brush.color[0] = 0; /* black hides */
  brush.size_px = 10;
  sf_document_stroke_line (document, &brush, 50, 50, 50, 50);
  guint8 out[4];
  SfRect at = { 50, 50, 1, 1 };
  sf_document_read_rgba (document, &at, out, 4);
  g_assert_cmpuint (out[3], ==, 0);
  /* The pixels themselves are untouched. */
  g_assert_cmpuint (alpha_at (document, layer, 50, 50), ==, 255);
  brush.color[0] = brush.color[1] = brush.color[2] = 1; /* white shows */
  sf_document_stroke_line (document, &brush, 50, 50, 50, 50);
  sf_document_read_rgba (document, &at, out, 4);
  g_assert_cmpuint (out[3], ==, 255);
  g_assert_cmpuint (out[0], ==, 255);
}

static void
test_a_stroke_is_one_undo_step_and_stays_on_the_canvas (void)
{
  g_autoptr (SfDocument) document = sf_document_new (300, 300);
  SfLayer *layer = sf_document_get_active_layer (document);
  SfBrush brush;
  sf_brush_init (&brush);
  brush.size_px = 50;
  SfRect area = { -300, -300, 900, 900 };
  g_autofree guint8 *before = g_malloc (900 * 900 * 4);
  g_autofree guint8 *after = g_malloc (900 * 900 * 4);
  g_autofree guint8 *now = g_malloc (900 * 900 * 4);
  sf_tile_grid_read (sf_layer_get_pixels (layer), &area, before, 900 * 4);
  SfStroke *stroke = sf_stroke_begin (document, &brush, -50, -50, 1.0);
  for (int i = 0; i <= 20; i++)
    sf_stroke_motion (stroke, -50 + i * 20, -50 + i * 15, 0.3 + i * 0.03);
  sf_stroke_end (stroke);
  g_assert_cmpuint (sf_document_get_undo_count (document), ==, 1);
  sf_tile_grid_read (sf_layer_get_pixels (layer), &area, after, 900 * 4);
  g_assert_true (memcmp (before, after, 900 * 900 * 4) != 0);
  /* Nothing outside the canvas was painted. */
  for (int y = 0; y < 900; y++)
    for (int x = 0; x < 900; x++)
      if (x < 300 || y < 300 || x >= 600 || y >= 600)
        g_assert_cmpuint (after[(y * 900 + x) * 4 + 3], ==, 0);
  sf_document_undo (document);
  sf_tile_grid_read (sf_layer_get_pixels (layer), &area, now, 900 * 4);
  g_assert_cmpmem (now, 900 * 900 * 4, before, 900 * 900 * 4);
  sf_document_redo (document);
  sf_tile_grid_read (sf_layer_get_pixels (layer), &area, now, 900 * 4);
  g_assert_cmpmem (now, 900 * 900 * 4, after, 900 * 900 * 4);
}

int
main (int argc, char **argv)
{
  sf_test_init (&argc, &argv);
  sf_test_add ("/render/brush/hard-dab-covers-the-disc", test_hard_dab_covers_the_disc);
  sf_test_add ("/render/brush/soft-dab-falls-off-from-its-core",
               test_soft_dab_falls_off_from_its_core);
  sf_test_add ("/render/brush/dabs-are-spaced-by-a-fraction-of-the-size",
               test_dabs_are_spaced_by_a_fraction_of_the_size);
  sf_test_add ("/render/brush/opacity-caps-a-stroke-that-crosses-itself",
               test_opacity_caps_a_stroke_that_crosses_itself);
  sf_test_add ("/render/brush/eraser-and-locked-alpha", test_eraser_and_locked_alpha);
  sf_test_add ("/render/brush/pressure-scales-size-through-the-curve",
               test_pressure_scales_size_through_the_curve);
  sf_test_add ("/render/brush/smoothing-lags-then-catches-up",
               test_smoothing_lags_then_catches_up);
  sf_test_add ("/render/brush/mask-brush-and-eraser-touch-only-the-mask",
               test_mask_brush_and_eraser_touch_only_the_mask);
  sf_test_add ("/render/brush/painting-a-layer-mask-hides-and-shows",
               test_painting_a_layer_mask_hides_and_shows);
  sf_test_add ("/render/brush/a-stroke-is-one-undo-step-and-stays-on-the-canvas",
               test_a_stroke_is_one_undo_step_and_stays_on_the_canvas);
  return sf_test_run ();
}
