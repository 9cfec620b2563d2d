/* The window under Xvfb (X11 backend): driven through its actions and
 * the canvas view's pointer API (the code path of real mouse and pen
 * input), checked against the document; real X pointer events through
 * xdotool; one screenshot of the whole window for review. */
#include <gdk/x11/gdkx.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "application.h"
#include "document-io.h"
#include "layer-list.h"
#include "sf-test.h"
#include "ui-test.h"
#include "window.h"

static SfApplication *application;

/* Runs the main loop for @ms milliseconds. */
static void
spin (guint ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;
  while (g_get_monotonic_time () < end)
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (1000);
}

/* Runs the main loop until @done (checked each iteration) or 20 s pass. */
#define SPIN_UNTIL(done)                                                                         \
  G_STMT_START                                                                                   \
  {                                                                                              \
    gint64 end_ = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;                                \
    while (!(done) && g_get_monotonic_time () < end_)                                            \
      if (!g_main_context_iteration (NULL, FALSE))                                               \
        g_usleep (1000);                                                                         \
    g_assert_true (done);                                                                        \
  }                                                                                              \
  G_STMT_END

static SfWindow *
open_window (void)
{
  SfWindow *window = SF_WINDOW (sf_application_new_window (application));
  gtk_window_set_default_size (GTK_WINDOW (window), 1280, 800);
  gtk_window_present (GTK_WINDOW (window));
  SfCanvasView *view = sf_window_get_canvas_view (window);
  SPIN_UNTIL (gtk_widget_get_mapped (GTK_WIDGET (view)) && gtk_widget_get_width (GTK_WIDGET (view)) > 100);
  spin (100);
  return window;
}

static void
close_window (SfWindow *window)
{
  SPIN_UNTIL (!sf_window_is_saving (window));
  gtk_window_destroy (GTK_WINDOW (window));
  spin (50);
}

static void
activate (SfWindow *window, const char *action, GVariant *parameter)
{
  g_assert_true (g_action_group_has_action (G_ACTION_GROUP (window), action));
  g_action_group_activate_action (G_ACTION_GROUP (window), action, parameter);
}

static guint32
pixel_at (SfDocument *document, int x, int y)
{
  guint32 pixel;
  SfRect rect = { x, y, 1, 1 };
  sf_document_read_argb (document, &rect, (guint8 *) &pixel, 4);
  return pixel;
}

/* Drags the current tool from canvas point a to b in @steps moves. */
static void
drag_on_canvas (SfWindow *window, double ax, double ay, double bx, double by, int steps)
{
  SfCanvasView *view = sf_window_get_canvas_view (window);
  double x, y;
  sf_canvas_view_canvas_to_widget (view, ax, ay, &x, &y);
  sf_canvas_view_press (view, x, y, 1.0);
  for (int i = 1; i <= steps; i++)
    {
      sf_canvas_view_canvas_to_widget (view, ax + (bx - ax) * i / steps, ay + (by - ay) * i / steps,
                                       &x, &y);
      sf_canvas_view_motion (view, x, y, 1.0);
    }
  sf_canvas_view_release (view, x, y);
}

static void
test_window_opens_with_a_document (void)
{
  SfWindow *window = open_window ();
  SfDocument *document = sf_window_get_document (window);
  g_assert_nonnull (document);
  g_assert_cmpint (sf_document_get_width (document), ==, 1024);
  g_assert_cmpuint (sf_document_get_layer_count (document), ==, 1);
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (window)), ==, "Untitled — Sfumato");
  g_assert_false (sf_window_is_modified (window));
  /* Fitted: the whole canvas shows. */
  double zoom = sf_canvas_view_get_zoom (sf_window_get_canvas_view (window));
  g_assert_cmpfloat (zoom, >, 0.1);
  g_assert_cmpfloat (zoom, <, 1.0);
  /* Accelerators are registered with the application. */
  g_auto (GStrv) undo = gtk_application_get_accels_for_action (GTK_APPLICATION (application),
                                                               "win.undo");
  g_assert_cmpstr (undo[0], ==, "<Control>z");
  g_assert_false (g_action_group_get_action_enabled (G_ACTION_GROUP (window), "undo"));
  close_window (window);
}

