#include "clip_text.h"

#include <string.h>

#include "clip_fix.h"
#include "html_entities.h"

/* ---- Character classes ----------------------------------------------------- */

/* The regex module's \s: Unicode White_Space. */
static gboolean
is_white_space (gunichar c)
{
  return (c >= 0x09 && c <= 0x0d) || c == 0x20 || c == 0x85 || c == 0xa0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
         c == 0x205f || c == 0x3000;
}

/* Python's str.isspace (what strip() removes): also the separators
 * U+001C..U+001F. */
static gboolean
is_python_space (gunichar c)
{
  return is_white_space (c) || (c >= 0x1c && c <= 0x1f);
}

static gboolean
is_letter (gunichar c)
{
  switch (g_unichar_type (c))
    {
    case G_UNICODE_UPPERCASE_LETTER:
    case G_UNICODE_LOWERCASE_LETTER:
    case G_UNICODE_TITLECASE_LETTER:
    case G_UNICODE_MODIFIER_LETTER:
    case G_UNICODE_OTHER_LETTER:
      return TRUE;
    default:
      return FALSE;
    }
}

static gboolean
is_number (gunichar c)
{
  GUnicodeType type = g_unichar_type (c);
  return type == G_UNICODE_DECIMAL_NUMBER || type == G_UNICODE_LETTER_NUMBER ||
         type == G_UNICODE_OTHER_NUMBER;
}

/* ---- html.unescape ---------------------------------------------------------- */

/* windows-1252 for the C1 range, as browsers read &#128; .. &#159;. */
static const gunichar WINDOWS_1252[32] = {
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039,
  0x152, 0x8d, 0x17d, 0x8f, 0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
  0x2dc, 0x2122, 0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178,
};

