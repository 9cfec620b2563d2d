#version 450
// Softmax over the last dim (sf_op_softmax), stable: exp(x - max) / sum.
// One row per lane (64 rows per workgroup): the row's max, the sum of
// exp(x - max) in blocks of 16 (accurate over long rows), then the row
// written. No shared memory: on lavapipe this beats lanes taking columns
// and reading each row's max and sum from shared memory by about 1.5x.
// x is bound whole, out from row `first_row`.
#include "texel.glsl"

layout (local_size_x = 64) in;
layout (binding = 0, SF_FORMAT) uniform readonly imageBuffer x;
layout (binding = 1) writeonly buffer Out { sf_t out_data[]; };
layout (push_constant) uniform Push {
  uint channels;      // texels per row
  uint rows;          // rows in this dispatch
  uint first_row;
} p;

#ifdef VEC4
float component_max (vec4 v) { return max (max (v.x, v.y), max (v.z, v.w)); }
float component_sum (vec4 v) { return (v.x + v.y) + (v.z + v.w); }
#else
float component_max (float v) { return v; }
float component_sum (float v) { return v; }
#endif

void main ()
{
  uint row = sf_group_index () * 64u + gl_LocalInvocationID.x;
  if (row >= p.rows)
    return;
  uint base = (p.first_row + row) * p.channels;
  sf_t top = sf_load (x, base);
  for (uint c = 1u; c < p.channels; c++)
    top = max (top, sf_load (x, base + c));
  float row_max = component_max (top);
  sf_t sum = sf_t (0.0);
  for (uint c = 0u; c < p.channels; c += 16u)
    {
      sf_t block = sf_t (0.0);
      for (uint i = c; i < min (c + 16u, p.channels); i++)
        block += exp (sf_load (x, base + i) - row_max);
      sum += block;
    }
  float scale = 1.0 / component_sum (sum);
  uint out_base = row * p.channels;
  for (uint c = 0u; c < p.channels; c++)
    out_data[out_base + c] = exp (sf_load (x, base + c) - row_max) * scale;
}
