#version 450
// out[r, j] = x[r, j] * gelu(x[r, F + j]) for x [R, 2F] (sf_op_geglu,
// diffusers' GEGLU after its projection). Indices count texels; out is
// bound from row `first_row`, x whole.
#include "texel.glsl"
#include "activation.glsl"

layout (local_size_x = 64) in;
layout (binding = 0, SF_FORMAT) uniform readonly imageBuffer x;
layout (binding = 1) writeonly buffer Out { sf_quad out_data[]; };
layout (push_constant) uniform Push {
  uvec4 half_width;   // F in texels, as a divisor
  uint count;         // output texels in this dispatch
  uint first_row;
} p;

sf_t value (uint t)
{
  uint row = sf_udiv (t, p.half_width);
  uint base = (p.first_row + row) * 2u * p.half_width.w + (t - row * p.half_width.w);
  return sf_load (x, base) * sf_gelu (sf_load (x, base + p.half_width.w));
}

void main ()
{
  SF_STORE_BLOCK (p.count, value)
}
