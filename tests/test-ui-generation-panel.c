/* The generation panel and its prompt editors in a bare window under Xvfb:
 * the request follows the widgets, recall puts every field back, seeds
 * resolve and stick, ctrl+up weights words, the syntax is highlighted,
 * tokens are counted with the engine's tokenizer, models are found (or the
 * first-use page says where to put one), the running UI follows the
 * bridge's calls, and settings persist. One screenshot is saved. */
#define G_SETTINGS_ENABLE_BACKEND
#include <gio/gsettingsbackend.h>
#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <string.h>
#include <unistd.h>

#include "generation-panel.h"
#include "model-folders.h"
#include "ui-test.h"

typedef gboolean (*Condition) (gpointer data);

static gboolean
wait_until (Condition condition, gpointer data)
{
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  while (!condition (data))
    {
      if (g_get_monotonic_time () > deadline)
        return FALSE;
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  return TRUE;
}

static void
settle (guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * 1000;
  while (g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
}

/* The panel's widgets are named after their settings keys. */
static GtkWidget *
find_widget (GtkWidget *root, const char *name)
{
  if (g_strcmp0 (gtk_widget_get_name (root), name) == 0)
    return root;
  /* A collapsed expander holds its child outside the widget tree. */
  if (GTK_IS_EXPANDER (root) && !gtk_expander_get_expanded (GTK_EXPANDER (root)))
    return find_widget (gtk_expander_get_child (GTK_EXPANDER (root)), name);
  for (GtkWidget *child = gtk_widget_get_first_child (root); child; child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_widget (child, name);
      if (found)
        return found;
    }
  return NULL;
}

static GtkWidget *
get (SfGenerationPanel *panel, const char *name)
{
  GtkWidget *widget = find_widget (GTK_WIDGET (panel), name);
  if (!widget)
    g_error ("no widget named %s", name);
  return widget;
}

static void
use_test_models (void)
{
  g_setenv ("SFUMATO_MODEL_DIRS", g_getenv ("SF_TEST_DATA"), TRUE);
}

/* A counter that needs no vocabulary: one token per byte. */
static int *
count_bytes (const char *prompt, guint *n_chunks, gpointer data)
{
  int length = (int) strlen (prompt);
  *n_chunks = length ? (guint) (length + 74) / 75 : 1;
  int *counts = g_new0 (int, *n_chunks);
  for (guint i = 0; i < *n_chunks; i++)
    counts[i] = MIN (75, length - 75 * (int) i);
  return counts;
}

static SfGenerationPanel *
new_panel (GSettings *settings)
{
  SfGenerationPanel *panel = SF_GENERATION_PANEL (g_object_ref_sink (sf_generation_panel_new (settings)));
  sf_prompt_editor_set_counter (sf_generation_panel_get_prompt_editor (panel), count_bytes, NULL);
  sf_prompt_editor_set_counter (sf_generation_panel_get_negative_editor (panel), count_bytes, NULL);
  return panel;
}

static guint
model_index (SfGenerationPanel *panel, const char *file_name)
{
  GListModel *names = gtk_drop_down_get_model (GTK_DROP_DOWN (get (panel, "model")));
  for (guint i = 0; i < g_list_model_get_n_items (names); i++)
    if (strcmp (gtk_string_list_get_string (GTK_STRING_LIST (names), i), file_name) == 0)
      return i;
  g_error ("no model %s", file_name);
}

static void
test_finds_models_and_builds_the_request_from_the_widgets (void)
{
  use_test_models ();
  g_autoptr (SfGenerationPanel) panel = new_panel (NULL);
  g_assert_cmpuint (sf_generation_panel_get_model_count (panel), >=, 3);
  g_assert_cmpstr (gtk_stack_get_visible_child_name (GTK_STACK (get (panel, "pages"))), ==, "main");

  sf_prompt_editor_set_text (sf_generation_panel_get_prompt_editor (panel), "a (red:1.2) cat");
  sf_prompt_editor_set_text (sf_generation_panel_get_negative_editor (panel), "blurry");
  gtk_drop_down_set_selected (GTK_DROP_DOWN (get (panel, "model")), model_index (panel, "tiny-sdxl.safetensors"));
  gtk_drop_down_set_selected (GTK_DROP_DOWN (get (panel, "refiner")),
                              model_index (panel, "tiny-sdxl-refiner.safetensors") + 1);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (get (panel, "refiner-start")), 0.7);
  gtk_drop_down_set_selected (GTK_DROP_DOWN (get (panel, "sampler")), 2);   /* dpmpp_2m */
  gtk_drop_down_set_selected (GTK_DROP_DOWN (get (panel, "scheduler")), 1); /* karras */
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (get (panel, "steps")), 12);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (get (panel, "cfg")), 7.5);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (get (panel, "seed")), 1234);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (get (panel, "batch-count")), 3);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (get (panel, "strength")), 0.5);
  gtk_drop_down_set_selected (GTK_DROP_DOWN (get (panel, "precision")), 1);
  gtk_drop_down_set_selected (GTK_DROP_DOWN (get (panel, "frame-size")), 3); /* 1216 × 832 */
  gtk_drop_down_set_selected (GTK_DROP_DOWN (get (panel, "masked-content")), SF_PANEL_MASKED_LATENT_NOISE);

  g_autoptr (SfEngineRequest) request = sf_generation_panel_build_request (panel);
  g_assert_nonnull (request);
  g_autofree char *model = g_build_filename (g_getenv ("SF_TEST_DATA"), "tiny-sdxl.safetensors", NULL);
  g_autofree char *refiner = g_build_filename (g_getenv ("SF_TEST_DATA"), "tiny-sdxl-refiner.safetensors", NULL);
  g_autofree char *model_real = g_canonicalize_filename (model, NULL);
  g_autofree char *refiner_real = g_canonicalize_filename (refiner, NULL);
  g_assert_cmpstr (request->model_path, ==, model_real);
  g_assert_cmpstr (request->refiner_path, ==, refiner_real);
  g_assert_cmpfloat (request->refiner_start, ==, 0.7);
  g_assert_cmpstr (request->prompt, ==, "a (red:1.2) cat");
  g_assert_cmpstr (request->negative, ==, "blurry");
  g_assert_cmpstr (request->sampler, ==, "dpmpp_2m");
  g_assert_cmpstr (request->scheduler, ==, "karras");
  g_assert_cmpint (request->steps, ==, 12);
  g_assert_cmpfloat (request->cfg, ==, 7.5);
  g_assert_cmpuint (request->seed, ==, 1234);
  g_assert_cmpint (request->batch_count, ==, 3);
  g_assert_cmpfloat (request->strength, ==, 0.5);
  g_assert_cmpint (request->precision, ==, SF_ENGINE_FP32);
  g_assert_cmpint (request->width, ==, 1216);
  g_assert_cmpint (request->height, ==, 832);
  g_assert_cmpint (request->masked_content, ==, SF_ENGINE_MASKED_LATENT_NOISE);

  SfPanelOptions options;
  sf_generation_panel_get_options (panel, &options);
  g_assert_cmpfloat (options.mask_blur_px, ==, 4);
  g_assert_false (options.only_masked);
  g_assert_cmpint (options.only_masked_padding_px, ==, 32);
  g_assert_cmpint (options.masked_content, ==, SF_PANEL_MASKED_LATENT_NOISE);
  g_assert_cmpint (options.extend_px, ==, 256);
  g_assert_false (options.watermark);
  g_assert_cmpint (options.frame_width, ==, 1216);
  g_assert_cmpint (options.frame_height, ==, 832);
}

