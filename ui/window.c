#include "window.h"

#include <glib/gi18n.h>

struct _SfWindow {
  GtkApplicationWindow parent_instance;
};

G_DEFINE_FINAL_TYPE (SfWindow, sf_window, GTK_TYPE_APPLICATION_WINDOW)

static void
sf_window_class_init (SfWindowClass *klass)
{
}

static void
sf_window_init (SfWindow *self)
{
  gtk_window_set_title (GTK_WINDOW (self), _("Sfumato"));
  gtk_window_set_default_size (GTK_WINDOW (self), 1280, 800);
  GtkWidget *label = gtk_label_new (_("Sfumato"));
  gtk_window_set_child (GTK_WINDOW (self), label);
}

SfWindow *
sf_window_new (GtkApplication *application)
{
  return g_object_new (SF_TYPE_WINDOW, "application", application, NULL);
}
