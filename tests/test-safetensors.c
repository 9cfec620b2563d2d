/* The .safetensors reader: valid files read back exactly, and every kind
 * of broken or hostile header is refused with a message naming the file
 * and the tensor. */
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

#include "safetensors.h"
#include "sf-test.h"

/* 8-byte length + @header + @data_size bytes of data (byte i = i * 7). */
static GBytes *
make_file_n (const char *header, gsize header_length, gsize data_size)
{
  gsize size = 8 + header_length + data_size;
  guint8 *bytes = g_malloc (size);
  for (int i = 0; i < 8; i++)
    bytes[i] = (guint8) ((guint64) header_length >> (8 * i));
  memcpy (bytes + 8, header, header_length);
  for (gsize i = 0; i < data_size; i++)
    bytes[8 + header_length + i] = (guint8) (i * 7);
  return g_bytes_new_take (bytes, size);
}

static GBytes *
make_file (const char *header, gsize data_size)
{
  return make_file_n (header, strlen (header), data_size);
}

static SfSafetensors *
parse (const char *header, gsize data_size, GError **error)
{
  g_autoptr (GBytes) bytes = make_file (header, data_size);
  return sf_safetensors_new_from_bytes (bytes, "test.safetensors", error);
}

static void
test_reads_tensors_and_metadata (void)
{
  /* Header padded with spaces as the reference writer does. */
  const char *header =
    "{\"b\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[4,28]},"
    "\"__metadata__\":{\"format\":\"pt\",\"sfumato.unet.head_dim\":\"16\"},"
    "\"a\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[0,4]},"
    "\"scalar\":{\"dtype\":\"F16\",\"shape\":[],\"data_offsets\":[28,30]},"
    "\"empty\":{\"dtype\":\"I64\",\"shape\":[0,5],\"data_offsets\":[30,30]}}     ";
  g_autoptr (GError) error = NULL;
  g_autoptr (SfSafetensors) file = parse (header, 30, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sf_safetensors_get_n_tensors (file), ==, 4);
  /* In offset order. */
  g_assert_cmpstr (sf_safetensors_get_tensor (file, 0)->name, ==, "a");
  g_assert_cmpstr (sf_safetensors_get_tensor (file, 1)->name, ==, "b");

  const SfSafetensorsTensor *b = sf_safetensors_lookup (file, "b");
  g_assert_nonnull (b);
  g_assert_cmpint (b->dtype, ==, SF_SAFETENSORS_F32);
  g_assert_cmpint (b->ndim, ==, 2);
  g_assert_cmpint (b->shape[0], ==, 2);
  g_assert_cmpint (b->shape[1], ==, 3);
  g_assert_cmpuint (b->numel, ==, 6);
  g_assert_cmpuint (b->nbytes, ==, 24);
  const guint8 *base = sf_safetensors_get_bytes (file) + 8 + strlen (header);
  g_assert_true ((const guint8 *) b->data == base + 4);
  g_assert_cmpuint (((const guint8 *) b->data)[0], ==, 28);

  const SfSafetensorsTensor *scalar = sf_safetensors_lookup (file, "scalar");
  g_assert_cmpint (scalar->ndim, ==, 0);
  g_assert_cmpuint (scalar->numel, ==, 1);
  g_assert_cmpuint (sf_safetensors_lookup (file, "empty")->nbytes, ==, 0);
  g_assert_null (sf_safetensors_lookup (file, "c"));
  g_assert_null (sf_safetensors_lookup (file, "__metadata__"));

  g_assert_cmpstr (sf_safetensors_get_metadata (file, "format"), ==, "pt");
  g_assert_cmpstr (sf_safetensors_get_metadata (file, "sfumato.unet.head_dim"), ==, "16");
  g_assert_null (sf_safetensors_get_metadata (file, "nothing"));
  g_assert_true (sf_safetensors_dtype_is_float_weight (SF_SAFETENSORS_BF16));
  g_assert_false (sf_safetensors_dtype_is_float_weight (SF_SAFETENSORS_I64));
}

