/* The generation panel's widgets: four sections (Prompt, Model &
 * sampling, Inpaint & outpaint, Output) in a scrolled column, the running
 * strip under them, and the first-use page; and their GSettings keys. */
#include "generation-panel-private.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

static const char *const MASKED_CONTENT_IDS[] = { "original", "fill", "latent-noise", NULL };
static const char *const MASKED_CONTENT_LABELS[] = { N_("Original"), N_("Fill"), N_("Latent noise"), NULL };
static const char *const PRECISION_IDS[] = { "fp16", "fp32", NULL };
static const char *const SCHEDULER_LABELS[] = { N_("Normal"), N_("Karras"), NULL };
static const char *const SIDE_TOOLTIPS[] = { N_("Extend to the left"), N_("Extend upwards"),
                                             N_("Extend to the right"), N_("Extend downwards") };
static const char *const SIDE_ICONS[] = { "go-previous-symbolic", "go-up-symbolic", "go-next-symbolic",
                                          "go-down-symbolic" };

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
  static const char *ids[SF_N_FRAME_SIZES + 1];
  if (g_once_init_enter (&ids[0]))
    {
      for (gsize i = 1; i < SF_N_FRAME_SIZES; i++)
        {
          g_autofree char *id = g_strdup_printf ("%dx%d", sf_frame_sizes[i].width, sf_frame_sizes[i].height);
          ids[i] = g_intern_string (id);
        }
      g_once_init_leave (&ids[0], g_intern_static_string ("1024x1024"));
    }
  return ids;
}

void
sf_generation_panel_save_string (SfGenerationPanel *self, const char *key, const char *value)
{
  if (has_key (self, key))
    g_settings_set_string (self->settings, key, value ? value : "");
}

/* ---- widgets -------------------------------------------------------------- */

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
  /* Narrow by default, so the panel fits a sidebar; rows stretch it. */
  gtk_editable_set_width_chars (GTK_EDITABLE (spin), 4);
  gtk_widget_set_name (spin, name);
  gtk_widget_set_hexpand (spin, TRUE);
  return spin;
}

static void
add_row (SfGenerationPanel *self, GtkWidget *grid, int *row, const char *label, GtkWidget *widget,
         const char *tooltip)
{
  GtkWidget *title = gtk_label_new_with_mnemonic (label);
  /* One label column across the sections. */
  gtk_size_group_add_widget (self->label_column, title);
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

static void
setup_label (GtkListItemFactory *factory, GtkListItem *item, gpointer ellipsize)
{
  GtkWidget *label = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  if (ellipsize)
    {
      gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_MIDDLE);
      gtk_label_set_width_chars (GTK_LABEL (label), 8);
      gtk_widget_set_hexpand (label, TRUE);
    }
  gtk_list_item_set_child (item, label);
}

static void
bind_label (GtkListItemFactory *factory, GtkListItem *item, gpointer short_name)
{
  const char *text = gtk_string_object_get_string (gtk_list_item_get_item (item));
  g_autofree char *shown = NULL;
  /* The button has little room: every checkpoint is .safetensors. */
  if (short_name && g_str_has_suffix (text, ".safetensors"))
    text = shown = g_strndup (text, strlen (text) - strlen (".safetensors"));
  gtk_label_set_text (GTK_LABEL (gtk_list_item_get_child (item)), text);
}

static GtkListItemFactory *
label_factory (gboolean ellipsize)
{
  GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (setup_label), GINT_TO_POINTER (ellipsize));
  g_signal_connect (factory, "bind", G_CALLBACK (bind_label), GINT_TO_POINTER (ellipsize));
  return factory;
}

/* Checkpoint names are long: the button shows them shortened in the
 * middle (the end tells versions apart), the list in full. */
static void
use_short_button (GtkWidget *dropdown)
{
  g_autoptr (GtkListItemFactory) button = label_factory (TRUE);
  g_autoptr (GtkListItemFactory) list = label_factory (FALSE);
  gtk_drop_down_set_factory (GTK_DROP_DOWN (dropdown), button);
  gtk_drop_down_set_list_factory (GTK_DROP_DOWN (dropdown), list);
}

static GtkWidget *
check_new (const char *label)
{
  GtkWidget *check = gtk_check_button_new_with_mnemonic (label);
  gtk_widget_set_hexpand (check, TRUE);
  return check;
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
  return box;
}

