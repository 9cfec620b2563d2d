#include "history-schema.h"

#include "history.h"

/* Version 1. Never edit a version once released: add the next one with
 * the statements that bring the previous one up to it. */
static const char SCHEMA_V1[] =
  "CREATE TABLE generations ("
  "  id INTEGER PRIMARY KEY,"
  "  created_us INTEGER NOT NULL,"
  "  mode TEXT NOT NULL CHECK (mode IN ('txt2img', 'img2img', 'inpaint', 'outpaint')),"
  "  prompt TEXT NOT NULL,"
  "  negative_prompt TEXT NOT NULL DEFAULT '',"
  "  prompt_weights TEXT,"
  "  negative_weights TEXT,"
  "  seed INTEGER NOT NULL," /* the unsigned 64-bit seed's bits, as SQLite integers are signed */
  "  sampler TEXT NOT NULL,"
  "  scheduler TEXT NOT NULL,"
  "  steps INTEGER NOT NULL,"
  "  cfg_scale REAL NOT NULL,"
  "  strength REAL NOT NULL DEFAULT 1.0,"
  "  width INTEGER NOT NULL,"
  "  height INTEGER NOT NULL,"
  "  frame_x INTEGER NOT NULL DEFAULT 0,"
  "  frame_y INTEGER NOT NULL DEFAULT 0,"
  "  model_name TEXT,"
  "  model_hash TEXT,"
  "  refiner_name TEXT,"
  "  refiner_hash TEXT,"
  "  refiner_switch REAL,"
  "  precision TEXT,"
  "  duration_us INTEGER NOT NULL DEFAULT 0,"
  "  device TEXT,"
  "  status TEXT NOT NULL CHECK (status IN ('running', 'done', 'cancelled', 'failed')),"
  "  status_message TEXT,"
  "  parent_id INTEGER REFERENCES generations (id) ON DELETE SET NULL,"
  "  document_id TEXT,"
  "  document_path TEXT,"
  "  favourite INTEGER NOT NULL DEFAULT 0,"
  "  image_path TEXT,"
  "  mask_path TEXT,"
  "  init_path TEXT"
  ");"
  "CREATE INDEX generations_by_time ON generations (created_us, id);"
  "CREATE INDEX generations_by_parent ON generations (parent_id);"
  "CREATE INDEX generations_by_model ON generations (model_name, created_us);"
  "CREATE INDEX generations_favourites ON generations (created_us, id) WHERE favourite;"
  /* Thumbnails apart, so that scans of the rows never page through them. */
  "CREATE TABLE thumbnails ("
  "  generation_id INTEGER PRIMARY KEY REFERENCES generations (id) ON DELETE CASCADE,"
  "  png BLOB NOT NULL"
  ");"
  /* Full-text search over the prompts; remove_diacritics folds é to e. */
  "CREATE VIRTUAL TABLE generations_fts USING fts5 ("
  "  prompt, negative_prompt, content = 'generations', content_rowid = 'id',"
  "  tokenize = 'unicode61 remove_diacritics 2'"
  ");"
  "CREATE TRIGGER generations_fts_insert AFTER INSERT ON generations BEGIN"
  "  INSERT INTO generations_fts (rowid, prompt, negative_prompt)"
  "    VALUES (new.id, new.prompt, new.negative_prompt);"
  "END;"
  "CREATE TRIGGER generations_fts_delete AFTER DELETE ON generations BEGIN"
  "  INSERT INTO generations_fts (generations_fts, rowid, prompt, negative_prompt)"
  "    VALUES ('delete', old.id, old.prompt, old.negative_prompt);"
  "END;"
  "CREATE TRIGGER generations_fts_update AFTER UPDATE OF prompt, negative_prompt ON generations BEGIN"
  "  INSERT INTO generations_fts (generations_fts, rowid, prompt, negative_prompt)"
  "    VALUES ('delete', old.id, old.prompt, old.negative_prompt);"
  "  INSERT INTO generations_fts (rowid, prompt, negative_prompt)"
  "    VALUES (new.id, new.prompt, new.negative_prompt);"
  "END;";

/* MIGRATIONS[v - 1] brings version v - 1 to version v. */
static const char *const MIGRATIONS[] = {
  SCHEMA_V1,
};
G_STATIC_ASSERT (G_N_ELEMENTS (MIGRATIONS) == SF_HISTORY_SCHEMA_VERSION);

gboolean
sf_history_exec (sqlite3 *db, const char *sql, const char *what, GError **error)
{
  char *message = NULL;
  int rc = sqlite3_exec (db, sql, NULL, NULL, &message);
  if (rc == SQLITE_OK)
    return TRUE;
  g_set_error (error, SF_HISTORY_ERROR, SF_HISTORY_ERROR_DATABASE, "history database: %s: %s",
               what, message ? message : sqlite3_errstr (rc));
  sqlite3_free (message);
  return FALSE;
}

int
sf_history_schema_get_version (sqlite3 *db, GError **error)
{
  sqlite3_stmt *statement = NULL;
  int version = -1;
  if (sqlite3_prepare_v2 (db, "PRAGMA user_version", -1, &statement, NULL) == SQLITE_OK
      && sqlite3_step (statement) == SQLITE_ROW)
    version = sqlite3_column_int (statement, 0);
  else
    g_set_error (error, SF_HISTORY_ERROR, SF_HISTORY_ERROR_DATABASE,
                 "history database: cannot read its version: %s", sqlite3_errmsg (db));
  sqlite3_finalize (statement);
  return version;
}

gboolean
sf_history_schema_migrate (sqlite3 *db, int target, GError **error)
{
  g_return_val_if_fail (target >= 0 && target <= SF_HISTORY_SCHEMA_VERSION, FALSE);
  int version = sf_history_schema_get_version (db, error);
  if (version < 0)
    return FALSE;
  if (version > SF_HISTORY_SCHEMA_VERSION)
    {
      g_set_error (error, SF_HISTORY_ERROR, SF_HISTORY_ERROR_TOO_NEW,
                   "the history database was written by a newer Sfumato (schema version %d; "
                   "this one knows up to %d): update Sfumato to open it",
                   version, SF_HISTORY_SCHEMA_VERSION);
      return FALSE;
    }
  while (version < target)
    {
      /* Another process may migrate at the same time: the version is read
       * again inside the write transaction. */
      if (!sf_history_exec (db, "BEGIN IMMEDIATE", "starting a migration", error))
        return FALSE;
      version = sf_history_schema_get_version (db, error);
      if (version < 0)
        {
          sqlite3_exec (db, "ROLLBACK", NULL, NULL, NULL);
          return FALSE;
        }
      if (version >= target)
        return sf_history_exec (db, "COMMIT", "ending a migration", error);
      int next = version + 1;
      g_autofree char *what = g_strdup_printf ("migrating to schema version %d", next);
      g_autofree char *sql = g_strdup_printf ("%s PRAGMA user_version = %d; COMMIT;",
                                              MIGRATIONS[next - 1], next);
      if (!sf_history_exec (db, sql, what, error))
        {
          sqlite3_exec (db, "ROLLBACK", NULL, NULL, NULL);
          return FALSE;
        }
      version = next;
    }
  return TRUE;
}
