#version 450
// The batched product of sf_op_matmul with a plain weight per batch:
// out[b, m, n] = Σ_k a[b, m, k] w[b, n, k] (+ bias[n]) (+ residual).
// One output per invocation; used rarely, so kept simple. The weight's
// texel view (r32f or r16f) converts f16.
#include "common.glsl"

layout (local_size_x = 64) in;
layout (binding = 0) uniform samplerBuffer a_tex;
layout (binding = 1) uniform samplerBuffer w_tex;
layout (binding = 2) uniform samplerBuffer bias_tex;
layout (binding = 3) uniform samplerBuffer residual_tex;
layout (binding = 4) writeonly buffer Out { float out_data[]; };
layout (push_constant) uniform Push { uint count, m, n, k, flags; } p;

void main ()
{
  uint i = sf_group_index () * 64u + gl_LocalInvocationID.x;
  if (i >= p.count)
    return;
  uint col = i % p.n, row = i / p.n;        // row over all batches: b * m + m
  uint batch = row / p.m;
  int a_base = int (row * p.k), w_base = int ((batch * p.n + col) * p.k);
  float sum = 0.0;
  for (int t = 0; t < int (p.k); t++)
    sum += texelFetch (a_tex, a_base + t).x * texelFetch (w_tex, w_base + t).x;
  if ((p.flags & 1u) != 0u)
    sum += texelFetch (bias_tex, int (col)).x;
  if ((p.flags & 2u) != 0u)
    sum += texelFetch (residual_tex, int (i)).x;
  out_data[i] = sum;
}
