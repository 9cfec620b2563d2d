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
// Per key block a lane fetches BK * DT texels of k and of v (all
// different: no fetch is wasted), computes partial dot products for
// TM * BK scores, and subgroupAdd completes them (the same value in every
// lane, which then scales that lane's part of v). q is read once, scaled
// by scale * log2(e) so that the softmax uses exp2.
#extension GL_EXT_control_flow_attributes : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#include "common.glsl"

#ifdef UNROLL
#define TILE_LOOP [[unroll]]
#else
#define TILE_LOOP
#endif

layout (local_size_x_id = 2) in;
layout (constant_id = 0) const int TM = 16;   // queries per chunk
layout (constant_id = 1) const int DT = 2;    // texels of D per lane: ceil(D / 32)
layout (constant_id = 2) const int WG = 32;   // invocations per workgroup, a multiple of 8
layout (constant_id = 3) const int BK = 8;    // keys per block

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
  [[dont_unroll]] for (int k0 = 0; k0 < k_end; k0 += BK)
    {
      vec4 kv[BK][DT];
      TILE_LOOP for (int b = 0; b < BK; b++)
        {
          int row = (k_row0 + min (k0 + b, p.sk - 1)) * p.row - p.k_first;
          TILE_LOOP for (int i = 0; i < DT; i++)
            kv[b][i] = imageLoad (k_tex, row + texel[i]);
        }
      float s[TM][BK];
      TILE_LOOP for (int r = 0; r < TM; r++)
        TILE_LOOP for (int b = 0; b < BK; b++)
          {
            float part = 0.0;
            TILE_LOOP for (int i = 0; i < DT; i++)
              part += dot (q[r][i], kv[b][i]);
            float score = subgroupAdd (part);
            int key = k0 + b;
            bool masked = key >= p.sk || (p.causal != 0 && key > q0 + r);
            s[r][b] = masked ? NEG_INF : score;
          }

      vec4 vv[BK][DT];
      TILE_LOOP for (int b = 0; b < BK; b++)
        {
          int row = (k_row0 + min (k0 + b, p.sk - 1)) * p.row - p.v_first;
          TILE_LOOP for (int i = 0; i < DT; i++)
            vv[b][i] = imageLoad (v_tex, row + texel[i]);
        }

      // Online softmax: rescale what was summed under the old maximum.
      TILE_LOOP for (int r = 0; r < TM; r++)
        {
          float m_new = m[r];
          TILE_LOOP for (int b = 0; b < BK; b++)
            m_new = max (m_new, s[r][b]);
          float m_use = m_new == NEG_INF ? 0.0 : m_new;
          float correction = exp2 (m[r] - m_use);
          m[r] = m_new;
          float sum = l[r] * correction;
          vec4 acc[DT];
          TILE_LOOP for (int i = 0; i < DT; i++)
            acc[i] = o[r][i] * correction;
          TILE_LOOP for (int b = 0; b < BK; b++)
            {
              float weight = exp2 (s[r][b] - m_use);
              sum += weight;
              TILE_LOOP for (int i = 0; i < DT; i++)
                acc[i] += weight * vv[b][i];
            }
          l[r] = sum;
          TILE_LOOP for (int i = 0; i < DT; i++)
            o[r][i] = acc[i];
        }
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
