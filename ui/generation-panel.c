#include "generation-panel.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "model-folders.h"

/* SDXL's trained sizes (about one megapixel, sides multiples of 64). */
static const struct {
  int width, height;
} FRAME_SIZES[] = {
  { 1024, 1024 }, { 1152, 896 }, { 896, 1152 }, { 1216, 832 }, { 832, 1216 },
  { 1344, 768 },  { 768, 1344 }, { 1536, 640 }, { 640, 1536 },
};

static const char *const MASKED_CONTENT_IDS[] = { "original", "fill", "latent-noise", NULL };
static const char *const MASKED_CONTENT_LABELS[] = { N_("Original"), N_("Fill"), N_("Latent noise"), NULL };
static const char *const PRECISION_IDS[] = { "fp16", "fp32", NULL };
static const char *const SCHEDULER_LABELS[] = { N_("Normal"), N_("Karras"), NULL };
static const char *const SIDE_LABELS[] = { N_("Left"), N_("Top"), N_("Right"), N_("Bottom") };
static const char *const SIDE_ICONS[] = { "go-previous-symbolic", "go-up-symbolic", "go-next-symbolic",
                                          "go-down-symbolic" };

struct _SfGenerationPanel {
  GtkWidget parent_instance;
  GSettings *settings;              /* nullable */
  GtkWidget *stack;
  /* Prompt */
  GtkWidget *prompt;
  GtkWidget *negative;
  /* Model & sampling */
  GtkWidget *model_dropdown;
  GtkWidget *refiner_dropdown;
  GtkAdjustment *refiner_start;
  GtkWidget *sampler_dropdown;
  GtkWidget *scheduler_dropdown;
  GtkAdjustment *steps;
  GtkAdjustment *cfg;
  GtkAdjustment *seed;
  GtkWidget *keep_seed;
  GtkAdjustment *batch_count;
  GtkAdjustment *strength;
  GtkWidget *precision_dropdown;
  /* Inpaint & outpaint */
  GtkAdjustment *mask_blur;
  GtkWidget *only_masked;
  GtkAdjustment *only_masked_padding;
  GtkWidget *masked_content_dropdown;
  GtkAdjustment *extend_px;
  /* Output */
  GtkWidget *frame_dropdown;
  GtkWidget *auto_regenerate;
  GtkWidget *watermark;
  /* Running */
  GtkWidget *generate_button;
  GtkWidget *cancel_button;
  GtkWidget *progress;
  GtkWidget *staging;
  GtkWidget *staging_label;
  /* First use */
  GtkWidget *folders_label;

