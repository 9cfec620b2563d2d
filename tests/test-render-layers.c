/* Layers and undo: every structural and property edit undone and redone
 * back to the exact same document; merge down; generated layers; canvas
 * growth; the memory bound of the history; snapshots. */
#include <string.h>

#include "document.h"
#include "sf-test.h"
#include "test-render-util.h"

static guint8 *
gradient (int width, int height, guint seed)
{
  guint8 *rgba = g_new (guint8, (gsize) width * height * 4);
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        guint8 *p = rgba + ((gsize) y * width + x) * 4;
        p[0] = (guint8) (x * 3 + seed);
        p[1] = (guint8) (y * 5 + seed * 7);
        p[2] = (guint8) (x ^ y);
        p[3] = (guint8) (((x + y + seed) % 5 == 0) ? 0 : 128 + (x * y + seed) % 128);
      }
  return rgba;
}

static void
test_every_layer_edit_undoes_and_redoes_exactly (void)
{
  g_autoptr (SfDocument) document = sf_document_new (600, 400);
  g_autoptr (GPtrArray) states = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  g_ptr_array_add (states, fingerprint (document));

  g_autofree guint8 *a = gradient (300, 200, 1);
  g_autofree guint8 *b = gradient (500, 300, 2);
  SfLayer *la = sf_document_add_layer_from_rgba (document, -1, a, 300, 200, 300 * 4, -50, 20,
                                                 "A", NULL, &error);
  g_assert_no_error (error);
  g_ptr_array_add (states, fingerprint (document));
  SfLayer *lb = sf_document_add_layer_from_rgba (document, -1, b, 500, 300, 500 * 4, 100, 150,
                                                 "B", "gen-42", &error);
  g_assert_no_error (error);
  g_ptr_array_add (states, fingerprint (document));

  /* Each edit is one step; waiting out the merge window is unnecessary
   * because the properties differ. */
  sf_document_set_layer_blend_mode (document, lb, SF_BLEND_MULTIPLY);
  g_ptr_array_add (states, fingerprint (document));
  sf_document_set_layer_opacity (document, la, 0.5);
  g_ptr_array_add (states, fingerprint (document));
  sf_document_set_layer_name (document, la, "renamed");
  g_ptr_array_add (states, fingerprint (document));
  sf_document_set_layer_alpha_locked (document, lb, TRUE);
  g_ptr_array_add (states, fingerprint (document));
  sf_document_move_layer (document, lb, 0);
  g_ptr_array_add (states, fingerprint (document));
  sf_document_add_layer_mask (document, la);
  g_ptr_array_add (states, fingerprint (document));
  SfLayer *copy = sf_document_duplicate_layer (document, la);
  g_ptr_array_add (states, fingerprint (document));
  sf_document_set_layer_visible (document, copy, FALSE);
  g_ptr_array_add (states, fingerprint (document));
  g_assert_true (sf_document_grow (document, 64, 32, 0, 128, &error));
  g_ptr_array_add (states, fingerprint (document));
  sf_document_remove_layer (document, la);
  g_ptr_array_add (states, fingerprint (document));
  sf_document_clear_layer (document, lb);
  g_ptr_array_add (states, fingerprint (document));
  g_assert_true (sf_document_merge_down (document, copy, &error));
  g_ptr_array_add (states, fingerprint (document));

  guint steps = states->len - 1;
  g_assert_cmpuint (sf_document_get_undo_count (document), ==, steps);
  for (guint i = steps; i > 0; i--)
    {
      g_assert_true (sf_document_undo (document));
      g_autofree char *now = fingerprint (document);
      g_assert_cmpstr (now, ==, states->pdata[i - 1]);
    }
  g_assert_false (sf_document_undo (document));
  for (guint i = 1; i <= steps; i++)
    {
      g_assert_true (sf_document_redo (document));
      g_autofree char *now = fingerprint (document);
      g_assert_cmpstr (now, ==, states->pdata[i]);
    }
  g_assert_false (sf_document_redo (document));
}

