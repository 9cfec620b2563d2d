/* Runs a libFuzzer target over files and folders of inputs without
 * libFuzzer: ctest uses it to replay the seed corpora in every build
 * (under ASan+UBSan in the sanitizer build). */
#include <glib.h>
#include <stdint.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static int
run_file (const char *path)
{
  g_autofree char *contents = NULL;
  gsize length = 0;
  g_autoptr (GError) error = NULL;
  if (!g_file_get_contents (path, &contents, &length, &error))
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  /* An exact-size copy, so ASan sees reads past the end. */
  g_autofree uint8_t *copy = g_memdup2 (contents, length);
  LLVMFuzzerTestOneInput (copy, length);
  return 0;
}

int
main (int argc, char **argv)
{
  int failures = 0, count = 0;
  for (int i = 1; i < argc; i++)
    {
      if (!g_file_test (argv[i], G_FILE_TEST_IS_DIR))
        {
          failures += run_file (argv[i]);
          count++;
          continue;
        }
      g_autoptr (GDir) dir = g_dir_open (argv[i], 0, NULL);
      const char *name;
      while (dir && (name = g_dir_read_name (dir)))
        {
          g_autofree char *path = g_build_filename (argv[i], name, NULL);
          failures += run_file (path);
          count++;
        }
    }
  printf ("%d inputs, %d unreadable\n", count, failures);
  return failures || count == 0 ? 1 : 0;
}
