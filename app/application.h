/* The GtkApplication: settings, the engine and the history windows share,
 * accelerators, app actions (quit, about),
 * opening files given on the command line, and crash recovery. */
#pragma once

#include <gtk/gtk.h>

#include "engine.h"
#include "history.h"

G_BEGIN_DECLS

#define SF_APPLICATION_ID "org.sfumato.Sfumato"

#define SF_TYPE_APPLICATION (sf_application_get_type ())
G_DECLARE_FINAL_TYPE (SfApplication, sf_application, SF, APPLICATION, GtkApplication)

SfApplication *sf_application_new (void);

/* The org.sfumato.Sfumato settings (from the installed schema, or the
 * one compiled in the build tree), or NULL when neither is found.
 * Returns: (transfer none) (nullable). */
GSettings *sf_application_get_settings (SfApplication *self);

/* The engine every window's generation shares (made on first use).
 * Returns: (transfer none). */
SfEngine *sf_application_get_engine (SfApplication *self);
/* The generation history in $XDG_DATA_HOME/sfumato (opened on first
 * use). Returns: (transfer none) (nullable): NULL when it cannot be
 * opened. */
SfHistory *sf_application_get_history (SfApplication *self);

/* A new window (not yet shown) for a new document, with generation on
 * the canvas (app/generation.h). */
GtkWindow *sf_application_new_window (SfApplication *self);

/* Offers to recover the documents of sessions that crashed. */
void sf_application_offer_recovery (SfApplication *self, GtkWindow *parent);

G_END_DECLS
