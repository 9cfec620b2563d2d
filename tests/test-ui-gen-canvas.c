/* Generation on the canvas, end to end under Xvfb: the application's
 * window with the tiny test model (tests/data/tiny-sdxl.safetensors),
 * driven through its actions (win.generate, win.stage-*, win.undo, the
 * panel's "extend" and the history panel's recall) and checked against
 * the document and the history. Frames of 64×64 to 128×128 and two to
 * four steps keep each job short on lavapipe. One screenshot per mode
 * goes to $SF_SCREENSHOT_DIR. */
#include <glib/gstdio.h>
#include <string.h>

#include "application.h"
#include "watermark.h"
#include "generation.h"
#include "sf-test.h"
#include "ui-test.h"
#include "window.h"

static SfApplication *application;
static char *model_path;
static char *broken_model_path;
static char *refiner_path;

#define JOB_TIMEOUT_S 240

static void
spin (guint ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;
  while (g_get_monotonic_time () < end)
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (1000);
}

#define SPIN_UNTIL(done, seconds)                                                                \
  G_STMT_START                                                                                   \
  {                                                                                              \
    gint64 end_ = g_get_monotonic_time () + (seconds) * G_USEC_PER_SEC;                          \
    while (!(done) && g_get_monotonic_time () < end_)                                            \
      if (!g_main_context_iteration (NULL, FALSE))                                               \
        g_usleep (1000);                                                                         \
    g_assert_true (done);                                                                        \
  }                                                                                              \
  G_STMT_END

/* What the generation object told us. */
typedef struct {
  guint finished;
  int status;
  gint64 history_id;
  char *message;
  int first_step;            /* the step of the first progress; -1 before */
  int last_step;
  guint progress_count;
  guint progress_after_cancel;
  gboolean cancel_on_progress;
  gboolean cancelled;
  SfWindow *window;
} Events;

static void
on_progress (SfGeneration *generation, int step, int total, Events *events)
{
  events->progress_count++;
  if (events->cancelled)
    events->progress_after_cancel++;
  if (events->first_step < 0)
    events->first_step = step;
  events->last_step = step;
  if (events->cancel_on_progress && !events->cancelled)
    {
      events->cancelled = TRUE;
      g_action_group_activate_action (G_ACTION_GROUP (events->window), "cancel-generation", NULL);
    }
}

static void
on_finished (SfGeneration *generation, int status, gint64 history_id, const char *message,
             Events *events)
{
  events->finished++;
  events->status = status;
  events->history_id = history_id;
  g_free (events->message);
  events->message = g_strdup (message);
}

typedef struct {
  SfWindow *window;
  SfDocument *document;
  SfGeneration *generation;
  SfGenerationPanel *panel;
  Events events;
} Fixture;

/* A window showing a new @width × @height document, the panel set to
 * the tiny model, 64×64, @steps euler steps, CFG 5 and @seed. */
static void
fixture_open (Fixture *f, int width, int height, int steps, guint64 seed)
{
  memset (f, 0, sizeof *f);
  f->window = SF_WINDOW (sf_application_new_window (application));
  gtk_window_set_default_size (GTK_WINDOW (f->window), 1400, 900);
  gtk_window_present (GTK_WINDOW (f->window));
  sf_window_set_document (f->window, sf_document_new (width, height), NULL);
  f->document = sf_window_get_document (f->window);
  f->generation = sf_generation_get_for_window (f->window);
  g_assert_nonnull (f->generation);
  f->panel = sf_generation_get_panel (f->generation);
  SPIN_UNTIL (gtk_widget_get_mapped (GTK_WIDGET (sf_window_get_canvas_view (f->window))), 20);
  f->events.first_step = -1;
  f->events.window = f->window;
  g_signal_connect (f->generation, "progress", G_CALLBACK (on_progress), &f->events);
  g_signal_connect (f->generation, "finished", G_CALLBACK (on_finished), &f->events);

  g_autoptr (SfEngineRequest) request = sf_engine_request_new ();
  g_free (request->model_path);
  request->model_path = g_strdup (model_path);
  request->prompt = g_strdup ("a red fox in the snow");
  request->negative = g_strdup ("blurry");
  request->width = request->height = 64;
  request->steps = steps;
  request->cfg = 5.0;
  request->seed = seed;
  request->strength = 0.75;
  request->precision = SF_ENGINE_FP32;
  sf_generation_panel_apply_request (f->panel, request);
  spin (50);
}

static void
fixture_close (Fixture *f)
{
  g_signal_handlers_disconnect_by_data (f->generation, &f->events);
  sf_document_clear_history (f->document); /* no "save changes?" question */
  gtk_window_destroy (GTK_WINDOW (f->window));
  spin (50);
  g_free (f->events.message);
}

static void
activate (Fixture *f, const char *action)
{
  g_assert_true (g_action_group_has_action (G_ACTION_GROUP (f->window), action));
  g_action_group_activate_action (G_ACTION_GROUP (f->window), action, NULL);
}

/* win.generate, then waits for the job and its history rows. */
static void
generate (Fixture *f)
{
  guint before = f->events.finished;
  activate (f, "generate");
  g_assert_true (sf_generation_is_busy (f->generation));
  SPIN_UNTIL (f->events.finished > before, JOB_TIMEOUT_S);
  g_assert_false (sf_generation_is_busy (f->generation));
}

static void
set_prompt (Fixture *f, const char *prompt)
{
  sf_prompt_editor_set_text (sf_generation_panel_get_prompt_editor (f->panel), prompt);
}

