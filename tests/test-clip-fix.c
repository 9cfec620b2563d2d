/* sf_clip_fix_text against ftfy.fix_text (tests/data/ftfy-cases.json,
 * made by tests/reference/ftfy_reference.py with ftfy 6.1.1). */
#include <json-glib/json-glib.h>
#include <string.h>

#include "clip_fix.h"
#include "sf-test.h"

static char *
escaped (const char *text)
{
  return g_strescape (text, NULL);
}

/* Every case equals ftfy's output, except those marked "covered": false
 * (fixes Sfumato does not implement), which must come back unchanged. */
static void
test_matches_ftfy (void)
{
  g_autofree char *path = g_build_filename (g_getenv ("SF_TEST_DATA"), "ftfy-cases.json", NULL);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  g_assert_true (json_parser_load_from_file (parser, path, &error));
  g_assert_no_error (error);
  JsonArray *cases =
    json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)), "cases");
  guint n = json_array_get_length (cases), n_match = 0, n_uncovered = 0, n_failed = 0;
  g_assert_cmpuint (n, >=, 100);
  for (guint i = 0; i < n; i++)
    {
      JsonObject *item = json_array_get_object_element (cases, i);
      const char *text = json_object_get_string_member (item, "text");
      const char *fixed = json_object_get_string_member (item, "fixed");
      gboolean covered = !json_object_has_member (item, "covered") ||
                         json_object_get_boolean_member (item, "covered");
      g_autofree char *got = sf_clip_fix_text (text);
      const char *want = covered ? fixed : text;
      if (strcmp (got, want) != 0)
        {
          g_autofree char *t = escaped (text), *g = escaped (got), *w = escaped (want);
          g_printerr ("case %u \"%s\": got \"%s\", want \"%s\"%s\n", i, t, g, w,
                      covered ? "" : " (not covered: unchanged)");
          n_failed++;
        }
      n_match += strcmp (got, fixed) == 0;
      n_uncovered += !covered;
    }
  g_test_message ("%u of %u cases equal ftfy's output; %u not covered", n_match, n, n_uncovered);
  g_assert_cmpuint (n_failed, ==, 0);
}

/* Hostile input: never crashes, terminates, and stays within a small
 * multiple of its size (ligatures give at most 3 characters per one). */
static void
test_survives_hostile_input (void)
{
  static const char *const PIECES[] = {
    "&amp;", "&", "&#", "&#x", ";", "Ã", "Â", "\xc2\xa0", "â€", "\xef\xbf\xbd", "\x1b[", "\x1b[1;2",
    "\r", "\n", "<", "ﬃ", "Ｆ", "\xc2\x80", "\xc2\x9d", "\xed\xa0\x80", "\xff", "&NTILDE;", "ðŸ",
    "\x1a", "?", "&#0;", "&#x110000;", "ŉ", "̈", "ÃƒÂƒÃ‚", "\xc0\x80",
  };
  guint64 state = 0x5eed;
  for (int round = 0; round < 400; round++)
    {
      g_autoptr (GString) text = g_string_new ("");
      int count = 1 + round % 60;
      for (int k = 0; k < count; k++)
        {
          state = state * 6364136223846793005u + 1442695040888963407u;
          g_string_append (text, PIECES[(state >> 33) % G_N_ELEMENTS (PIECES)]);
        }
      g_autofree char *fixed = sf_clip_fix_text (text->str);
      g_assert_true (g_utf8_validate (fixed, -1, NULL));
      g_assert_cmpuint (strlen (fixed), <=, 3 * text->len + 8);
    }
  /* Deeply nested escapes and mojibake settle within the round limit. */
  g_autoptr (GString) nested = g_string_new ("&");
  for (int k = 0; k < 200; k++)
    g_string_append (nested, "amp;");
  g_autofree char *fixed = sf_clip_fix_text (nested->str);
  g_assert_true (strlen (fixed) <= nested->len);
  g_autofree char *empty = sf_clip_fix_text ("");
  g_assert_cmpstr (empty, ==, "");
  g_autofree char *null_text = sf_clip_fix_text (NULL);
  g_assert_cmpstr (null_text, ==, "");
}

int
main (int argc, char **argv)
{
  sf_test_init (&argc, &argv);
  sf_test_add ("/clip-fix/matches-ftfy-fix-text", test_matches_ftfy);
  sf_test_add ("/clip-fix/survives-hostile-input", test_survives_hostile_input);
  return sf_test_run ();
}
