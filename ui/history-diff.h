/* Word-level differences between two prompts, for the lineage view. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Pango markup of @new_text in which the words @old_text lacked are
 * highlighted (<b> and green) and the words it had that are gone are shown
 * struck out (red) where they were. Words are runs of letters and digits;
 * the separators between them are compared as words too, so "fox, snow"
 * and "fox snow" differ by the comma. Returns: (transfer full). */
char *sf_history_diff_markup (const char *old_text, const char *new_text);

G_END_DECLS
