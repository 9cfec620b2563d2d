/* SfTorchGenerator and sf_torch_randn against torch 1.13's CPU generator
 * (tests/data/sampler/randn.json: float32 outputs of torch.randn, compared
 * bit for bit). */
#include <math.h>
#include <string.h>

#include "rng.h"
#include "sampler-data.h"
#include "sf-test.h"

static gsize
shape_count (JsonArray *shape)
{
  gsize n = 1;
  for (guint i = 0; i < json_array_get_length (shape); i++)
    n *= (gsize) json_array_get_int_element (shape, i);
  return n;
}

static void
test_randn_matches_torch_bit_for_bit (void)
{
  g_autoptr (JsonParser) parser = sf_sampler_data_json ("randn.json");
  JsonArray *cases = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)),
                                                   "cases");
  guint n_cases = json_array_get_length (cases);
  g_assert_cmpuint (n_cases, >=, 30);
  gsize total = 0;
  for (guint c = 0; c < n_cases; c++)
    {
      JsonObject *entry = json_array_get_object_element (cases, c);
      guint64 seed = g_ascii_strtoull (json_object_get_string_member (entry, "seed"), NULL, 10);
      JsonArray *shapes = json_object_get_array_member (entry, "shapes");
      JsonArray *files = json_object_get_array_member (entry, "files");
      g_autoptr (SfTorchGenerator) gen = sf_torch_generator_new (seed);
      if (json_object_has_member (entry, "note"))
        {
          /* The case drawn after randn (1) and manual_seed again. */
          float dropped;
          sf_torch_randn (gen, &dropped, 1);
          sf_torch_generator_manual_seed (gen, seed);
        }
      for (guint d = 0; d < json_array_get_length (files); d++)
        {
          gsize count;
          int ndim;
          gint64 shape[8];
          g_autofree float *expected = sf_sampler_data_npy (json_array_get_string_element (files, d),
                                                            &count, &ndim, shape);
          g_assert_cmpuint (count, ==, shape_count (json_array_get_array_element (shapes, d)));
          g_autofree float *actual = g_new (float, count);
          sf_torch_randn (gen, actual, count);
          if (memcmp (actual, expected, count * sizeof (float)) != 0)
            {
              gsize first = 0;
              while (memcmp (&actual[first], &expected[first], 4) == 0)
                first++;
              g_error ("seed %" G_GUINT64_FORMAT " draw %u (n=%" G_GSIZE_FORMAT "): element %"
                       G_GSIZE_FORMAT " is %.9g, torch gives %.9g",
                       seed, d, count, first, actual[first], expected[first]);
            }
          total += count;
        }
    }
  g_test_message ("%u cases, %" G_GSIZE_FORMAT " values identical to torch", n_cases, total);
}

/* The C++ standard fixes std::mt19937's 10000th output for the default
 * seed 5489: 4123659995. torch's engine is the same generator. */
static void
test_generator_is_mt19937 (void)
{
  g_autoptr (SfTorchGenerator) gen = sf_torch_generator_new (5489);
  guint32 value = 0;
  for (int i = 0; i < 10000; i++)
    value = sf_torch_generator_next_u32 (gen);
  g_assert_cmpuint (value, ==, 4123659995u);
}

static void
test_only_low_32_bits_of_the_seed_count (void)
{
  g_autoptr (SfTorchGenerator) a = sf_torch_generator_new (7);
  g_autoptr (SfTorchGenerator) b = sf_torch_generator_new ((G_GUINT64_CONSTANT (1) << 32) + 7);
  float x[40], y[40];
  sf_torch_randn (a, x, 40);
  sf_torch_randn (b, y, 40);
  g_assert_cmpmem (x, sizeof x, y, sizeof y);
  g_assert_cmpuint (sf_torch_generator_initial_seed (b), ==, (G_GUINT64_CONSTANT (1) << 32) + 7);
}

/* The n < 16 path makes values in pairs and keeps the second for the
 * next small draw; a large draw in between does not touch it, reseeding
 * drops it. */
static void
test_small_draws_share_a_cached_value (void)
{
  g_autoptr (SfTorchGenerator) gen = sf_torch_generator_new (11);
  float pair[2];
  sf_torch_randn (gen, pair, 2);

  g_autoptr (SfTorchGenerator) split = sf_torch_generator_new (11);
  float first, second, big[32];
  sf_torch_randn (split, &first, 1);
  sf_torch_randn (split, big, 32);
  sf_torch_randn (split, &second, 1);
  g_assert_cmpmem (&first, 4, &pair[0], 4);
  g_assert_cmpmem (&second, 4, &pair[1], 4);

  /* The large draw used the stream right after the pair's four words. */
  g_autoptr (SfTorchGenerator) skip = sf_torch_generator_new (11);
  for (int i = 0; i < 4; i++)
    sf_torch_generator_next_u32 (skip);
  float big2[32];
  sf_torch_randn (skip, big2, 32);
  g_assert_cmpmem (big, sizeof big, big2, sizeof big2);

  sf_torch_generator_manual_seed (split, 11);
  float again;
  sf_torch_randn (split, &again, 1);
  g_assert_cmpmem (&again, 4, &pair[0], 4);
}

/* Uniform draws: n, plus 16 when n % 16 != 0; the results are normal. */
static void
test_large_draws_consume_n_or_n_plus_16_words (void)
{
  for (gsize n = 16; n <= 70; n++)
    {
      g_autoptr (SfTorchGenerator) a = sf_torch_generator_new (3);
      g_autoptr (SfTorchGenerator) b = sf_torch_generator_new (3);
      g_autofree float *out = g_new (float, n);
      sf_torch_randn (a, out, n);
      gsize words = n + (n % 16 ? 16 : 0);
      for (gsize i = 0; i < words; i++)
        sf_torch_generator_next_u32 (b);
      g_assert_cmpuint (sf_torch_generator_next_u32 (a), ==, sf_torch_generator_next_u32 (b));
    }

  g_autoptr (SfTorchGenerator) gen = sf_torch_generator_new (123);
  gsize n = 1 << 18;
  g_autofree float *x = g_new (float, n);
  sf_torch_randn (gen, x, n);
  double sum = 0, sum2 = 0;
  for (gsize i = 0; i < n; i++)
    {
      g_assert_true (isfinite (x[i]));
      sum += x[i];
      sum2 += (double) x[i] * x[i];
    }
  g_assert_cmpfloat (fabs (sum / n), <, 0.01);
  g_assert_cmpfloat (fabs (sum2 / n - 1.0), <, 0.01);
}

int
main (int argc, char **argv)
{
  sf_test_init (&argc, &argv);
  sf_test_add ("/rng/randn-matches-torch-bit-for-bit", test_randn_matches_torch_bit_for_bit);
  sf_test_add ("/rng/generator-is-mt19937", test_generator_is_mt19937);
  sf_test_add ("/rng/only-the-low-32-bits-of-the-seed-count", test_only_low_32_bits_of_the_seed_count);
  sf_test_add ("/rng/small-draws-share-a-cached-value", test_small_draws_share_a_cached_value);
  sf_test_add ("/rng/large-draws-consume-n-or-n-plus-16-words",
               test_large_draws_consume_n_or_n_plus_16_words);
  return sf_test_run ();
}