/* As a person types it (the panel announces only such edits). */
static void
type_prompt (Fixture *f, const char *prompt)
{
  SfPromptEditor *editor = sf_generation_panel_get_prompt_editor (f->panel);
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (sf_prompt_editor_get_view (editor)), prompt,
                            -1);
}

static guint8 *
read_rgba (SfDocument *document, const SfRect *rect)
{
  guint8 *pixels = g_malloc ((gsize) rect->width * rect->height * 4);
  sf_document_read_rgba (document, rect, pixels, rect->width * 4);
  return pixels;
}

/* Paints an opaque pattern layer over the whole canvas (one undo step). */
static void
paint_canvas (SfDocument *document)
{
  SfRect canvas = sf_document_get_canvas (document);
  g_autofree guint8 *pixels = g_malloc ((gsize) canvas.width * canvas.height * 4);
  for (int y = 0; y < canvas.height; y++)
    for (int x = 0; x < canvas.width; x++)
      {
        guint8 *p = pixels + ((gsize) y * canvas.width + x) * 4;
        p[0] = (guint8) (x * 2);
        p[1] = (guint8) (y * 2);
        p[2] = (guint8) ((x ^ y) & 0xff);
        p[3] = 255;
      }
  g_autoptr (GError) error = NULL;
  SfLayer *layer = sf_document_add_layer_from_rgba (document, -1, pixels, canvas.width,
                                                    canvas.height, canvas.width * 4, canvas.x,
                                                    canvas.y, "Painting", NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (layer);
}

static void
save_screenshot (Fixture *f, const char *name)
{
  const char *dir = g_getenv ("SF_SCREENSHOT_DIR");
  if (!dir)
    return;
  g_mkdir_with_parents (dir, 0755);
  sf_canvas_view_zoom_fit (sf_window_get_canvas_view (f->window));
  spin (200);
  g_autofree char *path = g_strdup_printf ("%s/gen-canvas-%s.png", dir, name);
  sf_ui_test_save_png (GTK_WIDGET (f->window), path);
}

static SfGenerationRecord *
stored_record (gint64 id)
{
  SfHistory *history = sf_application_get_history (application);
  g_assert_nonnull (history);
  g_autoptr (GError) error = NULL;
  SfGenerationRecord *record = sf_history_get (history, id, &error);
  g_assert_no_error (error);
  return record;
}

/* ---- the tests -------------------------------------------------------- */

static void
test_txt2img_stages_accepts_and_undoes (void)
{
  Fixture f;
  fixture_open (&f, 128, 128, 2, 1234);
  g_auto (GStrv) accels = gtk_application_get_accels_for_action (GTK_APPLICATION (application),
                                                                 "win.generate");
  g_assert_cmpstr (accels[0], ==, "<Control>Return");
  SfRect frame = { 32, 32, 64, 64 };
  sf_document_set_frame (f.document, &frame);
  g_assert_cmpuint (sf_document_get_layer_count (f.document), ==, 1);
  SfLayer *painting = sf_document_get_active_layer (f.document);

  /* While it runs: busy, cancellable, a preview in the frame. */
  activate (&f, "generate");
  g_assert_true (g_action_group_get_action_enabled (G_ACTION_GROUP (f.window),
                                                    "cancel-generation"));
  SPIN_UNTIL (f.events.progress_count > 0 || f.events.finished > 0, JOB_TIMEOUT_S);
  if (f.events.finished == 0)
    {
      g_assert_nonnull (sf_canvas_view_get_preview (sf_window_get_canvas_view (f.window)));
      save_screenshot (&f, "progress");
    }
  SPIN_UNTIL (f.events.finished > 0, JOB_TIMEOUT_S);
  g_assert_null (sf_canvas_view_get_preview (sf_window_get_canvas_view (f.window)));
  g_assert_cmpint (f.events.status, ==, SF_GENERATION_DONE);
  g_assert_cmpint (f.events.history_id, >, 0);
  g_assert_cmpint (f.events.first_step, >=, 1);

  /* A staged layer covering exactly the frame, above; painting stays on
   * the layer it went to. */
  g_assert_cmpuint (sf_generation_get_staged_count (f.generation), ==, 1);
  SfLayer *staged = sf_generation_get_staged_layer (f.generation, 0);
  g_assert_nonnull (staged);
  g_assert_cmpint (sf_document_get_layer_index (f.document, staged), ==, 1);
  g_assert_true (sf_document_get_active_layer (f.document) == painting);
  SfRect bounds;
  g_assert_true (sf_tile_grid_get_content_bounds (sf_layer_get_pixels (staged), &bounds));
  g_assert_true (sf_rect_equal (&bounds, &frame));
  g_autofree char *id = g_strdup_printf ("%" G_GINT64_FORMAT, f.events.history_id);
  g_assert_cmpstr (sf_layer_get_generation_id (staged), ==, id);
  g_assert_true (g_str_has_prefix (sf_layer_get_name (staged), "Generated 1234"));
  save_screenshot (&f, "txt2img");

  /* Accept: a normal layer, one undo step. */
  activate (&f, "stage-accept");
  g_assert_cmpuint (sf_generation_get_staged_count (f.generation), ==, 0);
  g_assert_cmpuint (sf_document_get_layer_count (f.document), ==, 2);
  SfLayer *accepted = sf_document_get_layer (f.document, 1);
  g_assert_true (sf_layer_get_visible (accepted));
  g_assert_cmpstr (sf_layer_get_generation_id (accepted), ==, id);
  g_assert_true (sf_tile_grid_get_content_bounds (sf_layer_get_pixels (accepted), &bounds));
  g_assert_true (sf_rect_equal (&bounds, &frame));
  activate (&f, "undo");
  g_assert_cmpuint (sf_document_get_layer_count (f.document), ==, 1);
  g_assert_false (sf_document_can_undo (f.document));

  g_autoptr (SfGenerationRecord) record = stored_record (f.events.history_id);
  g_assert_cmpint (record->mode, ==, SF_GENERATION_TXT2IMG);
  g_assert_cmpstr (record->prompt, ==, "a red fox in the snow");
  g_assert_cmpuint (record->seed, ==, 1234);
  g_assert_cmpint (record->steps, ==, 2);
  g_assert_cmpint (record->width_px, ==, 64);
  g_assert_cmpint (record->frame_x, ==, 32);
  g_assert_cmpstr (record->model_name, ==, "tiny-sdxl");
  g_assert_nonnull (record->model_hash);
  g_assert_nonnull (record->device);
  g_assert_cmpstr (record->precision, ==, "fp32");
  g_assert_nonnull (record->document_id);
  g_assert_nonnull (record->image_path);
  g_assert_null (record->mask_path);
  fixture_close (&f);
}

static void
test_img2img_keeps_the_painting (void)
{
  Fixture f;
  fixture_open (&f, 128, 128, 3, 77);
  paint_canvas (f.document);
  SfLayer *painting = sf_document_get_active_layer (f.document);
  guint64 serial = sf_layer_get_pixel_serial (painting);
  SfRect frame = { 32, 32, 64, 64 };
  sf_document_set_frame (f.document, &frame);
  SfRect canvas = sf_document_get_canvas (f.document);
  g_autofree guint8 *before = read_rgba (f.document, &canvas);

  generate (&f);
  g_assert_cmpint (f.events.status, ==, SF_GENERATION_DONE);
  g_assert_cmpuint (sf_generation_get_staged_count (f.generation), ==, 1);
  g_autofree guint8 *after = read_rgba (f.document, &canvas);
  g_assert_true (memcmp (before, after, (gsize) canvas.width * canvas.height * 4) != 0);
  g_assert_cmpuint (sf_layer_get_pixel_serial (painting), ==, serial);
  g_assert_cmpint (sf_document_get_layer_index (f.document, painting), ==, 1);
  g_autoptr (SfGenerationRecord) record = stored_record (f.events.history_id);
  g_assert_cmpint (record->mode, ==, SF_GENERATION_IMG2IMG);
  g_assert_cmpfloat (record->strength, ==, 0.75);
  g_assert_nonnull (record->init_path);
  save_screenshot (&f, "img2img");

  /* Discard: the picture is what it was. */
  activate (&f, "stage-discard");
  g_autofree guint8 *discarded = read_rgba (f.document, &canvas);
  g_assert_cmpmem (before, (gsize) canvas.width * canvas.height * 4, discarded,
                   (gsize) canvas.width * canvas.height * 4);
  g_assert_cmpuint (sf_document_get_layer_count (f.document), ==, 2);
  fixture_close (&f);
}

static void
test_inpaint_keeps_pixels_outside_the_mask (void)
{
  Fixture f;
  fixture_open (&f, 128, 128, 2, 5);
  paint_canvas (f.document);
  SfRect frame = { 32, 32, 64, 64 };
  sf_document_set_frame (f.document, &frame);
  SfRect hole = { 56, 56, 16, 16 };
  sf_document_fill_mask (f.document, &hole, 255);
  SfRect canvas = sf_document_get_canvas (f.document);
  g_autofree guint8 *before = read_rgba (f.document, &canvas);

  generate (&f);
  g_assert_cmpint (f.events.status, ==, SF_GENERATION_DONE);
  g_assert_cmpuint (sf_generation_get_staged_count (f.generation), ==, 1);
  g_autofree guint8 *after = read_rgba (f.document, &canvas);
  /* The mask blur is 4 px (σ 2): 16 px around the hole is far outside
   * its feathered edge. */
  int margin = 16;
  gboolean changed_inside = FALSE;
  for (int y = 0; y < canvas.height; y++)
    for (int x = 0; x < canvas.width; x++)
      {
        gsize at = ((gsize) y * canvas.width + x) * 4;
        gboolean near = x >= hole.x - margin && x < hole.x + hole.width + margin
                        && y >= hole.y - margin && y < hole.y + hole.height + margin;
        if (!near && memcmp (before + at, after + at, 4) != 0)
          g_error ("pixel (%d, %d) outside the mask changed", x, y);
        if (sf_rect_contains_point (&hole, x, y) && memcmp (before + at, after + at, 4) != 0)
          changed_inside = TRUE;
      }
  g_assert_true (changed_inside);
  g_autoptr (SfGenerationRecord) record = stored_record (f.events.history_id);
  g_assert_cmpint (record->mode, ==, SF_GENERATION_INPAINT);
  g_assert_nonnull (record->mask_path);
  save_screenshot (&f, "inpaint");
  activate (&f, "stage-accept");
  fixture_close (&f);
}

static void
test_outpaint_extends_the_canvas (void)
{
  Fixture f;
  fixture_open (&f, 128, 128, 2, 9);
  paint_canvas (f.document);
  SfRect frame = { 0, 0, 128, 128 };
  sf_document_set_frame (f.document, &frame);
  SfRect canvas = sf_document_get_canvas (f.document);
  g_autofree guint8 *before = read_rgba (f.document, &canvas);

  guint finished = f.events.finished;
  g_signal_emit_by_name (f.panel, "extend", 2, 64);
  SPIN_UNTIL (f.events.finished > finished, JOB_TIMEOUT_S);
  g_assert_cmpint (f.events.status, ==, SF_GENERATION_DONE);
  g_assert_cmpuint (sf_generation_get_staged_count (f.generation), ==, 1);
  SfRect grown = sf_document_get_canvas (f.document);
  g_assert_cmpint (grown.x, ==, 0);
  g_assert_cmpint (grown.y, ==, 0);
  g_assert_cmpint (grown.width, ==, 128 + 64);
  g_assert_cmpint (grown.height, ==, 128);
  g_autofree guint8 *after = read_rgba (f.document, &canvas);
  /* The overlap (64 px) reaches back into the old canvas from its right
   * edge; everything left of it is untouched. */
  for (int y = 0; y < canvas.height; y++)
    g_assert_cmpmem (before + (gsize) y * canvas.width * 4, 64 * 4,
                     after + (gsize) y * canvas.width * 4, 64 * 4);
  g_autoptr (SfGenerationRecord) record = stored_record (f.events.history_id);
  g_assert_cmpint (record->mode, ==, SF_GENERATION_OUTPAINT);
  save_screenshot (&f, "outpaint");

  /* Accept, then one undo takes back the layer and the growth. */
  guint layers = sf_document_get_layer_count (f.document);
  activate (&f, "stage-accept");
  g_assert_cmpint (sf_document_get_canvas (f.document).width, ==, 192);
  g_assert_cmpuint (sf_document_get_layer_count (f.document), ==, layers);
  activate (&f, "undo");
  g_assert_cmpint (sf_document_get_canvas (f.document).width, ==, 128);
  g_assert_cmpuint (sf_document_get_layer_count (f.document), ==, layers - 1);
  fixture_close (&f);
}

static void
test_cancel_stops_within_a_step (void)
{
  Fixture f;
  fixture_open (&f, 128, 128, 8, 3);
  SfRect frame = { 0, 0, 64, 64 };
  sf_document_set_frame (f.document, &frame);
  f.events.cancel_on_progress = TRUE;
  generate (&f);
  g_assert_true (f.events.cancelled);
  g_assert_cmpint (f.events.status, ==, SF_GENERATION_CANCELLED);
  /* At most the step already under way when cancel came reports. */
  g_assert_cmpuint (f.events.progress_after_cancel, <=, 1);
  g_assert_cmpint (f.events.last_step, <=, f.events.first_step + 1);
  g_assert_cmpint (f.events.last_step, <, 8);
  g_assert_cmpuint (sf_generation_get_staged_count (f.generation), ==, 0);
  g_assert_cmpuint (sf_document_get_layer_count (f.document), ==, 1);
  g_assert_false (g_action_group_get_action_enabled (G_ACTION_GROUP (f.window),
                                                     "cancel-generation"));
  g_autoptr (SfGenerationRecord) record = stored_record (f.events.history_id);
  g_assert_cmpint (record->status, ==, SF_GENERATION_CANCELLED);
  g_assert_null (record->image_path);
  fixture_close (&f);
}

static void
test_keep_seed_reuses_the_noise (void)
{
  Fixture f;
  fixture_open (&f, 128, 128, 2, 0);
  SfRect frame = { 0, 0, 64, 64 };
  sf_document_set_frame (f.document, &frame);
  /* A random seed (the dice), kept: the seed field takes the one drawn. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f.panel), "gen.dice", NULL));
  GSettings *settings = sf_application_get_settings (application);
  g_settings_set_boolean (settings, "keep-seed", TRUE);
  SfPanelOptions options;
  sf_generation_panel_get_options (f.panel, &options);
  g_assert_true (options.keep_seed);

  generate (&f);
  g_autoptr (SfGenerationRecord) first = stored_record (f.events.history_id);
  set_prompt (&f, "a blue fox in the snow");
  generate (&f);
  g_autoptr (SfGenerationRecord) second = stored_record (f.events.history_id);
  set_prompt (&f, "a red fox in the snow");
  generate (&f);
  g_autoptr (SfGenerationRecord) third = stored_record (f.events.history_id);
  g_assert_cmpuint (first->seed, <=, G_MAXUINT32); /* drawn, not the field's maximum */
  g_assert_cmpuint (first->seed, !=, 4294967295u);
  g_assert_cmpuint (first->seed, ==, second->seed);
  g_assert_cmpuint (first->seed, ==, third->seed);
  g_assert_cmpstr (second->prompt, ==, "a blue fox in the snow");

  /* Three variants staged (earlier results are kept, as Krita AI does);
   * the same prompt and seed gave the same pixels. */
  g_assert_cmpuint (sf_generation_get_staged_count (f.generation), ==, 3);
  SfLayer *a = sf_generation_get_staged_layer (f.generation, 0);
  SfLayer *c = sf_generation_get_staged_layer (f.generation, 2);
  g_autofree guint8 *pixels_a = g_malloc (64 * 64 * 4);
  g_autofree guint8 *pixels_c = g_malloc (64 * 64 * 4);
  sf_tile_grid_read (sf_layer_get_pixels (a), &frame, pixels_a, 64 * 4);
  sf_tile_grid_read (sf_layer_get_pixels (c), &frame, pixels_c, 64 * 4);
  g_assert_cmpmem (pixels_a, 64 * 64 * 4, pixels_c, 64 * 64 * 4);
  g_assert_false (sf_layer_get_visible (a));
  g_assert_true (sf_layer_get_visible (c));

  /* Flipping through the strip shows one at a time; discard removes all. */
  activate (&f, "stage-previous");
  g_assert_cmpuint (sf_generation_get_staged_index (f.generation), ==, 1);
  g_assert_false (sf_layer_get_visible (c));
  g_assert_true (sf_layer_get_visible (sf_generation_get_staged_layer (f.generation, 1)));
  activate (&f, "stage-discard");
  g_assert_cmpuint (sf_document_get_layer_count (f.document), ==, 1);
  g_settings_set_boolean (settings, "keep-seed", FALSE);
  fixture_close (&f);
}

static void
test_history_recalls_into_the_panel (void)
{
  Fixture f;
  fixture_open (&f, 128, 128, 3, 424242);
  SfRect frame = { 0, 0, 64, 64 };
  sf_document_set_frame (f.document, &frame);
  set_prompt (&f, "a lighthouse, (oil painting:1.2)");
  generate (&f);
  gint64 id = f.events.history_id;
  g_autoptr (SfGenerationRecord) record = stored_record (id);
  g_assert_cmpstr (record->prompt_weights, !=, NULL);

  SfHistoryPanel *history = sf_generation_get_history_panel (f.generation);
  g_assert_nonnull (history);
  GListModel *model = G_LIST_MODEL (sf_history_panel_get_model (history));
  SPIN_UNTIL (g_list_model_get_n_items (model) > 0, 20);
  sf_history_panel_select (history, 0);
  const SfGenerationRecord *shown = sf_history_panel_get_shown (history);
  g_assert_nonnull (shown);
  g_assert_cmpint (shown->id, ==, id);

  /* Change the panel, then recall. */
  g_autoptr (SfEngineRequest) other = sf_generation_panel_build_request (f.panel);
  g_free (other->prompt);
  other->prompt = g_strdup ("something else");
  other->seed = 1;
  other->steps = 7;
  other->cfg = 9;
  sf_generation_panel_apply_request (f.panel, other);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (history), "history.recall", NULL));
  g_autoptr (SfEngineRequest) recalled = sf_generation_panel_build_request (f.panel);
  g_assert_cmpstr (recalled->prompt, ==, record->prompt);
  g_assert_cmpstr (recalled->negative, ==, record->negative_prompt);
  g_assert_cmpuint (recalled->seed, ==, record->seed);
  g_assert_cmpint (recalled->steps, ==, record->steps);
  g_assert_cmpfloat (recalled->cfg, ==, record->cfg_scale);
  g_assert_cmpstr (recalled->sampler, ==, record->sampler);

  /* Re-run: recall and generate; the new row names its parent. */
  guint finished = f.events.finished;
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (history), "history.rerun", NULL));
  g_assert_true (sf_generation_is_busy (f.generation));
  SPIN_UNTIL (f.events.finished > finished, JOB_TIMEOUT_S);
  g_autoptr (SfGenerationRecord) child = stored_record (f.events.history_id);
  g_assert_cmpint (child->parent_id, ==, id);
  g_assert_cmpuint (child->seed, ==, record->seed);
  g_assert_cmpstr (child->prompt, ==, record->prompt);

  /* Open as layer: the stored PNG, where it was made, with its id. */
  guint layers = sf_document_get_layer_count (f.document);
  SPIN_UNTIL (g_list_model_get_n_items (model) >= 2, 20);
  sf_history_panel_select (history, 0);
  g_assert_cmpint (sf_history_panel_get_shown (history)->id, ==, child->id);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (history), "history.open-as-layer", NULL));
  g_assert_cmpuint (sf_document_get_layer_count (f.document), ==, layers + 1);
  SfLayer *opened = sf_document_get_active_layer (f.document);
  g_autofree char *child_id = g_strdup_printf ("%" G_GINT64_FORMAT, child->id);
  g_assert_cmpstr (sf_layer_get_generation_id (opened), ==, child_id);
  SfRect bounds;
  g_assert_true (sf_tile_grid_get_content_bounds (sf_layer_get_pixels (opened), &bounds));
  g_assert_true (sf_rect_equal (&bounds, &frame));
  fixture_close (&f);
}

