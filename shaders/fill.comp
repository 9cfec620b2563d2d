#version 450
// out[i] = value for every element of a float32 tensor.
#include "common.glsl"

layout (local_size_x = 64) in;
layout (binding = 0) writeonly buffer Out { float out_data[]; };
layout (push_constant) uniform Push { uint count; float value; } p;

void main ()
{
  uint i = sf_group_index () * 64u + gl_LocalInvocationID.x;
  if (i < p.count)
    out_data[i] = p.value;
}