  GPtrArray *models;                /* SfModelFile */
  GtkStringList *model_names;
  GtkStringList *refiner_names;     /* "None", then the models */
  char *wanted_model;               /* the path to select once it is found */
  char *wanted_refiner;
  gboolean busy;
  gboolean rescanning;              /* the lists change under the dropdowns */
  guint staging_count, staging_current;
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

/* ---- settings ------------------------------------------------------------- */

static gboolean
has_key (SfGenerationPanel *self, const char *key)
{
  if (!self->settings)
    return FALSE;
  g_autoptr (GSettingsSchema) schema = NULL;
  g_object_get (self->settings, "settings-schema", &schema, NULL);
  return schema && g_settings_schema_has_key (schema, key);
}

/* GtkAdjustment:value is a double; the keys are what they mean (i, x, d). */
static gboolean
number_from_setting (GValue *value, GVariant *variant, gpointer data)
{
  if (g_variant_is_of_type (variant, G_VARIANT_TYPE_INT32))
    g_value_set_double (value, g_variant_get_int32 (variant));
  else if (g_variant_is_of_type (variant, G_VARIANT_TYPE_INT64))
    g_value_set_double (value, (double) g_variant_get_int64 (variant));
  else
    g_value_set_double (value, g_variant_get_double (variant));
  return TRUE;
}

static GVariant *
number_to_setting (const GValue *value, const GVariantType *type, gpointer data)
{
  double number = g_value_get_double (value);
  if (g_variant_type_equal (type, G_VARIANT_TYPE_INT32))
    return g_variant_new_int32 ((gint32) lround (number));
  if (g_variant_type_equal (type, G_VARIANT_TYPE_INT64))
    return g_variant_new_int64 ((gint64) llround (number));
  return g_variant_new_double (number);
}

static void
bind_number (SfGenerationPanel *self, const char *key, GtkAdjustment *adjustment)
{
  if (has_key (self, key))
    g_settings_bind_with_mapping (self->settings, key, adjustment, "value", G_SETTINGS_BIND_DEFAULT,
                                  number_from_setting, number_to_setting, NULL, NULL);
}

static void
bind_flag (SfGenerationPanel *self, const char *key, GtkWidget *widget)
{
  if (has_key (self, key))
    g_settings_bind (self->settings, key, widget, "active", G_SETTINGS_BIND_DEFAULT);
}

/* A dropdown over a fixed list of ids, stored as the id. */
static gboolean
choice_from_setting (GValue *value, GVariant *variant, gpointer data)
{
  const char *const *ids = data;
  const char *id = g_variant_get_string (variant, NULL);
  guint index = 0;
  for (guint i = 0; ids[i]; i++)
    if (strcmp (ids[i], id) == 0)
      index = i;
  g_value_set_uint (value, index);
  return TRUE;
}

static GVariant *
choice_to_setting (const GValue *value, const GVariantType *type, gpointer data)
{
  const char *const *ids = data;
  guint index = g_value_get_uint (value);
  if (index >= g_strv_length ((char **) ids))
    return NULL;
  return g_variant_new_string (ids[index]);
}

static void
bind_choice (SfGenerationPanel *self, const char *key, GtkWidget *dropdown, const char *const *ids)
{
  if (has_key (self, key))
    g_settings_bind_with_mapping (self->settings, key, dropdown, "selected", G_SETTINGS_BIND_DEFAULT,
                                  choice_from_setting, choice_to_setting, (gpointer) ids, NULL);
}

static const char *const *
frame_size_ids (void)
{
  static const char *ids[G_N_ELEMENTS (FRAME_SIZES) + 1];
  if (g_once_init_enter (&ids[0]))
    {
      for (gsize i = 1; i < G_N_ELEMENTS (FRAME_SIZES); i++)
        {
          g_autofree char *id = g_strdup_printf ("%dx%d", FRAME_SIZES[i].width, FRAME_SIZES[i].height);
          ids[i] = g_intern_string (id);
        }
      g_once_init_leave (&ids[0], g_intern_static_string ("1024x1024"));
    }
  return ids;
}

static void
save_string (SfGenerationPanel *self, const char *key, const char *value)
{
  if (has_key (self, key))
    g_settings_set_string (self->settings, key, value ? value : "");
}

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

static GtkWidget *
dropdown_new (const char *const *labels, gboolean translate)
{
  GtkStringList *list = gtk_string_list_new (NULL);
  for (guint i = 0; labels[i]; i++)
    gtk_string_list_append (list, translate ? _(labels[i]) : labels[i]);
  return gtk_drop_down_new (G_LIST_MODEL (list), NULL);
}

/* Widgets are named after their settings key, so tests can find them. */
static GtkWidget *
spin_new (const char *name, GtkAdjustment **adjustment, double value, double lower, double upper, double step,
          guint digits)
{
  *adjustment = gtk_adjustment_new (value, lower, upper, step, step * 10, 0);
  GtkWidget *spin = gtk_spin_button_new (*adjustment, step, digits);
  gtk_spin_button_set_numeric (GTK_SPIN_BUTTON (spin), TRUE);
  gtk_widget_set_name (spin, name);
  gtk_widget_set_hexpand (spin, TRUE);
  return spin;
}

static void
add_row (GtkWidget *grid, int *row, const char *label, GtkWidget *widget, const char *tooltip)
{
  GtkWidget *title = gtk_label_new_with_mnemonic (label);
  gtk_label_set_xalign (GTK_LABEL (title), 0);
  gtk_label_set_mnemonic_widget (GTK_LABEL (title), widget);
  gtk_widget_set_hexpand (widget, TRUE);
  if (tooltip)
    {
      gtk_widget_set_tooltip_text (title, tooltip);
      gtk_widget_set_tooltip_text (widget, tooltip);
    }
  gtk_grid_attach (GTK_GRID (grid), title, 0, *row, 1, 1);
  gtk_grid_attach (GTK_GRID (grid), widget, 1, *row, 1, 1);
  (*row)++;
}

static GtkWidget *
grid_new (void)
{
  GtkWidget *grid = gtk_grid_new ();
  gtk_grid_set_row_spacing (GTK_GRID (grid), 6);
  gtk_grid_set_column_spacing (GTK_GRID (grid), 12);
  gtk_widget_set_margin_start (grid, 6);
  gtk_widget_set_margin_end (grid, 6);
  gtk_widget_set_margin_top (grid, 6);
  gtk_widget_set_margin_bottom (grid, 6);
  return grid;
}

static GtkWidget *
section_new (GtkWidget *box, const char *title, GtkWidget *child, gboolean expanded)
{
  GtkWidget *expander = gtk_expander_new (NULL);
  GtkWidget *label = gtk_label_new (title);
  gtk_widget_add_css_class (label, "heading");
  gtk_expander_set_label_widget (GTK_EXPANDER (expander), label);
  gtk_expander_set_expanded (GTK_EXPANDER (expander), expanded);
  gtk_expander_set_child (GTK_EXPANDER (expander), child);
  gtk_widget_add_css_class (expander, "generation-section");
  gtk_box_append (GTK_BOX (box), expander);
  return expander;
}

static GtkWidget *
check_new (const char *label)
{
  GtkWidget *check = gtk_check_button_new_with_mnemonic (label);
  gtk_widget_set_hexpand (check, TRUE);
  return check;
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
      save_string (self, "model", model->path);
    }
}

