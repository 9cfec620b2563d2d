#include "generation-panel-private.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "model-folders.h"

const SfFrameSize sf_frame_sizes[SF_N_FRAME_SIZES] = {
  { 1024, 1024 }, { 1152, 896 }, { 896, 1152 }, { 1216, 832 }, { 832, 1216 },
  { 1344, 768 },  { 768, 1344 }, { 1536, 640 }, { 640, 1536 },
};

G_DEFINE_FINAL_TYPE (SfGenerationPanel, sf_generation_panel, GTK_TYPE_WIDGET)

enum {
  SIGNAL_GENERATE,
  SIGNAL_CANCEL,
  SIGNAL_EXTEND,
  SIGNAL_FRAME_SIZE,
  SIGNAL_STAGE_SELECT,
  SIGNAL_STAGE_ACCEPT,
  SIGNAL_STAGE_DISCARD,
  SIGNAL_PROMPT_CHANGED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

/* ---- helpers -------------------------------------------------------------- */

/* g_set_str, which GLib has from 2.76 on. */
static void
set_string (char **location, const char *value)
{
  if (*location == value || g_strcmp0 (*location, value) == 0)
    return;
  char *copy = g_strdup (value);
  g_free (*location);
  *location = copy;
}

static guint
find_string (const char *const *strings, const char *value)
{
  for (guint i = 0; value && strings[i]; i++)
    if (strcmp (strings[i], value) == 0)
      return i;
  return GTK_INVALID_LIST_POSITION;
}

/* ---- models --------------------------------------------------------------- */

static const SfModelFile *
selected_model (SfGenerationPanel *self, GtkWidget *dropdown, guint offset)
{
  guint index = gtk_drop_down_get_selected (GTK_DROP_DOWN (dropdown));
  if (index == GTK_INVALID_LIST_POSITION || index < offset || index - offset >= self->models->len)
    return NULL;
  return self->models->pdata[index - offset];
}

/* The index of @path among the models, else of a model with the same
 * file name (a recalled generation made on another machine), else -1. */
static int
find_model (SfGenerationPanel *self, const char *path)
{
  if (!path || !*path)
    return -1;
  for (guint i = 0; i < self->models->len; i++)
    if (strcmp (((SfModelFile *) self->models->pdata[i])->path, path) == 0)
      return (int) i;
  g_autofree char *base = g_path_get_basename (path);
  for (guint i = 0; i < self->models->len; i++)
    {
      g_autofree char *other = g_path_get_basename (((SfModelFile *) self->models->pdata[i])->path);
      if (strcmp (other, base) == 0)
        return (int) i;
    }
  return -1;
}

static void
select_models (SfGenerationPanel *self)
{
  int model = find_model (self, self->wanted_model);
  gtk_drop_down_set_selected (GTK_DROP_DOWN (self->model_dropdown),
                              self->models->len ? (guint) MAX (model, 0) : GTK_INVALID_LIST_POSITION);
  int refiner = find_model (self, self->wanted_refiner);
  gtk_drop_down_set_selected (GTK_DROP_DOWN (self->refiner_dropdown), refiner >= 0 ? (guint) refiner + 1 : 0);
  gtk_widget_set_sensitive (self->refiner_start_spin, refiner >= 0);
}

static void
update_first_use (SfGenerationPanel *self)
{
  g_autoptr (GPtrArray) folders = sf_model_folders_list (self->settings);
  g_autoptr (GString) text = g_string_new (NULL);
  for (guint i = 0; i < folders->len; i++)
    {
      g_autofree char *escaped = g_markup_escape_text (folders->pdata[i], -1);
      g_string_append_printf (text, "%s<tt>%s</tt>", i ? "\n" : "", escaped);
    }
  gtk_label_set_markup (GTK_LABEL (self->folders_label), text->str);
  gtk_stack_set_visible_child_name (GTK_STACK (self->stack), self->models->len ? "main" : "first-use");
}

void
sf_generation_panel_rescan_models (SfGenerationPanel *self)
{
  g_return_if_fail (SF_IS_GENERATION_PANEL (self));
  /* Keep what is chosen now across the rescan. */
  const SfModelFile *model = selected_model (self, self->model_dropdown, 0);
  const SfModelFile *refiner = selected_model (self, self->refiner_dropdown, 1);
  if (model)
    set_string (&self->wanted_model, model->path);
  if (self->models->len)
    set_string (&self->wanted_refiner, refiner ? refiner->path : NULL);

  g_autoptr (GPtrArray) folders = sf_model_folders_list (self->settings);
  g_clear_pointer (&self->models, g_ptr_array_unref);
  self->models = sf_model_folders_scan (folders);

  guint old_models = g_list_model_get_n_items (G_LIST_MODEL (self->model_names));
  guint old_refiners = g_list_model_get_n_items (G_LIST_MODEL (self->refiner_names));
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  for (guint i = 0; i < self->models->len; i++)
    g_strv_builder_add (builder, ((SfModelFile *) self->models->pdata[i])->name);
  g_auto (GStrv) names = g_strv_builder_end (builder);
  self->rescanning = TRUE;
  gtk_string_list_splice (self->model_names, 0, old_models, (const char *const *) names);
  gtk_string_list_splice (self->refiner_names, 1, old_refiners - 1, (const char *const *) names);
  self->rescanning = FALSE;
  select_models (self);
  update_first_use (self);
}

guint
sf_generation_panel_get_model_count (SfGenerationPanel *self)
{
  g_return_val_if_fail (SF_IS_GENERATION_PANEL (self), 0);
  return self->models->len;
}

static void
on_model_selected (SfGenerationPanel *self)
{
  const SfModelFile *model = selected_model (self, self->model_dropdown, 0);
  if (model && !self->rescanning)
    {
      set_string (&self->wanted_model, model->path);
      sf_generation_panel_save_string (self, "model", model->path);
    }
}

static void
on_refiner_selected (SfGenerationPanel *self)
{
  if (!self->models->len || self->rescanning)
    return;
  const SfModelFile *refiner = selected_model (self, self->refiner_dropdown, 1);
  gtk_widget_set_sensitive (self->refiner_start_spin, refiner != NULL);
  set_string (&self->wanted_refiner, refiner ? refiner->path : NULL);
  sf_generation_panel_save_string (self, "refiner", refiner ? refiner->path : "");
}

static void
on_open_models_folder (SfGenerationPanel *self)
{
  g_autofree char *folder = sf_model_folders_get_own ();
  if (g_mkdir_with_parents (folder, 0755) != 0)
    g_warning ("Could not create the models folder %s: %s", folder, g_strerror (errno));
  g_autoptr (GFile) file = g_file_new_for_path (folder);
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkWindow *window = GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL;
#if GTK_CHECK_VERSION(4, 10, 0)
  g_autoptr (GtkFileLauncher) launcher = gtk_file_launcher_new (file);
  gtk_file_launcher_launch (launcher, window, NULL, NULL, NULL);
#else
  g_autofree char *uri = g_file_get_uri (file);
  gtk_show_uri (window, uri, GDK_CURRENT_TIME);
#endif
}

/* ---- seeds ---------------------------------------------------------------- */

guint64
sf_generation_panel_resolve_seed (SfGenerationPanel *self)
{
  g_return_val_if_fail (SF_IS_GENERATION_PANEL (self), 0);
  double value = gtk_adjustment_get_value (self->seed);
  if (value >= 0)
    return (guint64) llround (value);
  guint64 seed = g_random_int ();
  if (gtk_check_button_get_active (GTK_CHECK_BUTTON (self->keep_seed)))
    gtk_adjustment_set_value (self->seed, (double) seed);
  return seed;
}

/* ---- requests ------------------------------------------------------------- */

static const char *
dropdown_string (GtkWidget *dropdown, const char *const *ids)
{
  guint index = gtk_drop_down_get_selected (GTK_DROP_DOWN (dropdown));
  guint n = g_strv_length ((char **) ids);
  return ids[index < n ? index : 0];
}

static guint
frame_index (SfGenerationPanel *self)
{
  guint index = gtk_drop_down_get_selected (GTK_DROP_DOWN (self->frame_dropdown));
  return index < SF_N_FRAME_SIZES ? index : 0;
}

SfEngineRequest *
sf_generation_panel_build_request (SfGenerationPanel *self)
{
  g_return_val_if_fail (SF_IS_GENERATION_PANEL (self), NULL);
  const SfModelFile *model = selected_model (self, self->model_dropdown, 0);
  if (!model)
    {
      update_first_use (self);
      gtk_stack_set_visible_child_name (GTK_STACK (self->stack), "first-use");
      return NULL;
    }
  const SfModelFile *refiner = selected_model (self, self->refiner_dropdown, 1);
  SfEngineRequest *request = sf_engine_request_new ();
  request->model_path = g_strdup (model->path);
  request->refiner_path = refiner ? g_strdup (refiner->path) : NULL;
  request->refiner_start = gtk_adjustment_get_value (self->refiner_start);
  request->prompt = sf_prompt_editor_get_text (SF_PROMPT_EDITOR (self->prompt));
  request->negative = sf_prompt_editor_get_text (SF_PROMPT_EDITOR (self->negative));
  guint frame = frame_index (self);
  request->width = sf_frame_sizes[frame].width;
  request->height = sf_frame_sizes[frame].height;
  request->steps = (int) lround (gtk_adjustment_get_value (self->steps));
  request->cfg = gtk_adjustment_get_value (self->cfg);
  set_string (&request->sampler, dropdown_string (self->sampler_dropdown, sf_engine_get_sampler_names ()));
  set_string (&request->scheduler, dropdown_string (self->scheduler_dropdown, sf_engine_get_scheduler_names ()));
  request->seed = sf_generation_panel_resolve_seed (self);
  request->batch_count = (int) lround (gtk_adjustment_get_value (self->batch_count));
  request->strength = gtk_adjustment_get_value (self->strength);
  request->precision = gtk_drop_down_get_selected (GTK_DROP_DOWN (self->precision_dropdown)) == 1
                         ? SF_ENGINE_FP32 : SF_ENGINE_FP16;
  request->masked_content = gtk_drop_down_get_selected (GTK_DROP_DOWN (self->masked_content_dropdown))
                                == SF_PANEL_MASKED_LATENT_NOISE
                              ? SF_ENGINE_MASKED_LATENT_NOISE : SF_ENGINE_MASKED_ORIGINAL;
  return request;
}

void
sf_generation_panel_get_options (SfGenerationPanel *self, SfPanelOptions *options)
{
  g_return_if_fail (SF_IS_GENERATION_PANEL (self));
  g_return_if_fail (options != NULL);
  options->mask_blur_px = gtk_adjustment_get_value (self->mask_blur);
  options->only_masked = gtk_check_button_get_active (GTK_CHECK_BUTTON (self->only_masked));
  options->only_masked_padding_px = (int) lround (gtk_adjustment_get_value (self->only_masked_padding));
  guint content = gtk_drop_down_get_selected (GTK_DROP_DOWN (self->masked_content_dropdown));
  options->masked_content = content <= SF_PANEL_MASKED_LATENT_NOISE ? content : SF_PANEL_MASKED_ORIGINAL;
  options->extend_px = (int) lround (gtk_adjustment_get_value (self->extend_px));
  options->keep_seed = gtk_check_button_get_active (GTK_CHECK_BUTTON (self->keep_seed));
  options->auto_regenerate = gtk_check_button_get_active (GTK_CHECK_BUTTON (self->auto_regenerate));
  options->watermark = gtk_check_button_get_active (GTK_CHECK_BUTTON (self->watermark));
  guint frame = frame_index (self);
  options->frame_width = sf_frame_sizes[frame].width;
  options->frame_height = sf_frame_sizes[frame].height;
}

void
sf_generation_panel_apply_request (SfGenerationPanel *self, const SfEngineRequest *request)
{
  g_return_if_fail (SF_IS_GENERATION_PANEL (self));
  g_return_if_fail (request != NULL);
  set_string (&self->wanted_model, request->model_path);
  set_string (&self->wanted_refiner, request->refiner_path);
  int model = find_model (self, request->model_path);
  if (model >= 0)
    gtk_drop_down_set_selected (GTK_DROP_DOWN (self->model_dropdown), (guint) model);
  int refiner = find_model (self, request->refiner_path);
  gtk_drop_down_set_selected (GTK_DROP_DOWN (self->refiner_dropdown), refiner >= 0 ? (guint) refiner + 1 : 0);
  gtk_adjustment_set_value (self->refiner_start, request->refiner_start);
  /* The editors do not announce text put in (no auto-regenerate on
   * recall), so the settings are written here. */
  sf_prompt_editor_set_text (SF_PROMPT_EDITOR (self->prompt), request->prompt);
  sf_prompt_editor_set_text (SF_PROMPT_EDITOR (self->negative), request->negative);
  sf_generation_panel_save_string (self, "prompt", request->prompt);
  sf_generation_panel_save_string (self, "negative-prompt", request->negative);

  /* The engine's name, or A1111's label for it ("Euler a"). */
  const char *const *samplers = sf_engine_get_sampler_names ();
  guint sampler = find_string (samplers, request->sampler);
  for (guint i = 0; sampler == GTK_INVALID_LIST_POSITION && request->sampler && samplers[i]; i++)
    if (g_ascii_strcasecmp (sf_engine_describe_sampler (samplers[i]), request->sampler) == 0)
      sampler = i;
  if (sampler != GTK_INVALID_LIST_POSITION)
    gtk_drop_down_set_selected (GTK_DROP_DOWN (self->sampler_dropdown), sampler);
  guint scheduler = find_string (sf_engine_get_scheduler_names (), request->scheduler);
  if (scheduler == GTK_INVALID_LIST_POSITION && request->scheduler)
    scheduler = g_ascii_strcasecmp (request->scheduler, "Karras") == 0 ? 1 : 0;
  gtk_drop_down_set_selected (GTK_DROP_DOWN (self->scheduler_dropdown), scheduler);

  gtk_adjustment_set_value (self->steps, request->steps);
  gtk_adjustment_set_value (self->cfg, request->cfg);
  gtk_adjustment_set_value (self->seed, (double) request->seed);
  gtk_adjustment_set_value (self->batch_count, request->batch_count);
  gtk_adjustment_set_value (self->strength, request->strength);
  gtk_drop_down_set_selected (GTK_DROP_DOWN (self->precision_dropdown),
                              request->precision == SF_ENGINE_FP32 ? 1 : 0);
  for (guint i = 0; i < SF_N_FRAME_SIZES; i++)
    if (sf_frame_sizes[i].width == request->width && sf_frame_sizes[i].height == request->height)
      gtk_drop_down_set_selected (GTK_DROP_DOWN (self->frame_dropdown), i);
  if (request->masked_content == SF_ENGINE_MASKED_LATENT_NOISE)
    gtk_drop_down_set_selected (GTK_DROP_DOWN (self->masked_content_dropdown), SF_PANEL_MASKED_LATENT_NOISE);
  else if (gtk_drop_down_get_selected (GTK_DROP_DOWN (self->masked_content_dropdown)) == SF_PANEL_MASKED_LATENT_NOISE)
    gtk_drop_down_set_selected (GTK_DROP_DOWN (self->masked_content_dropdown), SF_PANEL_MASKED_ORIGINAL);
}

/* ---- running -------------------------------------------------------------- */

static void
update_actions (SfGenerationPanel *self)
{
  GtkWidget *widget = GTK_WIDGET (self);
  gtk_widget_action_set_enabled (widget, "gen.generate", !self->busy);
  gtk_widget_action_set_enabled (widget, "gen.cancel", self->busy);
  gboolean staged = self->staging_count > 0;
  gtk_widget_action_set_enabled (widget, "gen.accept", staged);
  gtk_widget_action_set_enabled (widget, "gen.discard", staged);
  gtk_widget_action_set_enabled (widget, "gen.previous", staged && self->staging_current > 0);
  gtk_widget_action_set_enabled (widget, "gen.next", staged && self->staging_current + 1 < self->staging_count);
}

void
sf_generation_panel_set_busy (SfGenerationPanel *self, gboolean busy)
{
  g_return_if_fail (SF_IS_GENERATION_PANEL (self));
  self->busy = busy;
  gtk_widget_set_visible (self->cancel_button, busy);
  gtk_widget_set_visible (self->progress, busy);
  if (!busy)
    sf_generation_panel_set_progress (self, NULL);
  update_actions (self);
}

static char *
format_seconds (double seconds)
{
  int s = (int) lround (MAX (seconds, 0));
  if (s < 60)
    return g_strdup_printf (_("%d s"), s);
  return g_strdup_printf (_("%d min %d s"), s / 60, s % 60);
}

void
sf_generation_panel_set_progress (SfGenerationPanel *self, const SfEngineProgress *progress)
{
  g_return_if_fail (SF_IS_GENERATION_PANEL (self));
  GtkProgressBar *bar = GTK_PROGRESS_BAR (self->progress);
  if (!progress)
    {
      gtk_progress_bar_set_fraction (bar, 0);
      gtk_progress_bar_set_text (bar, "");
      return;
    }
  g_autoptr (GString) text = g_string_new (NULL);
  if (progress->images > 1)
    g_string_append_printf (text, _("image %d/%d · "), progress->image + 1, progress->images);
  if (progress->stage && strcmp (progress->stage, "sampling") != 0)
    {
      if (strcmp (progress->stage, "loading") == 0)
        g_string_append (text, _("loading the model"));
      else if (strcmp (progress->stage, "encoding") == 0)
        g_string_append (text, _("encoding the prompt"));
      else if (strcmp (progress->stage, "decoding") == 0)
        g_string_append (text, _("decoding"));
      else
        g_string_append (text, progress->stage);
    }
  else
    g_string_append_printf (text, _("step %d/%d"), progress->step, progress->total);
  if (progress->eta_s > 0)
    {
      g_autofree char *eta = format_seconds (progress->eta_s);
      g_string_append_printf (text, _(" · %s left"), eta);
    }
  double done = progress->total > 0 ? (double) progress->step / progress->total : 0;
  if (progress->images > 1)
    done = (progress->image + done) / progress->images;
  gtk_progress_bar_set_fraction (bar, CLAMP (done, 0, 1));
  gtk_progress_bar_set_text (bar, text->str);
}

void
sf_generation_panel_set_staging (SfGenerationPanel *self, guint count, guint current)
{
  g_return_if_fail (SF_IS_GENERATION_PANEL (self));
  self->staging_count = count;
  self->staging_current = count ? MIN (current, count - 1) : 0;
  gtk_widget_set_visible (self->staging, count > 0);
  g_autofree char *label = g_strdup_printf ("%u/%u", self->staging_current + 1, count);
  gtk_label_set_text (GTK_LABEL (self->staging_label), label);
  update_actions (self);
}

static void
select_stage (SfGenerationPanel *self, guint index)
{
  if (index >= self->staging_count)
    return;
  sf_generation_panel_set_staging (self, self->staging_count, index);
  g_signal_emit (self, signals[SIGNAL_STAGE_SELECT], 0, index);
}

static void
action_activated (GtkWidget *widget, const char *name, GVariant *parameter)
{
  SfGenerationPanel *self = SF_GENERATION_PANEL (widget);
  if (strcmp (name, "gen.generate") == 0)
    g_signal_emit (self, signals[SIGNAL_GENERATE], 0);
  else if (strcmp (name, "gen.cancel") == 0)
    g_signal_emit (self, signals[SIGNAL_CANCEL], 0);
  else if (strcmp (name, "gen.accept") == 0)
    g_signal_emit (self, signals[SIGNAL_STAGE_ACCEPT], 0);
  else if (strcmp (name, "gen.discard") == 0)
    g_signal_emit (self, signals[SIGNAL_STAGE_DISCARD], 0);
  else if (strcmp (name, "gen.next") == 0)
    select_stage (self, self->staging_current + 1);
  else if (strcmp (name, "gen.previous") == 0 && self->staging_current > 0)
    select_stage (self, self->staging_current - 1);
  else if (strcmp (name, "gen.dice") == 0)
    gtk_adjustment_set_value (self->seed, -1);
  else if (strcmp (name, "gen.extend") == 0)
    g_signal_emit (self, signals[SIGNAL_EXTEND], 0, g_variant_get_int32 (parameter),
                   (int) lround (gtk_adjustment_get_value (self->extend_px)));
}

static void
on_frame_selected (SfGenerationPanel *self)
{
  guint frame = frame_index (self);
  g_signal_emit (self, signals[SIGNAL_FRAME_SIZE], 0, sf_frame_sizes[frame].width, sf_frame_sizes[frame].height);
}

static void
on_prompt_changed (SfPromptEditor *editor, SfGenerationPanel *self)
{
  g_autofree char *text = sf_prompt_editor_get_text (editor);
  sf_generation_panel_save_string (self, editor == SF_PROMPT_EDITOR (self->prompt) ? "prompt" : "negative-prompt", text);
  g_signal_emit (self, signals[SIGNAL_PROMPT_CHANGED], 0);
}

/* ---- the widget ----------------------------------------------------------- */

SfPromptEditor *
sf_generation_panel_get_prompt_editor (SfGenerationPanel *self)
{
  g_return_val_if_fail (SF_IS_GENERATION_PANEL (self), NULL);
  return SF_PROMPT_EDITOR (self->prompt);
}

SfPromptEditor *
sf_generation_panel_get_negative_editor (SfGenerationPanel *self)
{
  g_return_val_if_fail (SF_IS_GENERATION_PANEL (self), NULL);
  return SF_PROMPT_EDITOR (self->negative);
}

static void
sf_generation_panel_dispose (GObject *object)
{
  SfGenerationPanel *self = SF_GENERATION_PANEL (object);
  /* An editor may outlive the panel for a moment (its count is still
   * running): it must not call back into a panel that is gone. */
  if (self->prompt)
    g_signal_handlers_disconnect_by_data (self->prompt, self);
  if (self->negative)
    g_signal_handlers_disconnect_by_data (self->negative, self);
  self->prompt = self->negative = NULL;
  g_clear_pointer (&self->stack, gtk_widget_unparent);
  g_clear_object (&self->model_names);
  g_clear_object (&self->refiner_names);
  g_clear_pointer (&self->models, g_ptr_array_unref);
  g_clear_pointer (&self->wanted_model, g_free);
  g_clear_pointer (&self->wanted_refiner, g_free);
  g_clear_object (&self->settings);
  G_OBJECT_CLASS (sf_generation_panel_parent_class)->dispose (object);
}

static void
sf_generation_panel_class_init (SfGenerationPanelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  object_class->dispose = sf_generation_panel_dispose;
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "sf-generation-panel");

