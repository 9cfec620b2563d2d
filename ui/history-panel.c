#include "history-panel.h"

#include <glib/gi18n.h>

#include "history-diff.h"

struct _SfHistoryPanel {
  GtkWidget parent_instance;
  SfHistory *history;
  SfHistoryModel *model;
  GtkSingleSelection *selection;
  GtkWidget *paned;
  GtkWidget *search_entry;
  GtkWidget *favourites_chip;
  GtkWidget *mode_chips[4];
  GtkWidget *model_dropdown;
  GtkWidget *date_dropdown;
  GtkWidget *oldest_first_chip;
  GtkWidget *count_label;
  GtkWidget *grid;
  /* The detail view. */
  GtkWidget *picture;
  GtkWidget *title_label;
  GtkWidget *parameters_label;
  GtkWidget *favourite_button;
  GtkWidget *lineage;
  SfGenerationRecord *shown;
  GStrv models;              /* the model dropdown's names after "All models" */
  gboolean updating_chips;
};

G_DEFINE_FINAL_TYPE (SfHistoryPanel, sf_history_panel, GTK_TYPE_WIDGET)

enum { SIGNAL_RECALL, SIGNAL_RERUN, SIGNAL_OPEN_AS_LAYER, SIGNAL_REVEAL, N_SIGNALS };
static guint signals[N_SIGNALS];

static const char *const MODE_LABELS[] = { N_("Text"), N_("Image"), N_("Inpaint"), N_("Outpaint") };
static const char *const DATE_LABELS[] = { N_("Any time"), N_("Today"), N_("Last 7 days"),
                                           N_("Last 30 days"), NULL };

static void show_record (SfHistoryPanel *self, SfGenerationRecord *record);

/* ---- filters ------------------------------------------------------- */

static void
apply_filter (SfHistoryPanel *self)
{
  SfHistoryFilter filter;
  sf_history_filter_init (&filter);
  filter.search = gtk_editable_get_text (GTK_EDITABLE (self->search_entry));
  filter.favourites_only = gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (self->favourites_chip));
  for (int i = 0; i < 4; i++)
    if (gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (self->mode_chips[i])))
      filter.mode = i;
  guint model = gtk_drop_down_get_selected (GTK_DROP_DOWN (self->model_dropdown));
  if (model != GTK_INVALID_LIST_POSITION && model > 0 && self->models
      && model - 1 < g_strv_length (self->models))
    filter.model_name = self->models[model - 1];
  static const int days[] = { 0, 1, 7, 30 };
  guint date = gtk_drop_down_get_selected (GTK_DROP_DOWN (self->date_dropdown));
  if (date != GTK_INVALID_LIST_POSITION && date > 0 && date < G_N_ELEMENTS (days))
    {
      g_autoptr (GDateTime) now = g_date_time_new_now_local ();
      g_autoptr (GDateTime) midnight = g_date_time_new_local (
        g_date_time_get_year (now), g_date_time_get_month (now), g_date_time_get_day_of_month (now), 0, 0, 0);
      g_autoptr (GDateTime) since = g_date_time_add_days (midnight, 1 - days[date]);
      filter.after_us = g_date_time_to_unix (since) * G_USEC_PER_SEC;
    }
  if (gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (self->oldest_first_chip)))
    filter.sort = SF_HISTORY_OLDEST_FIRST;
  sf_history_model_set_filter (self->model, &filter);
}

static void
on_filter_changed (SfHistoryPanel *self)
{
  if (!self->updating_chips)
    apply_filter (self);
}

static void
on_mode_chip_toggled (GtkToggleButton *chip, SfHistoryPanel *self)
{
  if (self->updating_chips)
    return;
  /* At most one mode at a time; none means every mode. */
  self->updating_chips = TRUE;
  if (gtk_toggle_button_get_active (chip))
    for (int i = 0; i < 4; i++)
      if (self->mode_chips[i] != GTK_WIDGET (chip))
        gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (self->mode_chips[i]), FALSE);
  self->updating_chips = FALSE;
  apply_filter (self);
}