static void
test_a_stroke_paints_and_undoes (void)
{
  SfWindow *window = open_window ();
  SfDocument *document = sf_window_get_document (window);
  SfToolOptions *options = sf_window_get_tool_options (window);
  activate (window, "tool", g_variant_new_string ("brush"));
  g_assert_cmpint (sf_tool_options_get_tool (options), ==, SF_TOOL_BRUSH);
  GdkRGBA red = { 1, 0, 0, 1 };
  sf_tool_options_set_color (options, &red);
  g_object_set (options, "brush-size", 30.0, "brush-hardness", 1.0, NULL);

  drag_on_canvas (window, 100, 200, 600, 200, 25);
  spin (50);
  g_assert_cmphex (pixel_at (document, 350, 200), ==, 0xffff0000);
  g_assert_cmphex (pixel_at (document, 350, 240), ==, 0);
  g_assert_true (sf_window_is_modified (window));
  g_assert_true (g_str_has_prefix (gtk_window_get_title (GTK_WINDOW (window)), "*"));
  g_assert_cmpstr (sf_document_get_undo_label (document), ==, "Brush Stroke");
  g_assert_true (g_action_group_get_action_enabled (G_ACTION_GROUP (window), "undo"));

  activate (window, "undo", NULL);
  g_assert_cmphex (pixel_at (document, 350, 200), ==, 0);
  g_assert_false (sf_window_is_modified (window));
  activate (window, "redo", NULL);
  g_assert_cmphex (pixel_at (document, 350, 200), ==, 0xffff0000);

  /* E swaps to the eraser; erasing across the stroke. */
  activate (window, "swap-eraser", NULL);
  g_assert_cmpint (sf_tool_options_get_tool (options), ==, SF_TOOL_ERASER);
  drag_on_canvas (window, 350, 100, 350, 300, 10);
  g_assert_cmphex (pixel_at (document, 350, 200), ==, 0);
  g_assert_cmphex (pixel_at (document, 200, 200), ==, 0xffff0000);
  activate (window, "swap-eraser", NULL);
  g_assert_cmpint (sf_tool_options_get_tool (options), ==, SF_TOOL_BRUSH);

  /* The colour picker takes the red back after the colour changed. */
  GdkRGBA blue = { 0, 0, 1, 1 };
  sf_tool_options_set_color (options, &blue);
  activate (window, "tool", g_variant_new_string ("eyedropper"));
  drag_on_canvas (window, 200, 200, 200, 200, 1);
  GdkRGBA picked;
  sf_tool_options_get_color (options, &picked);
  g_assert_true (gdk_rgba_equal (&picked, &red));

  /* The canvas was redrawn from textures of the tiles it shows. */
  g_assert_cmpuint (sf_canvas_view_get_texture_count (sf_window_get_canvas_view (window)), >, 0);
  g_action_group_activate_action (G_ACTION_GROUP (window), "undo", NULL);
  g_action_group_activate_action (G_ACTION_GROUP (window), "undo", NULL);
  close_window (window);
}