static void
test_refiner_is_recorded (void)
{
  Fixture f;
  fixture_open (&f, 128, 128, 4, 8);
  SfRect frame = { 0, 0, 64, 64 };
  sf_document_set_frame (f.document, &frame);
  g_autoptr (SfEngineRequest) request = sf_generation_panel_build_request (f.panel);
  request->refiner_path = g_strdup (refiner_path);
  request->refiner_start = 0.5;
  sf_generation_panel_apply_request (f.panel, request);
  generate (&f);
  g_assert_cmpint (f.events.status, ==, SF_GENERATION_DONE);
  g_autoptr (SfGenerationRecord) record = stored_record (f.events.history_id);
  g_assert_cmpstr (record->refiner_name, ==, "tiny-sdxl-refiner");
  g_assert_nonnull (record->refiner_hash);
  g_assert_cmpfloat (record->refiner_switch, ==, 0.5);
  g_assert_cmpstr (record->model_name, ==, "tiny-sdxl");
  /* No refiner again for the tests after this one. */
  g_free (request->refiner_path);
  request->refiner_path = NULL;
  sf_generation_panel_apply_request (f.panel, request);
  fixture_close (&f);
}

static void
test_another_document_or_closing_stops_the_job (void)
{
  Fixture f;
  fixture_open (&f, 128, 128, 6, 41);
  SfRect frame = { 0, 0, 64, 64 };
  sf_document_set_frame (f.document, &frame);

  /* Another document shown: the job is cancelled and nothing lands on
   * the new picture. */
  activate (&f, "generate");
  SPIN_UNTIL (f.events.progress_count > 0, JOB_TIMEOUT_S);
  sf_window_set_document (f.window, sf_document_new (96, 96), NULL);
  f.document = sf_window_get_document (f.window);
  SPIN_UNTIL (f.events.finished > 0, JOB_TIMEOUT_S);
  g_assert_cmpint (f.events.status, ==, SF_GENERATION_CANCELLED);
  g_assert_cmpuint (sf_document_get_layer_count (f.document), ==, 1);
  g_assert_cmpuint (sf_generation_get_staged_count (f.generation), ==, 0);

  /* The window closes while a job runs: it ends quietly. */
  activate (&f, "generate");
  SPIN_UNTIL (f.events.progress_count > 1, JOB_TIMEOUT_S);
  fixture_close (&f);
  spin (1500);
}

