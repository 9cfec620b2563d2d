// A gather through up to four merged dims (sf_op_add/mul's broadcast of
// b, sf_op_permute's x): the texel with linear index `index` in the
// output's merged shape reads texel sum(coordinate[d] * p.stride[d]).
// Needs NDIM (a constant, 1..4) and a push block `p` with
//   uvec4 size[3];   merged dims 0..2 (innermost first), as divisors
//   uvec4 stride;    strides of dims 0..3 in the source, in texels

// The source index of `index`; `inner` gets its coordinate along dim 0.
uint sf_strided_index (uint index, out uint inner)
{
  uint rest = index;
  uint source = 0u;
  inner = index;
  for (int d = 0; d < NDIM - 1; d++)
    {
      uint q = sf_udiv (rest, p.size[d]);
      uint coordinate = rest - q * p.size[d].w;
      if (d == 0)
        inner = coordinate;
      source += coordinate * p.stride[d];
      rest = q;
    }
  return source + rest * p.stride[NDIM - 1];
}

// TRUE when texels index .. index+3 all lie on one run of dim 0 (so their
// sources step by p.stride[0]), given `inner` from sf_strided_index().
bool sf_strided_run_of_4 (uint inner)
{
  return NDIM == 1 || inner + 3u < p.size[0].w;
}
