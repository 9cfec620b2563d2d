/* The string side of the prompt editor, with no GTK: changing the weight
 * of a word or selection as A1111's ctrl+up / ctrl+down does
 * (javascript/edit-attention.js), the spans of the weighting syntax to
 * highlight, and the token count label.
 *
 * Offsets are in bytes of the UTF-8 text. Every character the logic looks
 * for is ASCII, so scanning bytes never splits a multi-byte character,
 * and the editor converts to and from character offsets. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The step A1111 uses for (text:w) groups; <name:w> extra-network groups
 * (LoRA) step by half of it (A1111's keyedit_precision_extra, 0.05). */
#define SF_PROMPT_WEIGHT_STEP 0.1

/* Changes the weight of the text between *@start and *@end (a selection;
 * equal for a bare cursor) by @delta, as A1111 does:
 *  - with no selection, selects the enclosing <…>, (…) or […] group the
 *    cursor is in (up to the last colon when it holds ":weight"), else
 *    the word under the cursor (A1111's word delimiters and whitespace);
 *  - text already in (…) or […] without a weight (old-style emphasis,
 *    nesting counted) becomes (text:w), w rounded to the step;
 *  - other text becomes (text:1.0), trailing spaces left outside;
 *  - then w += @delta, printed shortest after rounding to 12 significant
 *    digits, with ".0" on whole numbers ("1.1", "0.9", "2.0");
 *  - when a (…) weight comes back to exactly 1, the parentheses and the
 *    ":1.0" go.
 * On return *@start and *@end select the same text (without brackets or
 * weight). Returns: (transfer full) the new text, or NULL when nothing
 * changes (no word under the cursor, a weight that is not a number). */
char *sf_prompt_weight_adjust (const char *text, gsize *start, gsize *end, double delta);

/* The weight as edit-attention writes it: rounded to 12 significant
 * digits, the shortest decimal that reads back, ".0" on whole numbers.
 * Returns: (transfer full). */
char *sf_prompt_weight_format (double weight);

typedef enum {
  SF_PROMPT_SPAN_BRACKET,      /* ( ) [ ] that weight text */
  SF_PROMPT_SPAN_WEIGHT,       /* ":1.2" before a closing ) */
  SF_PROMPT_SPAN_ESCAPE,       /* \( \) \[ \] \\ and a lone \ */
  SF_PROMPT_SPAN_BREAK,        /* BREAK as a whole word */
  SF_PROMPT_SPAN_UNSUPPORTED,  /* <lora:…>, <hypernet:…>: extra networks Sfumato does not load */
  SF_PROMPT_SPAN_EMPHASIS,     /* text weighted above 1 */
  SF_PROMPT_SPAN_DEEMPHASIS,   /* text weighted below 1 */
} SfPromptSpanKind;

typedef struct {
  SfPromptSpanKind kind;
  gsize start, end;            /* bytes, end exclusive */
  double weight;               /* the text's weight (emphasis spans) */
} SfPromptSpan;

/* The spans of @text in order of @start, not overlapping. Brackets pair
 * as A1111 pairs them (prompt.h): an unmatched ( or [ weights the text up
 * to the end, an unmatched ) or ] is plain text (no span).
 * Returns: (transfer full) (element-type SfPromptSpan). */
GArray *sf_prompt_spans (const char *text);

/* The count label: "42/75" for one chunk, "2 chunks · 12/75" (the last
 * chunk's count) for more. @counts NULL (no counter): "". Returns:
 * (transfer full). */
char *sf_prompt_format_count (const int *counts, guint n_chunks);

G_END_DECLS
