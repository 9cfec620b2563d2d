#include "dtype.h"

#include <string.h>

gsize
sf_dtype_size (SfDType dtype)
{
  return dtype == SF_DTYPE_F16 ? 2 : 4; /* f32 and i32 */
}

const char *
sf_dtype_name (SfDType dtype)
{
  switch (dtype)
    {
    case SF_DTYPE_F16: return "f16";
    case SF_DTYPE_I32: return "i32";
    default: return "f32";
    }
}

uint16_t
sf_f32_to_f16 (float value)
{
  uint32_t x;
  memcpy (&x, &value, 4);
  uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t exponent = (x >> 23) & 0xffu;
  uint32_t mantissa = x & 0x7fffffu;

  if (exponent == 0xff) /* inf or NaN (keep NaN quiet and non-zero) */
    return (uint16_t) (sign | 0x7c00u | (mantissa ? 0x200u | (mantissa >> 13) : 0));

  int32_t e = (int32_t) exponent - 127 + 15;
  if (e >= 0x1f)
    return (uint16_t) (sign | 0x7c00u);
  if (e <= 0)
    {
      /* Subnormal half (or zero): shift the full significand, round to
       * nearest even on the bits shifted out. */
      if (e < -10)
        return (uint16_t) sign;
      uint32_t significand = mantissa | 0x800000u;
      uint32_t shift = (uint32_t) (14 - e);
      uint32_t half = significand >> shift;
      uint32_t rest = significand & ((1u << shift) - 1);
      uint32_t midpoint = 1u << (shift - 1);
      if (rest > midpoint || (rest == midpoint && (half & 1u)))
        half++;
      return (uint16_t) (sign | half);
    }
  uint32_t half = ((uint32_t) e << 10) | (mantissa >> 13);
  uint32_t rest = mantissa & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (half & 1u)))
    half++; /* may carry into the exponent, up to inf: that is correct */
  return (uint16_t) (sign | half);
}

float
sf_f16_to_f32 (uint16_t bits)
{
  uint32_t sign = (uint32_t) (bits & 0x8000u) << 16;
  uint32_t exponent = (bits >> 10) & 0x1fu;
  uint32_t mantissa = bits & 0x3ffu;
  uint32_t x;
  if (exponent == 0x1f)
    x = sign | 0x7f800000u | (mantissa << 13);
  else if (exponent != 0)
    x = sign | ((exponent - 15 + 127) << 23) | (mantissa << 13);
  else if (mantissa == 0)
    x = sign;
  else
    {
      /* Subnormal: normalise. */
      int32_t e = -1;
      do
        {
          mantissa <<= 1;
          e++;
        }
      while (!(mantissa & 0x400u));
      x = sign | ((uint32_t) (127 - 15 - e) << 23) | ((mantissa & 0x3ffu) << 13);
    }
  float value;
  memcpy (&value, &x, 4);
  return value;
}

float
sf_bf16_to_f32 (uint16_t bits)
{
  uint32_t x = (uint32_t) bits << 16;
  float value;
  memcpy (&value, &x, 4);
  return value;
}

void
sf_f32_to_f16_array (const float *src, uint16_t *dst, gsize count)
{
  for (gsize i = 0; i < count; i++)
    dst[i] = sf_f32_to_f16 (src[i]);
}

void
sf_f16_to_f32_array (const uint16_t *src, float *dst, gsize count)
{
  for (gsize i = 0; i < count; i++)
    dst[i] = sf_f16_to_f32 (src[i]);
}
