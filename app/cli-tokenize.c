/* sfumato tokenize --prompt TEXT [--json] [--model PATH]: the 77-token
 * windows both SDXL text encoders receive, with A1111 weights. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>

#include "tokenizer.h"

/* The shortest decimal that reads back as the same float. */
static void
print_float (GString *out, float value)
{
  char text[32];
  for (int digits = 1; digits <= 9; digits++)
    {
      g_snprintf (text, sizeof text, "%.*g", digits, (double) value);
      if (strtof (text, NULL) == value)
        break;
    }
  g_string_append (out, text);
}

static void
append_rows (GString *out, const char *name, const SfTokenChunks *chunks, const int32_t *ids,
             const float *weights)
{
  g_string_append_printf (out, "\"%s\": [", name);
  for (guint c = 0; c < chunks->n_chunks; c++)
    {
      g_string_append (out, c ? ", [" : "[");
      for (guint i = 0; i < SF_CLIP_WINDOW; i++)
        {
          if (i)
            g_string_append (out, ", ");
          if (ids)
            g_string_append_printf (out, "%d", ids[c * SF_CLIP_WINDOW + i]);
          else
            print_float (out, weights[c * SF_CLIP_WINDOW + i]);
        }
      g_string_append_c (out, ']');
    }
  g_string_append_c (out, ']');
}

static void
print_json (const SfTokenChunks *chunks)
{
  g_autoptr (GString) out = g_string_new ("{");
  append_rows (out, "ids", chunks, chunks->ids, NULL);
  g_string_append (out, ", ");
  append_rows (out, "ids_g", chunks, chunks->ids_g, NULL);
  g_string_append (out, ", ");
  append_rows (out, "weights", chunks, NULL, chunks->weights);
  g_string_append (out, "}\n");
  fputs (out->str, stdout);
}

static void
print_table (const SfTokenizer *tokenizer, const SfTokenChunks *chunks)
{
  for (guint c = 0; c < chunks->n_chunks; c++)
    {
      const int32_t *ids = chunks->ids + c * SF_CLIP_WINDOW;
      const float *weights = chunks->weights + c * SF_CLIP_WINDOW;
      guint end = 1;
      while (ids[end] != SF_CLIP_EOS)
        end++;
      printf ("chunk %u of %u, prompt tokens: %u\n", c + 1, chunks->n_chunks, end - 1);
      printf ("  %4s  %6s  %7s  %s\n", "pos", "id", "weight", "token");
      for (guint i = 0; i <= end; i++)
        {
          g_autofree char *text = sf_tokenizer_get_text (tokenizer, ids[i]);
          printf ("  %4u  %6d  %7.4f  %s\n", i, ids[i], weights[i], text);
        }
      if (end + 1 < SF_CLIP_WINDOW)
        printf ("  %u × padding: %d (CLIP ViT-L), 0 (bigG)\n", SF_CLIP_WINDOW - 1 - end, SF_CLIP_EOS);
    }
}

int
sf_cli_tokenize (int argc, char **argv)
{
  g_autofree char *prompt = NULL, *model = NULL;
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "prompt", 0, 0, G_OPTION_ARG_STRING, &prompt, "The prompt (A1111 weighting syntax)", "TEXT" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json,
      "Print {\"ids\", \"ids_g\", \"weights\"}, one row per chunk", NULL },
    { "model", 0, 0, G_OPTION_ARG_FILENAME, &model, "A diffusers model whose tokenizer/ to use", "PATH" },
    { NULL },
  };
  if (!sf_cli_parse ("tokenize", "show the tokens of a prompt", entries, &argc, &argv))
    return 2;
  if (!prompt)
    return sf_cli_fail ("tokenize", "give the prompt with --prompt TEXT");
  g_autoptr (GError) error = NULL;
  g_autoptr (SfTokenizer) tokenizer = sf_tokenizer_find (model, &error);
  if (!tokenizer)
    return sf_cli_fail ("tokenize", "%s", error->message);
  g_autoptr (SfTokenChunks) chunks = sf_tokenizer_encode_prompt (tokenizer, prompt);
  if (json)
    print_json (chunks);
  else
    print_table (tokenizer, chunks);
  return 0;
}
