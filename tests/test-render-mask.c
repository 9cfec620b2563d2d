/* The inpaint mask: fill and invert, grow and shrink against brute-force
 * distances, feather against a direct 2-D convolution, reads outside the
 * canvas, undo. */
#include <math.h>
#include <string.h>

#include "document.h"
#include "sf-test.h"

#define W 120
#define H 90

/* Random blobs (discs with soft edges) written into the document mask. */
static void
paint_blobs (SfDocument *document, guint8 *mask, guint64 seed)
{
  SfTestRng rng;
  sf_test_rng_init (&rng, seed);
  memset (mask, 0, W * H);
  for (int b = 0; b < 6; b++)
    {
      double cx = sf_test_rng_uniform (&rng, 10, W - 10);
      double cy = sf_test_rng_uniform (&rng, 10, H - 10);
      double r = sf_test_rng_uniform (&rng, 2, 14);
      for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
          {
            double d = hypot (x + 0.5 - cx, y + 0.5 - cy);
            int value = (int) CLAMP ((r - d) * 80, 0, 255);
            mask[y * W + x] = (guint8) MAX (mask[y * W + x], value);
          }
    }
  SfRect rect = { 0, 0, W, H };
  sf_tile_grid_write (sf_document_get_mask (document), &rect, mask, W);
}

static void
read_all (SfDocument *document, guint8 *out)
{
  SfRect rect = { 0, 0, W, H };
  sf_document_read_mask (document, &rect, out, W);
}

static void
test_fill_and_invert (void)
{
  g_autoptr (SfDocument) document = sf_document_new (600, 400);
  SfRect frame = { 100, 50, 300, 300 };
  sf_document_fill_mask (document, &frame, 255);
  g_autofree guint8 *out = g_malloc (700 * 500);
  SfRect area = { -50, -50, 700, 500 };
  sf_document_read_mask (document, &area, out, 700);
  for (int y = 0; y < 500; y++)
    for (int x = 0; x < 700; x++)
      {
        gboolean inside = sf_rect_contains_point (&frame, x - 50, y - 50);
        g_assert_cmpuint (out[y * 700 + x], ==, inside ? 255 : 0);
      }
  sf_document_invert_mask (document);
  sf_document_read_mask (document, &area, out, 700);
  SfRect canvas = sf_document_get_canvas (document);
  for (int y = 0; y < 500; y++)
    for (int x = 0; x < 700; x++)
      {
        gboolean in_frame = sf_rect_contains_point (&frame, x - 50, y - 50);
        gboolean in_canvas = sf_rect_contains_point (&canvas, x - 50, y - 50);
        /* Outside the canvas there is no mask to invert. */
        g_assert_cmpuint (out[y * 700 + x], ==, in_canvas && !in_frame ? 255 : 0);
      }
  sf_document_undo (document);
  sf_document_undo (document);
  g_assert_true (sf_document_mask_is_empty (document));
  /* Filling a frame that hangs over the canvas edge fills the canvas part. */
  SfRect over = { 500, 300, 300, 300 };
  sf_document_fill_mask (document, &over, 255);
  SfRect beyond = { 600, 399, 2, 2 };
  guint8 four[4];
  sf_document_read_mask (document, &beyond, four, 2);
  g_assert_cmpuint (four[0], ==, 0);
  SfRect corner = { 599, 399, 1, 1 };
  sf_document_read_mask (document, &corner, four, 1);
  g_assert_cmpuint (four[0], ==, 255);
}

/* Brute force: the distance from each pixel to the nearest pixel on the
 * other side of the 128 threshold (within the canvas), searched within
 * @reach (farther ones all give the same clamped coverage). */
static double
nearest (const guint8 *mask, int x, int y, gboolean inside, int reach)
{
  double best = HUGE_VAL;
  for (int v = MAX (0, y - reach); v < MIN (H, y + reach + 1); v++)
    for (int u = MAX (0, x - reach); u < MIN (W, x + reach + 1); u++)
      if ((mask[v * W + u] >= 128) == inside)
        best = MIN (best, hypot (u - x, v - y));
  return best;
}