static void
test_layer_actions_change_the_document (void)
{
  SfWindow *window = open_window ();
  SfDocument *document = sf_window_get_document (window);
  SfLayerList *model = sf_layers_panel_get_model (sf_window_get_layers_panel (window));
  activate (window, "layer-new", NULL);
  activate (window, "layer-new", NULL);
  g_assert_cmpuint (sf_document_get_layer_count (document), ==, 3);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (model)), ==, 3);
  SfLayer *top = sf_document_get_active_layer (document);
  g_assert_cmpint (sf_document_get_layer_index (document, top), ==, 2);
  /* The panel lists the top layer first. */
  g_assert_cmpuint (sf_layer_list_get_position (model, top), ==, 0);
  g_autoptr (SfLayerItem) first = g_list_model_get_item (G_LIST_MODEL (model), 0);
  g_assert_true (sf_layer_item_get_layer (first) == top);

  activate (window, "layer-lower", NULL);
  g_assert_cmpint (sf_document_get_layer_index (document, top), ==, 1);
  activate (window, "layer-select-above", NULL);
  g_assert_cmpint (sf_document_get_layer_index (document, sf_document_get_active_layer (document)), ==, 2);
  activate (window, "layer-duplicate", NULL);
  g_assert_cmpuint (sf_document_get_layer_count (document), ==, 4);
  activate (window, "layer-merge-down", NULL);
  g_assert_cmpuint (sf_document_get_layer_count (document), ==, 3);
  activate (window, "layer-add-mask", NULL);
  g_assert_nonnull (sf_layer_get_mask (sf_document_get_active_layer (document)));
  g_assert_false (g_action_group_get_action_enabled (G_ACTION_GROUP (window), "layer-add-mask"));
  activate (window, "layer-delete", NULL);
  g_assert_cmpuint (sf_document_get_layer_count (document), ==, 2);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (model)), ==, 2);

  /* Six undos take it back to one layer; the panel follows. */
  for (int i = 0; i < 6; i++)
    activate (window, "undo", NULL);
  g_assert_cmpuint (sf_document_get_layer_count (document), ==, 2);
  activate (window, "undo", NULL);
  activate (window, "undo", NULL);
  g_assert_cmpuint (sf_document_get_layer_count (document), ==, 1);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (model)), ==, 1);
  g_assert_false (g_action_group_get_action_enabled (G_ACTION_GROUP (window), "layer-merge-down"));

  /* F2 renames the active layer in place, in its row. */
  activate (window, "layer-rename", NULL);
  spin (50);
  GtkWidget *focus = gtk_root_get_focus (GTK_ROOT (window));
  g_assert_nonnull (focus);
  GtkWidget *entry = gtk_widget_get_ancestor (focus, GTK_TYPE_ENTRY);
  g_assert_nonnull (entry);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (entry)), ==,
                   sf_layer_get_name (sf_document_get_active_layer (document)));
  gtk_editable_set_text (GTK_EDITABLE (entry), "Renamed");
  g_signal_emit_by_name (entry, "activate");
  spin (50);
  g_assert_cmpstr (sf_layer_get_name (sf_document_get_active_layer (document)), ==, "Renamed");
  activate (window, "undo", NULL);

  /* Properties set on the document show in the item. */
  SfLayer *background = sf_document_get_layer (document, 0);
  sf_document_set_layer_name (document, background, "Paper");
  g_autoptr (SfLayerItem) item = g_list_model_get_item (G_LIST_MODEL (model), 0);
  g_autofree char *name = NULL;
  g_object_get (item, "name", &name, NULL);
  g_assert_cmpstr (name, ==, "Paper");
  close_window (window);
}