static void
test_failed_job_leaves_the_document_alone (void)
{
  Fixture f;
  fixture_open (&f, 128, 128, 2, 11);
  SfRect frame = { 0, 0, 64, 64 };
  sf_document_set_frame (f.document, &frame);
  generate (&f);
  g_assert_cmpuint (sf_generation_get_staged_count (f.generation), ==, 1);
  guint layers = sf_document_get_layer_count (f.document);

  /* A checkpoint that is not one: the job fails with the loader's
   * message, the earlier result stays staged, nothing else changes. */
  g_autoptr (SfEngineRequest) request = sf_generation_panel_build_request (f.panel);
  g_free (request->model_path);
  request->model_path = g_strdup (broken_model_path);
  sf_generation_panel_apply_request (f.panel, request);
  g_autoptr (SfEngineRequest) check = sf_generation_panel_build_request (f.panel);
  g_assert_cmpstr (check->model_path, ==, broken_model_path);
  generate (&f);
  g_assert_cmpint (f.events.status, ==, SF_GENERATION_FAILED);
  g_assert_nonnull (f.events.message);
  g_assert_cmpuint (sf_document_get_layer_count (f.document), ==, layers);
  g_assert_cmpuint (sf_generation_get_staged_count (f.generation), ==, 1);
  g_autoptr (SfGenerationRecord) record = stored_record (f.events.history_id);
  g_assert_cmpint (record->status, ==, SF_GENERATION_FAILED);
  g_assert_cmpstr (record->status_message, ==, f.events.message);
  g_assert_cmpstr (record->model_name, ==, "broken");
  activate (&f, "stage-discard");
  g_assert_cmpuint (sf_document_get_layer_count (f.document), ==, layers - 1);
  fixture_close (&f);
}

