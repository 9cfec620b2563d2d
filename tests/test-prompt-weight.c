/* ctrl+up / ctrl+down on prompts (A1111's edit-attention.js), the spans
 * the editor highlights and its token count label. Expected strings are
 * worked out by hand from edit-attention's steps; in them ‸ marks a bare
 * cursor and « » a selection. */
#include <string.h>

#include "prompt-weight.h"

/* Strips the marks from @marked: the text, and the selection's byte
 * offsets (equal for ‸). */
static char *
unmark (const char *marked, gsize *start, gsize *end)
{
  GString *text = g_string_new (NULL);
  *start = *end = G_MAXSIZE;
  for (const char *p = marked; *p; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);
      if (c == 0x2038) /* ‸ */
        *start = *end = text->len;
      else if (c == 0xab) /* « */
        *start = text->len;
      else if (c == 0xbb) /* » */
        *end = text->len;
      else
        g_string_append_unichar (text, c);
    }
  g_assert_cmpuint (*start, !=, G_MAXSIZE);
  g_assert_cmpuint (*end, !=, G_MAXSIZE);
  return g_string_free (text, FALSE);
}

static char *
mark (const char *text, gsize start, gsize end)
{
  GString *marked = g_string_new (NULL);
  g_string_append_len (marked, text, (gssize) start);
  g_string_append (marked, "«");
  g_string_append_len (marked, text + start, (gssize) (end - start));
  g_string_append (marked, "»");
  g_string_append (marked, text + end);
  return g_string_free (marked, FALSE);
}

/* @expected NULL: no change. */
static void
check_adjust (const char *before, double delta, const char *expected)
{
  gsize start, end;
  g_autofree char *text = unmark (before, &start, &end);
  g_autofree char *result = sf_prompt_weight_adjust (text, &start, &end, delta);
  if (!expected)
    {
      if (result)
        g_error ("%s %+g: expected no change, got %s", before, delta, result);
      return;
    }
  if (!result)
    g_error ("%s %+g: expected %s, got no change", before, delta, expected);
  g_autofree char *marked = mark (result, start, end);
  if (strcmp (marked, expected) != 0)
    g_error ("%s %+g: expected %s, got %s", before, delta, expected, marked);
}

#define UP SF_PROMPT_WEIGHT_STEP
#define DOWN (-SF_PROMPT_WEIGHT_STEP)

static void
test_wraps_the_word_under_the_cursor (void)
{
  check_adjust ("a c‸at, dog", UP, "a («cat»:1.1), dog");
  check_adjust ("a c‸at, dog", DOWN, "a («cat»:0.9), dog");
  check_adjust ("‸cat", UP, "(«cat»:1.1)");
  check_adjust ("a cat‸", UP, "a («cat»:1.1)");
  check_adjust ("cat\nd‸og", UP, "cat\n(«dog»:1.1)");
  check_adjust ("red.bl‸ue", UP, "red.(«blue»:1.1)");
  /* A cursor between delimiters has no word. */
  check_adjust ("a, ‸, b", UP, NULL);
  check_adjust ("‸", UP, NULL);
}

static void
test_wraps_a_selection_without_trailing_spaces (void)
{
  check_adjust ("«a red cat»", UP, "(«a red cat»:1.1)");
  check_adjust ("«red cat »dog", UP, "(«red cat»:1.1) dog");
  check_adjust ("x «   »y", UP, NULL);
}

static void
test_steps_the_weight_of_the_enclosing_group (void)
{
  check_adjust ("a (ca‸t:1.1), dog", UP, "a («cat»:1.2), dog");
  check_adjust ("(red c‸at:1.5)", UP, "(«red cat»:1.6)");
  check_adjust ("(red c‸at:1.5)", DOWN, "(«red cat»:1.4)");
  check_adjust ("(a‸:1.9)", UP, "(«a»:2.0)");
  check_adjust ("(a‸:0.1)", DOWN, "(«a»:0.0)");
  check_adjust ("(a‸:0.0)", DOWN, "(«a»:-0.1)");
  check_adjust ("(a‸:-0.1)", UP, "(«a»:0.0)");
  /* A selected group text steps the same way. */
  check_adjust ("(«cat»:1.3)", UP, "(«cat»:1.4)");
  /* Spaces around the number, as A1111's parser allows. */
  check_adjust ("(c‸at: 1.5 )", UP, "(«cat»:1.6)");
}

