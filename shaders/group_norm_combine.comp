#version 450
// Group norm, pass 2 of 3: one invocation per (image n, group g) merges
// the per-chunk, per-channel (K, mean - K, M2) of pass 1 over the group's
// channels and the image's chunks: means relative to the group's first K
// (differences of nearby values are exact), weighted mean and then M2
// plus each part's squared offset from it, with compensated sums. Writes
// (K, mean - K, 1/sqrt(var + eps)) per group to `stats`, so the apply pass
// can subtract the mean in two exact-as-possible steps.
#include "common.glsl"

layout (local_size_x = 64) in;
layout (binding = 0, r32f) uniform readonly imageBuffer partials;
layout (binding = 1) writeonly buffer Stats { float stats[]; };
layout (push_constant) uniform Push {
  uint channels;        // C / 4
  uint positions;
  uint chunk_rows;
  uint chunks;
  uint groups;
  uint group_channels;  // C / groups
  uint count;           // N * groups
  float eps;
} p;

// partials: [N, chunks, C/4] triples of texels (K, mean - K, M2).
float partial (uint n, uint chunk, uint channel, uint which)
{
  uint texel = ((n * p.chunks + chunk) * p.channels + channel / 4u) * 3u + which;
  return imageLoad (partials, int (texel * 4u + channel % 4u)).x;
}

void main ()
{
  uint i = sf_group_index () * 64u + gl_LocalInvocationID.x;
  if (i >= p.count)
    return;
  uint n = i / p.groups;
  uint g = i - n * p.groups;
  uint channel0 = g * p.group_channels;
  float shift = partial (n, 0u, channel0, 0u);
  precise float sum = 0.0, carry = 0.0;
  for (uint j = 0u; j < p.chunks; j++)
    {
      float rows = float (min (p.chunk_rows, p.positions - j * p.chunk_rows));
      for (uint c = 0u; c < p.group_channels; c++)
        {
          float mean = (partial (n, j, channel0 + c, 0u) - shift) + partial (n, j, channel0 + c, 1u);
          precise float term = rows * mean - carry;
          precise float next = sum + term;
          carry = (next - sum) - term;
          sum = next;
        }
    }
  float total = float (p.positions) * float (p.group_channels);
  float offset = sum / total;
  precise float m2 = 0.0;
  carry = 0.0;
  for (uint j = 0u; j < p.chunks; j++)
    {
      float rows = float (min (p.chunk_rows, p.positions - j * p.chunk_rows));
      for (uint c = 0u; c < p.group_channels; c++)
        {
          float d = (partial (n, j, channel0 + c, 0u) - shift) + partial (n, j, channel0 + c, 1u)
                    - offset;
          precise float term = (partial (n, j, channel0 + c, 2u) + rows * d * d) - carry;
          precise float next = m2 + term;
          carry = (next - m2) - term;
          m2 = next;
        }
    }
  stats[3u * i] = shift;
  stats[3u * i + 1u] = offset;
  stats[3u * i + 2u] = 1.0 / sqrt (max (m2, 0.0) / total + p.eps);
}
