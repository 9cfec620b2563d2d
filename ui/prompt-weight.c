#include "prompt-weight.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A1111's defaults for keyedit_delimiters and keyedit_delimiters_whitespace
 * (tab, carriage return, line feed). */
static const char word_delimiters[] = ".,\\/!?%^*;:{}=`~() \t\r\n";

static gboolean
is_delimiter (char c)
{
  return c != '\0' && strchr (word_delimiters, c) != NULL;
}

/* Whether the character at @position is escaped by an odd number of
 * backslashes before it. */
static gboolean
is_escaped (const char *text, gsize position)
{
  gsize backslashes = 0;
  while (position > backslashes && text[position - backslashes - 1] == '\\')
    backslashes++;
  return backslashes % 2 == 1;
}

/* A bracket that weights text: not escaped. (A1111's edit-attention takes
 * \( for a bracket too; Sfumato does not, so that ctrl+up on a word in
 * \(…\) wraps it instead of breaking the escape.) */
static gboolean
is_bracket_at (const char *text, gsize position, char c)
{
  return text[position] == c && (strchr ("()[]", c) == NULL || !is_escaped (text, position));
}

/* Where @c first occurs unescaped in text[from, length), or -1. */
static gssize
find_from (const char *text, gsize length, gsize from, char c)
{
  for (gsize i = from; i < length; i++)
    if (is_bracket_at (text, i, c))
      return (gssize) i;
  return -1;
}

/* Where @c last occurs unescaped in text[0, before), or -1. */
static gssize
find_last_before (const char *text, gsize before, char c)
{
  for (gsize i = before; i > 0; i--)
    if (is_bracket_at (text, i - 1, c))
      return (gssize) (i - 1);
  return -1;
}

/* edit-attention's /.*:-?[\d.]+/s: a colon followed by a number's start.
 * Spaces after the colon are allowed here (A1111's parser reads
 * "(text: 1.5)" as weighted; edit-attention would wrap it again). */
static gboolean
holds_weight (const char *content, gsize length)
{
  for (gsize i = 0; i < length; i++)
    {
      if (content[i] != ':')
        continue;
      gsize j = i + 1;
      while (j < length && content[j] == ' ')
        j++;
      if (j < length && content[j] == '-')
        j++;
      if (j < length && (g_ascii_isdigit (content[j]) || content[j] == '.'))
        return TRUE;
    }
  return FALSE;
}

/* With a bare cursor inside open … close (and no other bracket of the kind
 * between), selects the group's text, up to its last colon when it has a
 * weight. */
static gboolean
select_group (const char *text, gsize length, gsize *start, gsize *end, char open, char close)
{
  if (*start != *end)
    return FALSE;
  gsize cursor = *start;
  gssize open_before = find_last_before (text, cursor, open);
  if (open_before < 0)
    return FALSE;
  gssize close_before = find_last_before (text, cursor, close);
  if (close_before > open_before)
    return FALSE;
  gssize close_after = find_from (text, length, cursor, close);
  if (close_after < 0)
    return FALSE;
  gssize open_after = find_from (text, length, cursor, open);
  if (open_after >= 0 && open_after < close_after)
    return FALSE;
  const char *content = text + open_before + 1;
  gsize content_length = (gsize) (close_after - open_before - 1);
  *start = (gsize) open_before + 1;
  *end = (gsize) close_after;
  if (holds_weight (content, content_length))
    *end = *start + (gsize) (find_last_before (content, content_length, ':'));
  return TRUE;
}

static void
select_word (const char *text, gsize length, gsize *start, gsize *end)
{
  while (*start > 0 && !is_delimiter (text[*start - 1]))
    (*start)--;
  while (*end < length && !is_delimiter (text[*end]))
    (*end)++;
  while (*start < *end && text[*start] == ' ')
    (*start)++;
  while (*end > *start && text[*end - 1] == ' ')
    (*end)--;
}

/* JavaScript's parseFloat on text[from, to): the longest number at the
 * start (after white space), or NAN. */
