#version 450
// Fused attention for CPU devices (lavapipe): softmax(q kᵀ · scale) v for
// one batch, every head, with an online softmax over blocks of BK keys
// (Milakov & Gimelshein 2018; FlashAttention, Dao et al. 2022), so the
// score matrix never leaves registers.
//
// Layout (why: ../shared/PERFORMANCE.md). 8 invocations ("a chunk", one
// subgroup of lavapipe) share TM queries of one head, taken from the
// workgroup ID. The head dimension D is split over the lanes: lane l owns
// the texels (4 values) l, l + 8, ... of q, k, v and out, DT of them.
// Per block of 8 keys a lane fetches 8 * DT texels of k and of v (all
// different: no fetch is wasted) and computes partial dot products for
// TM * 8 scores. A butterfly of subgroupShuffleXor with constant masks
// (cheap in llvmpipe, unlike subgroupAdd, which is a loop over lanes)
// reduces and scatters them: lane l ends with the full score of key l of
// the block, so each score gets one exp2 in one lane. The weights travel
// back the same way: at step x lane l holds the weight of key l ^ x and
// fetches that key's v. q is read once, scaled by scale * log2(e) so that
// the softmax uses exp2; each lane sums the weights of its own keys and
// the sums meet at the end.
#extension GL_EXT_control_flow_attributes : require
#extension GL_KHR_shader_subgroup_shuffle : require
#include "common.glsl"

// Every loop but the one over key blocks is unrolled: rolled, they would
// be slow and count against llvmpipe's 65535 loop iterations per
// invocation.
#define TILE_LOOP [[unroll]]

layout (local_size_x_id = 2) in;
layout (constant_id = 0) const int TM = 16;   // queries per chunk
layout (constant_id = 1) const int DT = 2;    // texels of D per lane: ceil(D / 32)
layout (constant_id = 2) const int WG = 32;   // invocations per workgroup, a multiple of 8

layout (binding = 0, rgba32f) uniform readonly imageBuffer q_tex;
layout (binding = 1, rgba32f) uniform readonly imageBuffer k_tex;
layout (binding = 2, rgba32f) uniform readonly imageBuffer v_tex;
layout (binding = 3) writeonly buffer Out { float out_data[]; };

layout (push_constant) uniform Push {
  int sq, sk, heads, d4;      // queries, keys, heads, texels per head (D / 4)
  int row;                    // texels per token: heads * d4
  int causal;
  int q_base, q_count;        // the queries of this dispatch
  int q_first, k_first, v_first;  // texel of each binding's start, in the whole tensor
  int out_first;              // element of out at the start of out_data
  int batch;
  float scale_log2e;
} p;

// A finite "minus infinity": exp2 of it (minus anything) is 0, and no NaN
// comes from subtracting it from itself.
const float NEG_INF = -3.0e38;

