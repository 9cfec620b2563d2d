/* Prompt weighting, AUTOMATIC1111's syntax and two ways to apply it.
 *
 * Syntax (A1111 modules/prompt_parser.py, parse_prompt_attention):
 *   (text)        weight × 1.1            ((text)) × 1.21, nesting multiplies
 *   [text]        weight ÷ 1.1
 *   (text:1.5)    weight × 1.5; negative weights allowed, spaces around the
 *                 number too: (text: -0.5 )
 *   \( \) \[ \] \\   literal characters; a lone \ is dropped
 *   BREAK         (whole word, in capitals) ends the 75-token chunk
 * Unbalanced brackets behave as in A1111: an unmatched ( or [ applies from
 * where it opened to the end, an unmatched ) or ] is literal text. Weights
 * multiply in A1111's order (inner brackets first), in double precision,
 * and neighbouring runs of equal weight merge. Where A1111 raises on a
 * weight that is not a number ("(a:1.2.3)"), the ":1.2.3" is kept as text.
 *
 * Application to the encoder's hidden states z [tokens, dim], one
 * 77-token window at a time, per text encoder:
 *   A1111 (default):  z' = z ⊙ w  (each token's row scaled by its weight),
 *                     then z'' = z' · mean(z) / mean(z')  — the means over
 *                     all elements of the window, so the overall mean is
 *                     restored (sd_hijack_clip.py, "Original" emphasis).
 *   ComfyUI:          z' = e + w · (z − e), e = the hidden states of the
 *                     empty prompt at the same position (sd1_clip.py).
 * Both leave weight-1 tokens' rows as the formula gives; neither touches
 * the pooled output. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  char *text;
  double weight;
} SfPromptRun;

/* The runs of @prompt, at least one; BREAK is a run ("BREAK", -1).
 * Returns: (transfer full) (element-type SfPromptRun): g_array_unref
 * frees the texts too. */
GArray *sf_prompt_parse (const char *prompt);

/* A1111's test: text "BREAK" with weight exactly -1 (a BREAK inside
 * brackets gets its weight multiplied and becomes ordinary text). */
gboolean sf_prompt_run_is_break (const SfPromptRun *run);

typedef enum {
  SF_PROMPT_WEIGHTING_A1111,
  SF_PROMPT_WEIGHTING_COMFY,
} SfPromptWeighting;

/* Row t of @hidden starts at t * @row_stride floats and holds @dim
 * values (a stride wider than @dim weights one encoder's channels of a
 * concatenated [tokens, 768 + 1280] array). If mean(z') is 0 the rescale
 * is skipped rather than dividing by zero. */
void sf_prompt_weight_a1111 (float *hidden, gsize n_tokens, gsize dim, gsize row_stride,
                             const float *weights);
/* @empty has the same layout as @hidden. */
void sf_prompt_weight_comfy (float *hidden, const float *empty, gsize n_tokens, gsize dim,
                             gsize row_stride, const float *weights);
/* One of the two by @rule (@empty is only read by the ComfyUI rule). */
void sf_prompt_weight (SfPromptWeighting rule, float *hidden, const float *empty, gsize n_tokens,
                       gsize dim, gsize row_stride, const float *weights);

G_END_DECLS
