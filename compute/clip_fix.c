/* ftfy.fix_text for the CLIP cleanup: see clip_fix.h for what is covered.
 * Written from ftfy 6.1.1's documentation and behaviour (ftfy/__init__.py,
 * fixes.py). */
#include "clip_fix.h"

#include <string.h>

#include "clip_text.h"
#include "html_entities.h"

/* ftfy's bounds: segments of at most this many characters. */
#define MAX_DECODE_LENGTH 1000000
/* ftfy loops until nothing changes; the fixes shrink or settle text, but a
 * bound keeps hostile input from looping. Real text settles in 2 or 3. */
#define MAX_ROUNDS 32

typedef GArray Text; /* of gunichar */

static Text *
text_new (guint reserve)
{
  return g_array_sized_new (FALSE, FALSE, sizeof (gunichar), reserve);
}

static void
put (Text *text, gunichar c)
{
  g_array_append_val (text, c);
}

static void
put_utf8 (Text *text, const char *utf8)
{
  for (const char *p = utf8; *p; p = g_utf8_next_char (p))
    put (text, g_utf8_get_char (p));
}

#define AT(text, i) g_array_index ((text), gunichar, (i))

static gboolean
text_equal (const Text *a, const Text *b)
{
  /* An empty GArray's data may be NULL, which memcmp must not see. */
  return a->len == b->len
         && (a->len == 0 || memcmp (a->data, b->data, a->len * sizeof (gunichar)) == 0);
}

static char *
text_to_utf8 (const Text *text)
{
  return g_ucs4_to_utf8 ((const gunichar *) text->data, text->len, NULL, NULL, NULL);
}

static Text *
text_from_utf8 (const char *utf8)
{
  Text *text = text_new ((guint) strlen (utf8));
  put_utf8 (text, utf8);
  return text;
}

