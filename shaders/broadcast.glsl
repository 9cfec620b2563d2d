// The body of add.comp and mul.comp: out = SF_COMBINE(a, b) with b
// broadcast onto a (numpy rules). The recorder merges dimensions so that
// at most NDIM remain, alternating between those b has and those it
// broadcasts; b's stride is 0 along the latter (see strided.glsl). a and
// out are bound as the same slice (from texel `first` of a); b is bound
// whole.

layout (local_size_x = 64) in;
layout (constant_id = 0) const int NDIM = 1;
layout (binding = 0, SF_FORMAT) uniform readonly imageBuffer a;
layout (binding = 1, SF_FORMAT) uniform readonly imageBuffer b;
layout (binding = 2) writeonly buffer Out { sf_quad out_data[]; };
layout (push_constant) uniform Push {
  uvec4 size[3];
  uvec4 stride;       // b's
  uint count;         // texels in this dispatch
  uint first;
} p;

#include "strided.glsl"

sf_t value (uint t)
{
  uint inner;
  return SF_COMBINE (sf_load (a, t), sf_load (b, sf_strided_index (p.first + t, inner)));
}

sf_quad quad (uint t)
{
  uint inner;
  uint b0 = sf_strided_index (p.first + t, inner);
  if (!sf_strided_run_of_4 (inner))
    return sf_quad (value (t), value (t + 1u), value (t + 2u), value (t + 3u));
  uint step = p.stride[0];
  return sf_quad (SF_COMBINE (sf_load (a, t), sf_load (b, b0)),
                  SF_COMBINE (sf_load (a, t + 1u), sf_load (b, b0 + step)),
                  SF_COMBINE (sf_load (a, t + 2u), sf_load (b, b0 + 2u * step)),
                  SF_COMBINE (sf_load (a, t + 3u), sf_load (b, b0 + 3u * step)));
}

void main ()
{
  SF_STORE_BLOCK_QUADS (p.count, quad, value)
}