/* Drags the current tool (the brush) from canvas point a to b. */
static void
stroke (Fixture *f, double ax, double ay, double bx, double by)
{
  SfCanvasView *view = sf_window_get_canvas_view (f->window);
  double x, y;
  sf_canvas_view_canvas_to_widget (view, ax, ay, &x, &y);
  sf_canvas_view_press (view, x, y, 1.0);
  for (int i = 1; i <= 8; i++)
    {
      sf_canvas_view_canvas_to_widget (view, ax + (bx - ax) * i / 8, ay + (by - ay) * i / 8, &x,
                                       &y);
      sf_canvas_view_motion (view, x, y, 1.0);
    }
  sf_canvas_view_release (view, x, y);
}

static guint8
alpha_at (SfDocument *document, int x, int y)
{
  guint8 pixel[4];
  sf_document_read_rgba (document, &(SfRect) { x, y, 1, 1 }, pixel, 4);
  return pixel[3];
}

static void
test_painting_goes_on_while_generating (void)
{
  Fixture f;
  fixture_open (&f, 128, 128, 3, 31);
  SfRect frame = { 0, 0, 64, 64 };
  sf_document_set_frame (f.document, &frame);
  g_autoptr (SfEngineRequest) request = sf_generation_panel_build_request (f.panel);
  request->batch_count = 2;
  sf_generation_panel_apply_request (f.panel, request);
  SfLayer *background = sf_document_get_active_layer (f.document);

  /* A stroke while the job runs goes to the layer it was meant for. */
  activate (&f, "generate");
  stroke (&f, 80, 80, 120, 80);
  g_assert_cmpuint (alpha_at (f.document, 100, 80), ==, 255);
  SPIN_UNTIL (f.events.finished > 0, JOB_TIMEOUT_S);
  g_assert_cmpint (f.events.status, ==, SF_GENERATION_DONE);
  g_assert_cmpuint (sf_generation_get_staged_count (f.generation), ==, 2);
  g_assert_cmpuint (sf_generation_get_staged_index (f.generation), ==, 1);
  g_assert_false (sf_layer_get_visible (sf_generation_get_staged_layer (f.generation, 0)));
  g_assert_true (sf_layer_get_visible (sf_generation_get_staged_layer (f.generation, 1)));
  g_assert_true (sf_document_get_active_layer (f.document) == background);
  g_autoptr (SfGenerationRecord) second = stored_record (f.events.history_id);
  g_assert_cmpuint (second->seed, ==, 32); /* seed, seed + 1 */

  /* Another stroke with the results staged, then the first one chosen:
   * the other goes, the strokes stay. */
  stroke (&f, 80, 110, 120, 110);
  activate (&f, "stage-previous");
  SfLayer *chosen = sf_generation_get_staged_layer (f.generation, 0);
  g_assert_true (sf_layer_get_visible (chosen));
  activate (&f, "stage-accept");
  g_assert_cmpuint (sf_generation_get_staged_count (f.generation), ==, 0);
  g_assert_cmpuint (sf_document_get_layer_count (f.document), ==, 2);
  g_assert_true (sf_document_get_layer (f.document, 1) == chosen);
  g_assert_true (sf_layer_get_visible (chosen));
  g_assert_cmpuint (alpha_at (f.document, 100, 80), ==, 255);
  g_assert_cmpuint (alpha_at (f.document, 100, 110), ==, 255);
  g_assert_cmpuint (alpha_at (f.document, 32, 32), ==, 255);
  fixture_close (&f);
}

