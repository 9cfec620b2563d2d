/* Shared by window.c and window-actions.c. */
#pragma once

#include "window.h"

G_BEGIN_DECLS

struct _SfWindow {
  GtkApplicationWindow parent_instance;

  GSettings *settings;
  SfDocument *document;
  char *path;
  char *imported_from; /* the PNG or photo a document was made from (path is NULL) */
  guint64 saved_state;
  guint observer;

  char *autosave_id;
  guint64 autosaved_state;
  guint autosave_timer;
  gboolean autosaving;
  guint saving;
  gboolean close_after_save;
  guint toast_timer;

  SfCanvasView *canvas_view;
  SfToolOptions *tool_options;
  SfLayersPanel *layers_panel;
  GtkOverlay *canvas_overlay;
  GtkRevealer *toast_revealer;
  GtkLabel *toast_label;
  GtkLabel *zoom_label;
  GtkLabel *position_label;
  GtkLabel *canvas_label;
  GtkLabel *frame_label;
  GtkWidget *panels_box;
  GtkStack *panels;
};

/* window-actions.c */
void sf_window_add_actions (SfWindow *self);
/* Enables and disables actions for the document's state. */
void sf_window_update_actions (SfWindow *self);

G_END_DECLS
