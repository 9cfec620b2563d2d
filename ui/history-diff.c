#include "history-diff.h"

#include <string.h>

/* Splits @text into alternating runs: words (letters and digits) and the
 * separators between them. */
static GPtrArray *
tokenize (const char *text)
{
  GPtrArray *tokens = g_ptr_array_new_with_free_func (g_free);
  const char *p = text ? text : "";
  while (*p)
    {
      const char *start = p;
      gboolean word = g_unichar_isalnum (g_utf8_get_char (p));
      while (*p && g_unichar_isalnum (g_utf8_get_char (p)) == word)
        p = g_utf8_next_char (p);
      g_ptr_array_add (tokens, g_strndup (start, p - start));
    }
  return tokens;
}

/* Separators match when they differ only in whitespace. */
static gboolean
tokens_equal (const char *a, const char *b)
{
  if (strcmp (a, b) == 0)
    return TRUE;
  g_autofree char *x = g_strstrip (g_strdup (a));
  g_autofree char *y = g_strstrip (g_strdup (b));
  return *x && strcmp (x, y) == 0 && !g_unichar_isalnum (g_utf8_get_char (a));
}

static gboolean
is_blank (const char *text)
{
  for (const char *p = text; *p; p = g_utf8_next_char (p))
    if (!g_unichar_isspace (g_utf8_get_char (p)))
      return FALSE;
  return TRUE;
}

static void
append_span (GString *markup, const char *attributes, const char *text)
{
  g_autofree char *escaped = g_markup_escape_text (text, -1);
  if (attributes)
    g_string_append_printf (markup, "<span %s>%s</span>", attributes, escaped);
  else
    g_string_append (markup, escaped);
}

#define INSERTED "foreground=\"#26a269\" weight=\"bold\""
#define DELETED "foreground=\"#c01c28\" strikethrough=\"true\""
/* Past this, a quadratic table is not worth it: mark everything changed. */
#define MAX_TOKENS 2000

char *
sf_history_diff_markup (const char *old_text, const char *new_text)
{
  g_autoptr (GPtrArray) a = tokenize (old_text);
  g_autoptr (GPtrArray) b = tokenize (new_text);
  guint n = a->len, m = b->len;
  GString *markup = g_string_new (NULL);
  if (n > MAX_TOKENS || m > MAX_TOKENS)
    {
      append_span (markup, INSERTED, new_text ? new_text : "");
      return g_string_free (markup, FALSE);
    }
  /* lcs[i][j]: the longest common subsequence of a[i..] and b[j..]. */
  g_autofree guint *lcs = g_new0 (guint, (gsize) (n + 1) * (m + 1));
#define LCS(i, j) lcs[(gsize) (i) * (m + 1) + (j)]
  for (guint i = n; i-- > 0;)
    for (guint j = m; j-- > 0;)
      LCS (i, j) = tokens_equal (a->pdata[i], b->pdata[j]) ? LCS (i + 1, j + 1) + 1
                                                           : MAX (LCS (i + 1, j), LCS (i, j + 1));
  guint i = 0, j = 0;
  while (i < n || j < m)
    {
      if (i < n && j < m && tokens_equal (a->pdata[i], b->pdata[j]))
        {
          append_span (markup, NULL, b->pdata[j]);
          i++, j++;
        }
      else if (i < n && (j == m || LCS (i + 1, j) >= LCS (i, j + 1)))
        {
          /* Removals before insertions, as diffs are read. */
          const char *token = a->pdata[i++];
          if (!is_blank (token))
            append_span (markup, DELETED, token);
        }
      else
        {
          const char *token = b->pdata[j++];
          /* Whitespace alone is not worth a colour. */
          append_span (markup, is_blank (token) ? NULL : INSERTED, token);
        }
    }
#undef LCS
  return g_string_free (markup, FALSE);
}
