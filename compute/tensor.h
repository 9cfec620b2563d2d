/* Tensors: dense, row-major, up to four dimensions, in device memory.
 *
 * A tensor owns its range of an arena when made by sf_tensor_new(); views
 * (reshape, slices along the first dimension) borrow it. Activations are
 * laid out NHWC (channels innermost), so a linear layer and a 1×1
 * convolution are the same matmul and attention needs no transposes. */
#pragma once

#include "dtype.h"
#include "vk_memory.h"
#include "vk_stream.h"

G_BEGIN_DECLS

#define SF_MAX_DIMS 4

/* How elements are arranged. Plain tensors are row-major; weights made by
 * sf_weight_new_*() may be repacked for the device's matmul kernel, and
 * only the ops that made them read them. */
typedef enum {
  SF_LAYOUT_ROW_MAJOR = 0,
  SF_LAYOUT_PACKED = 1,       /* kernel-specific; see op_gemm.h */
} SfLayout;

typedef struct {
  SfDType dtype;
  SfLayout layout;
  int ndim;
  int64_t shape[SF_MAX_DIMS];
  SfAllocation memory;
  SfDevice *device;
  SfArena *arena;        /* owner; NULL for a view */
} SfTensor;

/* Returns: (transfer full) or NULL when out of memory or the shape is bad. */
SfTensor *sf_tensor_new (SfArena *arena, SfDType dtype, int ndim, const int64_t *shape,
                         GError **error);
void sf_tensor_free (SfTensor *tensor);

int64_t sf_tensor_numel (const SfTensor *tensor);
VkDeviceSize sf_tensor_bytes (const SfTensor *tensor);
/* "f32[2,4096,640]". Returns: (transfer full). */
char *sf_tensor_describe (const SfTensor *tensor);
gboolean sf_tensor_same_shape (const SfTensor *a, const SfTensor *b);

/* A view with another shape of the same element count. */
SfTensor sf_tensor_reshape (const SfTensor *tensor, int ndim, const int64_t *shape);
/* Rows @first .. @first+@count-1 of dimension 0. */
SfTensor sf_tensor_slice (const SfTensor *tensor, int64_t first, int64_t count);

/* Host <-> device, converting from/to float32. */
gboolean sf_tensor_upload (SfTensor *tensor, const float *data, GError **error);
gboolean sf_tensor_download (const SfTensor *tensor, float *data, GError **error);
/* Raw bytes in the tensor's own dtype (and layout). */
gboolean sf_tensor_upload_raw (SfTensor *tensor, const void *data, GError **error);
gboolean sf_tensor_download_raw (const SfTensor *tensor, void *data, GError **error);

/* Bindings for a dispatch. Texel views read 1 or 4 components per texel
 * in the tensor's dtype (r32f, rgba32f, r16f, rgba16f). */
SfBinding sf_tensor_bind_buffer (const SfTensor *tensor, gboolean writes);
SfBinding sf_tensor_bind_texels (const SfTensor *tensor, guint components);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SfTensor, sf_tensor_free)

G_END_DECLS