static void
test_mask_and_frame_tools (void)
{
  SfWindow *window = open_window ();
  SfDocument *document = sf_window_get_document (window);
  SfRect frame = sf_document_get_frame (document);
  g_assert_cmpint (frame.width, ==, 1024);

  /* Drag the bottom-right handle: the frame resizes, snapped to 8. */
  activate (window, "tool", g_variant_new_string ("frame"));
  SfCanvasView *view = sf_window_get_canvas_view (window);
  double x, y;
  sf_canvas_view_canvas_to_widget (view, frame.x + frame.width, frame.y + frame.height, &x, &y);
  sf_canvas_view_press (view, x, y, 1);
  sf_canvas_view_motion (view, x - 100, y - 61, 1);
  sf_canvas_view_release (view, x - 100, y - 61);
  SfRect resized = sf_document_get_frame (document);
  double zoom = sf_canvas_view_get_zoom (view);
  g_assert_cmpint (resized.x, ==, 0);
  g_assert_cmpint (resized.width % 8, ==, 0);
  g_assert_cmpint (resized.height % 8, ==, 0);
  /* Whole canvas pixels first, then the nearest multiple of 8: within 5
   * (the zoom depends on the sidebar's width, so any value can come up). */
  g_assert_cmpfloat (fabs (resized.width - (1024 - 100 / zoom)), <=, 5);
  g_assert_cmpfloat (fabs (resized.height - (1024 - 61 / zoom)), <=, 5);
  /* Move it from the inside: the size stays. */
  drag_on_canvas (window, 300, 300, 357, 311, 5);
  SfRect moved = sf_document_get_frame (document);
  g_assert_cmpint (moved.width, ==, resized.width);
  g_assert_cmpint (moved.x, ==, 56);
  g_assert_cmpint (moved.y, ==, 8);

  /* Mask brush; then the frame filled; undo. */
  activate (window, "tool", g_variant_new_string ("mask"));
  g_assert_true (sf_document_mask_is_empty (document));
  drag_on_canvas (window, 900, 900, 1000, 1000, 4);
  g_assert_false (sf_document_mask_is_empty (document));
  activate (window, "mask-fill-frame", NULL);
  guint8 value;
  SfRect inside = { moved.x + 4, moved.y + 4, 1, 1 };
  sf_document_read_mask (document, &inside, &value, 1);
  g_assert_cmpuint (value, ==, 255);
  activate (window, "mask-clear", NULL);
  g_assert_true (sf_document_mask_is_empty (document));
  activate (window, "undo", NULL);
  g_assert_false (sf_document_mask_is_empty (document));
  activate (window, "mask-feather", g_variant_new_int32 (8));
  g_assert_cmpstr (sf_document_get_undo_label (document), ==, "Feather Mask");
  activate (window, "show-mask", NULL);
  g_assert_false (sf_canvas_view_get_show_mask (view));
  activate (window, "show-mask", NULL);
  g_assert_true (sf_canvas_view_get_show_mask (view));

  /* Outpainting: the canvas grows to take in a frame hanging over it. */
  SfRect outside = { -256, 0, 1024, 1024 };
  sf_document_set_frame (document, &outside);
  activate (window, "canvas-fit-frame", NULL);
  SfRect canvas = sf_document_get_canvas (document);
  g_assert_cmpint (canvas.x, ==, -256);
  g_assert_cmpint (canvas.width, ==, 1280);
  activate (window, "undo", NULL);
  close_window (window);
}

static void
test_view_and_brush_shortcuts (void)
{
  SfWindow *window = open_window ();
  SfCanvasView *view = sf_window_get_canvas_view (window);
  SfToolOptions *options = sf_window_get_tool_options (window);
  activate (window, "zoom-100", NULL);
  g_assert_cmpfloat (sf_canvas_view_get_zoom (view), ==, 1.0);
  activate (window, "zoom-in", NULL);
  g_assert_cmpfloat_with_epsilon (sf_canvas_view_get_zoom (view), G_SQRT2, 1e-9);
  activate (window, "zoom-out", NULL);
  activate (window, "zoom-out", NULL);
  g_assert_cmpfloat_with_epsilon (sf_canvas_view_get_zoom (view), G_SQRT2 / 2, 1e-9);
  /* Zooming keeps the point under the anchor. */
  double cx, cy, after_x, after_y;
  sf_canvas_view_widget_to_canvas (view, 200, 150, &cx, &cy);
  sf_canvas_view_set_zoom (view, 3.0, 200, 150);
  sf_canvas_view_widget_to_canvas (view, 200, 150, &after_x, &after_y);
  g_assert_cmpfloat_with_epsilon (after_x, cx, 1e-9);
  g_assert_cmpfloat_with_epsilon (after_y, cy, 1e-9);
  sf_canvas_view_pan (view, 30, -20);
  sf_canvas_view_widget_to_canvas (view, 230, 130, &after_x, &after_y);
  g_assert_cmpfloat_with_epsilon (after_x, cx, 1e-9);
  activate (window, "zoom-fit", NULL);
  g_assert_cmpfloat (sf_canvas_view_get_zoom (view), <, 1.0);
  /* Far out, blocks of tiles share textures; drawing them works too. */
  guint textures = sf_canvas_view_get_texture_count (view);
  sf_canvas_view_set_zoom (view, 0.1, -1, -1);
  spin (200);
  g_assert_cmpuint (sf_canvas_view_get_texture_count (view), >, textures);
  g_assert_cmpuint (sf_canvas_view_get_texture_count (view), <=, textures + 4);
  activate (window, "zoom-fit", NULL);

  activate (window, "tool", g_variant_new_string ("brush"));
  g_object_set (options, "brush-size", 20.0, NULL);
  activate (window, "brush-larger", NULL);
  g_assert_cmpfloat (sf_tool_options_get_size (options), ==, 25.0);
  activate (window, "brush-smaller", NULL);
  activate (window, "brush-smaller", NULL);
  g_assert_cmpfloat (sf_tool_options_get_size (options), ==, 15.0);
  /* The mask brush keeps its own size. */
  activate (window, "tool", g_variant_new_string ("mask"));
  double mask_size = sf_tool_options_get_size (options);
  activate (window, "brush-larger", NULL);
  g_assert_cmpfloat (sf_tool_options_get_size (options), >, mask_size);
  activate (window, "tool", g_variant_new_string ("brush"));
  g_assert_cmpfloat (sf_tool_options_get_size (options), ==, 15.0);
  g_autoptr (GVariant) state = g_action_group_get_action_state (G_ACTION_GROUP (window), "tool");
  g_assert_cmpstr (g_variant_get_string (state, NULL), ==, "brush");
  close_window (window);
}

