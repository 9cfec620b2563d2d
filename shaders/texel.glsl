// Shared by the op shaders that read through storage texel buffers
// (imageBuffer: the fast way to read on lavapipe, see PERFORMANCE.md).
// Compiled twice: with VEC4 every texel is 4 floats (rgba32f views, used
// when the innermost size is a multiple of 4), without it one (r32f).
#include "common.glsl"

#ifdef VEC4
#define SF_FORMAT rgba32f
#define sf_t vec4
#define SF_TEXEL(v) (v)
#define sf_negative(v) lessThan (v, vec4 (0.0))
#else
#define SF_FORMAT r32f
#define sf_t float
#define SF_TEXEL(v) (v).x
#define sf_negative(v) ((v) < 0.0)
#endif

#define sf_load(image, index) SF_TEXEL (imageLoad (image, int (index)))

// n / d for a divisor prepared by sf_op_divisor() (multiplier, shift1,
// shift2, divisor): exact for every 32-bit n.
uint sf_udiv (uint n, uvec4 d)
{
  uint high, low;
  umulExtended (n, d.x, high, low);
  return (high + ((n - high) >> d.y)) >> d.z;
}

// The invocation's index for 1-D work laid out by sf_op_groups_1d().
uint sf_item_index (uint per_group)
{
  return sf_group_index () * per_group + gl_LocalInvocationID.x;
}

// Output-driven kernels store 4 consecutive texels at once (sf_quad: a
// mat4 of 4 vec4 texels, or a vec4 of 4 float texels): lavapipe turns
// every storage-buffer store into a loop over the lanes, so fewer, wider
// stores are much cheaper. A workgroup of SF_LANES invocations covers
// SF_BLOCK texels, each invocation SF_ITEMS quads strided by SF_LANES, so
// that workgroups (which cost lavapipe about half a microsecond each) are
// few.
#ifdef VEC4
#define sf_quad mat4
#else
#define sf_quad vec4
#endif
#define SF_LANES 64u
#define SF_ITEMS 16u
#define SF_BLOCK (4u * SF_LANES * SF_ITEMS)

// As SF_STORE_BLOCK, with QUAD(t) making whole quads (a faster path
// that may share work between the 4 texels) and VALUE(t) the partial last.
#define SF_STORE_BLOCK_QUADS(count, QUAD, VALUE) \
  for (uint k_ = 0u; k_ < SF_ITEMS; k_++) \
    { \
      uint q_ = (sf_group_index () * SF_ITEMS + k_) * SF_LANES + gl_LocalInvocationID.x; \
      uint t_ = 4u * q_; \
      if (t_ + 3u < (count)) \
        out_data[q_] = QUAD (t_); \
      else \
        for (uint c_ = 0u; t_ + c_ < (count); c_++) \
          out_data[q_][c_] = VALUE (t_ + c_); \
    }

// For each texel t < count of this workgroup's block (texels counted from
// the start of the binding `out_data`, an array of sf_quad), stores
// VALUE(t), where VALUE is a function of a uint.
#define SF_STORE_BLOCK(count, VALUE) \
  for (uint k_ = 0u; k_ < SF_ITEMS; k_++) \
    { \
      uint q_ = (sf_group_index () * SF_ITEMS + k_) * SF_LANES + gl_LocalInvocationID.x; \
      uint t_ = 4u * q_; \
      if (t_ + 3u < (count)) \
        out_data[q_] = sf_quad (VALUE (t_), VALUE (t_ + 1u), VALUE (t_ + 2u), VALUE (t_ + 3u)); \
      else \
        for (uint c_ = 0u; t_ + c_ < (count); c_++) \
          out_data[q_][c_] = VALUE (t_ + c_); \
    }
