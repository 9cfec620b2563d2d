// Exact (erf) GELU as torch's default: x * Φ(x) = 0.5 x (1 + erf(x / √2)).
// GLSL has no erf; Abramowitz & Stegun 7.1.26 gives it to 1.5e-7
// absolute, below float32 rounding of the result's 1 + erf sum.
float sf_erf (float x)
{
  float t = 1.0 / (1.0 + 0.3275911 * abs (x));
  float poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741
               + t * (-1.453152027 + t * 1.061405429))));
  return sign (x) * (1.0 - poly * exp (-x * x));
}

float sf_gelu (float x)
{
  return 0.5 * x * (1.0 + sf_erf (x * 0.70710678118654752));
}
