#version 450
// out = act(x) elementwise (sf_op_activation); out may be x. x and out are
// bound as the same slice, so the index is the same in both.
#include "texel.glsl"
#include "activation.glsl"

layout (local_size_x = 64) in;
layout (constant_id = 0) const int ACT = SF_ACT_SILU;
layout (binding = 0, SF_FORMAT) uniform readonly imageBuffer x;
layout (binding = 1) writeonly buffer Out { sf_quad out_data[]; };
layout (push_constant) uniform Push { uint count; uint first; } p;

sf_t value (uint t)
{
  return sf_activation (ACT, sf_load (x, t));
}

void main ()
{
  SF_STORE_BLOCK (p.count, value)
}
