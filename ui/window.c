#include <glib/gi18n.h>
#include <math.h>

#include "autosave.h"
#include "document-io.h"
#include "window-private.h"

G_DEFINE_FINAL_TYPE (SfWindow, sf_window, GTK_TYPE_APPLICATION_WINDOW)

enum {
  PROP_0,
  PROP_SETTINGS,
  N_PROPS
};

enum {
  SIGNAL_DOCUMENT_CHANGED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

/* Title and status bar */

static char *
document_name (SfWindow *self)
{
  if (self->path)
    return g_path_get_basename (self->path);
  if (self->imported_from)
    return g_path_get_basename (self->imported_from);
  return g_strdup (_("Untitled"));
}

static void
update_title (SfWindow *self)
{
  g_autofree char *name = document_name (self);
  g_autofree char *title = g_strdup_printf ("%s%s — Sfumato", sf_window_is_modified (self) ? "*" : "",
                                            name);
  gtk_window_set_title (GTK_WINDOW (self), title);
}

static void
update_status (SfWindow *self)
{
  if (!self->document)
    return;
  g_autofree char *zoom = g_strdup_printf (_("Zoom %.0f%%"),
                                           sf_canvas_view_get_zoom (self->canvas_view) * 100);
  gtk_label_set_label (self->zoom_label, zoom);
  SfRect canvas = sf_document_get_canvas (self->document);
  g_autofree char *size = g_strdup_printf (_("Canvas %d × %d"), canvas.width, canvas.height);
  gtk_label_set_label (self->canvas_label, size);
  SfRect frame = sf_document_get_frame (self->document);
  g_autofree char *text = g_strdup_printf (_("Frame %d × %d at %d, %d"), frame.width,
                                           frame.height, frame.x, frame.y);
  gtk_label_set_label (self->frame_label, text);
}

static void
on_pointer_moved (SfCanvasView *view, double x, double y, SfWindow *self)
{
  g_autofree char *text = g_strdup_printf ("%d, %d", (int) floor (x), (int) floor (y));
  gtk_label_set_label (self->position_label, text);
}

static gboolean
hide_toast (gpointer user_data)
{
  SfWindow *self = user_data;
  self->toast_timer = 0;
  gtk_revealer_set_reveal_child (self->toast_revealer, FALSE);
  return G_SOURCE_REMOVE;
}

void
sf_window_show_message (SfWindow *self, const char *message)
{
  gtk_label_set_label (self->toast_label, message);
  gtk_revealer_set_reveal_child (self->toast_revealer, TRUE);
  g_clear_handle_id (&self->toast_timer, g_source_remove);
  self->toast_timer = g_timeout_add_seconds (4, hide_toast, self);
}

const char *
sf_window_get_message (SfWindow *self)
{
  if (!gtk_revealer_get_reveal_child (self->toast_revealer))
    return NULL;
  return gtk_label_get_label (self->toast_label);
}

static void
on_document_changed (SfDocument *document, const SfDocumentEvent *event, gpointer user_data)
{
  SfWindow *self = user_data;
  if (event->change & SF_DOCUMENT_CHANGED_HISTORY)
    update_title (self);
  if (event->change & (SF_DOCUMENT_CHANGED_CANVAS | SF_DOCUMENT_CHANGED_FRAME))
    update_status (self);
  if (event->change & (SF_DOCUMENT_CHANGED_HISTORY | SF_DOCUMENT_CHANGED_LAYERS
                       | SF_DOCUMENT_CHANGED_ACTIVE | SF_DOCUMENT_CHANGED_LAYER))
    sf_window_update_actions (self);
}

/* The document */

SfDocument *
sf_window_get_document (SfWindow *self)
{
  return self->document;
}

const char *
sf_window_get_path (SfWindow *self)
{
  return self->path;
}

gboolean
sf_window_is_modified (SfWindow *self)
{
  return self->document && sf_document_get_state (self->document) != self->saved_state;
}

gboolean
sf_window_is_saving (SfWindow *self)
{
  return self->saving > 0 || self->autosaving;
}

void
sf_window_set_document (SfWindow *self, SfDocument *document, const char *path)
{
  g_return_if_fail (document != NULL);
  sf_canvas_view_set_document (self->canvas_view, NULL);
  sf_layers_panel_set_document (self->layers_panel, NULL);
  if (self->document)
    {
      sf_document_remove_observer (self->document, self->observer);
      g_clear_pointer (&self->document, sf_document_free);
    }
  if (self->autosave_id)
    sf_autosave_discard (self->autosave_id);
  g_free (self->autosave_id);
  self->autosave_id = sf_autosave_new_id ();

  self->document = document;
  g_free (self->path);
  self->path = g_strdup (path);
  g_clear_pointer (&self->imported_from, g_free);
  self->saved_state = self->autosaved_state = sf_document_get_state (document);
  if (self->settings)
    sf_document_set_undo_limit (document,
                                (gsize) g_settings_get_uint (self->settings, "undo-memory-mb")
                                    << 20);
  self->observer = sf_document_add_observer (document, on_document_changed, self);
  sf_canvas_view_set_document (self->canvas_view, document);
  sf_layers_panel_set_document (self->layers_panel, document);
  update_title (self);
  update_status (self);
  sf_window_update_actions (self);
  g_signal_emit (self, signals[SIGNAL_DOCUMENT_CHANGED], 0);
}

static SfDocument *
open_with_gdk (const char *path, GError **error)
{
  /* JPEG, WebP, TIFF …: whatever GdkPixbuf's loaders read. */
  g_autoptr (GdkTexture) texture = gdk_texture_new_from_filename (path, error);
  if (!texture)
    return NULL;
  int width = gdk_texture_get_width (texture), height = gdk_texture_get_height (texture);
  if (width > SF_CANVAS_MAX_SIZE || height > SF_CANVAS_MAX_SIZE)
    {
      g_set_error (error, SF_IO_ERROR, SF_IO_ERROR_TOO_LARGE,
                   _("“%s” is %d × %d pixels; Sfumato opens images up to %d × %d"), path, width,
                   height, SF_CANVAS_MAX_SIZE, SF_CANVAS_MAX_SIZE);
      return NULL;
    }
  g_autofree guint8 *argb = g_malloc ((gsize) width * height * 4);
  gdk_texture_download (texture, argb, (gsize) width * 4);
  SfDocument *document = sf_document_new (width, height);
  sf_document_remove_layer (document, sf_document_get_layer (document, 0));
  g_autofree char *name = g_path_get_basename (path);
  sf_document_add_layer_from_argb (document, 0, argb, width, height, width * 4, 0, 0, name, NULL,
                                   NULL);
  sf_document_clear_history (document);
  return document;
}

gboolean
sf_window_open_path (SfWindow *self, const char *path, GError **error)
{
  g_autoptr (GError) local = NULL;
  SfDocument *document = sf_document_open (path, &local);
  gboolean native = document != NULL;
  if (!document && g_error_matches (local, SF_IO_ERROR, SF_IO_ERROR_UNSUPPORTED))
    {
      g_clear_error (&local);
      document = open_with_gdk (path, &local);
    }
  if (!document)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  SfWindow *target = self;
  if (sf_window_is_modified (self))
    {
      target = sf_window_new (gtk_window_get_application (GTK_WINDOW (self)), self->settings);
      gtk_window_present (GTK_WINDOW (target));
    }
  /* Only Sfumato's own formats are saved back in place. */
  gboolean ora = native && !g_str_has_suffix (path, ".png") && !g_str_has_suffix (path, ".PNG");
  sf_window_set_document (target, document, ora ? path : NULL);
  if (!ora)
    {
      target->imported_from = g_strdup (path);
      update_title (target);
    }
  if (self->settings)
    {
      g_autofree char *folder = g_path_get_dirname (path);
      g_settings_set_string (self->settings, "last-folder", folder);
    }
  return TRUE;
}

gboolean
sf_window_recover (SfWindow *self, const char *ora_path, const char *document_path,
                   GError **error)
{
  SfDocument *document = sf_document_load_ora (ora_path, error);
  if (!document)
    return FALSE;
  sf_window_set_document (self, document, document_path);
  /* Nothing on disk holds it yet. */
  self->saved_state = G_MAXUINT64;
  update_title (self);
  return TRUE;
}

/* Saving on a worker thread */

typedef struct {
  SfDocument *snapshot;
  char *path;
  guint64 state;
  gboolean export;
  gboolean autosave;
  char *autosave_id;
  char *document_path;
} SaveJob;

static void
save_job_free (gpointer data)
{
  SaveJob *job = data;
  sf_document_free (job->snapshot);
  g_free (job->path);
  g_free (job->autosave_id);
  g_free (job->document_path);
  g_free (job);
}

static void
save_in_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  SaveJob *job = data;
  GError *error = NULL;
  gboolean ok;
  if (job->autosave)
    ok = sf_autosave_write (job->snapshot, job->autosave_id, job->document_path, &error);
  else if (job->export)
    ok = sf_document_export_png (job->snapshot, job->path, NULL, &error);
  else
    ok = sf_document_save_ora (job->snapshot, job->path, &error);
  if (ok)
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
on_saved (GObject *source, GAsyncResult *result, gpointer user_data)
{
  SfWindow *self = SF_WINDOW (source);
  SaveJob *job = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;
  gboolean ok = g_task_propagate_boolean (G_TASK (result), &error);
  if (job->autosave)
    {
      self->autosaving = FALSE;
      if (ok)
        self->autosaved_state = job->state;
      else
        g_warning ("Autosave failed: %s", error->message);
      return;
    }
  self->saving--;
  if (!ok)
    {
      self->close_after_save = FALSE;
      sf_window_show_message (self, error->message);
      return;
    }
  g_autofree char *name = g_path_get_basename (job->path);
  g_autofree char *message = g_strdup_printf (job->export ? _("Exported “%s”") : _("Saved “%s”"),
                                              name);
  sf_window_show_message (self, message);
  if (!job->export)
    {
      g_free (self->path);
      self->path = g_strdup (job->path);
      g_clear_pointer (&self->imported_from, g_free);
      self->saved_state = job->state;
      update_title (self);
      sf_autosave_discard (self->autosave_id);
    }
  if (self->close_after_save && self->saving == 0)
    gtk_window_destroy (GTK_WINDOW (self));
}

static void
start_save (SfWindow *self, const char *path, gboolean export)
{
  SaveJob *job = g_new0 (SaveJob, 1);
  job->snapshot = sf_document_snapshot (self->document);
  job->path = g_strdup (path);
  job->state = sf_document_get_state (self->document);
  job->export = export;
  self->saving++;
  g_autoptr (GTask) task = g_task_new (self, NULL, on_saved, NULL);
  g_task_set_task_data (task, job, save_job_free);
  g_task_run_in_thread (task, save_in_thread);
}

void
sf_window_save (SfWindow *self, const char *path)
{
  path = path ? path : self->path;
  g_return_if_fail (path != NULL);
  g_autofree char *with_extension = g_str_has_suffix (path, ".ora") ? g_strdup (path)
                                                                     : g_strconcat (path, ".ora", NULL);
  start_save (self, with_extension, FALSE);
}

void
sf_window_export (SfWindow *self, const char *path)
{
  start_save (self, path, TRUE);
}

void
sf_window_autosave (SfWindow *self)
{
  if (!self->document || self->autosaving)
    return;
  guint64 state = sf_document_get_state (self->document);
  if (state == self->autosaved_state)
    return;
  if (state == self->saved_state)
    {
      /* Saved since: nothing to recover. */
      sf_autosave_discard (self->autosave_id);
      self->autosaved_state = state;
      return;
    }
  SaveJob *job = g_new0 (SaveJob, 1);
  job->snapshot = sf_document_snapshot (self->document);
  job->state = state;
  job->autosave = TRUE;
  job->autosave_id = g_strdup (self->autosave_id);
  job->document_path = g_strdup (self->path);
  self->autosaving = TRUE;
  g_autoptr (GTask) task = g_task_new (self, NULL, on_saved, NULL);
  g_task_set_task_data (task, job, save_job_free);
  g_task_run_in_thread (task, save_in_thread);
}

static gboolean
on_autosave_timer (gpointer user_data)
{
  sf_window_autosave (user_data);
  return G_SOURCE_CONTINUE;
}

static void
restart_autosave_timer (SfWindow *self)
{
  g_clear_handle_id (&self->autosave_timer, g_source_remove);
  guint minutes = self->settings ? g_settings_get_uint (self->settings, "autosave-minutes") : 2;
  if (minutes > 0)
    self->autosave_timer = g_timeout_add_seconds (minutes * 60, on_autosave_timer, self);
}

/* Closing */

static void
on_close_response (GtkDialog *dialog, int response, SfWindow *self)
{
  gtk_window_destroy (GTK_WINDOW (dialog));
  if (response == GTK_RESPONSE_REJECT)
    {
      self->saved_state = sf_document_get_state (self->document);
      gtk_window_destroy (GTK_WINDOW (self));
    }
  else if (response == GTK_RESPONSE_ACCEPT)
    {
      self->close_after_save = TRUE;
      if (self->path)
        sf_window_save (self, NULL);
      else
        gtk_widget_activate_action (GTK_WIDGET (self), "win.save-as", NULL);
    }
}

static gboolean
sf_window_close_request (GtkWindow *window)
{
  SfWindow *self = SF_WINDOW (window);
  if (self->settings)
    {
      int width, height;
      gtk_window_get_default_size (window, &width, &height);
      g_settings_set_int (self->settings, "window-width", width);
      g_settings_set_int (self->settings, "window-height", height);
      g_settings_set_boolean (self->settings, "window-maximized", gtk_window_is_maximized (window));
    }
  if (self->saving > 0)
    {
      self->close_after_save = TRUE;
      return TRUE;
    }
  if (!sf_window_is_modified (self))
    return GTK_WINDOW_CLASS (sf_window_parent_class)->close_request (window);
  g_autofree char *name = document_name (self);
  GtkWidget *dialog = gtk_message_dialog_new (window, GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                                              GTK_MESSAGE_QUESTION, GTK_BUTTONS_NONE,
                                              _("Save the changes to “%s” before closing?"), name);
  gtk_message_dialog_format_secondary_text (GTK_MESSAGE_DIALOG (dialog),
                                            _("Without saving, the changes are lost."));
  gtk_dialog_add_buttons (GTK_DIALOG (dialog), _("Close _without Saving"), GTK_RESPONSE_REJECT,
                          _("_Cancel"), GTK_RESPONSE_CANCEL, _("_Save"), GTK_RESPONSE_ACCEPT, NULL);
  gtk_dialog_set_default_response (GTK_DIALOG (dialog), GTK_RESPONSE_ACCEPT);
  g_signal_connect (dialog, "response", G_CALLBACK (on_close_response), self);
  gtk_window_present (GTK_WINDOW (dialog));
  return TRUE;
}

/* The sidebar */

void
sf_window_add_sidebar_page (SfWindow *self, GtkWidget *page, const char *name, const char *title)
{
  gtk_stack_add_titled (self->panels, page, name, title);
  gtk_widget_set_visible (self->panels_box, TRUE);
  /* The pages (prompts, sampling, the history grid) want the height; the
   * layers panel keeps what it asks for. */
  GtkWidget *sidebar = gtk_widget_get_parent (self->panels_box);
  if (GTK_IS_PANED (sidebar))
    gtk_paned_set_resize_end_child (GTK_PANED (sidebar), FALSE);
}

SfCanvasView *
sf_window_get_canvas_view (SfWindow *self)
{
  return self->canvas_view;
}

SfToolOptions *
sf_window_get_tool_options (SfWindow *self)
{
  return self->tool_options;
}

SfLayersPanel *
sf_window_get_layers_panel (SfWindow *self)
{
  return self->layers_panel;
}

GSettings *
sf_window_get_settings (SfWindow *self)
{
  return self->settings;
}

/* Life */

static void
on_color_picked (SfCanvasView *view, const GdkRGBA *color, SfWindow *self)
{
  sf_tool_options_set_color (self->tool_options, color);
}

static void
on_view_changed (SfCanvasView *view, SfWindow *self)
{
  update_status (self);
}

static void
apply_mask_color (SfWindow *self)
{
  GdkRGBA color = { 1.0, 0.125, 0.376, 1 };
  g_autofree char *text = g_settings_get_string (self->settings, "mask-color");
  gdk_rgba_parse (&color, text);
  color.alpha = (float) g_settings_get_double (self->settings, "mask-opacity");
  sf_canvas_view_set_mask_color (self->canvas_view, &color);
}

static void
sf_window_constructed (GObject *object)
{
  SfWindow *self = SF_WINDOW (object);
  G_OBJECT_CLASS (sf_window_parent_class)->constructed (object);
  if (self->settings)
    {
      gtk_window_set_default_size (GTK_WINDOW (self),
                                   g_settings_get_int (self->settings, "window-width"),
                                   g_settings_get_int (self->settings, "window-height"));
      if (g_settings_get_boolean (self->settings, "window-maximized"))
        gtk_window_maximize (GTK_WINDOW (self));
      sf_tool_options_bind_settings (self->tool_options, self->settings);
      apply_mask_color (self);
      g_signal_connect_object (self->settings, "changed::mask-color",
                               G_CALLBACK (apply_mask_color), self, G_CONNECT_SWAPPED);
      g_signal_connect_object (self->settings, "changed::mask-opacity",
                               G_CALLBACK (apply_mask_color), self, G_CONNECT_SWAPPED);
      g_signal_connect_object (self->settings, "changed::autosave-minutes",
                               G_CALLBACK (restart_autosave_timer), self, G_CONNECT_SWAPPED);
    }
  int width = self->settings ? g_settings_get_int (self->settings, "new-width") : 1024;
  int height = self->settings ? g_settings_get_int (self->settings, "new-height") : 1024;
  sf_window_set_document (self, sf_document_new (width, height), NULL);
  restart_autosave_timer (self);
}

static void
sf_window_dispose (GObject *object)
{
  SfWindow *self = SF_WINDOW (object);
  g_clear_handle_id (&self->autosave_timer, g_source_remove);
  g_clear_handle_id (&self->toast_timer, g_source_remove);
  if (self->canvas_view)
    sf_canvas_view_set_document (self->canvas_view, NULL);
  if (self->layers_panel)
    sf_layers_panel_set_document (self->layers_panel, NULL);
  if (self->document)
    {
      sf_document_remove_observer (self->document, self->observer);
      g_clear_pointer (&self->document, sf_document_free);
      /* Closed on purpose (saved, or the changes declined): nothing to
       * recover. A crash never gets here. */
      if (self->autosave_id)
        sf_autosave_discard (self->autosave_id);
    }
  gtk_widget_dispose_template (GTK_WIDGET (self), SF_TYPE_WINDOW);
  self->canvas_view = NULL;
  self->layers_panel = NULL;
  self->tool_options = NULL;
  g_clear_object (&self->settings);
  G_OBJECT_CLASS (sf_window_parent_class)->dispose (object);
}

static void
sf_window_finalize (GObject *object)
{
  SfWindow *self = SF_WINDOW (object);
  g_free (self->path);
  g_free (self->imported_from);
  g_free (self->autosave_id);
  G_OBJECT_CLASS (sf_window_parent_class)->finalize (object);
}

static void
sf_window_set_property (GObject *object, guint id, const GValue *value, GParamSpec *pspec)
{
  SfWindow *self = SF_WINDOW (object);
  switch (id)
    {
    case PROP_SETTINGS:
      self->settings = g_value_dup_object (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
sf_window_get_property (GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
  SfWindow *self = SF_WINDOW (object);
  switch (id)
    {
    case PROP_SETTINGS:
      g_value_set_object (value, self->settings);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
sf_window_class_init (SfWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  object_class->constructed = sf_window_constructed;
  object_class->dispose = sf_window_dispose;
  object_class->finalize = sf_window_finalize;
  object_class->set_property = sf_window_set_property;
  object_class->get_property = sf_window_get_property;
  GTK_WINDOW_CLASS (klass)->close_request = sf_window_close_request;

  properties[PROP_SETTINGS] = g_param_spec_object ("settings", NULL, NULL, G_TYPE_SETTINGS,
                                                   G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY
                                                       | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
  /* A different document is shown (new, opened, recovered). */
  signals[SIGNAL_DOCUMENT_CHANGED] = g_signal_new ("document-changed", G_TYPE_FROM_CLASS (klass),
                                                   G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                                   G_TYPE_NONE, 0);

  sf_ui_register_resource ();
  g_type_ensure (SF_TYPE_TOOL_OPTIONS);
  g_type_ensure (SF_TYPE_LAYERS_PANEL);
  gtk_widget_class_set_template_from_resource (widget_class, "/org/sfumato/Sfumato/window.ui");
  gtk_widget_class_bind_template_child (widget_class, SfWindow, tool_options);
  gtk_widget_class_bind_template_child (widget_class, SfWindow, layers_panel);
  gtk_widget_class_bind_template_child (widget_class, SfWindow, canvas_overlay);
  gtk_widget_class_bind_template_child (widget_class, SfWindow, toast_revealer);
  gtk_widget_class_bind_template_child (widget_class, SfWindow, toast_label);
  gtk_widget_class_bind_template_child (widget_class, SfWindow, zoom_label);
  gtk_widget_class_bind_template_child (widget_class, SfWindow, position_label);
  gtk_widget_class_bind_template_child (widget_class, SfWindow, canvas_label);
  gtk_widget_class_bind_template_child (widget_class, SfWindow, frame_label);
  gtk_widget_class_bind_template_child (widget_class, SfWindow, panels_box);
  gtk_widget_class_bind_template_child (widget_class, SfWindow, panels);
}

static void
sf_window_init (SfWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->canvas_view = sf_canvas_view_new (self->tool_options);
  gtk_overlay_set_child (self->canvas_overlay, GTK_WIDGET (self->canvas_view));
  g_signal_connect (self->canvas_view, "color-picked", G_CALLBACK (on_color_picked), self);
  g_signal_connect (self->canvas_view, "view-changed", G_CALLBACK (on_view_changed), self);
  g_signal_connect (self->canvas_view, "pointer-moved", G_CALLBACK (on_pointer_moved), self);
  sf_window_add_actions (self);
}

SfWindow *
sf_window_new (GtkApplication *application, GSettings *settings)
{
  return g_object_new (SF_TYPE_WINDOW, "application", application, "settings", settings, NULL);
}
