/* The history database's schema: every version's DDL, and the forward
 * migrations between them, chosen by `PRAGMA user_version`. */
#pragma once

#include <glib.h>
#include <sqlite3.h>

G_BEGIN_DECLS

/* The version this build writes. */
#define SF_HISTORY_SCHEMA_VERSION 1

/* Brings @db from its user_version up to @target (each step in its own
 * transaction, so a crash leaves a whole version). Refuses a database
 * newer than this build knows. */
gboolean sf_history_schema_migrate (sqlite3 *db, int target, GError **error);

/* The user_version of @db, or -1 with @error. */
int sf_history_schema_get_version (sqlite3 *db, GError **error);

/* Runs @sql (several statements) on @db; a failure becomes a GError that
 * names @what. */
gboolean sf_history_exec (sqlite3 *db, const char *sql, const char *what, GError **error);

G_END_DECLS
