/* Helpers for the elementwise, layout, embedding and norm ops (op_elementwise.c,
 * op_layout.c, op_embedding.c, op_norm.c): exact integer division in
 * shaders, bindings of byte ranges, slicing outputs that are larger than
 * one storage-buffer binding may be, and checks those ops share.
 * Not part of the API. */
#pragma once

#include "op_common.h"

/* Unsigned division by a divisor fixed at record time, exact for every
 * 32-bit numerator (Granlund & Montgomery, "Division by invariant integers
 * using multiplication", PLDI 1994, figure 4.1). Passed to shaders as a
 * uvec4 in push constants; sf_udiv() in shaders/texel.glsl divides. */
typedef struct {
  uint32_t multiplier;
  uint32_t shift1;
  uint32_t shift2;
  uint32_t divisor;
} SfDivisor;

SfDivisor sf_op_divisor (uint32_t divisor);

/* The 1-D grid for @items invocations in groups of @per_group, or FALSE
 * (with @error naming @op) when even two dispatch dimensions cannot hold it. */
gboolean sf_op_grid (const char *op, uint64_t items, uint32_t per_group, uint32_t groups[3],
                     GError **error);

/* Texels per workgroup of the output-driven kernels (SF_BLOCK in
 * shaders/texel.glsl). */
#define SF_OP_BLOCK (4 * 64 * 16)

/* A dispatch over the texels of @out, written in slices when it is larger
 * than one storage-buffer binding may be (one dispatch per slice). Binds
 * @sliced (indexed like out: the same slice of each), then @whole (in
 * full), then the slice of @out. The kernel's push constants end with
 * { uint count; uint first; }: texels in the slice and the first one's
 * index in @out. */
typedef struct {
  const char *op;
  const SfKernel *kernel;
  const uint32_t *spec;
  guint spec_count;
  const SfTensor *sliced[2];
  guint sliced_count;
  const SfTensor *whole[2];
  guint whole_count;
  guint whole_width[2];     /* components of each whole view; 0: width */
  SfTensor *out;
  guint width;              /* floats per texel: 1 or 4 */
  void *push;               /* kernel->push_size bytes */
  double flops_per_element;
} SfOpMap;

gboolean sf_op_record_map (SfStream *stream, const SfOpMap *map, GError **error);

/* Bindings of @range bytes of @tensor starting @offset bytes into it. */
SfBinding sf_op_bind_bytes (const SfTensor *tensor, VkDeviceSize offset, VkDeviceSize range,
                            gboolean writes);
/* A texel view (1 or 4 components in the tensor's dtype) of the same. */
SfBinding sf_op_bind_texel_bytes (const SfTensor *tensor, VkDeviceSize offset,
                                  VkDeviceSize range, guint components);

/* The bytes one storage-buffer binding may span here: the device's
 * maxStorageBufferRange, or less when SFUMATO_MAX_BINDING_BYTES asks
 * (tests use it to exercise slicing on small tensors). */
VkDeviceSize sf_op_binding_limit (const SfDevice *device);

/* How many units (texels, rows) of @unit_bytes one storage-buffer binding
 * holds, rounded down to a multiple of @multiple so that every slice
 * starts 16-byte aligned. 0 when not even @multiple units fit. */
uint64_t sf_op_units_per_binding (const SfDevice *device, uint64_t unit_bytes, uint64_t multiple);

/* The smallest number of rows of @floats_per_row 32-bit values that is a
 * multiple of 16 bytes: slices of rows start at multiples of it. */
uint64_t sf_op_aligned_rows (uint64_t floats_per_row);

/* Fails unless @tensor is f32 and has at most 2^32 - 1 elements (shaders
 * index with 32-bit integers) and its texel views fit the device. */
gboolean sf_op_check_f32 (const char *op, const char *what, const SfTensor *tensor,
                          GError **error);

/* Fails when @a and @b share bytes (an output may not alias an input);
 * @allow_same: identical placement and shape is fine (in-place ops). */
gboolean sf_op_check_no_overlap (const char *op, const char *what_a, const SfTensor *a,
                                 const char *what_b, const SfTensor *b, gboolean allow_same,
                                 GError **error);

/* Fails naming @what when a texel view of @tensor with @components would
 * have more texels than the device's maxTexelBufferElements. */
gboolean sf_op_check_texel_view (const char *op, const char *what, const SfTensor *tensor,
                                 guint components, GError **error);
