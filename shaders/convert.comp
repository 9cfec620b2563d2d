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

#ifdef OUT_F16
// x rounded to the nearest float16 value, ties to even, as a float32:
// lavapipe (Mesa 22.3) rounds float16_t(x) toward zero, but converts a
// value that float16 holds exactly, exactly.
float round_to_half (float x)
{
  uint bits = floatBitsToUint (x);
  uint magnitude = bits & 0x7fffffffu;
  if (magnitude >= 0x7f800000u)
    return x;                                        // inf, NaN
  if (magnitude < 0x38800000u)                       // below 2^-14: subnormal halves
    return uintBitsToFloat ((bits & 0x80000000u)
                            | floatBitsToUint (roundEven (abs (x) * 16777216.0) * (1.0 / 16777216.0)));
  uint rounded = (magnitude + 0xfffu + ((magnitude >> 13) & 1u)) & ~0x1fffu;
  if (rounded >= 0x47800000u)                        // 65520 and up
    return uintBitsToFloat ((bits & 0x80000000u) | 0x7f800000u);
  return uintBitsToFloat ((bits & 0x80000000u) | rounded);
}
#endif

void main ()
{
  uint i = sf_group_index () * 64u + gl_LocalInvocationID.x;
  if (i >= p.count)
    return;
#ifdef OUT_F16
  out_data[i] = float16_t (round_to_half (texelFetch (src, int (i)).x));
#else
  out_data[i] = texelFetch (src, int (i)).x;
#endif
}