static void
test_auto_regenerate_and_watermark (void)
{
  Fixture f;
  fixture_open (&f, 128, 128, 2, 21);
  SfRect frame = { 0, 0, 128, 128 };
  sf_document_set_frame (f.document, &frame);
  GSettings *settings = sf_application_get_settings (application);
  g_settings_set_boolean (settings, "watermark", TRUE);
  g_settings_set_boolean (settings, "auto-regenerate", TRUE);

  /* Typing is enough: the panel's debounced "prompt-changed" starts it
   * (cancelling a job that an earlier change may have started). */
  type_prompt (&f, "a watermarked fox");
  SPIN_UNTIL (f.events.status == SF_GENERATION_DONE && f.events.finished > 0
                  && !sf_generation_is_busy (f.generation),
              JOB_TIMEOUT_S);
  g_settings_set_boolean (settings, "auto-regenerate", FALSE);
  g_settings_set_boolean (settings, "watermark", FALSE);
  g_assert_cmpint (f.events.status, ==, SF_GENERATION_DONE);
  g_autoptr (SfGenerationRecord) record = stored_record (f.events.history_id);
  g_assert_cmpstr (record->prompt, ==, "a watermarked fox");

  /* The staged txt2img layer (opaque, over an empty background) is the
   * engine's image, watermark and all. */
  g_assert_nonnull (sf_generation_get_staged_layer (f.generation, 0));
  g_autofree guint8 *pixels = read_rgba (f.document, &frame);
  guint8 tag[4];
  double confidence = 0;
  gboolean found = sf_watermark_detect (pixels, 128, 128, 128 * 4, tag, SF_WATERMARK_TAG_BITS,
                                        &confidence);
  g_test_message ("watermark confidence %.3f", confidence);
  g_assert_true (found);
  g_assert_cmpmem (tag, 4, SF_WATERMARK_TAG, 4);

  /* Off (the default): the next image, the strip's current one and the
   * only staged layer shown, carries no tag. */
  generate (&f);
  g_assert_cmpuint (sf_generation_get_staged_count (f.generation), ==, 2);
  g_assert_cmpuint (sf_generation_get_staged_index (f.generation), ==, 1);
  g_assert_false (sf_layer_get_visible (sf_generation_get_staged_layer (f.generation, 0)));
  g_autofree guint8 *plain = read_rgba (f.document, &frame);
  /* Any picture reads some bits, a smooth one confidently: unmarked means
   * the bits are not the tag. */
  found = sf_watermark_has_tag (plain, 128, 128, 128 * 4, &confidence);
  g_test_message ("without the watermark: confidence %.3f", confidence);
  g_assert_false (found);
  fixture_close (&f);
}