static void
test_recalls_every_field_of_a_request (void)
{
  use_test_models ();
  g_autoptr (SfGenerationPanel) panel = new_panel (NULL);
  g_autoptr (SfEngineRequest) request = sf_engine_request_new ();
  /* A model recorded on another machine: found by its file name. */
  request->model_path = g_strdup ("/elsewhere/models/tiny-sdxl-inpaint-unet.safetensors");
  g_autofree char *refiner = g_build_filename (g_getenv ("SF_TEST_DATA"), "tiny-sdxl-refiner.safetensors", NULL);
  request->refiner_path = g_canonicalize_filename (refiner, NULL);
  request->refiner_start = 0.65;
  request->prompt = g_strdup ("a (castle:1.3) on a hill, 城");
  request->negative = g_strdup ("fog");
  request->width = 832;
  request->height = 1216;
  request->steps = 42;
  request->cfg = 6.5;
  g_free (request->sampler);
  request->sampler = g_strdup ("Euler a");   /* A1111's label */
  g_free (request->scheduler);
  request->scheduler = g_strdup ("karras");
  request->seed = 4000000000u;
  request->batch_count = 4;
  request->strength = 0.35;
  request->precision = SF_ENGINE_FP32;
  request->masked_content = SF_ENGINE_MASKED_LATENT_NOISE;
  sf_generation_panel_apply_request (panel, request);

  g_autoptr (SfEngineRequest) back = sf_generation_panel_build_request (panel);
  g_assert_nonnull (back);
  g_assert_true (g_str_has_suffix (back->model_path, "/tiny-sdxl-inpaint-unet.safetensors"));
  g_assert_cmpstr (back->refiner_path, ==, request->refiner_path);
  g_assert_cmpfloat_with_epsilon (back->refiner_start, 0.65, 1e-12);
  g_assert_cmpstr (back->prompt, ==, request->prompt);
  g_assert_cmpstr (back->negative, ==, request->negative);
  g_assert_cmpint (back->width, ==, 832);
  g_assert_cmpint (back->height, ==, 1216);
  g_assert_cmpint (back->steps, ==, 42);
  g_assert_cmpfloat (back->cfg, ==, 6.5);
  g_assert_cmpstr (back->sampler, ==, "euler_a");
  g_assert_cmpstr (back->scheduler, ==, "karras");
  g_assert_cmpuint (back->seed, ==, 4000000000u);
  g_assert_cmpint (back->batch_count, ==, 4);
  g_assert_cmpfloat_with_epsilon (back->strength, 0.35, 1e-12);
  g_assert_cmpint (back->precision, ==, SF_ENGINE_FP32);
  g_assert_cmpint (back->masked_content, ==, SF_ENGINE_MASKED_LATENT_NOISE);

  /* And back to no refiner. */
  g_clear_pointer (&request->refiner_path, g_free);
  sf_generation_panel_apply_request (panel, request);
  g_autoptr (SfEngineRequest) without = sf_generation_panel_build_request (panel);
  g_assert_null (without->refiner_path);
}