static void
on_refiner_selected (SfGenerationPanel *self)
{
  if (!self->models->len || self->rescanning)
    return;
  const SfModelFile *refiner = selected_model (self, self->refiner_dropdown, 1);
  set_string (&self->wanted_refiner, refiner ? refiner->path : NULL);
  save_string (self, "refiner", refiner ? refiner->path : "");
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
  return index < G_N_ELEMENTS (FRAME_SIZES) ? index : 0;
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
  request->width = FRAME_SIZES[frame].width;
  request->height = FRAME_SIZES[frame].height;
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
  options->frame_width = FRAME_SIZES[frame].width;
  options->frame_height = FRAME_SIZES[frame].height;
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
  sf_prompt_editor_set_text (SF_PROMPT_EDITOR (self->prompt), request->prompt);
  sf_prompt_editor_set_text (SF_PROMPT_EDITOR (self->negative), request->negative);

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
  for (guint i = 0; i < G_N_ELEMENTS (FRAME_SIZES); i++)
    if (FRAME_SIZES[i].width == request->width && FRAME_SIZES[i].height == request->height)
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
  g_signal_emit (self, signals[SIGNAL_FRAME_SIZE], 0, FRAME_SIZES[frame].width, FRAME_SIZES[frame].height);
}

static void
on_prompt_changed (SfPromptEditor *editor, SfGenerationPanel *self)
{
  g_autofree char *text = sf_prompt_editor_get_text (editor);
  save_string (self, editor == SF_PROMPT_EDITOR (self->prompt) ? "prompt" : "negative-prompt", text);
  g_signal_emit (self, signals[SIGNAL_PROMPT_CHANGED], 0);
}

/* ---- building ------------------------------------------------------------- */

