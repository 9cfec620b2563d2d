#include "prompt-editor.h"

#include <glib/gi18n.h>
#include <string.h>

#include "engine.h"
#include "prompt-weight.h"

/* How long the text must be still before it is counted and "changed" is
 * emitted: typing stays smooth, and the count follows within a blink. */
#define DEBOUNCE_MS 150

struct _SfPromptEditor {
  GtkWidget parent_instance;
  GtkWidget *box;
  GtkWidget *view;
  GtkTextBuffer *buffer;
  GtkWidget *placeholder;
  GtkWidget *count_label;
  SfPromptCounter counter;
  gpointer counter_data;
  guint debounce_id;
  guint first_count_id;       /* the count of a new editor, unless a counter is set first */
  gboolean edited;            /* changed by a person since the last "changed" */
  guint count_serial;         /* the newest count asked for; older answers are dropped */
  GCancellable *cancellable;
};

G_DEFINE_FINAL_TYPE (SfPromptEditor, sf_prompt_editor, GTK_TYPE_WIDGET)

enum { SIGNAL_CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

/* The tag of each span kind, in SfPromptSpanKind order. */
static const char *const TAG_NAMES[] = {
  "bracket", "weight", "escape", "break", "unsupported", "emphasis", "deemphasis",
};

static int *
count_with_engine (const char *prompt, guint *n_chunks, gpointer data)
{
  return sf_engine_count_prompt_tokens (prompt, n_chunks, NULL);
}

/* ---- highlighting ---------------------------------------------------- */

static void
create_tags (GtkTextBuffer *buffer)
{
  gtk_text_buffer_create_tag (buffer, "bracket", "foreground", "#77767b", "weight", PANGO_WEIGHT_BOLD, NULL);
  gtk_text_buffer_create_tag (buffer, "weight", "foreground", "#1c71d8", NULL);
  gtk_text_buffer_create_tag (buffer, "escape", "foreground", "#9141ac", NULL);
  gtk_text_buffer_create_tag (buffer, "break", "foreground", "#e66100", "weight", PANGO_WEIGHT_BOLD, NULL);
  gtk_text_buffer_create_tag (buffer, "unsupported", "foreground", "#c01c28", "strikethrough", TRUE,
                              "underline", PANGO_UNDERLINE_ERROR, NULL);
  gtk_text_buffer_create_tag (buffer, "emphasis", "weight", PANGO_WEIGHT_SEMIBOLD, NULL);
  gtk_text_buffer_create_tag (buffer, "deemphasis", "style", PANGO_STYLE_ITALIC, NULL);
}

static void
highlight (SfPromptEditor *self)
{
  GtkTextIter start, end;
  gtk_text_buffer_get_bounds (self->buffer, &start, &end);
  for (gsize i = 0; i < G_N_ELEMENTS (TAG_NAMES); i++)
    gtk_text_buffer_remove_tag_by_name (self->buffer, TAG_NAMES[i], &start, &end);
  g_autofree char *text = gtk_text_buffer_get_text (self->buffer, &start, &end, TRUE);
  g_autoptr (GArray) spans = sf_prompt_spans (text);
  for (guint i = 0; i < spans->len; i++)
    {
      const SfPromptSpan *span = &g_array_index (spans, SfPromptSpan, i);
      GtkTextIter from, to;
      gtk_text_buffer_get_iter_at_offset (self->buffer, &from, (int) g_utf8_pointer_to_offset (text, text + span->start));
      gtk_text_buffer_get_iter_at_offset (self->buffer, &to, (int) g_utf8_pointer_to_offset (text, text + span->end));
      gtk_text_buffer_apply_tag_by_name (self->buffer, TAG_NAMES[span->kind], &from, &to);
    }
}

/* ---- counting ---------------------------------------------------------- */

typedef struct {
  SfPromptCounter counter;
  gpointer data;
  char *text;
  guint serial;
  int *counts;
  guint n_chunks;
} Count;

static void
count_free (gpointer data)
{
  Count *count = data;
  g_free (count->text);
  g_free (count->counts);
  g_free (count);
}

/* The counter may load the CLIP vocabulary the first time: off the main
 * thread, so the first keystroke does not stall. */
static void
count_in_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  Count *count = data;
  count->counts = count->counter (count->text, &count->n_chunks, count->data);
  g_task_return_boolean (task, TRUE);
}