static void
test_resolves_and_keeps_seeds (void)
{
  use_test_models ();
  g_autoptr (SfGenerationPanel) panel = new_panel (NULL);
  GtkSpinButton *seed = GTK_SPIN_BUTTON (get (panel, "seed"));
  gtk_spin_button_set_value (seed, 77);
  g_assert_cmpuint (sf_generation_panel_resolve_seed (panel), ==, 77);

  /* -1 without keep: random each time, the field stays -1. */
  gtk_widget_activate_action (GTK_WIDGET (panel), "gen.dice", NULL);
  g_assert_cmpfloat (gtk_spin_button_get_value (seed), ==, -1);
  guint64 first = sf_generation_panel_resolve_seed (panel);
  g_assert_cmpuint (first, <=, G_MAXUINT32);
  g_assert_cmpfloat (gtk_spin_button_get_value (seed), ==, -1);
  gboolean differs = FALSE;
  for (int i = 0; i < 8 && !differs; i++)
    differs = sf_generation_panel_resolve_seed (panel) != first;
  g_assert_true (differs);

  /* With keep: written back, and reused. */
  gtk_check_button_set_active (GTK_CHECK_BUTTON (get (panel, "keep-seed")), TRUE);
  guint64 kept = sf_generation_panel_resolve_seed (panel);
  g_assert_cmpfloat (gtk_spin_button_get_value (seed), ==, (double) kept);
  g_assert_cmpuint (sf_generation_panel_resolve_seed (panel), ==, kept);
  g_autoptr (SfEngineRequest) request = sf_generation_panel_build_request (panel);
  g_assert_cmpuint (request->seed, ==, kept);
  SfPanelOptions options;
  sf_generation_panel_get_options (panel, &options);
  g_assert_true (options.keep_seed);
}

static void
select_offsets (SfPromptEditor *editor, int start, int end)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (sf_prompt_editor_get_view (editor));
  GtkTextIter a, b;
  gtk_text_buffer_get_iter_at_offset (buffer, &a, start);
  gtk_text_buffer_get_iter_at_offset (buffer, &b, end);
  gtk_text_buffer_select_range (buffer, &a, &b);
}

static char *
selected_text (SfPromptEditor *editor)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (sf_prompt_editor_get_view (editor));
  GtkTextIter a, b;
  gtk_text_buffer_get_selection_bounds (buffer, &a, &b);
  return gtk_text_buffer_get_text (buffer, &a, &b, TRUE);
}

/* The key as the view's key controller receives it. */
static gboolean
press_key (SfPromptEditor *editor, guint keyval, GdkModifierType state)
{
  GtkWidget *view = GTK_WIDGET (sf_prompt_editor_get_view (editor));
  g_autoptr (GListModel) controllers = gtk_widget_observe_controllers (view);
  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr (GObject) controller = g_list_model_get_item (controllers, i);
      if (!GTK_IS_EVENT_CONTROLLER_KEY (controller)
          || gtk_event_controller_get_propagation_phase (GTK_EVENT_CONTROLLER (controller)) != GTK_PHASE_CAPTURE)
        continue;
      gboolean handled = FALSE;
      g_signal_emit_by_name (controller, "key-pressed", keyval, 0, state, &handled);
      if (handled)
        return TRUE;
    }
  return FALSE;
}

static void
test_ctrl_up_weights_the_word_under_the_cursor (void)
{
  SfPromptEditor *editor = SF_PROMPT_EDITOR (g_object_ref_sink (sf_prompt_editor_new (NULL)));
  sf_prompt_editor_set_counter (editor, count_bytes, NULL);
  sf_prompt_editor_set_text (editor, "a red cat, 城堡");
  select_offsets (editor, 7, 7); /* in "cat" */
  sf_prompt_editor_adjust_weight (editor, 0.1);
  g_autofree char *once = sf_prompt_editor_get_text (editor);
  g_assert_cmpstr (once, ==, "a red (cat:1.1), 城堡");
  g_autofree char *selection = selected_text (editor);
  g_assert_cmpstr (selection, ==, "cat");

  /* The same through the keyboard: ctrl+up again, ctrl+down twice. */
  g_assert_true (press_key (editor, GDK_KEY_Up, GDK_CONTROL_MASK));
  g_autofree char *twice = sf_prompt_editor_get_text (editor);
  g_assert_cmpstr (twice, ==, "a red (cat:1.2), 城堡");
  g_assert_true (press_key (editor, GDK_KEY_Down, GDK_CONTROL_MASK));
  g_assert_true (press_key (editor, GDK_KEY_Down, GDK_CONTROL_MASK));
  g_autofree char *back = sf_prompt_editor_get_text (editor);
  g_assert_cmpstr (back, ==, "a red cat, 城堡");
  g_autofree char *still = selected_text (editor);
  g_assert_cmpstr (still, ==, "cat");
  /* Plain up moves the cursor as usual. */
  g_assert_false (press_key (editor, GDK_KEY_Up, 0));

  /* Down on a multi-byte word after it: character offsets, not bytes. */
  select_offsets (editor, 12, 12);
  g_assert_true (press_key (editor, GDK_KEY_Down, GDK_CONTROL_MASK));
  g_autofree char *castle = sf_prompt_editor_get_text (editor);
  g_assert_cmpstr (castle, ==, "a red cat, (城堡:0.9)");
  g_autofree char *castle_selection = selected_text (editor);
  g_assert_cmpstr (castle_selection, ==, "城堡");
  g_object_unref (editor);
}

