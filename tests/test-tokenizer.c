/* The CLIP tokenizer against OpenAI's (tests/data/tokenizer-cases.json,
 * ids made by openai/CLIP's simple_tokenizer.py) and the windows diffusers
 * fed SDXL's two encoders (tests/data/ref/prompts). */
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "clip_text.h"
#include "npy.h"
#include "sf-test.h"
#include "tokenizer.h"

static SfTokenizer *shared_tokenizer;

static SfTokenizer *
tokenizer (void)
{
  if (!shared_tokenizer)
    {
      const char *path = g_getenv ("SF_CLIP_VOCAB");
      g_assert_nonnull (path);
      g_autoptr (GError) error = NULL;
      shared_tokenizer = sf_tokenizer_new_from_bpe (path, &error);
      g_assert_no_error (error);
    }
  return shared_tokenizer;
}

static char *
data_path (const char *name)
{
  return g_build_filename (g_getenv ("SF_TEST_DATA"), name, NULL);
}

static JsonArray *
load_cases (JsonParser *parser, const char *file)
{
  g_autofree char *path = data_path (file);
  g_autoptr (GError) error = NULL;
  g_assert_true (json_parser_load_from_file (parser, path, &error));
  return json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)), "cases");
}

/* [BOS] + ids + [EOS] of @text must be the case's ids. */
static void
assert_case (SfTokenizer *tok, JsonObject *item)
{
  const char *prompt = json_object_get_string_member (item, "prompt");
  JsonArray *expected = json_object_get_array_member (item, "ids");
  g_autoptr (GArray) ids = sf_tokenizer_encode (tok, prompt);
  guint n = json_array_get_length (expected);
  gboolean same = ids->len + 2 == n && json_array_get_int_element (expected, 0) == SF_CLIP_BOS &&
                  json_array_get_int_element (expected, n - 1) == SF_CLIP_EOS;
  for (guint i = 0; same && i < ids->len; i++)
    same = g_array_index (ids, int32_t, i) == json_array_get_int_element (expected, i + 1);
  if (!same)
    {
      g_autoptr (GString) got = g_string_new ("");
      for (guint i = 0; i < ids->len; i++)
        g_string_append_printf (got, " %d", g_array_index (ids, int32_t, i));
      g_error ("“%s”: got%s, expected %u ids", prompt, got->str, n);
    }
}

static void
test_matches_openai_clip (void)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonArray *cases = load_cases (parser, "tokenizer-cases.json");
  g_assert_cmpuint (json_array_get_length (cases), >=, 60);
  for (guint i = 0; i < json_array_get_length (cases); i++)
    assert_case (tokenizer (), json_array_get_object_element (cases, i));
}

/* Pasted text (curly quotes, ligatures, fullwidth forms, mojibake, ...)
 * tokenizes as openai/CLIP with the real ftfy does (tests/data/ftfy-cases.json;
 * cases whose fix is not covered carry no ids). */
static void
test_matches_openai_clip_with_ftfy (void)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonArray *cases = load_cases (parser, "ftfy-cases.json");
  guint n_checked = 0;
  for (guint i = 0; i < json_array_get_length (cases); i++)
    {
      JsonObject *item = json_array_get_object_element (cases, i);
      if (!json_object_has_member (item, "ids"))
        continue;
      g_autoptr (JsonObject) as_prompt = json_object_new ();
      json_object_set_string_member (as_prompt, "prompt", json_object_get_string_member (item, "text"));
      json_object_set_array_member (as_prompt, "ids", json_array_ref (json_object_get_array_member (item, "ids")));
      assert_case (tokenizer (), as_prompt);
      n_checked++;
    }
  g_assert_cmpuint (n_checked, >=, 100);
}

/* Writes vocab.json and merges.txt as transformers' CLIPTokenizer files
 * are laid out, from the .gz merge list, with this test's own byte map. */
