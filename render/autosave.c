#include "autosave.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "document-io.h"

#define GROUP "Autosave"

void
sf_autosave_free (SfAutosave *autosave)
{
  if (!autosave)
    return;
  g_free (autosave->id);
  g_free (autosave->ora_path);
  g_free (autosave->document_path);
  g_free (autosave);
}

char *
sf_autosave_get_dir (void)
{
  char *dir = g_build_filename (g_get_user_data_dir (), "sfumato", "autosave", NULL);
  g_mkdir_with_parents (dir, 0700);
  return dir;
}

char *
sf_autosave_new_id (void)
{
  return g_uuid_string_random ();
}

static char *
file_for (const char *id, const char *extension)
{
  g_autofree char *dir = sf_autosave_get_dir ();
  g_autofree char *name = g_strconcat (id, extension, NULL);
  return g_build_filename (dir, name, NULL);
}

gboolean
sf_autosave_write (SfDocument *document, const char *id, const char *document_path,
                   GError **error)
{
  g_autofree char *ora = file_for (id, ".ora");
  g_autofree char *info = file_for (id, ".info");
  if (!sf_document_save_ora (document, ora, error))
    return FALSE;
  g_autoptr (GKeyFile) keys = g_key_file_new ();
  g_key_file_set_int64 (keys, GROUP, "pid", getpid ());
  g_key_file_set_int64 (keys, GROUP, "time", g_get_real_time () / G_USEC_PER_SEC);
  if (document_path)
    g_key_file_set_string (keys, GROUP, "path", document_path);
  gsize length;
  g_autofree char *text = g_key_file_to_data (keys, &length, NULL);
  return sf_file_write_atomic (info, text, length, error);
}

static gboolean
process_is_running (gint64 pid)
{
  if (pid <= 0 || pid > G_MAXINT)
    return FALSE;
  return kill ((pid_t) pid, 0) == 0 || errno == EPERM;
}

static int
newest_first (gconstpointer a, gconstpointer b)
{
  const SfAutosave *x = *(SfAutosave *const *) a, *y = *(SfAutosave *const *) b;
  return x->saved_unix < y->saved_unix ? 1 : x->saved_unix > y->saved_unix ? -1 : 0;
}

GPtrArray *
sf_autosave_list_recoverable (void)
{
  GPtrArray *list = g_ptr_array_new_with_free_func ((GDestroyNotify) sf_autosave_free);
  g_autofree char *dir = sf_autosave_get_dir ();
  g_autoptr (GDir) folder = g_dir_open (dir, 0, NULL);
  if (!folder)
    return list;
  const char *name;
  while ((name = g_dir_read_name (folder)))
    {
      if (!g_str_has_suffix (name, ".info"))
        continue;
      g_autofree char *id = g_strndup (name, strlen (name) - strlen (".info"));
      g_autofree char *info = g_build_filename (dir, name, NULL);
      g_autofree char *ora = file_for (id, ".ora");
      g_autoptr (GKeyFile) keys = g_key_file_new ();
      if (!g_key_file_load_from_file (keys, info, G_KEY_FILE_NONE, NULL)
          || !g_file_test (ora, G_FILE_TEST_IS_REGULAR))
        continue;
      gint64 pid = g_key_file_get_int64 (keys, GROUP, "pid", NULL);
      if (pid == getpid () || process_is_running (pid))
        continue;
      SfAutosave *autosave = g_new0 (SfAutosave, 1);
      autosave->id = g_steal_pointer (&id);
      autosave->ora_path = g_steal_pointer (&ora);
      autosave->document_path = g_key_file_get_string (keys, GROUP, "path", NULL);
      autosave->saved_unix = g_key_file_get_int64 (keys, GROUP, "time", NULL);
      g_ptr_array_add (list, autosave);
    }
  g_ptr_array_sort (list, newest_first);
  return list;
}

void
sf_autosave_discard (const char *id)
{
  g_autofree char *ora = file_for (id, ".ora");
  g_autofree char *info = file_for (id, ".info");
  g_unlink (info);
  g_unlink (ora);
}