static gboolean
has_tag (SfPromptEditor *editor, const char *tag_name, int start, int end)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (sf_prompt_editor_get_view (editor));
  GtkTextTag *tag = gtk_text_tag_table_lookup (gtk_text_buffer_get_tag_table (buffer), tag_name);
  g_assert_nonnull (tag);
  GtkTextIter iter;
  gtk_text_buffer_get_iter_at_offset (buffer, &iter, start);
  if (!gtk_text_iter_starts_tag (&iter, tag))
    return FALSE;
  gtk_text_iter_forward_to_tag_toggle (&iter, tag);
  return gtk_text_iter_get_offset (&iter) == end;
}

static void
test_highlights_the_weighting_syntax (void)
{
  SfPromptEditor *editor = SF_PROMPT_EDITOR (g_object_ref_sink (sf_prompt_editor_new (NULL)));
  sf_prompt_editor_set_counter (editor, count_bytes, NULL);
  /* Offsets in characters: 猫 is one. */
  sf_prompt_editor_set_text (editor, "(猫:1.2) [dog] \\(x\\) BREAK <lora:foo:1>");
  g_assert_true (has_tag (editor, "bracket", 0, 1));
  g_assert_true (has_tag (editor, "emphasis", 1, 2));
  g_assert_true (has_tag (editor, "weight", 2, 6));
  g_assert_true (has_tag (editor, "bracket", 6, 7));
  g_assert_true (has_tag (editor, "bracket", 8, 9));
  g_assert_true (has_tag (editor, "deemphasis", 9, 12));
  g_assert_true (has_tag (editor, "escape", 14, 16));
  g_assert_true (has_tag (editor, "escape", 17, 19));
  g_assert_true (has_tag (editor, "break", 20, 25));
  g_assert_true (has_tag (editor, "unsupported", 26, 38));
  /* Edits re-highlight: the weight gone, so is its tag. */
  sf_prompt_editor_set_text (editor, "plain text");
  g_assert_false (has_tag (editor, "emphasis", 1, 2));
  g_object_unref (editor);
}

typedef struct {
  SfPromptEditor *editor;
  const char *text;
} CountWait;

static gboolean
count_is (gpointer data)
{
  CountWait *wait = data;
  return strcmp (sf_prompt_editor_get_count_text (wait->editor), wait->text) == 0;
}