static void
write_hf_files (const char *dir)
{
  g_autofree char *text = NULL;
  {
    g_autoptr (GFile) file = g_file_new_for_path (g_getenv ("SF_CLIP_VOCAB"));
    g_autoptr (GInputStream) raw = G_INPUT_STREAM (g_file_read (file, NULL, NULL));
    g_autoptr (GZlibDecompressor) gz = g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP);
    g_autoptr (GInputStream) in = g_converter_input_stream_new (raw, G_CONVERTER (gz));
    g_autoptr (GOutputStream) out = g_memory_output_stream_new_resizable ();
    g_assert_cmpint (g_output_stream_splice (out, in, G_OUTPUT_STREAM_SPLICE_CLOSE_SOURCE, NULL, NULL), >, 0);
    g_assert_true (g_output_stream_write (out, "", 1, NULL, NULL) == 1);
    g_assert_true (g_output_stream_close (out, NULL, NULL));
    text = g_memory_output_stream_steal_data (G_MEMORY_OUTPUT_STREAM (out));
  }
  /* The header and 48,894 merges (g_strsplit on all 262,146 lines is
   * quadratic under ASan's strstr). */
  char *lines[48895];
  char *p = text;
  for (guint i = 0; i < G_N_ELEMENTS (lines); i++)
    {
      lines[i] = p;
      p = strchr (p, '\n');
      g_assert_nonnull (p);
      *p++ = '\0';
    }
  /* bytes_to_unicode: ! .. ~, ¡ .. ¬, ® .. ÿ are themselves, the rest
   * U+0100 + n in byte order. */
  g_autoptr (GPtrArray) vocab = g_ptr_array_new_with_free_func (g_free);
  int extra = 0;
  gunichar map[256];
  for (int b = 0; b < 256; b++)
    {
      gboolean printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
      map[b] = printable ? (gunichar) b : 0;
    }
  for (int b = 0; b < 256; b++)
    if (!map[b])
      map[b] = (gunichar) (256 + extra++);
  for (int suffix = 0; suffix < 2; suffix++)
    {
      for (int pass = 0; pass < 2; pass++) /* printable bytes first */
        for (int b = 0; b < 256; b++)
          if ((map[b] < 256) == (pass == 0))
            {
              char utf8[8] = { 0 };
              g_unichar_to_utf8 (map[b], utf8);
              g_ptr_array_add (vocab, g_strconcat (utf8, suffix ? "</w>" : "", NULL));
            }
    }
  g_autoptr (GString) merges = g_string_new ("#version: 0.2\n");
  for (guint m = 1; m <= 48894; m++)
    {
      g_auto (GStrv) pair = g_strsplit (lines[m], " ", -1);
      g_ptr_array_add (vocab, g_strconcat (pair[0], pair[1], NULL));
      g_string_append_printf (merges, "%s\n", lines[m]);
    }
  g_ptr_array_add (vocab, g_strdup ("<|startoftext|>"));
  g_ptr_array_add (vocab, g_strdup ("<|endoftext|>"));
  g_assert_cmpuint (vocab->len, ==, 49408);
  /* JSON, sorted by token rather than id, as a different writer might. */
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  json_builder_begin_object (builder);
  for (guint i = vocab->len; i-- > 0;)
    {
      json_builder_set_member_name (builder, vocab->pdata[i]);
      json_builder_add_int_value (builder, i);
    }
  json_builder_end_object (builder);
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autoptr (JsonNode) root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  g_autofree char *vocab_path = g_build_filename (dir, "vocab.json", NULL);
  g_autofree char *merges_path = g_build_filename (dir, "merges.txt", NULL);
  g_assert_true (json_generator_to_file (generator, vocab_path, NULL));
  g_assert_true (g_file_set_contents (merges_path, merges->str, (gssize) merges->len, NULL));
}

static void
remove_hf_files (const char *dir)
{
  g_autofree char *vocab = g_build_filename (dir, "vocab.json", NULL);
  g_autofree char *merges = g_build_filename (dir, "merges.txt", NULL);
  g_remove (vocab);
  g_remove (merges);
}

