#include "application.h"

#include <glib/gi18n.h>

#include "autosave.h"
#include "generation.h"
#include "history.h"
#include "window.h"

struct _SfApplication {
  GtkApplication parent_instance;
  GSettings *settings;
  gboolean recovery_offered;
  SfEngine *engine;    /* one worker for every window */
  SfHistory *history;  /* nullable: the store could not be opened */
  gboolean history_tried;
};

G_DEFINE_FINAL_TYPE (SfApplication, sf_application, GTK_TYPE_APPLICATION)

static GSettings *
create_settings (void)
{
  GSettingsSchemaSource *installed = g_settings_schema_source_get_default ();
  g_autoptr (GSettingsSchema) schema = NULL;
  if (installed)
    schema = g_settings_schema_source_lookup (installed, SF_APPLICATION_ID, TRUE);
#ifdef SF_BUILD_SCHEMA_DIR
  if (!schema)
    {
      /* Running from the build tree. */
      g_autoptr (GSettingsSchemaSource) built = g_settings_schema_source_new_from_directory (
          SF_BUILD_SCHEMA_DIR, installed, FALSE, NULL);
      if (built)
        schema = g_settings_schema_source_lookup (built, SF_APPLICATION_ID, TRUE);
    }
#endif
  if (!schema)
    {
      g_warning ("The settings schema %s is not installed; preferences will not be kept",
                 SF_APPLICATION_ID);
      return NULL;
    }
  return g_settings_new_full (schema, NULL, NULL);
}

GSettings *
sf_application_get_settings (SfApplication *self)
{
  return self->settings;
}

SfEngine *
sf_application_get_engine (SfApplication *self)
{
  if (!self->engine)
    self->engine = sf_engine_new ();
  return self->engine;
}

SfHistory *
sf_application_get_history (SfApplication *self)
{
  if (!self->history && !self->history_tried)
    {
      self->history_tried = TRUE;
      g_autoptr (GError) error = NULL;
      self->history = sf_history_open (NULL, &error);
      if (!self->history)
        g_warning ("The generation history could not be opened: %s", error->message);
    }
  return self->history;
}

GtkWindow *
sf_application_new_window (SfApplication *self)
{
  SfWindow *window = sf_window_new (GTK_APPLICATION (self), self->settings);
  sf_generation_attach (window, sf_application_get_engine (self), sf_application_get_history (self));
  return GTK_WINDOW (window);
}

/* Recovery */

static void
on_recovery_response (GtkDialog *dialog, int response, gpointer user_data)
{
  SfApplication *self = SF_APPLICATION (g_object_get_data (G_OBJECT (dialog), "application"));
  GPtrArray *autosaves = g_object_get_data (G_OBJECT (dialog), "autosaves");
  GtkWindow *parent = gtk_window_get_transient_for (GTK_WINDOW (dialog));
  for (guint i = 0; i < autosaves->len; i++)
    {
      SfAutosave *autosave = autosaves->pdata[i];
      if (response == GTK_RESPONSE_ACCEPT)
        {
          /* The empty window that is already open takes the first. */
          SfWindow *window = (i == 0 && SF_IS_WINDOW (parent) && !sf_window_is_modified (SF_WINDOW (parent)))
                                 ? SF_WINDOW (parent)
                                 : SF_WINDOW (sf_application_new_window (self));
          g_autoptr (GError) error = NULL;
          if (!sf_window_recover (window, autosave->ora_path, autosave->document_path, &error))
            {
              g_warning ("Could not recover %s: %s", autosave->ora_path, error->message);
              continue;
            }
          gtk_window_present (GTK_WINDOW (window));
        }
      sf_autosave_discard (autosave->id);
    }
  gtk_window_destroy (GTK_WINDOW (dialog));
}