static void
test_counts_tokens_with_the_engine (void)
{
  const char *vocab = g_getenv ("SF_CLIP_VOCAB");
  if (!vocab || !g_file_test (vocab, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("no CLIP vocabulary (SF_CLIP_VOCAB)");
      return;
    }
  /* The default counter: the engine's tokenizer. */
  SfPromptEditor *editor = SF_PROMPT_EDITOR (g_object_ref_sink (sf_prompt_editor_new (NULL)));
  sf_prompt_editor_set_text (editor, "a cat");
  CountWait wait = { editor, "2/75" };
  if (!wait_until (count_is, &wait))
    g_error ("\"a cat\" counted as \"%s\"", sf_prompt_editor_get_count_text (editor));
  /* BREAK starts a chunk. */
  sf_prompt_editor_set_text (editor, "a cat BREAK a red dog");
  wait.text = "2 chunks · 3/75";
  if (!wait_until (count_is, &wait))
    g_error ("BREAK counted as \"%s\"", sf_prompt_editor_get_count_text (editor));
  g_object_unref (editor);

  guint n_chunks = 0;
  g_autofree int *counts = sf_engine_count_prompt_tokens ("", &n_chunks, NULL);
  g_assert_cmpuint (n_chunks, ==, 1);
  g_assert_cmpint (counts[0], ==, 0);
}

static void
on_signal (gpointer instance, gpointer data)
{
  (*(int *) data)++;
}

static void
test_counts_with_an_injected_counter_and_announces_changes (void)
{
  use_test_models ();
  g_autoptr (SfGenerationPanel) panel = new_panel (NULL);
  int changes = 0;
  g_signal_connect (panel, "prompt-changed", G_CALLBACK (on_signal), &changes);
  SfPromptEditor *editor = sf_generation_panel_get_prompt_editor (panel);
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (sf_prompt_editor_get_view (editor));
  /* Typing: debounced, nothing yet, then one announcement for the burst. */
  gtk_text_buffer_insert_at_cursor (buffer, "abcdefghij", -1);
  gtk_text_buffer_insert_at_cursor (buffer, "k", -1);
  g_assert_cmpint (changes, ==, 0);
  CountWait wait = { editor, "11/75" };
  g_assert_true (wait_until (count_is, &wait));
  settle (50);
  g_assert_cmpint (changes, ==, 1);

  /* ctrl+up is an edit too. */
  sf_prompt_editor_adjust_weight (editor, 0.1);
  wait.text = "17/75";   /* "(abcdefghijk:1.1)" */
  g_assert_true (wait_until (count_is, &wait));
  settle (50);
  g_assert_cmpint (changes, ==, 2);

  /* Recalled text is counted, not announced (no auto-regenerate). */
  g_autoptr (SfEngineRequest) request = sf_engine_request_new ();
  request->prompt = g_strdup ("recalled");
  sf_generation_panel_apply_request (panel, request);
  wait.text = "8/75";
  g_assert_true (wait_until (count_is, &wait));
  settle (200);
  g_assert_cmpint (changes, ==, 2);
}

static void
test_shows_the_first_use_page_without_models (void)
{
  g_autofree char *empty = g_dir_make_tmp ("sfumato-models-XXXXXX", NULL);
  g_setenv ("SFUMATO_MODEL_DIRS", empty, TRUE);
  g_autoptr (SfGenerationPanel) panel = new_panel (NULL);
  g_assert_cmpuint (sf_generation_panel_get_model_count (panel), ==, 0);
  g_assert_cmpstr (gtk_stack_get_visible_child_name (GTK_STACK (get (panel, "pages"))), ==, "first-use");
  g_assert_null (sf_generation_panel_build_request (panel));
  const char *folders = gtk_label_get_text (GTK_LABEL (get (panel, "folders")));
  g_assert_nonnull (strstr (folders, empty));

  /* A checkpoint appears (a file name is enough to list it): rescan. */
  g_autofree char *checkpoint = g_build_filename (empty, "mine.safetensors", NULL);
  g_assert_true (g_file_set_contents (checkpoint, "", 0, NULL));
  g_signal_emit_by_name (get (panel, "rescan"), "clicked");
  g_assert_cmpuint (sf_generation_panel_get_model_count (panel), ==, 1);
  g_assert_cmpstr (gtk_stack_get_visible_child_name (GTK_STACK (get (panel, "pages"))), ==, "main");
  g_autoptr (SfEngineRequest) request = sf_generation_panel_build_request (panel);
  g_assert_true (g_str_has_suffix (request->model_path, "/mine.safetensors"));
  g_remove (checkpoint);
  g_rmdir (empty);

  /* Pointed at tests/data: the tiny checkpoints, .safetensors only. */
  use_test_models ();
  g_signal_emit_by_name (get (panel, "rescan-models"), "clicked");
  g_assert_cmpuint (sf_generation_panel_get_model_count (panel), >=, 3);
  GListModel *names = gtk_drop_down_get_model (GTK_DROP_DOWN (get (panel, "model")));
  for (guint i = 0; i < g_list_model_get_n_items (names); i++)
    g_assert_true (g_str_has_suffix (gtk_string_list_get_string (GTK_STRING_LIST (names), i), ".safetensors"));
  GListModel *refiners = gtk_drop_down_get_model (GTK_DROP_DOWN (get (panel, "refiner")));
  g_assert_cmpuint (g_list_model_get_n_items (refiners), ==, g_list_model_get_n_items (names) + 1);
}

typedef struct {
  int generate, cancel, accept, discard;
  int extend_side, extend_px;
  int frame_width, frame_height;
  guint selected;
} Heard;

static void on_generate (GtkWidget *w, Heard *h) { h->generate++; }
static void on_cancel (GtkWidget *w, Heard *h) { h->cancel++; }
static void on_accept (GtkWidget *w, Heard *h) { h->accept++; }
static void on_discard (GtkWidget *w, Heard *h) { h->discard++; }
static void on_extend (GtkWidget *w, int side, int px, Heard *h) { h->extend_side = side; h->extend_px = px; }
static void on_frame (GtkWidget *w, int width, int height, Heard *h) { h->frame_width = width; h->frame_height = height; }
static void on_select (GtkWidget *w, guint index, Heard *h) { h->selected = index; }

static void
test_runs_progress_and_staging (void)
{
  use_test_models ();
  g_autoptr (SfGenerationPanel) panel = new_panel (NULL);
  Heard heard = { 0 };
  g_signal_connect (panel, "generate", G_CALLBACK (on_generate), &heard);
  g_signal_connect (panel, "cancel", G_CALLBACK (on_cancel), &heard);
  g_signal_connect (panel, "stage-accept", G_CALLBACK (on_accept), &heard);
  g_signal_connect (panel, "stage-discard", G_CALLBACK (on_discard), &heard);
  g_signal_connect (panel, "extend", G_CALLBACK (on_extend), &heard);
  g_signal_connect (panel, "frame-size", G_CALLBACK (on_frame), &heard);
  g_signal_connect (panel, "stage-select", G_CALLBACK (on_select), &heard);
  GtkWidget *widget = GTK_WIDGET (panel);

  gtk_widget_activate_action (widget, "gen.generate", NULL);
  g_assert_cmpint (heard.generate, ==, 1);
  g_assert_false (gtk_widget_get_visible (get (panel, "cancel")));
  sf_generation_panel_set_busy (panel, TRUE);
  g_assert_true (gtk_widget_get_visible (get (panel, "cancel")));
  g_assert_true (gtk_widget_get_visible (get (panel, "progress")));
  gtk_widget_activate_action (widget, "gen.generate", NULL);
  g_assert_cmpint (heard.generate, ==, 1);  /* busy: disabled */
  SfEngineProgress progress = { .image = 0, .images = 1, .step = 5, .total = 30, .eta_s = 12.2,
                                .stage = "sampling" };
  sf_generation_panel_set_progress (panel, &progress);
  GtkProgressBar *bar = GTK_PROGRESS_BAR (get (panel, "progress"));
  g_assert_cmpstr (gtk_progress_bar_get_text (bar), ==, "step 5/30 · 12 s left");
  g_assert_cmpfloat_with_epsilon (gtk_progress_bar_get_fraction (bar), 5.0 / 30, 1e-9);
  progress.images = 2;
  progress.image = 1;
  progress.eta_s = 75;
  sf_generation_panel_set_progress (panel, &progress);
  g_assert_cmpstr (gtk_progress_bar_get_text (bar), ==, "image 2/2 · step 5/30 · 1 min 15 s left");
  gtk_widget_activate_action (widget, "gen.cancel", NULL);
  g_assert_cmpint (heard.cancel, ==, 1);
  sf_generation_panel_set_busy (panel, FALSE);
  g_assert_false (gtk_widget_get_visible (get (panel, "cancel")));

  g_assert_false (gtk_widget_get_visible (get (panel, "staging")));
  sf_generation_panel_set_staging (panel, 4, 1);
  g_assert_true (gtk_widget_get_visible (get (panel, "staging")));
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (get (panel, "staging-label"))), ==, "2/4");
  gtk_widget_activate_action (widget, "gen.next", NULL);
  g_assert_cmpuint (heard.selected, ==, 2);
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (get (panel, "staging-label"))), ==, "3/4");
  gtk_widget_activate_action (widget, "gen.previous", NULL);
  gtk_widget_activate_action (widget, "gen.previous", NULL);
  g_assert_cmpuint (heard.selected, ==, 0);
  gtk_widget_activate_action (widget, "gen.accept", NULL);
  gtk_widget_activate_action (widget, "gen.discard", NULL);
  g_assert_cmpint (heard.accept, ==, 1);
  g_assert_cmpint (heard.discard, ==, 1);
  sf_generation_panel_set_staging (panel, 0, 0);
  g_assert_false (gtk_widget_get_visible (get (panel, "staging")));
  gtk_widget_activate_action (widget, "gen.accept", NULL);
  g_assert_cmpint (heard.accept, ==, 1);   /* nothing staged: disabled */

  gtk_spin_button_set_value (GTK_SPIN_BUTTON (get (panel, "extend-px")), 128);
  gtk_widget_activate_action (widget, "gen.extend", "i", 2);
  g_assert_cmpint (heard.extend_side, ==, 2);
  g_assert_cmpint (heard.extend_px, ==, 128);
  gtk_drop_down_set_selected (GTK_DROP_DOWN (get (panel, "frame-size")), 7);
  g_assert_cmpint (heard.frame_width, ==, 1536);
  g_assert_cmpint (heard.frame_height, ==, 640);
}

