// The activations of SfActivation on sf_t (float or vec4; include
// texel.glsl first). Written so that no intermediate overflows to NaN:
// exp() of a large argument gives inf and x / inf gives ±0, as it should.

#define SF_ACT_SILU 0
#define SF_ACT_GELU 1
#define SF_ACT_GELU_TANH 2
#define SF_ACT_QUICK_GELU 3

sf_t sf_silu (sf_t x)
{
  return x / (1.0 + exp (-x));
}

// 0.5 erfc(z) for z >= 0 from the Chebyshev fit in Press et al.,
// Numerical Recipes (erfcc): fractional error below 1.2e-7 everywhere, so
// the small tail of GELU for negative x is as accurate as its large part.
sf_t sf_half_erfc (sf_t z)
{
  sf_t t = 1.0 / (1.0 + 0.5 * z);
  sf_t poly = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
              + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
              + t * (-0.82215223 + t * 0.17087277))))))));
  return 0.5 * t * exp (poly - z * z);
}

// x Φ(x) with Φ(x) = 1 - 0.5 erfc(x / √2) for x >= 0 and 0.5 erfc(-x / √2)
// below: torch's exact GELU without the cancellation of 1 + erf(x).
sf_t sf_gelu (sf_t x)
{
  sf_t tail = sf_half_erfc (abs (x) * 0.70710678118654752);
  // A select, not a blend: 1 - tail + (2 tail - 1) would lose the tail.
  return x * mix (1.0 - tail, tail, sf_negative (x));
}

// 0.5 x (1 + tanh(u)) = x / (1 + exp(-2u)), u = √(2/π) (x + 0.044715 x³).
sf_t sf_gelu_tanh (sf_t x)
{
  sf_t u = 0.79788456080286536 * (x + 0.044715 * x * x * x);
  return x / (1.0 + exp (-2.0 * u));
}

// x σ(1.702 x) (CLIP ViT-L's quick_gelu).
sf_t sf_quick_gelu (sf_t x)
{
  return x / (1.0 + exp (-1.702 * x));
}

sf_t sf_activation (int act, sf_t x)
{
  if (act == SF_ACT_SILU)
    return sf_silu (x);
  if (act == SF_ACT_GELU)
    return sf_gelu (x);
  if (act == SF_ACT_GELU_TANH)
    return sf_gelu_tanh (x);
  return sf_quick_gelu (x);
}