void
sf_application_offer_recovery (SfApplication *self, GtkWindow *parent)
{
  GPtrArray *autosaves = sf_autosave_list_recoverable ();
  if (autosaves->len == 0)
    {
      g_ptr_array_unref (autosaves);
      return;
    }
  GtkWidget *dialog = gtk_message_dialog_new (
      parent, GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT, GTK_MESSAGE_QUESTION,
      GTK_BUTTONS_NONE,
      g_dngettext (NULL, "Sfumato did not close properly. Recover the unsaved document?",
                   "Sfumato did not close properly. Recover the %u unsaved documents?",
                   autosaves->len),
      autosaves->len);
  g_autoptr (GDateTime) when = g_date_time_new_from_unix_local (
      ((SfAutosave *) autosaves->pdata[0])->saved_unix);
  g_autofree char *time = when ? g_date_time_format (when, "%c") : g_strdup ("?");
  gtk_message_dialog_format_secondary_text (GTK_MESSAGE_DIALOG (dialog),
                                            _("Last saved automatically: %s"), time);
  gtk_dialog_add_buttons (GTK_DIALOG (dialog), _("_Discard"), GTK_RESPONSE_REJECT, _("_Recover"),
                          GTK_RESPONSE_ACCEPT, NULL);
  gtk_dialog_set_default_response (GTK_DIALOG (dialog), GTK_RESPONSE_ACCEPT);
  g_object_set_data (G_OBJECT (dialog), "application", self);
  g_object_set_data_full (G_OBJECT (dialog), "autosaves", autosaves,
                          (GDestroyNotify) g_ptr_array_unref);
  g_signal_connect (dialog, "response", G_CALLBACK (on_recovery_response), NULL);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* Application */

static void
action_quit (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  /* Each window asks about its unsaved changes; the application ends
   * when the last one closes. */
  GList *windows = g_list_copy (gtk_application_get_windows (GTK_APPLICATION (user_data)));
  for (GList *l = windows; l; l = l->next)
    gtk_window_close (l->data);
  g_list_free (windows);
}

static void
action_about (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  const char *authors[] = { "The Sfumato authors", NULL };
  gtk_show_about_dialog (gtk_application_get_active_window (GTK_APPLICATION (user_data)),
                         "program-name", "Sfumato", "version", SF_VERSION, "comments",
                         _("Paint, inpaint and extend pictures with Stable Diffusion XL"),
                         "logo-icon-name", SF_APPLICATION_ID, "license-type", GTK_LICENSE_MIT_X11,
                         "authors", authors, NULL);
}

static const GActionEntry APP_ACTIONS[] = {
  { .name = "quit", .activate = action_quit },
  { .name = "about", .activate = action_about },
};

static void
sf_application_startup (GApplication *application)
{
  SfApplication *self = SF_APPLICATION (application);
  G_APPLICATION_CLASS (sf_application_parent_class)->startup (application);
  self->settings = create_settings ();
  /* GTK 4.8 does not load the application's style.css by itself. */
  g_autoptr (GtkCssProvider) css = gtk_css_provider_new ();
  gtk_css_provider_load_from_resource (css, "/org/sfumato/Sfumato/style.css");
  gtk_style_context_add_provider_for_display (gdk_display_get_default (), GTK_STYLE_PROVIDER (css),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
  g_action_map_add_action_entries (G_ACTION_MAP (self), APP_ACTIONS, G_N_ELEMENTS (APP_ACTIONS),
                                   self);
  const char *quit[] = { "<Control>q", NULL };
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.quit", quit);
  for (const SfAccelerator *accel = sf_window_get_accelerators (); accel->action; accel++)
    gtk_application_set_accels_for_action (GTK_APPLICATION (self), accel->action, accel->accels);
  const char *generate[] = { "<Control>Return", "<Control>KP_Enter", NULL };
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "win.generate", generate);
}

static void
sf_application_shutdown (GApplication *application)
{
  SfApplication *self = SF_APPLICATION (application);
  /* Cancels what still runs and waits for the worker. */
  g_clear_pointer (&self->engine, sf_engine_free);
  g_clear_pointer (&self->history, sf_history_free);
  G_APPLICATION_CLASS (sf_application_parent_class)->shutdown (application);
}

static void
sf_application_activate (GApplication *application)
{
  SfApplication *self = SF_APPLICATION (application);
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (application));
  if (!window)
    window = sf_application_new_window (self);
  gtk_window_present (window);
  if (!self->recovery_offered)
    {
      self->recovery_offered = TRUE;
      sf_application_offer_recovery (self, window);
    }
}

static void
sf_application_open (GApplication *application, GFile **files, int n_files, const char *hint)
{
  SfApplication *self = SF_APPLICATION (application);
  for (int i = 0; i < n_files; i++)
    {
      g_autofree char *path = g_file_get_path (files[i]);
      SfWindow *window = SF_WINDOW (sf_application_new_window (self));
      g_autoptr (GError) error = NULL;
      gtk_window_present (GTK_WINDOW (window));
      if (!path || !sf_window_open_path (window, path, &error))
        sf_window_show_message (window, error ? error->message : _("Only local files can be opened"));
    }
}

static void
sf_application_dispose (GObject *object)
{
  SfApplication *self = SF_APPLICATION (object);
  g_clear_pointer (&self->engine, sf_engine_free);
  g_clear_pointer (&self->history, sf_history_free);
  g_clear_object (&self->settings);
  G_OBJECT_CLASS (sf_application_parent_class)->dispose (object);
}

static void
sf_application_class_init (SfApplicationClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = sf_application_dispose;
  G_APPLICATION_CLASS (klass)->startup = sf_application_startup;
  G_APPLICATION_CLASS (klass)->shutdown = sf_application_shutdown;
  G_APPLICATION_CLASS (klass)->activate = sf_application_activate;
  G_APPLICATION_CLASS (klass)->open = sf_application_open;
}

static void
sf_application_init (SfApplication *self)
{
  /* Before startup, so GtkApplication finds style.css and the icons. */
  sf_ui_register_resource ();
}

SfApplication *
sf_application_new (void)
{
  return g_object_new (SF_TYPE_APPLICATION, "application-id", SF_APPLICATION_ID, "flags",
                       G_APPLICATION_NON_UNIQUE | G_APPLICATION_HANDLES_OPEN, NULL);
}
