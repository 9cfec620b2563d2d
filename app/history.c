#include "history.h"

#include <glib/gstdio.h>
#include <string.h>

#include "history-private.h"
#include "history-schema.h"

G_DEFINE_QUARK (sf-history-error-quark, sf_history_error)

void
sf_history_set_database_error (GError **error, sqlite3 *db, const char *what)
{
  g_set_error (error, SF_HISTORY_ERROR, SF_HISTORY_ERROR_DATABASE, "history database: %s: %s",
               what, sqlite3_errmsg (db));
}

sqlite3 *
sf_history_open_connection (const char *path, gboolean writer, GError **error)
{
  sqlite3 *db = NULL;
  int rc = sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
                                         | SQLITE_OPEN_FULLMUTEX, NULL);
  if (rc != SQLITE_OK)
    {
      g_autofree char *name = g_filename_display_name (path);
      g_set_error (error, SF_HISTORY_ERROR, SF_HISTORY_ERROR_DATABASE,
                   "cannot open the history database %s: %s", name,
                   db ? sqlite3_errmsg (db) : sqlite3_errstr (rc));
      sqlite3_close (db);
      return NULL;
    }
  sqlite3_extended_result_codes (db, 1);
  sqlite3_busy_timeout (db, 10000);
  /* FULL syncs the WAL at every commit: a finished generation survives a
   * power cut too, and one fsync per generation costs nothing beside it. */
  const char *settings = writer ? "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;"
                                  "PRAGMA synchronous = FULL; PRAGMA journal_size_limit = 67108864;"
                                : "PRAGMA foreign_keys = ON; PRAGMA query_only = ON;";
  if (!sf_history_exec (db, settings, "setting it up", error))
    {
      sqlite3_close (db);
      return NULL;
    }
  return db;
}

SfHistory *
sf_history_open (const char *directory, GError **error)
{
  g_autofree char *folder = directory ? g_strdup (directory)
                                      : g_build_filename (g_get_user_data_dir (), "sfumato", NULL);
  if (g_mkdir_with_parents (folder, 0700) != 0)
    {
      int saved = errno;
      g_autofree char *name = g_filename_display_name (folder);
      g_set_error (error, SF_HISTORY_ERROR, SF_HISTORY_ERROR_IO,
                   "cannot create the history folder %s: %s", name, g_strerror (saved));
      return NULL;
    }
  g_autofree char *path = g_build_filename (folder, "history.db", NULL);
  sqlite3 *write_db = sf_history_open_connection (path, TRUE, error);
  if (!write_db)
    return NULL;
  if (!sf_history_schema_migrate (write_db, SF_HISTORY_SCHEMA_VERSION, error))
    {
      sqlite3_close (write_db);
      return NULL;
    }
  sqlite3 *read_db = sf_history_open_connection (path, FALSE, error);
  if (!read_db)
    {
      sqlite3_close (write_db);
      return NULL;
    }
  SfHistory *history = g_new0 (SfHistory, 1);
  history->ref_count = 1;
  history->directory = g_steal_pointer (&folder);
  history->database_path = g_steal_pointer (&path);
  history->read_db = read_db;
  history->write_db = write_db;
  g_mutex_init (&history->read_lock);
  g_mutex_init (&history->watch_lock);
  history->watches = g_ptr_array_new ();
  history->next_watch_id = 1;
  sf_history_writer_start (history);
  return history;
}

/* ---- watches ------------------------------------------------------- */

typedef struct {
  gint ref_count;
  gint removed;
  guint id;
  SfHistoryChangedFunc func;
  gpointer user_data;
  GMainContext *context;
} Watch;

static void
watch_unref (gpointer data)
{
  Watch *watch = data;
  if (g_atomic_int_dec_and_test (&watch->ref_count))
    {
      g_main_context_unref (watch->context);
      g_free (watch);
    }
}

static gboolean
watch_dispatch (gpointer data)
{
  Watch *watch = data;
  if (!g_atomic_int_get (&watch->removed))
    watch->func (watch->user_data);
  return G_SOURCE_REMOVE;
}