static gboolean
is_ascii_letter (gunichar c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* ---- unescape_html: ftfy's cautious form ------------------------------------- */

static void
put_entity_upper (Text *out, const SfHtmlEntity *entity)
{
  char utf8[16] = { 0 };
  int length = g_unichar_to_utf8 (entity->first, utf8);
  if (entity->second)
    g_unichar_to_utf8 (entity->second, utf8 + length);
  g_autofree char *upper = g_utf8_strup (utf8, -1);
  put_utf8 (out, upper);
}

/* Appends the replacement for the reference @ref ("&...;", ASCII), or
 * returns FALSE to keep it. */
static gboolean
unescape_reference (const char *ref, Text *out)
{
  if (ref[1] == '#')
    {
      /* html.unescape's reading, when it consumes the whole reference */
      g_autofree char *unescaped = sf_clip_html_unescape (ref);
      if (strchr (unescaped, ';'))
        return FALSE;
      put_utf8 (out, unescaped);
      return TRUE;
    }
  g_autofree char *name = g_strndup (ref + 1, strlen (ref) - 2);
  const SfHtmlEntity *entity = sf_html_entity_find (name);
  if (entity)
    {
      put (out, entity->first);
      if (entity->second)
        put (out, entity->second);
      return TRUE;
    }
  /* &EACUTE; for &eacute;: names without capitals, upper-cased, that are
   * not themselves read as something by html.unescape. */
  for (const char *p = name; *p; p++)
    if (g_ascii_islower (*p))
      return FALSE;
  g_autofree char *lower = g_ascii_strdown (name, -1);
  entity = sf_html_entity_find (lower);
  if (!entity)
    return FALSE;
  g_autofree char *unescaped = sf_clip_html_unescape (ref);
  if (strcmp (unescaped, ref) != 0)
    return FALSE;
  put_entity_upper (out, entity);
  return TRUE;
}

/* ftfy's HTML_ENTITY_RE: & #? [0-9A-Za-z]{1,24} ; */
static Text *
unescape_html (const Text *text)
{
  Text *out = text_new (text->len);
  for (guint i = 0; i < text->len; i++)
    {
      if (AT (text, i) == '&')
        {
          guint start = i + 1 + (i + 1 < text->len && AT (text, i + 1) == '#');
          guint end = start;
          while (end < text->len && end - start <= 24 && AT (text, end) < 0x80 &&
                 g_ascii_isalnum ((char) AT (text, end)))
            end++;
          if (end > start && end - start <= 24 && end < text->len && AT (text, end) == ';')
            {
              char ref[32];
              guint length = 0;
              for (guint k = i; k <= end; k++)
                ref[length++] = (char) AT (text, k);
              ref[length] = 0;
              if (unescape_reference (ref, out))
                {
                  i = end;
                  continue;
                }
              for (guint k = i; k <= end; k++)
                put (out, AT (text, k));
              i = end;
              continue;
            }
        }
      put (out, AT (text, i));
    }
  return out;
}

/* ---- The character fixes ------------------------------------------------------ */

/* Latin ligatures and digraphs that ftfy splits, with their compatibility
 * decompositions (UnicodeData.txt, one level: U+FB05 stays "ſt"). */
static const struct {
  gunichar ligature;
  const char *letters;
} LIGATURES[] = {
  { 0x132, "IJ" }, { 0x133, "ij" }, { 0x149, "\u02bcn" }, { 0x1c4, "D\u017d" }, { 0x1c5, "D\u017e" },
  { 0x1c6, "d\u017e" }, { 0x1c7, "LJ" }, { 0x1c8, "Lj" }, { 0x1c9, "lj" }, { 0x1ca, "NJ" },
  { 0x1cb, "Nj" }, { 0x1cc, "nj" }, { 0x1f1, "DZ" }, { 0x1f2, "Dz" }, { 0x1f3, "dz" },
  { 0xfb00, "ff" }, { 0xfb01, "fi" }, { 0xfb02, "fl" }, { 0xfb03, "ffi" }, { 0xfb04, "ffl" },
  { 0xfb05, "\u017ft" }, { 0xfb06, "st" },
};

static const char *
ligature_letters (gunichar c)
{
  for (gsize k = 0; k < G_N_ELEMENTS (LIGATURES); k++)
    if (LIGATURES[k].ligature == c)
      return LIGATURES[k].letters;
  return NULL;
}

/* The character fixes that follow fix_c1_controls, in ftfy's order:
 * ligatures, width, quotes, line breaks (one character at a time, so they
 * are done in one pass per fix), then terminal escapes and control
 * characters. */
static Text *
fix_characters (const Text *text)
{
  Text *a = text_new (text->len);
  for (guint i = 0; i < text->len; i++)
    {
      gunichar c = AT (text, i);
      const char *letters = ligature_letters (c);
      if (letters)
        put_utf8 (a, letters);
      else
        put (a, c);
    }
  Text *b = text_new (a->len);
  for (guint i = 0; i < a->len; i++)
    {
      gunichar c = AT (a, i);
      if (c == 0x3000)
        put (b, ' ');
      else if (c >= 0xff01 && c <= 0xffef)
        {
          char utf8[8] = { 0 };
          g_unichar_to_utf8 (c, utf8);
          g_autofree char *wide = g_utf8_normalize (utf8, -1, G_NORMALIZE_NFKC);
          if (wide && *wide)
            put_utf8 (b, wide);
          else
            put (b, c);
        }
      else
        put (b, c);
    }
  g_array_unref (a);
  Text *c_text = text_new (b->len);
  for (guint i = 0; i < b->len; i++)
    {
      gunichar c = AT (b, i);
      if (c == 0x2bc || (c >= 0x2018 && c <= 0x201b))
        put (c_text, '\'');
      else if (c >= 0x201c && c <= 0x201f)
        put (c_text, '"');
      else if (c == '\r')
        {
          put (c_text, '\n');
          if (i + 1 < b->len && AT (b, i + 1) == '\n')
            i++;
        }
      else if (c == 0x2028 || c == 0x2029 || c == 0x85)
        put (c_text, '\n');
      else
        put (c_text, c);
    }
  g_array_unref (b);
  /* remove_terminal_escapes: ESC [ (\d|;)* [a-zA-Z] */
  Text *d = text_new (c_text->len);
  for (guint i = 0; i < c_text->len; i++)
    {
      if (AT (c_text, i) == 0x1b && i + 1 < c_text->len && AT (c_text, i + 1) == '[')
        {
          guint end = i + 2;
          while (end < c_text->len && (AT (c_text, end) == ';' || g_unichar_isdigit (AT (c_text, end))))
            end++;
          if (end < c_text->len && is_ascii_letter (AT (c_text, end)))
            {
              i = end;
              continue;
            }
        }
      put (d, AT (c_text, i));
    }
  g_array_unref (c_text);
  Text *e = text_new (d->len);
  for (guint i = 0; i < d->len; i++)
    {
      gunichar c = AT (d, i);
      if (c <= 0x08 || c == 0x0b || (c >= 0x0e && c <= 0x1f) || c == 0x7f || (c >= 0x206a && c <= 0x206f) ||
          c == 0xfeff || (c >= 0xfff9 && c <= 0xfffc))
        continue;
      put (e, c);
    }
  g_array_unref (d);
  return e;
}

/* Windows-1252's bytes 80..9F; the five it leaves unassigned (81 8D 8F 90
 * 9D) stay the C1 controls they are in Latin-1, as in ftfy's "sloppy"
 * codec. */
static const gunichar WINDOWS_1252_C1[32] = {
  0x20ac, 0x0081, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
  0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008d, 0x017d, 0x008f,
  0x0090, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
  0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x009d, 0x017e, 0x0178,
};

/* fix_c1_controls: a C1 control in text is nearly always a Windows-1252
 * character that was decoded as Latin-1. */
static Text *
fix_c1_controls (const Text *text)
{
  Text *out = text_new (text->len);
  for (guint i = 0; i < text->len; i++)
    {
      gunichar c = AT (text, i);
      put (out, c >= 0x80 && c <= 0x9f ? WINDOWS_1252_C1[c - 0x80] : c);
    }
  return out;
}

static Text *
normalize_nfc (const Text *text)
{
  g_autofree char *utf8 = text_to_utf8 (text);
  g_autofree char *nfc = g_utf8_normalize (utf8 ? utf8 : "", -1, G_NORMALIZE_NFC);
  return text_from_utf8 (nfc ? nfc : "");
}

/* ftfy's fix_and_explain on one segment. */
static Text *
fix_segment (const Text *segment, gboolean unescape)
{
  Text *text = g_array_copy ((GArray *) segment);
  for (int round = 0; round < MAX_ROUNDS; round++)
    {
      /* (fix_encoding, ftfy's mojibake repair, would come second: see
       * clip_fix.h.) */
      Text *steps[4];
      steps[0] = unescape ? unescape_html (text) : g_array_copy (text);
      steps[1] = fix_c1_controls (steps[0]);
      steps[2] = fix_characters (steps[1]);
      steps[3] = normalize_nfc (steps[2]);
      for (int k = 0; k < 3; k++)
        g_array_unref (steps[k]);
      gboolean same = text_equal (steps[3], text);
      g_array_unref (text);
      text = steps[3];
      if (same)
        break;
    }
  return text;
}

char *
sf_clip_fix_text (const char *text)
{
  g_autofree char *valid = g_utf8_make_valid (text ? text : "", -1);
  g_autoptr (GArray) chars = text_from_utf8 (valid);
  g_autoptr (GString) out = g_string_sized_new (strlen (valid));
  gboolean unescape = TRUE;
  for (guint pos = 0; pos < chars->len;)
    {
      guint end = pos;
      while (end < chars->len && AT (chars, end) != '\n')
        end++;
      end = end < chars->len ? end + 1 : end;
      if (end - pos > MAX_DECODE_LENGTH)
        end = pos + MAX_DECODE_LENGTH;
      g_autoptr (GArray) segment = text_new (end - pos);
      g_array_append_vals (segment, &AT (chars, pos), end - pos);
      for (guint i = 0; i < segment->len && unescape; i++)
        if (AT (segment, i) == '<')
          unescape = FALSE; /* and for every later segment, as ftfy does */
      g_autoptr (GArray) fixed = fix_segment (segment, unescape);
      g_autofree char *utf8 = text_to_utf8 (fixed);
      g_string_append (out, utf8 ? utf8 : "");
      pos = end;
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}
