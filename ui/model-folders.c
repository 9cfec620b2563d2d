#include "model-folders.h"

#include <stdlib.h>
#include <string.h>

/* Deep enough for A1111's habit of sorting models into subfolders, shallow
 * enough that a folder pointed at $HOME does not crawl the disk. */
#define MAX_DEPTH 3

char *
sf_model_folders_get_own (void)
{
  /* Read the environment each time: GLib caches its own answer, and the
   * tests change XDG_DATA_HOME. */
  const char *data = g_getenv ("XDG_DATA_HOME");
  if (data && g_path_is_absolute (data))
    return g_build_filename (data, "sfumato", "models", NULL);
  return g_build_filename (g_get_home_dir (), ".local", "share", "sfumato", "models", NULL);
}

static void
add_folder (GPtrArray *folders, char *path)
{
  g_autofree char *owned = path;
  if (!path || !*path)
    return;
  g_autofree char *canonical = g_canonicalize_filename (path, NULL);
  for (guint i = 0; i < folders->len; i++)
    if (strcmp (folders->pdata[i], canonical) == 0)
      return;
  g_ptr_array_add (folders, g_steal_pointer (&canonical));
}

static gboolean
has_key (GSettings *settings, const char *key)
{
  if (!settings)
    return FALSE;
  g_autoptr (GSettingsSchema) schema = NULL;
  g_object_get (settings, "settings-schema", &schema, NULL);
  return schema && g_settings_schema_has_key (schema, key);
}

/* ~ at the start of a folder written in the settings means the home. */
static char *
expand_home (const char *path)
{
  if (path[0] == '~' && (path[1] == '/' || path[1] == '\0'))
    return g_build_filename (g_get_home_dir (), path + 1, NULL);
  return g_strdup (path);
}

GPtrArray *
sf_model_folders_list (GSettings *settings)
{
  GPtrArray *folders = g_ptr_array_new_with_free_func (g_free);
  const char *override = g_getenv ("SFUMATO_MODEL_DIRS");
  if (override && *override)
    {
      g_auto (GStrv) parts = g_strsplit (override, G_SEARCHPATH_SEPARATOR_S, -1);
      for (char **p = parts; *p; p++)
        add_folder (folders, expand_home (*p));
      return folders;
    }

  const char *home = g_get_home_dir ();
  add_folder (folders, g_build_filename (home, "stable-diffusion-webui", "models", "Stable-diffusion", NULL));
  if (has_key (settings, "a1111-root"))
    {
      g_autofree char *root = g_settings_get_string (settings, "a1111-root");
      if (*root)
        {
          g_autofree char *expanded = expand_home (root);
          add_folder (folders, g_build_filename (expanded, "models", "Stable-diffusion", NULL));
        }
    }
  add_folder (folders, g_build_filename (home, "ComfyUI", "models", "checkpoints", NULL));
  if (has_key (settings, "comfyui-root"))
    {
      g_autofree char *root = g_settings_get_string (settings, "comfyui-root");
      if (*root)
        {
          g_autofree char *expanded = expand_home (root);
          add_folder (folders, g_build_filename (expanded, "models", "checkpoints", NULL));
        }
    }
  add_folder (folders, sf_model_folders_get_own ());
  if (has_key (settings, "model-folders"))
    {
      g_auto (GStrv) extra = g_settings_get_strv (settings, "model-folders");
      for (char **p = extra; *p; p++)
        add_folder (folders, expand_home (*p));
    }
  return folders;
}

static void
model_file_free (gpointer data)
{
  SfModelFile *file = data;
  g_free (file->path);
  g_free (file->name);
  g_free (file);
}

static gboolean
is_checkpoint (const char *name)
{
  gsize length = strlen (name);
  return length > 12 && g_ascii_strcasecmp (name + length - 12, ".safetensors") == 0 && name[0] != '.';
}

static void
scan_folder (const char *folder, const char *prefix, int depth, GPtrArray *files, GHashTable *seen)
{
  g_autoptr (GDir) dir = g_dir_open (folder, 0, NULL);
  if (!dir)
    return;
  const char *entry;
  while ((entry = g_dir_read_name (dir)))
    {
      g_autofree char *path = g_build_filename (folder, entry, NULL);
      g_autofree char *name = prefix ? g_build_filename (prefix, entry, NULL) : g_strdup (entry);
      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        {
          if (depth < MAX_DEPTH && entry[0] != '.')
            scan_folder (path, name, depth + 1, files, seen);
        }
      else if (is_checkpoint (entry) && g_file_test (path, G_FILE_TEST_IS_REGULAR))
        {
          /* The same file reached through two folders (a symlinked
           * models folder shared by A1111 and ComfyUI) is listed once. */
          g_autofree char *real = g_canonicalize_filename (path, NULL);
          char *resolved = realpath (real, NULL);
          char *key = resolved ? resolved : g_strdup (real);
          if (g_hash_table_contains (seen, key))
            {
              free (key);
              continue;
            }
          g_hash_table_add (seen, key);
          SfModelFile *file = g_new0 (SfModelFile, 1);
          file->path = g_steal_pointer (&path);
          file->name = g_steal_pointer (&name);
          g_ptr_array_add (files, file);
        }
    }
}

static int
compare_files (gconstpointer a, gconstpointer b)
{
  const SfModelFile *x = *(SfModelFile *const *) a, *y = *(SfModelFile *const *) b;
  g_autofree char *kx = g_utf8_collate_key_for_filename (x->name, -1);
  g_autofree char *ky = g_utf8_collate_key_for_filename (y->name, -1);
  int order = strcmp (kx, ky);
  return order ? order : strcmp (x->path, y->path);
}

GPtrArray *
sf_model_folders_scan (GPtrArray *folders)
{
  GPtrArray *files = g_ptr_array_new_with_free_func (model_file_free);
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, free, NULL);
  for (guint i = 0; i < folders->len; i++)
    scan_folder (folders->pdata[i], NULL, 0, files, seen);
  g_ptr_array_sort (files, compare_files);
  return files;
}
