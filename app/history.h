/* The generation history: one SQLite database (WAL mode) beside the output
 * PNGs, in $XDG_DATA_HOME/sfumato/.
 *
 *   history.db                        the rows, thumbnails, full-text index
 *   outputs/YYYY-MM-DD/HHMMSS-SEED.png the image, with A1111 `parameters`
 *   outputs/YYYY-MM-DD/...-mask.png   the mask and init image, when used
 *
 * Writes run in transactions on one worker thread, in the order they were
 * asked for; the _async calls report to a callback on the main context
 * that was the caller's thread-default, the plain calls wait. Reads run on
 * the calling thread over their own connection (WAL lets them proceed
 * while a write is under way). Files are written (to a temporary name,
 * synced, renamed) before the row that names them commits, so a crash at
 * any moment leaves every committed row with its files. */
#pragma once

#include <gio/gio.h>

#include "history-record.h"

G_BEGIN_DECLS

#define SF_HISTORY_ERROR (sf_history_error_quark ())
GQuark sf_history_error_quark (void);

typedef enum {
  SF_HISTORY_ERROR_DATABASE,  /* SQLite failed; the message says where */
  SF_HISTORY_ERROR_TOO_NEW,   /* written by a newer Sfumato */
  SF_HISTORY_ERROR_NOT_FOUND, /* no generation with that id */
  SF_HISTORY_ERROR_INVALID,   /* a record or image that cannot be stored */
  SF_HISTORY_ERROR_IO,        /* writing or reading a file failed */
} SfHistoryError;

/* Longest side of the thumbnails kept in the database. */
#define SF_HISTORY_THUMBNAIL_SIZE 128

typedef struct SfHistory SfHistory;

/* Opens (creating and migrating as needed) the history in @directory, or
 * in $XDG_DATA_HOME/sfumato when NULL. Returns: (transfer full). */
SfHistory *sf_history_open (const char *directory, GError **error);

/* The history is shared (views and their loading threads keep it open);
 * the last unref finishes every pending write, then closes. */
SfHistory *sf_history_ref (SfHistory *history);
void sf_history_unref (SfHistory *history);
/* The same as sf_history_unref, for the owner that opened it. */
void sf_history_free (SfHistory *history);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SfHistory, sf_history_free)

const char *sf_history_get_directory (SfHistory *history);

/* The absolute path of a file a record names (image_path, ...).
 * Returns: (transfer full), NULL when @relative_path is NULL. */
char *sf_history_get_file (SfHistory *history, const char *relative_path);

/* ---- writes ---------------------------------------------------------- */

/* An image to keep: an encoded PNG file, kept byte for byte, or RGBA8
 * pixels that the store encodes (with the record's A1111 parameters). */
typedef struct {
  GBytes *png;
  const guint8 *pixels;
  int width_px, height_px;
  gsize stride;
} SfHistoryImage;

/* @id: the row written (the new one for inserts); @error: NULL on success. */
typedef void (*SfHistoryDoneFunc) (gint64 id, const GError *error, gpointer user_data);

/* Stores @record (its id and paths are ignored) with its image, mask and
 * init image (each may be NULL), and a thumbnail made from the image.
 * Pixels are copied before this returns. The engine's bridge calls this
 * when a job ends, with its final status (a cancelled or failed job with
 * no image); SF_GENERATION_RUNNING rows plus sf_history_update_status are
 * for callers that want a row while the job runs. */
void sf_history_insert_async (SfHistory *history, const SfGenerationRecord *record,
                              const SfHistoryImage *image, const SfHistoryImage *mask,
                              const SfHistoryImage *init, SfHistoryDoneFunc callback,
                              gpointer user_data);
/* The same, waiting. Returns: the new id, 0 on error. */
gint64 sf_history_insert (SfHistory *history, const SfGenerationRecord *record,
                          const SfHistoryImage *image, const SfHistoryImage *mask,
                          const SfHistoryImage *init, GError **error);

/* Many rows in one transaction, without files (imports, benchmarks):
 * @thumbnails holds a GBytes PNG or NULL per record. Sets each record's
 * id. */
gboolean sf_history_insert_batch (SfHistory *history, GPtrArray *records, GPtrArray *thumbnails,
                                  GError **error);

/* A running generation ends (done, cancelled, failed with @message). */
void sf_history_update_status_async (SfHistory *history, gint64 id, SfGenerationStatus status,
                                     const char *message, gint64 duration_us,
                                     SfHistoryDoneFunc callback, gpointer user_data);
