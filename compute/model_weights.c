#include "model_weights.h"

#include <stdarg.h>
#include <string.h>

#include "vk_error.h"

void
sf_weight_loader_init (SfWeightLoader *loader, SfCheckpoint *checkpoint, SfArena *arena,
                       SfDType matrix_dtype)
{
  memset (loader, 0, sizeof *loader);
  loader->checkpoint = checkpoint;
  loader->arena = arena;
  loader->matrix_dtype = matrix_dtype;
  loader->tensors = g_ptr_array_new_with_free_func ((GDestroyNotify) sf_tensor_free);
}

gboolean
sf_weight_loader_finish (SfWeightLoader *loader, GError **error)
{
  if (!loader->error)
    return TRUE;
  g_propagate_error (error, g_steal_pointer (&loader->error));
  return FALSE;
}

/* Reads NAME converted to @want; NULL (and the loader's error) on failure. */
static void *
read_tensor (SfWeightLoader *loader, const char *name, SfDType want, SfDType *got, int *ndim,
             int64_t shape[4])
{
  if (loader->error)
    return NULL;
  for (int i = 0; i < 4; i++)
    shape[i] = 1;
  if (!sf_checkpoint_get_shape (loader->checkpoint, name, ndim, shape))
    {
      g_set_error (&loader->error, SF_VK_ERROR, SF_VK_ERROR_INVALID,
                   "The checkpoint has no tensor %s", name);
      return NULL;
    }
  void *data = NULL;
  if (!sf_checkpoint_read (loader->checkpoint, name, want, got, &data, &loader->error))
    return NULL;
  return data;
}

static char *
format_name (const char *format, va_list args)
{
  return g_strdup_vprintf (format, args);
}

static gboolean
expect_ndim (SfWeightLoader *loader, const char *name, int ndim, int lo, int hi)
{
  if (ndim >= lo && ndim <= hi)
    return TRUE;
  g_set_error (&loader->error, SF_VK_ERROR, SF_VK_ERROR_INVALID,
               "Tensor %s has %d dimensions; expected %d to %d", name, ndim, lo, hi);
  return FALSE;
}

SfTensor *
sf_weight_loader_keep (SfWeightLoader *loader, SfTensor *tensor)
{
  if (tensor)
    {
      loader->bytes += sf_tensor_bytes (tensor);
      g_ptr_array_add (loader->tensors, tensor);
    }
  return tensor;
}

#define track sf_weight_loader_keep

gboolean
sf_weight_exists (SfWeightLoader *loader, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *name = format_name (format, args);
  va_end (args);
  return sf_checkpoint_has (loader->checkpoint, name);
}

gboolean
sf_weight_shape (SfWeightLoader *loader, int *ndim, int64_t shape[4], const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *name = format_name (format, args);
  va_end (args);
  for (int i = 0; i < 4; i++)
    shape[i] = 1;
  return sf_checkpoint_get_shape (loader->checkpoint, name, ndim, shape);
}

static SfTensor *
load_matrix (SfWeightLoader *loader, const char *name, int64_t first, int64_t count,
             gboolean geglu)
{
  SfDType got;
  int ndim;
  int64_t shape[4];
  g_autofree guint8 *data = read_tensor (loader, name, loader->matrix_dtype, &got, &ndim, shape);
  if (!data || !expect_ndim (loader, name, ndim, 2, 4))
    return NULL;
  if (shape[2] != 1 || shape[3] != 1)
    {
      g_set_error (&loader->error, SF_VK_ERROR, SF_VK_ERROR_INVALID,
                   "Tensor %s is not a linear layer or 1×1 convolution", name);
      return NULL;
    }
  int64_t n = shape[0], k = shape[1];
  if (count < 0)
    count = n;
  if (first < 0 || first + count > n)
    {
      g_set_error (&loader->error, SF_VK_ERROR, SF_VK_ERROR_INVALID,
                   "Tensor %s has %" G_GINT64_FORMAT " rows, not %" G_GINT64_FORMAT, name, n,
                   first + count);
      return NULL;
    }
  const guint8 *rows = data + (gsize) (first * k) * sf_dtype_size (got);
  if (geglu)
    return track (loader, sf_weight_new_geglu (loader->arena, loader->matrix_dtype, count / 2, k,
                                               rows, got, &loader->error));
  return track (loader, sf_weight_new_linear (loader->arena, loader->matrix_dtype, count, k, rows,
                                              got, &loader->error));
}