static char *
output_path (const char *name)
{
  const char *dir = g_getenv ("SF_SCREENSHOT_DIR");
  g_autofree char *fallback = g_build_filename (g_get_user_cache_dir (), "test-ui", NULL);
  if (!dir)
    dir = fallback;
  g_mkdir_with_parents (dir, 0755);
  return g_build_filename (dir, name, NULL);
}

static void
test_save_open_and_export (void)
{
  SfWindow *window = open_window ();
  SfDocument *document = sf_window_get_document (window);
  GdkRGBA green = { 0, 0.5, 0, 1 };
  sf_tool_options_set_color (sf_window_get_tool_options (window), &green);
  activate (window, "tool", g_variant_new_string ("brush"));
  drag_on_canvas (window, 10, 10, 500, 500, 10);
  activate (window, "layer-new", NULL);
  activate (window, "tool", g_variant_new_string ("mask"));
  drag_on_canvas (window, 500, 10, 10, 500, 10);

  g_autofree char *ora = output_path ("saved.ora");
  g_unlink (ora);
  activate (window, "save-as-file", g_variant_new_string (ora));
  SPIN_UNTIL (!sf_window_is_saving (window));
  g_assert_false (sf_window_is_modified (window));
  g_assert_cmpstr (sf_window_get_path (window), ==, ora);
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (window)), ==, "saved.ora — Sfumato");

  g_autofree char *png = output_path ("exported.png");
  activate (window, "export-file", g_variant_new_string (png));
  SPIN_UNTIL (!sf_window_is_saving (window));
  g_autoptr (GError) error = NULL;
  g_autoptr (SfImage) image = sf_png_load (png, &error);
  g_assert_no_error (error);
  g_assert_cmpint (image->width, ==, 1024);
  g_assert_cmpuint (image->pixels[(250 * 1024 + 250) * 4 + 1], ==, 128);

  /* Open it in a fresh window: the same layers and mask. */
  SfWindow *other = open_window ();
  activate (other, "open-file", g_variant_new_string (ora));
  SfDocument *opened = sf_window_get_document (other);
  g_assert_true (opened != sf_window_get_document (window));
  g_assert_cmpuint (sf_document_get_layer_count (opened), ==, 2);
  g_assert_false (sf_document_mask_is_empty (opened));
  g_assert_cmphex (pixel_at (opened, 250, 250), ==, pixel_at (document, 250, 250));
  g_assert_cmpstr (sf_window_get_path (other), ==, ora);
  /* A PNG opens as a picture to work on: its name shows, but saving asks
   * for an .ora rather than overwriting the PNG. */
  SfWindow *third = open_window ();
  activate (third, "open-file", g_variant_new_string (png));
  g_assert_null (sf_window_get_path (third));
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (third)), ==, "exported.png — Sfumato");
  g_assert_cmpuint (sf_document_get_layer_count (sf_window_get_document (third)), ==, 1);
  close_window (third);
  /* A damaged file is a message, not a crash. */
  g_autofree char *broken = output_path ("broken.ora");
  g_file_set_contents (broken, "PK\003\004 nothing more", -1, NULL);
  activate (other, "open-file", g_variant_new_string (broken));
  g_assert_true (sf_window_get_document (other) == opened);
  close_window (other);
  close_window (window);
}

