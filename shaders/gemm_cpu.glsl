// Register-tiled GEMM for CPU Vulkan devices (lavapipe), shared by
// matmul_cpu.comp and conv2d_cpu.comp (CONV: implicit GEMM over NHWC).
//
// out[m, n] = sum_k A[m, k] * W[n, k] (+ bias[n]) (+ residual[m, n]),
// or with GEGLU: out[m, f] = (A·Wv[f] + bv[f]) * gelu(A·Wg[f] + bg[f]).
//
// Why it looks like this (../shared/PERFORMANCE.md): llvmpipe runs 8
// invocations as the 8 lanes of a 256-bit register, reads texel buffers
// (imageLoad) far faster than SSBOs, emits no FMA, and keeps loops rolled.
// A texel fetch costs some 38 instructions (a gather of 8 lanes) whatever
// the addresses, so the tile is chosen for multiply-adds per fetch: 8
// invocations ("a chunk", one subgroup) share TM rows and each lane owns
// TN columns strided by 8. Per step of 4 K values a lane fetches TN vec4
// of W (8 lanes read 128 contiguous bytes) and TM / 8 vec4 of A: lane l
// fetches rows l, l + 8, ..., and subgroupShuffle with a constant lane
// (one register permute in llvmpipe) hands each row to every lane, where
// fetching it in all lanes would cost a whole fetch per row. Then
// TM*TN*4 multiply-adds into TM*TN accumulators. Needs subgroups of 8
// (op_gemm.c checks). The K loop stays rolled; the tile loops are
// unrolled (UNROLL: with [[unroll]], needed from Mesa 23 on).
//
// W is packed by compute/weights.c ("w8k4"): 8-column blocks, K in
// texels of 4; element (n, k) is component k%4 of texel
// ((n/8) * k4 + k/4) * 8 + n%8, zero padded. For GEGLU, even blocks are
// value columns and odd blocks gate columns (block 2b+1 gates block 2b).
//
// Ragged shapes: rows past M and blocks past the packed N are clamped to
// the last valid one (their results are computed and not written), so
// nothing relies on out-of-range reads, except that CONV sends taps that
// fall outside the image to a texel index past the end of the buffer,
// which texel buffers on CPU devices read as zero.
#extension GL_EXT_control_flow_attributes : require
#extension GL_KHR_shader_subgroup_shuffle : require
#include "common.glsl"

#ifdef UNROLL
#define TILE_LOOP [[unroll]]
#else
#define TILE_LOOP
#endif

layout (local_size_x_id = 2) in;
layout (constant_id = 0) const int TM = 32;      // rows per chunk
layout (constant_id = 1) const int TN = 8;       // 8-column blocks per chunk (columns per lane)
layout (constant_id = 2) const int WG = 32;      // invocations per workgroup, a multiple of 8
layout (constant_id = 3) const bool GEGLU = false;
layout (constant_id = 4) const int KS = 1;        // K texels per iteration
const int TG = (TM + 7) / 8;                      // rows per lane: row0 + 8 g + lane

#ifdef A_SCALAR
layout (binding = 0, r32f) uniform readonly imageBuffer a_tex;
#else
layout (binding = 0, rgba32f) uniform readonly imageBuffer a_tex;
#endif
#ifdef W_F16
layout (binding = 1, rgba16f) uniform readonly imageBuffer w_tex;
#else
layout (binding = 1, rgba32f) uniform readonly imageBuffer w_tex;
#endif
layout (binding = 2, r32f) uniform readonly imageBuffer bias_tex;
layout (binding = 3, r32f) uniform readonly imageBuffer residual_tex;
layout (binding = 4) writeonly buffer Out { float out_data[]; };

layout (push_constant) uniform Push {
  int m;          // output rows in this dispatch
  int m_base;     // global index of its first row
  int n;          // output columns (F for GEGLU)
  int blocks;     // 8-column blocks in the packed weight
  int k4;         // texels of 4 K values per tap in the packed weight
  int k;          // A_SCALAR: real values per row (matmul) or per pixel (conv)
  int a_first;    // A texel (of a_tex's format) at the start of its binding
  int out_first;  // element of the whole output at the start of out_data
  int res_first;  // element of the whole residual at the start of residual_tex
  int flags;      // 1: add bias, 2: add residual
  // CONV only: input [*, h, w, cin], output pixels [*, ho, wo], kernel kh*kw
  int h, w, ho, wo, kh, kw, stride, pad_top, pad_left;
} p;

#include "gelu.glsl"

// A texel index that is past the end of any binding: reads zero.
const int OUTSIDE = 0x40000000;

// Texel @kt (4 values of K) of the A row starting at texel @base; the
// scalar form reads single values and zeroes those past K.
vec4 load_a (int base, int kt)
{
#ifdef A_SCALAR
  int i0 = base + kt * 4, left = p.k - kt * 4;
  return vec4 (imageLoad (a_tex, i0).x, left > 1 ? imageLoad (a_tex, i0 + 1).x : 0.0,
               left > 2 ? imageLoad (a_tex, i0 + 2).x : 0.0,
               left > 3 ? imageLoad (a_tex, i0 + 3).x : 0.0);
#else
  return imageLoad (a_tex, base + kt);
#endif
}

