/* PyTorch's CPU generator and torch.randn, written from the algorithm
 * (ATen's mt19937, DistributionTemplates.h normal_fill_AVX2 and the cephes
 * polynomials of avx_mathfun.h; see ../shared/REFERENCE-NOTES.md).
 *
 * Bit-exactness depends on rounding exactly where torch's binary rounds.
 * That binary was built with FMA contraction, so the steps it fuses are
 * written here as fmaf() and this file is compiled with -ffp-contract=off
 * (compute/CMakeLists.txt) so that the compiler fuses nothing else. */
#include "rng.h"

#include <math.h>
#include <string.h>

#define MT_N 624
#define MT_M 397

struct SfTorchGenerator {
  uint32_t state[MT_N];
  int next;                 /* index of the next output in state */
  uint64_t seed;
  gboolean has_next_double; /* the cached sin() half of the double path */
  double next_double;
};

static void
mt_init (SfTorchGenerator *gen, uint32_t seed)
{
  gen->state[0] = seed;
  for (uint32_t i = 1; i < MT_N; i++)
    {
      uint32_t prev = gen->state[i - 1];
      gen->state[i] = 1812433253u * (prev ^ (prev >> 30)) + i;
    }
  gen->next = MT_N; /* twist before the first output */
}

static void
mt_twist (SfTorchGenerator *gen)
{
  uint32_t *s = gen->state;
  for (int i = 0; i < MT_N; i++)
    {
      uint32_t y = (s[i] & 0x80000000u) | (s[(i + 1) % MT_N] & 0x7fffffffu);
      s[i] = s[(i + MT_M) % MT_N] ^ (y >> 1) ^ ((y & 1u) ? 0x9908b0dfu : 0u);
    }
  gen->next = 0;
}

uint32_t
sf_torch_generator_next_u32 (SfTorchGenerator *gen)
{
  if (gen->next >= MT_N)
    mt_twist (gen);
  uint32_t y = gen->state[gen->next++];
  y ^= y >> 11;
  y ^= (y << 7) & 0x9d2c5680u;
  y ^= (y << 15) & 0xefc60000u;
  y ^= y >> 18;
  return y;
}

void
sf_torch_generator_manual_seed (SfTorchGenerator *gen, uint64_t seed)
{
  gen->seed = seed;
  gen->has_next_double = FALSE;
  gen->next_double = 0.0;
  mt_init (gen, (uint32_t) (seed & 0xffffffffu));
}

SfTorchGenerator *
sf_torch_generator_new (uint64_t seed)
{
  SfTorchGenerator *gen = g_new0 (SfTorchGenerator, 1);
  sf_torch_generator_manual_seed (gen, seed);
  return gen;
}

void
sf_torch_generator_free (SfTorchGenerator *gen)
{
  g_free (gen);
}

uint64_t
sf_torch_generator_initial_seed (const SfTorchGenerator *gen)
{
  return gen->seed;
}

/* ---- float32 path (count >= 16) ---------------------------------------- */

static inline uint32_t
bits_of (float x)
{
  uint32_t u;
  memcpy (&u, &x, 4);
  return u;
}

static inline float
float_of (uint32_t u)
{
  float x;
  memcpy (&x, &u, 4);
  return x;
}

/* cephes logf as avx_mathfun.h's log256_ps evaluates it, one lane. The
 * argument is in (0, 1] here, so the invalid-input mask never fires. */
static float
cephes_logf (float x)
{
  x = fmaxf (x, float_of (0x00800000u)); /* smallest normal */
  int32_t exponent = (int32_t) (bits_of (x) >> 23);
  x = float_of ((bits_of (x) & ~0x7f800000u) | bits_of (0.5f));
  float e = (float) (exponent - 0x7f);
  e = e + 1.0f;

  /* if (x < SQRTHF) { e -= 1; x = x + x - 1; } else x = x - 1;
   * written as the kernel does it, with masks. */
  gboolean below = x < 0.707106781186547524f;
  float tmp = below ? x : 0.0f;
  x = x - 1.0f;
  e = e - (below ? 1.0f : 0.0f);
  x = x + tmp;

  float z = x * x;
  float y = 7.0376836292E-2f;
  y = fmaf (y, x, -1.1514610310E-1f);
  y = fmaf (y, x, 1.1676998740E-1f);
  y = fmaf (y, x, -1.2420140846E-1f);
  y = fmaf (y, x, 1.4249322787E-1f);
  y = fmaf (y, x, -1.6668057665E-1f);
  y = fmaf (y, x, 2.0000714765E-1f);
  y = fmaf (y, x, -2.4999993993E-1f);
  y = fmaf (y, x, 3.3333331174E-1f);
  y = y * x;
  y = fmaf (y, z, e * -2.12194440e-4f);
  y = y - z * 0.5f;
  x = x + y;
  x = fmaf (e, 0.693359375f, x);
  return x;
}

