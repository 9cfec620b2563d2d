/* Tiles and grids: sparse storage, copy-on-write sharing, reading and
 * writing across tile borders and negative coordinates, pixel formats. */
#include <string.h>

#include "geometry.h"
#include "pixels.h"
#include "sf-test.h"
#include "tile.h"

static void
test_absent_tiles_read_as_the_fill (void)
{
  g_autoptr (SfTileGrid) grid = sf_tile_grid_new (SF_TILE_A8, 255);
  guint8 out[16 * 3];
  SfRect rect = { -8, 250, 16, 3 };
  sf_tile_grid_read (grid, &rect, out, 16);
  for (gsize i = 0; i < sizeof out; i++)
    g_assert_cmpuint (out[i], ==, 255);
  g_assert_cmpuint (sf_tile_grid_get_count (grid), ==, 0);
}

static void
test_write_and_read_match_a_plain_array (void)
{
  /* A plain 2-D array is the reference; random rectangles are written and
   * read over negative coordinates and across tile borders. */
  SfTestRng rng;
  sf_test_rng_init (&rng, 7);
  const int x0 = -600, y0 = -300, width = 1100, height = 700;
  g_autofree guint32 *reference = g_new0 (guint32, (gsize) width * height);
  g_autoptr (SfTileGrid) grid = sf_tile_grid_new (SF_TILE_ARGB32, 0);
  for (int round = 0; round < 40; round++)
    {
      SfRect rect;
      rect.width = 1 + (int) sf_test_rng_uniform (&rng, 0, 400);
      rect.height = 1 + (int) sf_test_rng_uniform (&rng, 0, 300);
      rect.x = x0 + (int) sf_test_rng_uniform (&rng, 0, (float) (width - rect.width));
      rect.y = y0 + (int) sf_test_rng_uniform (&rng, 0, (float) (height - rect.height));
      g_autofree guint32 *data = g_new (guint32, (gsize) rect.width * rect.height);
      guint32 value = (guint32) sf_test_rng_uniform (&rng, 1, 4e9f);
      for (int i = 0; i < rect.width * rect.height; i++)
        data[i] = value + (guint32) i;
      sf_tile_grid_write (grid, &rect, (guint8 *) data, rect.width * 4);
      for (int y = 0; y < rect.height; y++)
        memcpy (reference + (gsize) (rect.y - y0 + y) * width + (rect.x - x0),
                data + (gsize) y * rect.width, (gsize) rect.width * 4);
    }
  SfRect all = { x0, y0, width, height };
  g_autofree guint32 *out = g_new (guint32, (gsize) width * height);
  sf_tile_grid_read (grid, &all, (guint8 *) out, width * 4);
  g_assert_cmpmem (out, (gsize) width * height * 4, reference, (gsize) width * height * 4);

  /* Every tile holding data is inside the written area's tile range. */
  SfRect extent;
  g_assert_true (sf_tile_grid_get_extent (grid, &extent));
  g_assert_cmpint (extent.x, >=, sf_floor_div (x0, 256) * 256);
  g_assert_cmpint (extent.y, >=, sf_floor_div (y0, 256) * 256);
  g_assert_cmpint (extent.x % 256, ==, 0);
}

static void
test_writing_only_fill_creates_no_tiles (void)
{
  g_autoptr (SfTileGrid) grid = sf_tile_grid_new (SF_TILE_ARGB32, 0);
  g_autofree guint8 *zeros = g_malloc0 (300 * 300 * 4);
  SfRect rect = { 100, 100, 300, 300 };
  sf_tile_grid_write (grid, &rect, zeros, 300 * 4);
  g_assert_cmpuint (sf_tile_grid_get_count (grid), ==, 0);
  zeros[0] = 1;
  sf_tile_grid_write (grid, &rect, zeros, 300 * 4);
  g_assert_cmpuint (sf_tile_grid_get_count (grid), ==, 1);
  g_assert_nonnull (sf_tile_grid_peek (grid, 0, 0));
  zeros[0] = 0;
  sf_tile_grid_write (grid, &rect, zeros, 300 * 4);
  sf_tile_grid_prune (grid);
  g_assert_cmpuint (sf_tile_grid_get_count (grid), ==, 0);
}

