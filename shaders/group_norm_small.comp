#version 450
// Group norm for any shape (sf_op_group_norm's path for channel counts
// that are not a multiple of 4 and for small tensors): one workgroup per
// (image n, group g) reads the group three times, for the mean, for the
// sum of squared deviations from it, and to write the result. Lanes take
// rows in turn, each row's Cg channels; compensated sums per lane, then a
// tree over the lanes in shared memory. Values are taken relative to the
// group's first, K, so that for groups far from zero the mean is held as
// K + (mean - K) without losing digits.
#include "texel.glsl"

layout (local_size_x = 64) in;
layout (constant_id = 0) const bool SILU = false;
layout (binding = 0, r32f) uniform readonly imageBuffer x;
layout (binding = 1, r32f) uniform readonly imageBuffer gamma;
layout (binding = 2, r32f) uniform readonly imageBuffer beta;
layout (binding = 3) writeonly buffer Out { float out_data[]; };
layout (push_constant) uniform Push {
  uint channels;
  uint positions;
  uint groups;
  uint group_channels;
  uint count;           // N * groups
  float eps;
} p;

shared float partial[64];

float workgroup_sum (float value)
{
  uint lane = gl_LocalInvocationID.x;
  partial[lane] = value;
  barrier ();
  for (uint half_size = 32u; half_size > 0u; half_size >>= 1)
    {
      if (lane < half_size)
        partial[lane] += partial[lane + half_size];
      barrier ();
    }
  float total = partial[0];
  barrier ();
  return total;
}

void main ()
{
  uint i = sf_group_index ();
  if (i >= p.count)
    return;
  uint n = i / p.groups;
  uint g = i - n * p.groups;
  uint lane = gl_LocalInvocationID.x;
  uint base = n * p.positions * p.channels + g * p.group_channels;
  float total = float (p.positions) * float (p.group_channels);

  float shift = imageLoad (x, int (base)).x;
  precise float sum = 0.0, carry = 0.0;
  for (uint row = lane; row < p.positions; row += 64u)
    for (uint c = 0u; c < p.group_channels; c++)
      {
        precise float term = (imageLoad (x, int (base + row * p.channels + c)).x - shift) - carry;
        precise float next = sum + term;
        carry = (next - sum) - term;
        sum = next;
      }
  float offset = workgroup_sum (sum) / total;

  precise float m2 = 0.0;
  carry = 0.0;
  for (uint row = lane; row < p.positions; row += 64u)
    for (uint c = 0u; c < p.group_channels; c++)
      {
        float d = (imageLoad (x, int (base + row * p.channels + c)).x - shift) - offset;
        precise float term = d * d - carry;
        precise float next = m2 + term;
        carry = (next - m2) - term;
        m2 = next;
      }
  float rstd = 1.0 / sqrt (workgroup_sum (m2) / total + p.eps);

  for (uint row = lane; row < p.positions; row += 64u)
    for (uint c = 0u; c < p.group_channels; c++)
      {
        uint channel = g * p.group_channels + c;
        uint index = base + row * p.channels + c;
        float y = ((imageLoad (x, int (index)).x - shift) - offset) * rstd
                  * imageLoad (gamma, int (channel)).x + imageLoad (beta, int (channel)).x;
        if (SILU)
          y = y / (1.0 + exp (-y));
        out_data[index] = y;
      }
}
