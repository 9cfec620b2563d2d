/* The main window: toolbox and tool options on the left, the canvas in
 * the middle, and a right-hand sidebar with the layers panel under a
 * stack of pages that other parts of Sfumato add (generation, history)
 * through sf_window_add_sidebar_page().
 *
 * The window owns its document. Every command is a win.* action (see
 * window-actions.c); those taking a path (open-file, save-as-file,
 * export-file) skip the file chooser, for tests and scripts. Saving runs
 * on a worker thread from a snapshot of the document; the document is
 * autosaved every few minutes (GSettings autosave-minutes). */
#pragma once

#include <gtk/gtk.h>

#include "canvas-view.h"
#include "document.h"
#include "layers-panel.h"
#include "tool-options.h"

G_BEGIN_DECLS

#define SF_TYPE_WINDOW (sf_window_get_type ())
G_DECLARE_FINAL_TYPE (SfWindow, sf_window, SF, WINDOW, GtkApplicationWindow)

/* @settings (nullable): the org.sfumato.Sfumato settings. */
SfWindow *sf_window_new (GtkApplication *application, GSettings *settings);

/* The document shown. Returns: (transfer none). */
SfDocument *sf_window_get_document (SfWindow *self);
/* Shows @document (transfer full) instead, from @path (nullable: never
 * saved). Listeners of "document-changed" hear of it. */
void sf_window_set_document (SfWindow *self, SfDocument *document, const char *path);
/* The file the document was opened from or last saved as (nullable). */
const char *sf_window_get_path (SfWindow *self);
/* Whether the document has changed since it was opened or saved. */
gboolean sf_window_is_modified (SfWindow *self);
/* Whether a save or export is still running on its worker thread. */
gboolean sf_window_is_saving (SfWindow *self);

SfCanvasView *sf_window_get_canvas_view (SfWindow *self);
SfToolOptions *sf_window_get_tool_options (SfWindow *self);
SfLayersPanel *sf_window_get_layers_panel (SfWindow *self);
GSettings *sf_window_get_settings (SfWindow *self);

/* Adds a page (@name is its id, @title its label) to the sidebar's
 * stack, above the layers panel. */
void sf_window_add_sidebar_page (SfWindow *self, GtkWidget *page, const char *name,
                                 const char *title);
/* Shows @message over the canvas for a few seconds. */
void sf_window_show_message (SfWindow *self, const char *message);
/* The message shown now, or NULL when none is (tests). */
const char *sf_window_get_message (SfWindow *self);

/* Opens @path in this window (or a new one when this document has
 * unsaved changes). */
gboolean sf_window_open_path (SfWindow *self, const char *path, GError **error);
/* Starts saving as .ora to @path (NULL: the document's path). */
void sf_window_save (SfWindow *self, const char *path);
/* Starts exporting the flattened canvas as PNG. */
void sf_window_export (SfWindow *self, const char *path);
/* Saves an autosave now (when there are unsaved changes). */
void sf_window_autosave (SfWindow *self);

/* Opens the autosave at @ora_path in this window as a modified document
 * that saves to @document_path (nullable). */
gboolean sf_window_recover (SfWindow *self, const char *ora_path, const char *document_path,
                            GError **error);

/* Registers the UI's GResource (templates, icons, style.css); call it
 * before the application starts so GtkApplication finds the icons. */
void sf_ui_register_resource (void);

/* The window's accelerators: NULL-terminated pairs of detailed action
 * name and accelerator lists, for gtk_application_set_accels_for_action. */
typedef struct {
  const char *action;
  const char *accels[4];
} SfAccelerator;
const SfAccelerator *sf_window_get_accelerators (void);

G_END_DECLS
