#version 450
// out[i, :] = table[ids[i], :], zero where ids[i] is out of [0, V)
// (sf_op_embedding). The table is read through a uniform texel view, so
// one shader serves f16 and f32 tables (the view converts); with VEC4 a
// texel is 4 values of a row. out is bound as a slice from texel `first`.
#include "texel.glsl"

layout (local_size_x = 64) in;
layout (binding = 0) uniform samplerBuffer table;
layout (binding = 1) uniform isamplerBuffer ids;
layout (binding = 2) writeonly buffer Out { sf_quad out_data[]; };
layout (push_constant) uniform Push {
  uvec4 row;          // D in texels, as a divisor
  uint vocabulary;    // V
  uint pad;
  uint count;
  uint first;
} p;

sf_t value (uint t)
{
  uint index = p.first + t;
  uint token = sf_udiv (index, p.row);
  int id = texelFetch (ids, int (token)).x;
  if (id < 0 || uint (id) >= p.vocabulary)
    return sf_t (0.0);
  return SF_TEXEL (texelFetch (table, int (uint (id) * p.row.w + index - token * p.row.w)));
}

void main ()
{
  SF_STORE_BLOCK (p.count, value)
}
