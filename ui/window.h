/* The main window. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define SF_TYPE_WINDOW (sf_window_get_type ())
G_DECLARE_FINAL_TYPE (SfWindow, sf_window, SF, WINDOW, GtkApplicationWindow)

SfWindow *sf_window_new (GtkApplication *application);

G_END_DECLS
