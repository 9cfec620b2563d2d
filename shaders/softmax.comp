#version 450
// Softmax over the last dim (sf_op_softmax), stable: exp(x - max) / sum.
// A workgroup takes 64 rows: each lane finds its row's max and the sum of
// exp(x - max); then lanes take columns and walk the 64 rows writing, so
// stores are contiguous. x is bound whole, out from row `first_row`.
#include "texel.glsl"

layout (local_size_x = 64) in;
layout (binding = 0, SF_FORMAT) uniform readonly imageBuffer x;
layout (binding = 1) writeonly buffer Out { sf_t out_data[]; };
layout (push_constant) uniform Push {
  uint channels;      // texels per row
  uint rows;          // rows in this dispatch
  uint first_row;
} p;

shared vec2 row_stats[64];

#ifdef VEC4
float component_max (vec4 v) { return max (max (v.x, v.y), max (v.z, v.w)); }
float component_sum (vec4 v) { return (v.x + v.y) + (v.z + v.w); }
#else
float component_max (float v) { return v; }
float component_sum (float v) { return v; }
#endif

void main ()
{
  uint lane = gl_LocalInvocationID.x;
  uint row0 = sf_group_index () * 64u;
  uint row = row0 + lane;
  if (row < p.rows)
    {
      uint base = (p.first_row + row) * p.channels;
      sf_t top = sf_load (x, base);
      for (uint c = 1u; c < p.channels; c++)
        top = max (top, sf_load (x, base + c));
      float row_max = component_max (top);
      // Blocks of 16 keep the float sum accurate over long rows.
      sf_t sum = sf_t (0.0);
      for (uint c = 0u; c < p.channels; c += 16u)
        {
          sf_t block = sf_t (0.0);
          for (uint i = c; i < min (c + 16u, p.channels); i++)
            block += exp (sf_load (x, base + i) - row_max);
          sum += block;
        }
      row_stats[lane] = vec2 (row_max, 1.0 / component_sum (sum));
    }
  barrier ();
  uint rows = min (64u, p.rows - row0);
  for (uint c = lane; c < p.channels; c += 64u)
    for (uint r = 0u; r < rows; r++)
      {
        vec2 s = row_stats[r];
        uint index = (row0 + r) * p.channels + c;
        out_data[index] = exp (sf_load (x, p.first_row * p.channels + index) - s.x) * s.y;
      }
}