static void
append_character_reference (GString *out, guint64 code)
{
  if (code == 0)
    g_string_append_unichar (out, 0xfffd);
  else if (code >= 0x80 && code <= 0x9f)
    g_string_append_unichar (out, WINDOWS_1252[code - 0x80]);
  else if ((code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff)
    g_string_append_unichar (out, 0xfffd);
  else if ((code >= 0x01 && code <= 0x08) || code == 0x0b || (code >= 0x0e && code <= 0x1f) ||
           code == 0x7f || (code >= 0xfdd0 && code <= 0xfdef) || (code & 0xfffe) == 0xfffe)
    return; /* "invalid code points" are dropped */
  else
    g_string_append_unichar (out, (gunichar) code);
}

static void
append_entity (GString *out, const SfHtmlEntity *entity)
{
  g_string_append_unichar (out, entity->first);
  if (entity->second)
    g_string_append_unichar (out, entity->second);
}

/* One reference after '&' at @p; returns the position after it, or NULL
 * when Python's pattern does not match there. */
static const char *
unescape_one (const char *p, GString *out)
{
  if (*p == '#')
    {
      gboolean hex = p[1] == 'x' || p[1] == 'X';
      const char *digits = p + (hex ? 2 : 1);
      if (!(hex ? g_ascii_isxdigit (*digits) : g_ascii_isdigit (*digits)))
        return NULL;
      guint64 code = 0;
      for (; hex ? g_ascii_isxdigit (*digits) : g_ascii_isdigit (*digits); digits++)
        code = MIN (code * (hex ? 16 : 10) + (guint64) g_ascii_xdigit_value (*digits), 0x110000u);
      append_character_reference (out, code);
      return *digits == ';' ? digits + 1 : digits;
    }
  /* A name: 1 to 32 characters other than \t \n \f space < & # ; then an
   * optional ';'. */
  const char *end = p;
  int length = 0;
  while (*end && length < 32 && !strchr ("\t\n\f <&#;", *end))
    {
      end = g_utf8_next_char (end);
      length++;
    }
  if (length == 0)
    return NULL;
  gboolean semicolon = *end == ';';
  g_autofree char *name = g_strndup (p, (gsize) (end - p));
  const SfHtmlEntity *entity = sf_html_entity_find (name);
  if (entity && (semicolon || entity->legacy))
    {
      append_entity (out, entity);
      return semicolon ? end + 1 : end;
    }
  /* The longest legacy name that is a prefix (at least 2 characters). */
  const char *stop = semicolon ? end + 1 : end;
  for (int keep = length + (semicolon ? 1 : 0) - 1; keep >= 2; keep--)
    {
      const char *cut = g_utf8_offset_to_pointer (p, keep);
      if (cut > end)
        continue;
      g_autofree char *prefix = g_strndup (p, (gsize) (cut - p));
      entity = sf_html_entity_find (prefix);
      if (entity && entity->legacy)
        {
          append_entity (out, entity);
          g_string_append_len (out, cut, stop - cut);
          return stop;
        }
    }
  g_string_append_c (out, '&');
  g_string_append_len (out, p, stop - p);
  return stop;
}

char *
sf_clip_html_unescape (const char *text)
{
  g_autofree char *valid = g_utf8_make_valid (text, -1);
  if (!strchr (valid, '&'))
    return g_steal_pointer (&valid);
  GString *out = g_string_sized_new (strlen (valid));
  const char *p = valid;
  while (*p)
    {
      const char *amp = strchr (p, '&');
      if (!amp)
        {
          g_string_append (out, p);
          break;
        }
      g_string_append_len (out, p, amp - p);
      const char *next = unescape_one (amp + 1, out);
      if (next)
        p = next;
      else
        {
          g_string_append_c (out, '&');
          p = amp + 1;
        }
    }
  return g_string_free (out, FALSE);
}

/* ---- str.lower -------------------------------------------------------------- */

static gboolean
is_cased (gunichar c)
{
  return g_unichar_isupper (c) || g_unichar_islower (c) || g_unichar_istitle (c);
}

/* Case-ignorable: marks, format characters, modifiers, and the word-break
 * MidLetter / MidNumLet / Single_Quote characters. */
static gboolean
is_case_ignorable (gunichar c)
{
  switch (g_unichar_type (c))
    {
    case G_UNICODE_NON_SPACING_MARK:
    case G_UNICODE_ENCLOSING_MARK:
    case G_UNICODE_FORMAT:
    case G_UNICODE_MODIFIER_LETTER:
    case G_UNICODE_MODIFIER_SYMBOL:
      return TRUE;
    default:
      break;
    }
  static const gunichar MID[] = { 0x27, 0x2e, 0x3a, 0xb7, 0x387, 0x55f, 0x5f4, 0x2018, 0x2019,
                                  0x2024, 0x2027, 0xfe13, 0xfe52, 0xfe55, 0xff07, 0xff0e, 0xff1a };
  for (gsize i = 0; i < G_N_ELEMENTS (MID); i++)
    if (c == MID[i])
      return TRUE;
  return FALSE;
}

/* Capital sigma lowers to final sigma after a cased letter and not before
 * one (case-ignorable characters skipped), as CPython does. */
static gunichar
lower_sigma (const gunichar *text, glong length, glong i)
{
  glong j = i - 1;
  while (j >= 0 && is_case_ignorable (text[j]))
    j--;
  if (j < 0 || !is_cased (text[j]))
    return 0x3c3;
  j = i + 1;
  while (j < length && is_case_ignorable (text[j]))
    j++;
  return j == length || !is_cased (text[j]) ? 0x3c2 : 0x3c3;
}

char *
sf_clip_lower (const char *text)
{
  g_autofree char *valid = g_utf8_make_valid (text, -1);
  glong length;
  g_autofree gunichar *chars = g_utf8_to_ucs4_fast (valid, -1, &length);
  GString *out = g_string_sized_new (strlen (valid));
  for (glong i = 0; i < length; i++)
    {
      gunichar c = chars[i];
      if (c == 0x130)
        g_string_append (out, "i\xcc\x87"); /* i + COMBINING DOT ABOVE */
      else if (c == 0x3a3)
        g_string_append_unichar (out, lower_sigma (chars, length, i));
      else
        g_string_append_unichar (out, g_unichar_tolower (c));
    }
  return g_string_free (out, FALSE);
}

/* ---- Cleanup and split -------------------------------------------------------- */

static char *
strip_python (const char *text)
{
  const char *begin = text, *end = text + strlen (text);
  while (*begin && is_python_space (g_utf8_get_char (begin)))
    begin = g_utf8_next_char (begin);
  while (end > begin)
    {
      const char *previous = g_utf8_prev_char (end);
      if (!is_python_space (g_utf8_get_char (previous)))
        break;
      end = previous;
    }
  return g_strndup (begin, (gsize) (end - begin));
}

char *
sf_clip_clean (const char *text)
{
  /* basic_clean: ftfy.fix_text, then html.unescape twice */
  g_autofree char *fixed = sf_clip_fix_text (text);
  g_autofree char *once = sf_clip_html_unescape (fixed);
  g_autofree char *twice = sf_clip_html_unescape (once);
  g_autofree char *stripped = strip_python (twice);
  GString *collapsed = g_string_sized_new (strlen (stripped));
  gboolean in_space = FALSE;
  for (const char *p = stripped; *p; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);
      if (is_white_space (c))
        {
          if (!in_space)
            g_string_append_c (collapsed, ' ');
          in_space = TRUE;
          continue;
        }
      in_space = FALSE;
      g_string_append_unichar (collapsed, c);
    }
  g_autofree char *joined = g_string_free (collapsed, FALSE);
  g_autofree char *again = strip_python (joined);
  return sf_clip_lower (again);
}

