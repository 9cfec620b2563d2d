#include "prompt.h"

#include <math.h>
#include <string.h>

/* A1111 multiplies by these (Python floats). */
#define ROUND_MULTIPLIER 1.1
#define SQUARE_MULTIPLIER (1 / 1.1)

/* Python's str.isspace, which re's \s follows. */
static gboolean
is_space (gunichar c)
{
  return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20) || c == 0x85 || c == 0xa0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 ||
         c == 0x202f || c == 0x205f || c == 0x3000;
}

/* Python's \w: alphanumeric (letters and numbers) or underscore. */
static gboolean
is_word (gunichar c)
{
  if (c == '_')
    return TRUE;
  switch (g_unichar_type (c))
    {
    case G_UNICODE_UPPERCASE_LETTER:
    case G_UNICODE_LOWERCASE_LETTER:
    case G_UNICODE_TITLECASE_LETTER:
    case G_UNICODE_MODIFIER_LETTER:
    case G_UNICODE_OTHER_LETTER:
    case G_UNICODE_DECIMAL_NUMBER:
    case G_UNICODE_LETTER_NUMBER:
    case G_UNICODE_OTHER_NUMBER:
      return TRUE;
    default:
      return FALSE;
    }
}

static void
clear_run (gpointer data)
{
  g_free (((SfPromptRun *) data)->text);
}

static void
append (GArray *runs, const char *text, gsize length, double weight)
{
  SfPromptRun run = { g_strndup (text, length), weight };
  g_array_append_val (runs, run);
}

/* re.split(r"\s*\bBREAK\b\s*", text): the parts, with a ("BREAK", -1)
 * run between each two. */
static void
append_splitting_breaks (GArray *runs, const char *text, gsize length)
{
  const char *end = text + length, *part = text, *search = text;
  while (search + 5 <= end)
    {
      const char *found = g_strstr_len (search, end - search, "BREAK");
      if (!found)
        break;
      const char *after = found + 5;
      gboolean boundary_before = found == text || !is_word (g_utf8_get_char (g_utf8_prev_char (found)));
      gboolean boundary_after = after == end || !is_word (g_utf8_get_char (after));
      if (!boundary_before || !boundary_after)
        {
          search = found + 1;
          continue;
        }
      const char *start = found;
      while (start > part && is_space (g_utf8_get_char (g_utf8_prev_char (start))))
        start = g_utf8_prev_char (start);
      while (after < end && is_space (g_utf8_get_char (after)))
        after = g_utf8_next_char (after);
      append (runs, part, (gsize) (start - part), 1.0);
      append (runs, "BREAK", 5, -1.0);
      part = search = after;
    }
  append (runs, part, (gsize) (end - part), 1.0);
}

static void
multiply_range (GArray *runs, guint start, double multiplier)
{
  for (guint i = start; i < runs->len; i++)
    g_array_index (runs, SfPromptRun, i).weight *= multiplier;
}

/* At ':' — the pattern :\s*([+-]?[.\d]+)\s*\) — returns the end of the
 * match and the number's text, or NULL. */
static const char *
match_weight (const char *colon, const char **number, gsize *number_length)
{
  const char *p = colon + 1;
  while (*p && is_space (g_utf8_get_char (p)))
    p = g_utf8_next_char (p);
  *number = p;
  if (*p == '+' || *p == '-')
    p++;
  const char *digits = p;
  while (*p == '.' || g_ascii_isdigit (*p))
    p++;
  if (p == digits)
    return NULL;
  *number_length = (gsize) (p - *number);
  while (*p && is_space (g_utf8_get_char (p)))
    p = g_utf8_next_char (p);
  return *p == ')' ? p + 1 : NULL;
}

/* Python's float() on [+-]?[.\d]+: all of it must be one number. */
static gboolean
parse_weight (const char *number, gsize length, double *value)
{
  g_autofree char *text = g_strndup (number, length);
  char *end;
  *value = g_ascii_strtod (text, &end);
  return end != text && *end == '\0';
}