static void
test_copies_share_tiles_until_written (void)
{
  g_autoptr (SfTileGrid) grid = sf_tile_grid_new (SF_TILE_A8, 0);
  SfTile *tile = sf_tile_grid_get_writable (grid, -1, 2);
  sf_tile_get_data (tile)[5] = 42;
  g_assert_false (sf_tile_is_shared (tile));

  g_autoptr (SfTileGrid) copy = sf_tile_grid_copy (grid);
  g_assert_true (sf_tile_grid_peek (copy, -1, 2) == tile);
  g_assert_true (sf_tile_is_shared (tile));

  SfTile *written = sf_tile_grid_get_writable (copy, -1, 2);
  g_assert_true (written != tile);
  sf_tile_get_data (written)[5] = 7;
  g_assert_cmpuint (sf_tile_peek_data (tile)[5], ==, 42);
  g_assert_cmpuint (sf_tile_peek_data (written)[5], ==, 7);
  g_assert_false (sf_tile_is_shared (tile));
  /* Now unshared, the original is written in place. */
  g_assert_true (sf_tile_grid_get_writable (grid, -1, 2) == tile);
}

static void
test_content_bounds_are_tight (void)
{
  g_autoptr (SfTileGrid) grid = sf_tile_grid_new (SF_TILE_A8, 0);
  guint8 one = 9;
  SfRect a = { -300, 17, 1, 1 }, b = { 511, 600, 1, 1 };
  sf_tile_grid_write (grid, &a, &one, 1);
  sf_tile_grid_write (grid, &b, &one, 1);
  /* A tile holding only the fill does not count. */
  sf_tile_grid_get_writable (grid, 5, 5);
  SfRect bounds;
  g_assert_true (sf_tile_grid_get_content_bounds (grid, &bounds));
  g_assert_cmpint (bounds.x, ==, -300);
  g_assert_cmpint (bounds.y, ==, 17);
  g_assert_cmpint (bounds.width, ==, 812);
  g_assert_cmpint (bounds.height, ==, 584);
}

static void
test_premultiplied_round_trip_is_exact (void)
{
  /* Every valid premultiplied (colour ≤ alpha) value survives ARGB32 →
   * straight RGBA → ARGB32 unchanged: files keep the document exactly. */
  for (guint alpha = 0; alpha < 256; alpha++)
    for (guint colour = 0; colour <= alpha; colour++)
      {
        guint32 argb = (alpha << 24) | (colour << 16) | ((alpha - colour) << 8) | (colour / 2);
        guint8 rgba[4];
        guint32 back;
        sf_pixels_argb_to_rgba ((guint8 *) &argb, 4, rgba, 4, 1, 1);
        sf_pixels_rgba_to_argb (rgba, 4, (guint8 *) &back, 4, 1, 1);
        if (back != argb)
          g_error ("0x%08x came back as 0x%08x", argb, back);
      }
  /* And straight → premultiplied rounds to nearest. */
  guint8 rgba[4] = { 255, 128, 1, 128 };
  guint32 argb;
  sf_pixels_rgba_to_argb (rgba, 4, (guint8 *) &argb, 4, 1, 1);
  g_assert_cmphex (argb, ==, (128u << 24) | (128u << 16) | (64u << 8) | 1u);
}

static void
test_rectangles_snap_to_multiples_of_8 (void)
{
  SfRect r = { 3, -5, 1021, 1030 };
  SfRect s = sf_rect_snap8 (&r);
  g_assert_cmpint (s.x, ==, 0);
  g_assert_cmpint (s.y, ==, -8);
  g_assert_cmpint (s.width, ==, 1024);
  g_assert_cmpint (s.height, ==, 1032);
  SfRect tiny = { 13, 13, 2, 2 };
  s = sf_rect_snap8 (&tiny);
  g_assert_cmpint (s.width, ==, 8);
  g_assert_cmpint (s.height, ==, 8);
  g_assert_cmpint (s.x % 8, ==, 0);
  g_assert_cmpint (sf_floor_div (-1, 256), ==, -1);
  g_assert_cmpint (sf_floor_div (-256, 256), ==, -1);
  g_assert_cmpint (sf_floor_div (-257, 256), ==, -2);
  g_assert_cmpint (sf_floor_div (255, 256), ==, 0);
}

int
main (int argc, char **argv)
{
  sf_test_init (&argc, &argv);
  sf_test_add ("/render/tiles/absent-tiles-read-as-the-fill", test_absent_tiles_read_as_the_fill);
  sf_test_add ("/render/tiles/write-and-read-match-a-plain-array",
               test_write_and_read_match_a_plain_array);
  sf_test_add ("/render/tiles/writing-only-fill-creates-no-tiles",
               test_writing_only_fill_creates_no_tiles);
  sf_test_add ("/render/tiles/copies-share-tiles-until-written",
               test_copies_share_tiles_until_written);
  sf_test_add ("/render/tiles/content-bounds-are-tight", test_content_bounds_are_tight);
  sf_test_add ("/render/tiles/premultiplied-round-trip-is-exact",
               test_premultiplied_round_trip_is_exact);
  sf_test_add ("/render/tiles/rectangles-snap-to-multiples-of-8",
               test_rectangles_snap_to_multiples_of_8);
  return sf_test_run ();
}
