/* Fill and dtype conversion. */
#include "op_common.h"

static const SfKernel FILL = { "fill", "b", 8 };
static const SfKernel CONVERT_F32 = { "convert@f32", "ub", 4 };
static const SfKernel CONVERT_F16 = { "convert@f16", "ub", 4 };

gboolean
sf_op_fill (SfStream *stream, SfTensor *out, float value, GError **error)
{
  if (!sf_op_check_tensor ("fill", "out", out, -1, SF_DTYPE_F32, error))
    return FALSE;
  struct { uint32_t count; float value; } push = { (uint32_t) sf_tensor_numel (out), value };
  SfBinding bindings[] = { sf_tensor_bind_buffer (out, TRUE) };
  SfDispatch dispatch = {
    .kernel = &FILL, .bindings = bindings, .push = &push,
    .bytes = (double) sf_tensor_bytes (out),
  };
  sf_op_groups_1d (push.count, 64, dispatch.groups);
  return sf_stream_dispatch (stream, &dispatch, error);
}

gboolean
sf_op_convert (SfStream *stream, const SfTensor *src, SfTensor *out, GError **error)
{
  if (!sf_op_check_same_shape ("convert", src, out, error))
    return FALSE;
  if (out->dtype == SF_DTYPE_F16 && !sf_device_get_info (src->device)->storage_16bit)
    return sf_op_fail (error, "convert", "%s cannot store 16-bit values in buffers",
                       sf_device_get_info (src->device)->name);
  struct { uint32_t count; } push = { (uint32_t) sf_tensor_numel (out) };
  SfBinding bindings[] = { sf_tensor_bind_texels (src, 1), sf_tensor_bind_buffer (out, TRUE) };
  SfDispatch dispatch = {
    .kernel = out->dtype == SF_DTYPE_F16 ? &CONVERT_F16 : &CONVERT_F32,
    .bindings = bindings, .push = &push,
    .bytes = (double) (sf_tensor_bytes (src) + sf_tensor_bytes (out)),
  };
  sf_op_groups_1d (push.count, 64, dispatch.groups);
  return sf_stream_dispatch (stream, &dispatch, error);
}
