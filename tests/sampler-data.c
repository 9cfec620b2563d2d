#include "sampler-data.h"

#include <string.h>

static char *
data_path (const char *name)
{
  const char *root = g_getenv ("SF_TEST_DATA");
  g_assert_nonnull (root);
  return g_build_filename (root, "sampler", name, NULL);
}

float *
sf_sampler_data_npy (const char *name, gsize *count, int *ndim, gint64 *shape)
{
  g_autofree char *path = data_path (name);
  g_autofree char *bytes = NULL;
  gsize length = 0;
  g_autoptr (GError) error = NULL;
  g_file_get_contents (path, &bytes, &length, &error);
  g_assert_no_error (error);

  /* NPY 1.0: magic, version, little-endian u16 header length, header. */
  g_assert_cmpuint (length, >=, 10);
  g_assert_true (memcmp (bytes, "\x93NUMPY", 6) == 0);
  g_assert_cmpint (bytes[6], ==, 1);
  gsize header_length = (guint8) bytes[8] | ((gsize) (guint8) bytes[9] << 8);
  g_assert_cmpuint (10 + header_length, <=, length);
  g_autofree char *header = g_strndup (bytes + 10, header_length);
  g_assert_nonnull (strstr (header, "'descr': '<f4'"));
  g_assert_nonnull (strstr (header, "'fortran_order': False"));
  const char *p = strstr (header, "'shape': (");
  g_assert_nonnull (p);
  p += strlen ("'shape': (");
  int dims = 0;
  gsize elements = 1;
  while (*p && *p != ')')
    {
      char *end;
      gint64 d = g_ascii_strtoll (p, &end, 10);
      if (end == p)
        {
          p++;
          continue;
        }
      g_assert_cmpint (dims, <, 8);
      shape[dims++] = d;
      elements *= (gsize) d;
      p = end;
    }
  g_assert_cmpuint (10 + header_length + elements * 4, ==, length);
  float *data = g_new (float, MAX (elements, 1));
  memcpy (data, bytes + 10 + header_length, elements * 4);
  *count = elements;
  *ndim = dims;
  return data;
}

JsonParser *
sf_sampler_data_json (const char *name)
{
  g_autofree char *path = data_path (name);
  JsonParser *parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);
  return parser;
}

double *
sf_sampler_data_doubles (JsonArray *array, guint *length)
{
  guint n = json_array_get_length (array);
  double *values = g_new (double, MAX (n, 1));
  for (guint i = 0; i < n; i++)
    values[i] = json_array_get_double_element (array, i);
  *length = n;
  return values;
}