static void
test_opens_files_through_a_mapping (void)
{
  const char *header = "{\"w\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[0,6]}}";
  g_autoptr (GBytes) bytes = make_file (header, 6);
  g_autofree char *dir = g_dir_make_tmp ("sf-safetensors-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "w.safetensors", NULL);
  g_assert_true (g_file_set_contents (path, g_bytes_get_data (bytes, NULL),
                                      (gssize) g_bytes_get_size (bytes), NULL));
  g_autoptr (GError) error = NULL;
  g_autoptr (SfSafetensors) file = sf_safetensors_open (path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (sf_safetensors_get_path (file), ==, path);
  g_assert_cmpuint (sf_safetensors_get_size (file), ==, g_bytes_get_size (bytes));
  const SfSafetensorsTensor *w = sf_safetensors_lookup (file, "w");
  g_assert_cmpmem (w->data, 6, (const guint8 *) g_bytes_get_data (bytes, NULL) + 8 + strlen (header), 6);
  g_clear_pointer (&file, sf_safetensors_free);

  g_autofree char *missing = g_build_filename (dir, "missing.safetensors", NULL);
  g_assert_null (sf_safetensors_open (missing, &error));
  g_assert_error (error, SF_SAFETENSORS_ERROR, SF_SAFETENSORS_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "missing.safetensors"));
  g_clear_error (&error);
  g_assert_null (sf_safetensors_open (dir, &error));
  g_assert_error (error, SF_SAFETENSORS_ERROR, SF_SAFETENSORS_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "not a regular file"));
  g_remove (path);
  g_rmdir (dir);
}

/* Resident kilobytes of the mapping holding @address (/proc/self/smaps). */
static gsize
mapping_rss_kib (const void *address)
{
  g_autofree char *smaps = NULL;
  g_assert_true (g_file_get_contents ("/proc/self/smaps", &smaps, NULL, NULL));
  gboolean inside = FALSE;
  g_auto (GStrv) lines = g_strsplit (smaps, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    {
      guint64 start, end;
      /* A mapping's line starts "start-end "; its fields ("Rss:") follow. */
      if (sscanf (lines[i], "%" G_GINT64_MODIFIER "x-%" G_GINT64_MODIFIER "x ", &start, &end) == 2)
        inside = (guintptr) address >= start && (guintptr) address < end;
      else if (inside && g_str_has_prefix (lines[i], "Rss:"))
        return (gsize) g_ascii_strtoull (lines[i] + 4, NULL, 10);
    }
  g_assert_not_reached ();
}

static void
test_released_tensors_leave_memory_and_read_back (void)
{
  /* 256 KiB of tensor data in a mapped file. */
  enum { N = 256 * 1024 };
  g_autofree char *header = g_strdup_printf (
    "{\"w\":{\"dtype\":\"U8\",\"shape\":[%d],\"data_offsets\":[0,%d]}}", N, N);
  g_autoptr (GBytes) bytes = make_file (header, N);
  g_autofree char *dir = g_dir_make_tmp ("sf-safetensors-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "w.safetensors", NULL);
  g_assert_true (g_file_set_contents (path, g_bytes_get_data (bytes, NULL),
                                      (gssize) g_bytes_get_size (bytes), NULL));
  const guint8 *expected = (const guint8 *) g_bytes_get_data (bytes, NULL) + 8 + strlen (header);
  g_autoptr (GError) error = NULL;
  g_autoptr (SfSafetensors) file = sf_safetensors_open (path, &error);
  g_assert_no_error (error);
  const SfSafetensorsTensor *w = sf_safetensors_lookup (file, "w");
  g_assert_cmpmem (w->data, N, expected, N);
  gsize before = mapping_rss_kib (w->data);
  g_assert_cmpuint (before, >=, N / 1024);
  sf_safetensors_release (file, w);
  gsize after = mapping_rss_kib (w->data);
  g_test_message ("mapping resident: %zu KiB read, %zu KiB released", before, after);
  g_assert_cmpuint (after, <=, 8); /* the header page and the tensor's edges at most */
  /* Read again, from the file. */
  g_assert_cmpmem (w->data, N, expected, N);
  g_clear_pointer (&file, sf_safetensors_free);
  g_remove (path);
  g_rmdir (dir);

  /* Bytes in memory are left alone. */
  g_autoptr (SfSafetensors) in_memory = sf_safetensors_new_from_bytes (bytes, "w", &error);
  g_assert_no_error (error);
  const SfSafetensorsTensor *m = sf_safetensors_lookup (in_memory, "w");
  sf_safetensors_release (in_memory, m);
  g_assert_cmpmem (m->data, N, expected, N);
}

/* Each header must be refused with a message containing @expect. */
static void
assert_refused (const char *header, gsize data_size, const char *expect)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SfSafetensors) file = parse (header, data_size, &error);
  if (file || !error)
    g_error ("accepted a bad header: %s", header);
  g_assert_error (error, SF_SAFETENSORS_ERROR, SF_SAFETENSORS_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "test.safetensors"));
  if (!strstr (error->message, expect))
    g_error ("message “%s” lacks “%s”", error->message, expect);
}

