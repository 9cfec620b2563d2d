#version 450
// out[..., :Ca] = a, out[..., Ca:] = b (sf_op_concat_last: the UNet's skip
// connections in NHWC). a and b are bound whole, out as a slice from
// texel `first`. Sizes in texels.
#include "texel.glsl"

layout (local_size_x = 64) in;
layout (binding = 0, SF_FORMAT) uniform readonly imageBuffer a;
layout (binding = 1, SF_FORMAT) uniform readonly imageBuffer b;
layout (binding = 2) writeonly buffer Out { sf_quad out_data[]; };
layout (push_constant) uniform Push {
  uvec4 out_channels; // Ca + Cb, as a divisor
  uint a_channels;
  uint b_channels;
  uint count;
  uint first;
} p;

sf_t value (uint t)
{
  uint index = p.first + t;
  uint row = sf_udiv (index, p.out_channels);
  uint column = index - row * p.out_channels.w;
  return column < p.a_channels ? sf_load (a, row * p.a_channels + column)
                               : sf_load (b, row * p.b_channels + column - p.a_channels);
}

sf_quad quad (uint t)
{
  uint index = p.first + t;
  uint row = sf_udiv (index, p.out_channels);
  uint column = index - row * p.out_channels.w;
  if (column + 3u < p.a_channels)
    {
      uint s = row * p.a_channels + column;
      return sf_quad (sf_load (a, s), sf_load (a, s + 1u), sf_load (a, s + 2u),
                      sf_load (a, s + 3u));
    }
  if (column >= p.a_channels && column + 3u < p.out_channels.w)
    {
      uint s = row * p.b_channels + column - p.a_channels;
      return sf_quad (sf_load (b, s), sf_load (b, s + 1u), sf_load (b, s + 2u),
                      sf_load (b, s + 3u));
    }
  return sf_quad (value (t), value (t + 1u), value (t + 2u), value (t + 3u));
}

void main ()
{
  SF_STORE_BLOCK_QUADS (p.count, quad, value)
}