static void
refresh_models (SfHistoryPanel *self)
{
  g_auto (GStrv) models = sf_history_list_models (self->history, NULL);
  if (models && self->models && g_strv_equal ((const char *const *) models, (const char *const *) self->models))
    return;
  guint selected = gtk_drop_down_get_selected (GTK_DROP_DOWN (self->model_dropdown));
  g_autofree char *current = selected > 0 && self->models && selected - 1 < g_strv_length (self->models)
                               ? g_strdup (self->models[selected - 1]) : NULL;
  g_strfreev (self->models);
  self->models = g_steal_pointer (&models);
  GtkStringList *names = gtk_string_list_new ((const char *[]) { _("All models"), NULL });
  guint keep = 0;
  for (guint i = 0; self->models && self->models[i]; i++)
    {
      gtk_string_list_append (names, self->models[i]);
      if (current && g_strcmp0 (current, self->models[i]) == 0)
        keep = i + 1;
    }
  self->updating_chips = TRUE;
  gtk_drop_down_set_model (GTK_DROP_DOWN (self->model_dropdown), G_LIST_MODEL (names));
  gtk_drop_down_set_selected (GTK_DROP_DOWN (self->model_dropdown), keep);
  self->updating_chips = FALSE;
  g_object_unref (names);
}

static void
on_items_changed (GListModel *model, guint position, guint removed, guint added, SfHistoryPanel *self)
{
  guint count = g_list_model_get_n_items (model);
  g_autofree char *text = g_strdup_printf (ngettext ("%u generation", "%u generations", count), count);
  gtk_label_set_text (GTK_LABEL (self->count_label), text);
  refresh_models (self);
  /* The shown generation may have changed (favourite) or gone (deleted). */
  if (self->shown)
    {
      SfGenerationRecord *fresh = sf_history_get (self->history, self->shown->id, NULL);
      show_record (self, fresh);
    }
}

/* ---- the grid ------------------------------------------------------ */

/* The prompt as the cell's tooltip, asked for only when the pointer
 * rests there: setting tooltips while binding costs X round trips. */
static gboolean
on_cell_query_tooltip (GtkWidget *cell, int x, int y, gboolean keyboard, GtkTooltip *tooltip,
                       GtkListItem *list_item)
{
  SfHistoryItem *item = gtk_list_item_get_item (list_item);
  if (!item)
    return FALSE;
  gtk_tooltip_set_text (tooltip, sf_history_item_get_record (item)->prompt);
  return TRUE;
}

static void
on_setup_cell (GtkSignalListItemFactory *factory, GtkListItem *list_item, gpointer user_data)
{
  GtkWidget *overlay = gtk_overlay_new ();
  GtkWidget *picture = gtk_picture_new ();
  gtk_picture_set_can_shrink (GTK_PICTURE (picture), TRUE);
  gtk_widget_set_size_request (picture, SF_HISTORY_THUMBNAIL_SIZE, SF_HISTORY_THUMBNAIL_SIZE);
  gtk_overlay_set_child (GTK_OVERLAY (overlay), picture);
  GtkWidget *star = gtk_label_new ("★");
  gtk_widget_set_halign (star, GTK_ALIGN_END);
  gtk_widget_set_valign (star, GTK_ALIGN_START);
  gtk_widget_add_css_class (star, "accent");
  gtk_overlay_add_overlay (GTK_OVERLAY (overlay), star);
  gtk_widget_set_has_tooltip (overlay, TRUE);
  g_signal_connect (overlay, "query-tooltip", G_CALLBACK (on_cell_query_tooltip), list_item);
  gtk_list_item_set_child (list_item, overlay);
}

static void
on_thumbnail_ready (SfHistoryItem *item, GParamSpec *pspec, GtkPicture *picture)
{
  gtk_picture_set_paintable (picture, GDK_PAINTABLE (sf_history_item_get_thumbnail (item)));
}

