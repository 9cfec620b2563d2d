/* Prompt weighting: the parser against A1111's own output
 * (tests/data/prompt-attention-cases.json), and both ways of applying
 * weights against a plain C reference and against A1111's and ComfyUI's
 * formulas computed by the reference script (tests/data/ref/weighting). */
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "npy.h"
#include "prompt.h"
#include "sf-test.h"

static char *
data_path (const char *name)
{
  return g_build_filename (g_getenv ("SF_TEST_DATA"), name, NULL);
}

static void
assert_runs (const char *prompt, GArray *runs, JsonArray *expected)
{
  gboolean same = runs->len == json_array_get_length (expected);
  for (guint i = 0; same && i < runs->len; i++)
    {
      const SfPromptRun *run = &g_array_index (runs, SfPromptRun, i);
      JsonArray *pair = json_array_get_array_element (expected, i);
      same = strcmp (run->text, json_array_get_string_element (pair, 0)) == 0 &&
             run->weight == json_array_get_double_element (pair, 1);
    }
  if (!same)
    {
      g_autoptr (GString) got = g_string_new ("");
      for (guint i = 0; i < runs->len; i++)
        {
          const SfPromptRun *run = &g_array_index (runs, SfPromptRun, i);
          g_string_append_printf (got, " [“%s”, %.17g]", run->text, run->weight);
        }
      g_error ("“%s” parsed as%s", prompt, got->str);
    }
}

static void
test_parses_like_a1111 (void)
{
  g_autofree char *path = data_path ("prompt-attention-cases.json");
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_assert_true (json_parser_load_from_file (parser, path, NULL));
  JsonArray *cases = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)), "cases");
  guint compared = 0, raised = 0;
  for (guint i = 0; i < json_array_get_length (cases); i++)
    {
      JsonObject *item = json_array_get_object_element (cases, i);
      const char *prompt = json_object_get_string_member (item, "prompt");
      g_autoptr (GArray) runs = sf_prompt_parse (prompt);
      if (json_object_has_member (item, "parsed"))
        {
          assert_runs (prompt, runs, json_object_get_array_member (item, "parsed"));
          compared++;
        }
      else
        {
          /* A1111 raises on "(a:1.2.3)"; here the text stays. */
          g_assert_cmpstr (prompt, ==, "(a:1.2.3)");
          g_assert_cmpuint (runs->len, ==, 1);
          g_assert_cmpstr (g_array_index (runs, SfPromptRun, 0).text, ==, "a:1.2.3");
          g_assert_cmpfloat (g_array_index (runs, SfPromptRun, 0).weight, ==, 1.1);
          raised++;
        }
    }
  g_assert_cmpuint (compared, >=, 60);
  g_assert_cmpuint (raised, ==, 1);
}

static GArray *
parse_expect (const char *prompt, guint n_runs)
{
  GArray *runs = sf_prompt_parse (prompt);
  g_assert_cmpuint (runs->len, ==, n_runs);
  return runs;
}

#define RUN(runs, i) (&g_array_index ((runs), SfPromptRun, (i)))

