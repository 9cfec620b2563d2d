/* The GtkApplication: settings, accelerators, app actions (quit, about),
 * opening files given on the command line, and crash recovery. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define SF_APPLICATION_ID "org.sfumato.Sfumato"

#define SF_TYPE_APPLICATION (sf_application_get_type ())
G_DECLARE_FINAL_TYPE (SfApplication, sf_application, SF, APPLICATION, GtkApplication)

SfApplication *sf_application_new (void);

/* The org.sfumato.Sfumato settings (from the installed schema, or the
 * one compiled in the build tree), or NULL when neither is found.
 * Returns: (transfer none) (nullable). */
GSettings *sf_application_get_settings (SfApplication *self);

/* A new window (not yet shown) for a new document. */
GtkWindow *sf_application_new_window (SfApplication *self);

/* Offers to recover the documents of sessions that crashed. */
void sf_application_offer_recovery (SfApplication *self, GtkWindow *parent);

G_END_DECLS