static GSettings *
new_settings (void)
{
  g_autoptr (GSettingsSchemaSource) source =
    g_settings_schema_source_new_from_directory (SF_SCHEMA_DIR, NULL, FALSE, NULL);
  g_assert_nonnull (source);
  g_autoptr (GSettingsSchema) schema = g_settings_schema_source_lookup (source, "org.sfumato.Sfumato", FALSE);
  g_assert_nonnull (schema);
  g_autoptr (GSettingsBackend) backend = g_memory_settings_backend_new ();
  return g_settings_new_full (schema, backend, NULL);
}

static void
test_keeps_settings (void)
{
  use_test_models ();
  g_autoptr (GSettings) settings = new_settings ();
  {
    g_autoptr (SfGenerationPanel) panel = new_panel (settings);
    gtk_spin_button_set_value (GTK_SPIN_BUTTON (get (panel, "steps")), 21);
    gtk_spin_button_set_value (GTK_SPIN_BUTTON (get (panel, "seed")), 99);
    gtk_drop_down_set_selected (GTK_DROP_DOWN (get (panel, "sampler")), 1);
    gtk_drop_down_set_selected (GTK_DROP_DOWN (get (panel, "frame-size")), 2);
    gtk_drop_down_set_selected (GTK_DROP_DOWN (get (panel, "model")),
                                model_index (panel, "tiny-sdxl-refiner.safetensors"));
    gtk_check_button_set_active (GTK_CHECK_BUTTON (get (panel, "watermark")), TRUE);
    gtk_text_buffer_insert_at_cursor (
      gtk_text_view_get_buffer (sf_prompt_editor_get_view (sf_generation_panel_get_prompt_editor (panel))),
      "kept prompt", -1);
    settle (400);
    g_assert_cmpint (g_settings_get_int (settings, "steps"), ==, 21);
    g_assert_cmpint (g_settings_get_int64 (settings, "seed"), ==, 99);
    g_autofree char *sampler = g_settings_get_string (settings, "sampler");
    g_assert_cmpstr (sampler, ==, "euler_a");
    g_autofree char *frame = g_settings_get_string (settings, "frame-size");
    g_assert_cmpstr (frame, ==, "896x1152");
    g_autofree char *prompt = g_settings_get_string (settings, "prompt");
    g_assert_cmpstr (prompt, ==, "kept prompt");
  }
  /* A new panel starts where the last one stopped. */
  g_autoptr (SfGenerationPanel) panel = new_panel (settings);
  g_autoptr (SfEngineRequest) request = sf_generation_panel_build_request (panel);
  g_assert_cmpint (request->steps, ==, 21);
  g_assert_cmpuint (request->seed, ==, 99);
  g_assert_cmpstr (request->sampler, ==, "euler_a");
  g_assert_cmpint (request->width, ==, 896);
  g_assert_cmpstr (request->prompt, ==, "kept prompt");
  g_assert_true (g_str_has_suffix (request->model_path, "/tiny-sdxl-refiner.safetensors"));
  SfPanelOptions options;
  sf_generation_panel_get_options (panel, &options);
  g_assert_true (options.watermark);

  /* A recalled prompt is kept too. */
  g_free (request->prompt);
  request->prompt = g_strdup ("recalled prompt");
  sf_generation_panel_apply_request (panel, request);
  g_autofree char *recalled = g_settings_get_string (settings, "prompt");
  g_assert_cmpstr (recalled, ==, "recalled prompt");
}

