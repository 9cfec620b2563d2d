/* The history browser: a search entry and filter chips over a virtualised
 * thumbnail grid, and a detail view of the selected generation (the
 * image, every parameter, its lineage with prompt differences).
 *
 * Actions (on the widget, for buttons, menus and tests), each on the
 * generation the detail view shows:
 *   history.recall           emits "recall"
 *   history.rerun            emits "rerun"
 *   history.open-as-layer    emits "open-as-layer" with the image's path
 *   history.reveal           emits "reveal" with the image's path; opens
 *                            its folder when nobody handles it
 *   history.copy-parameters  puts the A1111 parameters on the clipboard
 *   history.favourite        toggles the favourite mark in the store
 *   history.delete           deletes it (row and files) from the store
 *   history.show             (int64 id) shows that generation
 * Signal handlers get the SfGenerationRecord (a boxed copy). */
#pragma once

#include <gtk/gtk.h>

#include "history-model.h"

G_BEGIN_DECLS

#define SF_TYPE_HISTORY_PANEL (sf_history_panel_get_type ())
G_DECLARE_FINAL_TYPE (SfHistoryPanel, sf_history_panel, SF, HISTORY_PANEL, GtkWidget)

/* The panel keeps @history open while it needs it. */
GtkWidget *sf_history_panel_new (SfHistory *history);

/* Compact: the grid above the detail instead of beside it, for a narrow
 * sidebar (the default is side by side). */
void sf_history_panel_set_compact (SfHistoryPanel *panel, gboolean compact);

/* The model behind the grid (what the search and chips select).
 * Returns: (transfer none). */
SfHistoryModel *sf_history_panel_get_model (SfHistoryPanel *panel);

/* Selects the grid's item at @position and shows it. */
void sf_history_panel_select (SfHistoryPanel *panel, guint position);

/* The generation the detail view shows, or NULL. Returns: (transfer none). */
const SfGenerationRecord *sf_history_panel_get_shown (SfHistoryPanel *panel);

/* For tests and the window: the search entry, the grid, the detail's
 * parameters label and lineage list. Returns: (transfer none). */
GtkEditable *sf_history_panel_get_search_entry (SfHistoryPanel *panel);
GtkGridView *sf_history_panel_get_grid (SfHistoryPanel *panel);
GtkLabel *sf_history_panel_get_parameters_label (SfHistoryPanel *panel);
GtkListBox *sf_history_panel_get_lineage (SfHistoryPanel *panel);

/* Filter chips, as a person would toggle them. */
void sf_history_panel_set_favourites_only (SfHistoryPanel *panel, gboolean favourites_only);
void sf_history_panel_set_mode (SfHistoryPanel *panel, int mode);

G_END_DECLS
