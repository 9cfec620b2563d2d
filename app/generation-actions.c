/* Generation on the canvas: what the panels and the window's actions
 * ask for, turned into jobs and strip changes (see generation.h). */
#include "generation-private.h"

#include <glib/gi18n.h>

#include "png-io.h"

/* ---- history panel ---------------------------------------------------- */

static SfEngineRequest *
request_from_record (SfGeneration *self, const SfGenerationRecord *record)
{
  SfEngineRequest *request = sf_generation_panel_build_request (self->panel);
  if (!request)
    request = sf_engine_request_new ();
  g_free (request->prompt);
  request->prompt = g_strdup (record->prompt);
  g_free (request->negative);
  request->negative = g_strdup (record->negative_prompt);
  g_free (request->sampler);
  request->sampler = g_strdup (record->sampler);
  g_free (request->scheduler);
  request->scheduler = g_strdup (record->scheduler);
  request->seed = record->seed;
  request->steps = record->steps;
  request->cfg = record->cfg_scale;
  if (record->mode != SF_GENERATION_TXT2IMG)
    request->strength = record->strength;
  request->width = record->width_px;
  request->height = record->height_px;
  request->precision = g_strcmp0 (record->precision, "fp32") == 0 ? SF_ENGINE_FP32
                                                                  : SF_ENGINE_FP16;
  if (record->model_name)
    {
      /* The panel finds the model by file name when the path is not
       * among the models it knows. */
      g_free (request->model_path);
      request->model_path = g_strconcat (record->model_name, ".safetensors", NULL);
    }
  if (record->refiner_name)
    {
      g_free (request->refiner_path);
      request->refiner_path = g_strconcat (record->refiner_name, ".safetensors", NULL);
      request->refiner_start = record->refiner_switch;
    }
  else
    g_clear_pointer (&request->refiner_path, g_free);
  return request;
}

static void
recall (SfGeneration *self, const SfGenerationRecord *record)
{
  g_autoptr (SfEngineRequest) request = request_from_record (self, record);
  sf_generation_panel_apply_request (self->panel, request);
  /* What is generated next refines this entry. */
  self->parent_id = record->id;
}

static void
on_history_recall (SfHistoryPanel *panel, SfGenerationRecord *record, SfGeneration *self)
{
  recall (self, record);
}

static void
on_history_rerun (SfHistoryPanel *panel, SfGenerationRecord *record, SfGeneration *self)
{
  recall (self, record);
  sf_generation_start (self);
}

static void
on_history_open_as_layer (SfHistoryPanel *panel, SfGenerationRecord *record, const char *path,
                          SfGeneration *self)
{
  if (!self->document)
    return;
  g_autoptr (GError) error = NULL;
  g_autoptr (SfImage) image = sf_png_load (path, &error);
  if (!image)
    {
      sf_window_show_message (self->window, error->message);
      return;
    }
  g_autofree char *name = g_strdup_printf (_("Generated %" G_GUINT64_FORMAT), record->seed);
  g_autofree char *id = g_strdup_printf ("%" G_GINT64_FORMAT, record->id);
  if (!sf_document_add_layer_from_rgba (self->document, -1, image->pixels, image->width,
                                        image->height, image->width * 4, record->frame_x,
                                        record->frame_y, name, id, &error))
    sf_window_show_message (self->window, error->message);
}

/* ---- panel, actions, window ------------------------------------------- */

static void
on_panel_generate (SfGenerationPanel *panel, SfGeneration *self)
{
  sf_generation_start (self);
}

static void
on_panel_cancel (SfGenerationPanel *panel, SfGeneration *self)
{
  sf_generation_cancel (self);
}

static void
on_panel_extend (SfGenerationPanel *panel, int side, int px, SfGeneration *self)
{
  if (!self->document)
    return;
  SfFrameOptions defaults;
  sf_frame_options_init (&defaults);
  SfRect frame = sf_document_get_frame (self->document);
  SfRect extended = sf_frame_for_extend (self->document, &frame, side, px,
                                         defaults.outpaint_overlap_px);
  sf_document_set_frame (self->document, &extended);
  sf_generation_start (self);
}

static void
on_panel_frame_size (SfGenerationPanel *panel, int width, int height, SfGeneration *self)
{
  if (!self->document || width < 64 || height < 64)
    return;
  /* The frame keeps its centre. */
  SfRect frame = sf_document_get_frame (self->document);
  SfRect sized = { frame.x + (frame.width - width) / 2, frame.y + (frame.height - height) / 2,
                   width, height };
  sf_document_set_frame (self->document, &sized);
}

static void
on_panel_prompt_changed (SfGenerationPanel *panel, SfGeneration *self)
{
  SfPanelOptions options;
  sf_generation_panel_get_options (self->panel, &options);
  if (options.auto_regenerate)
    sf_generation_start (self);
}