gboolean sf_history_update_status (SfHistory *history, gint64 id, SfGenerationStatus status,
                                   const char *message, gint64 duration_us, GError **error);

void sf_history_set_favourite_async (SfHistory *history, gint64 id, gboolean favourite,
                                     SfHistoryDoneFunc callback, gpointer user_data);
gboolean sf_history_set_favourite (SfHistory *history, gint64 id, gboolean favourite,
                                   GError **error);

/* Removes the row, its thumbnail and its files. Generations refined from
 * it lose their parent. */
void sf_history_delete_async (SfHistory *history, gint64 id, SfHistoryDoneFunc callback,
                              gpointer user_data);
gboolean sf_history_delete (SfHistory *history, gint64 id, GError **error);

/* Deletes every generation made before @before_us that is not a
 * favourite (G_MAXINT64: all of them). The callback's id is the count. */
void sf_history_prune_async (SfHistory *history, gint64 before_us, SfHistoryDoneFunc callback,
                             gpointer user_data);
gboolean sf_history_prune (SfHistory *history, gint64 before_us, guint *deleted, GError **error);

/* Called (on the thread-default main context of the caller of
 * sf_history_add_watch) after each committed write. */
typedef void (*SfHistoryChangedFunc) (gpointer user_data);
guint sf_history_add_watch (SfHistory *history, SfHistoryChangedFunc func, gpointer user_data);
void sf_history_remove_watch (SfHistory *history, guint watch_id);

/* ---- reads ----------------------------------------------------------- */

typedef enum {
  SF_HISTORY_NEWEST_FIRST,
  SF_HISTORY_OLDEST_FIRST,
} SfHistorySort;

typedef struct {
  /* Words (matched as prefixes) and "quoted phrases", as a person types
   * them, searched in the prompt and the negative prompt; NULL or blank
   * for everything. */
  const char *search;
  const char *model_name;  /* exact; NULL for any */
  int mode;                /* an SfGenerationMode, or -1 for any */
  gint64 after_us;         /* created at or after; 0 for no bound */
  gint64 before_us;        /* created before; 0 for no bound */
  gboolean favourites_only;
  SfHistorySort sort;
} SfHistoryFilter;

/* Everything, newest first. */
void sf_history_filter_init (SfHistoryFilter *filter);

/* The FTS5 query for @search (each word a quoted prefix, each phrase
 * quoted), or NULL when it has nothing to search for.
 * Returns: (transfer full). */
char *sf_history_search_to_fts (const char *search);

/* Ids of the matching generations, in order. Returns: (transfer full): a
 * GArray of gint64, NULL on error. */
GArray *sf_history_query_ids (SfHistory *history, const SfHistoryFilter *filter, GError **error);

/* The matching records @offset.. @offset + @limit - 1.
 * Returns: (transfer full) (element-type SfGenerationRecord). */
GPtrArray *sf_history_query (SfHistory *history, const SfHistoryFilter *filter, guint offset,
                             guint limit, GError **error);

/* Returns: (transfer full), NULL with SF_HISTORY_ERROR_NOT_FOUND. */
SfGenerationRecord *sf_history_get (SfHistory *history, gint64 id, GError **error);

/* The records for @ids, in that order, NULL where one no longer exists.
 * Returns: (transfer full). */
GPtrArray *sf_history_get_many (SfHistory *history, const gint64 *ids, guint count,
                                GError **error);

/* The thumbnail PNG. Returns: (transfer full), NULL when there is none
 * (no error) or on error. */
GBytes *sf_history_get_thumbnail (SfHistory *history, gint64 id, GError **error);

/* @id's record, then its parent, and so on to the first generation.
 * Returns: (transfer full). */
GPtrArray *sf_history_get_parent_chain (SfHistory *history, gint64 id, GError **error);

/* The generations refined from @id, oldest first. Returns: (transfer full). */
GPtrArray *sf_history_get_children (SfHistory *history, gint64 id, GError **error);

/* The whole tree @id belongs to: its first ancestor, then every
 * descendant, parents before children, siblings oldest first.
 * Returns: (transfer full). */
GPtrArray *sf_history_get_lineage (SfHistory *history, gint64 id, GError **error);

/* The model names in use, most used first. Returns: (transfer full). */
GStrv sf_history_list_models (SfHistory *history, GError **error);

G_END_DECLS