static void
test_edge_cases (void)
{
  /* BREAK needs word boundaries in Python's sense: letters of any script
   * and digits are word characters, punctuation is not. */
  g_autoptr (GArray) accent = parse_expect ("éBREAK b", 1);
  g_autoptr (GArray) digit = parse_expect ("a 1BREAK", 1);
  g_autoptr (GArray) comma = parse_expect ("a,BREAK,b", 3);
  g_assert_cmpstr (RUN (comma, 0)->text, ==, "a,");
  g_assert_true (sf_prompt_run_is_break (RUN (comma, 1)));
  g_assert_cmpstr (RUN (comma, 2)->text, ==, ",b");
  /* Two BREAKs: their weights are equal (-1) but empty text of weight 1
   * stands between them, so they stay two. */
  g_autoptr (GArray) twice = parse_expect ("a BREAK BREAK b", 5);
  g_assert_true (sf_prompt_run_is_break (RUN (twice, 1)) && sf_prompt_run_is_break (RUN (twice, 3)));
  g_assert_cmpstr (RUN (twice, 2)->text, ==, "");
  /* Unicode whitespace around BREAK is taken too. */
  g_autoptr (GArray) wide = parse_expect ("a\xe3\x80\x80" "BREAK\xc2\xa0" "b", 3);
  g_assert_cmpstr (RUN (wide, 2)->text, ==, "b");

  /* Weights: spaces and signs, nesting order, negatives. */
  g_autoptr (GArray) spaced = parse_expect ("(x:\xe3\x80\x80-2 )", 1);
  g_assert_cmpfloat (RUN (spaced, 0)->weight, ==, -2.0);
  g_autoptr (GArray) nested = parse_expect ("[(x:2)]", 1);
  g_assert_cmpfloat (RUN (nested, 0)->weight, ==, 2.0 * (1 / 1.1));
  g_autoptr (GArray) bad = parse_expect ("(x:.)", 1);
  g_assert_cmpstr (RUN (bad, 0)->text, ==, "x:.");
  g_assert_cmpfloat (RUN (bad, 0)->weight, ==, 1.1);
  g_autoptr (GArray) sign = parse_expect ("(x:+-1)", 1);
  g_assert_cmpstr (RUN (sign, 0)->text, ==, "x:+-1");

  /* Deep nesting multiplies once per level, in order. */
  g_autoptr (GString) deep = g_string_new ("");
  for (int i = 0; i < 300; i++)
    g_string_append_c (deep, '(');
  g_string_append (deep, "x");
  g_autoptr (GArray) deep_runs = parse_expect (deep->str, 1);
  double expected = 1;
  for (int i = 0; i < 300; i++)
    expected *= 1.1;
  g_assert_cmpfloat (RUN (deep_runs, 0)->weight, ==, expected);

  /* Invalid UTF-8 is replaced, never read past. */
  g_autoptr (GArray) invalid = parse_expect ("a\xff(b\xc3", 2);
  g_assert_true (g_utf8_validate (RUN (invalid, 0)->text, -1, NULL));
  g_assert_true (g_utf8_validate (RUN (invalid, 1)->text, -1, NULL));
  g_autoptr (GArray) none = parse_expect (NULL, 1);
  g_assert_cmpstr (RUN (none, 0)->text, ==, "");
}

/* ---- Applying weights ------------------------------------------------------ */

static SfNpy *
load_npy (const char *name)
{
  g_autofree char *path = data_path (name);
  g_autoptr (GError) error = NULL;
  SfNpy *npy = sf_npy_load (path, &error);
  g_assert_no_error (error);
  return npy;
}

static void
test_weighting_matches_the_reference (void)
{
  g_autoptr (SfNpy) cond_npy = load_npy ("ref/weighting/cond.npy");
  g_autoptr (SfNpy) empty_npy = load_npy ("ref/weighting/empty_cond.npy");
  g_autoptr (SfNpy) weights_npy = load_npy ("ref/weighting/weights.npy");
  const float *cond = cond_npy->f32, *empty = empty_npy->f32, *weights = weights_npy->f32;
  gsize n_cond = cond_npy->count;
  g_assert_cmpuint (weights_npy->count, ==, 77);
  g_assert_cmpuint (n_cond, ==, empty_npy->count);
  gsize dim = n_cond / 77;
  /* The tiny model's encoders: CLIP-L 16 wide, bigG 32 (tiny-sdxl-info.json). */
  g_assert_cmpuint (dim, ==, 48);
  const gsize l_width = 16;

  /* A1111 weights each embedder's output on its own. */
  g_autofree float *per_encoder = g_memdup2 (cond, n_cond * 4);
  sf_prompt_weight_a1111 (per_encoder, 77, l_width, dim, weights);
  sf_prompt_weight_a1111 (per_encoder + l_width, 77, dim - l_width, dim, weights);
  g_autoptr (SfNpy) expected = load_npy ("ref/weighting/a1111_per_encoder.npy");
  g_assert_cmpuint (expected->count, ==, n_cond);
  /* float32 means in torch (pairwise sums) vs double sums here. */
  sf_assert_close (per_encoder, expected->f32, n_cond, 1e-6);

  g_autofree float *whole = g_memdup2 (cond, n_cond * 4);
  sf_prompt_weight (SF_PROMPT_WEIGHTING_A1111, whole, NULL, 77, dim, dim, weights);
  g_autoptr (SfNpy) expected_whole = load_npy ("ref/weighting/a1111_whole.npy");
  sf_assert_close (whole, expected_whole->f32, n_cond, 1e-6);

  g_autofree float *comfy = g_memdup2 (cond, n_cond * 4);
  sf_prompt_weight (SF_PROMPT_WEIGHTING_COMFY, comfy, empty, 77, dim, dim, weights);
  g_autoptr (SfNpy) expected_comfy = load_npy ("ref/weighting/comfy.npy");
  sf_assert_close (comfy, expected_comfy->f32, n_cond, 1e-7);
}

