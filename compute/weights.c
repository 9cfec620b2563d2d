/* Weights of linear layers, GEGLU projections and convolutions, packed in
 * the "w8k4" layout every GEMM kernel variant reads (op_gemm.h). */
#include "op_gemm.h"

#include <string.h>

/* The host values of one output column (a row of the torch weight),
 * converted to f32 and ordered as the packed K: @row has k4 * 4 * taps
 * entries. For a convolution, torch's [Cin, kh, kw] becomes
 * [kh, kw, Cin4 * 4]. */
typedef struct {
  const void *data;
  SfDType dtype;
  int64_t cin;      /* values per tap in the source */
  int64_t k4;       /* texels per tap */
  int taps;         /* kh * kw; 1 for linear */
} Source;

static float
source_value (const Source *src, int64_t index)
{
  if (src->dtype == SF_DTYPE_F16)
    return sf_f16_to_f32 (((const uint16_t *) src->data)[index]);
  return ((const float *) src->data)[index];
}

static void
gather_row (const Source *src, int64_t n, float *row)
{
  int64_t kp = src->k4 * 4;
  memset (row, 0, sizeof (float) * (size_t) (kp * src->taps));
  int64_t base = n * src->cin * src->taps;
  for (int64_t c = 0; c < src->cin; c++)
    for (int tap = 0; tap < src->taps; tap++)
      row[tap * kp + c] = source_value (src, base + c * src->taps + tap);
}

/* Packs @rows source rows into @blocks blocks; @row_of_column maps a
 * packed column to its source row (or -1 for padding). */
static void *
pack (const Source *src, SfDType dtype, int64_t blocks, int64_t (*row_of_column) (int64_t, gpointer),
      gpointer user_data, gsize *bytes)
{
  int64_t texels = src->k4 * src->taps;   /* per column */
  gsize count = (gsize) (blocks * 8 * texels * 4);
  *bytes = count * sf_dtype_size (dtype);
  float *packed32 = dtype == SF_DTYPE_F32 ? g_malloc0 (*bytes) : NULL;
  uint16_t *packed16 = dtype == SF_DTYPE_F16 ? g_malloc0 (*bytes) : NULL;
  g_autofree float *row = g_new (float, texels * 4);
  for (int64_t column = 0; column < blocks * 8; column++)
    {
      int64_t n = row_of_column (column, user_data);
      if (n < 0)
        continue;
      gather_row (src, n, row);
      int64_t block = column / 8, lane = column % 8;
      for (int64_t t = 0; t < texels; t++)
        {
          gsize at = (gsize) (((block * texels + t) * 8 + lane) * 4);
          if (packed32)
            memcpy (packed32 + at, row + t * 4, 4 * sizeof (float));
          else
            sf_f32_to_f16_array (row + t * 4, packed16 + at, 4);
        }
    }
  return packed32 ? (void *) packed32 : (void *) packed16;
}

static gboolean
check_dtypes (const char *what, SfDevice *device, SfDType dtype, SfDType src_dtype,
              GError **error)
{
  if ((dtype != SF_DTYPE_F32 && dtype != SF_DTYPE_F16)
      || (src_dtype != SF_DTYPE_F32 && src_dtype != SF_DTYPE_F16))
    return sf_op_fail (error, what, "weights are f16 or f32 (asked for %s from %s data)",
                       sf_dtype_name (dtype), sf_dtype_name (src_dtype));
  return TRUE;
}

static SfTensor *
upload_packed (SfArena *arena, SfDType dtype, int ndim, const int64_t *shape, void *data,
               gsize bytes, GError **error)
{
  SfTensor *tensor = g_new0 (SfTensor, 1);
  tensor->dtype = dtype;
  tensor->layout = SF_LAYOUT_PACKED;
  tensor->ndim = ndim;
  for (int i = 0; i < SF_MAX_DIMS; i++)
    tensor->shape[i] = i < ndim ? shape[i] : 1;
  tensor->device = sf_arena_get_device (arena);
  if (!sf_arena_alloc (arena, bytes, &tensor->memory, error))
    {
      g_free (tensor);
      return NULL;
    }
  tensor->arena = arena;
  if (!sf_device_upload (tensor->device, &tensor->memory, 0, data, bytes, error))
    {
      sf_tensor_free (tensor);
      return NULL;
    }
  return tensor;
}

