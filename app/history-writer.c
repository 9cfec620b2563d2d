/* The history's worker thread: every write, in order, each in its own
 * transaction on the write connection. */
#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "history-private.h"
#include "history-schema.h"
#include "png-io.h"

typedef enum {
  JOB_INSERT,
  JOB_INSERT_BATCH,
  JOB_STATUS,
  JOB_FAVOURITE,
  JOB_DELETE,
  JOB_PRUNE,
  JOB_QUIT,
} JobKind;

enum { IMAGE_OUTPUT, IMAGE_MASK, IMAGE_INIT, IMAGE_COUNT };

/* An image, owned by the job (the caller's pixels are copied). */
typedef struct {
  GBytes *png;
  GBytes *pixels;
  int width_px, height_px;
  gsize stride;
} ImageCopy;

typedef struct {
  JobKind kind;
  SfGenerationRecord *record;
  ImageCopy images[IMAGE_COUNT];
  GPtrArray *records;    /* batch, borrowed from a waiting caller */
  GPtrArray *thumbnails;
  gint64 id;
  SfGenerationStatus status;
  char *message;
  gint64 number;         /* duration, favourite flag or time bound */
  /* The outcome. */
  gint64 result;
  GError *error;
  /* Who hears of it: a waiting caller, or a callback on a main context. */
  gboolean waiting;
  gboolean done;
  GMutex lock;
  GCond cond;
  SfHistoryDoneFunc callback;
  gpointer user_data;
  GMainContext *context;
} Job;

static void
job_free (gpointer data)
{
  Job *job = data;
  sf_generation_record_free (job->record);
  for (int i = 0; i < IMAGE_COUNT; i++)
    {
      g_clear_pointer (&job->images[i].png, g_bytes_unref);
      g_clear_pointer (&job->images[i].pixels, g_bytes_unref);
    }
  g_free (job->message);
  g_clear_error (&job->error);
  g_clear_pointer (&job->context, g_main_context_unref);
  g_mutex_clear (&job->lock);
  g_cond_clear (&job->cond);
  g_free (job);
}

static Job *
job_new (JobKind kind, SfHistoryDoneFunc callback, gpointer user_data)
{
  Job *job = g_new0 (Job, 1);
  job->kind = kind;
  job->callback = callback;
  job->user_data = user_data;
  job->context = g_main_context_ref_thread_default ();
  g_mutex_init (&job->lock);
  g_cond_init (&job->cond);
  return job;
}

static gboolean
job_dispatch (gpointer data)
{
  Job *job = data;
  job->callback (job->result, job->error, job->user_data);
  return G_SOURCE_REMOVE;
}

static void
job_complete (Job *job)
{
  if (job->waiting)
    {
      g_mutex_lock (&job->lock);
      job->done = TRUE;
      g_cond_signal (&job->cond);
      g_mutex_unlock (&job->lock);
    }
  else if (job->callback)
    sf_history_dispatch (job->context, job_dispatch, job, job_free);
  else
    job_free (job);
}

/* Queues @job and waits for it; returns its result and error. */
static gint64
job_run (SfHistory *history, Job *job, GError **error)
{
  job->waiting = TRUE;
  g_async_queue_push (history->jobs, job);
  g_mutex_lock (&job->lock);
  while (!job->done)
    g_cond_wait (&job->cond, &job->lock);
  g_mutex_unlock (&job->lock);
  gint64 result = job->result;
  if (job->error)
    g_propagate_error (error, g_steal_pointer (&job->error));
  job_free (job);
  return result;
}

/* ---- files --------------------------------------------------------- */