static gboolean
is_mapped (gpointer data)
{
  return gtk_widget_get_mapped (data) && gtk_widget_get_width (data) > 0;
}

static void
screenshot (GtkWidget *panel, int width, int height, const char *name)
{
  GtkWidget *window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (window), width, height);
  gtk_window_set_child (GTK_WINDOW (window), panel);
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (wait_until (is_mapped, panel));
  settle (500);
  g_autofree char *path = g_build_filename (SF_TEST_OUTPUT_DIR, name, NULL);
  sf_ui_test_save_png (window, path);
  g_test_message ("screenshot: %s", path);
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
expand_sections (GtkWidget *root)
{
  for (GtkWidget *child = gtk_widget_get_first_child (root); child; child = gtk_widget_get_next_sibling (child))
    {
      if (GTK_IS_EXPANDER (child))
        gtk_expander_set_expanded (GTK_EXPANDER (child), !gtk_expander_get_expanded (GTK_EXPANDER (child)));
      else
        expand_sections (child);
    }
}

static gboolean
contains (GPtrArray *folders, const char *folder)
{
  for (guint i = 0; i < folders->len; i++)
    if (strcmp (folders->pdata[i], folder) == 0)
      return TRUE;
  return FALSE;
}

static void
test_searches_a1111_comfyui_and_own_folders (void)
{
  g_unsetenv ("SFUMATO_MODEL_DIRS");
  g_autoptr (GSettings) settings = new_settings ();
  g_settings_set_string (settings, "a1111-root", "/opt/a1111");
  g_settings_set_string (settings, "comfyui-root", "/opt/comfy/");
  const char *extra[] = { "/srv/models", "/srv/models/", NULL };
  g_settings_set_strv (settings, "model-folders", extra);
  g_autoptr (GPtrArray) folders = sf_model_folders_list (settings);
  g_autofree char *webui = g_build_filename (g_get_home_dir (), "stable-diffusion-webui", "models",
                                             "Stable-diffusion", NULL);
  g_autofree char *comfy = g_build_filename (g_get_home_dir (), "ComfyUI", "models", "checkpoints", NULL);
  g_autofree char *own = g_build_filename (g_getenv ("XDG_DATA_HOME"), "sfumato", "models", NULL);
  g_assert_true (contains (folders, webui));
  g_assert_true (contains (folders, "/opt/a1111/models/Stable-diffusion"));
  g_assert_true (contains (folders, comfy));
  g_assert_true (contains (folders, "/opt/comfy/models/checkpoints"));
  g_assert_true (contains (folders, own));
  g_assert_true (contains (folders, "/srv/models"));
  g_assert_cmpuint (folders->len, ==, 6);   /* "/srv/models/" is the same folder */

  /* Subfolders, any case of the ending, no hidden files, no .ckpt, and a
   * file reached twice (a symlinked folder) listed once. */
  g_autofree char *root = g_dir_make_tmp ("sfumato-scan-XXXXXX", NULL);
  g_autofree char *sub = g_build_filename (root, "sdxl", NULL);
  g_assert_cmpint (g_mkdir (sub, 0755), ==, 0);
  const char *files[] = { "sdxl/b.safetensors", "A.SAFETENSORS", "c.ckpt", ".hidden.safetensors", NULL };
  for (const char **f = files; *f; f++)
    {
      g_autofree char *path = g_build_filename (root, *f, NULL);
      g_assert_true (g_file_set_contents (path, "", 0, NULL));
    }
  g_autofree char *link = g_build_filename (root, "again", NULL);
  g_assert_cmpint (symlink (sub, link), ==, 0);
  g_autoptr (GPtrArray) scan_folders = g_ptr_array_new ();
  g_ptr_array_add (scan_folders, root);
  g_autoptr (GPtrArray) found = sf_model_folders_scan (scan_folders);
  g_assert_cmpuint (found->len, ==, 2);
  g_assert_cmpstr (((SfModelFile *) found->pdata[0])->name, ==, "A.SAFETENSORS");
  g_assert_true (g_str_has_suffix (((SfModelFile *) found->pdata[1])->name, "b.safetensors"));
  g_remove (link);
  for (const char **f = files; *f; f++)
    {
      g_autofree char *path = g_build_filename (root, *f, NULL);
      g_remove (path);
    }
  g_rmdir (sub);
  g_rmdir (root);
}

