#version 450
// Copies x into out at an offset along one dim (sf_op_copy_into): both
// viewed as [outer, L] rows, x's row r lands in out's row r at column
// `offset` (all in texels). x-driven: one store per texel, since x's rows
// need not start on a quad of out. x is bound whole, out from texel
// `out_base`; this dispatch covers x's texels first .. first + count - 1.
#include "texel.glsl"

layout (local_size_x = 64) in;
layout (binding = 0, SF_FORMAT) uniform readonly imageBuffer x;
layout (binding = 1) writeonly buffer Out { sf_t out_data[]; };
layout (push_constant) uniform Push {
  uvec4 x_row;        // L of x, as a divisor
  uint out_row;       // L of out
  uint offset;
  uint out_base;
  uint pad;
  uint count;
  uint first;
} p;

void main ()
{
  for (uint k = 0u; k < SF_ITEMS; k++)
    {
      uint t = ((sf_group_index () * SF_ITEMS + k) * SF_LANES + gl_LocalInvocationID.x) * 4u;
      for (uint c = 0u; c < 4u && t + c < p.count; c++)
        {
          uint index = p.first + t + c;
          uint row = sf_udiv (index, p.x_row);
          uint column = index - row * p.x_row.w;
          out_data[row * p.out_row + p.offset + column - p.out_base] = sf_load (x, index);
        }
    }
}