  GType type = G_TYPE_FROM_CLASS (klass);
  signals[SIGNAL_GENERATE] = g_signal_new ("generate", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_CANCEL] = g_signal_new ("cancel", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_EXTEND] = g_signal_new ("extend", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 2,
                                         G_TYPE_INT, G_TYPE_INT);
  signals[SIGNAL_FRAME_SIZE] = g_signal_new ("frame-size", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                             G_TYPE_NONE, 2, G_TYPE_INT, G_TYPE_INT);
  signals[SIGNAL_STAGE_SELECT] = g_signal_new ("stage-select", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                               G_TYPE_NONE, 1, G_TYPE_UINT);
  signals[SIGNAL_STAGE_ACCEPT] = g_signal_new ("stage-accept", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                               G_TYPE_NONE, 0);
  signals[SIGNAL_STAGE_DISCARD] = g_signal_new ("stage-discard", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                                G_TYPE_NONE, 0);
  signals[SIGNAL_PROMPT_CHANGED] = g_signal_new ("prompt-changed", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                                 G_TYPE_NONE, 0);

  static const char *const actions[] = { "gen.generate", "gen.cancel", "gen.accept",  "gen.discard",
                                         "gen.next",     "gen.previous", "gen.dice" };
  for (gsize i = 0; i < G_N_ELEMENTS (actions); i++)
    gtk_widget_class_install_action (widget_class, actions[i], NULL, action_activated);
  gtk_widget_class_install_action (widget_class, "gen.extend", "i", action_activated);
}