guint
sf_history_add_watch (SfHistory *history, SfHistoryChangedFunc func, gpointer user_data)
{
  Watch *watch = g_new0 (Watch, 1);
  watch->ref_count = 1;
  watch->func = func;
  watch->user_data = user_data;
  watch->context = g_main_context_ref_thread_default ();
  g_mutex_lock (&history->watch_lock);
  watch->id = history->next_watch_id++;
  g_ptr_array_add (history->watches, watch);
  g_mutex_unlock (&history->watch_lock);
  return watch->id;
}

void
sf_history_remove_watch (SfHistory *history, guint watch_id)
{
  g_mutex_lock (&history->watch_lock);
  for (guint i = 0; i < history->watches->len; i++)
    {
      Watch *watch = history->watches->pdata[i];
      if (watch->id == watch_id)
        {
          g_atomic_int_set (&watch->removed, 1);
          g_ptr_array_remove_index (history->watches, i);
          watch_unref (watch);
          break;
        }
    }
  g_mutex_unlock (&history->watch_lock);
}

void
sf_history_dispatch (GMainContext *context, GSourceFunc func, gpointer data, GDestroyNotify notify)
{
  GSource *source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, func, data, notify);
  g_source_attach (source, context);
  g_source_unref (source);
}

void
sf_history_notify_watches (SfHistory *history)
{
  g_mutex_lock (&history->watch_lock);
  for (guint i = 0; i < history->watches->len; i++)
    {
      Watch *watch = history->watches->pdata[i];
      g_atomic_int_inc (&watch->ref_count);
      sf_history_dispatch (watch->context, watch_dispatch, watch, watch_unref);
    }
  g_mutex_unlock (&history->watch_lock);
}

SfHistory *
sf_history_ref (SfHistory *history)
{
  g_atomic_int_inc (&history->ref_count);
  return history;
}

void
sf_history_free (SfHistory *history)
{
  sf_history_unref (history);
}

void
sf_history_unref (SfHistory *history)
{
  if (!history || !g_atomic_int_dec_and_test (&history->ref_count))
    return;
  sf_history_writer_stop (history);
  sqlite3_close (history->read_db);
  g_mutex_lock (&history->watch_lock);
  for (guint i = 0; i < history->watches->len; i++)
    {
      Watch *watch = history->watches->pdata[i];
      g_atomic_int_set (&watch->removed, 1);
      watch_unref (watch);
    }
  g_ptr_array_unref (history->watches);
  g_mutex_unlock (&history->watch_lock);
  g_mutex_clear (&history->watch_lock);
  g_mutex_clear (&history->read_lock);
  g_free (history->directory);
  g_free (history->database_path);
  g_free (history);
}

const char *
sf_history_get_directory (SfHistory *history)
{
  return history->directory;
}

char *
sf_history_get_file (SfHistory *history, const char *relative_path)
{
  return relative_path ? g_build_filename (history->directory, relative_path, NULL) : NULL;
}

/* ---- rows ---------------------------------------------------------- */

static char *
column_string (sqlite3_stmt *statement, int column)
{
  const unsigned char *text = sqlite3_column_text (statement, column);
  return text ? g_strdup ((const char *) text) : NULL;
}