static void
on_counted (GObject *source, GAsyncResult *result, gpointer user_data)
{
  SfPromptEditor *self = SF_PROMPT_EDITOR (source);
  Count *count = g_task_get_task_data (G_TASK (result));
  if (!g_task_propagate_boolean (G_TASK (result), NULL) || count->serial != self->count_serial)
    return;
  g_autofree char *label = sf_prompt_format_count (count->counts, count->n_chunks);
  gtk_label_set_text (GTK_LABEL (self->count_label), label);
  if (count->counts)
    gtk_widget_set_tooltip_text (self->count_label,
                                 count->n_chunks > 1
                                   ? _("Chunks of 75 tokens, and the tokens in the last one; each chunk is "
                                       "encoded on its own (BREAK starts a new one)")
                                   : _("Prompt tokens, of the 75 a chunk holds"));
}

static void
start_count (SfPromptEditor *self)
{
  Count *count = g_new0 (Count, 1);
  count->counter = self->counter;
  count->data = self->counter_data;
  count->text = sf_prompt_editor_get_text (self);
  count->serial = ++self->count_serial;
  g_autoptr (GTask) task = g_task_new (self, self->cancellable, on_counted, NULL);
  g_task_set_task_data (task, count, count_free);
  g_task_set_return_on_cancel (task, FALSE);
  g_task_run_in_thread (task, count_in_thread);
}

static gboolean
on_first_count (gpointer data)
{
  SfPromptEditor *self = data;
  self->first_count_id = 0;
  start_count (self);
  return G_SOURCE_REMOVE;
}

static gboolean
on_debounced (gpointer data)
{
  SfPromptEditor *self = data;
  self->debounce_id = 0;
  start_count (self);
  if (self->edited)
    {
      self->edited = FALSE;
      g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
    }
  return G_SOURCE_REMOVE;
}

static void
on_buffer_changed (SfPromptEditor *self)
{
  highlight (self);
  self->edited = TRUE;
  gtk_widget_set_visible (self->placeholder, gtk_text_buffer_get_char_count (self->buffer) == 0);
  g_clear_handle_id (&self->debounce_id, g_source_remove);
  self->debounce_id = g_timeout_add (DEBOUNCE_MS, on_debounced, self);
}

/* ---- weights ----------------------------------------------------------- */

void
sf_prompt_editor_adjust_weight (SfPromptEditor *self, double delta)
{
  g_return_if_fail (SF_IS_PROMPT_EDITOR (self));
  GtkTextIter start_iter, end_iter;
  gtk_text_buffer_get_selection_bounds (self->buffer, &start_iter, &end_iter);
  g_autofree char *text = sf_prompt_editor_get_text (self);
  gsize start = (gsize) (g_utf8_offset_to_pointer (text, gtk_text_iter_get_offset (&start_iter)) - text);
  gsize end = (gsize) (g_utf8_offset_to_pointer (text, gtk_text_iter_get_offset (&end_iter)) - text);
  g_autofree char *edited = sf_prompt_weight_adjust (text, &start, &end, delta);
  if (!edited)
    return;

  /* Replace only what changed, as one undoable step, so the rest of the
   * buffer (and the view's scroll position) stays as it was. */
  gsize length = strlen (text), edited_length = strlen (edited);
  gsize prefix = 0;
  while (prefix < length && prefix < edited_length && text[prefix] == edited[prefix])
    prefix++;
  while (prefix > 0 && (text[prefix] & 0xc0) == 0x80)
    prefix--;
  gsize suffix = 0;
  while (suffix < length - prefix && suffix < edited_length - prefix
         && text[length - 1 - suffix] == edited[edited_length - 1 - suffix])
    suffix++;
  while (suffix > 0 && (text[length - suffix] & 0xc0) == 0x80)
    suffix--;
  GtkTextIter from, to;
  gtk_text_buffer_begin_user_action (self->buffer);
  gtk_text_buffer_get_iter_at_offset (self->buffer, &from, (int) g_utf8_pointer_to_offset (text, text + prefix));
  gtk_text_buffer_get_iter_at_offset (self->buffer, &to,
                                      (int) g_utf8_pointer_to_offset (text, text + length - suffix));
  gtk_text_buffer_delete (self->buffer, &from, &to);
  gtk_text_buffer_insert (self->buffer, &from, edited + prefix, (int) (edited_length - suffix - prefix));
  gtk_text_buffer_end_user_action (self->buffer);

  GtkTextIter select_start, select_end;
  gtk_text_buffer_get_iter_at_offset (self->buffer, &select_start, (int) g_utf8_pointer_to_offset (edited, edited + start));
  gtk_text_buffer_get_iter_at_offset (self->buffer, &select_end, (int) g_utf8_pointer_to_offset (edited, edited + end));
  gtk_text_buffer_select_range (self->buffer, &select_start, &select_end);
}