static void
test_real_pointer_events_paint (void)
{
  /* xdotool moves X's own pointer: the events go through GTK's gesture
   * code like a person's. */
  g_autofree char *xdotool = g_find_program_in_path ("xdotool");
  if (!xdotool)
    {
      g_test_skip ("xdotool is not installed");
      return;
    }
  SfWindow *window = open_window ();
  SfDocument *document = sf_window_get_document (window);
  activate (window, "tool", g_variant_new_string ("brush"));
  GdkRGBA black = { 0, 0, 0, 1 };
  sf_tool_options_set_color (sf_window_get_tool_options (window), &black);
  g_object_set (sf_window_get_tool_options (window), "brush-size", 24.0, "brush-hardness", 1.0,
                NULL);
  SfCanvasView *view = sf_window_get_canvas_view (window);
  GdkSurface *surface = gtk_native_get_surface (GTK_NATIVE (window));
  Window xid = gdk_x11_surface_get_xid (surface);
  /* Canvas (200, 500) → (800, 500) in window coordinates, then root. */
  double x0, y0, x1, y1;
  sf_canvas_view_canvas_to_widget (view, 200, 500, &x0, &y0);
  sf_canvas_view_canvas_to_widget (view, 800, 500, &x1, &y1);
  graphene_point_t a, b;
  g_assert_true (gtk_widget_compute_point (GTK_WIDGET (view), GTK_WIDGET (window),
                                           &GRAPHENE_POINT_INIT (x0, y0), &a));
  g_assert_true (gtk_widget_compute_point (GTK_WIDGET (view), GTK_WIDGET (window),
                                           &GRAPHENE_POINT_INIT (x1, y1), &b));
  double nx, ny;
  gtk_native_get_surface_transform (GTK_NATIVE (window), &nx, &ny);
  g_autofree char *command = g_strdup_printf (
      "%s mousemove --window %lu %d %d mousedown 1 mousemove --window %lu %d %d "
      "mousemove --window %lu %d %d mouseup 1",
      xdotool, xid, (int) (a.x + nx), (int) (a.y + ny), xid, (int) ((a.x + b.x) / 2 + nx),
      (int) (a.y + ny), xid, (int) (b.x + nx), (int) (b.y + ny));
  g_autoptr (GError) error = NULL;
  int status = 0;
  g_assert_true (g_spawn_command_line_sync (command, NULL, NULL, &status, &error));
  g_assert_no_error (error);
  g_assert_cmpint (status, ==, 0);
  SPIN_UNTIL (sf_document_get_undo_count (document) == 1 && !sf_canvas_view_is_busy (view));
  /* Painted along the line, within a screen pixel's worth of canvas. */
  g_assert_cmphex (pixel_at (document, 500, 500) >> 24, ==, 0xff);
  g_assert_cmphex (pixel_at (document, 500, 560) >> 24, ==, 0);
  close_window (window);
}