static void
test_looks_tidy_in_a_window (void)
{
  use_test_models ();
  GtkWidget *panel = sf_generation_panel_new (NULL);
  SfGenerationPanel *self = SF_GENERATION_PANEL (panel);
  sf_prompt_editor_set_counter (sf_generation_panel_get_prompt_editor (self), count_bytes, NULL);
  sf_prompt_editor_set_counter (sf_generation_panel_get_negative_editor (self), count_bytes, NULL);
  sf_prompt_editor_set_text (sf_generation_panel_get_prompt_editor (self),
                             "a lighthouse on a (rocky cliff:1.2) at dusk, [fog], oil painting BREAK "
                             "warm light \\(golden\\) <lora:style:0.8>");
  sf_prompt_editor_set_text (sf_generation_panel_get_negative_editor (self), "blurry, (watermark:1.3)");
  sf_generation_panel_set_busy (self, TRUE);
  SfEngineProgress progress = { .images = 1, .step = 5, .total = 30, .eta_s = 12, .stage = "sampling" };
  sf_generation_panel_set_progress (self, &progress);
  sf_generation_panel_set_staging (self, 4, 1);
  screenshot (panel, 300, 1000, "generation-panel.png");

  /* The other two sections open, the first two closed. */
  panel = sf_generation_panel_new (NULL);
  sf_prompt_editor_set_counter (sf_generation_panel_get_prompt_editor (SF_GENERATION_PANEL (panel)), count_bytes, NULL);
  sf_prompt_editor_set_counter (sf_generation_panel_get_negative_editor (SF_GENERATION_PANEL (panel)), count_bytes, NULL);
  expand_sections (panel);
  screenshot (panel, 300, 800, "generation-panel-options.png");

  g_autofree char *empty = g_dir_make_tmp ("sfumato-models-XXXXXX", NULL);
  g_setenv ("SFUMATO_MODEL_DIRS", empty, TRUE);
  screenshot (sf_generation_panel_new (NULL), 300, 600, "generation-panel-first-use.png");
  g_rmdir (empty);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* Criticals fail the test; warnings do not, since GTK warns under Xvfb
   * that there is no session bus. */
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  gtk_init ();
  g_test_add_func ("/ui-generation-panel/finds-models-and-builds-the-request-from-the-widgets",
                   test_finds_models_and_builds_the_request_from_the_widgets);
  g_test_add_func ("/ui-generation-panel/recalls-every-field-of-a-request", test_recalls_every_field_of_a_request);
  g_test_add_func ("/ui-generation-panel/resolves-and-keeps-seeds", test_resolves_and_keeps_seeds);
  g_test_add_func ("/ui-generation-panel/ctrl-up-weights-the-word-under-the-cursor",
                   test_ctrl_up_weights_the_word_under_the_cursor);
  g_test_add_func ("/ui-generation-panel/highlights-the-weighting-syntax", test_highlights_the_weighting_syntax);
  g_test_add_func ("/ui-generation-panel/counts-tokens-with-the-engine", test_counts_tokens_with_the_engine);
  g_test_add_func ("/ui-generation-panel/counts-with-an-injected-counter-and-announces-changes",
                   test_counts_with_an_injected_counter_and_announces_changes);
  g_test_add_func ("/ui-generation-panel/shows-the-first-use-page-without-models",
                   test_shows_the_first_use_page_without_models);
  g_test_add_func ("/ui-generation-panel/runs-progress-and-staging", test_runs_progress_and_staging);
  g_test_add_func ("/ui-generation-panel/keeps-settings", test_keeps_settings);
  g_test_add_func ("/ui-generation-panel/searches-a1111-comfyui-and-own-folders",
                   test_searches_a1111_comfyui_and_own_folders);
  g_test_add_func ("/ui-generation-panel/looks-tidy-in-a-window", test_looks_tidy_in_a_window);
  return g_test_run ();
}
