#version 450
// Element type conversion: reads any float texel view (r32f or r16f, the
// view converts), writes float32 or (OUT_F16) float16.
#include "common.glsl"

layout (local_size_x = 64) in;
layout (binding = 0) uniform samplerBuffer src;
#ifdef OUT_F16
layout (binding = 1) writeonly buffer Out { float16_t out_data[]; };
#else
layout (binding = 1) writeonly buffer Out { float out_data[]; };
#endif
layout (push_constant) uniform Push { uint count; } p;

void main ()
{
  uint i = sf_group_index () * 64u + gl_LocalInvocationID.x;
  if (i >= p.count)
    return;
#ifdef OUT_F16
  out_data[i] = float16_t (texelFetch (src, int (i)).x);
#else
  out_data[i] = texelFetch (src, int (i)).x;
#endif
}
