#version 450
// Group norm, pass 3 of 3: out = (x - mean) * rstd * gamma + beta, then
// SiLU when SILU. Workgroup (b, chunk id) covers columns of block b (of
// UNIT texels each: with QUAD a lane stores 4 texels at once, see
// texel.glsl) of one chunk of rows of one image; lanes keep their
// columns' scale and shift in registers and walk rows.
//
// The group statistics live in a scratch region at the end of `out` (the
// op has no other memory), so the main dispatch stops before the rows
// that hold them (`end_of_last`), and a TAIL dispatch of one workgroup
// first copies them to shared memory and then writes those rows.
#include "texel.glsl"

layout (local_size_x = 64) in;
layout (constant_id = 0) const bool SILU = false;
layout (binding = 0, rgba32f) uniform readonly imageBuffer x;
layout (binding = 1, r32f) uniform readonly imageBuffer stats;
layout (binding = 2, rgba32f) uniform readonly imageBuffer gamma;
layout (binding = 3, rgba32f) uniform readonly imageBuffer beta;
#ifdef QUAD
#define UNIT 4u
layout (binding = 4) writeonly buffer Out { mat4 out_data[]; };
#else
#define UNIT 1u
layout (binding = 4) writeonly buffer Out { vec4 out_data[]; };
#endif
layout (push_constant) uniform Push {
  uint channels;        // C / 4 / UNIT: units per row
  uint positions;       // rows per image
  uint chunk_rows;
  uint chunks;          // per image
  uint groups;
  uint group_channels;  // C / groups
  uint images;          // N
  uint end_of_last;     // rows of the last image the main dispatch writes
  uint first_chunk;     // chunk id of workgroup y = 0
  uint out_base;        // unit index where the out binding starts
} p;

#ifdef TAIL
shared vec3 shared_stats[1024];
#endif

// (K, mean - K, rstd) of group g of image n (group_norm_combine.comp).
vec3 group_stats (uint n, uint g)
{
#ifdef TAIL
  return shared_stats[g];
#else
  uint i = (n * p.groups + g) * 3u;
  return vec3 (imageLoad (stats, int (i)).x, imageLoad (stats, int (i + 1u)).x,
               imageLoad (stats, int (i + 2u)).x);
#endif
}

// Rows row_begin + lane_row, + lanes_per_row, ... < row_end of image n,
// unit column `column`.
void apply (uint n, uint column, uint row_begin, uint row_end, uint lanes_per_row)
{
  // (x - K) * scale + (beta - (mean - K) * scale): x - K is exact for
  // groups far from zero, where x * scale + (beta - mean * scale) would
  // cancel two large terms.
  vec4 pivot[UNIT], scale[UNIT], shift[UNIT];
  for (uint u = 0u; u < UNIT; u++)
    {
      uint texel = column * UNIT + u;
      vec4 offset, rstd;
      for (uint c = 0u; c < 4u; c++)
        {
          vec3 s = group_stats (n, (texel * 4u + c) / p.group_channels);
          pivot[u][c] = s.x;
          offset[c] = s.y;
          rstd[c] = s.z;
        }
      scale[u] = rstd * imageLoad (gamma, int (texel));
      shift[u] = imageLoad (beta, int (texel)) - offset * scale[u];
    }
  uint texels = p.channels * UNIT;
  for (uint row = row_begin; row < row_end; row += lanes_per_row)
    {
      uint unit = (n * p.positions + row) * p.channels + column;
      vec4 y[UNIT];
      for (uint u = 0u; u < UNIT; u++)
        {
          y[u] = (imageLoad (x, int (unit * UNIT + u)) - pivot[u]) * scale[u] + shift[u];
          if (SILU)
            y[u] = y[u] / (1.0 + exp (-y[u]));
        }
#ifdef QUAD
      out_data[unit - p.out_base] = mat4 (y[0], y[1], y[2], y[3]);
#else
      out_data[unit - p.out_base] = y[0];
#endif
    }
}

void main ()
{
  uint lane = gl_LocalInvocationID.x;
#ifdef TAIL
  uint n = p.images - 1u;
  for (uint g = lane; g < p.groups; g += 64u)
    {
      uint i = (n * p.groups + g) * 3u;
      shared_stats[g] = vec3 (imageLoad (stats, int (i)).x, imageLoad (stats, int (i + 1u)).x,
                              imageLoad (stats, int (i + 2u)).x);
    }
  barrier ();
  for (uint column0 = 0u; column0 < p.channels; column0 += 64u)
    {
      uint width = min (64u, p.channels - column0);
      uint lanes_per_row = 64u / width;
      if (lane / width < lanes_per_row)
        apply (n, column0 + lane % width, p.end_of_last + lane / width, p.positions,
               lanes_per_row);
    }
#else
  uint column0 = gl_WorkGroupID.x * 64u;
  uint width = min (64u, p.channels - column0);
  uint lanes_per_row = 64u / width;
  if (lane / width >= lanes_per_row)
    return;
  uint id = p.first_chunk + gl_WorkGroupID.y;
  uint n = id / p.chunks;
  uint chunk = id - n * p.chunks;
  uint row_begin = chunk * p.chunk_rows;
  uint row_end = min (row_begin + p.chunk_rows, n + 1u == p.images ? p.end_of_last : p.positions);
  apply (n, column0 + lane % width, row_begin + lane / width, row_end, lanes_per_row);
#endif
}
