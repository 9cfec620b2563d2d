/* Crash consistency: a child process (this program with --child) inserts
 * generations in a burst and prints each id once its insert reported
 * success; it is killed with SIGKILL at a random moment, several times.
 * After each kill the database must pass SQLite's integrity checks and
 * hold every reported generation, with its image and thumbnail. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "history-test.h"
#include "png_text.h"

#define IN_FLIGHT 4
#define ROUNDS 10

static const char *self_path;

/* ---- the child ---------------------------------------------------------- */

typedef struct {
  SfHistory *history;
  guint8 *pixels;
  int next;
} Child;

static void queue_insert (Child *child);

static void
on_inserted (gint64 id, const GError *error, gpointer user_data)
{
  if (error)
    {
      fprintf (stderr, "child: %s\n", error->message);
      _exit (3);
    }
  printf ("%" G_GINT64_FORMAT "\n", id);
  fflush (stdout);
  queue_insert (user_data);
}

static void
queue_insert (Child *child)
{
  g_autoptr (SfGenerationRecord) record = sf_history_test_record (child->next);
  record->created_us = g_get_real_time ();
  child->pixels[0] = (guint8) child->next++;
  SfHistoryImage image = { .pixels = child->pixels, .width_px = 96, .height_px = 64, .stride = 96 * 4 };
  sf_history_insert_async (child->history, record, &image, NULL, NULL, on_inserted, child);
}

static int
run_child (const char *dir)
{
  g_autoptr (GError) error = NULL;
  Child child = { .history = sf_history_open (dir, &error), .pixels = sf_history_test_pixels (96, 64, 1) };
  if (!child.history)
    {
      fprintf (stderr, "child: %s\n", error->message);
      return 2;
    }
  for (int i = 0; i < IN_FLIGHT; i++)
    queue_insert (&child);
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_main_loop_run (loop); /* until killed */
  return 0;
}

/* ---- the parent --------------------------------------------------------- */

/* Reads what is available within @timeout_ms into @buffer. FALSE at EOF. */
static gboolean
read_some (int fd, GString *buffer, int timeout_ms)
{
  struct pollfd poll_fd = { .fd = fd, .events = POLLIN };
  if (poll (&poll_fd, 1, timeout_ms) <= 0)
    return TRUE;
  char chunk[4096];
  ssize_t n = read (fd, chunk, sizeof chunk);
  if (n > 0)
    g_string_append_len (buffer, chunk, n);
  return n > 0 || (n < 0 && errno == EINTR);
}

static guint
count_lines (const GString *buffer)
{
  guint lines = 0;
  for (gsize i = 0; i < buffer->len; i++)
    lines += buffer->str[i] == '\n';
  return lines;
}

static char *
single_text (sqlite3 *db, const char *sql)
{
  sqlite3_stmt *statement = NULL;
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &statement, NULL), ==, SQLITE_OK);
  char *text = NULL;
  if (sqlite3_step (statement) == SQLITE_ROW)
    text = g_strdup ((const char *) sqlite3_column_text (statement, 0));
  sqlite3_finalize (statement);
  return text;
}

