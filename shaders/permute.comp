#version 450
// out = x.permute(perm) (sf_op_permute). The recorder merges out's dims
// that stay neighbours in x, so the gather runs over at most NDIM dims;
// see strided.glsl. x is bound whole, out as a slice from texel `first`.
#include "texel.glsl"

layout (local_size_x = 64) in;
layout (constant_id = 0) const int NDIM = 1;
layout (binding = 0, SF_FORMAT) uniform readonly imageBuffer x;
layout (binding = 1) writeonly buffer Out { sf_quad out_data[]; };
layout (push_constant) uniform Push {
  uvec4 size[3];      // out's merged dims 0..2 (innermost first)
  uvec4 stride;       // x's stride along each of them
  uint count;
  uint first;
} p;

#include "strided.glsl"

sf_t value (uint t)
{
  uint inner;
  return sf_load (x, sf_strided_index (p.first + t, inner));
}

sf_quad quad (uint t)
{
  uint inner;
  uint x0 = sf_strided_index (p.first + t, inner);
  if (!sf_strided_run_of_4 (inner))
    return sf_quad (value (t), value (t + 1u), value (t + 2u), value (t + 3u));
  uint step = p.stride[0];
  return sf_quad (sf_load (x, x0), sf_load (x, x0 + step), sf_load (x, x0 + 2u * step),
                  sf_load (x, x0 + 3u * step));
}

void main ()
{
  SF_STORE_BLOCK_QUADS (p.count, quad, value)
}