SfGenerationRecord *
sf_history_record_from_row (sqlite3_stmt *statement)
{
  SfGenerationRecord *r = g_new0 (SfGenerationRecord, 1);
  int c = 0;
  r->id = sqlite3_column_int64 (statement, c++);
  r->created_us = sqlite3_column_int64 (statement, c++);
  g_autofree char *mode = column_string (statement, c++);
  sf_generation_mode_from_string (mode, &r->mode);
  r->prompt = column_string (statement, c++);
  r->negative_prompt = column_string (statement, c++);
  r->prompt_weights = column_string (statement, c++);
  r->negative_weights = column_string (statement, c++);
  r->seed = (guint64) sqlite3_column_int64 (statement, c++);
  r->sampler = column_string (statement, c++);
  r->scheduler = column_string (statement, c++);
  r->steps = sqlite3_column_int (statement, c++);
  r->cfg_scale = sqlite3_column_double (statement, c++);
  r->strength = sqlite3_column_double (statement, c++);
  r->width_px = sqlite3_column_int (statement, c++);
  r->height_px = sqlite3_column_int (statement, c++);
  r->frame_x = sqlite3_column_int (statement, c++);
  r->frame_y = sqlite3_column_int (statement, c++);
  r->model_name = column_string (statement, c++);
  r->model_hash = column_string (statement, c++);
  r->refiner_name = column_string (statement, c++);
  r->refiner_hash = column_string (statement, c++);
  r->refiner_switch = sqlite3_column_type (statement, c) == SQLITE_NULL
                        ? -1 : sqlite3_column_double (statement, c);
  c++;
  r->precision = column_string (statement, c++);
  r->duration_us = sqlite3_column_int64 (statement, c++);
  r->device = column_string (statement, c++);
  g_autofree char *status = column_string (statement, c++);
  sf_generation_status_from_string (status, &r->status);
  r->status_message = column_string (statement, c++);
  r->parent_id = sqlite3_column_int64 (statement, c++);
  r->document_id = column_string (statement, c++);
  r->document_path = column_string (statement, c++);
  r->favourite = sqlite3_column_int (statement, c++) != 0;
  r->image_path = column_string (statement, c++);
  r->mask_path = column_string (statement, c++);
  r->init_path = column_string (statement, c++);
  return r;
}

/* ---- reads --------------------------------------------------------- */

void
sf_history_filter_init (SfHistoryFilter *filter)
{
  *filter = (SfHistoryFilter) { .mode = -1, .sort = SF_HISTORY_NEWEST_FIRST };
}

static void
append_fts_string (GString *query, const char *text, gboolean prefix)
{
  if (query->len)
    g_string_append_c (query, ' ');
  g_string_append_c (query, '"');
  for (const char *p = text; *p; p++)
    {
      if (*p == '"')
        g_string_append_c (query, '"'); /* FTS5 doubles a quote inside a string */
      g_string_append_c (query, *p);
    }
  g_string_append_c (query, '"');
  if (prefix)
    g_string_append_c (query, '*');
}

/* A token is worth searching when the tokenizer will find a word in it. */
static gboolean
has_word (const char *text, gsize length)
{
  for (const char *p = text; p < text + length; p = g_utf8_next_char (p))
    if (g_unichar_isalnum (g_utf8_get_char (p)))
      return TRUE;
  return FALSE;
}

char *
sf_history_search_to_fts (const char *search)
{
  if (!search || !g_utf8_validate (search, -1, NULL))
    return NULL;
  GString *query = g_string_new (NULL);
  const char *p = search;
  while (*p)
    {
      while (*p && g_unichar_isspace (g_utf8_get_char (p)))
        p = g_utf8_next_char (p);
      if (!*p)
        break;
      const char *start, *end;
      gboolean phrase = *p == '"';
      if (phrase)
        {
          start = p + 1;
          end = strchr (start, '"');
          if (!end)
            end = start + strlen (start); /* an unclosed quote runs to the end */
          p = *end ? end + 1 : end;
        }
      else
        {
          start = p;
          while (*p && *p != '"' && !g_unichar_isspace (g_utf8_get_char (p)))
            p = g_utf8_next_char (p);
          end = p;
        }
      if (has_word (start, end - start))
        {
          g_autofree char *token = g_strndup (start, end - start);
          append_fts_string (query, token, !phrase);
        }
    }
  if (query->len == 0)
    {
      g_string_free (query, TRUE);
      return NULL;
    }
  return g_string_free (query, FALSE);
}

static void
append_filter (GString *sql, const SfHistoryFilter *filter, const char *fts)
{
  g_string_append (sql, " WHERE 1");
  if (fts)
    g_string_append (sql, " AND g.id IN (SELECT rowid FROM generations_fts"
                          " WHERE generations_fts MATCH :search)");
  if (filter->model_name)
    g_string_append (sql, " AND g.model_name = :model");
  if (filter->mode >= 0)
    g_string_append (sql, " AND g.mode = :mode");
  if (filter->after_us)
    g_string_append (sql, " AND g.created_us >= :after");
  if (filter->before_us)
    g_string_append (sql, " AND g.created_us < :before");
  if (filter->favourites_only)
    g_string_append (sql, " AND g.favourite");
  if (filter->sort == SF_HISTORY_OLDEST_FIRST)
    g_string_append (sql, " ORDER BY g.created_us, g.id");
  else
    g_string_append (sql, " ORDER BY g.created_us DESC, g.id DESC");
}