/* Length in characters of a contraction at @text[i] ('s 't 're 've 'm
 * 'll 'd, ignoring case: after lower() only ſ still folds to s), or 0. */
static glong
contraction_at (const gunichar *text, glong length, glong i)
{
  if (text[i] != '\'' || i + 1 >= length)
    return 0;
  gunichar a = text[i + 1], b = i + 2 < length ? text[i + 2] : 0;
  if (a == 's' || a == 0x17f || a == 't' || a == 'm' || a == 'd')
    return 2;
  if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l'))
    return 3;
  return 0;
}

static gboolean
ascii_at (const gunichar *text, glong length, glong i, const char *word)
{
  for (glong k = 0; word[k]; k++)
    if (i + k >= length || text[i + k] != (gunichar) word[k])
      return FALSE;
  return TRUE;
}

GPtrArray *
sf_clip_split (const char *cleaned)
{
  g_autofree char *valid = g_utf8_make_valid (cleaned, -1);
  glong length;
  g_autofree gunichar *text = g_utf8_to_ucs4_fast (valid, -1, &length);
  GPtrArray *pieces = g_ptr_array_new_with_free_func (g_free);
  static const char *const SPECIAL[] = { "<|startoftext|>", "<|endoftext|>" };
  glong i = 0;
  while (i < length)
    {
      glong end = i;
      for (gsize s = 0; s < G_N_ELEMENTS (SPECIAL) && end == i; s++)
        if (ascii_at (text, length, i, SPECIAL[s]))
          end = i + (glong) strlen (SPECIAL[s]);
      if (end == i)
        end = i + contraction_at (text, length, i);
      if (end == i)
        {
          gunichar c = text[i];
          if (is_letter (c))
            for (end = i + 1; end < length && is_letter (text[end]); end++)
              ;
          else if (is_number (c))
            end = i + 1;
          else if (is_white_space (c))
            {
              i++;
              continue;
            }
          else
            for (end = i + 1; end < length && !is_white_space (text[end]) && !is_letter (text[end]) &&
                              !is_number (text[end]); end++)
              ;
        }
      g_ptr_array_add (pieces, g_ucs4_to_utf8 (text + i, end - i, NULL, NULL, NULL));
      i = end;
    }
  return pieces;
}