static void
on_bind_cell (GtkSignalListItemFactory *factory, GtkListItem *list_item, gpointer user_data)
{
  GtkWidget *overlay = gtk_list_item_get_child (list_item);
  GtkWidget *picture = gtk_overlay_get_child (GTK_OVERLAY (overlay));
  GtkWidget *star = gtk_widget_get_next_sibling (picture);
  SfHistoryItem *item = gtk_list_item_get_item (list_item);
  const SfGenerationRecord *record = sf_history_item_get_record (item);
  sf_history_item_set_shown (item, TRUE);
  g_signal_connect_object (item, "notify::thumbnail", G_CALLBACK (on_thumbnail_ready), picture, 0);
  gtk_picture_set_paintable (GTK_PICTURE (picture), GDK_PAINTABLE (sf_history_item_get_thumbnail (item)));
  gtk_widget_set_visible (star, record->favourite);
  if (record->status != SF_GENERATION_DONE)
    gtk_widget_add_css_class (overlay, "dim-label");
  else
    gtk_widget_remove_css_class (overlay, "dim-label");
}

static void
on_unbind_cell (GtkSignalListItemFactory *factory, GtkListItem *list_item, gpointer user_data)
{
  GtkWidget *overlay = gtk_list_item_get_child (list_item);
  GtkWidget *picture = gtk_overlay_get_child (GTK_OVERLAY (overlay));
  SfHistoryItem *item = gtk_list_item_get_item (list_item);
  if (item)
    {
      sf_history_item_set_shown (item, FALSE);
      g_signal_handlers_disconnect_by_func (item, on_thumbnail_ready, picture);
    }
  gtk_picture_set_paintable (GTK_PICTURE (picture), NULL);
}

static void
on_selection_changed (GtkSelectionModel *selection, guint position, guint count, SfHistoryPanel *self)
{
  SfHistoryItem *item = gtk_single_selection_get_selected_item (self->selection);
  if (item)
    show_record (self, sf_generation_record_copy (sf_history_item_get_record (item)));
}

/* ---- the detail view ------------------------------------------------ */

static void
add_parameter (GString *text, const char *name, const char *value)
{
  g_autofree char *escaped = g_markup_escape_text (value ? value : "–", -1);
  g_string_append_printf (text, "<b>%s</b>  %s\n", name, escaped);
}

static char *
parameters_markup (const SfGenerationRecord *r)
{
  GString *text = g_string_new (NULL);
  g_autofree char *time = sf_generation_format_time (r->created_us);
  g_autofree char *seed = g_strdup_printf ("%" G_GUINT64_FORMAT, r->seed);
  g_autofree char *sampling = g_strdup_printf ("%s, %s, %d steps, CFG %g", r->sampler, r->scheduler,
                                               r->steps, r->cfg_scale);
  g_autofree char *size = g_strdup_printf ("%d × %d at %d, %d", r->width_px, r->height_px, r->frame_x, r->frame_y);
  g_autofree char *strength = g_strdup_printf ("%g", r->strength);
  g_autofree char *model = g_strdup_printf ("%s [%s]", r->model_name ? r->model_name : "–",
                                            r->model_hash ? r->model_hash : "–");
  g_autofree char *refiner = r->refiner_name ? g_strdup_printf ("%s from %g", r->refiner_name, r->refiner_switch) : NULL;
  g_autofree char *run = g_strdup_printf ("%s, %s, %.1f s", r->precision ? r->precision : "–",
                                          r->device ? r->device : "–", (double) r->duration_us / G_USEC_PER_SEC);
  g_autofree char *status = r->status_message
                              ? g_strdup_printf ("%s: %s", sf_generation_status_to_string (r->status), r->status_message)
                              : g_strdup (sf_generation_status_to_string (r->status));
  add_parameter (text, _("Prompt"), r->prompt);
  add_parameter (text, _("Negative"), r->negative_prompt);
  add_parameter (text, _("Mode"), sf_generation_mode_to_string (r->mode));
  add_parameter (text, _("Seed"), seed);
  add_parameter (text, _("Sampling"), sampling);
  add_parameter (text, _("Size"), size);
  if (r->mode != SF_GENERATION_TXT2IMG)
    add_parameter (text, _("Strength"), strength);
  add_parameter (text, _("Model"), model);
  if (refiner)
    add_parameter (text, _("Refiner"), refiner);
  add_parameter (text, _("Run"), run);
  add_parameter (text, _("Status"), status);
  add_parameter (text, _("Made"), time);
  if (r->document_path)
    add_parameter (text, _("Document"), r->document_path);
  if (text->len)
    g_string_truncate (text, text->len - 1);
  return g_string_free (text, FALSE);
}