static double
parse_float_prefix (const char *text, gsize from, gsize to)
{
  g_autofree char *slice = g_strndup (text + from, to - from);
  const char *p = slice;
  while (g_ascii_isspace (*p))
    p++;
  const char *number = p;
  if (*p == '+' || *p == '-')
    p++;
  gsize digits = 0;
  while (g_ascii_isdigit (*p))
    p++, digits++;
  if (*p == '.')
    {
      p++;
      while (g_ascii_isdigit (*p))
        p++, digits++;
    }
  if (digits == 0)
    return NAN;
  if (*p == 'e' || *p == 'E')
    {
      const char *exponent = p + 1;
      if (*exponent == '+' || *exponent == '-')
        exponent++;
      if (g_ascii_isdigit (*exponent))
        {
          p = exponent;
          while (g_ascii_isdigit (*p))
            p++;
        }
    }
  g_autofree char *copy = g_strndup (number, (gsize) (p - number));
  return g_ascii_strtod (copy, NULL);
}

/* The shortest decimal that reads back as @value, without an exponent
 * for the weights people write (as JavaScript prints numbers). */
static char *
shortest (double value)
{
  char buffer[G_ASCII_DTOSTR_BUF_SIZE];
  char format[16];
  int digits = 1;
  for (; digits <= 17; digits++)
    {
      g_snprintf (format, sizeof format, "%%.%dg", digits);
      g_ascii_formatd (buffer, sizeof buffer, format, value);
      if (g_ascii_strtod (buffer, NULL) == value)
        break;
    }
  if (strchr (buffer, 'e') && value != 0 && fabs (value) >= 1e-6 && fabs (value) < 1e21)
    {
      int exponent = (int) floor (log10 (fabs (value)));
      g_snprintf (format, sizeof format, "%%.%df", MAX (0, MIN (digits, 17) - 1 - exponent));
      g_ascii_formatd (buffer, sizeof buffer, format, value);
    }
  return g_strdup (buffer);
}

char *
sf_prompt_weight_format (double weight)
{
  char buffer[G_ASCII_DTOSTR_BUF_SIZE];
  /* weight.toPrecision(12), read back */
  g_ascii_formatd (buffer, sizeof buffer, "%.12g", weight);
  double rounded = g_ascii_strtod (buffer, NULL);
  if (rounded == 0)
    rounded = 0;   /* no "-0" */
  char *text = shortest (rounded);
  if (rounded == floor (rounded) && fabs (rounded) < 1e21 && !strpbrk (text, ".e"))
    {
      char *whole = g_strconcat (text, ".0", NULL);
      g_free (text);
      return whole;
    }
  return text;
}

char *
sf_prompt_weight_adjust (const char *text, gsize *start_out, gsize *end_out, double delta)
{
  g_return_val_if_fail (text != NULL && start_out != NULL && end_out != NULL, NULL);
  gsize length = strlen (text);
  gsize start = MIN (*start_out, length), end = MIN (MAX (*end_out, start), length);

  if (!select_group (text, length, &start, &end, '<', '>')
      && !select_group (text, length, &start, &end, '(', ')')
      && !select_group (text, length, &start, &end, '[', ']')
      && start == end)
    select_word (text, length, &start, &end);

  g_autoptr (GString) out = g_string_new_len (text, (gssize) length);
  char close = ')';
  /* An escaped bracket is text, not a group's bracket. */
  char before = start > 0 && !is_escaped (text, start - 1) ? text[start - 1] : '\0';
  char after = end < length && !is_escaped (text, end) ? text[end] : '\0';

  if (before == '<')
    {
      close = '>';
      delta /= 2;
    }
  else if ((before == '(' && after == ')') || (before == '[' && after == ']'))
    {
      /* Old-style emphasis, ((text)) or [[text]]: count the pairs. */
      gsize pairs = 0;
      while (start >= pairs + 1 && end + pairs < length && text[start - pairs - 1] == before
             && text[end + pairs] == after)
        pairs++;
      double weight = pow (before == '[' ? 1 / 1.1 : 1.1, (double) pairs);
      weight = round (weight / SF_PROMPT_WEIGHT_STEP) * SF_PROMPT_WEIGHT_STEP;
      g_autofree char *number = shortest (weight);
      g_string_truncate (out, 0);
      g_string_append_len (out, text, (gssize) (start - pairs));
      g_string_append_c (out, '(');
      g_string_append_len (out, text + start, (gssize) (end - start));
      g_string_append_printf (out, ":%s)", number);
      g_string_append (out, text + end + pairs);
      start -= pairs - 1;
      end -= pairs - 1;
    }
  else if (before != '(')
    {
      while (end > start && text[end - 1] == ' ')
        end--;
      if (start == end)
        return NULL;
      g_string_insert (out, (gssize) end, ":1.0)");
      g_string_insert_c (out, (gssize) start, '(');
      start++;
      end++;
    }

  const char *edited = out->str;
  gsize edited_length = out->len;
  if (end >= edited_length || edited[end] != ':')
    return NULL;
  gssize close_at = find_from (edited, edited_length, end + 1, close);
  /* JavaScript's slice(end + 1, end + indexOf + 1): empty when not found */
  gsize number_end = close_at < 0 ? end + 1 : (gsize) close_at;
  double weight = parse_float_prefix (edited, end + 1, number_end);
  if (isnan (weight))
    return NULL;
  weight += delta;
  g_autofree char *number = sf_prompt_weight_format (weight);

  g_autoptr (GString) result = g_string_new (NULL);
  if (close == ')' && g_ascii_strtod (number, NULL) == 1.0)
    {
      gssize paren = find_from (edited, edited_length, end, ')');
      g_string_append_len (result, edited, (gssize) (start - 1));
      g_string_append_len (result, edited + start, (gssize) (end - start));
      g_string_append (result, edited + paren + 1);
      start--;
      end--;
    }
  else
    {
      g_string_append_len (result, edited, (gssize) (end + 1));
      g_string_append (result, number);
      g_string_append (result, edited + number_end);
    }
  *start_out = start;
  *end_out = end;
  return g_string_free (g_steal_pointer (&result), FALSE);
}