static void
test_weighting_formulas (void)
{
  SfTestRng rng;
  sf_test_rng_init (&rng, 3);
  const gsize tokens = 13, dim = 7, stride = 10;
  g_autofree float *z = sf_test_random_array (&rng, tokens * stride, -1, 2);
  g_autofree float *e = sf_test_random_array (&rng, tokens * stride, -1, 1);
  g_autofree float *w = sf_test_random_array (&rng, tokens, -0.5f, 2);
  w[3] = 1.0f;
  g_autofree float *a = g_memdup2 (z, tokens * stride * 4);
  sf_prompt_weight_a1111 (a, tokens, dim, stride, w);
  double sum_z = 0, sum_scaled = 0;
  for (gsize t = 0; t < tokens; t++)
    for (gsize c = 0; c < dim; c++)
      {
        sum_z += z[t * stride + c];
        sum_scaled += (double) z[t * stride + c] * w[t];
      }
  double scale = sum_z / sum_scaled;
  for (gsize t = 0; t < tokens; t++)
    for (gsize c = 0; c < stride; c++)
      {
        double want = c < dim ? (double) z[t * stride + c] * w[t] * scale : z[t * stride + c];
        g_assert_cmpfloat_with_epsilon (a[t * stride + c], want, 1e-5 * (1 + fabs (want)));
      }

  g_autofree float *c = g_memdup2 (z, tokens * stride * 4);
  sf_prompt_weight_comfy (c, e, tokens, dim, stride, w);
  for (gsize t = 0; t < tokens; t++)
    for (gsize k = 0; k < stride; k++)
      {
        gsize i = t * stride + k;
        float want = k < dim ? e[i] + w[t] * (z[i] - e[i]) : z[i];
        g_assert_cmpfloat_with_epsilon (c[i], want, 1e-6 * (1 + fabsf (want)));
      }
  /* Weight 1 leaves a row bit for bit under ComfyUI's rule. */
  g_assert_cmpmem (c + 3 * stride, dim * 4, z + 3 * stride, dim * 4);

  /* Weights that zero the sum: no rescale, no NaN. */
  float zero_mean[4] = { 1, -1, 2, -2 }, zero_weights[2] = { 0, 0 };
  sf_prompt_weight_a1111 (zero_mean, 2, 2, 2, zero_weights);
  for (int i = 0; i < 4; i++)
    g_assert_cmpfloat (zero_mean[i], ==, 0.0f);
}

int
main (int argc, char **argv)
{
  sf_test_init (&argc, &argv);
  sf_test_add ("/prompt/parses-like-a1111", test_parses_like_a1111);
  sf_test_add ("/prompt/edge-cases-follow-python-semantics", test_edge_cases);
  sf_test_add ("/prompt/weighting-matches-a1111-and-comfyui-reference", test_weighting_matches_the_reference);
  sf_test_add ("/prompt/weighting-formulas-against-plain-c", test_weighting_formulas);
  return sf_test_run ();
}