static int64_t
linear_row (int64_t column, gpointer data)
{
  int64_t n = *(const int64_t *) data;
  return column < n ? column : -1;
}

SfTensor *
sf_weight_new_linear (SfArena *arena, SfDType dtype, int64_t n, int64_t k, const void *data,
                      SfDType src_dtype, GError **error)
{
  SfDevice *device = sf_arena_get_device (arena);
  if (!check_dtypes ("linear weight", device, dtype, src_dtype, error))
    return NULL;
  if (n < 1 || k < 1 || n > G_MAXINT32 / 2 || k > G_MAXINT32 / 2 || !data)
    {
      sf_op_fail (error, "linear weight", "bad shape [%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT
                  "]", n, k);
      return NULL;
    }
  Source src = { data, src_dtype, k, (k + 3) / 4, 1 };
  gsize bytes;
  g_autofree void *packed = pack (&src, dtype, (n + 7) / 8, linear_row, &n, &bytes);
  const int64_t shape[] = { n, k };
  return upload_packed (arena, dtype, 2, shape, packed, bytes, error);
}

/* Block 2b: value columns 8b.., block 2b + 1: gate columns (rows f + F). */
static int64_t
geglu_row (int64_t column, gpointer data)
{
  int64_t f = *(const int64_t *) data;
  int64_t block = column / 8, lane = column % 8;
  int64_t index = block / 2 * 8 + lane;
  if (index >= f)
    return -1;
  return block % 2 == 0 ? index : f + index;
}

SfTensor *
sf_weight_new_geglu (SfArena *arena, SfDType dtype, int64_t f, int64_t k, const void *data,
                     SfDType src_dtype, GError **error)
{
  SfDevice *device = sf_arena_get_device (arena);
  if (!check_dtypes ("GEGLU weight", device, dtype, src_dtype, error))
    return NULL;
  if (f < 1 || k < 1 || f > G_MAXINT32 / 4 || k > G_MAXINT32 / 2 || !data)
    {
      sf_op_fail (error, "GEGLU weight", "bad shape [2 × %" G_GINT64_FORMAT ", %"
                  G_GINT64_FORMAT "]", f, k);
      return NULL;
    }
  Source src = { data, src_dtype, k, (k + 3) / 4, 1 };
  gsize bytes;
  g_autofree void *packed = pack (&src, dtype, 2 * ((f + 7) / 8), geglu_row, &f, &bytes);
  const int64_t shape[] = { 2, f, k };
  return upload_packed (arena, dtype, 3, shape, packed, bytes, error);
}

SfTensor *
sf_weight_new_conv (SfArena *arena, SfDType dtype, int64_t cout, int64_t cin, int kh, int kw,
                    const void *data, SfDType src_dtype, GError **error)
{
  SfDevice *device = sf_arena_get_device (arena);
  if (!check_dtypes ("conv weight", device, dtype, src_dtype, error))
    return NULL;
  if (cout < 1 || cin < 1 || kh < 1 || kw < 1 || kh > 64 || kw > 64
      || cout > G_MAXINT32 / 2 || cin * kh * kw > G_MAXINT32 / 4 || !data)
    {
      sf_op_fail (error, "conv weight", "bad shape [%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT
                  ", %d, %d]", cout, cin, kh, kw);
      return NULL;
    }
  Source src = { data, src_dtype, cin, (cin + 3) / 4, kh * kw };
  gsize bytes;
  g_autofree void *packed = pack (&src, dtype, (cout + 7) / 8, linear_row, &cout, &bytes);
  const int64_t shape[] = { cout, kh, kw, cin };
  return upload_packed (arena, dtype, 4, shape, packed, bytes, error);
}
