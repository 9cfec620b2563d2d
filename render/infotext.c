#include "infotext.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "png_text.h"

SfInfotext *
sf_infotext_new (void)
{
  SfInfotext *infotext = g_new0 (SfInfotext, 1);
  infotext->denoising_strength = -1;
  infotext->refiner_switch_at = -1;
  return infotext;
}

void
sf_infotext_free (SfInfotext *infotext)
{
  if (!infotext)
    return;
  g_free (infotext->prompt);
  g_free (infotext->negative_prompt);
  g_free (infotext->sampler);
  g_free (infotext->scheduler);
  g_free (infotext->model_hash);
  g_free (infotext->model);
  g_free (infotext->refiner);
  g_clear_pointer (&infotext->keys, g_ptr_array_unref);
  g_clear_pointer (&infotext->values, g_ptr_array_unref);
  g_free (infotext);
}

const char *
sf_infotext_lookup (const SfInfotext *infotext, const char *key)
{
  if (!infotext->keys)
    return NULL;
  for (guint i = 0; i < infotext->keys->len; i++)
    if (strcmp (infotext->keys->pdata[i], key) == 0)
      return infotext->values->pdata[i];
  return NULL;
}

char *
sf_infotext_format_number (double value)
{
  if (!isfinite (value))
    return g_strdup ("0");
  if (value == floor (value) && fabs (value) < 1e15)
    return g_strdup_printf ("%.0f", value);
  /* The shortest %g that reads back to the same double, as Python's repr. */
  char buffer[G_ASCII_DTOSTR_BUF_SIZE];
  for (int precision = 1; precision <= 17; precision++)
    {
      char format[8];
      g_snprintf (format, sizeof format, "%%.%dg", precision);
      g_ascii_formatd (buffer, sizeof buffer, format, value);
      if (g_ascii_strtod (buffer, NULL) == value)
        break;
    }
  return g_strdup (buffer);
}

/* ---- A1111: the parameter line ------------------------------------- */

static gboolean
is_word_char (const char *p)
{
  gunichar c = g_utf8_get_char (p);
  return c == '_' || g_unichar_isalnum (c);
}

static gboolean
is_key_char (const char *p)
{
  return *p == ' ' || *p == '-' || *p == '/' || is_word_char (p);
}

/* A JSON string literal's contents, as json.loads reads it; NULL when the
 * literal (quotes included) is not valid JSON. */
static char *
json_unquote (const char *start, gsize length)
{
  if (length < 2 || start[0] != '"' || start[length - 1] != '"')
    return NULL;
  GString *out = g_string_new (NULL);
  const char *p = start + 1, *end = start + length - 1;
  while (p < end)
    {
      if (*p != '\\')
        {
          if ((guchar) *p < 0x20)
            break;
          g_string_append_c (out, *p++);
          continue;
        }
      if (p + 1 >= end)
        break;
      char escape = p[1];
      p += 2;
      switch (escape)
        {
        case '"': g_string_append_c (out, '"'); continue;
        case '\\': g_string_append_c (out, '\\'); continue;
        case '/': g_string_append_c (out, '/'); continue;
        case 'b': g_string_append_c (out, '\b'); continue;
        case 'f': g_string_append_c (out, '\f'); continue;
        case 'n': g_string_append_c (out, '\n'); continue;
        case 'r': g_string_append_c (out, '\r'); continue;
        case 't': g_string_append_c (out, '\t'); continue;
        case 'u':
          {
            char hex[5] = { 0 };
            if (end - p < 4)
              goto invalid;
            memcpy (hex, p, 4);
            char *hex_end = NULL;
            gunichar c = (gunichar) strtoul (hex, &hex_end, 16);
            if (hex_end != hex + 4)
              goto invalid;
            p += 4;
            /* A surrogate pair stands for one character. */
            if (c >= 0xD800 && c < 0xDC00 && end - p >= 6 && p[0] == '\\' && p[1] == 'u')
              {
                memcpy (hex, p + 2, 4);
                gunichar low = (gunichar) strtoul (hex, &hex_end, 16);
                if (hex_end == hex + 4 && low >= 0xDC00 && low < 0xE000)
                  {
                    c = 0x10000 + ((c - 0xD800) << 10) + (low - 0xDC00);
                    p += 6;
                  }
              }
            if (c >= 0xD800 && c < 0xE000)
              c = 0xFFFD; /* a lone surrogate has no UTF-8 form */
            g_string_append_unichar (out, c);
            continue;
          }
        default:
          goto invalid;
        }
    }
  if (p == end)
    return g_string_free (out, FALSE);
invalid:
  g_string_free (out, TRUE);
  return NULL;
}

/* Finds the pairs of A1111's re_param
 *   \s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)
 * with the same search semantics (a failed match moves on by one char). */