static void
test_merge_down_keeps_the_picture (void)
{
  g_autoptr (SfDocument) document = sf_document_new (300, 300);
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *a = gradient (300, 300, 3);
  g_autofree guint8 *b = gradient (200, 250, 4);
  sf_document_remove_layer (document, sf_document_get_layer (document, 0));
  sf_document_add_layer_from_rgba (document, -1, a, 300, 300, 1200, 0, 0, NULL, NULL, &error);
  SfLayer *top = sf_document_add_layer_from_rgba (document, -1, b, 200, 250, 800, 60, 10, NULL,
                                                  NULL, &error);
  g_assert_no_error (error);
  sf_document_set_layer_blend_mode (document, top, SF_BLEND_SCREEN);
  sf_document_set_layer_opacity (document, top, 0.7);
  SfRect rect = { 0, 0, 300, 300 };
  g_autofree guint8 *before = g_malloc (300 * 300 * 4);
  g_autofree guint8 *after = g_malloc (300 * 300 * 4);
  sf_document_read_argb (document, &rect, before, 1200);
  g_assert_true (sf_document_merge_down (document, top, &error));
  g_assert_cmpuint (sf_document_get_layer_count (document), ==, 1);
  sf_document_read_argb (document, &rect, after, 1200);
  /* The same Cairo operations in the same order: identical bytes. */
  g_assert_cmpmem (after, 300 * 300 * 4, before, 300 * 300 * 4);
  g_assert_true (sf_document_get_active_layer (document) == sf_document_get_layer (document, 0));

  g_assert_false (sf_document_merge_down (document, sf_document_get_layer (document, 0), &error));
  g_assert_error (error, SF_DOCUMENT_ERROR, SF_DOCUMENT_ERROR_NO_LAYER);
}