/* Area-averaged RGB thumbnail, encoded as PNG. */
static GBytes *
make_thumbnail (const guint8 *pixels, int width, int height, gsize stride, GError **error)
{
  int longest = MAX (width, height);
  int tw = width, th = height;
  if (longest > SF_HISTORY_THUMBNAIL_SIZE)
    {
      tw = MAX (1, (int) ((gint64) width * SF_HISTORY_THUMBNAIL_SIZE / longest));
      th = MAX (1, (int) ((gint64) height * SF_HISTORY_THUMBNAIL_SIZE / longest));
    }
  g_autofree guint8 *small = g_malloc ((gsize) tw * th * 4);
  for (int y = 0; y < th; y++)
    {
      int y0 = (int) ((gint64) y * height / th), y1 = (int) ((gint64) (y + 1) * height / th);
      for (int x = 0; x < tw; x++)
        {
          int x0 = (int) ((gint64) x * width / tw), x1 = (int) ((gint64) (x + 1) * width / tw);
          guint64 sum[4] = { 0 };
          for (int sy = y0; sy < MAX (y1, y0 + 1); sy++)
            for (int sx = x0; sx < MAX (x1, x0 + 1); sx++)
              for (int c = 0; c < 4; c++)
                sum[c] += pixels[(gsize) sy * stride + (gsize) sx * 4 + c];
          guint64 n = (guint64) MAX (y1 - y0, 1) * MAX (x1 - x0, 1);
          for (int c = 0; c < 4; c++)
            small[((gsize) y * tw + x) * 4 + c] = (guint8) ((sum[c] + n / 2) / n);
        }
    }
  return sf_png_encode (small, tw, th, tw * 4, SF_PNG_RGB, NULL, 6, error);
}

/* The image's PNG file: given, or encoded with @parameters. */
static GBytes *
image_png (const ImageCopy *image, const char *parameters, GError **error)
{
  if (image->png && g_bytes_get_size (image->png) == 0)
    {
      g_set_error (error, SF_HISTORY_ERROR, SF_HISTORY_ERROR_INVALID,
                   "cannot store an image without pixels (empty PNG or bad size)");
      return NULL;
    }
  if (image->png)
    return g_bytes_ref (image->png);
  const char *text[] = { "parameters", parameters, "Software", "Sfumato " SF_VERSION, NULL };
  return sf_png_encode (g_bytes_get_data (image->pixels, NULL), image->width_px,
                        image->height_px, (int) image->stride, SF_PNG_RGBA,
                        parameters ? text : NULL, 6, error);
}

static GBytes *
image_thumbnail (const ImageCopy *image, GError **error)
{
  if (image->pixels)
    return make_thumbnail (g_bytes_get_data (image->pixels, NULL), image->width_px,
                           image->height_px, image->stride, error);
  g_autoptr (SfImage) decoded = sf_png_load_from_data (g_bytes_get_data (image->png, NULL),
                                                       g_bytes_get_size (image->png), error);
  return decoded ? make_thumbnail (decoded->pixels, decoded->width, decoded->height,
                                   (gsize) decoded->width * 4, error)
                 : NULL;
}

/* outputs/YYYY-MM-DD/HHMMSS-SEED, unused by any file of this history. */
static char *
choose_base_name (SfHistory *history, const SfGenerationRecord *record)
{
  g_autoptr (GDateTime) utc = g_date_time_new_from_unix_utc (record->created_us / G_USEC_PER_SEC);
  g_autoptr (GDateTime) local = utc ? g_date_time_to_local (utc) : g_date_time_new_now_local ();
  g_autofree char *day = g_date_time_format (local, "%Y-%m-%d");
  g_autofree char *time = g_date_time_format (local, "%H%M%S");
  for (int n = 0;; n++)
    {
      g_autofree char *name = n ? g_strdup_printf ("%s-%" G_GUINT64_FORMAT "-%d", time, record->seed, n)
                                : g_strdup_printf ("%s-%" G_GUINT64_FORMAT, time, record->seed);
      char *base = g_build_filename ("outputs", day, name, NULL);
      g_autofree char *png = g_strconcat (history->directory, G_DIR_SEPARATOR_S, base, ".png", NULL);
      if (!g_file_test (png, G_FILE_TEST_EXISTS))
        return base;
      g_free (base);
    }
}

