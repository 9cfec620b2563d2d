#version 450
// The mirror of copy_into (sf_op_copy_window): out is a window of x along
// one dim; both viewed as [outer, L] rows, out's row r, column c comes
// from x's row r, column offset + c (all in texels). Output-driven, one
// store per texel; the whole tensors are bound.
#include "texel.glsl"

layout (local_size_x = 64) in;
layout (binding = 0, SF_FORMAT) uniform readonly imageBuffer x;
layout (binding = 1) writeonly buffer Out { sf_t out_data[]; };
layout (push_constant) uniform Push {
  uvec4 out_row;      // L of out, as a divisor
  uint x_row;         // L of x
  uint offset;
  uint count;         // texels of out
} p;

void main ()
{
  uint t = sf_group_index () * 64u + gl_LocalInvocationID.x;
  if (t >= p.count)
    return;
  uint row = sf_udiv (t, p.out_row);
  uint column = t - row * p.out_row.w;
  out_data[t] = sf_load (x, row * p.x_row + p.offset + column);
}
