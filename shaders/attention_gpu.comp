#version 450
// Fused attention for GPUs: softmax(q kᵀ · scale) v with an online
// softmax (FlashAttention, Dao et al. 2022). One invocation per query;
// a workgroup takes 64 queries of one head and one 64-wide slice of the
// head dimension (D > 64 uses several slices, each recomputing the
// scores). Blocks of BK keys (and their slice of v) are staged in shared
// memory; q is read from the storage buffer, where the cache holds it.
// Same push constants as attention_cpu.comp.
//
// Loops over the head dimension are unrolled ([[unroll]], D4 is a
// specialization constant): lavapipe, where the tests run this variant,
// ends any shader after 65535 loop iterations in total.
#extension GL_EXT_control_flow_attributes : require
#include "common.glsl"

layout (local_size_x = 64) in;
layout (constant_id = 3) const int BK = 32;     // keys per block
layout (constant_id = 4) const int D4 = 16;     // texels per head: the k block is BK * D4

layout (binding = 0) readonly buffer Q { vec4 q_data[]; };
layout (binding = 1) readonly buffer K { vec4 k_data[]; };
layout (binding = 2) readonly buffer V { vec4 v_data[]; };
layout (binding = 3) writeonly buffer Out { float out_data[]; };

layout (push_constant) uniform Push {
  int sq, sk, heads, d4, row, causal, q_base, q_count, q_first, k_first, v_first, out_first,
      batch;
  float scale_log2e;
} p;

// A finite "minus infinity": exp2 of it (minus anything) is 0, and no NaN
// comes from subtracting it from itself.
const float NEG_INF = -3.0e38;
const int SLICE = 16;                          // texels of v and out per workgroup

shared vec4 k_tile[BK * D4];
shared vec4 v_tile[BK * SLICE];

void main ()
{
  const int t = int (gl_LocalInvocationID.x);
  const int head = int (gl_WorkGroupID.y);
  const int slice0 = int (gl_WorkGroupID.z) * SLICE;
  const int slice = min (SLICE, p.d4 - slice0);
  const int query = p.q_base + int (gl_WorkGroupID.x) * 64 + t;
  const int q_end = p.q_base + p.q_count;
  const bool in_range = query < q_end;
  const int q_row = (p.batch * p.sq + min (query, q_end - 1)) * p.row + head * p.d4 - p.q_first;
  const int k_end = p.causal != 0 ? min (p.sk, p.q_base + int (gl_WorkGroupID.x) * 64 + 64) : p.sk;

  float m = NEG_INF, l = 0.0;
  vec4 o[SLICE];
  for (int i = 0; i < SLICE; i++)
    o[i] = vec4 (0.0);

  for (int k0 = 0; k0 < k_end; k0 += BK)
    {
      // Stage keys k0.. and their v slice (zeros past the last key).
      [[unroll]] for (int n = 0; n < (BK * D4 + 63) / 64; n++)
        {
          int i = t + 64 * n;
          if (i < BK * D4)
            {
              int key = k0 + i / D4;
              k_tile[i] = key < p.sk
                          ? k_data[(p.batch * p.sk + key) * p.row + head * D4 + i % D4 - p.k_first]
                          : vec4 (0.0);
            }
        }
      [[unroll]] for (int n = 0; n < (BK * SLICE + 63) / 64; n++)
        {
          int i = t + 64 * n;
          int key = k0 + i / SLICE, c = i % SLICE;
          v_tile[i] = key < p.sk && c < slice
                      ? v_data[(p.batch * p.sk + key) * p.row + head * D4 + slice0 + c
                               - p.v_first]
                      : vec4 (0.0);
        }
      barrier ();

      for (int b = 0; b < BK; b++)
        {
          int key = k0 + b;
          if (key >= k_end || (p.causal != 0 && key > query))
            break;
          float score = 0.0;
          [[unroll]] for (int i = 0; i < D4; i++)
            score += dot (q_data[q_row + i], k_tile[b * D4 + i]);
          score *= p.scale_log2e;
          float m_new = max (m, score);
          float correction = exp2 (m - m_new);
          float weight = exp2 (score - m_new);
          l = l * correction + weight;
          [[unroll]] for (int i = 0; i < SLICE; i++)
            o[i] = o[i] * correction + weight * v_tile[b * SLICE + i];
          m = m_new;
        }
      barrier ();
    }

  if (!in_range)
    return;
  float inverse = 1.0 / l;
  int base = ((p.batch * p.sq + query) * p.row + head * p.d4 + slice0) * 4 - p.out_first;
  for (int i = 0; i < slice; i++)
    {
      vec4 value = o[i] * inverse;
      out_data[base + 4 * i] = value.x;
      out_data[base + 4 * i + 1] = value.y;
      out_data[base + 4 * i + 2] = value.z;
      out_data[base + 4 * i + 3] = value.w;
    }
}