static gboolean
write_file (SfHistory *history, const char *relative, GBytes *data, GError **error)
{
  g_autofree char *path = g_build_filename (history->directory, relative, NULL);
  g_autofree char *folder = g_path_get_dirname (path);
  if (g_mkdir_with_parents (folder, 0700) != 0)
    {
      int saved = errno;
      g_set_error (error, SF_HISTORY_ERROR, SF_HISTORY_ERROR_IO, "cannot create %s: %s", folder,
                   g_strerror (saved));
      return FALSE;
    }
  /* A temporary file, synced, then renamed: the name never points at a
   * partial image, whenever the process dies. */
  gsize size;
  const char *bytes = g_bytes_get_data (data, &size);
  g_autoptr (GError) local_error = NULL;
  if (!g_file_set_contents_full (path, bytes, (gssize) size,
                                 G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE, 0644,
                                 &local_error))
    {
      g_set_error (error, SF_HISTORY_ERROR, SF_HISTORY_ERROR_IO, "cannot write an output: %s",
                   local_error->message);
      return FALSE;
    }
  return TRUE;
}

static void
remove_files (SfHistory *history, char **relative_paths, int count)
{
  for (int i = 0; i < count; i++)
    if (relative_paths[i])
      {
        g_autofree char *path = g_build_filename (history->directory, relative_paths[i], NULL);
        g_unlink (path);
        /* The day's folder goes when its last file does. */
        g_autofree char *folder = g_path_get_dirname (path);
        g_rmdir (folder);
      }
}

/* ---- rows ---------------------------------------------------------- */

static gboolean
begin (sqlite3 *db, GError **error)
{
  return sf_history_exec (db, "BEGIN IMMEDIATE", "starting a write", error);
}

static gboolean
commit (sqlite3 *db, GError **error)
{
  if (sf_history_exec (db, "COMMIT", "committing a write", error))
    return TRUE;
  sqlite3_exec (db, "ROLLBACK", NULL, NULL, NULL);
  return FALSE;
}

static void
rollback (sqlite3 *db)
{
  sqlite3_exec (db, "ROLLBACK", NULL, NULL, NULL);
}

static const char INSERT_SQL[] =
  "INSERT INTO generations (created_us, mode, prompt, negative_prompt, prompt_weights,"
  " negative_weights, seed, sampler, scheduler, steps, cfg_scale, strength, width, height,"
  " frame_x, frame_y, model_name, model_hash, refiner_name, refiner_hash, refiner_switch,"
  " precision, duration_us, device, status, status_message, parent_id, document_id,"
  " document_path, favourite, image_path, mask_path, init_path)"
  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,"
  " ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33)";

