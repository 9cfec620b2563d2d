/* libFuzzer target: the CLIP text cleanup (ftfy's fixes, html.unescape,
 * whitespace, lower, split) on arbitrary bytes. It must not crash or hang,
 * and its output is bounded by its input: valid UTF-8, at most three
 * times the bytes that came in (an invalid byte becomes U+FFFD, three
 * bytes; NFC expands by at most three times; no other fix grows text). */
#include <stdint.h>
#include <string.h>

#include "clip_fix.h"
#include "clip_text.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (size > 1 << 16)
    return 0;
  g_autofree char *text = g_malloc (size + 1);
  if (size)
    memcpy (text, data, size);
  text[size] = '\0';
  gsize length = strlen (text);
  g_autofree char *fixed = sf_clip_fix_text (text);
  g_assert (g_utf8_validate (fixed, -1, NULL));
  g_assert (strlen (fixed) <= 3 * length);
  g_autofree char *cleaned = sf_clip_clean (text);
  g_assert (g_utf8_validate (cleaned, -1, NULL));
  g_autoptr (GPtrArray) pieces = sf_clip_split (cleaned);
  gsize total = 0;
  for (guint i = 0; i < pieces->len; i++)
    total += strlen (pieces->pdata[i]);
  g_assert (total <= strlen (cleaned));
  return 0;
}