static GtkWidget *
build_prompt_section (SfGenerationPanel *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  gtk_widget_set_margin_start (box, 6);
  gtk_widget_set_margin_end (box, 6);
  gtk_widget_set_margin_top (box, 6);
  self->prompt = sf_prompt_editor_new (_("Prompt: what to paint. Ctrl+↑/↓ weights a word."));
  self->negative = sf_prompt_editor_new (_("Negative prompt: what to avoid"));
  gtk_box_append (GTK_BOX (box), self->prompt);
  gtk_box_append (GTK_BOX (box), self->negative);
  g_signal_connect (self->prompt, "changed", G_CALLBACK (on_prompt_changed), self);
  g_signal_connect (self->negative, "changed", G_CALLBACK (on_prompt_changed), self);
  return box;
}

static GtkWidget *
build_sampling_section (SfGenerationPanel *self)
{
  GtkWidget *grid = grid_new ();
  int row = 0;
  self->model_names = gtk_string_list_new (NULL);
  self->model_dropdown = gtk_drop_down_new (G_LIST_MODEL (g_object_ref (self->model_names)), NULL);
  gtk_drop_down_set_enable_search (GTK_DROP_DOWN (self->model_dropdown), TRUE);
  add_row (grid, &row, _("_Model"), self->model_dropdown, _("The SDXL checkpoint"));
  const char *none[] = { _("None"), NULL };
  self->refiner_names = gtk_string_list_new (none);
  self->refiner_dropdown = gtk_drop_down_new (G_LIST_MODEL (g_object_ref (self->refiner_names)), NULL);
  add_row (grid, &row, _("_Refiner"), self->refiner_dropdown,
           _("A second model that finishes the last steps (SDXL's refiner)"));
  add_row (grid, &row, _("S_witch at"), spin_new ("refiner-start", &self->refiner_start, 0.8, 0.05, 0.95, 0.05, 2),
           _("The fraction of the steps the base model runs before the refiner takes over"));

  const char *const *samplers = sf_engine_get_sampler_names ();
  GtkStringList *sampler_labels = gtk_string_list_new (NULL);
  for (guint i = 0; samplers[i]; i++)
    gtk_string_list_append (sampler_labels, sf_engine_describe_sampler (samplers[i]));
  self->sampler_dropdown = gtk_drop_down_new (G_LIST_MODEL (sampler_labels), NULL);
  add_row (grid, &row, _("_Sampler"), self->sampler_dropdown, NULL);
  self->scheduler_dropdown = dropdown_new (SCHEDULER_LABELS, TRUE);
  add_row (grid, &row, _("Sc_hedule"), self->scheduler_dropdown, NULL);
  add_row (grid, &row, _("S_teps"), spin_new ("steps", &self->steps, 30, 1, 150, 1, 0), NULL);
  add_row (grid, &row, _("_CFG scale"), spin_new ("cfg", &self->cfg, 5, 1, 30, 0.5, 1),
           _("How closely the picture follows the prompt"));

  GtkWidget *seed_box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 4);
  GtkWidget *seed_spin = spin_new ("seed", &self->seed, -1, -1, 4294967295.0, 1, 0);
  gtk_editable_set_width_chars (GTK_EDITABLE (seed_spin), 10);
  gtk_box_append (GTK_BOX (seed_box), seed_spin);
  GtkWidget *dice = gtk_button_new_with_label ("🎲");
  gtk_widget_set_tooltip_text (dice, _("A new random seed each time (-1)"));
  gtk_actionable_set_action_name (GTK_ACTIONABLE (dice), "gen.dice");
  gtk_box_append (GTK_BOX (seed_box), dice);
  self->keep_seed = gtk_check_button_new_with_mnemonic (_("_Keep"));
  gtk_widget_set_tooltip_text (self->keep_seed, _("Write a random seed back into the field, so the next run reuses it"));
  gtk_box_append (GTK_BOX (seed_box), self->keep_seed);
  add_row (grid, &row, _("S_eed"), seed_box, NULL);
  gtk_label_set_mnemonic_widget (GTK_LABEL (gtk_grid_get_child_at (GTK_GRID (grid), 0, row - 1)), seed_spin);

  add_row (grid, &row, _("_Batch count"), spin_new ("batch-count", &self->batch_count, 1, 1, 64, 1, 0),
           _("Images made one after another, seeds seed, seed + 1, …"));
  add_row (grid, &row, _("Stre_ngth"), spin_new ("strength", &self->strength, 0.75, 0.01, 1, 0.05, 2),
           _("How much image-to-image and inpainting change the picture (1 repaints fully)"));
  self->precision_dropdown = dropdown_new (PRECISION_IDS, FALSE);
  add_row (grid, &row, _("_Precision"), self->precision_dropdown,
           _("fp32 needs twice the memory; fp16 is the usual choice"));
  return grid;
}

