/* The window's actions (win.*), their accelerators and the file choosers.
 * Keys with Control or Alt are application accelerators; plain keys (B,
 * E, M, F, I, [, ], Delete, Page Up/Down, F2) are window shortcuts
 * handled after the focused widget, so typing in a text field (a layer's
 * name, a prompt) never switches tools or clears a layer. */
#include <glib/gi18n.h>
#include <string.h>

#include "document-io.h"
#include "window-private.h"

static const SfAccelerator ACCELERATORS[] = {
  { "win.new", { "<Control>n" } },
  { "win.open", { "<Control>o" } },
  { "win.save", { "<Control>s" } },
  { "win.save-as", { "<Control><Shift>s" } },
  { "win.export", { "<Control><Shift>e" } },
  { "win.close", { "<Control>w" } },
  { "win.undo", { "<Control>z" } },
  { "win.redo", { "<Control><Shift>z", "<Control>y" } },
  { "win.zoom-in", { "<Control>plus", "<Control>equal", "<Control>KP_Add" } },
  { "win.zoom-out", { "<Control>minus", "<Control>KP_Subtract" } },
  { "win.zoom-fit", { "<Control>0" } },
  { "win.zoom-100", { "<Control>1" } },
  { "win.show-mask", { "<Control>h" } },
  { "win.mask-fill-frame", { "<Control><Shift>f" } },
  { "win.mask-clear", { "<Control>d" } },
  { "win.mask-invert", { "<Control><Shift>i" } },
  { "win.layer-new", { "<Control><Shift>n" } },
  { "win.layer-duplicate", { "<Control>j" } },
  { "win.layer-delete", { "<Shift>Delete" } },
  { "win.layer-merge-down", { "<Control>e" } },
  { "win.layer-raise", { "<Control>bracketright" } },
  { "win.layer-lower", { "<Control>bracketleft" } },
  { "win.layer-select-above", { "<Alt>bracketright" } },
  { "win.layer-select-below", { "<Alt>bracketleft" } },
  { NULL, { NULL } },
};

const SfAccelerator *
sf_window_get_accelerators (void)
{
  return ACCELERATORS;
}

/* Keys without Control or Alt, as in Krita, GIMP and Photoshop; also
 * Delete, Page Up/Down and F2, which text fields need for themselves. */
static const struct {
  guint key;
  const char *action;
  const char *target; /* a string target, or NULL */
} KEYS[] = {
  { GDK_KEY_b, "win.tool", "brush" },
  { GDK_KEY_e, "win.swap-eraser", NULL },
  { GDK_KEY_m, "win.tool", "mask" },
  { GDK_KEY_f, "win.tool", "frame" },
  { GDK_KEY_i, "win.tool", "eyedropper" },
  { GDK_KEY_bracketleft, "win.brush-smaller", NULL },
  { GDK_KEY_bracketright, "win.brush-larger", NULL },
  { GDK_KEY_Delete, "win.layer-clear", NULL },
  { GDK_KEY_Page_Up, "win.layer-select-above", NULL },
  { GDK_KEY_Page_Down, "win.layer-select-below", NULL },
  { GDK_KEY_F2, "win.layer-rename", NULL },
};

static SfLayer *
active_layer (SfWindow *self)
{
  return sf_document_get_active_layer (self->document);
}

/* File choosers */

static void
set_chooser_folder (SfWindow *self, GtkFileChooser *chooser)
{
  g_autofree char *folder = NULL;
  if (self->path)
    folder = g_path_get_dirname (self->path);
  else if (self->settings)
    folder = g_settings_get_string (self->settings, "last-folder");
  if (folder && folder[0])
    {
      g_autoptr (GFile) file = g_file_new_for_path (folder);
      gtk_file_chooser_set_current_folder (chooser, file, NULL);
    }
}

static void
add_filter (GtkFileChooser *chooser, const char *name, const char *const *patterns)
{
  GtkFileFilter *filter = gtk_file_filter_new ();
  gtk_file_filter_set_name (filter, name);
  for (; *patterns; patterns++)
    gtk_file_filter_add_suffix (filter, *patterns);
  gtk_file_chooser_add_filter (chooser, filter);
  g_object_unref (filter);
}

