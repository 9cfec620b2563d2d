#version 450
// out = x * scale + shift elementwise (sf_op_scale); out may be x.
#include "texel.glsl"

layout (local_size_x = 64) in;
layout (binding = 0, SF_FORMAT) uniform readonly imageBuffer x;
layout (binding = 1) writeonly buffer Out { sf_quad out_data[]; };
layout (push_constant) uniform Push { float scale; float shift; uint count; uint first; } p;

sf_t value (uint t)
{
  return sf_load (x, t) * p.scale + p.shift;
}

void main ()
{
  SF_STORE_BLOCK (p.count, value)
}
