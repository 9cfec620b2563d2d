/* A memory-bounded undo stack. Each step is a list of changes; a change
 * knows how to undo and redo itself against a context (the document) and
 * how many bytes it keeps alive. When the steps together keep more than
 * the limit, the oldest steps are dropped (the newest always stays). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct SfUndoChange SfUndoChange;

typedef struct {
  void (*undo) (SfUndoChange *change, gpointer context);
  void (*redo) (SfUndoChange *change, gpointer context);
  void (*free) (SfUndoChange *change);
} SfUndoChangeClass;

/* Embed as the first member of a change struct. */
struct SfUndoChange {
  const SfUndoChangeClass *klass;
  gsize bytes;
};

#define SF_UNDO_DEFAULT_LIMIT ((gsize) 1 << 30)

typedef struct SfUndoStack SfUndoStack;

SfUndoStack *sf_undo_stack_new (gsize limit_bytes);
void sf_undo_stack_free (SfUndoStack *stack);

void sf_undo_stack_set_limit (SfUndoStack *stack, gsize limit_bytes);
gsize sf_undo_stack_get_limit (const SfUndoStack *stack);
/* Bytes kept by all undo and redo steps. */
gsize sf_undo_stack_get_bytes (const SfUndoStack *stack);
guint sf_undo_stack_get_undo_count (const SfUndoStack *stack);
guint sf_undo_stack_get_redo_count (const SfUndoStack *stack);
const char *sf_undo_stack_get_undo_label (const SfUndoStack *stack);
const char *sf_undo_stack_get_redo_label (const SfUndoStack *stack);

/* Opens a step (the redo steps are dropped). @merge_key, when not NULL,
 * lets sf_undo_stack_find_mergeable find this step later. */
void sf_undo_stack_open (SfUndoStack *stack, const char *label, const char *merge_key);
gboolean sf_undo_stack_is_open (const SfUndoStack *stack);
/* Appends @change (transfer full) to the open step; changes are undone
 * last-first. */
void sf_undo_stack_add (SfUndoStack *stack, SfUndoChange *change);
/* Closes the open step; an empty one is discarded. Then drops old steps
 * past the limit. */
void sf_undo_stack_close (SfUndoStack *stack);

/* When the newest step is closed, has @merge_key, was made less than
 * @max_age_us ago and there is nothing to redo: its only change, whose
 * new state the caller may update instead of adding a step (a slider drag
 * becomes one step). Else NULL. */
SfUndoChange *sf_undo_stack_find_mergeable (SfUndoStack *stack, const char *merge_key,
                                            gint64 max_age_us);

/* Undo or redo the newest step; FALSE when there is none. */
gboolean sf_undo_stack_undo (SfUndoStack *stack, gpointer context);
gboolean sf_undo_stack_redo (SfUndoStack *stack, gpointer context);

/* A number naming the current state: it changes with every step made,
 * undone or redone, and comes back when the same state does (the
 * document is unmodified when it equals the serial saved). */
guint64 sf_undo_stack_get_state (const SfUndoStack *stack);

/* Drops every step. */
void sf_undo_stack_clear (SfUndoStack *stack);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SfUndoStack, sf_undo_stack_free)

G_END_DECLS