static void
test_generated_layer_keeps_its_id_and_place (void)
{
  g_autoptr (SfDocument) document = sf_document_new (1024, 1024);
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *rgba = gradient (64, 48, 9);
  SfLayer *layer = sf_document_add_layer_from_rgba (document, -1, rgba, 64, 48, 64 * 4, -20, -8,
                                                    "Generated", "history:17", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (sf_layer_get_generation_id (layer), ==, "history:17");
  g_assert_true (sf_document_get_active_layer (document) == layer);
  g_assert_cmpint (sf_document_get_layer_index (document, layer), ==, 1);
  g_assert_cmpstr (sf_document_get_undo_label (document), ==, "Add Generated Layer");

  /* The pixels sit where asked, premultiplied. */
  SfRect rect = { -20, -8, 64, 48 };
  g_autofree guint32 *argb = g_new (guint32, 64 * 48);
  sf_tile_grid_read (sf_layer_get_pixels (layer), &rect, (guint8 *) argb, 64 * 4);
  for (int i = 0; i < 64 * 48; i++)
    {
      guint a = rgba[i * 4 + 3];
      g_assert_cmpuint (argb[i] >> 24, ==, a);
      guint r = (argb[i] >> 16) & 0xff;
      g_assert_cmpint (abs ((int) r - (int) (rgba[i * 4] * a / 255.0 + 0.5)), <=, 0);
    }

  /* Bad input is an error, not a crash. */
  g_assert_null (sf_document_add_layer_from_rgba (document, -1, rgba, 0, 48, 256, 0, 0, NULL,
                                                  NULL, &error));
  g_assert_error (error, SF_DOCUMENT_ERROR, SF_DOCUMENT_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_null (sf_document_add_layer_from_rgba (document, -1, rgba, 64, 48, 100, 0, 0, NULL,
                                                  NULL, &error));
  g_assert_error (error, SF_DOCUMENT_ERROR, SF_DOCUMENT_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_null (sf_document_add_layer_from_rgba (document, 99, rgba, 64, 48, 256, 0, 0, NULL,
                                                  NULL, &error));
  g_assert_error (error, SF_DOCUMENT_ERROR, SF_DOCUMENT_ERROR_INVALID);
}

static void
test_canvas_grows_in_every_direction (void)
{
  g_autoptr (SfDocument) document = sf_document_new (256, 256);
  g_autoptr (GError) error = NULL;
  guint8 red[4] = { 255, 0, 0, 255 };
  sf_document_add_layer_from_rgba (document, -1, red, 1, 1, 4, 0, 0, NULL, NULL, &error);
  g_assert_true (sf_document_grow (document, 128, 64, 32, 16, &error));
  SfRect canvas = sf_document_get_canvas (document);
  g_assert_cmpint (canvas.x, ==, -128);
  g_assert_cmpint (canvas.y, ==, -64);
  g_assert_cmpint (canvas.width, ==, 256 + 160);
  g_assert_cmpint (canvas.height, ==, 256 + 80);
  /* The pixel stays at (0, 0); the new area reads transparent. */
  guint8 out[8];
  SfRect rect = { -1, 0, 2, 1 };
  sf_document_read_rgba (document, &rect, out, 8);
  g_assert_cmpuint (out[3], ==, 0);
  g_assert_cmpmem (out + 4, 4, red, 4);
  g_assert_cmpstr (sf_document_get_undo_label (document), ==, "Resize Canvas");
  sf_document_undo (document);
  canvas = sf_document_get_canvas (document);
  g_assert_cmpint (canvas.x, ==, 0);
  g_assert_cmpint (canvas.width, ==, 256);

  SfRect too_big = { 0, 0, SF_CANVAS_MAX_SIZE + 1, 10 };
  g_assert_false (sf_document_set_canvas (document, &too_big, &error));
  g_assert_error (error, SF_DOCUMENT_ERROR, SF_DOCUMENT_ERROR_TOO_LARGE);
  /* An 8192×8192 canvas is fine. */
  g_clear_error (&error);
  SfRect large = { -4096, -4096, 8192, 8192 };
  g_assert_true (sf_document_set_canvas (document, &large, &error));
}

static void
test_history_is_bounded_by_memory (void)
{
  g_autoptr (SfDocument) document = sf_document_new (4096, 256);
  gsize tile = 256 * 256 * 4;
  /* Each step below keeps one 256 KiB tile: room for about seven. */
  sf_document_set_undo_limit (document, 7 * tile);
  guint8 pixel[4] = { 1, 2, 3, 255 };
  g_autoptr (GError) error = NULL;
  SfLayer *layer = sf_document_get_active_layer (document);
  for (int i = 0; i < 10; i++)
    {
      sf_document_add_layer_from_rgba (document, -1, pixel, 1, 1, 4, i * 256, 0, NULL, NULL,
                                       &error);
      g_assert_no_error (error);
      g_assert_cmpuint (sf_document_get_undo_bytes (document), <=, 7 * tile);
    }
  guint kept = sf_document_get_undo_count (document);
  g_assert_cmpuint (kept, <, 10);
  g_assert_cmpuint (kept, >=, 3);
  for (guint i = 0; i < kept; i++)
    g_assert_true (sf_document_undo (document));
  g_assert_false (sf_document_undo (document));
  /* The oldest steps are gone: their layers stay. */
  g_assert_cmpuint (sf_document_get_layer_count (document), ==, 1 + 10 - kept);
  (void) layer;
}

static void
test_slider_drags_merge_into_one_step (void)
{
  g_autoptr (SfDocument) document = sf_document_new (64, 64);
  SfLayer *layer = sf_document_get_active_layer (document);
  for (int i = 1; i <= 20; i++)
    sf_document_set_layer_opacity (document, layer, 1.0 - i * 0.01);
  g_assert_cmpuint (sf_document_get_undo_count (document), ==, 1);
  g_assert_cmpfloat_with_epsilon (sf_layer_get_opacity (layer), 0.8, 1e-9);
  sf_document_set_layer_name (document, layer, "x");
  g_assert_cmpuint (sf_document_get_undo_count (document), ==, 2);
  sf_document_undo (document);
  sf_document_undo (document);
  g_assert_cmpfloat (sf_layer_get_opacity (layer), ==, 1.0);
}

static void
test_state_tells_whether_modified (void)
{
  g_autoptr (SfDocument) document = sf_document_new (64, 64);
  guint64 saved = sf_document_get_state (document);
  SfLayer *added = sf_document_add_layer (document, NULL);
  g_assert_cmpuint (sf_document_get_state (document), !=, saved);
  sf_document_undo (document);
  g_assert_cmpuint (sf_document_get_state (document), ==, saved);
  sf_document_redo (document);
  guint64 with_layer = sf_document_get_state (document);
  sf_document_undo (document);
  /* A new edit drops the redo step. */
  sf_document_add_layer (document, NULL);
  g_assert_false (sf_document_can_redo (document));
  g_assert_cmpuint (sf_document_get_state (document), !=, with_layer);
  g_assert_cmpuint (sf_document_get_state (document), !=, saved);
  (void) added;
}

static void
test_snapshots_do_not_follow_the_original (void)
{
  g_autoptr (SfDocument) document = sf_document_new (300, 300);
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *a = gradient (300, 300, 5);
  sf_document_add_layer_from_rgba (document, -1, a, 300, 300, 1200, 0, 0, "A", NULL, &error);
  g_autofree char *before = fingerprint (document);
  g_autoptr (SfDocument) snapshot = sf_document_snapshot (document);
  g_autofree char *copied = fingerprint (snapshot);
  g_assert_cmpstr (copied, ==, before);
  sf_document_clear_layer (document, sf_document_get_layer (document, 1));
  sf_document_set_layer_name (document, sf_document_get_layer (document, 1), "B");
  sf_document_grow (document, 8, 8, 8, 8, &error);
  g_autofree char *after = fingerprint (document);
  g_assert_cmpstr (after, !=, before);
  g_autofree char *still = fingerprint (snapshot);
  g_assert_cmpstr (still, ==, before);
}

typedef struct {
  guint changes;
  SfDocumentChange seen;
} Listener;

static void
on_change (SfDocument *document, const SfDocumentEvent *event, gpointer user_data)
{
  Listener *listener = user_data;
  listener->changes++;
  listener->seen |= event->change;
}

static void
test_observers_hear_every_kind_of_change (void)
{
  g_autoptr (SfDocument) document = sf_document_new (64, 64);
  Listener listener = { 0 };
  guint id = sf_document_add_observer (document, on_change, &listener);
  SfLayer *layer = sf_document_add_layer (document, NULL);
  g_assert_true (listener.seen & SF_DOCUMENT_CHANGED_LAYERS);
  g_assert_true (listener.seen & SF_DOCUMENT_CHANGED_ACTIVE);
  g_assert_true (listener.seen & SF_DOCUMENT_CHANGED_HISTORY);
  sf_document_set_layer_opacity (document, layer, 0.5);
  g_assert_true (listener.seen & SF_DOCUMENT_CHANGED_LAYER);
  SfRect frame = { 13, -13, 40, 40 };
  sf_document_set_frame (document, &frame);
  g_assert_true (listener.seen & SF_DOCUMENT_CHANGED_FRAME);
  SfRect snapped = sf_document_get_frame (document);
  g_assert_cmpint (snapped.x, ==, 16);
  g_assert_cmpint (snapped.y, ==, -16);
  g_assert_cmpint (snapped.width, ==, 40);
  g_assert_cmpint (snapped.height, ==, 40); /* -16 … 24 */
  sf_document_grow (document, 1, 0, 0, 0, NULL);
  g_assert_true (listener.seen & SF_DOCUMENT_CHANGED_CANVAS);
  sf_document_remove_observer (document, id);
  guint count = listener.changes;
  sf_document_undo (document);
  g_assert_cmpuint (listener.changes, ==, count);
}

int
main (int argc, char **argv)
{
  sf_test_init (&argc, &argv);
  sf_test_add ("/render/layers/every-edit-undoes-and-redoes-exactly",
               test_every_layer_edit_undoes_and_redoes_exactly);
  sf_test_add ("/render/layers/merge-down-keeps-the-picture", test_merge_down_keeps_the_picture);
  sf_test_add ("/render/layers/generated-layer-keeps-its-id-and-place",
               test_generated_layer_keeps_its_id_and_place);
  sf_test_add ("/render/layers/canvas-grows-in-every-direction",
               test_canvas_grows_in_every_direction);
  sf_test_add ("/render/undo/history-is-bounded-by-memory", test_history_is_bounded_by_memory);
  sf_test_add ("/render/undo/slider-drags-merge-into-one-step",
               test_slider_drags_merge_into_one_step);
  sf_test_add ("/render/undo/state-tells-whether-modified", test_state_tells_whether_modified);
  sf_test_add ("/render/layers/snapshots-do-not-follow-the-original",
               test_snapshots_do_not_follow_the_original);
  sf_test_add ("/render/layers/observers-hear-every-kind-of-change",
               test_observers_hear_every_kind_of_change);
  return sf_test_run ();
}