/* ---- highlighting -------------------------------------------------------- */

/* Python's \w, as prompt.c tests BREAK's word boundaries. */
static gboolean
is_word_char (gunichar c)
{
  return c == '_' || g_unichar_isalnum (c);
}

/* At '<': A1111's extra-network pattern <(\w+):([^>]+)>, its length or 0. */
static gsize
match_extra_network (const char *p)
{
  const char *q = p + 1;
  while (*q && is_word_char (g_utf8_get_char (q)))
    q = g_utf8_next_char (q);
  if (q == p + 1 || *q != ':')
    return 0;
  const char *arguments = ++q;
  while (*q && *q != '>')
    q++;
  return *q == '>' && q > arguments ? (gsize) (q + 1 - p) : 0;
}

/* At ':': the pattern :\s*([+-]?[.\d]+)\s*\) with a number Python's
 * float() reads; returns the offset of the ')' or 0. */
static gsize
match_weight (const char *p, double *weight)
{
  const char *q = p + 1;
  while (g_ascii_isspace (*q))
    q++;
  const char *number = q;
  if (*q == '+' || *q == '-')
    q++;
  const char *digits = q;
  while (*q == '.' || g_ascii_isdigit (*q))
    q++;
  if (q == digits)
    return 0;
  g_autofree char *copy = g_strndup (number, (gsize) (q - number));
  char *parsed_end;
  *weight = g_ascii_strtod (copy, &parsed_end);
  if (*parsed_end != '\0')
    return 0;
  while (g_ascii_isspace (*q))
    q++;
  return *q == ')' ? (gsize) (q - p) : 0;
}

#define TEXT_BYTE (-1)

static void
multiply (double *weights, gsize from, gsize to, double factor)
{
  for (gsize i = from; i < to; i++)
    weights[i] *= factor;
}

