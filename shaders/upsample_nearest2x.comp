#version 450
// Nearest-neighbour 2x upsampling of NHWC images (sf_op_upsample_nearest2x):
// out[n, y, x, c] = in[n, y / 2, x / 2, c]. Output rows n * 2H + y map to
// input rows (n * 2H + y) / 2 = n * H + y / 2, so n and y need not be
// separated.
//
// With SPREAD (C a multiple of 16) the kernel follows the input: each
// lane reads a quad of 4 texels once and stores it to the 4 output pixels
// it covers, with one set of divisions. Otherwise it follows the output
// (any C). x is bound whole; out is bound from texel `first` (SPREAD:
// from output row 2 * first_row).
#include "texel.glsl"

layout (local_size_x = 64) in;
layout (binding = 0, SF_FORMAT) uniform readonly imageBuffer x;
layout (binding = 1) writeonly buffer Out { sf_quad out_data[]; };
layout (push_constant) uniform Push {
  uvec4 channels;     // C in texels (SPREAD: in quads), as a divisor
  uvec4 width;        // SPREAD: W; else 2W; as a divisor
  uint in_width;      // W
  uint pad;
  uint count;         // output texels (SPREAD: input quads) in this dispatch
  uint first;         // index of the first (SPREAD: its input row)
} p;

#ifdef SPREAD

void main ()
{
  for (uint k = 0u; k < SF_ITEMS; k++)
    {
      uint q = (sf_group_index () * SF_ITEMS + k) * SF_LANES + gl_LocalInvocationID.x;
      if (q >= p.count)
        return;
      uint pixel = sf_udiv (q, p.channels);          // within this dispatch's rows
      uint channel = q - pixel * p.channels.w;
      uint row = sf_udiv (pixel, p.width);
      uint column = pixel - row * p.width.w;
      uint source = ((p.first + row) * p.width.w + column) * p.channels.w + channel;
      sf_quad v = sf_quad (sf_load (x, 4u * source), sf_load (x, 4u * source + 1u),
                           sf_load (x, 4u * source + 2u), sf_load (x, 4u * source + 3u));
      uint target = ((2u * row) * 2u * p.width.w + 2u * column) * p.channels.w + channel;
      uint next_row = 2u * p.width.w * p.channels.w;
      out_data[target] = v;
      out_data[target + p.channels.w] = v;
      out_data[target + next_row] = v;
      out_data[target + next_row + p.channels.w] = v;
    }
}

#else

// x's texel for out's texel t; `channel` gets t's texel within its pixel.
uint source (uint t, out uint channel)
{
  uint pixel = sf_udiv (t, p.channels);
  channel = t - pixel * p.channels.w;
  uint row = sf_udiv (pixel, p.width);
  uint column = pixel - row * p.width.w;
  return ((row >> 1) * p.in_width + (column >> 1)) * p.channels.w + channel;
}

sf_t value (uint t)
{
  uint channel;
  return sf_load (x, source (p.first + t, channel));
}

sf_quad quad (uint t)
{
  uint channel;
  uint s = source (p.first + t, channel);
  if (channel + 3u >= p.channels.w)
    return sf_quad (value (t), value (t + 1u), value (t + 2u), value (t + 3u));
  return sf_quad (sf_load (x, s), sf_load (x, s + 1u), sf_load (x, s + 2u), sf_load (x, s + 3u));
}

void main ()
{
  SF_STORE_BLOCK_QUADS (p.count, quad, value)
}

#endif
