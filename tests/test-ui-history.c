/* The history browser in a bare window under Xvfb: a generation arrives
 * (stored the way the engine stores its results), appears in the grid, is
 * shown, recalled, searched for, refined, favourited, copied and deleted,
 * all driven through the panel's actions. One screenshot is saved. */
#include <gtk/gtk.h>
#include <string.h>

#include "history-diff.h"
#include "history-panel.h"
#include "history-test.h"
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

typedef struct {
  SfHistoryPanel *panel;
  guint count;
} CountWait;

static gboolean
has_count (gpointer data)
{
  CountWait *wait = data;
  return g_list_model_get_n_items (G_LIST_MODEL (sf_history_panel_get_model (wait->panel))) == wait->count;
}

static void
wait_for_count (SfHistoryPanel *panel, guint count)
{
  CountWait wait = { panel, count };
  if (!wait_until (has_count, &wait))
    g_error ("the grid never showed %u generations (it has %u)", count,
             g_list_model_get_n_items (G_LIST_MODEL (sf_history_panel_get_model (panel))));
}

static gboolean
is_mapped (gpointer data)
{
  return gtk_widget_get_mapped (data);
}

static void
on_recall (SfHistoryPanel *panel, SfGenerationRecord *record, SfGenerationRecord **out)
{
  sf_generation_record_free (*out);
  *out = sf_generation_record_copy (record);
}

typedef struct {
  guint reruns;
  char *layer_path;
  char *revealed_path;
} Requests;

static void
on_rerun (SfHistoryPanel *panel, SfGenerationRecord *record, Requests *requests)
{
  requests->reruns++;
}

static void
on_open_as_layer (SfHistoryPanel *panel, SfGenerationRecord *record, const char *path, Requests *requests)
{
  g_free (requests->layer_path);
  requests->layer_path = g_strdup (path);
}

static void
on_reveal (SfHistoryPanel *panel, SfGenerationRecord *record, const char *path, Requests *requests)
{
  g_free (requests->revealed_path);
  requests->revealed_path = g_strdup (path);
}

static gint64
store_generation (SfHistory *history, SfGenerationRecord *record, int seed)
{
  g_autofree guint8 *pixels = sf_history_test_pixels (256, 192, seed);
  SfHistoryImage image = { .pixels = pixels, .width_px = 256, .height_px = 192, .stride = 256 * 4 };
  /* What the engine's bridge does with a finished job: an async insert
   * from the main thread. */
  sf_history_insert_async (history, record, &image, NULL, NULL, NULL, NULL);
  return 0;
}

static char *
lineage_row_markup (SfHistoryPanel *panel, int index)
{
  GtkListBoxRow *row = gtk_list_box_get_row_at_index (sf_history_panel_get_lineage (panel), index);
  g_assert_nonnull (row);
  return g_strdup (gtk_label_get_label (GTK_LABEL (gtk_list_box_row_get_child (row))));
}

