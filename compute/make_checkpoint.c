#include "make_checkpoint.h"

#include <errno.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
  GArray *tensors;   /* SfArchTensor with owned names */
} Collect;

static void
collect (const SfArchTensor *tensor, gpointer data)
{
  Collect *c = data;
  SfArchTensor copy = *tensor;
  copy.name = g_strdup (tensor->name);
  g_array_append_val (c->tensors, copy);
}

static void
clear_tensor (gpointer data)
{
  g_free ((char *) ((SfArchTensor *) data)->name);
}

static guint64
element_count (const SfArchTensor *t)
{
  guint64 n = 1;
  for (int i = 0; i < t->ndim; i++)
    n *= (guint64) t->shape[i];
  return n;
}

static gsize
element_size (const SfArchTensor *t, SfDType dtype)
{
  return t->int64 ? 8 : sf_dtype_size (dtype);
}

/* xoshiro256**, seeded per tensor so the output does not depend on order. */
typedef struct { guint64 s[4]; } Rng;

static guint64
rotl (guint64 x, int k)
{
  return (x << k) | (x >> (64 - k));
}

static guint64
rng_next (Rng *r)
{
  guint64 result = rotl (r->s[1] * 5, 7) * 9, t = r->s[1] << 17;
  r->s[2] ^= r->s[0];
  r->s[3] ^= r->s[1];
  r->s[1] ^= r->s[2];
  r->s[0] ^= r->s[3];
  r->s[2] ^= t;
  r->s[3] = rotl (r->s[3], 45);
  return result;
}

static void
rng_seed (Rng *r, guint64 seed)
{
  for (int i = 0; i < 4; i++)
    {
      guint64 z = (seed += 0x9e3779b97f4a7c15ull);
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
      r->s[i] = z ^ (z >> 31);
    }
}

/* Two standard normals per call (Box–Muller). */
static void
rng_normal2 (Rng *r, float *a, float *b)
{
  guint64 bits = rng_next (r);
  float u1 = ((float) (bits >> 40) + 1.0f) * (1.0f / 16777217.0f);
  float u2 = (float) ((bits >> 16) & 0xffffff) * (1.0f / 16777216.0f);
  float radius = sqrtf (-2.0f * logf (u1));
  *a = radius * cosf (6.2831853f * u2);
  *b = radius * sinf (6.2831853f * u2);
}

static void
fill_values (const SfArchTensor *t, Rng *rng, float *out, gsize count)
{
  float mean = 0.0f, std = 0.02f;
  switch (t->init)
    {
    case SF_INIT_WEIGHT:
      std = 1.0f / sqrtf ((float) MAX (t->fan_in, 1));
      break;
    case SF_INIT_NORM_SCALE:
      mean = 1.0f;
      break;
    case SF_INIT_LOGIT_SCALE:
      for (gsize i = 0; i < count; i++)
        out[i] = logf (100.0f);
      return;
    default:
      break;
    }
  for (gsize i = 0; i < count; i += 2)
    {
      float a, b;
      rng_normal2 (rng, &a, &b);
      out[i] = mean + std * a;
      if (i + 1 < count)
        out[i + 1] = mean + std * b;
    }
}

static char *
build_header (GArray *tensors, const SfSdxlArch *arch, SfDType dtype, guint64 seed)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "__metadata__");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "format");
  json_builder_add_string_value (builder, "pt");
  json_builder_set_member_name (builder, "sfumato.random_weights");
  g_autofree char *seed_text = g_strdup_printf ("%" G_GUINT64_FORMAT, seed);
  json_builder_add_string_value (builder, seed_text);
  json_builder_set_member_name (builder, "sfumato.arch");
  json_builder_add_string_value (builder, arch->name);
  json_builder_end_object (builder);
  guint64 offset = 0;
  for (guint i = 0; i < tensors->len; i++)
    {
      const SfArchTensor *t = &g_array_index (tensors, SfArchTensor, i);
      guint64 bytes = element_count (t) * element_size (t, dtype);
      json_builder_set_member_name (builder, t->name);
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "dtype");
      json_builder_add_string_value (builder, t->int64 ? "I64"
                                              : dtype == SF_DTYPE_F16 ? "F16" : "F32");
      json_builder_set_member_name (builder, "shape");
      json_builder_begin_array (builder);
      for (int d = 0; d < t->ndim; d++)
        json_builder_add_int_value (builder, t->shape[d]);
      json_builder_end_array (builder);
      json_builder_set_member_name (builder, "data_offsets");
      json_builder_begin_array (builder);
      json_builder_add_int_value (builder, (gint64) offset);
      json_builder_add_int_value (builder, (gint64) (offset + bytes));
      json_builder_end_array (builder);
      json_builder_end_object (builder);
      offset += bytes;
    }
  json_builder_end_object (builder);
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autoptr (JsonNode) root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  return json_generator_to_data (generator, NULL);
}

