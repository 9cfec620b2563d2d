// The body of add.comp and mul.comp: out = SF_COMBINE(a, b) with b
// broadcast onto a (numpy rules). The recorder merges dimensions so that
// at most NDIM remain, alternating between those b has and those it
// broadcasts; b_stride is b's stride (in texels) along each, 0 where b
// broadcasts. a and out are bound as the same slice (from texel `first`
// of a); b is bound whole.

layout (local_size_x = 64) in;
layout (constant_id = 0) const int NDIM = 1;
layout (binding = 0, SF_FORMAT) uniform readonly imageBuffer a;
layout (binding = 1, SF_FORMAT) uniform readonly imageBuffer b;
layout (binding = 2) writeonly buffer Out { sf_quad out_data[]; };
layout (push_constant) uniform Push {
  uvec4 size[3];      // merged dims 0..2 (innermost first), as divisors
  uvec4 b_stride;     // dims 0..3
  uint count;         // texels in this dispatch
  uint first;
} p;

// b's index for a's texel `index`; `inner` gets the position along the
// innermost merged dim.
uint b_index_of (uint index, out uint inner)
{
  uint rest = index;
  uint b_index = 0u;
  inner = index;
  for (int d = 0; d < NDIM - 1; d++)
    {
      uint q = sf_udiv (rest, p.size[d]);
      uint coordinate = rest - q * p.size[d].w;
      if (d == 0)
        inner = coordinate;
      b_index += coordinate * p.b_stride[d];
      rest = q;
    }
  return b_index + rest * p.b_stride[NDIM - 1];
}

sf_t value (uint t)
{
  uint inner;
  return SF_COMBINE (sf_load (a, t), sf_load (b, b_index_of (p.first + t, inner)));
}

// Four texels that lie in one run of the innermost dim step through b by
// its stride there; only a quad that crosses the end of the run needs the
// divisions again.
sf_quad quad (uint t)
{
  uint inner;
  uint b0 = b_index_of (p.first + t, inner);
  uint run = NDIM == 1 ? 0xffffffffu : p.size[0].w;
  if (inner + 3u >= run)
    return sf_quad (value (t), value (t + 1u), value (t + 2u), value (t + 3u));
  uint step = p.b_stride[0];
  return sf_quad (SF_COMBINE (sf_load (a, t), sf_load (b, b0)),
                  SF_COMBINE (sf_load (a, t + 1u), sf_load (b, b0 + step)),
                  SF_COMBINE (sf_load (a, t + 2u), sf_load (b, b0 + 2u * step)),
                  SF_COMBINE (sf_load (a, t + 3u), sf_load (b, b0 + 3u * step)));
}

void main ()
{
  SF_STORE_BLOCK_QUADS (p.count, quad, value)
}