static GtkWidget *
build_inpaint_section (SfGenerationPanel *self)
{
  GtkWidget *grid = grid_new ();
  int row = 0;
  add_row (grid, &row, _("Mask _blur"), spin_new ("mask-blur", &self->mask_blur, 4, 0, 64, 1, 0),
           _("Softens the mask's edge, in pixels"));
  self->only_masked = check_new (_("Only _masked area"));
  gtk_widget_set_tooltip_text (self->only_masked,
                               _("Generate the masked area at full resolution, then paste it back"));
  gtk_grid_attach (GTK_GRID (grid), self->only_masked, 0, row++, 2, 1);
  add_row (grid, &row, _("_Padding"), spin_new ("only-masked-padding", &self->only_masked_padding, 32, 0, 256, 4, 0),
           _("Context around the masked area, in pixels"));
  self->masked_content_dropdown = dropdown_new (MASKED_CONTENT_LABELS, TRUE);
  add_row (grid, &row, _("Masked _content"), self->masked_content_dropdown, NULL);

  GtkWidget *extend_box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 4);
  GtkWidget *extend_spin = spin_new ("extend-px", &self->extend_px, 256, 8, 1024, 8, 0);
  gtk_box_append (GTK_BOX (extend_box), extend_spin);
  GtkWidget *sides = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);
  gtk_widget_add_css_class (sides, "linked");
  for (int side = 0; side < 4; side++)
    {
      GtkWidget *button = gtk_button_new_from_icon_name (SIDE_ICONS[side]);
      g_autofree char *tip = g_strdup_printf (_("Extend the canvas to the %s"), _(SIDE_LABELS[side]));
      gtk_widget_set_tooltip_text (button, tip);
      gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "gen.extend");
      gtk_actionable_set_action_target_value (GTK_ACTIONABLE (button), g_variant_new_int32 (side));
      gtk_box_append (GTK_BOX (sides), button);
    }
  gtk_box_append (GTK_BOX (extend_box), sides);
  add_row (grid, &row, _("_Extend by"), extend_box, _("Outpaint: grow the canvas on one side, in pixels"));
  gtk_label_set_mnemonic_widget (GTK_LABEL (gtk_grid_get_child_at (GTK_GRID (grid), 0, row - 1)), extend_spin);
  return grid;
}