static void
test_hf_files_give_the_same_tokenizer (void)
{
  g_autofree char *dir = g_dir_make_tmp ("sf-tokenizer-XXXXXX", NULL);
  write_hf_files (dir);
  g_autofree char *vocab = g_build_filename (dir, "vocab.json", NULL);
  g_autofree char *merges = g_build_filename (dir, "merges.txt", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (SfTokenizer) hf = sf_tokenizer_new_from_hf (vocab, merges, &error);
  g_assert_no_error (error);
  for (int32_t id = 0; id < SF_CLIP_VOCAB_SIZE; id++)
    g_assert_cmpstr (sf_tokenizer_get_token (hf, id), ==, sf_tokenizer_get_token (tokenizer (), id));
  g_assert_null (sf_tokenizer_get_token (hf, SF_CLIP_VOCAB_SIZE));
  g_assert_null (sf_tokenizer_get_token (hf, -1));
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonArray *cases = load_cases (parser, "tokenizer-cases.json");
  for (guint i = 0; i < json_array_get_length (cases); i++)
    assert_case (hf, json_array_get_object_element (cases, i));
  remove_hf_files (dir);
  g_rmdir (dir);
}

static void
test_token_strings (void)
{
  g_assert_cmpstr (sf_tokenizer_get_token (tokenizer (), 2368), ==, "cat</w>");
  g_assert_cmpstr (sf_tokenizer_get_token (tokenizer (), 0), ==, "!");
  g_assert_cmpstr (sf_tokenizer_get_token (tokenizer (), 256), ==, "!</w>");
  g_assert_cmpstr (sf_tokenizer_get_token (tokenizer (), SF_CLIP_BOS), ==, "<|startoftext|>");
  g_assert_cmpstr (sf_tokenizer_get_token (tokenizer (), SF_CLIP_EOS), ==, "<|endoftext|>");
  g_assert_cmpstr (sf_tokenizer_get_token (tokenizer (), 15304), ==, "caf\xc3\x83\xc2\xa9</w>");
  g_autofree char *cafe = sf_tokenizer_get_text (tokenizer (), 15304);
  g_assert_cmpstr (cafe, ==, "caf\xc3\xa9</w>");
  g_autofree char *bos = sf_tokenizer_get_text (tokenizer (), SF_CLIP_BOS);
  g_assert_cmpstr (bos, ==, "<|startoftext|>");
  g_assert_null (sf_tokenizer_get_text (tokenizer (), -5));
}

/* Python's html.unescape, str.lower and the split pattern on cases the
 * reference prompts do not reach (outputs of CPython 3.11). */
static void
test_text_rules_follow_python (void)
{
  const struct { const char *in, *out; } unescape[] = {
    { "&#x110000;|&#0;|&#128;|&#1;|&#xfdd0;|&#65|&#x41x", "\xef\xbf\xbd|\xef\xbf\xbd|\xe2\x82\xac|||A|Ax" },
    { "&amp|&ampx;|&notit;|&am;|&hearts;|&NewLine;|&", "&|&x;|\xc2\xacit;|&am;|\xe2\x99\xa5|\n|&" },
    { "&NotEqualTilde;&fjlig;&amp;amp;", "\xe2\x89\x82\xcc\xb8" "fj&amp;" },
    { "&AMP;&Amp;&#;&#x;&;&apos;", "&&Amp;&#;&#x;&;'" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (unescape); i++)
    {
      g_autofree char *out = sf_clip_html_unescape (unescape[i].in);
      g_assert_cmpstr (out, ==, unescape[i].out);
    }
  const struct { const char *in, *out; } lower[] = {
    { "ΟΔΟΣ ΣΑ Σ", "οδος σα σ" },           /* final sigma only at a word's end */
    { "ΑΣ'Β ΑΣ.", "ασ'β ας." },               /* ' and . are case-ignorable */
    { "İSTANBUL ǅ Ａ", "i\xcc\x87stanbul ǆ ａ" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (lower); i++)
    {
      g_autofree char *out = sf_clip_lower (lower[i].in);
      g_assert_cmpstr (out, ==, lower[i].out);
    }
  /* ftfy's remove_control_chars drops U+001C before strip() sees it; the
   * em spaces are collapsed by whitespace_clean. */
  g_autofree char *cleaned = sf_clip_clean ("  \x1c A\xe2\x80\x83\xe2\x80\x83" "b\x1c c ");
  g_assert_cmpstr (cleaned, ==, "a b c");
  g_autoptr (GPtrArray) pieces = sf_clip_split ("it's 'sun 12ab!? x<|endoftext|> \x1c'll");
  const char *const expected[] = { "it", "'s", "'s", "un", "1", "2", "ab", "!?", "x", "<|endoftext|>", "\x1c'", "ll" };
  g_assert_cmpuint (pieces->len, ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < pieces->len; i++)
    g_assert_cmpstr (pieces->pdata[i], ==, expected[i]);
}

/* ---- Windows --------------------------------------------------------------- */

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
test_windows_pad_like_sdxl_encoders (void)
{
  /* diffusers' encode_prompt, 77 tokens with truncation: our first window. */
  const struct { const char *name, *prompt; } prompts[] = {
    { "main", "a photo of a cat sitting on a red chair" },
    { "empty", "" },
    { "negative_text", "blurry, low quality" },
    { "long", NULL },
  };
  for (gsize p = 0; p < G_N_ELEMENTS (prompts); p++)
    {
      g_autofree char *long_prompt = NULL;
      const char *prompt = prompts[p].prompt;
      if (!prompt)
        {
          g_auto (GStrv) copies = g_new0 (char *, 9);
          for (int i = 0; i < 8; i++)
            copies[i] = g_strdup ("a beautiful landscape painting of mountains and rivers at sunset");
          prompt = long_prompt = g_strjoinv (", ", copies);
        }
      SfPromptRun run = { (char *) prompt, 1.0 };
      g_autoptr (SfTokenChunks) chunks = sf_tokenizer_chunk (tokenizer (), &run, 1);
      g_autofree char *l_name = g_strdup_printf ("ref/prompts/%s_tokens_l.npy", prompts[p].name);
      g_autofree char *g_name = g_strdup_printf ("ref/prompts/%s_tokens_g.npy", prompts[p].name);
      g_autoptr (SfNpy) l_npy = load_npy (l_name);
      g_autoptr (SfNpy) g_npy = load_npy (g_name);
      g_assert_true (l_npy->is_int && g_npy->is_int);
      g_assert_cmpuint (l_npy->count, ==, SF_CLIP_WINDOW);
      g_assert_cmpuint (g_npy->count, ==, SF_CLIP_WINDOW);
      const gint32 *l = l_npy->i32, *g = g_npy->i32;
      /* diffusers truncates a long prompt to BOS + its first 75 tokens +
       * EOS; A1111's comma backtrack then ends our first window after its
       * last comma (this prompt has one 10 tokens before the end). */
      gint32 l_expected[SF_CLIP_WINDOW], g_expected[SF_CLIP_WINDOW];
      memcpy (l_expected, l, sizeof l_expected);
      memcpy (g_expected, g, sizeof g_expected);
      if (long_prompt)
        {
          int comma = SF_CLIP_CHUNK; /* window index; token j sits at j + 1 */
          while (comma > 0 && l[comma] != 267)
            comma--;
          g_assert_cmpint (SF_CLIP_CHUNK + 1 - comma, ==, 10);
          for (int i = comma + 1; i < SF_CLIP_WINDOW; i++)
            {
              l_expected[i] = SF_CLIP_EOS;
              g_expected[i] = i == comma + 1 ? SF_CLIP_EOS : 0;
            }
        }
      g_assert_cmpuint (chunks->n_chunks, ==, long_prompt ? 2 : 1);
      g_assert_cmpmem (chunks->ids, SF_CLIP_WINDOW * 4, l_expected, SF_CLIP_WINDOW * 4);
      g_assert_cmpmem (chunks->ids_g, SF_CLIP_WINDOW * 4, g_expected, SF_CLIP_WINDOW * 4);
      for (guint i = 0; i < chunks->n_chunks * SF_CLIP_WINDOW; i++)
        g_assert_cmpfloat (chunks->weights[i], ==, 1.0f);
    }
}

static void
assert_window (const SfTokenChunks *chunks, guint c, const int32_t *tokens, guint n)
{
  const int32_t *ids = chunks->ids + c * SF_CLIP_WINDOW, *ids_g = chunks->ids_g + c * SF_CLIP_WINDOW;
  g_assert_cmpint (ids[0], ==, SF_CLIP_BOS);
  g_assert_cmpint (ids_g[0], ==, SF_CLIP_BOS);
  for (guint i = 0; i < n; i++)
    {
      g_assert_cmpint (ids[1 + i], ==, tokens[i]);
      g_assert_cmpint (ids_g[1 + i], ==, tokens[i]);
    }
  for (guint i = n + 1; i < SF_CLIP_WINDOW; i++)
    {
      g_assert_cmpint (ids[i], ==, SF_CLIP_EOS);
      g_assert_cmpint (ids_g[i], ==, i == n + 1 ? SF_CLIP_EOS : 0);
    }
}

static void
test_long_prompts_and_break_make_chunks (void)
{
  /* "cat" is one token: 160 of them are 75 + 75 + 10. */
  g_autoptr (GString) cats = g_string_new ("");
  for (int i = 0; i < 160; i++)
    g_string_append (cats, "cat ");
  int32_t seventy_five[75];
  for (int i = 0; i < 75; i++)
    seventy_five[i] = 2368;
  g_autoptr (SfTokenChunks) chunks = sf_tokenizer_encode_prompt (tokenizer (), cats->str);
  g_assert_cmpuint (chunks->n_chunks, ==, 3);
  assert_window (chunks, 0, seventy_five, 75);
  assert_window (chunks, 1, seventy_five, 75);
  assert_window (chunks, 2, seventy_five, 10);

  /* Exactly 75 tokens fill one window; BREAK after them adds none. */
  g_autoptr (GString) full = g_string_new ("");
  for (int i = 0; i < 75; i++)
    g_string_append (full, "cat ");
  g_autoptr (SfTokenChunks) one = sf_tokenizer_encode_prompt (tokenizer (), full->str);
  g_assert_cmpuint (one->n_chunks, ==, 1);
  g_string_append (full, "BREAK dog");
  g_autoptr (SfTokenChunks) two = sf_tokenizer_encode_prompt (tokenizer (), full->str);
  g_assert_cmpuint (two->n_chunks, ==, 2);
  const int32_t dog[] = { 1929 };
  assert_window (two, 1, dog, 1);

  const int32_t a_cat[] = { 320, 2368 }, a_dog[] = { 320, 1929 };
  g_autoptr (SfTokenChunks) broken = sf_tokenizer_encode_prompt (tokenizer (), "a cat BREAK a dog");
  g_assert_cmpuint (broken->n_chunks, ==, 2);
  assert_window (broken, 0, a_cat, 2);
  assert_window (broken, 1, a_dog, 2);
  /* A1111: BREAK first makes an empty window; BREAK last, none; the
   * word in lower case or glued to another is text. */
  g_autoptr (SfTokenChunks) leading = sf_tokenizer_encode_prompt (tokenizer (), "BREAK a cat");
  g_assert_cmpuint (leading->n_chunks, ==, 2);
  assert_window (leading, 0, NULL, 0);
  assert_window (leading, 1, a_cat, 2);
  g_autoptr (SfTokenChunks) trailing = sf_tokenizer_encode_prompt (tokenizer (), "a cat BREAK");
  g_assert_cmpuint (trailing->n_chunks, ==, 1);
  g_autoptr (SfTokenChunks) lower = sf_tokenizer_encode_prompt (tokenizer (), "a cat break a dog");
  g_assert_cmpuint (lower->n_chunks, ==, 1);
  g_autoptr (SfTokenChunks) empty = sf_tokenizer_encode_prompt (tokenizer (), "");
  g_assert_cmpuint (empty->n_chunks, ==, 1);
  assert_window (empty, 0, NULL, 0);
}

/* A1111's comma backtrack: a full chunk whose last comma is at most 20
 * tokens back hands the words after it to the next chunk. */
static void
test_long_prompts_break_after_a_near_comma (void)
{
  const int32_t CAT = 2368, DOG = 1929, COMMA = 267;
  /* 70 cats, a comma, 10 dogs: the comma is 5 tokens from the end of the
   * full chunk, so the 4 dogs that fit after it move on. */
  g_autoptr (GString) near = g_string_new ("");
  for (int i = 0; i < 70; i++)
    g_string_append (near, "cat ");
  g_string_append (near, ", ");
  for (int i = 0; i < 10; i++)
    g_string_append (near, "dog ");
  int32_t first[71], dogs[10];
  for (int i = 0; i < 70; i++)
    first[i] = CAT;
  first[70] = COMMA;
  for (int i = 0; i < 10; i++)
    dogs[i] = DOG;
  g_autoptr (SfTokenChunks) moved = sf_tokenizer_encode_prompt (tokenizer (), near->str);
  g_assert_cmpuint (moved->n_chunks, ==, 2);
  assert_window (moved, 0, first, 71);
  assert_window (moved, 1, dogs, 10);

  /* The comma 25 tokens back (50 cats, a comma, 40 dogs): a plain cut
   * after 75 tokens. */
  g_autoptr (GString) far = g_string_new ("");
  for (int i = 0; i < 50; i++)
    g_string_append (far, "cat ");
  g_string_append (far, ", ");
  for (int i = 0; i < 40; i++)
    g_string_append (far, "dog ");
  int32_t cut[75], rest[16];
  for (int i = 0; i < 75; i++)
    cut[i] = i < 50 ? CAT : i == 50 ? COMMA : DOG;
  for (int i = 0; i < 16; i++)
    rest[i] = DOG;
  g_autoptr (SfTokenChunks) plain = sf_tokenizer_encode_prompt (tokenizer (), far->str);
  g_assert_cmpuint (plain->n_chunks, ==, 2);
  assert_window (plain, 0, cut, 75);
  assert_window (plain, 1, rest, 16);

  /* Weights move with their tokens: the dogs weigh 1.5 in the next chunk. */
  g_string_truncate (near, 0);
  for (int i = 0; i < 70; i++)
    g_string_append (near, "cat ");
  g_string_append (near, ", (dog dog dog dog dog dog:1.5)");
  g_autoptr (SfTokenChunks) weighted = sf_tokenizer_encode_prompt (tokenizer (), near->str);
  g_assert_cmpuint (weighted->n_chunks, ==, 2);
  g_assert_cmpfloat (weighted->weights[71], ==, 1.0f); /* the comma, last of chunk 1 */
  g_assert_cmpint (weighted->ids[72], ==, SF_CLIP_EOS);
  for (int i = 1; i <= 6; i++)
    {
      g_assert_cmpint (weighted->ids[SF_CLIP_WINDOW + i], ==, DOG);
      g_assert_cmpfloat (weighted->weights[SF_CLIP_WINDOW + i], ==, 1.5f);
    }

  /* A comma arriving at a full chunk opens the next one (and, as in
   * A1111, is not remembered as that chunk's last comma). */
  g_autoptr (GString) edge = g_string_new ("");
  for (int i = 0; i < 75; i++)
    g_string_append (edge, "cat ");
  g_string_append (edge, ", dog");
  const int32_t comma_dog[] = { COMMA, DOG };
  g_autoptr (SfTokenChunks) at_edge = sf_tokenizer_encode_prompt (tokenizer (), edge->str);
  g_assert_cmpuint (at_edge->n_chunks, ==, 2);
  assert_window (at_edge, 1, comma_dog, 2);
}

static void
test_weights_follow_the_a1111_parse (void)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree char *path = data_path ("ref/cases.json");
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  /* Python's json writes Infinity (in the schedules), which JSON lacks. */
  g_auto (GStrv) parts = g_regex_split_simple ("-?Infinity", text, 0, 0);
  g_autofree char *strict = g_strjoinv ("null", parts);
  g_assert_true (json_parser_load_from_data (parser, strict, -1, NULL));
  JsonObject *root = json_node_get_object (json_parser_get_root (parser));
  JsonObject *weighting = json_object_get_object_member (json_object_get_object_member (root, "cases"),
                                                         "b_weighting");
  const char *prompt = json_object_get_string_member (weighting, "weighted_prompt");
  JsonArray *ids = json_object_get_array_member (weighting, "token_ids_l");
  JsonArray *weights = json_object_get_array_member (weighting, "weights_list");
  g_autoptr (SfTokenChunks) chunks = sf_tokenizer_encode_prompt (tokenizer (), prompt);
  g_assert_cmpuint (chunks->n_chunks, ==, 1);
  for (guint i = 0; i < SF_CLIP_WINDOW; i++)
    {
      int expected = i < json_array_get_length (ids) ? (int) json_array_get_int_element (ids, i) : SF_CLIP_EOS;
      g_assert_cmpint (chunks->ids[i], ==, expected);
      g_assert_cmpfloat (chunks->weights[i], ==, (float) json_array_get_double_element (weights, i));
    }
}

/* ---- Finding the vocabulary ------------------------------------------------ */

static void
test_finds_the_vocabulary_in_order (void)
{
  g_autofree char *root = g_dir_make_tmp ("sf-tokenizer-XXXXXX", NULL);
  g_autofree char *model = g_build_filename (root, "model", NULL);
  g_autofree char *model_tokenizer = g_build_filename (model, "tokenizer", NULL);
  g_autofree char *data = g_build_filename (root, "data", NULL);
  g_autofree char *user_clip = g_build_filename (data, "sfumato", "clip", NULL);
  g_autofree char *user_gz = g_build_filename (user_clip, SF_CLIP_VOCAB_FILE, NULL);
  g_autofree char *hub = g_build_filename (root, "hub", NULL);
  g_autofree char *snapshot = g_build_filename (hub, "models--openai--clip-vit-large-patch14", "snapshots",
                                                "0123abcd", NULL);
  g_assert_cmpint (g_mkdir_with_parents (model_tokenizer, 0755), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (user_clip, 0755), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (snapshot, 0755), ==, 0);
  g_autofree char *saved_data = g_strdup (g_getenv ("XDG_DATA_HOME"));
  g_setenv ("XDG_DATA_HOME", data, TRUE);
  g_setenv ("XDG_DATA_DIRS", root, TRUE); /* no sfumato/clip there */
  g_setenv ("HF_HUB_CACHE", hub, TRUE);
  g_autoptr (GError) error = NULL;

  /* Nothing anywhere (unless installed): the message says where to put it. */
  if (!g_file_test (SF_CLIP_INSTALL_DIR, G_FILE_TEST_EXISTS))
    {
      g_assert_null (sf_tokenizer_find (model, &error));
      g_assert_error (error, SF_TOKENIZER_ERROR, SF_TOKENIZER_ERROR_NOT_FOUND);
      g_assert_nonnull (strstr (error->message, SF_CLIP_VOCAB_FILE));
      g_assert_nonnull (strstr (error->message, user_clip));
      g_assert_nonnull (strstr (error->message, "github.com/openai/CLIP"));
      g_clear_error (&error);

      /* The hub cache. */
      write_hf_files (snapshot);
      g_autoptr (SfTokenizer) from_hub = sf_tokenizer_find (NULL, &error);
      g_assert_no_error (error);
      g_assert_true (g_str_has_prefix (sf_tokenizer_get_source (from_hub), snapshot));
    }

  /* The user's data folder comes before it. */
  g_autofree char *gz = NULL;
  gsize gz_length;
  g_assert_true (g_file_get_contents (g_getenv ("SF_CLIP_VOCAB"), &gz, &gz_length, NULL));
  g_assert_true (g_file_set_contents (user_gz, gz, (gssize) gz_length, NULL));
  g_autoptr (SfTokenizer) from_user = sf_tokenizer_find (model, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (sf_tokenizer_get_source (from_user), ==, user_gz);

  /* A diffusers model's own tokenizer/ comes first. */
  write_hf_files (model_tokenizer);
  g_autoptr (SfTokenizer) from_model = sf_tokenizer_find (model, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (sf_tokenizer_get_source (from_model), model_tokenizer));
  g_autoptr (GArray) ids = sf_tokenizer_encode (from_model, "a photo of a cat");
  g_assert_cmpuint (ids->len, ==, 5);

  /* A broken file where one is expected is an error, not skipped. */
  g_autofree char *merges = g_build_filename (model_tokenizer, "merges.txt", NULL);
  g_assert_true (g_file_set_contents (merges, "#version: 0.2\ni n\n", -1, NULL));
  g_assert_null (sf_tokenizer_find (model, &error));
  g_assert_error (error, SF_TOKENIZER_ERROR, SF_TOKENIZER_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "48894"));
  g_clear_error (&error);

  g_assert_true (g_file_set_contents (user_gz, "not gzip at all", -1, NULL));
  g_assert_null (sf_tokenizer_new_from_bpe (user_gz, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);

  if (saved_data)
    g_setenv ("XDG_DATA_HOME", saved_data, TRUE);
  remove_hf_files (model_tokenizer);
  remove_hf_files (snapshot);
  g_remove (user_gz);
  g_autofree char *rm = g_strdup_printf ("rm -rf '%s'", root);
  g_assert_cmpint (system (rm), ==, 0);
}

int
main (int argc, char **argv)
{
  sf_test_init (&argc, &argv);
  sf_test_add ("/tokenizer/matches-openai-clip-on-reference-prompts", test_matches_openai_clip);
  sf_test_add ("/tokenizer/matches-openai-clip-with-ftfy-on-pasted-text", test_matches_openai_clip_with_ftfy);
  sf_test_add ("/tokenizer/hf-vocab-and-merges-give-the-same-tokenizer", test_hf_files_give_the_same_tokenizer);
  sf_test_add ("/tokenizer/token-strings-are-clip-byte-characters", test_token_strings);
  sf_test_add ("/tokenizer/text-rules-follow-python", test_text_rules_follow_python);
  sf_test_add ("/tokenizer/windows-pad-like-sdxl-encoders", test_windows_pad_like_sdxl_encoders);
  sf_test_add ("/tokenizer/long-prompts-and-break-make-chunks", test_long_prompts_and_break_make_chunks);
  sf_test_add ("/tokenizer/long-prompts-break-after-a-near-comma",
               test_long_prompts_break_after_a_near_comma);
  sf_test_add ("/tokenizer/weights-follow-the-a1111-parse", test_weights_follow_the_a1111_parse);
  sf_test_add ("/tokenizer/finds-the-vocabulary-in-order", test_finds_the_vocabulary_in_order);
  int status = sf_test_run ();
  g_clear_pointer (&shared_tokenizer, sf_tokenizer_free);
  return status;
}