/* Run by the ctest entries that set SF_GEN_CANVAS_ERROR for the whole
 * program (a device opened without a memory limit, or a vocabulary
 * already loaded, would hide the condition): "no-vocabulary" or
 * "out-of-memory". The job fails with a message in the window, and the
 * painting, the mask and the layers are as they were. */
static void
test_error_is_shown_and_loses_nothing (void)
{
  const char *kind = g_getenv ("SF_GEN_CANVAS_ERROR");
  if (!kind)
    {
      g_test_skip ("SF_GEN_CANVAS_ERROR is not set");
      return;
    }
  Fixture f;
  fixture_open (&f, 96, 96, 2, 5);
  stroke (&f, 10, 10, 80, 70);
  SfRect masked = { 16, 16, 32, 32 };
  sf_document_fill_mask (f.document, &masked, 255);
  SfRect frame = { 0, 0, 64, 64 };
  sf_document_set_frame (f.document, &frame);
  SfRect canvas = sf_document_get_canvas (f.document);
  g_autofree guint8 *pixels = read_rgba (f.document, &canvas);
  g_autofree guint8 *mask = g_malloc ((gsize) canvas.width * canvas.height);
  sf_document_read_mask (f.document, &canvas, mask, canvas.width);
  guint layers = sf_document_get_layer_count (f.document);

  generate (&f);
  g_assert_cmpint (f.events.status, ==, SF_GENERATION_FAILED);
  g_test_message ("%s: %s", kind, f.events.message);
  const char *expected = g_str_equal (kind, "no-vocabulary") ? "bpe_simple_vocab_16e6.txt.gz"
                                                             : "Out of device memory";
  g_assert_nonnull (strstr (f.events.message, expected));
  g_assert_cmpstr (sf_window_get_message (f.window), ==, f.events.message);

  g_assert_cmpuint (sf_document_get_layer_count (f.document), ==, layers);
  g_assert_cmpuint (sf_generation_get_staged_count (f.generation), ==, 0);
  g_autofree guint8 *pixels_after = read_rgba (f.document, &canvas);
  g_assert_cmpmem (pixels_after, (gsize) canvas.width * canvas.height * 4, pixels,
                   (gsize) canvas.width * canvas.height * 4);
  g_autofree guint8 *mask_after = g_malloc ((gsize) canvas.width * canvas.height);
  sf_document_read_mask (f.document, &canvas, mask_after, canvas.width);
  g_assert_cmpmem (mask_after, (gsize) canvas.width * canvas.height, mask,
                   (gsize) canvas.width * canvas.height);
  g_autoptr (SfGenerationRecord) record = stored_record (f.events.history_id);
  g_assert_cmpint (record->status, ==, SF_GENERATION_FAILED);
  g_assert_cmpint (record->mode, ==, SF_GENERATION_INPAINT);
  fixture_close (&f);
}