static GtkWidget *
build_output_section (SfGenerationPanel *self)
{
  GtkWidget *grid = grid_new ();
  int row = 0;
  GtkStringList *sizes = gtk_string_list_new (NULL);
  for (guint i = 0; i < G_N_ELEMENTS (FRAME_SIZES); i++)
    {
      g_autofree char *label = FRAME_SIZES[i].width == FRAME_SIZES[i].height
                                 ? g_strdup_printf ("%d²", FRAME_SIZES[i].width)
                                 : g_strdup_printf ("%d × %d", FRAME_SIZES[i].width, FRAME_SIZES[i].height);
      gtk_string_list_append (sizes, label);
    }
  self->frame_dropdown = gtk_drop_down_new (G_LIST_MODEL (sizes), NULL);
  add_row (grid, &row, _("_Frame size"), self->frame_dropdown, _("SDXL's trained sizes, about a megapixel"));
  self->auto_regenerate = check_new (_("_Auto-regenerate when the prompt changes"));
  gtk_grid_attach (GTK_GRID (grid), self->auto_regenerate, 0, row++, 2, 1);
  self->watermark = check_new (_("Invisible _watermark"));
  gtk_widget_set_tooltip_text (self->watermark, _("Mark the images as generated, invisibly"));
  gtk_grid_attach (GTK_GRID (grid), self->watermark, 0, row++, 2, 1);
  return grid;
}

static GtkWidget *
build_running (SfGenerationPanel *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  gtk_widget_add_css_class (box, "generation-running");
  gtk_widget_set_margin_start (box, 6);
  gtk_widget_set_margin_end (box, 6);
  gtk_widget_set_margin_top (box, 6);
  gtk_widget_set_margin_bottom (box, 6);

  self->staging = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 4);
  GtkWidget *previous = gtk_button_new_with_label ("◀");
  gtk_actionable_set_action_name (GTK_ACTIONABLE (previous), "gen.previous");
  gtk_widget_set_tooltip_text (previous, _("Previous result"));
  self->staging_label = gtk_label_new ("");
  gtk_widget_add_css_class (self->staging_label, "numeric");
  GtkWidget *next = gtk_button_new_with_label ("▶");
  gtk_actionable_set_action_name (GTK_ACTIONABLE (next), "gen.next");
  gtk_widget_set_tooltip_text (next, _("Next result"));
  GtkWidget *spacer = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);
  gtk_widget_set_hexpand (spacer, TRUE);
  GtkWidget *accept = gtk_button_new_with_mnemonic (_("_Accept"));
  gtk_actionable_set_action_name (GTK_ACTIONABLE (accept), "gen.accept");
  gtk_widget_add_css_class (accept, "suggested-action");
  GtkWidget *discard = gtk_button_new_with_mnemonic (_("_Discard"));
  gtk_actionable_set_action_name (GTK_ACTIONABLE (discard), "gen.discard");
  gtk_box_append (GTK_BOX (self->staging), previous);
  gtk_box_append (GTK_BOX (self->staging), self->staging_label);
  gtk_box_append (GTK_BOX (self->staging), next);
  gtk_box_append (GTK_BOX (self->staging), spacer);
  gtk_box_append (GTK_BOX (self->staging), discard);
  gtk_box_append (GTK_BOX (self->staging), accept);
  gtk_widget_set_visible (self->staging, FALSE);
  gtk_box_append (GTK_BOX (box), self->staging);

  self->progress = gtk_progress_bar_new ();
  gtk_progress_bar_set_show_text (GTK_PROGRESS_BAR (self->progress), TRUE);
  gtk_progress_bar_set_ellipsize (GTK_PROGRESS_BAR (self->progress), PANGO_ELLIPSIZE_END);
  gtk_widget_set_visible (self->progress, FALSE);
  gtk_box_append (GTK_BOX (box), self->progress);

  GtkWidget *buttons = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_box_set_homogeneous (GTK_BOX (buttons), TRUE);
  self->generate_button = gtk_button_new_with_mnemonic (_("_Generate"));
  gtk_widget_add_css_class (self->generate_button, "suggested-action");
  gtk_widget_add_css_class (self->generate_button, "pill");
  gtk_widget_set_tooltip_text (self->generate_button, _("Generate (Ctrl+Return)"));
  gtk_actionable_set_action_name (GTK_ACTIONABLE (self->generate_button), "gen.generate");
  gtk_widget_set_hexpand (self->generate_button, TRUE);
  self->cancel_button = gtk_button_new_with_mnemonic (_("_Cancel"));
  gtk_widget_add_css_class (self->cancel_button, "destructive-action");
  gtk_actionable_set_action_name (GTK_ACTIONABLE (self->cancel_button), "gen.cancel");
  gtk_widget_set_visible (self->cancel_button, FALSE);
  gtk_box_append (GTK_BOX (buttons), self->generate_button);
  gtk_box_append (GTK_BOX (buttons), self->cancel_button);
  gtk_box_append (GTK_BOX (box), buttons);
  return box;
}