static GtkWidget *
build_sampling_section (SfGenerationPanel *self)
{
  GtkWidget *grid = grid_new ();
  int row = 0;
  self->model_names = gtk_string_list_new (NULL);
  self->model_dropdown = gtk_drop_down_new (G_LIST_MODEL (g_object_ref (self->model_names)), NULL);
  use_short_button (self->model_dropdown);
  /* Searching needs to know what to search in: the names. */
  GtkExpression *name = gtk_property_expression_new (GTK_TYPE_STRING_OBJECT, NULL, "string");
  gtk_drop_down_set_expression (GTK_DROP_DOWN (self->model_dropdown), name);
  gtk_expression_unref (name);
  gtk_drop_down_set_enable_search (GTK_DROP_DOWN (self->model_dropdown), TRUE);
  GtkWidget *model_box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 4);
  gtk_widget_set_hexpand (self->model_dropdown, TRUE);
  gtk_box_append (GTK_BOX (model_box), self->model_dropdown);
  self->rescan_models_button = gtk_button_new_from_icon_name ("view-refresh-symbolic");
  gtk_widget_set_tooltip_text (self->rescan_models_button, _("Look for checkpoints again"));
  gtk_box_append (GTK_BOX (model_box), self->rescan_models_button);
  add_row (self, grid, &row, _("_Model"), model_box, _("The SDXL checkpoint"));
  gtk_label_set_mnemonic_widget (GTK_LABEL (gtk_grid_get_child_at (GTK_GRID (grid), 0, row - 1)),
                                 self->model_dropdown);
  const char *none[] = { _("None"), NULL };
  self->refiner_names = gtk_string_list_new (none);
  self->refiner_dropdown = gtk_drop_down_new (G_LIST_MODEL (g_object_ref (self->refiner_names)), NULL);
  use_short_button (self->refiner_dropdown);
  add_row (self, grid, &row, _("_Refiner"), self->refiner_dropdown,
           _("A second model that finishes the last steps (SDXL's refiner)"));
  self->refiner_start_spin = spin_new ("refiner-start", &self->refiner_start, 0.8, 0.05, 0.95, 0.05, 2);
  add_row (self, grid, &row, _("S_witch at"), self->refiner_start_spin,
           _("The fraction of the steps the base model runs before the refiner takes over"));

  const char *const *samplers = sf_engine_get_sampler_names ();
  GtkStringList *sampler_labels = gtk_string_list_new (NULL);
  for (guint i = 0; samplers[i]; i++)
    gtk_string_list_append (sampler_labels, sf_engine_describe_sampler (samplers[i]));
  self->sampler_dropdown = gtk_drop_down_new (G_LIST_MODEL (sampler_labels), NULL);
  add_row (self, grid, &row, _("_Sampler"), self->sampler_dropdown, NULL);
  self->scheduler_dropdown = dropdown_new (SCHEDULER_LABELS, TRUE);
  add_row (self, grid, &row, _("Sc_hedule"), self->scheduler_dropdown, NULL);
  add_row (self, grid, &row, _("S_teps"), spin_new ("steps", &self->steps, 30, 1, 150, 1, 0), NULL);
  add_row (self, grid, &row, _("_CFG scale"), spin_new ("cfg", &self->cfg, 5, 1, 30, 0.5, 1),
           _("How closely the picture follows the prompt"));

  GtkWidget *seed_box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 4);
  GtkWidget *seed_spin = spin_new ("seed", &self->seed, -1, -1, 4294967295.0, 1, 0);
  gtk_editable_set_width_chars (GTK_EDITABLE (seed_spin), 6);
  gtk_box_append (GTK_BOX (seed_box), seed_spin);
  GtkWidget *dice = gtk_button_new_from_icon_name ("media-playlist-shuffle-symbolic");
  gtk_widget_set_tooltip_text (dice, _("A new random seed each time (-1)"));
  gtk_actionable_set_action_name (GTK_ACTIONABLE (dice), "gen.dice");
  gtk_box_append (GTK_BOX (seed_box), dice);
  add_row (self, grid, &row, _("S_eed"), seed_box, NULL);
  self->keep_seed = gtk_check_button_new_with_mnemonic (_("_Keep a random seed"));
  gtk_widget_set_tooltip_text (self->keep_seed, _("Write a random seed back into the field, so the next run reuses it"));
  gtk_label_set_mnemonic_widget (GTK_LABEL (gtk_grid_get_child_at (GTK_GRID (grid), 0, row - 1)), seed_spin);
  gtk_grid_attach (GTK_GRID (grid), self->keep_seed, 1, row++, 1, 1);

  add_row (self, grid, &row, _("_Batch count"), spin_new ("batch-count", &self->batch_count, 1, 1, 64, 1, 0),
           _("Images made one after another, seeds seed, seed + 1, …"));
  add_row (self, grid, &row, _("Stre_ngth"), spin_new ("strength", &self->strength, 0.75, 0.01, 1, 0.05, 2),
           _("How much image-to-image and inpainting change the picture (1 repaints fully)"));
  self->precision_dropdown = dropdown_new (PRECISION_IDS, FALSE);
  add_row (self, grid, &row, _("_Precision"), self->precision_dropdown,
           _("fp32 needs twice the memory; fp16 is the usual choice"));
  return grid;
}