static void
bind_filter (sqlite3_stmt *statement, const SfHistoryFilter *filter, const char *fts)
{
  int index;
  if ((index = sqlite3_bind_parameter_index (statement, ":search")))
    sqlite3_bind_text (statement, index, fts, -1, SQLITE_TRANSIENT);
  if ((index = sqlite3_bind_parameter_index (statement, ":model")))
    sqlite3_bind_text (statement, index, filter->model_name, -1, SQLITE_TRANSIENT);
  if ((index = sqlite3_bind_parameter_index (statement, ":mode")))
    sqlite3_bind_text (statement, index, sf_generation_mode_to_string (filter->mode), -1,
                       SQLITE_STATIC);
  if ((index = sqlite3_bind_parameter_index (statement, ":after")))
    sqlite3_bind_int64 (statement, index, filter->after_us);
  if ((index = sqlite3_bind_parameter_index (statement, ":before")))
    sqlite3_bind_int64 (statement, index, filter->before_us);
}

/* Prepares @sql on the read connection, which the caller holds locked. */
static sqlite3_stmt *
prepare_read (SfHistory *history, const char *sql, GError **error)
{
  sqlite3_stmt *statement = NULL;
  if (sqlite3_prepare_v2 (history->read_db, sql, -1, &statement, NULL) != SQLITE_OK)
    {
      sf_history_set_database_error (error, history->read_db, "preparing a query");
      return NULL;
    }
  return statement;
}

/* Steps @statement to its end, collecting a record per row. */
static GPtrArray *
collect_records (SfHistory *history, sqlite3_stmt *statement, GError **error)
{
  GPtrArray *records = g_ptr_array_new_with_free_func ((GDestroyNotify) sf_generation_record_free);
  int rc;
  while ((rc = sqlite3_step (statement)) == SQLITE_ROW)
    g_ptr_array_add (records, sf_history_record_from_row (statement));
  if (rc != SQLITE_DONE)
    {
      sf_history_set_database_error (error, history->read_db, "reading generations");
      g_clear_pointer (&records, g_ptr_array_unref);
    }
  sqlite3_finalize (statement);
  return records;
}

GArray *
sf_history_query_ids (SfHistory *history, const SfHistoryFilter *filter, GError **error)
{
  g_autofree char *fts = sf_history_search_to_fts (filter->search);
  g_autoptr (GString) sql = g_string_new ("SELECT g.id FROM generations g");
  append_filter (sql, filter, fts);
  g_mutex_lock (&history->read_lock);
  sqlite3_stmt *statement = prepare_read (history, sql->str, error);
  GArray *ids = NULL;
  if (statement)
    {
      bind_filter (statement, filter, fts);
      ids = g_array_new (FALSE, FALSE, sizeof (gint64));
      int rc;
      while ((rc = sqlite3_step (statement)) == SQLITE_ROW)
        {
          gint64 id = sqlite3_column_int64 (statement, 0);
          g_array_append_val (ids, id);
        }
      if (rc != SQLITE_DONE)
        {
          sf_history_set_database_error (error, history->read_db, "searching generations");
          g_clear_pointer (&ids, g_array_unref);
        }
      sqlite3_finalize (statement);
    }
  g_mutex_unlock (&history->read_lock);
  return ids;
}

GPtrArray *
sf_history_query (SfHistory *history, const SfHistoryFilter *filter, guint offset, guint limit,
                  GError **error)
{
  g_autofree char *fts = sf_history_search_to_fts (filter->search);
  g_autoptr (GString) sql = g_string_new (SF_HISTORY_RECORD_SELECT);
  append_filter (sql, filter, fts);
  g_string_append (sql, " LIMIT :limit OFFSET :offset");
  g_mutex_lock (&history->read_lock);
  sqlite3_stmt *statement = prepare_read (history, sql->str, error);
  GPtrArray *records = NULL;
  if (statement)
    {
      bind_filter (statement, filter, fts);
      sqlite3_bind_int64 (statement, sqlite3_bind_parameter_index (statement, ":limit"), limit);
      sqlite3_bind_int64 (statement, sqlite3_bind_parameter_index (statement, ":offset"), offset);
      records = collect_records (history, statement, error);
    }
  g_mutex_unlock (&history->read_lock);
  return records;
}