static GtkWidget *
build_first_use (SfGenerationPanel *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  gtk_widget_set_valign (box, GTK_ALIGN_CENTER);
  gtk_widget_set_margin_start (box, 18);
  gtk_widget_set_margin_end (box, 18);
  gtk_widget_set_margin_top (box, 18);
  gtk_widget_set_margin_bottom (box, 18);
  GtkWidget *icon = gtk_image_new_from_icon_name ("folder-download-symbolic");
  gtk_image_set_pixel_size (GTK_IMAGE (icon), 64);
  gtk_widget_add_css_class (icon, "dim-label");
  gtk_box_append (GTK_BOX (box), icon);
  GtkWidget *title = gtk_label_new (_("No SDXL checkpoint found"));
  gtk_widget_add_css_class (title, "title-2");
  gtk_label_set_wrap (GTK_LABEL (title), TRUE);
  gtk_box_append (GTK_BOX (box), title);
  GtkWidget *body = gtk_label_new (_("No SDXL checkpoint found. Put a .safetensors SDXL checkpoint in one of:"));
  gtk_label_set_wrap (GTK_LABEL (body), TRUE);
  gtk_label_set_justify (GTK_LABEL (body), GTK_JUSTIFY_CENTER);
  gtk_box_append (GTK_BOX (box), body);
  self->folders_label = gtk_label_new (NULL);
  gtk_label_set_wrap (GTK_LABEL (self->folders_label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (self->folders_label), PANGO_WRAP_CHAR);
  gtk_label_set_selectable (GTK_LABEL (self->folders_label), TRUE);
  gtk_label_set_xalign (GTK_LABEL (self->folders_label), 0);
  gtk_box_append (GTK_BOX (box), self->folders_label);
  GtkWidget *buttons = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_widget_set_halign (buttons, GTK_ALIGN_CENTER);
  GtkWidget *open = gtk_button_new_with_mnemonic (_("_Open models folder"));
  gtk_widget_add_css_class (open, "suggested-action");
  g_signal_connect_swapped (open, "clicked", G_CALLBACK (on_open_models_folder), self);
  GtkWidget *rescan = gtk_button_new_with_mnemonic (_("_Rescan"));
  g_signal_connect_swapped (rescan, "clicked", G_CALLBACK (sf_generation_panel_rescan_models), self);
  gtk_box_append (GTK_BOX (buttons), open);
  gtk_box_append (GTK_BOX (buttons), rescan);
  gtk_box_append (GTK_BOX (box), buttons);
  GtkWidget *scrolled = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), box);
  return scrolled;
}