static void
check_grow (int radius)
{
  g_autoptr (SfDocument) document = sf_document_new (W, H);
  guint8 mask[W * H], out[W * H];
  paint_blobs (document, mask, 11 + radius);
  sf_document_grow_mask (document, radius);
  read_all (document, out);
  int r = ABS (radius);
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      {
        guint8 before = mask[y * W + x];
        double coverage;
        guint8 expected;
        if (radius > 0)
          {
            coverage = CLAMP (r + 1 - nearest (mask, x, y, TRUE, r + 2), 0.0, 1.0);
            expected = MAX (before, (guint8) (coverage * 255 + 0.5));
          }
        else
          {
            coverage = CLAMP (nearest (mask, x, y, FALSE, r + 2) - r, 0.0, 1.0);
            expected = MIN (before, (guint8) (coverage * 255 + 0.5));
          }
        if (abs (out[y * W + x] - expected) > 0)
          g_error ("grow %d: pixel %d,%d is %u, reference %u", radius, x, y, out[y * W + x],
                   expected);
      }
}

static void
test_grow_and_shrink_match_brute_force (void)
{
  check_grow (1);
  check_grow (4);
  check_grow (-1);
  check_grow (-3);
  /* Growing something empty does nothing and makes no undo step. */
  g_autoptr (SfDocument) document = sf_document_new (64, 64);
  sf_document_grow_mask (document, 5);
  g_assert_false (sf_document_can_undo (document));
}

static void
test_feather_matches_a_direct_convolution (void)
{
  const double radius = 5;
  g_autoptr (SfDocument) document = sf_document_new (W, H);
  guint8 mask[W * H], out[W * H];
  paint_blobs (document, mask, 3);
  /* A masked column along the left edge checks the repeated border. */
  for (int y = 0; y < H; y++)
    mask[y * W] = 255;
  SfRect column = { 0, 0, 1, H };
  guint8 ones[H];
  memset (ones, 255, H);
  sf_tile_grid_write (sf_document_get_mask (document), &column, ones, 1);
  sf_document_feather_mask (document, radius);
  read_all (document, out);

  double sigma = radius / 2;
  int reach = (int) ceil (3 * sigma);
  double weights[64], sum = 0;
  for (int i = -reach; i <= reach; i++)
    sum += weights[i + reach] = exp (-(double) i * i / (2 * sigma * sigma));
  int worst = 0;
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      {
        double acc = 0;
        for (int j = -reach; j <= reach; j++)
          for (int i = -reach; i <= reach; i++)
            acc += weights[i + reach] * weights[j + reach]
                   * mask[CLAMP (y + j, 0, H - 1) * W + CLAMP (x + i, 0, W - 1)];
        int expected = (int) (acc / (sum * sum) + 0.5);
        worst = MAX (worst, abs (out[y * W + x] - expected));
      }
  /* Floats in two passes against doubles in one: at most one level. */
  g_assert_cmpint (worst, <=, 1);
  g_assert_cmpstr (sf_document_get_undo_label (document), ==, "Feather Mask");
  sf_document_undo (document);
  read_all (document, out);
  g_assert_cmpmem (out, W * H, mask, W * H);
}

static void
test_mask_outside_the_canvas_reads_zero (void)
{
  g_autoptr (SfDocument) document = sf_document_new (64, 64);
  /* Mask data beyond the canvas (left over from a crop) is not read. */
  SfRect wide = { -64, -64, 192, 192 };
  g_autofree guint8 *full = g_malloc (192 * 192);
  memset (full, 200, 192 * 192);
  sf_tile_grid_write (sf_document_get_mask (document), &wide, full, 192);
  SfRect rect = { -10, 30, 84, 1 };
  guint8 row[84];
  sf_document_read_mask (document, &rect, row, 84);
  for (int x = 0; x < 84; x++)
    g_assert_cmpuint (row[x], ==, (x >= 10 && x < 74) ? 200 : 0);
  g_assert_false (sf_document_mask_is_empty (document));
  SfRect canvas = sf_document_get_canvas (document);
  sf_document_fill_mask (document, &canvas, 0);
  g_assert_true (sf_document_mask_is_empty (document));
}

int
main (int argc, char **argv)
{
  sf_test_init (&argc, &argv);
  sf_test_add ("/render/mask/fill-and-invert", test_fill_and_invert);
  sf_test_add ("/render/mask/grow-and-shrink-match-brute-force",
               test_grow_and_shrink_match_brute_force);
  sf_test_add ("/render/mask/feather-matches-a-direct-convolution",
               test_feather_matches_a_direct_convolution);
  sf_test_add ("/render/mask/outside-the-canvas-reads-zero",
               test_mask_outside_the_canvas_reads_zero);
  return sf_test_run ();
}