static void
clear_list_box (GtkListBox *box)
{
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (box))))
    gtk_list_box_remove (box, child);
}

/* The tree @record belongs to, each entry's prompt diffed against its
 * parent's, indented by depth; the shown one in bold. */
static void
fill_lineage (SfHistoryPanel *self, const SfGenerationRecord *record)
{
  clear_list_box (GTK_LIST_BOX (self->lineage));
  g_autoptr (GPtrArray) tree = sf_history_get_lineage (self->history, record->id, NULL);
  if (!tree || tree->len < 2)
    {
      gtk_widget_set_visible (self->lineage, FALSE);
      return;
    }
  gtk_widget_set_visible (self->lineage, TRUE);
  g_autoptr (GHashTable) by_id = g_hash_table_new (g_int64_hash, g_int64_equal);
  g_autoptr (GHashTable) depth = g_hash_table_new (g_int64_hash, g_int64_equal);
  for (guint i = 0; i < tree->len; i++)
    {
      SfGenerationRecord *entry = tree->pdata[i];
      g_hash_table_insert (by_id, &entry->id, entry);
      SfGenerationRecord *parent = g_hash_table_lookup (by_id, &entry->parent_id);
      guint level = parent ? GPOINTER_TO_UINT (g_hash_table_lookup (depth, &parent->id)) + 1 : 0;
      g_hash_table_insert (depth, &entry->id, GUINT_TO_POINTER (level));
      g_autofree char *diff = sf_history_diff_markup (parent ? parent->prompt : entry->prompt, entry->prompt);
      g_autofree char *markup = entry->id == record->id
                                  ? g_strdup_printf ("<b>#%" G_GINT64_FORMAT "</b>  %s", entry->id, diff)
                                  : g_strdup_printf ("#%" G_GINT64_FORMAT "  %s", entry->id, diff);
      GtkWidget *label = gtk_label_new (NULL);
      gtk_label_set_markup (GTK_LABEL (label), markup);
      gtk_label_set_wrap (GTK_LABEL (label), TRUE);
      gtk_label_set_xalign (GTK_LABEL (label), 0);
      gtk_widget_set_margin_start (label, 6 + 16 * (int) MIN (level, 12));
      gtk_list_box_append (GTK_LIST_BOX (self->lineage), label);
      g_object_set_data_full (G_OBJECT (gtk_widget_get_parent (label)), "generation-id",
                              g_memdup2 (&entry->id, sizeof entry->id), g_free);
    }
}

static void
update_actions (SfHistoryPanel *self)
{
  static const char *const actions[] = { "history.recall", "history.rerun", "history.open-as-layer",
                                         "history.reveal", "history.copy-parameters",
                                         "history.favourite", "history.delete" };
  for (gsize i = 0; i < G_N_ELEMENTS (actions); i++)
    {
      gboolean enabled = self->shown != NULL;
      if (enabled && (i == 2 || i == 3))
        enabled = self->shown->image_path != NULL;
      gtk_widget_action_set_enabled (GTK_WIDGET (self), actions[i], enabled);
    }
}

/* Takes @record (may be NULL: nothing shown). */
static void
show_record (SfHistoryPanel *self, SfGenerationRecord *record)
{
  sf_generation_record_free (self->shown);
  self->shown = record;
  update_actions (self);
  if (!record)
    {
      gtk_picture_set_paintable (GTK_PICTURE (self->picture), NULL);
      gtk_label_set_text (GTK_LABEL (self->title_label), _("Nothing selected"));
      gtk_label_set_text (GTK_LABEL (self->parameters_label), "");
      clear_list_box (GTK_LIST_BOX (self->lineage));
      gtk_widget_set_visible (self->lineage, FALSE);
      return;
    }
  g_autofree char *path = sf_history_get_file (self->history, record->image_path);
  gtk_picture_set_filename (GTK_PICTURE (self->picture), path);
  g_autofree char *number = g_strdup_printf ("%" G_GINT64_FORMAT, record->id);
  g_autofree char *title = g_strdup_printf (_("Generation %s"), number);
  gtk_label_set_text (GTK_LABEL (self->title_label), title);
  g_autofree char *markup = parameters_markup (record);
  gtk_label_set_markup (GTK_LABEL (self->parameters_label), markup);
  gtk_button_set_label (GTK_BUTTON (self->favourite_button), record->favourite ? "★" : "☆");
  fill_lineage (self, record);
}