static gboolean
write_all (FILE *file, const void *data, gsize bytes, const char *path, GError **error)
{
  if (fwrite (data, 1, bytes, file) == bytes)
    return TRUE;
  int saved = errno;
  g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "Could not write %s: %s",
               path, g_strerror (saved));
  return FALSE;
}

gboolean
sf_make_random_checkpoint (const SfSdxlArch *arch, const char *path, SfDType dtype, guint64 seed,
                           void (*progress) (double fraction, gpointer data), gpointer data,
                           GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (dtype == SF_DTYPE_F16 || dtype == SF_DTYPE_F32, FALSE);
  Collect c = { g_array_new (FALSE, FALSE, sizeof (SfArchTensor)) };
  g_array_set_clear_func (c.tensors, clear_tensor);
  g_autoptr (GArray) tensors = c.tensors;
  sf_sdxl_arch_enumerate (arch, collect, &c);

  g_autofree char *header = build_header (tensors, arch, dtype, seed);
  gsize header_len = strlen (header);
  gsize padded = (header_len + 7) / 8 * 8;
  guint64 total = 0;
  for (guint i = 0; i < tensors->len; i++)
    {
      const SfArchTensor *t = &g_array_index (tensors, SfArchTensor, i);
      total += element_count (t) * element_size (t, dtype);
    }

  g_autofree char *tmp = g_strdup_printf ("%s.partial-XXXXXX", path);
  int fd = g_mkstemp (tmp);
  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                   "Could not create a file next to %s: %s", path, g_strerror (saved));
      return FALSE;
    }
  /* mkstemp makes the file private; a checkpoint is an ordinary file. */
  mode_t mask = umask (0);
  umask (mask);
  fchmod (fd, 0666 & ~mask);
  FILE *file = fdopen (fd, "wb");
  guint8 length[8];
  for (int i = 0; i < 8; i++)
    length[i] = (guint8) ((guint64) padded >> (8 * i));
  gboolean ok = write_all (file, length, 8, path, error)
                && write_all (file, header, header_len, path, error);
  for (gsize i = header_len; ok && i < padded; i++)
    ok = write_all (file, " ", 1, path, error);

  const gsize chunk = 1 << 20;
  g_autofree float *values = g_new (float, chunk);
  g_autofree guint8 *bytes = g_malloc (chunk * 8);
  guint64 written = 0;
  for (guint i = 0; ok && i < tensors->len; i++)
    {
      const SfArchTensor *t = &g_array_index (tensors, SfArchTensor, i);
      Rng rng;
      rng_seed (&rng, seed * 0x100000001b3ull + i);
      guint64 n = element_count (t);
      for (guint64 first = 0; ok && first < n; first += chunk)
        {
          gsize count = (gsize) MIN (chunk, n - first);
          gsize out_bytes;
          if (t->int64)
            {
              for (gsize j = 0; j < count; j++)
                {
                  gint64 v = (gint64) (first + j);
                  memcpy (bytes + 8 * j, &v, 8);
                }
              out_bytes = count * 8;
            }
          else
            {
              fill_values (t, &rng, values, count);
              if (dtype == SF_DTYPE_F16)
                sf_f32_to_f16_array (values, (uint16_t *) bytes, count);
              else
                memcpy (bytes, values, count * 4);
              out_bytes = count * sf_dtype_size (dtype);
            }
          ok = write_all (file, bytes, out_bytes, path, error);
          written += out_bytes;
          if (ok && g_cancellable_set_error_if_cancelled (cancellable, error))
            ok = FALSE;
          if (ok && progress)
            progress ((double) written / (double) total, data);
        }
    }
  if (ok && (fflush (file) != 0 || fsync (fileno (file)) != 0))
    {
      int saved = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "Could not write %s: %s",
                   path, g_strerror (saved));
      ok = FALSE;
    }
  if (fclose (file) != 0 && ok)
    {
      int saved = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "Could not write %s: %s",
                   path, g_strerror (saved));
      ok = FALSE;
    }
  if (ok && rename (tmp, path) != 0)
    {
      int saved = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                   "Could not move the new checkpoint to %s: %s", path, g_strerror (saved));
      ok = FALSE;
    }
  if (!ok)
    unlink (tmp);
  return ok;
}