static void
test_browser_shows_recalls_and_edits_generations (void)
{
  g_autofree char *dir = sf_history_test_dir ();
  g_autoptr (GError) error = NULL;
  g_autoptr (SfHistory) history = sf_history_open (dir, &error);
  g_assert_no_error (error);
  GtkWidget *window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (window), 1100, 720);
  SfHistoryPanel *panel = SF_HISTORY_PANEL (sf_history_panel_new (history));
  gtk_window_set_child (GTK_WINDOW (window), GTK_WIDGET (panel));
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (wait_until (is_mapped, panel));
  g_assert_null (sf_history_panel_get_shown (panel));

  /* A generation finishes: it appears and shows every parameter. */
  g_autoptr (SfGenerationRecord) first = sf_history_test_record (1);
  g_free (first->prompt);
  first->prompt = g_strdup ("a lighthouse at dusk, oil painting");
  first->seed = 987654321987ull;
  first->created_us = g_get_real_time ();
  store_generation (history, first, 1);
  wait_for_count (panel, 1);
  sf_history_panel_select (panel, 0);
  const SfGenerationRecord *shown = sf_history_panel_get_shown (panel);
  g_assert_nonnull (shown);
  gint64 first_id = shown->id;
  const char *parameters = gtk_label_get_text (sf_history_panel_get_parameters_label (panel));
  g_assert_nonnull (strstr (parameters, "a lighthouse at dusk, oil painting"));
  g_assert_nonnull (strstr (parameters, "987654321987"));
  g_assert_nonnull (strstr (parameters, "dpmpp_2m, karras, 21 steps, CFG 6.5"));

  /* Recall hands every parameter back. */
  SfGenerationRecord *recalled = NULL;
  g_signal_connect (panel, "recall", G_CALLBACK (on_recall), &recalled);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (panel), "history.recall", NULL));
  g_assert_nonnull (recalled);
  g_assert_cmpstr (recalled->prompt, ==, first->prompt);
  g_assert_cmpstr (recalled->negative_prompt, ==, first->negative_prompt);
  g_assert_cmpstr (recalled->prompt_weights, ==, first->prompt_weights);
  g_assert_cmpuint (recalled->seed, ==, first->seed);
  g_assert_cmpint (recalled->steps, ==, first->steps);
  g_assert_cmpfloat (recalled->cfg_scale, ==, first->cfg_scale);
  g_assert_cmpstr (recalled->sampler, ==, first->sampler);
  g_assert_cmpstr (recalled->scheduler, ==, first->scheduler);
  g_assert_cmpint (recalled->width_px, ==, first->width_px);
  g_assert_cmpint (recalled->height_px, ==, first->height_px);
  g_assert_cmpint (recalled->frame_x, ==, first->frame_x);
  g_assert_cmpstr (recalled->model_name, ==, first->model_name);
  g_assert_cmpint (recalled->mode, ==, first->mode);

  /* Re-run, open as layer and reveal go to whoever embeds the panel. */
  Requests requests = { 0 };
  g_signal_connect (panel, "rerun", G_CALLBACK (on_rerun), &requests);
  g_signal_connect (panel, "open-as-layer", G_CALLBACK (on_open_as_layer), &requests);
  g_signal_connect (panel, "reveal", G_CALLBACK (on_reveal), &requests);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (panel), "history.rerun", NULL));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (panel), "history.open-as-layer", NULL));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (panel), "history.reveal", NULL));
  g_autofree char *image_file = sf_history_get_file (history, shown->image_path);
  g_assert_cmpuint (requests.reruns, ==, 1);
  g_assert_cmpstr (requests.layer_path, ==, image_file);
  g_assert_cmpstr (requests.revealed_path, ==, image_file);
  g_assert_true (g_file_test (image_file, G_FILE_TEST_IS_REGULAR));
  g_free (requests.layer_path);
  g_free (requests.revealed_path);

  /* A refinement of it: newest first, with its lineage and the prompt's
   * changed words marked. */
  g_autoptr (SfGenerationRecord) second = sf_history_test_record (2);
  g_free (second->prompt);
  second->prompt = g_strdup ("a lighthouse at dawn, oil painting, gulls");
  second->parent_id = first_id;
  second->mode = SF_GENERATION_IMG2IMG;
  second->strength = 0.45;
  second->created_us = first->created_us + 1000;
  store_generation (history, second, 2);
  wait_for_count (panel, 2);
  sf_history_panel_select (panel, 0);
  g_assert_cmpint (sf_history_panel_get_shown (panel)->parent_id, ==, first_id);
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (sf_history_panel_get_lineage (panel))));
  g_autofree char *root_row = lineage_row_markup (panel, 0);
  g_autofree char *child_row = lineage_row_markup (panel, 1);
  g_assert_nonnull (strstr (root_row, "a lighthouse at dusk"));
  g_assert_nonnull (strstr (child_row, "<span foreground=\"#26a269\" weight=\"bold\">dawn</span>"));
  g_assert_nonnull (strstr (child_row, "<span foreground=\"#c01c28\" strikethrough=\"true\">dusk</span>"));
  g_assert_nonnull (strstr (child_row, "<span foreground=\"#26a269\" weight=\"bold\">gulls</span>"));
  g_assert_null (gtk_list_box_get_row_at_index (sf_history_panel_get_lineage (panel), 2));

  /* The search entry narrows the grid. */
  gtk_editable_set_text (sf_history_panel_get_search_entry (panel), "gulls");
  wait_for_count (panel, 1);
  gtk_editable_set_text (sf_history_panel_get_search_entry (panel), "");
  wait_for_count (panel, 2);
  sf_history_panel_set_mode (panel, SF_GENERATION_IMG2IMG);
  wait_for_count (panel, 1);
  sf_history_panel_set_mode (panel, -1);
  wait_for_count (panel, 2);

  /* Favourite the first (through the lineage's "show"), then filter. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (panel), "history.show", "x", first_id));
  g_assert_cmpint (sf_history_panel_get_shown (panel)->id, ==, first_id);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (panel), "history.favourite", NULL));
  while (!sf_history_panel_get_shown (panel)->favourite)
    g_main_context_iteration (NULL, TRUE);
  g_autoptr (SfGenerationRecord) stored = sf_history_get (history, first_id, &error);
  g_assert_true (stored->favourite);
  sf_history_panel_set_favourites_only (panel, TRUE);
  wait_for_count (panel, 1);
  sf_history_panel_set_favourites_only (panel, FALSE);
  wait_for_count (panel, 2);

  /* Copy parameters: the A1111 text on the clipboard. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (panel), "history.copy-parameters", NULL));
  GdkContentProvider *content = gdk_clipboard_get_content (gtk_widget_get_clipboard (GTK_WIDGET (panel)));
  g_assert_nonnull (content);
  g_auto (GValue) value = G_VALUE_INIT;
  g_value_init (&value, G_TYPE_STRING);
  g_assert_true (gdk_content_provider_get_value (content, &value, NULL));
  g_autofree char *expected = sf_generation_record_format_parameters (stored);
  g_assert_cmpstr (g_value_get_string (&value), ==, expected);

  /* Let the grid draw its thumbnails, then keep a picture of it all. */
  sf_history_panel_select (panel, 0);
  for (int i = 0; i < 50; i++)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (2000);
    }
  g_autofree char *screenshot = g_build_filename (SF_TEST_OUTPUT_DIR, "history-panel.png", NULL);
  sf_ui_test_save_png (window, screenshot);
  g_test_message ("screenshot: %s", screenshot);

  /* Delete the refinement: its row and its file go. */
  g_autofree char *file = sf_history_get_file (history, sf_history_panel_get_shown (panel)->image_path);
  g_assert_true (g_file_test (file, G_FILE_TEST_EXISTS));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (panel), "history.delete", NULL));
  wait_for_count (panel, 1);
  g_assert_false (g_file_test (file, G_FILE_TEST_EXISTS));
  g_assert_null (sf_history_panel_get_shown (panel));

  sf_generation_record_free (recalled);
  gtk_window_destroy (GTK_WINDOW (window));
  /* Thumbnail loads still in flight end before the test does. */
  for (int i = 0; i < 200; i++)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
}

