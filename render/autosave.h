/* Autosave and crash recovery.
 *
 * Autosaves live in $XDG_DATA_HOME/sfumato/autosave/ as ID.ora beside
 * ID.info, a key file naming the process that wrote it, the document's
 * own file (if any) and the time. A clean exit discards them; after a
 * crash they stay behind and sf_autosave_list_recoverable() finds them
 * (those of processes still running are left alone). */
#pragma once

#include "document.h"

G_BEGIN_DECLS

typedef struct {
  char *id;
  char *ora_path;      /* the autosaved document */
  char *document_path; /* nullable: the file it was opened from or saved as */
  gint64 saved_unix;   /* seconds since 1970 */
} SfAutosave;

void sf_autosave_free (SfAutosave *autosave);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SfAutosave, sf_autosave_free)

/* The folder (created when missing). Returns: (transfer full). */
char *sf_autosave_get_dir (void);
/* A fresh id for one window's document. Returns: (transfer full). */
char *sf_autosave_new_id (void);
/* Saves @document (a snapshot may be given, on any thread) as autosave
 * @id, atomically. */
gboolean sf_autosave_write (SfDocument *document, const char *id, const char *document_path,
                            GError **error);
/* Autosaves left by processes that are gone, newest first.
 * Returns: (transfer full) (element-type SfAutosave). */
GPtrArray *sf_autosave_list_recoverable (void);
/* Removes autosave @id's files. */
void sf_autosave_discard (const char *id);

G_END_DECLS