int
main (int argc, char **argv)
{
  sf_test_init (&argc, &argv);
  /* A fresh data folder (history, models) with the CLIP vocabulary the
   * build linked into the test home. */
  g_autofree char *home = g_dir_make_tmp ("sfumato-gen-canvas-XXXXXX", NULL);
  g_autofree char *clip_dir = g_build_filename (home, "sfumato", "clip", NULL);
  g_mkdir_with_parents (clip_dir, 0755);
  const char *vocab = g_getenv ("SF_CLIP_VOCAB");
  g_assert_nonnull (vocab);
  g_autofree char *vocab_link = g_build_filename (clip_dir, "bpe_simple_vocab_16e6.txt.gz", NULL);
  if (g_strcmp0 (g_getenv ("SF_GEN_CANVAS_ERROR"), "no-vocabulary") != 0)
    g_assert_cmpint (symlink (vocab, vocab_link), ==, 0);
  g_autofree char *models = g_build_filename (home, "models", NULL);
  g_mkdir_with_parents (models, 0755);
  model_path = g_build_filename (models, "tiny-sdxl.safetensors", NULL);
  g_autofree char *model_source = g_build_filename (g_getenv ("SF_TEST_DATA"),
                                                    "tiny-sdxl.safetensors", NULL);
  g_assert_cmpint (symlink (model_source, model_path), ==, 0);
  refiner_path = g_build_filename (models, "tiny-sdxl-refiner.safetensors", NULL);
  g_autofree char *refiner_source = g_build_filename (g_getenv ("SF_TEST_DATA"),
                                                      "tiny-sdxl-refiner.safetensors", NULL);
  g_assert_cmpint (symlink (refiner_source, refiner_path), ==, 0);
  broken_model_path = g_build_filename (models, "broken.safetensors", NULL);
  g_assert_true (g_file_set_contents (broken_model_path, "not a checkpoint", -1, NULL));
  g_setenv ("XDG_DATA_HOME", home, TRUE);
  g_setenv ("SFUMATO_MODEL_DIRS", models, TRUE);
  g_setenv ("GTK_A11Y", "none", TRUE);
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);

  gtk_init ();
  application = sf_application_new ();
  g_autoptr (GError) error = NULL;
  g_assert_true (g_application_register (G_APPLICATION (application), NULL, &error));
  g_assert_nonnull (sf_application_get_history (application));

  sf_test_add ("/ui/gen-canvas/txt2img-stages-accepts-and-undoes",
               test_txt2img_stages_accepts_and_undoes);
  sf_test_add ("/ui/gen-canvas/img2img-keeps-the-painting", test_img2img_keeps_the_painting);
  sf_test_add ("/ui/gen-canvas/inpaint-keeps-pixels-outside-the-mask",
               test_inpaint_keeps_pixels_outside_the_mask);
  sf_test_add ("/ui/gen-canvas/outpaint-extends-the-canvas", test_outpaint_extends_the_canvas);
  sf_test_add ("/ui/gen-canvas/cancel-stops-within-a-step", test_cancel_stops_within_a_step);
  sf_test_add ("/ui/gen-canvas/keep-seed-reuses-the-noise", test_keep_seed_reuses_the_noise);
  sf_test_add ("/ui/gen-canvas/history-recalls-into-the-panel",
               test_history_recalls_into_the_panel);
  sf_test_add ("/ui/gen-canvas/painting-goes-on-while-generating",
               test_painting_goes_on_while_generating);
  sf_test_add ("/ui/gen-canvas/auto-regenerate-and-watermark",
               test_auto_regenerate_and_watermark);
  sf_test_add ("/ui/gen-canvas/refiner-is-recorded", test_refiner_is_recorded);
  sf_test_add ("/ui/gen-canvas/another-document-or-closing-stops-the-job",
               test_another_document_or_closing_stops_the_job);
  sf_test_add ("/ui/gen-canvas/failed-job-leaves-the-document-alone",
               test_failed_job_leaves_the_document_alone);
  sf_test_add ("/ui/gen-canvas/error-is-shown-and-loses-nothing",
               test_error_is_shown_and_loses_nothing);
  int status = sf_test_run ();
  /* The engine's device goes with the application: it must leave
   * nothing behind either. */
  guint before = sf_vk_validation_message_count ();
  g_object_unref (application);
  g_free (model_path);
  g_free (broken_model_path);
  g_free (refiner_path);
  if (sf_vk_validation_message_count () != before)
    {
      g_printerr ("validation messages while freeing the engine (leaks?)\n");
      return 1;
    }
  return status;
}