// One iteration of the K loop over STEPS texels starting at kt: W and
// this lane's A rows first, then row by row the row's A texels from the
// lane that fetched them and one update of each accumulator (a chain of
// 4 * STEPS multiply-adds).
#define K_STEP(STEPS) \
  { \
    vec4 b[STEPS][TN]; \
    TILE_LOOP for (int s = 0; s < STEPS; s++) \
      TILE_LOOP for (int j = 0; j < TN; j++) \
        b[s][j] = imageLoad (w_tex, w_base[j] + w_tap + (kt + s) * 8); \
    vec4 own[STEPS][TG]; \
    TILE_LOOP for (int s = 0; s < STEPS; s++) \
      TILE_LOOP for (int g = 0; g < TG; g++) \
        own[s][g] = load_a (a_base[g], kt + s); \
    TILE_LOOP for (int r = 0; r < TM; r++) \
      { \
        vec4 a[STEPS]; \
        TILE_LOOP for (int s = 0; s < STEPS; s++) \
          a[s] = subgroupShuffle (own[s][r >> 3], uint (r & 7)); \
        TILE_LOOP for (int j = 0; j < TN; j++) \
          { \
            float sum = acc[r][j]; \
            TILE_LOOP for (int s = 0; s < STEPS; s++) \
              sum = sum + a[s].x * b[s][j].x + a[s].y * b[s][j].y + a[s].z * b[s][j].z \
                    + a[s].w * b[s][j].w; \
            acc[r][j] = sum; \
          } \
      } \
  }

void main ()
{
  const int lane = int (gl_LocalInvocationID.x) & 7;
  const int chunk = int (gl_LocalInvocationID.x) >> 3;
  const int row0 = int (gl_WorkGroupID.y) * TM;
  const int block0 = (int (gl_WorkGroupID.x) * (WG / 8) + chunk) * TN;
  if (block0 >= p.blocks)
    return;


  float acc[TM][TN];
  TILE_LOOP for (int r = 0; r < TM; r++)
    TILE_LOOP for (int j = 0; j < TN; j++)
      acc[r][j] = 0.0;

#ifdef CONV
  // Per row: the input pixel of tap (0, 0), its image row and column.
  int pix0[TG], iy0[TG], ix0[TG];
  TILE_LOOP for (int r = 0; r < TG; r++)
    {
      int m = p.m_base + min (row0 + 8 * r + lane, p.m - 1);
      int ox = m % p.wo, t = m / p.wo;
      int oy = t % p.ho, img = t / p.ho;
      iy0[r] = oy * p.stride - p.pad_top;
      ix0[r] = ox * p.stride - p.pad_left;
      pix0[r] = (img * p.h + iy0[r]) * p.w + ix0[r];
    }
  const int taps = p.kh * p.kw;
#else
  const int taps = 1;
#endif

  // Per-lane W stream of each column block, clamped into the weight.
  int w_base[TN];
  TILE_LOOP for (int j = 0; j < TN; j++)
    w_base[j] = min (block0 + j, p.blocks - 1) * taps * p.k4 * 8 + lane;

#ifdef A_SCALAR
  const int a_stride = p.k;
#else
  const int a_stride = p.k4;
#endif

  [[dont_unroll]] for (int tap = 0; tap < taps; tap++)
    {
      int a_base[TG];
#ifdef CONV
      int ky = tap / p.kw, kx = tap - ky * p.kw;
      TILE_LOOP for (int r = 0; r < TG; r++)
        {
          bool inside = uint (iy0[r] + ky) < uint (p.h) && uint (ix0[r] + kx) < uint (p.w);
          a_base[r] = inside ? (pix0[r] + ky * p.w + kx) * a_stride - p.a_first : OUTSIDE;
        }
#else
      TILE_LOOP for (int r = 0; r < TG; r++)
        a_base[r] = (p.m_base + min (row0 + 8 * r + lane, p.m - 1)) * a_stride - p.a_first;
#endif
      const int w_tap = tap * p.k4 * 8;

      // KS texels of K per iteration (fewer accumulator updates per
      // multiply-add), then one at a time for the rest.
      int kt = 0;
      [[dont_unroll]] for (; kt + KS <= p.k4; kt += KS)
        K_STEP (KS)
      [[dont_unroll]] for (; kt < p.k4; kt++)
        K_STEP (1)
    }

  // Epilogue: bias (read once per column), residual or the GEGLU gate,
  // one write per value. Columns past N read a valid bias and are not
  // written.
  float bias[TN];
  TILE_LOOP for (int j = 0; j < TN; j++)
    {
      int col = GEGLU ? ((block0 + j) >> 1) * 8 + lane + ((j & 1) != 0 ? p.n : 0)
                      : (block0 + j) * 8 + lane;
      int last = GEGLU ? 2 * p.n - 1 : p.n - 1;
      bias[j] = (p.flags & 1) != 0 ? imageLoad (bias_tex, min (col, last)).x : 0.0;
    }
  TILE_LOOP for (int r = 0; r < TM; r++)
    {
      if (row0 + r >= p.m)
        break;
      const int o = (p.m_base + row0 + r) * p.n - p.out_first;
      if (GEGLU)
        {
          TILE_LOOP for (int j = 0; j < TN; j += 2)
            {
              int f = ((block0 + j) >> 1) * 8 + lane;
              if (f < p.n)
                out_data[o + f] = (acc[r][j] + bias[j]) * sf_gelu (acc[r][j + 1] + bias[j + 1]);
            }
        }
      else
        {
          TILE_LOOP for (int j = 0; j < TN; j++)
            {
              int col = (block0 + j) * 8 + lane;
              if (col < p.n)
                {
                  float value = acc[r][j] + bias[j];
                  if ((p.flags & 2) != 0)
                    value += imageLoad (residual_tex, o + p.out_first - p.res_first + col).x;
                  out_data[o + col] = value;
                }
            }
        }
    }
}