static void
bind_text (sqlite3_stmt *statement, int index, const char *text)
{
  if (text)
    sqlite3_bind_text (statement, index, text, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null (statement, index);
}

static void
bind_record (sqlite3_stmt *s, const SfGenerationRecord *r)
{
  sqlite3_bind_int64 (s, 1, r->created_us);
  bind_text (s, 2, sf_generation_mode_to_string (r->mode));
  bind_text (s, 3, r->prompt ? r->prompt : "");
  bind_text (s, 4, r->negative_prompt ? r->negative_prompt : "");
  bind_text (s, 5, r->prompt_weights);
  bind_text (s, 6, r->negative_weights);
  sqlite3_bind_int64 (s, 7, (gint64) r->seed);
  bind_text (s, 8, r->sampler ? r->sampler : "");
  bind_text (s, 9, r->scheduler ? r->scheduler : "");
  sqlite3_bind_int (s, 10, r->steps);
  sqlite3_bind_double (s, 11, r->cfg_scale);
  sqlite3_bind_double (s, 12, r->strength);
  sqlite3_bind_int (s, 13, r->width_px);
  sqlite3_bind_int (s, 14, r->height_px);
  sqlite3_bind_int (s, 15, r->frame_x);
  sqlite3_bind_int (s, 16, r->frame_y);
  bind_text (s, 17, r->model_name);
  bind_text (s, 18, r->model_hash);
  bind_text (s, 19, r->refiner_name);
  bind_text (s, 20, r->refiner_hash);
  if (r->refiner_name && r->refiner_switch >= 0)
    sqlite3_bind_double (s, 21, r->refiner_switch);
  else
    sqlite3_bind_null (s, 21);
  bind_text (s, 22, r->precision);
  sqlite3_bind_int64 (s, 23, r->duration_us);
  bind_text (s, 24, r->device);
  bind_text (s, 25, sf_generation_status_to_string (r->status));
  bind_text (s, 26, r->status_message);
  if (r->parent_id)
    sqlite3_bind_int64 (s, 27, r->parent_id);
  else
    sqlite3_bind_null (s, 27);
  bind_text (s, 28, r->document_id);
  bind_text (s, 29, r->document_path);
  sqlite3_bind_int (s, 30, r->favourite ? 1 : 0);
  bind_text (s, 31, r->image_path);
  bind_text (s, 32, r->mask_path);
  bind_text (s, 33, r->init_path);
}

/* Inserts the row and its thumbnail inside the caller's transaction. */
static gint64
insert_row (sqlite3 *db, const SfGenerationRecord *record, GBytes *thumbnail, GError **error)
{
  sqlite3_stmt *statement = NULL;
  if (sqlite3_prepare_v2 (db, INSERT_SQL, -1, &statement, NULL) != SQLITE_OK)
    {
      sf_history_set_database_error (error, db, "preparing an insert");
      return 0;
    }
  bind_record (statement, record);
  int rc = sqlite3_step (statement);
  sqlite3_finalize (statement);
  if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
    {
      g_set_error (error, SF_HISTORY_ERROR, SF_HISTORY_ERROR_INVALID,
                   "cannot store a generation refined from generation %" G_GINT64_FORMAT
                   ": there is no such generation", record->parent_id);
      return 0;
    }
  if (rc != SQLITE_DONE)
    {
      sf_history_set_database_error (error, db, "inserting a generation");
      return 0;
    }
  gint64 id = sqlite3_last_insert_rowid (db);
  if (thumbnail)
    {
      if (sqlite3_prepare_v2 (db, "INSERT INTO thumbnails (generation_id, png) VALUES (?, ?)", -1,
                              &statement, NULL) != SQLITE_OK)
        {
          sf_history_set_database_error (error, db, "preparing a thumbnail insert");
          return 0;
        }
      sqlite3_bind_int64 (statement, 1, id);
      sqlite3_bind_blob64 (statement, 2, g_bytes_get_data (thumbnail, NULL),
                           g_bytes_get_size (thumbnail), SQLITE_STATIC);
      rc = sqlite3_step (statement);
      sqlite3_finalize (statement);
      if (rc != SQLITE_DONE)
        {
          sf_history_set_database_error (error, db, "inserting a thumbnail");
          return 0;
        }
    }
  return id;
}

static gint64
run_insert (SfHistory *history, Job *job, GError **error)
{
  SfGenerationRecord *record = job->record;
  g_clear_pointer (&record->image_path, g_free);
  g_clear_pointer (&record->mask_path, g_free);
  g_clear_pointer (&record->init_path, g_free);
  g_autofree char *parameters = sf_generation_record_format_parameters (record);
  g_autoptr (GBytes) thumbnail = NULL;
  char **paths[IMAGE_COUNT] = { &record->image_path, &record->mask_path, &record->init_path };
  static const char *const suffixes[IMAGE_COUNT] = { ".png", "-mask.png", "-init.png" };
  g_autofree char *base = NULL;
  for (int i = 0; i < IMAGE_COUNT; i++)
    {
      const ImageCopy *image = &job->images[i];
      if (!image->png && !image->pixels)
        continue;
      if (!base)
        base = choose_base_name (history, record);
      g_autoptr (GBytes) png = image_png (image, i == IMAGE_OUTPUT ? parameters : NULL, error);
      char *relative = g_strconcat (base, suffixes[i], NULL);
      if (!png || !write_file (history, relative, png, error))
        {
          g_free (relative);
          remove_files (history, (char *[]) { record->image_path, record->mask_path }, i);
          return 0;
        }
      *paths[i] = relative;
      if (i == IMAGE_OUTPUT && !(thumbnail = image_thumbnail (image, error)))
        {
          remove_files (history, (char *[]) { record->image_path }, 1);
          return 0;
        }
    }
  gint64 id = 0;
  if (begin (history->write_db, error))
    {
      id = insert_row (history->write_db, record, thumbnail, error);
      if (!id)
        rollback (history->write_db);
      else if (!commit (history->write_db, error))
        id = 0;
    }
  if (!id)
    remove_files (history, (char *[]) { record->image_path, record->mask_path, record->init_path },
                  IMAGE_COUNT);
  return id;
}

static gint64
run_insert_batch (SfHistory *history, Job *job, GError **error)
{
  sqlite3 *db = history->write_db;
  if (!begin (db, error))
    return 0;
  for (guint i = 0; i < job->records->len; i++)
    {
      SfGenerationRecord *record = job->records->pdata[i];
      GBytes *thumbnail = job->thumbnails && i < job->thumbnails->len ? job->thumbnails->pdata[i] : NULL;
      record->id = insert_row (db, record, thumbnail, error);
      if (!record->id)
        {
          rollback (db);
          return 0;
        }
    }
  return commit (db, error) ? (gint64) job->records->len : 0;
}

/* One UPDATE of one row; NOT_FOUND when there is no such row. */
static gint64
run_update (SfHistory *history, Job *job, GError **error)
{
  sqlite3 *db = history->write_db;
  sqlite3_stmt *statement = NULL;
  const char *sql = job->kind == JOB_STATUS
                      ? "UPDATE generations SET status = ?2, status_message = ?3, duration_us = ?4"
                        " WHERE id = ?1"
                      : "UPDATE generations SET favourite = ?4 WHERE id = ?1";
  if (sqlite3_prepare_v2 (db, sql, -1, &statement, NULL) != SQLITE_OK)
    {
      sf_history_set_database_error (error, db, "preparing an update");
      return 0;
    }
  sqlite3_bind_int64 (statement, 1, job->id);
  if (job->kind == JOB_STATUS)
    {
      bind_text (statement, 2, sf_generation_status_to_string (job->status));
      bind_text (statement, 3, job->message);
    }
  sqlite3_bind_int64 (statement, 4, job->number);
  /* A single statement is its own transaction. */
  int rc = sqlite3_step (statement);
  sqlite3_finalize (statement);
  if (rc != SQLITE_DONE)
    {
      sf_history_set_database_error (error, db, "updating a generation");
      return 0;
    }
  if (sqlite3_changes (db) == 0)
    {
      g_set_error (error, SF_HISTORY_ERROR, SF_HISTORY_ERROR_NOT_FOUND,
                   "there is no generation %" G_GINT64_FORMAT " in the history", job->id);
      return 0;
    }
  return job->id;
}

/* Deletes the rows @where selects (bound to ?1) and then their files.
 * Returns how many, or -1 on error. */
static gint64
delete_rows (SfHistory *history, const char *where, gint64 value, GError **error)
{
  sqlite3 *db = history->write_db;
  if (!begin (db, error))
    return -1;
  g_autofree char *select = g_strconcat ("SELECT image_path, mask_path, init_path FROM generations"
                                         " WHERE ", where, NULL);
  g_autofree char *delete = g_strconcat ("DELETE FROM generations WHERE ", where, NULL);
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
  sqlite3_stmt *statement = NULL;
  int rc = sqlite3_prepare_v2 (db, select, -1, &statement, NULL);
  if (rc == SQLITE_OK)
    {
      sqlite3_bind_int64 (statement, 1, value);
      while ((rc = sqlite3_step (statement)) == SQLITE_ROW)
        for (int c = 0; c < 3; c++)
          if (sqlite3_column_type (statement, c) != SQLITE_NULL)
            g_ptr_array_add (files, g_strdup ((const char *) sqlite3_column_text (statement, c)));
      sqlite3_finalize (statement);
    }
  if (rc == SQLITE_DONE && (rc = sqlite3_prepare_v2 (db, delete, -1, &statement, NULL)) == SQLITE_OK)
    {
      sqlite3_bind_int64 (statement, 1, value);
      rc = sqlite3_step (statement);
      sqlite3_finalize (statement);
    }
  if (rc != SQLITE_DONE)
    {
      sf_history_set_database_error (error, db, "deleting generations");
      rollback (db);
      return -1;
    }
  gint64 count = sqlite3_changes (db);
  if (!commit (db, error))
    return -1;
  /* Only once the rows are gone: a crash before this leaves stray files,
   * never a row without its image. */
  remove_files (history, (char **) files->pdata, (int) files->len);
  return count;
}

static gint64
run_delete (SfHistory *history, Job *job, GError **error)
{
  gint64 count = delete_rows (history, "id = ?1", job->id, error);
  if (count == 0)
    g_set_error (error, SF_HISTORY_ERROR, SF_HISTORY_ERROR_NOT_FOUND,
                 "there is no generation %" G_GINT64_FORMAT " in the history", job->id);
  return count > 0 ? job->id : 0;
}

static gpointer
worker_main (gpointer data)
{
  SfHistory *history = data;
  for (;;)
    {
      Job *job = g_async_queue_pop (history->jobs);
      GError *error = NULL;
      gboolean changed = FALSE;
      switch (job->kind)
        {
        case JOB_QUIT:
          job_complete (job);
          return NULL;
        case JOB_INSERT:
          job->result = run_insert (history, job, &error);
          changed = job->result != 0;
          break;
        case JOB_INSERT_BATCH:
          job->result = run_insert_batch (history, job, &error);
          changed = job->result != 0;
          break;
        case JOB_STATUS:
        case JOB_FAVOURITE:
          job->result = run_update (history, job, &error);
          changed = job->result != 0;
          break;
        case JOB_DELETE:
          job->result = run_delete (history, job, &error);
          changed = job->result != 0;
          break;
        case JOB_PRUNE:
          job->result = delete_rows (history, "NOT favourite AND created_us < ?1", job->number, &error);
          changed = job->result > 0;
          break;
        }
      job->error = error;
      job_complete (job);
      if (changed)
        sf_history_notify_watches (history);
    }
}

void
sf_history_writer_start (SfHistory *history)
{
  history->jobs = g_async_queue_new ();
  history->worker = g_thread_new ("sf-history", worker_main, history);
}

void
sf_history_writer_stop (SfHistory *history)
{
  g_async_queue_push (history->jobs, job_new (JOB_QUIT, NULL, NULL));
  g_thread_join (history->worker);
  g_async_queue_unref (history->jobs);
  sqlite3_close (history->write_db);
}

/* ---- the public calls ---------------------------------------------- */

static void
copy_image (ImageCopy *copy, const SfHistoryImage *image)
{
  if (!image)
    return;
  if (image->png)
    copy->png = g_bytes_ref (image->png);
  else if (image->pixels && image->width_px > 0 && image->height_px > 0
           && image->stride >= (gsize) image->width_px * 4)
    {
      copy->pixels = g_bytes_new (image->pixels, image->stride * (gsize) image->height_px);
      copy->width_px = image->width_px;
      copy->height_px = image->height_px;
      copy->stride = image->stride;
    }
  else
    {
      /* Invalid pixels: an empty PNG makes the insert fail with a clear
       * error on the worker, in order with the other writes. */
      copy->png = g_bytes_new (NULL, 0);
    }
}

static Job *
insert_job (const SfGenerationRecord *record, const SfHistoryImage *image,
            const SfHistoryImage *mask, const SfHistoryImage *init, SfHistoryDoneFunc callback,
            gpointer user_data)
{
  Job *job = job_new (JOB_INSERT, callback, user_data);
  job->record = sf_generation_record_copy (record);
  copy_image (&job->images[IMAGE_OUTPUT], image);
  copy_image (&job->images[IMAGE_MASK], mask);
  copy_image (&job->images[IMAGE_INIT], init);
  return job;
}

void
sf_history_insert_async (SfHistory *history, const SfGenerationRecord *record,
                         const SfHistoryImage *image, const SfHistoryImage *mask,
                         const SfHistoryImage *init, SfHistoryDoneFunc callback, gpointer user_data)
{
  g_async_queue_push (history->jobs, insert_job (record, image, mask, init, callback, user_data));
}

gint64
sf_history_insert (SfHistory *history, const SfGenerationRecord *record,
                   const SfHistoryImage *image, const SfHistoryImage *mask,
                   const SfHistoryImage *init, GError **error)
{
  return job_run (history, insert_job (record, image, mask, init, NULL, NULL), error);
}

gboolean
sf_history_insert_batch (SfHistory *history, GPtrArray *records, GPtrArray *thumbnails,
                         GError **error)
{
  Job *job = job_new (JOB_INSERT_BATCH, NULL, NULL);
  job->records = records;
  job->thumbnails = thumbnails;
  GError *local_error = NULL;
  job_run (history, job, &local_error);
  if (local_error)
    {
      g_propagate_error (error, local_error);
      return FALSE;
    }
  return TRUE;
}

static Job *
status_job (gint64 id, SfGenerationStatus status, const char *message, gint64 duration_us,
            SfHistoryDoneFunc callback, gpointer user_data)
{
  Job *job = job_new (JOB_STATUS, callback, user_data);
  job->id = id;
  job->status = status;
  job->message = g_strdup (message);
  job->number = duration_us;
  return job;
}

void
sf_history_update_status_async (SfHistory *history, gint64 id, SfGenerationStatus status,
                                const char *message, gint64 duration_us,
                                SfHistoryDoneFunc callback, gpointer user_data)
{
  g_async_queue_push (history->jobs, status_job (id, status, message, duration_us, callback, user_data));
}

gboolean
sf_history_update_status (SfHistory *history, gint64 id, SfGenerationStatus status,
                          const char *message, gint64 duration_us, GError **error)
{
  return job_run (history, status_job (id, status, message, duration_us, NULL, NULL), error) != 0;
}

static Job *
simple_job (JobKind kind, gint64 id, gint64 number, SfHistoryDoneFunc callback, gpointer user_data)
{
  Job *job = job_new (kind, callback, user_data);
  job->id = id;
  job->number = number;
  return job;
}

void
sf_history_set_favourite_async (SfHistory *history, gint64 id, gboolean favourite,
                                SfHistoryDoneFunc callback, gpointer user_data)
{
  g_async_queue_push (history->jobs, simple_job (JOB_FAVOURITE, id, favourite != 0, callback, user_data));
}

gboolean
sf_history_set_favourite (SfHistory *history, gint64 id, gboolean favourite, GError **error)
{
  return job_run (history, simple_job (JOB_FAVOURITE, id, favourite != 0, NULL, NULL), error) != 0;
}

void
sf_history_delete_async (SfHistory *history, gint64 id, SfHistoryDoneFunc callback,
                         gpointer user_data)
{
  g_async_queue_push (history->jobs, simple_job (JOB_DELETE, id, 0, callback, user_data));
}

gboolean
sf_history_delete (SfHistory *history, gint64 id, GError **error)
{
  return job_run (history, simple_job (JOB_DELETE, id, 0, NULL, NULL), error) != 0;
}

void
sf_history_prune_async (SfHistory *history, gint64 before_us, SfHistoryDoneFunc callback,
                        gpointer user_data)
{
  g_async_queue_push (history->jobs, simple_job (JOB_PRUNE, 0, before_us, callback, user_data));
}

gboolean
sf_history_prune (SfHistory *history, gint64 before_us, guint *deleted, GError **error)
{
  GError *local_error = NULL;
  gint64 count = job_run (history, simple_job (JOB_PRUNE, 0, before_us, NULL, NULL), &local_error);
  if (local_error)
    {
      g_propagate_error (error, local_error);
      return FALSE;
    }
  if (deleted)
    *deleted = (guint) count;
  return TRUE;
}