static void
test_diff_marks_inserted_and_removed_words (void)
{
  g_autofree char *same = sf_history_diff_markup ("a red fox", "a red fox");
  g_assert_cmpstr (same, ==, "a red fox");
  g_autofree char *changed = sf_history_diff_markup ("a red fox, snow", "a blue fox  snow & ice");
  g_assert_cmpstr (changed, ==,
                   "a <span foreground=\"#c01c28\" strikethrough=\"true\">red</span>"
                   "<span foreground=\"#26a269\" weight=\"bold\">blue</span> fox"
                   "<span foreground=\"#c01c28\" strikethrough=\"true\">, </span>  snow"
                   "<span foreground=\"#26a269\" weight=\"bold\"> &amp; </span>"
                   "<span foreground=\"#26a269\" weight=\"bold\">ice</span>");
  g_autofree char *from_nothing = sf_history_diff_markup ("", "油絵 <b>");
  g_assert_cmpstr (from_nothing, ==,
                   "<span foreground=\"#26a269\" weight=\"bold\">油絵</span>"
                   "<span foreground=\"#26a269\" weight=\"bold\"> &lt;</span>"
                   "<span foreground=\"#26a269\" weight=\"bold\">b</span>"
                   "<span foreground=\"#26a269\" weight=\"bold\">&gt;</span>");
}