static gboolean
on_key_pressed (GtkEventControllerKey *controller, guint keyval, guint keycode, GdkModifierType state,
                SfPromptEditor *self)
{
  if ((state & gtk_accelerator_get_default_mod_mask ()) != GDK_CONTROL_MASK)
    return FALSE;
  if (keyval == GDK_KEY_Up || keyval == GDK_KEY_KP_Up)
    sf_prompt_editor_adjust_weight (self, SF_PROMPT_WEIGHT_STEP);
  else if (keyval == GDK_KEY_Down || keyval == GDK_KEY_KP_Down)
    sf_prompt_editor_adjust_weight (self, -SF_PROMPT_WEIGHT_STEP);
  else
    return FALSE;
  return TRUE;
}

/* ---- the widget ---------------------------------------------------------- */

char *
sf_prompt_editor_get_text (SfPromptEditor *self)
{
  g_return_val_if_fail (SF_IS_PROMPT_EDITOR (self), NULL);
  GtkTextIter start, end;
  gtk_text_buffer_get_bounds (self->buffer, &start, &end);
  return gtk_text_buffer_get_text (self->buffer, &start, &end, TRUE);
}

void
sf_prompt_editor_set_text (SfPromptEditor *self, const char *text)
{
  g_return_if_fail (SF_IS_PROMPT_EDITOR (self));
  gtk_text_buffer_set_text (self->buffer, text ? text : "", -1);
  /* Recalled or restored text is counted but not announced: "changed"
   * drives auto-regenerate, which is for what a person writes. */
  self->edited = FALSE;
}

const char *
sf_prompt_editor_get_count_text (SfPromptEditor *self)
{
  g_return_val_if_fail (SF_IS_PROMPT_EDITOR (self), NULL);
  return gtk_label_get_text (GTK_LABEL (self->count_label));
}

void
sf_prompt_editor_set_counter (SfPromptEditor *self, SfPromptCounter counter, gpointer data)
{
  g_return_if_fail (SF_IS_PROMPT_EDITOR (self));
  self->counter = counter ? counter : count_with_engine;
  self->counter_data = counter ? data : NULL;
  g_clear_handle_id (&self->first_count_id, g_source_remove);
  start_count (self);
}

GtkTextView *
sf_prompt_editor_get_view (SfPromptEditor *self)
{
  g_return_val_if_fail (SF_IS_PROMPT_EDITOR (self), NULL);
  return GTK_TEXT_VIEW (self->view);
}

static void
sf_prompt_editor_dispose (GObject *object)
{
  SfPromptEditor *self = SF_PROMPT_EDITOR (object);
  g_clear_handle_id (&self->debounce_id, g_source_remove);
  g_clear_handle_id (&self->first_count_id, g_source_remove);
  if (self->cancellable)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->buffer)
    g_signal_handlers_disconnect_by_data (self->buffer, self);
  g_clear_pointer (&self->box, gtk_widget_unparent);
  g_clear_object (&self->buffer);
  G_OBJECT_CLASS (sf_prompt_editor_parent_class)->dispose (object);
}

