// Shared-memory tiled GEMM for GPUs, shared by matmul_gpu.comp and
// conv2d_gpu.comp (CONV: implicit GEMM over NHWC). Same products, packed
// weights and push constants as gemm_cpu.glsl (see there and
// compute/op_gemm.h); everything is read through storage buffers with
// explicit bounds checks, so nothing depends on out-of-range behaviour.
//
// A workgroup of 16×16 invocations computes a 64×64 output tile; each
// invocation owns 4 rows (ty + 16 i) and 4 columns. Per step of 16 K
// values both operand tiles are staged in shared memory. Columns are
// assigned so that an invocation holds a GEGLU value column and its gate
// (8 packed columns apart): column j of invocation tx is
// 8 * (2 * (tx / 8 + 2 * (j / 2)) + j % 2) + tx % 8.
#include "common.glsl"

layout (local_size_x = 16, local_size_y = 16) in;
layout (constant_id = 3) const bool GEGLU = false;

#ifdef A_SCALAR
layout (binding = 0) readonly buffer A { float a_data[]; };
#else
layout (binding = 0) readonly buffer A { vec4 a_data[]; };
#endif
#ifdef W_F16
layout (binding = 1) readonly buffer W { uvec2 w_data[]; };
#else
layout (binding = 1) readonly buffer W { vec4 w_data[]; };
#endif
layout (binding = 2) readonly buffer Bias { float bias_data[]; };
layout (binding = 3) readonly buffer Residual { float residual_data[]; };
layout (binding = 4) writeonly buffer Out { float out_data[]; };

layout (push_constant) uniform Push {
  int m, m_base, n, blocks, k4, k, a_first, out_first, res_first, flags;
  int h, w, ho, wo, kh, kw, stride, pad_top, pad_left;
} p;

#include "gelu.glsl"

const int BM = 64, BN = 64, BK = 16;
shared float tile_a[BK][BM + 1];
shared float tile_b[BK][BN + 1];

vec4 load_w (int texel)
{
#ifdef W_F16
  uvec2 bits = w_data[texel];
  return vec4 (unpackHalf2x16 (bits.x), unpackHalf2x16 (bits.y));
#else
  return w_data[texel];
#endif
}

void main ()
{
  const int tx = int (gl_LocalInvocationID.x), ty = int (gl_LocalInvocationID.y);
  const int t = ty * 16 + tx;
  const int row0 = int (gl_WorkGroupID.y) * BM;
  const int block0 = int (gl_WorkGroupID.x) * (BN / 8);
#ifdef CONV
  const int taps = p.kh * p.kw;
#else
  const int taps = 1;
#endif
  const int texels = taps * p.k4;           // K texels per weight column

  // Operand loads: A row (t / 4) at texel slot (t % 4) of the K step;
  // W block (t / 32), texel slot (t / 8) % 4, lane (t % 8).
  const int load_row = t >> 2, load_slot = t & 3;
  const int m_load = row0 + load_row;
  const bool row_ok = m_load < p.m;
#ifdef CONV
  int iy0 = 0, ix0 = 0, pix0 = 0;
  {
    int m = p.m_base + min (m_load, p.m - 1);
    int ox = m % p.wo, rest = m / p.wo;
    int oy = rest % p.ho, img = rest / p.ho;
    iy0 = oy * p.stride - p.pad_top;
    ix0 = ox * p.stride - p.pad_left;
    pix0 = (img * p.h + iy0) * p.w + ix0;
  }
#endif
  const int w_block = block0 + (t >> 5), w_slot = (t >> 3) & 3, w_lane = t & 7;

  float acc[4][4];
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 4; j++)
      acc[i][j] = 0.0;

  int cols[4];
  for (int j = 0; j < 4; j++)
    cols[j] = 8 * (2 * ((tx >> 3) + 2 * (j >> 1)) + (j & 1)) + (tx & 7);

  for (int kt0 = 0; kt0 < texels; kt0 += BK / 4)
    {
      // A: four values of one row, zero outside the image or past K.
      vec4 a = vec4 (0.0);
      int kt = kt0 + load_slot;
      if (row_ok && kt < texels)
        {
#ifdef CONV
          int tap = kt / p.k4, c4 = kt - tap * p.k4;
          int ky = tap / p.kw, kx = tap - ky * p.kw;
          bool inside = uint (iy0 + ky) < uint (p.h) && uint (ix0 + kx) < uint (p.w);
          int pixel = pix0 + ky * p.w + kx;
#else
          int c4 = kt;
          bool inside = true;
          int pixel = p.m_base + m_load;
#endif
          if (inside)
            {
#ifdef A_SCALAR
              int base = pixel * p.k + c4 * 4 - p.a_first;
              int left = p.k - c4 * 4;
              a.x = a_data[base];
              if (left > 1) a.y = a_data[base + 1];
              if (left > 2) a.z = a_data[base + 2];
              if (left > 3) a.w = a_data[base + 3];
#else
              a = a_data[pixel * p.k4 + c4 - p.a_first];
#endif
            }
        }
      tile_a[load_slot * 4 + 0][load_row] = a.x;
      tile_a[load_slot * 4 + 1][load_row] = a.y;
      tile_a[load_slot * 4 + 2][load_row] = a.z;
      tile_a[load_slot * 4 + 3][load_row] = a.w;

      vec4 b = vec4 (0.0);
      int wt = kt0 + w_slot;
      if (w_block < p.blocks && wt < texels)
        b = load_w ((w_block * texels + wt) * 8 + w_lane);
      int bcol = (t >> 5) * 8 + w_lane;
      tile_b[w_slot * 4 + 0][bcol] = b.x;
      tile_b[w_slot * 4 + 1][bcol] = b.y;
      tile_b[w_slot * 4 + 2][bcol] = b.z;
      tile_b[w_slot * 4 + 3][bcol] = b.w;
      barrier ();

      for (int kk = 0; kk < BK; kk++)
        {
          float av[4], bv[4];
          for (int i = 0; i < 4; i++)
            av[i] = tile_a[kk][ty + 16 * i];
          for (int j = 0; j < 4; j++)
            bv[j] = tile_b[kk][cols[j]];
          for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++)
              acc[i][j] += av[i] * bv[j];
        }
      barrier ();
    }

  for (int i = 0; i < 4; i++)
    {
      int r = row0 + ty + 16 * i;
      if (r >= p.m)
        break;
      const int o = (p.m_base + r) * p.n;
      for (int j = 0; j < 4; j++)
        {
          int packed = block0 * 8 + cols[j];
          if (GEGLU)
            {
              if ((j & 1) != 0)
                continue;
              int f = (packed >> 4) * 8 + (packed & 7);
              if (f < p.n)
                {
                  float value = acc[i][j], gate = acc[i][j + 1];
                  if ((p.flags & 1) != 0)
                    {
                      value += bias_data[f];
                      gate += bias_data[p.n + f];
                    }
                  out_data[o + f - p.out_first] = value * sf_gelu (gate);
                }
            }
          else if (packed < p.n)
            {
              float value = acc[i][j];
              if ((p.flags & 1) != 0)
                value += bias_data[packed];
              if ((p.flags & 2) != 0)
                value += residual_data[o + packed - p.res_first];
              out_data[o + packed - p.out_first] = value;
            }
        }
    }
}
