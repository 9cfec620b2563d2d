/* Host-side f16/bf16 conversions against the compiler's _Float16. */
#include <math.h>
#include <string.h>

#include "dtype.h"
#include "sf-test.h"

static void
test_every_half_round_trips (void)
{
  for (uint32_t bits = 0; bits < 65536; bits++)
    {
      float value = sf_f16_to_f32 ((uint16_t) bits);
      _Float16 reference;
      uint16_t rbits = (uint16_t) bits;
      memcpy (&reference, &rbits, 2);
      float expected = (float) reference;
      if (isnan (expected))
        {
          g_assert_true (isnan (value));
          g_assert_true (isnan (sf_f16_to_f32 (sf_f32_to_f16 (value))));
          continue;
        }
      g_assert_cmpmem (&value, 4, &expected, 4);
      g_assert_cmpuint (sf_f32_to_f16 (value), ==, bits);
    }
}

static void
test_rounding_matches_compiler (void)
{
  SfTestRng rng;
  sf_test_rng_init (&rng, 7);
  for (int i = 0; i < 2000000; i++)
    {
      /* Random bit patterns cover subnormals, ties and overflow. */
      uint32_t x = (uint32_t) (sf_test_rng_uniform (&rng, 0, 1) * 4294967295.0);
      float value;
      memcpy (&value, &x, 4);
      if (isnan (value))
        continue;
      _Float16 reference = (_Float16) value;
      uint16_t expected;
      memcpy (&expected, &reference, 2);
      uint16_t got = sf_f32_to_f16 (value);
      if (got != expected)
        g_error ("f32 %08x (%g): got f16 %04x, expected %04x", x, value, got, expected);
    }
}

static void
test_bf16_is_top_half (void)
{
  g_assert_cmpfloat (sf_bf16_to_f32 (0x3f80), ==, 1.0f);
  g_assert_cmpfloat (sf_bf16_to_f32 (0xc000), ==, -2.0f);
  g_assert_cmpfloat (sf_bf16_to_f32 (0x7f7f), ==, 3.3895313892515355e38f);
}

int
main (int argc, char **argv)
{
  sf_test_init (&argc, &argv);
  sf_test_add ("/dtype/every-half-round-trips", test_every_half_round_trips);
  sf_test_add ("/dtype/f32-to-f16-rounds-like-the-compiler", test_rounding_matches_compiler);
  sf_test_add ("/dtype/bf16-is-the-top-half-of-f32", test_bf16_is_top_half);
  return sf_test_run ();
}