static void
test_refuses_bad_headers (void)
{
  assert_refused ("", 0, "not a JSON object");
  assert_refused ("[1,2]", 0, "not a JSON object");
  assert_refused ("{\"a\":", 0, "not valid JSON");
  assert_refused ("{\"a\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,2]}", 2,
                  "not valid JSON");
  assert_refused ("{\"a\xff\":1}", 0, "not UTF-8");
  g_autoptr (GBytes) nul = make_file_n ("{\"a\":\"\0\"}", 8, 0);
  g_autoptr (GError) error = NULL;
  g_assert_null (sf_safetensors_new_from_bytes (nul, "nul", &error));
  g_assert_nonnull (strstr (error->message, "not UTF-8"));
  assert_refused ("{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}", 0,
                  "nests deeper");
  assert_refused ("{\"a\":1}", 0, "tensor “a” is not an object");
  assert_refused ("{\"a\":{\"dtype\":\"F16\",\"shape\":[1]}}", 0, "lacks dtype, shape or data_offsets");
  assert_refused ("{\"w\":{\"dtype\":\"F17\",\"shape\":[1],\"data_offsets\":[0,2]}}", 2,
                  "tensor “w”: unknown dtype “F17”");
  assert_refused ("{\"w\":{\"dtype\":16,\"shape\":[1],\"data_offsets\":[0,2]}}", 2, "dtype is not a string");
  assert_refused ("{\"w\":{\"dtype\":\"F16\",\"shape\":[-1],\"data_offsets\":[0,2]}}", 2,
                  "shape[0] is not a non-negative integer");
  assert_refused ("{\"w\":{\"dtype\":\"F16\",\"shape\":[1.0],\"data_offsets\":[0,2]}}", 2,
                  "shape[0] is not a non-negative integer");
  assert_refused ("{\"w\":{\"dtype\":\"F16\",\"shape\":3,\"data_offsets\":[0,2]}}", 2, "shape is not an array");
  assert_refused ("{\"w\":{\"dtype\":\"F16\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,2]}}", 2,
                  "has 9 dimensions");
  assert_refused ("{\"w\":{\"dtype\":\"F16\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,2]}}",
                  2, "element count overflows");
  assert_refused ("{\"w\":{\"dtype\":\"F64\",\"shape\":[4611686018427387904],\"data_offsets\":[0,2]}}",
                  2, "byte size overflows");
  assert_refused ("{\"w\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2,
                  "make 4 bytes but data_offsets span 2");
  assert_refused ("{\"w\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[2,0]}}", 2,
                  "outside the data section");
  assert_refused ("{\"w\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,4]}}", 2,
                  "outside the data section");
  assert_refused ("{\"w\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0]}}", 2,
                  "data_offsets is not a pair");
  assert_refused ("{\"w\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,\"2\"]}}", 2,
                  "data_offsets are not non-negative integers");
  assert_refused ("{\"w\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,99999999999999999999]}}",
                  2, "w");
  assert_refused ("{\"a\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]},"
                  "\"b\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[2,6]}}", 6,
                  "tensor “b” begins at 2 in the data section where 4 was expected (it overlaps");
  assert_refused ("{\"a\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,2]},"
                  "\"b\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[4,6]}}", 6,
                  "tensor “b” begins at 4 in the data section where 2 was expected (a gap)");
  assert_refused ("{\"a\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,2]}}", 3,
                  "the data section has 3 bytes but the tensors cover 2");
  assert_refused ("{\"__metadata__\":{\"k\":1}}", 0, "__metadata__ value “k” is not a string");
  assert_refused ("{\"__metadata__\":[]}", 0, "__metadata__ is not an object");
}

