/* .npy files: what the reference wrote reads back, and ours round-trip. */
#include <glib/gstdio.h>
#include <string.h>

#include "npy.h"
#include "sf-test.h"

static char *
data_path (const char *relative)
{
  return g_build_filename (g_getenv ("SF_TEST_DATA"), relative, NULL);
}

static void
test_reads_reference_arrays (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *ids_path = data_path ("ref/prompts/main_tokens_l.npy");
  g_autoptr (SfNpy) ids = sf_npy_load (ids_path, &error);
  g_assert_no_error (error);
  g_assert_true (ids->is_int);
  g_assert_cmpint (ids->ndim, ==, 2);
  g_assert_cmpint (ids->shape[0], ==, 1);
  g_assert_cmpint (ids->shape[1], ==, 77);
  g_assert_cmpint (ids->i32[0], ==, 49406); /* BOS */

  g_autofree char *cond_path = data_path ("ref/prompts/main_cond.npy");
  g_autoptr (SfNpy) cond = sf_npy_load (cond_path, &error);
  g_assert_no_error (error);
  g_assert_false (cond->is_int);
  g_assert_cmpint (cond->ndim, ==, 3);
  g_assert_cmpuint (cond->count, ==, (gsize) cond->shape[0] * cond->shape[1] * cond->shape[2]);
}

static void
test_round_trips_and_rejects_damage (void)
{
  g_autofree char *dir = g_dir_make_tmp ("sfumato-npy-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "a.npy", NULL);
  float values[2 * 3 * 5];
  for (int i = 0; i < 30; i++)
    values[i] = (float) i * 0.5f - 3.0f;
  int64_t shape[3] = { 2, 3, 5 };
  g_autoptr (GError) error = NULL;
  g_assert_true (sf_npy_save_f32 (path, values, 3, shape, &error));
  g_autoptr (SfNpy) back = sf_npy_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (back->ndim, ==, 3);
  g_assert_cmpint (back->shape[2], ==, 5);
  g_assert_cmpmem (back->f32, sizeof values, values, sizeof values);

  gint32 ids[7] = { 1, -2, 3, 49407, 0, 5, 6 };
  int64_t n = 7;
  g_assert_true (sf_npy_save_i32 (path, ids, 1, &n, &error));
  g_clear_pointer (&back, sf_npy_free);
  back = sf_npy_load (path, &error);
  g_assert_no_error (error);
  g_assert_true (back->is_int);
  g_assert_cmpint (back->ndim, ==, 1);
  g_assert_cmpmem (back->i32, sizeof ids, ids, sizeof ids);

  /* Truncated data, a bad magic, and an unknown dtype are errors. */
  g_autofree char *contents = NULL;
  gsize length = 0;
  g_assert_true (g_file_get_contents (path, &contents, &length, NULL));
  g_assert_true (g_file_set_contents (path, contents, (gssize) length - 4, NULL));
  g_assert_null (sf_npy_load (path, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_true (g_file_set_contents (path, "NOTNUMPY....", -1, NULL));
  g_assert_null (sf_npy_load (path, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  char *bad = g_memdup2 (contents, length);
  char *descr = memmem (bad, length, "<i4", 3);
  g_assert_nonnull (descr);
  memcpy (descr, "|b1", 3);
  g_assert_true (g_file_set_contents (path, bad, (gssize) length, NULL));
  g_free (bad);
  g_assert_null (sf_npy_load (path, &error));
  g_assert_nonnull (strstr (error->message, "dtype"));
  g_remove (path);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  sf_test_init (&argc, &argv);
  sf_test_add ("/npy/reads-the-reference-arrays", test_reads_reference_arrays);
  sf_test_add ("/npy/round-trips-and-rejects-damage", test_round_trips_and_rejects_damage);
  return sf_test_run ();
}