typedef void (*ChooserDone) (SfWindow *self, const char *path);

static void
on_chooser_response (GtkNativeDialog *dialog, int response, SfWindow *self)
{
  ChooserDone done = g_object_get_data (G_OBJECT (dialog), "done");
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);
      if (path)
        done (self, path);
    }
  else
    self->close_after_save = FALSE;
  g_object_unref (dialog);
}

static void
choose_file (SfWindow *self, const char *title, GtkFileChooserAction action,
             const char *filter_name, const char *const *suffixes, const char *suggested,
             ChooserDone done)
{
  GtkFileChooserNative *chooser = gtk_file_chooser_native_new (
      title, GTK_WINDOW (self), action,
      action == GTK_FILE_CHOOSER_ACTION_SAVE ? _("_Save") : _("_Open"), _("_Cancel"));
  add_filter (GTK_FILE_CHOOSER (chooser), filter_name, suffixes);
  set_chooser_folder (self, GTK_FILE_CHOOSER (chooser));
  if (suggested)
    gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), suggested);
  g_object_set_data (G_OBJECT (chooser), "done", done);
  g_signal_connect (chooser, "response", G_CALLBACK (on_chooser_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
open_chosen (SfWindow *self, const char *path)
{
  g_autoptr (GError) error = NULL;
  if (!sf_window_open_path (self, path, &error))
    sf_window_show_message (self, error->message);
}

static void
save_chosen (SfWindow *self, const char *path)
{
  sf_window_save (self, path);
}

static void
export_chosen (SfWindow *self, const char *path)
{
  g_autofree char *with_extension = g_str_has_suffix (path, ".png") ? g_strdup (path)
                                                                     : g_strconcat (path, ".png", NULL);
  sf_window_export (self, with_extension);
}

static char *
suggested_name (SfWindow *self, const char *extension)
{
  const char *from = self->path ? self->path : self->imported_from;
  g_autofree char *base = from ? g_path_get_basename (from) : g_strdup (_("Untitled"));
  char *dot = strrchr (base, '.');
  if (dot && dot != base)
    *dot = '\0';
  return g_strconcat (base, extension, NULL);
}

/* File actions */

static void
action_new (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  SfWindow *self = user_data;
  int width = self->settings ? g_settings_get_int (self->settings, "new-width") : 1024;
  int height = self->settings ? g_settings_get_int (self->settings, "new-height") : 1024;
  if (sf_window_is_modified (self))
    {
      SfWindow *other = sf_window_new (gtk_window_get_application (GTK_WINDOW (self)),
                                       self->settings);
      gtk_window_present (GTK_WINDOW (other));
      return;
    }
  sf_window_set_document (self, sf_document_new (width, height), NULL);
}

static void
action_open (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  static const char *const suffixes[] = { "ora", "png", "jpg", "jpeg", "webp", "tif", "tiff",
                                          NULL };
  choose_file (user_data, _("Open"), GTK_FILE_CHOOSER_ACTION_OPEN,
               _("Images and Sfumato documents"), suffixes, NULL, open_chosen);
}

static void
action_open_file (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  open_chosen (user_data, g_variant_get_string (parameter, NULL));
}

static void
action_save_as (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  static const char *const suffixes[] = { "ora", NULL };
  g_autofree char *name = suggested_name (user_data, ".ora");
  choose_file (user_data, _("Save As"), GTK_FILE_CHOOSER_ACTION_SAVE, _("OpenRaster documents"),
               suffixes, name, save_chosen);
}

static void
action_save (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  SfWindow *self = user_data;
  if (self->path)
    sf_window_save (self, NULL);
  else
    action_save_as (action, parameter, user_data);
}

static void
action_save_as_file (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  sf_window_save (user_data, g_variant_get_string (parameter, NULL));
}

static void
action_export (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  static const char *const suffixes[] = { "png", NULL };
  g_autofree char *name = suggested_name (user_data, ".png");
  choose_file (user_data, _("Export as PNG"), GTK_FILE_CHOOSER_ACTION_SAVE, _("PNG images"),
               suffixes, name, export_chosen);
}

static void
action_export_file (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  export_chosen (user_data, g_variant_get_string (parameter, NULL));
}

static void
action_close (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  gtk_window_close (GTK_WINDOW (user_data));
}

/* Edit and view */

static void
action_undo (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  SfWindow *self = user_data;
  if (!sf_canvas_view_is_busy (self->canvas_view))
    sf_document_undo (self->document);
}

static void
action_redo (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  SfWindow *self = user_data;
  if (!sf_canvas_view_is_busy (self->canvas_view))
    sf_document_redo (self->document);
}

static void
action_zoom_in (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  sf_canvas_view_zoom_in (((SfWindow *) user_data)->canvas_view);
}

static void
action_zoom_out (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  sf_canvas_view_zoom_out (((SfWindow *) user_data)->canvas_view);
}

static void
action_zoom_fit (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  sf_canvas_view_zoom_fit (((SfWindow *) user_data)->canvas_view);
}

static void
action_zoom_100 (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  sf_canvas_view_set_zoom (((SfWindow *) user_data)->canvas_view, 1.0, -1, -1);
}

static void
action_show_mask (GSimpleAction *action, GVariant *state, gpointer user_data)
{
  SfWindow *self = user_data;
  g_simple_action_set_state (action, state);
  sf_canvas_view_set_show_mask (self->canvas_view, g_variant_get_boolean (state));
}

/* Tools */

static void
action_tool (GSimpleAction *action, GVariant *state, gpointer user_data)
{
  SfWindow *self = user_data;
  SfTool tool = sf_tool_from_id (g_variant_get_string (state, NULL));
  if (tool == SF_TOOL_COUNT)
    return;
  g_simple_action_set_state (action, state);
  sf_tool_options_set_tool (self->tool_options, tool);
}

static void
on_tool_changed (SfToolOptions *options, GParamSpec *pspec, SfWindow *self)
{
  GAction *action = g_action_map_lookup_action (G_ACTION_MAP (self), "tool");
  g_simple_action_set_state (G_SIMPLE_ACTION (action),
                             g_variant_new_string (sf_tool_get_id (sf_tool_options_get_tool (options))));
}

static void
action_swap_eraser (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  SfWindow *self = user_data;
  static const SfTool swapped[SF_TOOL_COUNT] = {
    [SF_TOOL_BRUSH] = SF_TOOL_ERASER,    [SF_TOOL_ERASER] = SF_TOOL_BRUSH,
    [SF_TOOL_MASK] = SF_TOOL_MASK_ERASER, [SF_TOOL_MASK_ERASER] = SF_TOOL_MASK,
    [SF_TOOL_FRAME] = SF_TOOL_ERASER,    [SF_TOOL_EYEDROPPER] = SF_TOOL_ERASER,
  };
  sf_tool_options_set_tool (self->tool_options,
                            swapped[sf_tool_options_get_tool (self->tool_options)]);
}

static void
change_size (SfWindow *self, int direction)
{
  /* Steps that feel even at every size, as in Krita. */
  double size = sf_tool_options_get_size (self->tool_options);
  double step = size < 10 ? 1 : size < 50 ? 5 : size < 200 ? 10 : 50;
  sf_tool_options_set_size (self->tool_options, size + direction * step);
}

static void
action_brush_smaller (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  change_size (user_data, -1);
}

static void
action_brush_larger (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  change_size (user_data, 1);
}

/* Mask */

static void
action_mask_fill_frame (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  SfWindow *self = user_data;
  SfRect frame = sf_document_get_frame (self->document);
  sf_document_fill_mask (self->document, &frame, 255);
}

static void
action_mask_clear (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  SfWindow *self = user_data;
  SfRect canvas = sf_document_get_canvas (self->document);
  sf_document_fill_mask (self->document, &canvas, 0);
}

static void
action_mask_invert (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  sf_document_invert_mask (((SfWindow *) user_data)->document);
}

static void
action_mask_grow (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  sf_document_grow_mask (((SfWindow *) user_data)->document, g_variant_get_int32 (parameter));
}

static void
action_mask_shrink (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  sf_document_grow_mask (((SfWindow *) user_data)->document, -g_variant_get_int32 (parameter));
}

static void
action_mask_feather (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  sf_document_feather_mask (((SfWindow *) user_data)->document, g_variant_get_int32 (parameter));
}

/* Layers */

static void
action_layer_new (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  sf_document_add_layer (((SfWindow *) user_data)->document, NULL);
}

static void
action_layer_duplicate (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  SfWindow *self = user_data;
  if (active_layer (self))
    sf_document_duplicate_layer (self->document, active_layer (self));
}

static void
action_layer_delete (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  SfWindow *self = user_data;
  if (active_layer (self))
    sf_document_remove_layer (self->document, active_layer (self));
}

static void
action_layer_clear (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  SfWindow *self = user_data;
  if (active_layer (self))
    sf_document_clear_layer (self->document, active_layer (self));
}

static void
action_layer_merge_down (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  SfWindow *self = user_data;
  g_autoptr (GError) error = NULL;
  if (active_layer (self) && !sf_document_merge_down (self->document, active_layer (self), &error))
    sf_window_show_message (self, error->message);
}

static void
move_active (SfWindow *self, int delta)
{
  SfLayer *layer = active_layer (self);
  int index = sf_document_get_layer_index (self->document, layer);
  int count = (int) sf_document_get_layer_count (self->document);
  if (layer && index + delta >= 0 && index + delta < count)
    sf_document_move_layer (self->document, layer, (guint) (index + delta));
}

static void
action_layer_raise (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  move_active (user_data, 1);
}

static void
action_layer_lower (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  move_active (user_data, -1);
}

static void
select_relative (SfWindow *self, int delta)
{
  int index = sf_document_get_layer_index (self->document, active_layer (self));
  SfLayer *next = sf_document_get_layer (self->document, (guint) MAX (0, index + delta));
  if (next && index >= 0)
    sf_document_set_active_layer (self->document, next);
}

static void
action_layer_select_above (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  select_relative (user_data, 1);
}

static void
action_layer_select_below (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  select_relative (user_data, -1);
}

static void
action_layer_add_mask (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  SfWindow *self = user_data;
  if (active_layer (self))
    {
      sf_document_add_layer_mask (self->document, active_layer (self));
      g_object_set (self->tool_options, "on-layer-mask", TRUE, NULL);
    }
}

static void
action_layer_remove_mask (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  SfWindow *self = user_data;
  if (active_layer (self))
    sf_document_remove_layer_mask (self->document, active_layer (self));
}

static void
action_layer_rename (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  sf_layers_panel_rename_active (((SfWindow *) user_data)->layers_panel);
}

/* Canvas and frame */

static void
action_canvas_fit_frame (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  SfWindow *self = user_data;
  SfRect canvas = sf_document_get_canvas (self->document);
  SfRect frame = sf_document_get_frame (self->document), both;
  sf_rect_union (&canvas, &frame, &both);
  g_autoptr (GError) error = NULL;
  if (!sf_document_set_canvas (self->document, &both, &error))
    sf_window_show_message (self, error->message);
}

static void
action_frame_reset (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  SfWindow *self = user_data;
  SfRect canvas = sf_document_get_canvas (self->document);
  int width = MIN (SF_FRAME_DEFAULT_SIZE, MAX (8, canvas.width / 8 * 8));
  int height = MIN (SF_FRAME_DEFAULT_SIZE, MAX (8, canvas.height / 8 * 8));
  SfRect frame = { canvas.x + (canvas.width - width) / 2, canvas.y + (canvas.height - height) / 2,
                   width, height };
  sf_document_set_frame (self->document, &frame);
}

static const GActionEntry ENTRIES[] = {
  { .name = "new", .activate = action_new },
  { .name = "open", .activate = action_open },
  { .name = "open-file", .activate = action_open_file, .parameter_type = "s" },
  { .name = "save", .activate = action_save },
  { .name = "save-as", .activate = action_save_as },
  { .name = "save-as-file", .activate = action_save_as_file, .parameter_type = "s" },
  { .name = "export", .activate = action_export },
  { .name = "export-file", .activate = action_export_file, .parameter_type = "s" },
  { .name = "close", .activate = action_close },
  { .name = "undo", .activate = action_undo },
  { .name = "redo", .activate = action_redo },
  { .name = "zoom-in", .activate = action_zoom_in },
  { .name = "zoom-out", .activate = action_zoom_out },
  { .name = "zoom-fit", .activate = action_zoom_fit },
  { .name = "zoom-100", .activate = action_zoom_100 },
  { .name = "show-mask", .state = "true", .change_state = action_show_mask },
  { .name = "tool", .parameter_type = "s", .state = "'brush'", .change_state = action_tool },
  { .name = "swap-eraser", .activate = action_swap_eraser },
  { .name = "brush-smaller", .activate = action_brush_smaller },
  { .name = "brush-larger", .activate = action_brush_larger },
  { .name = "mask-fill-frame", .activate = action_mask_fill_frame },
  { .name = "mask-clear", .activate = action_mask_clear },
  { .name = "mask-invert", .activate = action_mask_invert },
  { .name = "mask-grow", .activate = action_mask_grow, .parameter_type = "i" },
  { .name = "mask-shrink", .activate = action_mask_shrink, .parameter_type = "i" },
  { .name = "mask-feather", .activate = action_mask_feather, .parameter_type = "i" },
  { .name = "layer-new", .activate = action_layer_new },
  { .name = "layer-duplicate", .activate = action_layer_duplicate },
  { .name = "layer-delete", .activate = action_layer_delete },
  { .name = "layer-clear", .activate = action_layer_clear },
  { .name = "layer-merge-down", .activate = action_layer_merge_down },
  { .name = "layer-raise", .activate = action_layer_raise },
  { .name = "layer-lower", .activate = action_layer_lower },
  { .name = "layer-select-above", .activate = action_layer_select_above },
  { .name = "layer-select-below", .activate = action_layer_select_below },
  { .name = "layer-add-mask", .activate = action_layer_add_mask },
  { .name = "layer-remove-mask", .activate = action_layer_remove_mask },
  { .name = "layer-rename", .activate = action_layer_rename },
  { .name = "canvas-fit-frame", .activate = action_canvas_fit_frame },
  { .name = "frame-reset", .activate = action_frame_reset },
};

static void
enable (SfWindow *self, const char *name, gboolean enabled)
{
  GAction *action = g_action_map_lookup_action (G_ACTION_MAP (self), name);
  g_simple_action_set_enabled (G_SIMPLE_ACTION (action), enabled);
}

void
sf_window_update_actions (SfWindow *self)
{
  SfDocument *document = self->document;
  if (!document)
    return;
  SfLayer *layer = sf_document_get_active_layer (document);
  int index = sf_document_get_layer_index (document, layer);
  int count = (int) sf_document_get_layer_count (document);
  enable (self, "undo", sf_document_can_undo (document));
  enable (self, "redo", sf_document_can_redo (document));
  enable (self, "layer-duplicate", layer != NULL);
  enable (self, "layer-delete", layer != NULL);
  enable (self, "layer-clear", layer != NULL);
  enable (self, "layer-rename", layer != NULL);
  enable (self, "layer-merge-down", index > 0);
  enable (self, "layer-raise", layer && index < count - 1);
  enable (self, "layer-lower", index > 0);
  enable (self, "layer-select-above", layer && index < count - 1);
  enable (self, "layer-select-below", index > 0);
  enable (self, "layer-add-mask", layer && !sf_layer_get_mask (layer));
  enable (self, "layer-remove-mask", layer && sf_layer_get_mask (layer));
}

void
sf_window_add_actions (SfWindow *self)
{
  g_action_map_add_action_entries (G_ACTION_MAP (self), ENTRIES, G_N_ELEMENTS (ENTRIES), self);
  g_signal_connect (self->tool_options, "notify::tool", G_CALLBACK (on_tool_changed), self);

  GtkEventController *shortcuts = gtk_shortcut_controller_new ();
  gtk_event_controller_set_propagation_phase (shortcuts, GTK_PHASE_BUBBLE);
  for (gsize i = 0; i < G_N_ELEMENTS (KEYS); i++)
    {
      GtkShortcut *shortcut = gtk_shortcut_new (gtk_keyval_trigger_new (KEYS[i].key, 0),
                                                gtk_named_action_new (KEYS[i].action));
      if (KEYS[i].target)
        gtk_shortcut_set_arguments (shortcut, g_variant_new_string (KEYS[i].target));
      gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (shortcuts), shortcut);
    }
  gtk_widget_add_controller (GTK_WIDGET (self), shortcuts);
}
