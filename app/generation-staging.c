/* The staging strip: generated images waiting as layers for the person
 * to pick one.
 *
 * Staged layers are ordinary layers of the document, so the canvas, the
 * layers panel and saving need nothing special; only the current
 * variant's layer is visible. What keeps the undo history tidy is that
 * while nothing but our own steps were made since staging began
 * ("clean"), each change to the strip first undoes our steps and then
 * makes the whole strip again as one step. Accepting then leaves exactly
 * one step: the canvas growth (outpaint) and the chosen layer, which one
 * ctrl+z takes back. When the person edited in between (painting goes on
 * while a job runs), our steps are no longer on top; the strip then
 * changes by small steps of its own and accepting removes the others in
 * one more step. */
#include "generation-private.h"

#include <glib/gi18n.h>

void
sf_generation_variant_free (gpointer data)
{
  SfStagedVariant *variant = data;
  g_clear_pointer (&variant->layer, sf_layer_unref);
  g_bytes_unref (variant->rgba);
  g_free (variant->generation_id);
  g_free (variant);
}

static gboolean
in_document (SfGeneration *self, SfLayer *layer)
{
  return layer && self->document && sf_document_get_layer_index (self->document, layer) >= 0;
}

static SfStagedVariant *
variant_at (SfGeneration *self, guint index)
{
  return index < self->variants->len ? self->variants->pdata[index] : NULL;
}

static void
show_strip (SfGeneration *self)
{
  if (self->disposed)
    return;
  sf_generation_panel_set_staging (self->panel, self->variants->len, self->current);
  sf_generation_update_actions (self);
}

static void
clear_strip (SfGeneration *self)
{
  g_clear_handle_id (&self->apply_timer, g_source_remove);
  g_ptr_array_set_size (self->variants, 0);
  self->current = 0;
  self->our_steps = 0;
  g_clear_pointer (&self->base_active, sf_layer_unref);
  show_strip (self);
}

/* Forgets variants whose layer left the document (the person deleted it,
 * or undid the step that made it). */
static void
prune (SfGeneration *self)
{
  gboolean changed = FALSE;
  for (guint i = self->variants->len; i-- > 0;)
    {
      SfStagedVariant *variant = self->variants->pdata[i];
      if (variant->layer && !in_document (self, variant->layer))
        {
          g_ptr_array_remove_index (self->variants, i);
          if (self->current > i || self->current >= self->variants->len)
            self->current = self->current > 0 ? self->current - 1 : 0;
          changed = TRUE;
        }
    }
  if (!changed)
    return;
  if (self->variants->len == 0)
    clear_strip (self);
  else
    show_strip (self);
}

static void
check_clean (SfGeneration *self)
{
  if (sf_document_get_state (self->document) != self->expected_state)
    self->clean = FALSE;
}

static void
step_made (SfGeneration *self)
{
  self->our_steps++;
  self->expected_state = sf_document_get_state (self->document);
}

/* Undoes our steps (only when they are the newest). */
static void
rewind_steps (SfGeneration *self)
{
  if (!self->clean || sf_document_get_state (self->document) != self->expected_state)
    return;
  self->busy_editing = TRUE;
  for (; self->our_steps > 0; self->our_steps--)
    if (!sf_document_undo (self->document))
      break;
  self->busy_editing = FALSE;
  self->our_steps = 0;
  self->expected_state = sf_document_get_state (self->document);
}

/* Where staged layers go: above the layer that was active when staging
 * began. */
static int
insert_index (SfGeneration *self)
{
  int index = in_document (self, self->base_active)
                  ? sf_document_get_layer_index (self->document, self->base_active) + 1
                  : (int) sf_document_get_layer_count (self->document);
  return index;
}

/* Grows the canvas to hold @rect (open edit). */
static void
grow_to (SfGeneration *self, const SfRect *rect)
{
  SfRect canvas = sf_document_get_canvas (self->document);
  int left = MAX (0, canvas.x - rect->x), top = MAX (0, canvas.y - rect->y);
  int right = MAX (0, rect->x + rect->width - (canvas.x + canvas.width));
  int bottom = MAX (0, rect->y + rect->height - (canvas.y + canvas.height));
  if (left == 0 && top == 0 && right == 0 && bottom == 0)
    return;
  g_autoptr (GError) error = NULL;
  if (!sf_document_grow (self->document, left, top, right, bottom, &error))
    sf_window_show_message (self->window, error->message);
}

static SfLayer *
add_layer (SfGeneration *self, SfStagedVariant *variant, int index)
{
  g_autofree char *name = g_strdup_printf (_("Generated %" G_GUINT64_FORMAT), variant->seed);
  g_autoptr (GError) error = NULL;
  SfLayer *layer = sf_document_add_layer_from_rgba (
      self->document, index, g_bytes_get_data (variant->rgba, NULL), variant->rect.width,
      variant->rect.height, variant->rect.width * 4, variant->rect.x, variant->rect.y, name,
      variant->generation_id, &error);
  if (!layer)
    sf_window_show_message (self->window, error->message);
  return layer;
}

