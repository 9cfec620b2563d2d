/* libFuzzer target: the A1111 attention parser on arbitrary bytes. It must
 * not crash or hang, and its output is bounded by its input: at least one
 * run, valid UTF-8, no more text than came in. */
#include <stdint.h>
#include <string.h>

#include "prompt.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (size > 1 << 16)
    return 0; /* the parser is quadratic in bracket count, like A1111's */
  g_autofree char *text = g_malloc (size + 1);
  if (size)
    memcpy (text, data, size);
  text[size] = '\0';
  g_autofree char *valid = g_utf8_make_valid (text, -1);
  g_autoptr (GArray) runs = sf_prompt_parse (text);
  g_assert (runs->len >= 1);
  gsize total = 0;
  for (guint i = 0; i < runs->len; i++)
    {
      const SfPromptRun *run = &g_array_index (runs, SfPromptRun, i);
      g_assert (g_utf8_validate (run->text, -1, NULL));
      total += strlen (run->text);
      if (i > 0)
        g_assert (run->weight != g_array_index (runs, SfPromptRun, i - 1).weight);
    }
  g_assert (total <= strlen (valid));
  return 0;
}