static guint
parse_parameter_line (const char *line, GPtrArray *keys, GPtrArray *values)
{
  guint found = 0;
  const char *p = line;
  while (*p)
    {
      const char *q = p;
      while (g_ascii_isspace (*q))
        q++;
      const char *key_start = q;
      if (!*q || !is_word_char (q))
        {
          p = g_utf8_next_char (p);
          continue;
        }
      q = g_utf8_next_char (q);
      const char *key_rest = q;
      while (*q && is_key_char (q))
        q = g_utf8_next_char (q);
      if (q == key_rest || *q != ':')
        {
          p = g_utf8_next_char (p);
          continue;
        }
      const char *key_end = q++;
      while (g_ascii_isspace (*q))
        q++;
      char *value = NULL;
      const char *after = NULL;
      if (*q == '"')
        {
          const char *r = q + 1;
          while (*r && *r != '"')
            r += (*r == '\\' && r[1]) ? 2 : 1;
          if (*r == '"' && r > q + 1 && (r[1] == ',' || r[1] == '\0'))
            {
              value = json_unquote (q, r + 1 - q);
              if (!value)
                value = g_strndup (q, r + 1 - q);
              after = r + 1;
            }
        }
      if (!value)
        {
          const char *r = q;
          while (*r && *r != ',')
            r++;
          value = g_strchomp (g_strndup (q, r - q));
          after = r;
        }
      g_ptr_array_add (keys, g_strndup (key_start, key_end - key_start));
      g_ptr_array_add (values, value);
      found++;
      p = *after == ',' ? after + 1 : after;
    }
  return found;
}

static gboolean
parse_uint64 (const char *text, guint64 *out)
{
  if (!text)
    return FALSE;
  char *end = NULL;
  errno = 0;
  while (g_ascii_isspace (*text))
    text++;
  if (*text == '-')
    return FALSE;
  guint64 value = g_ascii_strtoull (text, &end, 10);
  if (errno || end == text)
    return FALSE;
  *out = value;
  return TRUE;
}

static double
parse_double (const char *text, double absent)
{
  if (!text)
    return absent;
  char *end = NULL;
  double value = g_ascii_strtod (text, &end);
  return end == text ? absent : value;
}

static void
fill_from_pairs (SfInfotext *infotext)
{
  const char *value;
  guint64 number;
  if (parse_uint64 (sf_infotext_lookup (infotext, "Steps"), &number) && number < G_MAXINT)
    infotext->steps = (int) number;
  infotext->sampler = g_strdup (sf_infotext_lookup (infotext, "Sampler"));
  infotext->scheduler = g_strdup (sf_infotext_lookup (infotext, "Schedule type"));
  infotext->cfg_scale = parse_double (sf_infotext_lookup (infotext, "CFG scale"), 0);
  infotext->has_seed = parse_uint64 (sf_infotext_lookup (infotext, "Seed"), &infotext->seed);
  if ((value = sf_infotext_lookup (infotext, "Size")))
    {
      int width = 0, height = 0;
      char tail = 0;
      if (sscanf (value, "%dx%d%c", &width, &height, &tail) == 2 && width > 0 && height > 0)
        {
          infotext->width_px = width;
          infotext->height_px = height;
        }
    }
  infotext->model_hash = g_strdup (sf_infotext_lookup (infotext, "Model hash"));
  infotext->model = g_strdup (sf_infotext_lookup (infotext, "Model"));
  infotext->denoising_strength = parse_double (sf_infotext_lookup (infotext, "Denoising strength"), -1);
  infotext->refiner = g_strdup (sf_infotext_lookup (infotext, "Refiner"));
  infotext->refiner_switch_at = parse_double (sf_infotext_lookup (infotext, "Refiner switch at"), -1);
}

SfInfotext *
sf_infotext_parse_a1111 (const char *text)
{
  SfInfotext *infotext = sf_infotext_new ();
  infotext->keys = g_ptr_array_new_with_free_func (g_free);
  infotext->values = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *stripped = g_strstrip (g_strdup (text ? text : ""));
  g_auto (GStrv) lines = g_strsplit (stripped, "\n", -1);
  guint count = g_strv_length (lines);
  /* The last line holds the parameters when at least three pairs parse. */
  if (count > 0)
    {
      g_autoptr (GPtrArray) keys = g_ptr_array_new_with_free_func (g_free);
      g_autoptr (GPtrArray) values = g_ptr_array_new_with_free_func (g_free);
      if (parse_parameter_line (lines[count - 1], keys, values) >= 3)
        {
          g_ptr_array_extend_and_steal (infotext->keys, g_steal_pointer (&keys));
          g_ptr_array_extend_and_steal (infotext->values, g_steal_pointer (&values));
          count--;
        }
    }
  GString *prompt = g_string_new (NULL);
  GString *negative = g_string_new (NULL);
  gboolean in_negative = FALSE;
  for (guint i = 0; i < count; i++)
    {
      char *line = g_strstrip (lines[i]);
      if (g_str_has_prefix (line, "Negative prompt:"))
        {
          in_negative = TRUE;
          line = g_strstrip (line + strlen ("Negative prompt:"));
        }
      GString *target = in_negative ? negative : prompt;
      if (target->len)
        g_string_append_c (target, '\n');
      g_string_append (target, line);
    }
  infotext->prompt = g_string_free (prompt, FALSE);
  infotext->negative_prompt = g_string_free (negative, FALSE);
  fill_from_pairs (infotext);
  return infotext;
}