static void
restore_active (SfGeneration *self)
{
  /* Painting goes on where it went, not onto a staged result. */
  if (in_document (self, self->base_active))
    sf_document_set_active_layer (self->document, self->base_active);
}

/* A brush stroke keeps an edit open while it is drawn: the strip must
 * not make its steps inside it. */
static gboolean
document_is_editing (SfGeneration *self)
{
  return sf_canvas_view_is_busy (sf_window_get_canvas_view (self->window));
}

static void apply_strip (SfGeneration *self);

static gboolean
apply_later (gpointer data)
{
  SfGeneration *self = data;
  if (document_is_editing (self))
    return G_SOURCE_CONTINUE;
  self->apply_timer = 0;
  apply_strip (self);
  return G_SOURCE_REMOVE;
}

/* Adds @variant's layer at *@index (moved past it), visible only when it
 * is the current one. */
static void
place_variant (SfGeneration *self, SfStagedVariant *variant, guint i, int *index)
{
  g_clear_pointer (&variant->layer, sf_layer_unref);
  SfLayer *layer = add_layer (self, variant, *index);
  if (!layer)
    return;
  variant->layer = sf_layer_ref (layer);
  (*index)++;
  if (i != self->current)
    sf_document_set_layer_visible (self->document, layer, FALSE);
}

/* Makes the whole strip as one step (clean) or adds what is missing. */
static void
apply_strip (SfGeneration *self)
{
  if (document_is_editing (self))
    {
      if (!self->apply_timer)
        self->apply_timer = g_timeout_add (50, apply_later, self);
      return;
    }
  check_clean (self);
  self->busy_editing = TRUE;
  if (self->clean)
    {
      rewind_steps (self);
      self->busy_editing = TRUE;
      sf_document_begin_edit (self->document, _("Generate"));
      for (guint i = 0; i < self->variants->len; i++)
        {
          SfStagedVariant *variant = self->variants->pdata[i];
          if (variant->outpaint)
            grow_to (self, &variant->rect);
        }
      int index = insert_index (self);
      for (guint i = 0; i < self->variants->len; i++)
        {
          SfStagedVariant *variant = self->variants->pdata[i];
          place_variant (self, variant, i, &index);
        }
      restore_active (self);
      sf_document_end_edit (self->document);
    }
  else
    {
      sf_document_begin_edit (self->document, _("Generate"));
      int index = insert_index (self);
      for (guint i = 0; i < self->variants->len; i++)
        {
          SfStagedVariant *variant = self->variants->pdata[i];
          if (in_document (self, variant->layer))
            {
              index = sf_document_get_layer_index (self->document, variant->layer) + 1;
              sf_document_set_layer_visible (self->document, variant->layer, i == self->current);
              continue;
            }
          if (variant->outpaint)
            grow_to (self, &variant->rect);
          place_variant (self, variant, i, &index);
        }
      restore_active (self);
      sf_document_end_edit (self->document);
    }
  self->busy_editing = FALSE;
  step_made (self);
  /* A variant whose layer could not be made is dropped. */
  for (guint i = self->variants->len; i-- > 0;)
    if (!((SfStagedVariant *) self->variants->pdata[i])->layer)
      {
        g_ptr_array_remove_index (self->variants, i);
        if (self->current >= self->variants->len && self->current > 0)
          self->current--;
      }
  if (self->variants->len == 0)
    clear_strip (self);
  else
    show_strip (self);
}

void
sf_generation_stage_add (SfGeneration *self, GBytes *rgba, const SfRect *rect, gboolean outpaint,
                         guint64 seed, const char *generation_id)
{
  if (!self->document)
    return;
  prune (self);
  if (self->variants->len == 0)
    {
      self->base_canvas = sf_document_get_canvas (self->document);
      g_clear_pointer (&self->base_active, sf_layer_unref);
      SfLayer *active = sf_document_get_active_layer (self->document);
      self->base_active = active ? sf_layer_ref (active) : NULL;
      self->clean = TRUE;
      self->our_steps = 0;
      self->expected_state = sf_document_get_state (self->document);
    }
  SfStagedVariant *variant = g_new0 (SfStagedVariant, 1);
  variant->rgba = g_bytes_ref (rgba);
  variant->rect = *rect;
  variant->outpaint = outpaint;
  variant->seed = seed;
  variant->generation_id = g_strdup (generation_id);
  g_ptr_array_add (self->variants, variant);
  self->current = self->variants->len - 1;
  apply_strip (self);
}

guint
sf_generation_get_staged_count (SfGeneration *self)
{
  return self->variants->len;
}

guint
sf_generation_get_staged_index (SfGeneration *self)
{
  return self->current;
}

SfLayer *
sf_generation_get_staged_layer (SfGeneration *self, guint index)
{
  SfStagedVariant *variant = variant_at (self, index);
  return variant ? variant->layer : NULL;
}

