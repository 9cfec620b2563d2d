#include "application.h"

#include "window.h"

#define SF_APPLICATION_ID "org.sfumato.Sfumato"

struct _SfApplication {
  GtkApplication parent_instance;
};

G_DEFINE_FINAL_TYPE (SfApplication, sf_application, GTK_TYPE_APPLICATION)

static void
sf_application_activate (GApplication *application)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (application));
  if (!window)
    window = GTK_WINDOW (sf_window_new (GTK_APPLICATION (application)));
  gtk_window_present (window);
}

static void
sf_application_class_init (SfApplicationClass *klass)
{
  G_APPLICATION_CLASS (klass)->activate = sf_application_activate;
}

static void
sf_application_init (SfApplication *self)
{
}

SfApplication *
sf_application_new (void)
{
  return g_object_new (SF_TYPE_APPLICATION, "application-id", SF_APPLICATION_ID,
                       "flags", G_APPLICATION_NON_UNIQUE, NULL);
}