/* A1111's quote(): values with a comma, colon or newline become JSON
 * strings (json.dumps with ensure_ascii=False). */
static void
append_quoted (GString *out, const char *value)
{
  if (!strpbrk (value, ",:\n"))
    {
      g_string_append (out, value);
      return;
    }
  g_string_append_c (out, '"');
  for (const char *p = value; *p; p++)
    {
      switch (*p)
        {
        case '"': g_string_append (out, "\\\""); break;
        case '\\': g_string_append (out, "\\\\"); break;
        case '\n': g_string_append (out, "\\n"); break;
        case '\r': g_string_append (out, "\\r"); break;
        case '\t': g_string_append (out, "\\t"); break;
        case '\b': g_string_append (out, "\\b"); break;
        case '\f': g_string_append (out, "\\f"); break;
        default:
          if ((guchar) *p < 0x20)
            g_string_append_printf (out, "\\u%04x", (guint) (guchar) *p);
          else
            g_string_append_c (out, *p);
        }
    }
  g_string_append_c (out, '"');
}

static void
append_pair (GString *out, const char *key, const char *value)
{
  if (!value)
    return;
  if (out->len)
    g_string_append (out, ", ");
  g_string_append (out, key);
  g_string_append (out, ": ");
  append_quoted (out, value);
}

static void
append_number (GString *out, const char *key, double value)
{
  g_autofree char *text = sf_infotext_format_number (value);
  append_pair (out, key, text);
}

char *
sf_infotext_format_a1111 (const SfInfotext *infotext, const char *const *extra_keys,
                          const char *const *extra_values)
{
  g_autoptr (GString) params = g_string_new (NULL);
  g_autofree char *steps = g_strdup_printf ("%d", infotext->steps);
  append_pair (params, "Steps", steps);
  append_pair (params, "Sampler", infotext->sampler);
  append_pair (params, "Schedule type", infotext->scheduler);
  append_number (params, "CFG scale", infotext->cfg_scale);
  if (infotext->has_seed)
    {
      g_autofree char *seed = g_strdup_printf ("%" G_GUINT64_FORMAT, infotext->seed);
      append_pair (params, "Seed", seed);
    }
  if (infotext->width_px > 0 && infotext->height_px > 0)
    {
      g_autofree char *size = g_strdup_printf ("%dx%d", infotext->width_px, infotext->height_px);
      append_pair (params, "Size", size);
    }
  append_pair (params, "Model hash", infotext->model_hash);
  append_pair (params, "Model", infotext->model);
  if (infotext->denoising_strength >= 0)
    append_number (params, "Denoising strength", infotext->denoising_strength);
  append_pair (params, "Refiner", infotext->refiner);
  if (infotext->refiner && infotext->refiner_switch_at >= 0)
    append_number (params, "Refiner switch at", infotext->refiner_switch_at);
  for (guint i = 0; extra_keys && extra_values && extra_keys[i] && extra_values[i]; i++)
    append_pair (params, extra_keys[i], extra_values[i]);

  GString *text = g_string_new (infotext->prompt ? infotext->prompt : "");
  if (infotext->negative_prompt && *infotext->negative_prompt)
    g_string_append_printf (text, "\nNegative prompt: %s", infotext->negative_prompt);
  g_string_append_c (text, '\n');
  g_string_append_len (text, params->str, params->len);
  /* Python's str.strip(). */
  char *result = g_string_free (text, FALSE);
  return g_strstrip (result);
}

SfInfotext *
sf_infotext_from_png_text (GHashTable *text_chunks, GError **error)
{
  const char *parameters = g_hash_table_lookup (text_chunks, "parameters");
  if (parameters)
    return sf_infotext_parse_a1111 (parameters);
  const char *prompt = g_hash_table_lookup (text_chunks, "prompt");
  const char *workflow = g_hash_table_lookup (text_chunks, "workflow");
  if (prompt || workflow)
    {
      g_autoptr (GError) local_error = NULL;
      SfInfotext *infotext = prompt ? sf_infotext_parse_comfyui (prompt, &local_error) : NULL;
      if (!infotext && workflow)
        {
          g_clear_error (&local_error);
          infotext = sf_infotext_parse_comfyui_workflow (workflow, &local_error);
        }
      if (!infotext)
        g_set_error (error, SF_PNG_TEXT_ERROR, SF_PNG_TEXT_ERROR_INVALID,
                     "unreadable ComfyUI “%s” text chunk: %s", prompt ? "prompt" : "workflow",
                     local_error->message);
      return infotext;
    }
  g_set_error (error, SF_PNG_TEXT_ERROR, SF_PNG_TEXT_ERROR_INVALID,
               "no generation parameters (neither an A1111 “parameters” nor a ComfyUI “prompt” "
               "text chunk)");
  return NULL;
}