static GtkWidget *
build_inpaint_section (SfGenerationPanel *self)
{
  GtkWidget *grid = grid_new ();
  int row = 0;
  add_row (self, grid, &row, _("Mask _blur"), spin_new ("mask-blur", &self->mask_blur, 4, 0, 64, 1, 0),
           _("Softens the mask's edge, in pixels"));
  self->only_masked = check_new (_("Only _masked area"));
  gtk_widget_set_tooltip_text (self->only_masked,
                               _("Generate the masked area at full resolution, then paste it back"));
  gtk_grid_attach (GTK_GRID (grid), self->only_masked, 0, row++, 2, 1);
  GtkWidget *padding = spin_new ("only-masked-padding", &self->only_masked_padding, 32, 0, 256, 4, 0);
  g_object_bind_property (self->only_masked, "active", padding, "sensitive", G_BINDING_SYNC_CREATE);
  add_row (self, grid, &row, _("_Padding"), padding,
           _("Context around the masked area, in pixels"));
  self->masked_content_dropdown = dropdown_new (MASKED_CONTENT_LABELS, TRUE);
  add_row (self, grid, &row, _("Masked _content"), self->masked_content_dropdown, NULL);

  add_row (self, grid, &row, _("_Extend by"), spin_new ("extend-px", &self->extend_px, 256, 8, 1024, 8, 0),
           _("Outpaint: how many pixels to grow the canvas by"));
  /* Under the number, one button per side, as wide as the field. */
  GtkWidget *sides = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);
  gtk_widget_add_css_class (sides, "linked");
  gtk_box_set_homogeneous (GTK_BOX (sides), TRUE);
  for (int side = 0; side < 4; side++)
    {
      GtkWidget *button = gtk_button_new_from_icon_name (SIDE_ICONS[side]);
      gtk_widget_set_tooltip_text (button, _(SIDE_TOOLTIPS[side]));
      gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "gen.extend");
      gtk_actionable_set_action_target_value (GTK_ACTIONABLE (button), g_variant_new_int32 (side));
      gtk_box_append (GTK_BOX (sides), button);
    }
  gtk_grid_attach (GTK_GRID (grid), sides, 1, row++, 1, 1);
  return grid;
}

static GtkWidget *
build_output_section (SfGenerationPanel *self)
{
  GtkWidget *grid = grid_new ();
  int row = 0;
  GtkStringList *sizes = gtk_string_list_new (NULL);
  for (guint i = 0; i < SF_N_FRAME_SIZES; i++)
    {
      g_autofree char *label = sf_frame_sizes[i].width == sf_frame_sizes[i].height
                                 ? g_strdup_printf ("%d²", sf_frame_sizes[i].width)
                                 : g_strdup_printf ("%d × %d", sf_frame_sizes[i].width, sf_frame_sizes[i].height);
      gtk_string_list_append (sizes, label);
    }
  self->frame_dropdown = gtk_drop_down_new (G_LIST_MODEL (sizes), NULL);
  add_row (self, grid, &row, _("_Frame size"), self->frame_dropdown, _("SDXL's trained sizes, about a megapixel"));
  self->auto_regenerate = check_new (_("_Auto-regenerate"));
  gtk_widget_set_tooltip_text (self->auto_regenerate, _("Generate again when the prompt has changed"));
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
  GtkWidget *body = gtk_label_new (_("Put a .safetensors SDXL checkpoint in one of:"));
  gtk_label_set_wrap (GTK_LABEL (body), TRUE);
  gtk_label_set_justify (GTK_LABEL (body), GTK_JUSTIFY_CENTER);
  gtk_box_append (GTK_BOX (box), body);
  self->folders_label = gtk_label_new (NULL);
  gtk_label_set_wrap (GTK_LABEL (self->folders_label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (self->folders_label), PANGO_WRAP_CHAR);
  gtk_label_set_selectable (GTK_LABEL (self->folders_label), TRUE);
  /* Selectable for copying a path, but not the first focus (which would
   * select it all). */
  gtk_widget_set_focusable (self->folders_label, FALSE);
  gtk_label_set_xalign (GTK_LABEL (self->folders_label), 0);
  gtk_widget_set_halign (self->folders_label, GTK_ALIGN_CENTER);
  gtk_box_append (GTK_BOX (box), self->folders_label);
  GtkWidget *buttons = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_widget_set_halign (buttons, GTK_ALIGN_CENTER);
  self->open_folder_button = gtk_button_new_with_mnemonic (_("_Open models folder"));
  gtk_widget_add_css_class (self->open_folder_button, "suggested-action");
  self->rescan_button = gtk_button_new_with_mnemonic (_("_Rescan"));
  gtk_box_append (GTK_BOX (buttons), self->open_folder_button);
  gtk_box_append (GTK_BOX (buttons), self->rescan_button);
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
    { self->open_folder_button, "open-models-folder" },
    { self->rescan_button, "rescan" },
    { self->rescan_models_button, "rescan-models" },
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


void
sf_generation_panel_build (SfGenerationPanel *self)
{
  /* The widgets keep their size group alive. */
  g_autoptr (GtkSizeGroup) label_column = gtk_size_group_new (GTK_SIZE_GROUP_HORIZONTAL);
  self->label_column = label_column;
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

  self->label_column = NULL;
  name_widgets (self);
  bind_settings (self);
}
