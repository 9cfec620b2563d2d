/* Shared between the history's modules; not for callers. */
#pragma once

#include <sqlite3.h>

#include "history.h"

G_BEGIN_DECLS

struct SfHistory {
  gint ref_count;
  char *directory;
  char *database_path;
  /* Reads: one connection, used by one thread at a time. */
  sqlite3 *read_db;
  GMutex read_lock;
  /* Writes: the worker thread owns write_db. */
  sqlite3 *write_db;
  GThread *worker;
  GAsyncQueue *jobs;
  GMutex watch_lock;
  GPtrArray *watches;
  guint next_watch_id;
};

/* The columns of a record, in the order sf_history_record_from_row reads
 * them, for a query over "generations g". */
#define SF_HISTORY_RECORD_SELECT                                                            \
  "SELECT g.id, g.created_us, g.mode, g.prompt, g.negative_prompt, g.prompt_weights,"       \
  " g.negative_weights, g.seed, g.sampler, g.scheduler, g.steps, g.cfg_scale, g.strength,"  \
  " g.width, g.height, g.frame_x, g.frame_y, g.model_name, g.model_hash, g.refiner_name,"  \
  " g.refiner_hash, g.refiner_switch, g.precision, g.duration_us, g.device, g.status,"     \
  " g.status_message, g.parent_id, g.document_id, g.document_path, g.favourite,"           \
  " g.image_path, g.mask_path, g.init_path FROM generations g"

SfGenerationRecord *sf_history_record_from_row (sqlite3_stmt *statement);

/* Sets @error from @db's last error, naming @what was being done. */
void sf_history_set_database_error (GError **error, sqlite3 *db, const char *what);

/* Opens a connection with the history's settings (WAL, foreign keys, a
 * busy timeout; synchronous=FULL for the writer). */
sqlite3 *sf_history_open_connection (const char *path, gboolean writer, GError **error);

/* The worker thread (history-writer.c). */
void sf_history_writer_start (SfHistory *history);
void sf_history_writer_stop (SfHistory *history);

/* Runs @func on @context's thread (an idle source: never here and now,
 * even when @context is free, unlike g_main_context_invoke). */
void sf_history_dispatch (GMainContext *context, GSourceFunc func, gpointer data, GDestroyNotify notify);

/* Runs every watch's function on its main context. */
void sf_history_notify_watches (SfHistory *history);

G_END_DECLS
