#version 450
// Group norm, pass 1 of 3 (see op_norm.c): per-channel statistics of one
// chunk of rows. Workgroup (b, n * chunks + j) covers texel columns
// b*64 .. b*64+w-1 of rows j*chunk_rows .. of image n; its 64 lanes are
// w columns by 64/w rows, each lane walking its column with stride 64/w.
//
// A lane sums d = x - K and d² in blocks of 16 rows, K being the first
// value it reads: for data far from zero x - K is exact and the sums stay
// small, so neither the mean nor the variance loses digits. Statistics
// are kept as (K, mean - K, M2); the lanes of a column merge by Chan et
// al.'s formula and the chunk's triple per channel goes to `partials` (a
// scratch region of the op's output).
#include "texel.glsl"

layout (local_size_x = 64) in;
layout (binding = 0, rgba32f) uniform readonly imageBuffer x;
layout (binding = 1) writeonly buffer Partials { vec4 partials[]; };
layout (push_constant) uniform Push {
  uint channels;      // C / 4 (texels per row)
  uint positions;     // rows per image
  uint chunk_rows;
  uint chunks;        // per image
} p;

const uint BLOCK = 16u;

shared vec4 shared_shift[64];
shared vec4 shared_offset[64];
shared vec4 shared_m2[64];
shared float shared_count[64];

void main ()
{
  uint lane = gl_LocalInvocationID.x;
  uint column0 = gl_WorkGroupID.x * 64u;
  uint width = min (64u, p.channels - column0);
  uint lanes_per_column = 64u / width;
  uint n = gl_WorkGroupID.y / p.chunks;
  uint chunk = gl_WorkGroupID.y - n * p.chunks;
  uint column = column0 + lane % width;
  uint row_lane = lane / width;
  uint row_begin = chunk * p.chunk_rows;
  uint row_end = min (row_begin + p.chunk_rows, p.positions);

  vec4 shift = vec4 (0.0), offset = vec4 (0.0), m2 = vec4 (0.0);
  float count = 0.0;
  uint base = n * p.positions * p.channels + column;
  uint first = row_begin + row_lane;
  if (row_lane < lanes_per_column && first < row_end)
    {
      shift = imageLoad (x, int (base + first * p.channels));
      vec4 sum = vec4 (0.0), squares = vec4 (0.0);
      for (uint row = first; row < row_end; row += BLOCK * lanes_per_column)
        {
          uint rows = min (BLOCK, (row_end - row + lanes_per_column - 1u) / lanes_per_column);
          vec4 block_sum = vec4 (0.0), block_squares = vec4 (0.0);
          uint index = base + row * p.channels;
          for (uint i = 0u; i < rows; i++, index += lanes_per_column * p.channels)
            {
              vec4 d = imageLoad (x, int (index)) - shift;
              block_sum += d;
              block_squares += d * d;
            }
          sum += block_sum;
          squares += block_squares;
          count += float (rows);
        }
      offset = sum / count;
      m2 = max (squares - sum * offset, vec4 (0.0));
    }
  shared_shift[lane] = shift;
  shared_offset[lane] = offset;
  shared_m2[lane] = m2;
  shared_count[lane] = count;
  barrier ();
  if (row_lane != 0u)
    return;
  for (uint other = lane + width; other < lanes_per_column * width; other += width)
    {
      float count_b = shared_count[other];
      if (count_b == 0.0)
        continue;
      float total = count + count_b;
      vec4 delta = (shared_shift[other] - shift) + shared_offset[other] - offset;
      offset += delta * (count_b / total);
      m2 += shared_m2[other] + delta * delta * (count * count_b / total);
      count = total;
    }
  uint out_index = (gl_WorkGroupID.y * p.channels + column) * 3u;
  partials[out_index] = shift;
  partials[out_index + 1u] = offset;
  partials[out_index + 2u] = m2;
}