static void
sf_generation_panel_init (SfGenerationPanel *self)
{
  self->models = g_ptr_array_new ();
}

GtkWidget *
sf_generation_panel_new (GSettings *settings)
{
  SfGenerationPanel *self = g_object_new (SF_TYPE_GENERATION_PANEL, NULL);
  self->settings = settings ? g_object_ref (settings) : NULL;

  sf_generation_panel_build (self);
  g_signal_connect (self->prompt, "changed", G_CALLBACK (on_prompt_changed), self);
  g_signal_connect (self->negative, "changed", G_CALLBACK (on_prompt_changed), self);
  g_signal_connect_swapped (self->open_folder_button, "clicked", G_CALLBACK (on_open_models_folder), self);
  g_signal_connect_swapped (self->rescan_button, "clicked", G_CALLBACK (sf_generation_panel_rescan_models), self);
  g_signal_connect_swapped (self->rescan_models_button, "clicked", G_CALLBACK (sf_generation_panel_rescan_models),
                            self);
  g_signal_connect_swapped (self->model_dropdown, "notify::selected", G_CALLBACK (on_model_selected), self);
  g_signal_connect_swapped (self->refiner_dropdown, "notify::selected", G_CALLBACK (on_refiner_selected), self);
  g_signal_connect_swapped (self->frame_dropdown, "notify::selected", G_CALLBACK (on_frame_selected), self);
  sf_generation_panel_rescan_models (self);
  update_actions (self);
  return GTK_WIDGET (self);
}
