#include "npy.h"

#include <gio/gio.h>
#include <string.h>

#include "dtype.h"

static gboolean
fail (GError **error, const char *path, const char *what)
{
  g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s is not a usable .npy file: %s",
               path, what);
  return FALSE;
}

/* The header is a Python dict literal: {'descr': '<f4', 'fortran_order':
 * False, 'shape': (2, 3), }. */
static gboolean
parse_header (const char *path, const char *header, char *descr, gsize descr_size, int *ndim,
              int64_t *shape, GError **error)
{
  const char *d = strstr (header, "'descr'");
  const char *f = strstr (header, "'fortran_order'");
  const char *s = strstr (header, "'shape'");
  if (!d || !f || !s)
    return fail (error, path, "header lacks descr, fortran_order or shape");
  d = strchr (d + 7, '\'');
  const char *end = d ? strchr (d + 1, '\'') : NULL;
  if (!d || !end || (gsize) (end - d - 1) >= descr_size)
    return fail (error, path, "bad descr");
  memcpy (descr, d + 1, end - d - 1);
  descr[end - d - 1] = '\0';
  if (!strstr (f, "False"))
    return fail (error, path, "Fortran order is not supported");
  const char *open = strchr (s, '(');
  const char *close = open ? strchr (open, ')') : NULL;
  if (!open || !close)
    return fail (error, path, "bad shape");
  *ndim = 0;
  for (const char *p = open + 1; p < close;)
    {
      while (p < close && (*p == ' ' || *p == ','))
        p++;
      if (p >= close)
        break;
      char *next = NULL;
      gint64 value = g_ascii_strtoll (p, &next, 10);
      if (next == p || value < 0 || *ndim >= 8)
        return fail (error, path, "bad shape");
      shape[(*ndim)++] = value;
      p = next;
    }
  return TRUE;
}

SfNpy *
sf_npy_load (const char *path, GError **error)
{
  g_autofree char *contents = NULL;
  gsize length = 0;
  if (!g_file_get_contents (path, &contents, &length, error))
    return NULL;
  if (length < 10 || memcmp (contents, "\x93NUMPY", 6) != 0)
    {
      fail (error, path, "no NUMPY magic");
      return NULL;
    }
  guint8 major = (guint8) contents[6];
  gsize header_len, offset;
  if (major == 1)
    {
      header_len = (guint8) contents[8] | ((gsize) (guint8) contents[9] << 8);
      offset = 10;
    }
  else if (length >= 12)
    {
      header_len = (guint8) contents[8] | ((gsize) (guint8) contents[9] << 8)
                   | ((gsize) (guint8) contents[10] << 16) | ((gsize) (guint8) contents[11] << 24);
      offset = 12;
    }
  else
    {
      fail (error, path, "truncated");
      return NULL;
    }
  if (header_len > length - offset)
    {
      fail (error, path, "truncated header");
      return NULL;
    }
  g_autofree char *header = g_strndup (contents + offset, header_len);
  char descr[16];
  g_autoptr (SfNpy) npy = g_new0 (SfNpy, 1);
  if (!parse_header (path, header, descr, sizeof descr, &npy->ndim, npy->shape, error))
    return NULL;
  npy->count = 1;
  for (int i = 0; i < npy->ndim; i++)
    {
      if (npy->shape[i] > 0 && npy->count > G_MAXSIZE / 16 / (gsize) npy->shape[i])
        {
          fail (error, path, "too large");
          return NULL;
        }
      npy->count *= (gsize) npy->shape[i];
    }
  gsize item;
  if (!strcmp (descr, "<f4") || !strcmp (descr, "<i4"))
    item = 4;
  else if (!strcmp (descr, "<f8") || !strcmp (descr, "<i8"))
    item = 8;
  else if (!strcmp (descr, "<f2"))
    item = 2;
  else
    {
      fail (error, path, "unsupported dtype (need <f2, <f4, <f8, <i4 or <i8)");
      return NULL;
    }
  const char *data = contents + offset + header_len;
  if (npy->count * item > length - offset - header_len)
    {
      fail (error, path, "truncated data");
      return NULL;
    }
  npy->is_int = descr[1] == 'i';
  if (npy->is_int)
    npy->i32 = g_new (gint32, MAX (npy->count, 1));
  else
    npy->f32 = g_new (float, MAX (npy->count, 1));
  for (gsize i = 0; i < npy->count; i++)
    {
      const char *p = data + i * item;
      if (!strcmp (descr, "<f4"))
        memcpy (&npy->f32[i], p, 4);
      else if (!strcmp (descr, "<f8"))
        {
          double v;
          memcpy (&v, p, 8);
          npy->f32[i] = (float) v;
        }
      else if (!strcmp (descr, "<f2"))
        {
          uint16_t v;
          memcpy (&v, p, 2);
          npy->f32[i] = sf_f16_to_f32 (v);
        }
      else if (!strcmp (descr, "<i4"))
        memcpy (&npy->i32[i], p, 4);
      else
        {
          gint64 v;
          memcpy (&v, p, 8);
          npy->i32[i] = (gint32) CLAMP (v, G_MININT32, G_MAXINT32);
        }
    }
  return g_steal_pointer (&npy);
}

void
sf_npy_free (SfNpy *npy)
{
  if (!npy)
    return;
  g_free (npy->f32);
  g_free (npy->i32);
  g_free (npy);
}

static gboolean
save (const char *path, const char *descr, const void *data, gsize item, int ndim,
      const int64_t *shape, GError **error)
{
  g_autoptr (GString) dict = g_string_new (NULL);
  g_string_append_printf (dict, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
  gsize count = 1;
  for (int i = 0; i < ndim; i++)
    {
      g_string_append_printf (dict, "%" G_GINT64_FORMAT "%s", shape[i], ndim == 1 ? "," : (i + 1 < ndim ? ", " : ""));
      count *= (gsize) shape[i];
    }
  g_string_append (dict, "), }");
  /* Pad with spaces so the data starts 64-byte aligned; end with '\n'. */
  gsize total = 10 + dict->len + 1;
  gsize padded = (total + 63) / 64 * 64;
  while (10 + dict->len + 1 < padded)
    g_string_append_c (dict, ' ');
  g_string_append_c (dict, '\n');
  g_autoptr (GByteArray) bytes = g_byte_array_new ();
  guint8 magic[10] = { 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                       (guint8) (dict->len & 0xff), (guint8) (dict->len >> 8) };
  g_byte_array_append (bytes, magic, 10);
  g_byte_array_append (bytes, (const guint8 *) dict->str, dict->len);
  g_byte_array_append (bytes, data, count * item);
  return g_file_set_contents (path, (const char *) bytes->data, bytes->len, error);
}

gboolean
sf_npy_save_f32 (const char *path, const float *data, int ndim, const int64_t *shape,
                 GError **error)
{
  return save (path, "<f4", data, 4, ndim, shape, error);
}

gboolean
sf_npy_save_i32 (const char *path, const gint32 *data, int ndim, const int64_t *shape,
                 GError **error)
{
  return save (path, "<i4", data, 4, ndim, shape, error);
}
