/* NumPy .npy files (format 1.0/2.0/3.0, little-endian, C order): how
 * intermediate tensors are dumped (--dump) and how reference data is read
 * in tests. Reading accepts float32, float16, float64, int32 and int64 and
 * converts to float32 or int32. */
#pragma once

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

typedef struct {
  int ndim;
  int64_t shape[8];
  gboolean is_int;     /* the data is int32 (from an integer file) */
  gsize count;
  float *f32;          /* when !is_int */
  gint32 *i32;         /* when is_int */
} SfNpy;

/* Returns: (transfer full) or NULL with @error naming the file. */
SfNpy *sf_npy_load (const char *path, GError **error);
void sf_npy_free (SfNpy *npy);

gboolean sf_npy_save_f32 (const char *path, const float *data, int ndim, const int64_t *shape,
                          GError **error);
gboolean sf_npy_save_i32 (const char *path, const gint32 *data, int ndim, const int64_t *shape,
                          GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SfNpy, sf_npy_free)

G_END_DECLS