/* cephes sinf/cosf as avx_mathfun.h's sincos256_ps evaluates them. */
static void
cephes_sincosf (float x, float *sin_out, float *cos_out)
{
  uint32_t sign_sin = bits_of (x) & 0x80000000u;
  x = float_of (bits_of (x) & 0x7fffffffu);

  float y = x * 1.27323954473516f; /* 4 / pi */
  int32_t j = (int32_t) y;         /* truncation, as cvttps */
  j = (j + 1) & ~1;
  y = (float) j;

  uint32_t swap_sign_sin = ((uint32_t) j & 4u) << 29;
  gboolean poly_cos = (j & 2) == 0; /* the first polynomial is cos on [0, pi/4] */

  x = fmaf (y, -0.78515625f, x);
  x = fmaf (y, -2.4187564849853515625e-4f, x);
  x = fmaf (y, -3.77489497744594108e-8f, x);

  uint32_t sign_cos = (~((uint32_t) j - 2u) & 4u) << 29;
  sign_sin ^= swap_sign_sin;

  float z = x * x;
  float yc = fmaf (2.443315711809948E-005f, z, -1.388731625493765E-003f);
  yc = fmaf (yc, z, 4.166664568298827E-002f);
  yc = yc * z;
  yc = fmaf (yc, z, -(z * 0.5f));
  yc = yc + 1.0f;

  float ys = fmaf (-1.9515295891E-4f, z, 8.3321608736E-3f);
  ys = fmaf (ys, z, -1.6666654611E-1f);
  ys = ys * z;
  ys = fmaf (ys, x, x);

  /* The kernel's blend, literally, so signed zeros come out the same. */
  float ysin2 = poly_cos ? ys : 0.0f;
  float ysin1 = poly_cos ? 0.0f : yc;
  ys = ys - ysin2;
  yc = yc - ysin1;
  float s = ysin1 + ysin2;
  float c = yc + ys;
  *sin_out = float_of (bits_of (s) ^ sign_sin);
  *cos_out = float_of (bits_of (c) ^ sign_cos);
}

/* normal_fill_16_AVX2 on data[0..15] holding uniforms in [0, 1). */
static void
normal_fill_16 (float *data)
{
  const float two_pi = (float) (2.0 * G_PI); /* 0x40C90FDB */
  for (int j = 0; j < 8; j++)
    {
      float u1 = 1.0f - data[j];
      float u2 = data[j + 8];
      float radius = sqrtf (-2.0f * cephes_logf (u1));
      float theta = two_pi * u2;
      float s, c;
      cephes_sincosf (theta, &s, &c);
      /* out = n * std + mean with std 1, mean 0: adding 0 turns -0 into +0
       * as the kernel's fmadd does. */
      data[j] = radius * c + 0.0f;
      data[j + 8] = radius * s + 0.0f;
    }
}

static inline float
uniform_float (SfTorchGenerator *gen)
{
  return (float) (sf_torch_generator_next_u32 (gen) & 0xffffffu) * (1.0f / 16777216.0f);
}

/* ---- double path (count < 16) ------------------------------------------ */

static inline double
uniform_double (SfTorchGenerator *gen)
{
  uint64_t hi = sf_torch_generator_next_u32 (gen);
  uint64_t lo = sf_torch_generator_next_u32 (gen);
  uint64_t x = (hi << 32) | lo;
  return (double) (x & ((UINT64_C (1) << 53) - 1)) * (1.0 / 9007199254740992.0);
}

/* at::normal_distribution<double> with mean 0, std 1. */
static double
normal_double (SfTorchGenerator *gen)
{
  if (gen->has_next_double)
    {
      gen->has_next_double = FALSE;
      return gen->next_double + 0.0;
    }
  double u1 = uniform_double (gen);
  double u2 = uniform_double (gen);
  double r = sqrt (-2.0 * log (1.0 - u2));
  double theta = 2.0 * G_PI * u1;
  gen->next_double = r * sin (theta);
  gen->has_next_double = TRUE;
  return r * cos (theta) + 0.0;
}

void
sf_torch_randn (SfTorchGenerator *gen, float *out, size_t count)
{
  if (count < 16)
    {
      for (size_t i = 0; i < count; i++)
        out[i] = (float) normal_double (gen);
      return;
    }
  for (size_t i = 0; i < count; i++)
    out[i] = uniform_float (gen);
  for (size_t i = 0; i + 16 <= count; i += 16)
    normal_fill_16 (out + i);
  if (count % 16 != 0)
    {
      /* Fresh uniforms for the last 16, overlapping the previous block. */
      float *tail = out + count - 16;
      for (int i = 0; i < 16; i++)
        tail[i] = uniform_float (gen);
      normal_fill_16 (tail);
    }
}
