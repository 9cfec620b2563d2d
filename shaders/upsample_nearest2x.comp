#version 450
// Nearest-neighbour 2x upsampling of NHWC images (sf_op_upsample_nearest2x):
// out[n, y, x, c] = in[n, y / 2, x / 2, c]. Output rows n * 2H + y map to
// input rows (n * 2H + y) / 2 = n * H + y / 2, so n and y need not be
// separated. x is bound whole, out as a slice from texel `first`.
#include "texel.glsl"

layout (local_size_x = 64) in;
layout (binding = 0, SF_FORMAT) uniform readonly imageBuffer x;
layout (binding = 1) writeonly buffer Out { sf_quad out_data[]; };
layout (push_constant) uniform Push {
  uvec4 channels;     // C in texels, as a divisor
  uvec4 out_width;    // 2W, as a divisor
  uint width;         // W
  uint pad;
  uint count;
  uint first;
} p;

// x's texel for out's texel t; `channel` gets t's texel within its pixel.
uint source (uint t, out uint channel)
{
  uint pixel = sf_udiv (t, p.channels);
  channel = t - pixel * p.channels.w;
  uint row = sf_udiv (pixel, p.out_width);
  uint column = pixel - row * p.out_width.w;
  return ((row >> 1) * p.width + (column >> 1)) * p.channels.w + channel;
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