SfGenerationRecord *
sf_history_get (SfHistory *history, gint64 id, GError **error)
{
  g_autoptr (GPtrArray) records = sf_history_get_many (history, &id, 1, error);
  if (!records)
    return NULL;
  if (!records->pdata[0])
    {
      g_set_error (error, SF_HISTORY_ERROR, SF_HISTORY_ERROR_NOT_FOUND,
                   "there is no generation %" G_GINT64_FORMAT " in the history", id);
      return NULL;
    }
  return g_steal_pointer (&records->pdata[0]);
}

GPtrArray *
sf_history_get_many (SfHistory *history, const gint64 *ids, guint count, GError **error)
{
  GPtrArray *result = g_ptr_array_new_full (count, (GDestroyNotify) sf_generation_record_free);
  g_ptr_array_set_size (result, count);
  g_autoptr (GHashTable) positions = g_hash_table_new (g_int64_hash, g_int64_equal);
  for (guint i = 0; i < count; i++)
    g_hash_table_insert (positions, (gpointer) &ids[i], GUINT_TO_POINTER (i));
  enum { CHUNK = 256 };
  for (guint start = 0; start < count; start += CHUNK)
    {
      guint n = MIN (CHUNK, count - start);
      g_autoptr (GString) sql = g_string_new (SF_HISTORY_RECORD_SELECT " WHERE g.id IN (");
      for (guint i = 0; i < n; i++)
        g_string_append (sql, i ? ",?" : "?");
      g_string_append_c (sql, ')');
      g_mutex_lock (&history->read_lock);
      sqlite3_stmt *statement = prepare_read (history, sql->str, error);
      g_autoptr (GPtrArray) records = NULL;
      if (statement)
        {
          for (guint i = 0; i < n; i++)
            sqlite3_bind_int64 (statement, (int) i + 1, ids[start + i]);
          records = collect_records (history, statement, error);
        }
      g_mutex_unlock (&history->read_lock);
      if (!records)
        {
          g_ptr_array_unref (result);
          return NULL;
        }
      for (guint i = 0; i < records->len; i++)
        {
          SfGenerationRecord *record = records->pdata[i];
          guint position = GPOINTER_TO_UINT (g_hash_table_lookup (positions, &record->id));
          records->pdata[i] = NULL;
          sf_generation_record_free (result->pdata[position]);
          result->pdata[position] = record;
        }
    }
  return result;
}

GBytes *
sf_history_get_thumbnail (SfHistory *history, gint64 id, GError **error)
{
  g_mutex_lock (&history->read_lock);
  sqlite3_stmt *statement = prepare_read (
    history, "SELECT png FROM thumbnails WHERE generation_id = ?", error);
  GBytes *thumbnail = NULL;
  if (statement)
    {
      sqlite3_bind_int64 (statement, 1, id);
      int rc = sqlite3_step (statement);
      if (rc == SQLITE_ROW)
        thumbnail = g_bytes_new (sqlite3_column_blob (statement, 0),
                                 (gsize) sqlite3_column_bytes (statement, 0));
      else if (rc != SQLITE_DONE)
        sf_history_set_database_error (error, history->read_db, "reading a thumbnail");
      sqlite3_finalize (statement);
    }
  g_mutex_unlock (&history->read_lock);
  return thumbnail;
}

/* Depth bounds the recursive queries, so a damaged database with a cycle
 * of parents cannot make them run forever. */
#define MAX_LINEAGE_DEPTH 100000

static GPtrArray *
query_with_id (SfHistory *history, const char *sql, gint64 id, GError **error)
{
  g_mutex_lock (&history->read_lock);
  sqlite3_stmt *statement = prepare_read (history, sql, error);
  GPtrArray *records = NULL;
  if (statement)
    {
      sqlite3_bind_int64 (statement, 1, id);
      sqlite3_bind_int (statement, 2, MAX_LINEAGE_DEPTH);
      records = collect_records (history, statement, error);
    }
  g_mutex_unlock (&history->read_lock);
  return records;
}