static void
on_lineage_activated (GtkListBox *box, GtkListBoxRow *row, SfHistoryPanel *self)
{
  gint64 *id = g_object_get_data (G_OBJECT (row), "generation-id");
  if (id)
    gtk_widget_activate_action (GTK_WIDGET (self), "history.show", "x", *id);
}

/* ---- actions ------------------------------------------------------- */

static void
on_write_done (gint64 id, const GError *error, gpointer user_data)
{
  if (error)
    g_warning ("history: %s", error->message);
}

static void
action_activated (GtkWidget *widget, const char *name, GVariant *parameter)
{
  SfHistoryPanel *self = SF_HISTORY_PANEL (widget);
  if (g_str_equal (name, "history.show"))
    {
      gint64 id = g_variant_get_int64 (parameter);
      int position = sf_history_model_find (self->model, id);
      if (position >= 0)
        sf_history_panel_select (self, (guint) position);
      else
        show_record (self, sf_history_get (self->history, id, NULL));
      return;
    }
  const SfGenerationRecord *record = self->shown;
  if (!record)
    return;
  g_autofree char *path = sf_history_get_file (self->history, record->image_path);
  if (g_str_equal (name, "history.recall"))
    g_signal_emit (self, signals[SIGNAL_RECALL], 0, record);
  else if (g_str_equal (name, "history.rerun"))
    g_signal_emit (self, signals[SIGNAL_RERUN], 0, record);
  else if (g_str_equal (name, "history.open-as-layer"))
    g_signal_emit (self, signals[SIGNAL_OPEN_AS_LAYER], 0, record, path);
  else if (g_str_equal (name, "history.reveal"))
    {
      if (g_signal_has_handler_pending (self, signals[SIGNAL_REVEAL], 0, FALSE))
        g_signal_emit (self, signals[SIGNAL_REVEAL], 0, record, path);
      else
        {
          g_autofree char *folder = g_path_get_dirname (path);
          g_autofree char *uri = g_filename_to_uri (folder, NULL, NULL);
          G_GNUC_BEGIN_IGNORE_DEPRECATIONS
          gtk_show_uri (GTK_WINDOW (gtk_widget_get_root (widget)), uri, GDK_CURRENT_TIME);
          G_GNUC_END_IGNORE_DEPRECATIONS
        }
    }
  else if (g_str_equal (name, "history.copy-parameters"))
    {
      g_autofree char *parameters = sf_generation_record_format_parameters (record);
      gdk_clipboard_set_text (gtk_widget_get_clipboard (widget), parameters);
    }
  else if (g_str_equal (name, "history.favourite"))
    sf_history_set_favourite_async (self->history, record->id, !record->favourite, on_write_done, NULL);
  else if (g_str_equal (name, "history.delete"))
    sf_history_delete_async (self->history, record->id, on_write_done, NULL);
}

/* ---- building ------------------------------------------------------ */

static GtkWidget *
action_button (const char *label, const char *action, const char *tooltip)
{
  GtkWidget *button = gtk_button_new_with_label (label);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), action);
  gtk_widget_set_tooltip_text (button, tooltip);
  return button;
}