static void
test_removes_the_parentheses_back_at_one (void)
{
  check_adjust ("a («cat»:1.1), dog", DOWN, "a «cat», dog");
  check_adjust ("a (c‸at:0.9), dog", UP, "a «cat», dog");
  /* Round trip: up then down gives the text back. */
  gsize start = 3, end = 3;
  g_autofree char *up = sf_prompt_weight_adjust ("a cat", &start, &end, UP);
  g_assert_cmpstr (up, ==, "a (cat:1.1)");
  g_autofree char *down = sf_prompt_weight_adjust (up, &start, &end, DOWN);
  g_assert_cmpstr (down, ==, "a cat");
  g_assert_cmpuint (start, ==, 2);
  g_assert_cmpuint (end, ==, 5);
}

static void
test_converts_old_style_emphasis (void)
{
  /* ((cat)) is 1.21, rounded to the step: 1.2, then up: 1.3. */
  check_adjust ("((c‸at))", UP, "(«cat»:1.3)");
  check_adjust ("((c‸at))", DOWN, "(«cat»:1.1)");
  check_adjust ("(c‸at)", UP, "(«cat»:1.2)");
  check_adjust ("(c‸at)", DOWN, "«cat»");
  /* [cat] is 1/1.1 = 0.909…, rounded: 0.9. */
  check_adjust ("[c‸at]", DOWN, "(«cat»:0.8)");
  check_adjust ("[c‸at]", UP, "«cat»");
  check_adjust ("a [[big c‸at]] b", DOWN, "a («big cat»:0.7) b");
}

static void
test_handles_nested_parentheses (void)
{
  /* The cursor in b: a ) closes after the last (, so no group. */
  check_adjust ("((a:1.2), b‸)", UP, "((a:1.2), («b»:1.1))");
  check_adjust ("((a‸:1.2), b)", UP, "((«a»:1.3), b)");
  check_adjust ("((a‸:1.2), b)", DOWN, "((«a»:1.1), b)");
  check_adjust ("(x, (a‸:1.1)) y", DOWN, "(x, «a») y");
  check_adjust ("[x (d‸og:1.4)]", UP, "[x («dog»:1.5)]");
}

static void
test_handles_unicode (void)
{
  check_adjust ("一只‸猫, dog", UP, "(«一只猫»:1.1), dog");
  check_adjust ("naïve cr‸ème", UP, "naïve («crème»:1.1)");
  check_adjust ("café ‸au lait", DOWN, "café («au»:0.9) lait");
  check_adjust ("🐱 c‸at", UP, "🐱 («cat»:1.1)");
  check_adjust ("(schö‸ne Katze:1.2)", UP, "(«schöne Katze»:1.3)");
  check_adjust ("(猫‸:1.1)", DOWN, "«猫»");
}

static void
test_steps_extra_networks_by_half (void)
{
  check_adjust ("<lora:st‸yle:0.8>", UP, "<«lora:style»:0.85>");
  check_adjust ("<lora:st‸yle:1.05>", DOWN, "<«lora:style»:1.0>");
}

static void
test_leaves_escaped_brackets_as_text (void)
{
  check_adjust ("\\(c‸at\\)", UP, "\\((«cat»:1.1)\\)");
  check_adjust ("(a \\(c‸at\\):1.2)", UP, "(«a \\(cat\\)»:1.3)");
}

static void
test_refuses_weights_that_are_not_numbers (void)
{
  check_adjust ("(«cat»:abc)", UP, NULL);
  check_adjust ("<lora:x‸>", UP, NULL);
  /* A colon without a number is part of the group's text (as A1111). */
  check_adjust ("(c‸at:abc)", UP, "(«cat:abc»:1.2)");
}