void
sf_generation_stage_select (SfGeneration *self, guint index)
{
  if (!self->document || document_is_editing (self) || self->apply_timer)
    return;
  prune (self);
  SfStagedVariant *from = variant_at (self, self->current), *to = variant_at (self, index);
  if (!to || index == self->current)
    return;
  check_clean (self);
  self->busy_editing = TRUE;
  sf_document_begin_edit (self->document, _("Show Generated Image"));
  if (from && in_document (self, from->layer))
    sf_document_set_layer_visible (self->document, from->layer, FALSE);
  if (in_document (self, to->layer))
    sf_document_set_layer_visible (self->document, to->layer, TRUE);
  sf_document_end_edit (self->document);
  self->busy_editing = FALSE;
  step_made (self);
  self->current = index;
  show_strip (self);
}

void
sf_generation_stage_accept (SfGeneration *self)
{
  if (!self->document || document_is_editing (self) || self->apply_timer)
    return;
  prune (self);
  SfStagedVariant *chosen = variant_at (self, self->current);
  if (!chosen)
    return;
  check_clean (self);
  self->busy_editing = TRUE;
  if (self->clean)
    {
      /* One step: the growth and the layer, nothing staged before. */
      rewind_steps (self);
      self->busy_editing = TRUE;
      sf_document_begin_edit (self->document, _("Generated Image"));
      if (chosen->outpaint)
        grow_to (self, &chosen->rect);
      SfLayer *layer = add_layer (self, chosen, insert_index (self));
      if (layer)
        sf_document_set_active_layer (self->document, layer);
      sf_document_end_edit (self->document);
    }
  else
    {
      sf_document_begin_edit (self->document, _("Accept Generated Image"));
      for (guint i = 0; i < self->variants->len; i++)
        {
          SfStagedVariant *variant = self->variants->pdata[i];
          if (variant != chosen && in_document (self, variant->layer))
            sf_document_remove_layer (self->document, variant->layer);
        }
      if (in_document (self, chosen->layer))
        {
          sf_document_set_layer_visible (self->document, chosen->layer, TRUE);
          sf_document_set_active_layer (self->document, chosen->layer);
        }
      sf_document_end_edit (self->document);
    }
  self->busy_editing = FALSE;
  clear_strip (self);
}

void
sf_generation_stage_discard (SfGeneration *self)
{
  if (!self->document || document_is_editing (self) || self->apply_timer)
    return;
  prune (self);
  if (self->variants->len == 0)
    return;
  check_clean (self);
  self->busy_editing = TRUE;
  if (self->clean)
    rewind_steps (self);
  else
    {
      gboolean grown = FALSE;
      sf_document_begin_edit (self->document, _("Discard Generated Images"));
      for (guint i = 0; i < self->variants->len; i++)
        {
          SfStagedVariant *variant = self->variants->pdata[i];
          grown |= variant->outpaint;
          if (in_document (self, variant->layer))
            sf_document_remove_layer (self->document, variant->layer);
        }
      SfRect canvas = sf_document_get_canvas (self->document);
      if (grown && !sf_rect_equal (&canvas, &self->base_canvas))
        sf_document_set_canvas (self->document, &self->base_canvas, NULL);
      sf_document_end_edit (self->document);
    }
  self->busy_editing = FALSE;
  clear_strip (self);
}

void
sf_generation_stage_forget (SfGeneration *self)
{
  if (self->variants->len > 0 || self->base_active)
    clear_strip (self);
}

SfDocument *
sf_generation_stage_snapshot (SfGeneration *self)
{
  SfDocument *snapshot = sf_document_snapshot (self->document);
  prune (self);
  if (self->variants->len == 0)
    return snapshot;
  /* Staged layers in the snapshot are at the same indices; remove them
   * from the top down so the others keep theirs. */
  GArray *indices = g_array_new (FALSE, FALSE, sizeof (int));
  gboolean grown = FALSE;
  for (guint i = 0; i < self->variants->len; i++)
    {
      SfStagedVariant *variant = self->variants->pdata[i];
      grown |= variant->outpaint;
      if (in_document (self, variant->layer))
        {
          int index = sf_document_get_layer_index (self->document, variant->layer);
          g_array_append_val (indices, index);
        }
    }
  for (guint i = 0; i < indices->len; i++)
    for (guint j = i + 1; j < indices->len; j++)
      if (g_array_index (indices, int, j) > g_array_index (indices, int, i))
        {
          int t = g_array_index (indices, int, i);
          g_array_index (indices, int, i) = g_array_index (indices, int, j);
          g_array_index (indices, int, j) = t;
        }
  for (guint i = 0; i < indices->len; i++)
    sf_document_remove_layer (snapshot,
                              sf_document_get_layer (snapshot, g_array_index (indices, int, i)));
  g_array_unref (indices);
  if (grown && self->clean)
    sf_document_set_canvas (snapshot, &self->base_canvas, NULL);
  return snapshot;
}

void
sf_generation_stage_observe (SfDocument *document, const SfDocumentEvent *event,
                             gpointer user_data)
{
  SfGeneration *self = user_data;
  if (self->busy_editing || self->variants->len == 0)
    return;
  if (event->change & (SF_DOCUMENT_CHANGED_LAYERS | SF_DOCUMENT_CHANGED_HISTORY))
    prune (self);
}