static void
test_screenshot_of_the_window (void)
{
  SfWindow *window = open_window ();
  SfDocument *document = sf_window_get_document (window);
  SfToolOptions *options = sf_window_get_tool_options (window);
  activate (window, "tool", g_variant_new_string ("brush"));
  /* A sky, a sun and some hills, on three layers. */
  g_object_set (options, "brush-size", 300.0, "brush-hardness", 0.2, NULL);
  GdkRGBA sky = { 0.35, 0.55, 0.85, 1 };
  sf_tool_options_set_color (options, &sky);
  for (int y = 0; y < 700; y += 120)
    drag_on_canvas (window, -50, y, 1100, y, 20);
  activate (window, "layer-new", NULL);
  GdkRGBA sun = { 1.0, 0.8, 0.2, 1 };
  sf_tool_options_set_color (options, &sun);
  g_object_set (options, "brush-size", 220.0, "brush-hardness", 0.9, NULL);
  drag_on_canvas (window, 700, 260, 701, 260, 1);
  activate (window, "layer-new", NULL);
  GdkRGBA hill = { 0.2, 0.45, 0.2, 1 };
  sf_tool_options_set_color (options, &hill);
  g_object_set (options, "brush-size", 260.0, "brush-hardness", 0.7, NULL);
  drag_on_canvas (window, -100, 900, 500, 700, 30);
  drag_on_canvas (window, 500, 700, 1100, 850, 30);
  sf_document_set_layer_name (document, sf_document_get_layer (document, 0), "Sky");
  sf_document_set_layer_name (document, sf_document_get_layer (document, 1), "Sun");
  sf_document_set_layer_name (document, sf_document_get_layer (document, 2), "Hills");
  sf_document_set_layer_blend_mode (document, sf_document_get_layer (document, 1), SF_BLEND_SCREEN);
  /* An inpaint mask and the frame tool showing its handles. */
  activate (window, "tool", g_variant_new_string ("mask"));
  g_object_set (options, "mask-brush-size", 120.0, NULL);
  drag_on_canvas (window, 150, 350, 400, 420, 20);
  SfRect frame = { 64, 128, 768, 768 };
  sf_document_set_frame (document, &frame);
  activate (window, "tool", g_variant_new_string ("frame"));
  sf_layer_list_refresh_thumbnails (sf_layers_panel_get_model (sf_window_get_layers_panel (window)));
  spin (500);

  /* Render the window as GTK draws it and save it. */
  g_autofree char *path = output_path ("window.png");
  sf_ui_test_save_png (GTK_WIDGET (window), path);
  g_test_message ("screenshot: %s", path);
  /* And the picture alone, for comparison. */
  g_autofree char *picture = output_path ("window-document.png");
  activate (window, "export-file", g_variant_new_string (picture));
  SPIN_UNTIL (!sf_window_is_saving (window));

  /* The picture in it is the document's: the sun's centre is its colour. */
  g_autoptr (GError) error = NULL;
  g_autoptr (SfImage) shot = sf_png_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (shot->width, ==, gtk_widget_get_width (GTK_WIDGET (window)));
  SfCanvasView *view = sf_window_get_canvas_view (window);
  double x, y;
  sf_canvas_view_canvas_to_widget (view, 700, 260, &x, &y);
  graphene_point_t at;
  g_assert_true (gtk_widget_compute_point (GTK_WIDGET (view), GTK_WIDGET (window),
                                           &GRAPHENE_POINT_INIT (x, y), &at));
  const guint8 *p = shot->pixels + ((gsize) at.y * shot->width + (gsize) at.x) * 4;
  guint32 expected = pixel_at (document, 700, 260);
  g_assert_cmpint (abs (p[0] - (int) ((expected >> 16) & 0xff)), <=, 3);
  g_assert_cmpint (abs (p[1] - (int) ((expected >> 8) & 0xff)), <=, 3);
  g_assert_cmpint (abs (p[2] - (int) (expected & 0xff)), <=, 3);
  close_window (window);
}

int
main (int argc, char **argv)
{
  sf_test_init (&argc, &argv);
  /* Xvfb has no session bus: no accessibility bus either (GTK would warn,
   * and warnings are fatal in tests), and settings stay in memory. */
  g_setenv ("GTK_A11Y", "none", TRUE);
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  gtk_init ();
  application = sf_application_new ();
  g_autoptr (GError) error = NULL;
  g_assert_true (g_application_register (G_APPLICATION (application), NULL, &error));
  g_assert_nonnull (sf_application_get_settings (application));

  sf_test_add ("/ui/window/opens-with-a-document", test_window_opens_with_a_document);
  sf_test_add ("/ui/window/a-stroke-paints-and-undoes", test_a_stroke_paints_and_undoes);
  sf_test_add ("/ui/window/layer-actions-change-the-document",
               test_layer_actions_change_the_document);
  sf_test_add ("/ui/window/mask-and-frame-tools", test_mask_and_frame_tools);
  sf_test_add ("/ui/window/view-and-brush-shortcuts", test_view_and_brush_shortcuts);
  sf_test_add ("/ui/window/save-open-and-export", test_save_open_and_export);
  sf_test_add ("/ui/window/real-pointer-events-paint", test_real_pointer_events_paint);
  sf_test_add ("/ui/window/screenshot-of-the-window", test_screenshot_of_the_window);
  int status = sf_test_run ();
  g_object_unref (application);
  return status;
}