void main ()
{
  const int lane = int (gl_LocalInvocationID.x) & 7;
  const int chunk = int (gl_LocalInvocationID.x) >> 3;
  const int head = int (gl_WorkGroupID.y);
  const int q0 = p.q_base + (int (gl_WorkGroupID.x) * (WG / 8) + chunk) * TM;
  if (q0 >= p.q_base + p.q_count)
    return;
  const int q_end = min (p.q_base + p.q_count, p.sq);

  // This lane's texels of the head; lanes past D hold zeros.
  int texel[DT];
  float owns[DT];
  TILE_LOOP for (int i = 0; i < DT; i++)
    {
      int t = lane + 8 * i;
      owns[i] = t < p.d4 ? 1.0 : 0.0;
      texel[i] = head * p.d4 + min (t, p.d4 - 1);
    }

  vec4 q[TM][DT];
  TILE_LOOP for (int r = 0; r < TM; r++)
    {
      int row = (p.batch * p.sq + min (q0 + r, q_end - 1)) * p.row - p.q_first;
      TILE_LOOP for (int i = 0; i < DT; i++)
        q[r][i] = imageLoad (q_tex, row + texel[i]) * (p.scale_log2e * owns[i]);
    }

  float m[TM], l[TM];
  vec4 o[TM][DT];
  TILE_LOOP for (int r = 0; r < TM; r++)
    {
      m[r] = NEG_INF;
      l[r] = 0.0;
      TILE_LOOP for (int i = 0; i < DT; i++)
        o[r][i] = vec4 (0.0);
    }

  // With the causal mask no row of this chunk sees keys past its last query.
  const int k_end = p.causal != 0 ? min (p.sk, q0 + TM) : p.sk;
  const int k_row0 = p.batch * p.sk;
  [[dont_unroll]] for (int k0 = 0; k0 < k_end; k0 += 8)
    {
      vec4 kv[8][DT];
      TILE_LOOP for (int b = 0; b < 8; b++)
        {
          int row = (k_row0 + min (k0 + b, p.sk - 1)) * p.row - p.k_first;
          TILE_LOOP for (int i = 0; i < DT; i++)
            kv[b][i] = imageLoad (k_tex, row + texel[i]);
        }
      // Scores and softmax weights first (this lane's key of the block:
      // k0 + lane), then v, so that k and v are not live together.
      const int key = k0 + lane;
      float weight[TM], correction[TM];
      TILE_LOOP for (int r = 0; r < TM; r++)
        {
          float part[8];
          TILE_LOOP for (int b = 0; b < 8; b++)
            {
              float sum = 0.0;
              TILE_LOOP for (int i = 0; i < DT; i++)
                sum += dot (q[r][i], kv[b][i]);
              part[b] = sum;
            }
          // Reduce-scatter: after the step with mask m a lane keeps the
          // half of the keys whose bit m matches its own.
          TILE_LOOP for (int b = 0; b < 4; b++)
            {
              bool upper = (lane & 4) != 0;
              float send = upper ? part[b] : part[b + 4];
              part[b] = (upper ? part[b + 4] : part[b]) + subgroupShuffleXor (send, 4);
            }
          TILE_LOOP for (int b = 0; b < 2; b++)
            {
              bool upper = (lane & 2) != 0;
              float send = upper ? part[b] : part[b + 2];
              part[b] = (upper ? part[b + 2] : part[b]) + subgroupShuffleXor (send, 2);
            }
          {
            bool upper = (lane & 1) != 0;
            float send = upper ? part[0] : part[1];
            part[0] = (upper ? part[1] : part[0]) + subgroupShuffleXor (send, 1);
          }
          bool masked = key >= p.sk || (p.causal != 0 && key > q0 + r);
          float score = masked ? NEG_INF : part[0];

          float block_max = max (score, subgroupShuffleXor (score, 4));
          block_max = max (block_max, subgroupShuffleXor (block_max, 2));
          block_max = max (block_max, subgroupShuffleXor (block_max, 1));
          float m_new = max (m[r], block_max);
          float m_use = m_new == NEG_INF ? 0.0 : m_new;
          correction[r] = exp2 (m[r] - m_use);
          weight[r] = exp2 (score - m_use);
          m[r] = m_new;
          l[r] = l[r] * correction[r] + weight[r];
        }

      // v of key k0 + (lane ^ x) at step x, whose weight lane ^ x holds.
      vec4 vv[8][DT];
      TILE_LOOP for (int x = 0; x < 8; x++)
        {
          int row = (k_row0 + min (k0 + (lane ^ x), p.sk - 1)) * p.row - p.v_first;
          TILE_LOOP for (int i = 0; i < DT; i++)
            vv[x][i] = imageLoad (v_tex, row + texel[i]);
        }
      TILE_LOOP for (int r = 0; r < TM; r++)
        {
          vec4 acc[DT];
          TILE_LOOP for (int i = 0; i < DT; i++)
            acc[i] = o[r][i] * correction[r] + weight[r] * vv[0][i];
          TILE_LOOP for (int x = 1; x < 8; x++)
            {
              float w = subgroupShuffleXor (weight[r], x);
              TILE_LOOP for (int i = 0; i < DT; i++)
                acc[i] += w * vv[x][i];
            }
          TILE_LOOP for (int i = 0; i < DT; i++)
            o[r][i] = acc[i];
        }
    }

  // Each lane summed the weights of its own keys.
  TILE_LOOP for (int r = 0; r < TM; r++)
    {
      l[r] += subgroupShuffleXor (l[r], 4);
      l[r] += subgroupShuffleXor (l[r], 2);
      l[r] += subgroupShuffleXor (l[r], 1);
    }

  TILE_LOOP for (int r = 0; r < TM; r++)
    {
      if (q0 + r >= q_end)
        break;
      float inverse = 1.0 / l[r];
      int base = ((p.batch * p.sq + q0 + r) * p.row) * 4 - p.out_first;
      TILE_LOOP for (int i = 0; i < DT; i++)
        if (owns[i] != 0.0)
          {
            vec4 value = o[r][i] * inverse;
            int at = base + texel[i] * 4;
            out_data[at] = value.x;
            out_data[at + 1] = value.y;
            out_data[at + 2] = value.z;
            out_data[at + 3] = value.w;
          }
    }
}