/* A view's copy of the model, kept only from items-changed: after each
 * write it must hold the same items, with fresh records. */
static void
on_mirror_changed (GListModel *model, guint position, guint removed, guint added, GPtrArray *mirror)
{
  g_ptr_array_remove_range (mirror, position, removed);
  for (guint i = 0; i < added; i++)
    g_ptr_array_insert (mirror, (int) (position + i), g_list_model_get_item (model, position + i));
}

static void
assert_mirror_matches (SfHistory *history, GListModel *model, GPtrArray *mirror)
{
  g_assert_cmpuint (mirror->len, ==, g_list_model_get_n_items (model));
  for (guint i = 0; i < mirror->len; i++)
    {
      const SfGenerationRecord *seen = sf_history_item_get_record (mirror->pdata[i]);
      g_autoptr (SfHistoryItem) item = g_list_model_get_item (model, i);
      g_assert_cmpint (seen->id, ==, sf_history_item_get_record (item)->id);
      g_autoptr (SfGenerationRecord) stored = sf_history_get (history, seen->id, NULL);
      g_assert_nonnull (stored);
      g_assert_cmpint (seen->favourite, ==, stored->favourite);
    }
}

static void
test_model_announces_every_change (void)
{
  g_autofree char *dir = sf_history_test_dir ();
  g_autoptr (GError) error = NULL;
  g_autoptr (SfHistory) history = sf_history_open (dir, &error);
  g_autoptr (GPtrArray) records = g_ptr_array_new_with_free_func ((GDestroyNotify) sf_generation_record_free);
  for (int i = 0; i < 300; i++)
    g_ptr_array_add (records, sf_history_test_record (i));
  g_assert_true (sf_history_insert_batch (history, records, NULL, &error));
  g_autoptr (SfHistoryModel) model = sf_history_model_new (history);
  g_autoptr (GPtrArray) mirror = g_ptr_array_new_with_free_func (g_object_unref);
  on_mirror_changed (G_LIST_MODEL (model), 0, 0, g_list_model_get_n_items (G_LIST_MODEL (model)), mirror);
  g_signal_connect (model, "items-changed", G_CALLBACK (on_mirror_changed), mirror);
  g_assert_cmpuint (mirror->len, ==, 300);

  /* Writes anywhere: new rows at the top, favourites and deletions in
   * cached and uncached pages. Newest first, so id 300 is at 0. */
  gint64 favourites[] = { 300, 250, 100, 1 };
  for (gsize i = 0; i < G_N_ELEMENTS (favourites); i++)
    {
      g_assert_true (sf_history_set_favourite (history, favourites[i], TRUE, &error));
      sf_history_model_reload (model);
      assert_mirror_matches (history, G_LIST_MODEL (model), mirror);
    }
  gint64 deletions[] = { 299, 150, 2, 300 };
  for (gsize i = 0; i < G_N_ELEMENTS (deletions); i++)
    {
      g_assert_true (sf_history_delete (history, deletions[i], &error));
      sf_history_model_reload (model);
      assert_mirror_matches (history, G_LIST_MODEL (model), mirror);
    }
  g_autoptr (SfGenerationRecord) newest = sf_history_test_record (1000);
  g_assert_cmpint (sf_history_insert (history, newest, NULL, NULL, NULL, &error), >, 0);
  sf_history_model_reload (model);
  assert_mirror_matches (history, G_LIST_MODEL (model), mirror);
  g_assert_cmpuint (mirror->len, ==, 297);
  /* The store's own notifications arrive too, and change nothing more. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  assert_mirror_matches (history, G_LIST_MODEL (model), mirror);
  g_assert_cmpuint (sf_history_model_get_pages_loaded (model), >, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* Criticals fail the test; warnings do not, since GTK warns under Xvfb
   * that there is no session bus. */
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  gtk_init ();
  g_test_add_func ("/history-diff/marks-inserted-and-removed-words", test_diff_marks_inserted_and_removed_words);
  g_test_add_func ("/history-model/announces-every-change", test_model_announces_every_change);
  g_test_add_func ("/ui-history/browser-shows-recalls-and-edits-generations",
                   test_browser_shows_recalls_and_edits_generations);
  return g_test_run ();
}
