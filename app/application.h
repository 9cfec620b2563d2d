/* The GtkApplication: actions, accelerators, windows. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define SF_TYPE_APPLICATION (sf_application_get_type ())
G_DECLARE_FINAL_TYPE (SfApplication, sf_application, SF, APPLICATION, GtkApplication)

SfApplication *sf_application_new (void);

G_END_DECLS
