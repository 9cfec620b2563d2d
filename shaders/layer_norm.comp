#version 450
// Layer norm over the last dim (sf_op_layer_norm), one row per lane (64
// rows per workgroup): sums of d = x - K and d² in blocks of 16 texels, K
// being the row's first texel, so that for rows far from zero nothing
// large cancels; the texel components merge by Chan et al.'s formula into
// (K, mean - K, 1/sqrt(var + eps)); then the lane normalises its row.
// No shared memory: on lavapipe a lane walking its own row (gamma and
// beta come from cache) beats lanes taking columns and reading each row's
// statistics from shared memory, by about 1.6x. x is bound whole, out
// from row `first_row`.
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

#ifdef VEC4
float component_sum (vec4 v) { return (v.x + v.y) + (v.z + v.w); }
float first_component (vec4 v) { return v.x; }
#else
float component_sum (float v) { return v; }
float first_component (float v) { return v; }
#endif

void main ()
{
  uint row = sf_group_index () * 64u + gl_LocalInvocationID.x;
  if (row >= p.rows)
    return;
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
  // Each component saw `count` values; merge them relative to the first
  // component's K.
  float count = float (p.channels);
  sf_t offset = sum / count;
  sf_t m2 = max (squares - sum * offset, sf_t (0.0));
  float pivot = first_component (shift);
  sf_t mean = (shift - pivot) + offset;
  float row_offset = component_sum (mean) / float (p.width);
  sf_t spread = mean - row_offset;
  float row_m2 = component_sum (m2) + count * component_sum (spread * spread);
  float rstd = 1.0 / sqrt (row_m2 / (count * float (p.width)) + p.eps);

  uint out_base = row * p.channels;
  for (uint c = 0u; c < p.channels; c++)
    {
      sf_t d = (sf_load (x, base + c) - pivot) - row_offset;
      out_data[out_base + c] = d * (rstd * sf_load (gamma, c)) + sf_load (beta, c);
    }
}
