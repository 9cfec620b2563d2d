/* A prompt editor: a GtkTextView that highlights A1111's weighting
 * syntax ((word), (word:1.2), [word], \( \), BREAK, and <lora:...>
 * marked as unsupported), a label with the token count of each 75-token
 * chunk ("42/75", "2 chunks · 12/75"), and ctrl+up / ctrl+down to change
 * the weight of the word or selection the way A1111's edit-attention
 * does (the string logic is in prompt-weight.h).
 *
 * Signal: "changed" () when a person's edit (typing, pasting, ctrl+up/
 * down) has been still for ~150 ms; text put in with
 * sf_prompt_editor_set_text() is counted but not announced. The count is
 * refreshed after every change. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define SF_TYPE_PROMPT_EDITOR (sf_prompt_editor_get_type ())
G_DECLARE_FINAL_TYPE (SfPromptEditor, sf_prompt_editor, SF, PROMPT_EDITOR, GtkWidget)

/* Counts the tokens of @prompt per 75-token chunk, like
 * sf_engine_count_prompt_tokens(): returns (transfer full) an array of
 * *@n_chunks counts (g_free), or NULL when counting is not possible. */
typedef int *(*SfPromptCounter) (const char *prompt, guint *n_chunks, gpointer data);

GtkWidget *sf_prompt_editor_new (const char *placeholder);

/* Returns: (transfer full) the whole text. */
char *sf_prompt_editor_get_text (SfPromptEditor *editor);
void sf_prompt_editor_set_text (SfPromptEditor *editor, const char *text);

/* What ctrl+up (+0.1) and ctrl+down (-0.1) do, on the selection or the
 * word (or enclosing weighted group) under the cursor. */
void sf_prompt_editor_adjust_weight (SfPromptEditor *editor, double delta);

/* The count label's text, for tests. Returns: (transfer none). */
const char *sf_prompt_editor_get_count_text (SfPromptEditor *editor);

/* Replaces the token counter (NULL: the engine's
 * sf_engine_count_prompt_tokens, the default) and recounts. */
void sf_prompt_editor_set_counter (SfPromptEditor *editor, SfPromptCounter counter, gpointer data);

/* Returns: (transfer none). */
GtkTextView *sf_prompt_editor_get_view (SfPromptEditor *editor);

G_END_DECLS