static void
on_panel_stage_select (SfGenerationPanel *panel, guint index, SfGeneration *self)
{
  sf_generation_stage_select (self, index);
}

static void
on_panel_stage_accept (SfGenerationPanel *panel, SfGeneration *self)
{
  sf_generation_stage_accept (self);
}

static void
on_panel_stage_discard (SfGenerationPanel *panel, SfGeneration *self)
{
  sf_generation_stage_discard (self);
}

static void
action_generate (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  sf_generation_start (user_data);
}

static void
action_cancel (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  sf_generation_cancel (user_data);
}

static void
action_accept (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  sf_generation_stage_accept (user_data);
}

static void
action_discard (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  sf_generation_stage_discard (user_data);
}

static void
action_next (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  SfGeneration *self = user_data;
  guint count = sf_generation_get_staged_count (self);
  if (count > 0)
    sf_generation_stage_select (self, (sf_generation_get_staged_index (self) + 1) % count);
}

static void
action_previous (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  SfGeneration *self = user_data;
  guint count = sf_generation_get_staged_count (self);
  if (count > 0)
    sf_generation_stage_select (self, (sf_generation_get_staged_index (self) + count - 1) % count);
}

static void
action_select (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  sf_generation_stage_select (user_data, g_variant_get_uint32 (parameter));
}

static const GActionEntry ACTIONS[] = {
  { .name = "generate", .activate = action_generate },
  { .name = "cancel-generation", .activate = action_cancel },
  { .name = "stage-accept", .activate = action_accept },
  { .name = "stage-discard", .activate = action_discard },
  { .name = "stage-next", .activate = action_next },
  { .name = "stage-previous", .activate = action_previous },
  { .name = "stage-select", .activate = action_select, .parameter_type = "u" },
};

static void
enable (SfGeneration *self, const char *name, gboolean enabled)
{
  GAction *action = g_action_map_lookup_action (G_ACTION_MAP (self->window), name);
  if (action)
    g_simple_action_set_enabled (G_SIMPLE_ACTION (action), enabled);
}

void
sf_generation_update_actions (SfGeneration *self)
{
  if (self->disposed)
    return;
  gboolean staged = sf_generation_get_staged_count (self) > 0;
  enable (self, "cancel-generation", self->job != NULL);
  enable (self, "stage-accept", staged);
  enable (self, "stage-discard", staged);
  enable (self, "stage-next", staged);
  enable (self, "stage-previous", staged);
  enable (self, "stage-select", staged);
}

void
sf_generation_connect (SfGeneration *self)
{
  SfWindow *window = self->window;
  g_signal_connect (self->panel, "generate", G_CALLBACK (on_panel_generate), self);
  g_signal_connect (self->panel, "cancel", G_CALLBACK (on_panel_cancel), self);
  g_signal_connect (self->panel, "extend", G_CALLBACK (on_panel_extend), self);
  g_signal_connect (self->panel, "frame-size", G_CALLBACK (on_panel_frame_size), self);
  g_signal_connect (self->panel, "prompt-changed", G_CALLBACK (on_panel_prompt_changed), self);
  g_signal_connect (self->panel, "stage-select", G_CALLBACK (on_panel_stage_select), self);
  g_signal_connect (self->panel, "stage-accept", G_CALLBACK (on_panel_stage_accept), self);
  g_signal_connect (self->panel, "stage-discard", G_CALLBACK (on_panel_stage_discard), self);

  if (self->history_panel)
    {
      g_signal_connect (self->history_panel, "recall", G_CALLBACK (on_history_recall), self);
      g_signal_connect (self->history_panel, "rerun", G_CALLBACK (on_history_rerun), self);
      g_signal_connect (self->history_panel, "open-as-layer",
                        G_CALLBACK (on_history_open_as_layer), self);
    }

  g_action_map_add_action_entries (G_ACTION_MAP (window), ACTIONS, G_N_ELEMENTS (ACTIONS), self);
  /* Escape cancels after the focused widget had its chance (a popover or
   * an entry keeps its own Escape). */
  GtkEventController *shortcuts = gtk_shortcut_controller_new ();
  gtk_event_controller_set_propagation_phase (shortcuts, GTK_PHASE_BUBBLE);
  gtk_shortcut_controller_add_shortcut (
      GTK_SHORTCUT_CONTROLLER (shortcuts),
      gtk_shortcut_new (gtk_keyval_trigger_new (GDK_KEY_Escape, 0),
                        gtk_named_action_new ("win.cancel-generation")));
  gtk_widget_add_controller (GTK_WIDGET (window), shortcuts);
}
