#version 450
// Layer norm over the last dim (sf_op_layer_norm). A workgroup takes 64
// rows. First each lane one row: sums of d = x - K and d² in blocks of 16
// texels, K being the row's first texel, so that for rows far from zero
// nothing large cancels; the texel components then merge by Chan et al.'s
// formula into (K, mean - K, 1/sqrt(var + eps)) in shared memory. Then
// lanes take columns, keep gamma and beta in registers and walk the 64
// rows, so stores are contiguous. x is bound whole, out from `first_row`.
#include "texel.glsl"

layout (local_size_x = 64) in;
layout (binding = 0, SF_FORMAT) uniform readonly imageBuffer x;
layout (binding = 1, SF_FORMAT) uniform readonly imageBuffer gamma;
layout (binding = 2, SF_FORMAT) uniform readonly imageBuffer beta;
layout (binding = 3) writeonly buffer Out { sf_t out_data[]; };
layout (push_constant) uniform Push {
  uint channels;      // texels per row
  uint width;         // floats per texel (1 or 4)
  uint rows;          // rows in this dispatch
  uint first_row;
  float eps;
} p;

const uint BLOCK = 16u;

shared vec3 row_stats[64];

#ifdef VEC4
float component_sum (vec4 v) { return (v.x + v.y) + (v.z + v.w); }
float first_component (vec4 v) { return v.x; }
#else
float component_sum (float v) { return v; }
float first_component (float v) { return v; }
#endif

void main ()
{
  uint lane = gl_LocalInvocationID.x;
  uint row0 = sf_group_index () * 64u;
  uint row = row0 + lane;
  if (row < p.rows)
    {
      uint base = (p.first_row + row) * p.channels;
      sf_t shift = sf_load (x, base);
      sf_t sum = sf_t (0.0), squares = sf_t (0.0);
      for (uint c = 0u; c < p.channels; c += BLOCK)
        {
          uint end = min (c + BLOCK, p.channels);
          sf_t block_sum = sf_t (0.0), block_squares = sf_t (0.0);
          for (uint i = c; i < end; i++)
            {
              sf_t d = sf_load (x, base + i) - shift;
              block_sum += d;
              block_squares += d * d;
            }
          sum += block_sum;
          squares += block_squares;
        }
      // Each component saw `count` values; merge them relative to the
      // first component's K.
      float count = float (p.channels);
      sf_t offset = sum / count;
      sf_t m2 = max (squares - sum * offset, sf_t (0.0));
      float pivot = first_component (shift);
      sf_t mean = (shift - pivot) + offset;
      float row_offset = component_sum (mean) / float (p.width);
      sf_t spread = mean - row_offset;
      float row_m2 = component_sum (m2) + count * component_sum (spread * spread);
      row_stats[lane] = vec3 (pivot, row_offset,
                              1.0 / sqrt (row_m2 / (count * float (p.width)) + p.eps));
    }
  barrier ();
  uint rows = min (64u, p.rows - row0);
  for (uint c = lane; c < p.channels; c += 64u)
    {
      sf_t g = sf_load (gamma, c), b = sf_load (beta, c);
      for (uint r = 0u; r < rows; r++)
        {
          vec3 s = row_stats[r];
          uint index = (row0 + r) * p.channels + c;
          sf_t d = (sf_load (x, p.first_row * p.channels + index) - s.x) - s.y;
          out_data[index] = d * (s.z * g) + b;
        }
    }
}