static void
check_database (const char *dir, GHashTable *reported, guint rounds)
{
  g_autofree char *path = g_build_filename (dir, "history.db", NULL);
  sqlite3 *db = NULL;
  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE, NULL), ==, SQLITE_OK);
  g_autofree char *integrity = single_text (db, "PRAGMA integrity_check");
  g_assert_cmpstr (integrity, ==, "ok");
  g_autofree char *dangling = single_text (db, "PRAGMA foreign_key_check");
  g_assert_null (dangling);
  g_assert_cmpint (sqlite3_exec (db, "INSERT INTO generations_fts (generations_fts) VALUES ('integrity-check')",
                                 NULL, NULL, NULL), ==, SQLITE_OK);
  g_autofree char *without_thumbnail = single_text (
    db, "SELECT id FROM generations WHERE id NOT IN (SELECT generation_id FROM thumbnails)");
  g_assert_null (without_thumbnail);
  sqlite3_close (db);

  g_autoptr (GError) error = NULL;
  g_autoptr (SfHistory) history = sf_history_open (dir, &error);
  g_assert_no_error (error);
  SfHistoryFilter filter;
  sf_history_filter_init (&filter);
  g_autoptr (GPtrArray) rows = sf_history_query (history, &filter, 0, G_MAXUINT, &error);
  g_assert_no_error (error);
  g_autoptr (GHashTable) present = g_hash_table_new (g_int64_hash, g_int64_equal);
  for (guint i = 0; i < rows->len; i++)
    {
      SfGenerationRecord *record = rows->pdata[i];
      g_hash_table_add (present, &record->id);
      /* Every row's image is there, whole. */
      g_autofree char *image = sf_history_get_file (history, record->image_path);
      g_autofree char *contents = NULL;
      gsize size;
      g_assert_true (g_file_get_contents (image, &contents, &size, NULL));
      g_autoptr (GHashTable) text = sf_png_text_read_data ((guint8 *) contents, size, &error);
      g_assert_no_error (error);
      g_assert_nonnull (g_hash_table_lookup (text, "parameters"));
    }
  GHashTableIter iter;
  gpointer key;
  g_hash_table_iter_init (&iter, reported);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (!g_hash_table_contains (present, key))
      g_error ("generation %" G_GINT64_FORMAT " was reported stored but is missing", *(gint64 *) key);
  /* At most the inserts in flight at each kill committed unreported. */
  g_assert_cmpuint (rows->len, >=, g_hash_table_size (reported));
  g_assert_cmpuint (rows->len, <=, g_hash_table_size (reported) + rounds * IN_FLIGHT);
}

static void
test_kill_during_inserts_keeps_every_reported_generation (void)
{
  g_autofree char *dir = sf_history_test_dir ();
  g_autoptr (GHashTable) reported = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  for (guint round = 1; round <= ROUNDS; round++)
    {
      const char *argv[] = { self_path, "--child", dir, NULL };
      GPid pid;
      int out_fd;
      g_autoptr (GError) error = NULL;
      g_assert_true (g_spawn_async_with_pipes (NULL, (char **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                                               NULL, NULL, &pid, NULL, &out_fd, NULL, &error));
      g_assert_no_error (error);
      /* Let a few inserts land, so the kill falls inside the burst, then
       * wait a random while more. */
      g_autoptr (GString) output = g_string_new (NULL);
      guint wanted = 3 + (guint) g_test_rand_int_range (0, 10);
      gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
      while (count_lines (output) < wanted && g_get_monotonic_time () < deadline)
        if (!read_some (out_fd, output, 100))
          g_error ("the child ended early:\n%s", output->str);
      g_usleep ((gulong) g_test_rand_int_range (0, 80000));
      g_assert_cmpint (kill (pid, SIGKILL), ==, 0);
      int status = 0;
      g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
      g_assert_true (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
      g_spawn_close_pid (pid);
      while (read_some (out_fd, output, 1000))
        ;
      close (out_fd);
      /* Whole lines are the inserts reported done; a cut last line is not. */
      g_auto (GStrv) lines = g_strsplit (output->str, "\n", -1);
      guint whole = g_strv_length (lines) - 1;
      g_assert_cmpuint (whole, >=, wanted);
      for (guint i = 0; i < whole; i++)
        {
          gint64 *id = g_new (gint64, 1);
          *id = g_ascii_strtoll (lines[i], NULL, 10);
          g_assert_cmpint (*id, >, 0);
          g_hash_table_add (reported, id);
        }
      g_test_message ("round %u: %u inserts reported before the kill", round, whole);
      check_database (dir, reported, round);
    }
}

int
main (int argc, char **argv)
{
  if (argc == 3 && strcmp (argv[1], "--child") == 0)
    return run_child (argv[2]);
  self_path = argv[0];
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/history/kill-during-inserts-keeps-every-reported-generation",
                   test_kill_during_inserts_keeps_every_reported_generation);
  return g_test_run ();
}