static void
name_widgets (SfGenerationPanel *self)
{
  const struct {
    GtkWidget *widget;
    const char *name;
  } names[] = {
    { self->stack, "pages" },
    { self->model_dropdown, "model" },
    { self->refiner_dropdown, "refiner" },
    { self->sampler_dropdown, "sampler" },
    { self->scheduler_dropdown, "scheduler" },
    { self->keep_seed, "keep-seed" },
    { self->precision_dropdown, "precision" },
    { self->only_masked, "only-masked" },
    { self->masked_content_dropdown, "masked-content" },
    { self->frame_dropdown, "frame-size" },
    { self->auto_regenerate, "auto-regenerate" },
    { self->watermark, "watermark" },
    { self->generate_button, "generate" },
    { self->cancel_button, "cancel" },
    { self->progress, "progress" },
    { self->staging, "staging" },
    { self->staging_label, "staging-label" },
    { self->folders_label, "folders" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    gtk_widget_set_name (names[i].widget, names[i].name);
}

static void
bind_settings (SfGenerationPanel *self)
{
  bind_number (self, "refiner-start", self->refiner_start);
  bind_choice (self, "sampler", self->sampler_dropdown, sf_engine_get_sampler_names ());
  bind_choice (self, "scheduler", self->scheduler_dropdown, sf_engine_get_scheduler_names ());
  bind_number (self, "steps", self->steps);
  bind_number (self, "cfg", self->cfg);
  bind_number (self, "seed", self->seed);
  bind_flag (self, "keep-seed", self->keep_seed);
  bind_number (self, "batch-count", self->batch_count);
  bind_number (self, "strength", self->strength);
  bind_choice (self, "precision", self->precision_dropdown, PRECISION_IDS);
  bind_number (self, "mask-blur", self->mask_blur);
  bind_flag (self, "only-masked", self->only_masked);
  bind_number (self, "only-masked-padding", self->only_masked_padding);
  bind_choice (self, "masked-content", self->masked_content_dropdown, MASKED_CONTENT_IDS);
  bind_number (self, "extend-px", self->extend_px);
  bind_choice (self, "frame-size", self->frame_dropdown, frame_size_ids ());
  bind_flag (self, "auto-regenerate", self->auto_regenerate);
  bind_flag (self, "watermark", self->watermark);
  if (has_key (self, "model"))
    self->wanted_model = g_settings_get_string (self->settings, "model");
  if (has_key (self, "refiner"))
    self->wanted_refiner = g_settings_get_string (self->settings, "refiner");
  if (has_key (self, "prompt"))
    {
      g_autofree char *prompt = g_settings_get_string (self->settings, "prompt");
      sf_prompt_editor_set_text (SF_PROMPT_EDITOR (self->prompt), prompt);
    }
  if (has_key (self, "negative-prompt"))
    {
      g_autofree char *negative = g_settings_get_string (self->settings, "negative-prompt");
      sf_prompt_editor_set_text (SF_PROMPT_EDITOR (self->negative), negative);
    }
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

  GtkWidget *sections = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  gtk_widget_set_margin_start (sections, 6);
  gtk_widget_set_margin_end (sections, 6);
  gtk_widget_set_margin_top (sections, 6);
  section_new (sections, _("Prompt"), build_prompt_section (self), TRUE);
  section_new (sections, _("Model & sampling"), build_sampling_section (self), TRUE);
  section_new (sections, _("Inpaint & outpaint"), build_inpaint_section (self), FALSE);
  section_new (sections, _("Output"), build_output_section (self), FALSE);
  GtkWidget *scrolled = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), sections);
  gtk_widget_set_vexpand (scrolled, TRUE);

  GtkWidget *main_page = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_box_append (GTK_BOX (main_page), scrolled);
  gtk_box_append (GTK_BOX (main_page), gtk_separator_new (GTK_ORIENTATION_HORIZONTAL));
  gtk_box_append (GTK_BOX (main_page), build_running (self));

  self->stack = gtk_stack_new ();
  gtk_stack_add_named (GTK_STACK (self->stack), main_page, "main");
  gtk_stack_add_named (GTK_STACK (self->stack), build_first_use (self), "first-use");
  gtk_widget_set_parent (self->stack, GTK_WIDGET (self));

  name_widgets (self);
  bind_settings (self);
  g_signal_connect_swapped (self->model_dropdown, "notify::selected", G_CALLBACK (on_model_selected), self);
  g_signal_connect_swapped (self->refiner_dropdown, "notify::selected", G_CALLBACK (on_refiner_selected), self);
  g_signal_connect_swapped (self->frame_dropdown, "notify::selected", G_CALLBACK (on_frame_selected), self);
  sf_generation_panel_rescan_models (self);
  update_actions (self);
  return GTK_WIDGET (self);
}
