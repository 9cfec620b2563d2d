#version 450
// diffusers' get_timestep_embedding (sf_op_timestep_embedding), following
// its float32 arithmetic: exponent_j = float(j) * float(-ln max_period)
// then / float(half - shift), freq_j = exp(exponent_j), arg = t * freq_j,
// out = [sin(arg), cos(arg)] (or [cos, sin]), zero-padded when dim is odd.
//
// The arguments reach thousands of radians (t up to 1000, SDXL's size
// conditioning up to 4096), where one unit in the last place of freq_j
// moves sin by 1e-4, so exp is computed to within a small fraction of a
// unit (correctly rounded in almost every case) and sin and cos reduce
// their argument with a three-piece π/2. `precise` keeps the compiler
// from reassociating the compensated sums. One invocation per (b, j).
#include "common.glsl"

layout (local_size_x = 64) in;
layout (binding = 0) uniform samplerBuffer timesteps;
layout (binding = 1) writeonly buffer Out { float out_data[]; };
layout (push_constant) uniform Push {
  uint batch;
  uint half_dim;
  uint dim;
  uint flip;              // 1: [cos, sin]
  float neg_log_period;   // float32(-ln max_period)
  float denominator;      // float32(half - shift)
} p;

// exp(x) for |x| < 87: x = n ln2 + r with ln2 in two pieces (n ln2_hi is
// exact), then exp(r) = (1 + r) + (r²/2 + ...), the first sum kept exact.
float accurate_exp (float x)
{
  precise float n = roundEven (x * 1.44269502);
  precise float r_hi = x - n * 0.693145751953125;
  precise float r_lo = -n * 1.428606765330187e-06;
  precise float r = r_hi + r_lo;
  precise float r_err = (r_hi - r) + r_lo;
  precise float poly = r * r * (0.5 + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0
                       + r * (1.0 / 720.0 + r * (1.0 / 5040.0 + r * (1.0 / 40320.0)))))));
  precise float s = 1.0 + r;
  precise float s_err = (1.0 - s) + r;
  precise float tail = s_err + (r_err + r * r_err) + poly;
  return ldexp (s + tail, int (n));
}

// sin and cos of x for |x| < 12868 (where k * π/2's pieces stay exact).
void accurate_sincos (float x, out float s, out float c)
{
  precise float k = roundEven (x * 0.636619747);
  precise float r = ((x - k * 1.5703125) - k * 0.00048375129699707031)
                    - k * 7.5497901264043321e-08;
  precise float r2 = r * r;
  precise float sine = r + r * r2 * (-1.0 / 6.0 + r2 * (1.0 / 120.0 + r2 * (-1.0 / 5040.0
                       + r2 * (1.0 / 362880.0 + r2 * (-1.0 / 39916800.0)))));
  precise float cosine = 1.0 + r2 * (-0.5 + r2 * (1.0 / 24.0 + r2 * (-1.0 / 720.0
                         + r2 * (1.0 / 40320.0 + r2 * (-1.0 / 3628800.0
                         + r2 * (1.0 / 479001600.0))))));
  int quadrant = int (k) & 3;
  s = quadrant == 0 ? sine : quadrant == 1 ? cosine : quadrant == 2 ? -sine : -cosine;
  c = quadrant == 0 ? cosine : quadrant == 1 ? -sine : quadrant == 2 ? -cosine : sine;
}

void main ()
{
  uint i = sf_group_index () * 64u + gl_LocalInvocationID.x;
  if (i >= p.batch * p.half_dim)
    return;
  uint b = i / p.half_dim;
  uint j = i - b * p.half_dim;
  precise float exponent = float (j) * p.neg_log_period;
  precise float scaled = exponent / p.denominator;
  precise float arg = texelFetch (timesteps, int (b)).x * accurate_exp (scaled);
  float s, c;
  accurate_sincos (arg, s, c);
  uint row = b * p.dim;
  out_data[row + j] = p.flip != 0u ? c : s;
  out_data[row + p.half_dim + j] = p.flip != 0u ? s : c;
  if (j == 0u && p.dim > 2u * p.half_dim)
    out_data[row + p.dim - 1u] = 0.0;
}