static GtkWidget *
build_browser (SfHistoryPanel *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  gtk_widget_set_margin_start (box, 6);
  gtk_widget_set_margin_top (box, 6);
  self->search_entry = gtk_search_entry_new ();
  g_object_set (self->search_entry, "placeholder-text", _("Search prompts"), NULL);
  g_signal_connect_swapped (self->search_entry, "search-changed", G_CALLBACK (on_filter_changed), self);
  gtk_box_append (GTK_BOX (box), self->search_entry);

  GtkWidget *chips = gtk_flow_box_new ();
  gtk_flow_box_set_selection_mode (GTK_FLOW_BOX (chips), GTK_SELECTION_NONE);
  gtk_flow_box_set_max_children_per_line (GTK_FLOW_BOX (chips), 12);
  self->favourites_chip = gtk_toggle_button_new_with_label ("★");
  gtk_widget_set_tooltip_text (self->favourites_chip, _("Favourites only"));
  g_signal_connect_swapped (self->favourites_chip, "toggled", G_CALLBACK (on_filter_changed), self);
  gtk_flow_box_append (GTK_FLOW_BOX (chips), self->favourites_chip);
  for (int i = 0; i < 4; i++)
    {
      self->mode_chips[i] = gtk_toggle_button_new_with_label (_(MODE_LABELS[i]));
      g_signal_connect (self->mode_chips[i], "toggled", G_CALLBACK (on_mode_chip_toggled), self);
      gtk_flow_box_append (GTK_FLOW_BOX (chips), self->mode_chips[i]);
    }
  self->model_dropdown = gtk_drop_down_new_from_strings ((const char *[]) { _("All models"), NULL });
  g_signal_connect_swapped (self->model_dropdown, "notify::selected", G_CALLBACK (on_filter_changed), self);
  gtk_flow_box_append (GTK_FLOW_BOX (chips), self->model_dropdown);
  const char *dates[G_N_ELEMENTS (DATE_LABELS)];
  for (gsize i = 0; i < G_N_ELEMENTS (DATE_LABELS); i++)
    dates[i] = DATE_LABELS[i] ? _(DATE_LABELS[i]) : NULL;
  self->date_dropdown = gtk_drop_down_new_from_strings (dates);
  g_signal_connect_swapped (self->date_dropdown, "notify::selected", G_CALLBACK (on_filter_changed), self);
  gtk_flow_box_append (GTK_FLOW_BOX (chips), self->date_dropdown);
  self->oldest_first_chip = gtk_toggle_button_new_with_label (_("Oldest first"));
  g_signal_connect_swapped (self->oldest_first_chip, "toggled", G_CALLBACK (on_filter_changed), self);
  gtk_flow_box_append (GTK_FLOW_BOX (chips), self->oldest_first_chip);
  gtk_box_append (GTK_BOX (box), chips);

  self->count_label = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (self->count_label), 0);
  gtk_widget_add_css_class (self->count_label, "dim-label");
  gtk_box_append (GTK_BOX (box), self->count_label);

  GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (on_setup_cell), NULL);
  g_signal_connect (factory, "bind", G_CALLBACK (on_bind_cell), NULL);
  g_signal_connect (factory, "unbind", G_CALLBACK (on_unbind_cell), NULL);
  self->selection = gtk_single_selection_new (G_LIST_MODEL (g_object_ref (self->model)));
  gtk_single_selection_set_autoselect (self->selection, FALSE);
  gtk_single_selection_set_can_unselect (self->selection, TRUE);
  g_signal_connect (self->selection, "selection-changed", G_CALLBACK (on_selection_changed), self);
  self->grid = gtk_grid_view_new (GTK_SELECTION_MODEL (g_object_ref (self->selection)), factory);
  gtk_grid_view_set_max_columns (GTK_GRID_VIEW (self->grid), 16);
  GtkWidget *scrolled = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), self->grid);
  gtk_widget_set_vexpand (scrolled, TRUE);
  gtk_box_append (GTK_BOX (box), scrolled);
  return box;
}