GArray *
sf_prompt_spans (const char *text)
{
  GArray *spans = g_array_new (FALSE, FALSE, sizeof (SfPromptSpan));
  gsize length = text ? strlen (text) : 0;
  if (length == 0)
    return spans;
  g_autofree int *kind = g_new (int, length);
  g_autofree double *weight = g_new (double, length);
  for (gsize i = 0; i < length; i++)
    {
      kind[i] = TEXT_BYTE;
      weight[i] = 1.0;
    }
  g_autoptr (GArray) round_open = g_array_new (FALSE, FALSE, sizeof (gsize));
  g_autoptr (GArray) square_open = g_array_new (FALSE, FALSE, sizeof (gsize));
  g_autoptr (GArray) breaks = g_array_new (FALSE, FALSE, sizeof (gsize));

  gsize i = 0;
  while (i < length)
    {
      char c = text[i];
      gsize n;
      double value;
      if (c == '\\')
        {
          n = text[i + 1] && strchr ("()[]\\", text[i + 1]) ? 2 : 1;
          for (gsize k = i; k < i + n; k++)
            kind[k] = SF_PROMPT_SPAN_ESCAPE;
          i += n;
        }
      else if (c == '<' && (n = match_extra_network (text + i)) > 0)
        {
          for (gsize k = i; k < i + n; k++)
            kind[k] = SF_PROMPT_SPAN_UNSUPPORTED;
          i += n;
        }
      else if (c == '(' || c == '[')
        {
          kind[i] = SF_PROMPT_SPAN_BRACKET;
          g_array_append_val (c == '(' ? round_open : square_open, i);
          i++;
        }
      else if (c == ':' && round_open->len && (n = match_weight (text + i, &value)) > 0)
        {
          gsize open = g_array_index (round_open, gsize, round_open->len - 1);
          g_array_set_size (round_open, round_open->len - 1);
          multiply (weight, open + 1, i, value);
          for (gsize k = i; k < i + n; k++)
            kind[k] = SF_PROMPT_SPAN_WEIGHT;
          kind[i + n] = SF_PROMPT_SPAN_BRACKET;
          i += n + 1;
        }
      else if ((c == ')' && round_open->len) || (c == ']' && square_open->len))
        {
          GArray *stack = c == ')' ? round_open : square_open;
          gsize open = g_array_index (stack, gsize, stack->len - 1);
          g_array_set_size (stack, stack->len - 1);
          multiply (weight, open + 1, i, c == ')' ? 1.1 : 1 / 1.1);
          kind[i] = SF_PROMPT_SPAN_BRACKET;
          i++;
        }
      else if (c == 'B' && strncmp (text + i, "BREAK", 5) == 0
               && (i == 0 || !is_word_char (g_utf8_get_char (g_utf8_prev_char (text + i))))
               && (i + 5 == length || !is_word_char (g_utf8_get_char (text + i + 5))))
        {
          g_array_append_val (breaks, i);
          i += 5;
        }
      else
        i++;
    }
  /* Unmatched openers weight everything after them (A1111). */
  for (guint k = 0; k < round_open->len; k++)
    multiply (weight, g_array_index (round_open, gsize, k) + 1, length, 1.1);
  for (guint k = 0; k < square_open->len; k++)
    multiply (weight, g_array_index (square_open, gsize, k) + 1, length, 1 / 1.1);
  /* BREAK inside brackets has its -1 multiplied away and is plain text. */
  for (guint k = 0; k < breaks->len; k++)
    {
      gsize at = g_array_index (breaks, gsize, k);
      if (weight[at] == 1.0)
        for (gsize b = at; b < at + 5; b++)
          kind[b] = SF_PROMPT_SPAN_BREAK;
    }

  /* Runs of one kind (and, for text, one weight) become spans. */
  i = 0;
  while (i < length)
    {
      gsize j = i + 1;
      while (j < length && kind[j] == kind[i] && (kind[i] != TEXT_BYTE || weight[j] == weight[i]))
        j++;
      SfPromptSpan span = { 0, i, j, weight[i] };
      gboolean keep = TRUE;
      if (kind[i] != TEXT_BYTE)
        span.kind = (SfPromptSpanKind) kind[i];
      else if (weight[i] > 1.0)
        span.kind = SF_PROMPT_SPAN_EMPHASIS;
      else if (weight[i] < 1.0)
        span.kind = SF_PROMPT_SPAN_DEEMPHASIS;
      else
        keep = FALSE;
      if (keep)
        g_array_append_val (spans, span);
      i = j;
    }
  return spans;
}

char *
sf_prompt_format_count (const int *counts, guint n_chunks)
{
  if (!counts || n_chunks == 0)
    return g_strdup ("");
  if (n_chunks == 1)
    return g_strdup_printf ("%d/75", counts[0]);
  /* TRANSLATORS: chunks of 75 tokens; the last chunk's count */
  return g_strdup_printf ("%u chunks · %d/75", n_chunks, counts[n_chunks - 1]);
}