SfTensor *
sf_load_linear (SfWeightLoader *loader, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *prefix = format_name (format, args);
  va_end (args);
  g_autofree char *name = g_strconcat (prefix, ".weight", NULL);
  return load_matrix (loader, name, 0, -1, FALSE);
}

SfTensor *
sf_load_matrix_rows (SfWeightLoader *loader, int64_t first, int64_t count, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *name = format_name (format, args);
  va_end (args);
  return load_matrix (loader, name, first, count, FALSE);
}

SfTensor *
sf_load_geglu (SfWeightLoader *loader, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *prefix = format_name (format, args);
  va_end (args);
  g_autofree char *name = g_strconcat (prefix, ".weight", NULL);
  return load_matrix (loader, name, 0, -1, TRUE);
}

SfTensor *
sf_load_conv (SfWeightLoader *loader, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *prefix = format_name (format, args);
  va_end (args);
  g_autofree char *name = g_strconcat (prefix, ".weight", NULL);
  SfDType got;
  int ndim;
  int64_t shape[4];
  g_autofree guint8 *data = read_tensor (loader, name, loader->matrix_dtype, &got, &ndim, shape);
  if (!data || !expect_ndim (loader, name, ndim, 4, 4))
    return NULL;
  return track (loader, sf_weight_new_conv (loader->arena, loader->matrix_dtype, shape[0],
                                            shape[1], (int) shape[2], (int) shape[3], data, got,
                                            &loader->error));
}

static SfTensor *
load_f32 (SfWeightLoader *loader, const char *name, int64_t first, int64_t count)
{
  SfDType got;
  int ndim;
  int64_t shape[4];
  g_autofree float *data = read_tensor (loader, name, SF_DTYPE_F32, &got, &ndim, shape);
  if (!data)
    return NULL;
  int64_t total = shape[0] * shape[1] * shape[2] * shape[3];
  if (count < 0)
    {
      first = 0;
      count = total;
    }
  else if (ndim != 1 || first < 0 || first + count > total)
    {
      g_set_error (&loader->error, SF_VK_ERROR, SF_VK_ERROR_INVALID,
                   "Tensor %s is not a vector of at least %" G_GINT64_FORMAT " elements", name,
                   first + count);
      return NULL;
    }
  SfTensor *tensor = count == total
    ? sf_tensor_new (loader->arena, SF_DTYPE_F32, ndim, shape, &loader->error)
    : sf_tensor_new (loader->arena, SF_DTYPE_F32, 1, &count, &loader->error);
  if (!tensor || !sf_tensor_upload (tensor, data + first, &loader->error))
    {
      sf_tensor_free (tensor);
      return NULL;
    }
  return track (loader, tensor);
}

SfTensor *
sf_load_vector (SfWeightLoader *loader, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *name = format_name (format, args);
  va_end (args);
  return load_f32 (loader, name, 0, -1);
}

SfTensor *
sf_load_vector_range (SfWeightLoader *loader, int64_t first, int64_t count, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *name = format_name (format, args);
  va_end (args);
  return load_f32 (loader, name, first, count);
}

SfTensor *
sf_load_table (SfWeightLoader *loader, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *name = format_name (format, args);
  va_end (args);
  SfDType got;
  int ndim;
  int64_t shape[4];
  g_autofree void *data = read_tensor (loader, name, loader->matrix_dtype, &got, &ndim, shape);
  if (!data || !expect_ndim (loader, name, ndim, 2, 2))
    return NULL;
  SfTensor *tensor = sf_tensor_new (loader->arena, got, 2, shape, &loader->error);
  if (!tensor || !sf_tensor_upload_raw (tensor, data, &loader->error))
    {
      sf_tensor_free (tensor);
      return NULL;
    }
  return track (loader, tensor);
}

float *
sf_load_host (SfWeightLoader *loader, int *ndim, int64_t shape[4], const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *name = format_name (format, args);
  va_end (args);
  SfDType got;
  return read_tensor (loader, name, SF_DTYPE_F32, &got, ndim, shape);
}
