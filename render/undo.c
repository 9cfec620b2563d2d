#include "undo.h"

typedef struct {
  char *label;
  char *merge_key;
  guint64 serial;
  gint64 time_us;
  gsize bytes;
  GPtrArray *changes; /* SfUndoChange, owned */
} Step;

struct SfUndoStack {
  gsize limit;
  gsize bytes;
  GQueue undo; /* Step; head = oldest */
  GQueue redo; /* Step; head = next to redo */
  Step *open;
  guint64 next_serial;
  guint64 base_serial; /* the state before the oldest step kept */
};

static void
free_change (gpointer data)
{
  SfUndoChange *change = data;
  change->klass->free (change);
}

static void
step_free (Step *step)
{
  g_ptr_array_unref (step->changes);
  g_free (step->label);
  g_free (step->merge_key);
  g_free (step);
}

SfUndoStack *
sf_undo_stack_new (gsize limit_bytes)
{
  SfUndoStack *stack = g_new0 (SfUndoStack, 1);
  stack->limit = limit_bytes;
  stack->next_serial = 1;
  g_queue_init (&stack->undo);
  g_queue_init (&stack->redo);
  return stack;
}

static void
clear_queue (SfUndoStack *stack, GQueue *queue)
{
  Step *step;
  while ((step = g_queue_pop_head (queue)))
    {
      stack->bytes -= step->bytes;
      step_free (step);
    }
}

void
sf_undo_stack_clear (SfUndoStack *stack)
{
  clear_queue (stack, &stack->undo);
  clear_queue (stack, &stack->redo);
  if (stack->open)
    {
      step_free (stack->open);
      stack->open = NULL;
    }
  stack->bytes = 0;
  stack->base_serial = stack->next_serial++;
}

void
sf_undo_stack_free (SfUndoStack *stack)
{
  if (!stack)
    return;
  sf_undo_stack_clear (stack);
  g_free (stack);
}

static void
enforce_limit (SfUndoStack *stack)
{
  /* Redo steps go first (they are the least likely to be wanted), then
   * the oldest undo steps; the newest undo step always stays. */
  while (stack->bytes > stack->limit && stack->redo.length > 0)
    {
      Step *step = g_queue_pop_tail (&stack->redo);
      stack->bytes -= step->bytes;
      step_free (step);
    }
  while (stack->bytes > stack->limit && stack->undo.length > 1)
    {
      Step *step = g_queue_pop_head (&stack->undo);
      stack->base_serial = step->serial;
      stack->bytes -= step->bytes;
      step_free (step);
    }
}

void
sf_undo_stack_set_limit (SfUndoStack *stack, gsize limit_bytes)
{
  stack->limit = limit_bytes;
  enforce_limit (stack);
}

gsize
sf_undo_stack_get_limit (const SfUndoStack *stack)
{
  return stack->limit;
}

gsize
sf_undo_stack_get_bytes (const SfUndoStack *stack)
{
  return stack->bytes;
}

guint
sf_undo_stack_get_undo_count (const SfUndoStack *stack)
{
  return stack->undo.length;
}

guint
sf_undo_stack_get_redo_count (const SfUndoStack *stack)
{
  return stack->redo.length;
}

const char *
sf_undo_stack_get_undo_label (const SfUndoStack *stack)
{
  Step *step = g_queue_peek_tail ((GQueue *) &stack->undo);
  return step ? step->label : NULL;
}

const char *
sf_undo_stack_get_redo_label (const SfUndoStack *stack)
{
  Step *step = g_queue_peek_head ((GQueue *) &stack->redo);
  return step ? step->label : NULL;
}

void
sf_undo_stack_open (SfUndoStack *stack, const char *label, const char *merge_key)
{
  g_return_if_fail (stack->open == NULL);
  Step *step = g_new0 (Step, 1);
  step->label = g_strdup (label);
  step->merge_key = g_strdup (merge_key);
  step->changes = g_ptr_array_new_with_free_func (free_change);
  stack->open = step;
}

gboolean
sf_undo_stack_is_open (const SfUndoStack *stack)
{
  return stack->open != NULL;
}

void
sf_undo_stack_add (SfUndoStack *stack, SfUndoChange *change)
{
  g_return_if_fail (stack->open != NULL);
  g_ptr_array_add (stack->open->changes, change);
  stack->open->bytes += change->bytes;
  stack->bytes += change->bytes;
}

void
sf_undo_stack_close (SfUndoStack *stack)
{
  g_return_if_fail (stack->open != NULL);
  Step *step = g_steal_pointer (&stack->open);
  if (step->changes->len == 0)
    {
      step_free (step);
      return;
    }
  clear_queue (stack, &stack->redo);
  step->serial = stack->next_serial++;
  step->time_us = g_get_monotonic_time ();
  g_queue_push_tail (&stack->undo, step);
  enforce_limit (stack);
}

SfUndoChange *
sf_undo_stack_find_mergeable (SfUndoStack *stack, const char *merge_key, gint64 max_age_us)
{
  Step *step = g_queue_peek_tail (&stack->undo);
  if (!step || stack->open || stack->redo.length > 0 || !step->merge_key
      || g_strcmp0 (step->merge_key, merge_key) != 0 || step->changes->len != 1
      || g_get_monotonic_time () - step->time_us > max_age_us)
    return NULL;
  step->time_us = g_get_monotonic_time ();
  return step->changes->pdata[0];
}

gboolean
sf_undo_stack_undo (SfUndoStack *stack, gpointer context)
{
  g_return_val_if_fail (stack->open == NULL, FALSE);
  Step *step = g_queue_pop_tail (&stack->undo);
  if (!step)
    return FALSE;
  for (guint i = step->changes->len; i-- > 0;)
    {
      SfUndoChange *change = step->changes->pdata[i];
      change->klass->undo (change, context);
    }
  g_queue_push_head (&stack->redo, step);
  return TRUE;
}

gboolean
sf_undo_stack_redo (SfUndoStack *stack, gpointer context)
{
  g_return_val_if_fail (stack->open == NULL, FALSE);
  Step *step = g_queue_pop_head (&stack->redo);
  if (!step)
    return FALSE;
  for (guint i = 0; i < step->changes->len; i++)
    {
      SfUndoChange *change = step->changes->pdata[i];
      change->klass->redo (change, context);
    }
  g_queue_push_tail (&stack->undo, step);
  return TRUE;
}

guint64
sf_undo_stack_get_state (const SfUndoStack *stack)
{
  Step *step = g_queue_peek_tail ((GQueue *) &stack->undo);
  return step ? step->serial : stack->base_serial;
}