static void
test_refuses_bad_lengths (void)
{
  g_autoptr (GError) error = NULL;
  const guint8 short_file[5] = { 1, 2, 3, 4, 5 };
  g_autoptr (GBytes) bytes = g_bytes_new_static (short_file, sizeof short_file);
  g_assert_null (sf_safetensors_new_from_bytes (bytes, "short", &error));
  g_assert_error (error, SF_SAFETENSORS_ERROR, SF_SAFETENSORS_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "too short"));
  g_clear_error (&error);

  /* Length beyond the 100 MB limit, and beyond the file. */
  guint8 huge[16] = { 0x01, 0xe1, 0xf5, 0x05, 0, 0, 0, 0, '{', '}' }; /* 100,000,001 */
  g_autoptr (GBytes) huge_bytes = g_bytes_new_static (huge, sizeof huge);
  g_assert_null (sf_safetensors_new_from_bytes (huge_bytes, "huge", &error));
  g_assert_nonnull (strstr (error->message, "exceeds the limit"));
  g_clear_error (&error);
  guint8 past[16] = { 9, 0, 0, 0, 0, 0, 0, 0, '{', '}', ' ', ' ', ' ', ' ', ' ', ' ' };
  g_autoptr (GBytes) past_bytes = g_bytes_new_static (past, sizeof past);
  g_assert_null (sf_safetensors_new_from_bytes (past_bytes, "past", &error));
  g_assert_nonnull (strstr (error->message, "runs past the end"));
  g_clear_error (&error);
  guint8 top[16] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, '{', '}' };
  g_autoptr (GBytes) top_bytes = g_bytes_new_static (top, sizeof top);
  g_assert_null (sf_safetensors_new_from_bytes (top_bytes, "top", &error));
  g_assert_nonnull (strstr (error->message, "exceeds the limit"));
}

/* Every file of the fuzz seed corpus either parses or fails cleanly, and
 * the ones named valid-* parse. */
static void
test_seed_corpus_parses_or_fails_cleanly (void)
{
  const char *data = g_getenv ("SF_TEST_DATA");
  g_assert_nonnull (data);
  g_autofree char *tests = g_path_get_dirname (data);
  g_autofree char *dir = g_build_filename (tests, "fuzz", "safetensors-corpus", NULL);
  g_autoptr (GDir) listing = g_dir_open (dir, 0, NULL);
  g_assert_nonnull (listing);
  guint valid = 0, hostile = 0;
  const char *name;
  while ((name = g_dir_read_name (listing)))
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autoptr (GError) error = NULL;
      g_autoptr (SfSafetensors) file = sf_safetensors_open (path, &error);
      if (g_str_has_prefix (name, "valid-"))
        {
          g_assert_no_error (error);
          valid++;
        }
      else
        {
          if (file)
            g_error ("hostile seed %s was accepted", name);
          g_assert_error (error, SF_SAFETENSORS_ERROR, SF_SAFETENSORS_ERROR_INVALID);
          hostile++;
        }
    }
  g_assert_cmpuint (valid, >=, 3);
  g_assert_cmpuint (hostile, >=, 10);
}

int
main (int argc, char **argv)
{
  sf_test_init (&argc, &argv);
  sf_test_add ("/safetensors/reads-tensors-and-metadata", test_reads_tensors_and_metadata);
  sf_test_add ("/safetensors/opens-files-through-a-mapping", test_opens_files_through_a_mapping);
  sf_test_add ("/safetensors/released-tensors-leave-memory-and-read-back",
               test_released_tensors_leave_memory_and_read_back);
  sf_test_add ("/safetensors/refuses-bad-headers-naming-the-tensor", test_refuses_bad_headers);
  sf_test_add ("/safetensors/refuses-bad-header-lengths", test_refuses_bad_lengths);
  sf_test_add ("/safetensors/seed-corpus-parses-or-fails-cleanly", test_seed_corpus_parses_or_fails_cleanly);
  return sf_test_run ();
}