GArray *
sf_prompt_parse (const char *prompt)
{
  g_autofree char *text = g_utf8_make_valid (prompt ? prompt : "", -1);
  GArray *runs = g_array_new (FALSE, FALSE, sizeof (SfPromptRun));
  g_array_set_clear_func (runs, clear_run);
  g_autoptr (GArray) round = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr (GArray) square = g_array_new (FALSE, FALSE, sizeof (guint));

  const char *p = text;
  while (*p)
    {
      if (*p == '\\')
        {
          /* \( \) \[ \] \\ are the character; a lone \ is nothing. */
          gboolean escape = p[1] && strchr ("()[]\\", p[1]);
          append (runs, p + 1, escape ? 1 : 0, 1.0);
          p += escape ? 2 : 1;
        }
      else if (*p == '(' || *p == '[')
        {
          guint position = runs->len;
          g_array_append_val (*p == '(' ? round : square, position);
          p++;
        }
      else if (*p == ':')
        {
          const char *number;
          gsize number_length;
          double weight;
          const char *end = match_weight (p, &number, &number_length);
          if (end && round->len && parse_weight (number, number_length, &weight))
            {
              multiply_range (runs, g_array_index (round, guint, round->len - 1), weight);
              g_array_set_size (round, round->len - 1);
            }
          else
            {
              /* Without an open bracket the whole ":1.5)" is text, as it
               * is when the number is not one (A1111 raises there). */
              if (!end || round->len)
                end = p + 1;
              append_splitting_breaks (runs, p, (gsize) (end - p));
            }
          p = end;
        }
      else if ((*p == ')' && round->len) || (*p == ']' && square->len))
        {
          GArray *stack = *p == ')' ? round : square;
          multiply_range (runs, g_array_index (stack, guint, stack->len - 1),
                          *p == ')' ? ROUND_MULTIPLIER : SQUARE_MULTIPLIER);
          g_array_set_size (stack, stack->len - 1);
          p++;
        }
      else if (*p == ')' || *p == ']')
        {
          append (runs, p, 1, 1.0);
          p++;
        }
      else
        {
          gsize length = strcspn (p, "\\()[]:");
          append_splitting_breaks (runs, p, length);
          p += length;
        }
    }
  for (guint i = 0; i < round->len; i++)
    multiply_range (runs, g_array_index (round, guint, i), ROUND_MULTIPLIER);
  for (guint i = 0; i < square->len; i++)
    multiply_range (runs, g_array_index (square, guint, i), SQUARE_MULTIPLIER);

  if (runs->len == 0)
    append (runs, "", 0, 1.0);
  /* Merge neighbours of equal weight. */
  guint i = 0;
  while (i + 1 < runs->len)
    {
      SfPromptRun *run = &g_array_index (runs, SfPromptRun, i);
      SfPromptRun *next = run + 1;
      if (run->weight == next->weight)
        {
          char *joined = g_strconcat (run->text, next->text, NULL);
          g_free (run->text);
          run->text = joined;
          g_array_remove_index (runs, i + 1);
        }
      else
        i++;
    }
  return runs;
}

gboolean
sf_prompt_run_is_break (const SfPromptRun *run)
{
  return run->weight == -1.0 && strcmp (run->text, "BREAK") == 0;
}

void
sf_prompt_weight_a1111 (float *hidden, gsize n_tokens, gsize dim, gsize row_stride,
                        const float *weights)
{
  double before = 0, after = 0;
  for (gsize t = 0; t < n_tokens; t++)
    {
      float *row = hidden + t * row_stride;
      for (gsize c = 0; c < dim; c++)
        {
          before += row[c];
          row[c] *= weights[t];
          after += row[c];
        }
    }
  if (after == 0 || !isfinite (before / after))
    return;
  /* mean(z) / mean(z') = sum(z) / sum(z'): same element count. */
  float scale = (float) (before / after);
  for (gsize t = 0; t < n_tokens; t++)
    for (gsize c = 0; c < dim; c++)
      hidden[t * row_stride + c] *= scale;
}

void
sf_prompt_weight_comfy (float *hidden, const float *empty, gsize n_tokens, gsize dim,
                        gsize row_stride, const float *weights)
{
  for (gsize t = 0; t < n_tokens; t++)
    {
      if (weights[t] == 1.0f)
        continue;
      float *row = hidden + t * row_stride;
      const float *base = empty + t * row_stride;
      for (gsize c = 0; c < dim; c++)
        row[c] = (row[c] - base[c]) * weights[t] + base[c];
    }
}

void
sf_prompt_weight (SfPromptWeighting rule, float *hidden, const float *empty, gsize n_tokens,
                  gsize dim, gsize row_stride, const float *weights)
{
  if (rule == SF_PROMPT_WEIGHTING_COMFY)
    sf_prompt_weight_comfy (hidden, empty, n_tokens, dim, row_stride, weights);
  else
    sf_prompt_weight_a1111 (hidden, n_tokens, dim, row_stride, weights);
}