GPtrArray *
sf_history_get_parent_chain (SfHistory *history, gint64 id, GError **error)
{
  GPtrArray *chain = query_with_id (
    history,
    "WITH RECURSIVE chain (id, depth) AS ("
    "  SELECT ?1, 0"
    "  UNION ALL SELECT p.parent_id, chain.depth + 1 FROM generations p JOIN chain ON p.id = chain.id"
    "  WHERE p.parent_id IS NOT NULL AND chain.depth < ?2)"
    " " SF_HISTORY_RECORD_SELECT " JOIN chain ON g.id = chain.id ORDER BY chain.depth",
    id, error);
  if (chain && chain->len == 0)
    {
      g_set_error (error, SF_HISTORY_ERROR, SF_HISTORY_ERROR_NOT_FOUND,
                   "there is no generation %" G_GINT64_FORMAT " in the history", id);
      g_clear_pointer (&chain, g_ptr_array_unref);
    }
  return chain;
}

GPtrArray *
sf_history_get_children (SfHistory *history, gint64 id, GError **error)
{
  return query_with_id (history,
                        SF_HISTORY_RECORD_SELECT " WHERE g.parent_id = ?1"
                        " ORDER BY g.created_us, g.id", id, error);
}

/* Puts @records (parents before children) in depth-first order. */
static void
append_subtree (GPtrArray *out, GPtrArray *records, gint64 id, gboolean *used)
{
  for (guint i = 0; i < records->len; i++)
    {
      SfGenerationRecord *record = records->pdata[i];
      if (!used[i] && record->parent_id == id && record->id != id)
        {
          used[i] = TRUE;
          g_ptr_array_add (out, sf_generation_record_copy (record));
          append_subtree (out, records, record->id, used);
        }
    }
}

GPtrArray *
sf_history_get_lineage (SfHistory *history, gint64 id, GError **error)
{
  g_autoptr (GPtrArray) chain = sf_history_get_parent_chain (history, id, error);
  if (!chain)
    return NULL;
  const SfGenerationRecord *root = chain->pdata[chain->len - 1];
  g_autoptr (GPtrArray) tree = query_with_id (
    history,
    "WITH RECURSIVE tree (id, depth) AS ("
    "  SELECT ?1, 0"
    "  UNION ALL SELECT c.id, tree.depth + 1 FROM generations c JOIN tree ON c.parent_id = tree.id"
    "  WHERE tree.depth < ?2)"
    " " SF_HISTORY_RECORD_SELECT " JOIN tree ON g.id = tree.id"
    " ORDER BY tree.depth, g.created_us, g.id",
    root->id, error);
  if (!tree || tree->len == 0)
    return NULL;
  GPtrArray *ordered = g_ptr_array_new_with_free_func ((GDestroyNotify) sf_generation_record_free);
  g_autofree gboolean *used = g_new0 (gboolean, tree->len);
  used[0] = TRUE;
  g_ptr_array_add (ordered, sf_generation_record_copy (tree->pdata[0]));
  append_subtree (ordered, tree, root->id, used);
  return ordered;
}

GStrv
sf_history_list_models (SfHistory *history, GError **error)
{
  g_mutex_lock (&history->read_lock);
  sqlite3_stmt *statement = prepare_read (
    history, "SELECT model_name FROM generations WHERE model_name IS NOT NULL"
             " GROUP BY model_name ORDER BY count(*) DESC, model_name", error);
  GStrv models = NULL;
  if (statement)
    {
      g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
      int rc;
      while ((rc = sqlite3_step (statement)) == SQLITE_ROW)
        g_strv_builder_add (builder, (const char *) sqlite3_column_text (statement, 0));
      if (rc == SQLITE_DONE)
        models = g_strv_builder_end (builder);
      else
        sf_history_set_database_error (error, history->read_db, "listing models");
      sqlite3_finalize (statement);
    }
  g_mutex_unlock (&history->read_lock);
  return models;
}