static void
test_formats_weights_as_edit_attention (void)
{
  struct {
    double weight;
    const char *text;
  } cases[] = {
    { 1.1 + 0.1, "1.2" }, { 2.0, "2.0" }, { 0.1 - 0.1, "0.0" }, { -0.1, "-0.1" },
    { 1.0000000000001, "1.0" }, { 0.8 + 0.05, "0.85" }, { 1.3000000000000003, "1.3" },
    { -2.0, "-2.0" }, { 10.0, "10.0" }, { 0.333333333333333, "0.333333333333" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = sf_prompt_weight_format (cases[i].weight);
      g_assert_cmpstr (text, ==, cases[i].text);
    }
}

typedef struct {
  SfPromptSpanKind kind;
  gsize start, end;
  double weight;
} Span;

static void
check_spans (const char *text, const Span *expected, gsize n)
{
  g_autoptr (GArray) spans = sf_prompt_spans (text);
  for (guint i = 0; i < MAX (spans->len, n); i++)
    {
      if (i >= spans->len || i >= n)
        g_error ("%s: %u spans, expected %zu", text, spans->len, n);
      const SfPromptSpan *span = &g_array_index (spans, SfPromptSpan, i);
      if (span->kind != expected[i].kind || span->start != expected[i].start
          || span->end != expected[i].end)
        g_error ("%s: span %u is %d [%zu, %zu), expected %d [%zu, %zu)", text, i, span->kind,
                 span->start, span->end, expected[i].kind, expected[i].start, expected[i].end);
      if (expected[i].weight != 0)
        g_assert_cmpfloat_with_epsilon (span->weight, expected[i].weight, 1e-12);
    }
}

static void
test_spans_mark_the_weighting_syntax (void)
{
  const Span all[] = {
    { SF_PROMPT_SPAN_BRACKET, 2, 3, 0 },      { SF_PROMPT_SPAN_EMPHASIS, 3, 6, 1.2 },
    { SF_PROMPT_SPAN_WEIGHT, 6, 10, 0 },      { SF_PROMPT_SPAN_BRACKET, 10, 11, 0 },
    { SF_PROMPT_SPAN_BRACKET, 12, 13, 0 },    { SF_PROMPT_SPAN_DEEMPHASIS, 13, 16, 1 / 1.1 },
    { SF_PROMPT_SPAN_BRACKET, 16, 17, 0 },    { SF_PROMPT_SPAN_ESCAPE, 18, 20, 0 },
    { SF_PROMPT_SPAN_ESCAPE, 21, 23, 0 },     { SF_PROMPT_SPAN_BREAK, 24, 29, 0 },
    { SF_PROMPT_SPAN_UNSUPPORTED, 30, 42, 0 },
  };
  check_spans ("a (cat:1.2) [dog] \\(x\\) BREAK <lora:foo:1>", all, G_N_ELEMENTS (all));

  const Span nested[] = {
    { SF_PROMPT_SPAN_BRACKET, 0, 2, 0 },   { SF_PROMPT_SPAN_EMPHASIS, 2, 3, 1.1 * 1.1 },
    { SF_PROMPT_SPAN_BRACKET, 3, 4, 0 },   { SF_PROMPT_SPAN_EMPHASIS, 4, 6, 1.1 },
    { SF_PROMPT_SPAN_BRACKET, 6, 7, 0 },
  };
  check_spans ("((a) b)", nested, G_N_ELEMENTS (nested));

  const Span unmatched_open[] = { { SF_PROMPT_SPAN_BRACKET, 0, 1, 0 }, { SF_PROMPT_SPAN_EMPHASIS, 1, 2, 1.1 } };
  check_spans ("(a", unmatched_open, G_N_ELEMENTS (unmatched_open));
  check_spans (")a]", NULL, 0);
  check_spans ("", NULL, 0);
  check_spans ("a plain prompt: no weights", NULL, 0);

  /* BREAK inside brackets is weighted text, and only whole words break. */
  const Span weighted_break[] = {
    { SF_PROMPT_SPAN_BRACKET, 0, 1, 0 }, { SF_PROMPT_SPAN_EMPHASIS, 1, 6, 1.1 }, { SF_PROMPT_SPAN_BRACKET, 6, 7, 0 },
  };
  check_spans ("(BREAK)", weighted_break, G_N_ELEMENTS (weighted_break));
  check_spans ("BREAKS aBREAK", NULL, 0);

  /* A weight that is not a number is text; the ) then weighs 1.1. */
  const Span not_number[] = {
    { SF_PROMPT_SPAN_BRACKET, 0, 1, 0 }, { SF_PROMPT_SPAN_EMPHASIS, 1, 8, 1.1 }, { SF_PROMPT_SPAN_BRACKET, 8, 9, 0 },
  };
  check_spans ("(x:1.2.3)", not_number, G_N_ELEMENTS (not_number));

  /* Byte offsets over multi-byte characters: 猫 is three bytes. */
  const Span cat[] = {
    { SF_PROMPT_SPAN_BRACKET, 0, 1, 0 }, { SF_PROMPT_SPAN_EMPHASIS, 1, 4, 1.5 },
    { SF_PROMPT_SPAN_WEIGHT, 4, 8, 0 },  { SF_PROMPT_SPAN_BRACKET, 8, 9, 0 },
  };
  check_spans ("(猫:1.5)", cat, G_N_ELEMENTS (cat));

  /* A lone backslash is an escape (A1111 drops it). */
  const Span lone[] = { { SF_PROMPT_SPAN_ESCAPE, 1, 2, 0 } };
  check_spans ("a\\b", lone, G_N_ELEMENTS (lone));
}

/* Random prompts over the syntax's characters and some multi-byte ones:
 * results stay valid UTF-8, selections stay inside on character
 * boundaries, spans are ordered and inside. */
static void
test_survives_random_prompts (void)
{
  static const char *const pieces[] = { "(", ")", "[", "]", "<", ">", ":", "\\", " ", ",", "1", ".", "-",
                                        "a", "cat", "BREAK", "lora:", "é", "猫", "🐱", "\n" };
  GRand *rand = g_rand_new_with_seed (20261127);
  for (int round = 0; round < 20000; round++)
    {
      g_autoptr (GString) text = g_string_new (NULL);
      int n = g_rand_int_range (rand, 0, 16);
      for (int i = 0; i < n; i++)
        g_string_append (text, pieces[g_rand_int_range (rand, 0, G_N_ELEMENTS (pieces))]);
      glong chars = g_utf8_strlen (text->str, -1);
      glong a = g_rand_int_range (rand, 0, (gint32) chars + 1), b = g_rand_int_range (rand, 0, (gint32) chars + 1);
      gsize start = (gsize) (g_utf8_offset_to_pointer (text->str, MIN (a, b)) - text->str);
      gsize end = (gsize) (g_utf8_offset_to_pointer (text->str, MAX (a, b)) - text->str);
      g_autofree char *result = sf_prompt_weight_adjust (text->str, &start, &end,
                                                         g_rand_boolean (rand) ? 0.1 : -0.1);
      if (result)
        {
          g_assert_true (g_utf8_validate (result, -1, NULL));
          g_assert_cmpuint (start, <=, end);
          g_assert_cmpuint (end, <=, strlen (result));
          g_assert_true ((result[start] & 0xc0) != 0x80);
          g_assert_true ((result[end] & 0xc0) != 0x80);
        }
      g_autoptr (GArray) spans = sf_prompt_spans (text->str);
      gsize last = 0;
      for (guint i = 0; i < spans->len; i++)
        {
          const SfPromptSpan *span = &g_array_index (spans, SfPromptSpan, i);
          g_assert_cmpuint (span->start, >=, last);
          g_assert_cmpuint (span->start, <, span->end);
          g_assert_cmpuint (span->end, <=, text->len);
          g_assert_true ((text->str[span->start] & 0xc0) != 0x80);
          g_assert_true ((text->str[span->end] & 0xc0) != 0x80);
          last = span->end;
        }
    }
  g_rand_free (rand);
}

static void
test_formats_the_token_count (void)
{
  int one[] = { 42 };
  int two[] = { 75, 12 };
  g_autofree char *a = sf_prompt_format_count (one, 1);
  g_autofree char *b = sf_prompt_format_count (two, 2);
  g_autofree char *c = sf_prompt_format_count (NULL, 0);
  g_assert_cmpstr (a, ==, "42/75");
  g_assert_cmpstr (b, ==, "2 chunks · 12/75");
  g_assert_cmpstr (c, ==, "");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/prompt-weight/wraps-the-word-under-the-cursor", test_wraps_the_word_under_the_cursor);
  g_test_add_func ("/prompt-weight/wraps-a-selection-without-trailing-spaces",
                   test_wraps_a_selection_without_trailing_spaces);
  g_test_add_func ("/prompt-weight/steps-the-weight-of-the-enclosing-group",
                   test_steps_the_weight_of_the_enclosing_group);
  g_test_add_func ("/prompt-weight/removes-the-parentheses-back-at-one",
                   test_removes_the_parentheses_back_at_one);
  g_test_add_func ("/prompt-weight/converts-old-style-emphasis", test_converts_old_style_emphasis);
  g_test_add_func ("/prompt-weight/handles-nested-parentheses", test_handles_nested_parentheses);
  g_test_add_func ("/prompt-weight/handles-unicode", test_handles_unicode);
  g_test_add_func ("/prompt-weight/steps-extra-networks-by-half", test_steps_extra_networks_by_half);
  g_test_add_func ("/prompt-weight/leaves-escaped-brackets-as-text", test_leaves_escaped_brackets_as_text);
  g_test_add_func ("/prompt-weight/refuses-weights-that-are-not-numbers",
                   test_refuses_weights_that_are_not_numbers);
  g_test_add_func ("/prompt-weight/formats-weights-as-edit-attention", test_formats_weights_as_edit_attention);
  g_test_add_func ("/prompt-weight/spans-mark-the-weighting-syntax", test_spans_mark_the_weighting_syntax);
  g_test_add_func ("/prompt-weight/survives-random-prompts", test_survives_random_prompts);
  g_test_add_func ("/prompt-weight/formats-the-token-count", test_formats_the_token_count);
  return g_test_run ();
}
