/* What the UI tests share: saving a widget as GTK draws it. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* Renders @widget (mapped, in a window) with its window's renderer and
 * writes it to @path as PNG; fails the test when it cannot. */
void sf_ui_test_save_png (GtkWidget *widget, const char *path);

G_END_DECLS