static GtkWidget *
build_detail (SfHistoryPanel *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  gtk_widget_set_margin_start (box, 6);
  gtk_widget_set_margin_end (box, 6);
  gtk_widget_set_margin_top (box, 6);
  self->picture = gtk_picture_new ();
  gtk_picture_set_can_shrink (GTK_PICTURE (self->picture), TRUE);
  gtk_widget_set_size_request (self->picture, 256, 256);
  gtk_box_append (GTK_BOX (box), self->picture);
  self->title_label = gtk_label_new (NULL);
  gtk_widget_add_css_class (self->title_label, "title-3");
  gtk_label_set_xalign (GTK_LABEL (self->title_label), 0);
  gtk_box_append (GTK_BOX (box), self->title_label);

  GtkWidget *buttons = gtk_flow_box_new ();
  gtk_flow_box_set_selection_mode (GTK_FLOW_BOX (buttons), GTK_SELECTION_NONE);
  gtk_flow_box_append (GTK_FLOW_BOX (buttons), action_button (_("Recall"), "history.recall",
                                                              _("Put these parameters back in the panel")));
  gtk_flow_box_append (GTK_FLOW_BOX (buttons), action_button (_("Re-run"), "history.rerun", _("Generate it again")));
  gtk_flow_box_append (GTK_FLOW_BOX (buttons), action_button (_("Open as layer"), "history.open-as-layer",
                                                              _("Add the image to the document as a layer")));
  gtk_flow_box_append (GTK_FLOW_BOX (buttons), action_button (_("Reveal"), "history.reveal", _("Show the file")));
  gtk_flow_box_append (GTK_FLOW_BOX (buttons), action_button (_("Copy parameters"), "history.copy-parameters",
                                                              _("Copy the A1111 parameters text")));
  self->favourite_button = action_button ("☆", "history.favourite", _("Favourite"));
  gtk_flow_box_append (GTK_FLOW_BOX (buttons), self->favourite_button);
  GtkWidget *delete = action_button (_("Delete"), "history.delete", _("Delete the generation and its files"));
  gtk_widget_add_css_class (delete, "destructive-action");
  gtk_flow_box_append (GTK_FLOW_BOX (buttons), delete);
  gtk_box_append (GTK_BOX (box), buttons);

  self->parameters_label = gtk_label_new (NULL);
  gtk_label_set_wrap (GTK_LABEL (self->parameters_label), TRUE);
  gtk_label_set_selectable (GTK_LABEL (self->parameters_label), TRUE);
  gtk_label_set_xalign (GTK_LABEL (self->parameters_label), 0);
  gtk_box_append (GTK_BOX (box), self->parameters_label);

  self->lineage = gtk_list_box_new ();
  gtk_widget_add_css_class (self->lineage, "boxed-list");
  gtk_list_box_set_selection_mode (GTK_LIST_BOX (self->lineage), GTK_SELECTION_NONE);
  gtk_list_box_set_activate_on_single_click (GTK_LIST_BOX (self->lineage), TRUE);
  g_signal_connect (self->lineage, "row-activated", G_CALLBACK (on_lineage_activated), self);
  gtk_box_append (GTK_BOX (box), self->lineage);

  GtkWidget *scrolled = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), box);
  gtk_widget_set_size_request (scrolled, 320, -1);
  return scrolled;
}

static void
sf_history_panel_dispose (GObject *object)
{
  SfHistoryPanel *self = SF_HISTORY_PANEL (object);
  if (self->model)
    g_signal_handlers_disconnect_by_data (self->model, self);
  g_clear_pointer (&self->paned, gtk_widget_unparent);
  g_clear_object (&self->selection);
  g_clear_object (&self->model);
  g_clear_pointer (&self->shown, sf_generation_record_free);
  g_clear_pointer (&self->models, g_strfreev);
  g_clear_pointer (&self->history, sf_history_unref);
  G_OBJECT_CLASS (sf_history_panel_parent_class)->dispose (object);
}

static void
sf_history_panel_class_init (SfHistoryPanelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  object_class->dispose = sf_history_panel_dispose;
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "sf-history-panel");

  signals[SIGNAL_RECALL] = g_signal_new ("recall", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                         NULL, NULL, G_TYPE_NONE, 1, SF_TYPE_GENERATION_RECORD);
  signals[SIGNAL_RERUN] = g_signal_new ("rerun", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                        NULL, NULL, G_TYPE_NONE, 1, SF_TYPE_GENERATION_RECORD);
  signals[SIGNAL_OPEN_AS_LAYER] = g_signal_new ("open-as-layer", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                                0, NULL, NULL, NULL, G_TYPE_NONE, 2,
                                                SF_TYPE_GENERATION_RECORD, G_TYPE_STRING);
  signals[SIGNAL_REVEAL] = g_signal_new ("reveal", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                         NULL, NULL, G_TYPE_NONE, 2, SF_TYPE_GENERATION_RECORD, G_TYPE_STRING);

  static const char *const actions[] = { "history.recall", "history.rerun", "history.open-as-layer",
                                         "history.reveal", "history.copy-parameters", "history.favourite",
                                         "history.delete" };
  for (gsize i = 0; i < G_N_ELEMENTS (actions); i++)
    gtk_widget_class_install_action (widget_class, actions[i], NULL, action_activated);
  gtk_widget_class_install_action (widget_class, "history.show", "x", action_activated);
}