static void
sf_prompt_editor_class_init (SfPromptEditorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  object_class->dispose = sf_prompt_editor_dispose;
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "sf-prompt-editor");
  signals[SIGNAL_CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                          NULL, NULL, G_TYPE_NONE, 0);
}

static void
sf_prompt_editor_init (SfPromptEditor *self)
{
  self->counter = count_with_engine;
  self->cancellable = g_cancellable_new ();
  self->buffer = gtk_text_buffer_new (NULL);
  gtk_text_buffer_set_enable_undo (self->buffer, TRUE);
  create_tags (self->buffer);

  self->box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  gtk_widget_set_parent (self->box, GTK_WIDGET (self));

  self->view = gtk_text_view_new_with_buffer (self->buffer);
  gtk_text_view_set_wrap_mode (GTK_TEXT_VIEW (self->view), GTK_WRAP_WORD_CHAR);
  gtk_text_view_set_accepts_tab (GTK_TEXT_VIEW (self->view), FALSE);
  gtk_text_view_set_top_margin (GTK_TEXT_VIEW (self->view), 6);
  gtk_text_view_set_bottom_margin (GTK_TEXT_VIEW (self->view), 6);
  gtk_text_view_set_left_margin (GTK_TEXT_VIEW (self->view), 6);
  gtk_text_view_set_right_margin (GTK_TEXT_VIEW (self->view), 6);
  /* Capture phase: the text view binds ctrl+up/down to paragraph moves. */
  GtkEventController *keys = gtk_event_controller_key_new ();
  gtk_event_controller_set_propagation_phase (keys, GTK_PHASE_CAPTURE);
  g_signal_connect (keys, "key-pressed", G_CALLBACK (on_key_pressed), self);
  gtk_widget_add_controller (self->view, keys);

  self->placeholder = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (self->placeholder), 0);
  gtk_label_set_wrap (GTK_LABEL (self->placeholder), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (self->placeholder), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_yalign (GTK_LABEL (self->placeholder), 0);
  gtk_widget_set_margin_start (self->placeholder, 8);
  gtk_widget_set_margin_top (self->placeholder, 6);
  gtk_widget_set_can_target (self->placeholder, FALSE);
  gtk_widget_add_css_class (self->placeholder, "dim-label");

  GtkWidget *overlay = gtk_overlay_new ();
  GtkWidget *scrolled = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_min_content_height (GTK_SCROLLED_WINDOW (scrolled), 72);
  gtk_scrolled_window_set_max_content_height (GTK_SCROLLED_WINDOW (scrolled), 240);
  gtk_scrolled_window_set_propagate_natural_height (GTK_SCROLLED_WINDOW (scrolled), TRUE);
  gtk_scrolled_window_set_has_frame (GTK_SCROLLED_WINDOW (scrolled), TRUE);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), self->view);
  gtk_overlay_set_child (GTK_OVERLAY (overlay), scrolled);
  gtk_overlay_add_overlay (GTK_OVERLAY (overlay), self->placeholder);
  gtk_box_append (GTK_BOX (self->box), overlay);

  self->count_label = gtk_label_new ("");
  gtk_label_set_xalign (GTK_LABEL (self->count_label), 1);
  gtk_widget_add_css_class (self->count_label, "dim-label");
  gtk_widget_add_css_class (self->count_label, "caption");
  gtk_widget_add_css_class (self->count_label, "numeric");
  gtk_box_append (GTK_BOX (self->box), self->count_label);

  g_signal_connect_swapped (self->buffer, "changed", G_CALLBACK (on_buffer_changed), self);
}

GtkWidget *
sf_prompt_editor_new (const char *placeholder)
{
  SfPromptEditor *self = g_object_new (SF_TYPE_PROMPT_EDITOR, NULL);
  gtk_label_set_text (GTK_LABEL (self->placeholder), placeholder ? placeholder : "");
  /* Counted from the main loop, so a counter set right after creation
   * (tests) is the only one that runs. */
  self->first_count_id = g_idle_add (on_first_count, self);
  return GTK_WIDGET (self);
}