static void
sf_history_panel_init (SfHistoryPanel *self)
{
}

GtkWidget *
sf_history_panel_new (SfHistory *history)
{
  SfHistoryPanel *self = g_object_new (SF_TYPE_HISTORY_PANEL, NULL);
  self->history = sf_history_ref (history);
  self->model = sf_history_model_new (history);
  self->paned = gtk_paned_new (GTK_ORIENTATION_HORIZONTAL);
  gtk_paned_set_start_child (GTK_PANED (self->paned), build_browser (self));
  gtk_paned_set_end_child (GTK_PANED (self->paned), build_detail (self));
  gtk_paned_set_resize_end_child (GTK_PANED (self->paned), FALSE);
  gtk_paned_set_shrink_end_child (GTK_PANED (self->paned), FALSE);
  gtk_widget_set_parent (self->paned, GTK_WIDGET (self));
  g_signal_connect (self->model, "items-changed", G_CALLBACK (on_items_changed), self);
  on_items_changed (G_LIST_MODEL (self->model), 0, 0, 0, self);
  show_record (self, NULL);
  return GTK_WIDGET (self);
}

void
sf_history_panel_set_compact (SfHistoryPanel *panel, gboolean compact)
{
  g_return_if_fail (SF_IS_HISTORY_PANEL (panel));
  GtkWidget *detail = gtk_paned_get_end_child (GTK_PANED (panel->paned));
  gtk_orientable_set_orientation (GTK_ORIENTABLE (panel->paned),
                                  compact ? GTK_ORIENTATION_VERTICAL : GTK_ORIENTATION_HORIZONTAL);
  /* Stacked: the grid takes what the detail (a fixed height that
   * scrolls) leaves; the window needs no more height than side by side. */
  gtk_widget_set_size_request (detail, compact ? -1 : 320, -1);
  gtk_scrolled_window_set_min_content_height (GTK_SCROLLED_WINDOW (detail), compact ? 150 : -1);
  int side = compact ? 96 : 256;
  gtk_widget_set_size_request (panel->picture, side, side);
}

SfHistoryModel *
sf_history_panel_get_model (SfHistoryPanel *self)
{
  return self->model;
}

void
sf_history_panel_select (SfHistoryPanel *self, guint position)
{
  gtk_single_selection_set_selected (self->selection, position);
  /* Selecting the same position again still shows it afresh. */
  SfHistoryItem *item = gtk_single_selection_get_selected_item (self->selection);
  if (item)
    show_record (self, sf_generation_record_copy (sf_history_item_get_record (item)));
}

const SfGenerationRecord *
sf_history_panel_get_shown (SfHistoryPanel *self)
{
  return self->shown;
}

GtkEditable *
sf_history_panel_get_search_entry (SfHistoryPanel *self)
{
  return GTK_EDITABLE (self->search_entry);
}

GtkGridView *
sf_history_panel_get_grid (SfHistoryPanel *self)
{
  return GTK_GRID_VIEW (self->grid);
}

GtkLabel *
sf_history_panel_get_parameters_label (SfHistoryPanel *self)
{
  return GTK_LABEL (self->parameters_label);
}

GtkListBox *
sf_history_panel_get_lineage (SfHistoryPanel *self)
{
  return GTK_LIST_BOX (self->lineage);
}

void
sf_history_panel_set_favourites_only (SfHistoryPanel *self, gboolean favourites_only)
{
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (self->favourites_chip), favourites_only);
}

void
sf_history_panel_set_mode (SfHistoryPanel *self, int mode)
{
  for (int i = 0; i < 4; i++)
    gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (self->mode_chips[i]), i == mode);
  if (mode < 0)
    apply_filter (self);
}
