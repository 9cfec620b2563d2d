#include "layers-panel.h"

#include <glib/gi18n.h>

struct _SfLayersPanel {
  GtkBox parent_instance;

  SfDocument *document;
  guint observer;
  SfLayerList *model;
  GtkSingleSelection *selection;
  gboolean updating;

  GtkListView *list_view;
  GtkDropDown *blend_dropdown;
  GtkAdjustment *opacity_adjustment;
  GtkToggleButton *alpha_lock_button;
};

G_DEFINE_FINAL_TYPE (SfLayersPanel, sf_layers_panel, GTK_TYPE_BOX)

/* Rows */

typedef struct {
  SfLayersPanel *panel;
  GtkWidget *box;
  GtkToggleButton *eye;
  GtkPicture *thumbnail;
  GtkStack *name_stack; /* the label, or the entry while renaming */
  GtkLabel *name;
  GtkEntry *name_entry;
  GtkWidget *mask_icon;
  GtkWidget *generated_icon;
  SfLayerItem *item; /* while bound */
  gulong notify_handler;
  gboolean updating;
} Row;

static void
row_update (Row *row)
{
  SfLayer *layer = sf_layer_item_get_layer (row->item);
  row->updating = TRUE;
  gboolean visible = sf_layer_get_visible (layer);
  gtk_toggle_button_set_active (row->eye, visible);
  gtk_button_set_icon_name (GTK_BUTTON (row->eye),
                            visible ? "view-reveal-symbolic" : "view-conceal-symbolic");
  gtk_label_set_label (row->name, sf_layer_get_name (layer));
  gtk_picture_set_paintable (row->thumbnail, sf_layer_item_get_thumbnail (row->item));
  gtk_widget_set_visible (row->mask_icon, sf_layer_get_mask (layer) != NULL);
  gtk_widget_set_visible (row->generated_icon, sf_layer_get_generation_id (layer) != NULL);
  if (sf_layer_get_generation_id (layer))
    gtk_widget_set_tooltip_text (row->generated_icon, sf_layer_get_generation_id (layer));
  gtk_widget_set_opacity (row->box, visible ? 1.0 : 0.55);
  row->updating = FALSE;
}

static void
on_eye_toggled (GtkToggleButton *eye, Row *row)
{
  if (row->updating || !row->item || !row->panel->document)
    return;
  sf_document_set_layer_visible (row->panel->document, sf_layer_item_get_layer (row->item),
                                 gtk_toggle_button_get_active (eye));
}

/* Renaming. GtkEditableLabel would do, but GTK 4.8's leaves a timeout
 * behind that crashes when its window closes after it had the focus; a
 * label and an entry in a stack behave the same. */
static void
start_renaming (Row *row)
{
  if (!row->item)
    return;
  gtk_editable_set_text (GTK_EDITABLE (row->name_entry),
                         sf_layer_get_name (sf_layer_item_get_layer (row->item)));
  gtk_stack_set_visible_child (row->name_stack, GTK_WIDGET (row->name_entry));
  gtk_widget_grab_focus (GTK_WIDGET (row->name_entry));
  gtk_editable_select_region (GTK_EDITABLE (row->name_entry), 0, -1);
}

static void
finish_renaming (Row *row, gboolean commit)
{
  if (gtk_stack_get_visible_child (row->name_stack) != GTK_WIDGET (row->name_entry))
    return;
  gtk_stack_set_visible_child (row->name_stack, GTK_WIDGET (row->name));
  const char *text = gtk_editable_get_text (GTK_EDITABLE (row->name_entry));
  if (commit && text[0] && row->item && row->panel->document)
    sf_document_set_layer_name (row->panel->document, sf_layer_item_get_layer (row->item), text);
}

static void
on_name_activate (GtkEntry *entry, Row *row)
{
  finish_renaming (row, TRUE);
}

static void
on_name_focus_leave (GtkEventControllerFocus *controller, Row *row)
{
  finish_renaming (row, TRUE);
}

static gboolean
on_name_key (GtkEventControllerKey *controller, guint keyval, guint keycode,
             GdkModifierType state, Row *row)
{
  if (keyval != GDK_KEY_Escape)
    return FALSE;
  finish_renaming (row, FALSE);
  return TRUE;
}

static void
on_row_pressed (GtkGestureClick *gesture, int n_press, double x, double y, Row *row)
{
  if (n_press == 2)
    start_renaming (row);
}

static GdkContentProvider *
on_drag_prepare (GtkDragSource *source, double x, double y, Row *row)
{
  if (!row->item)
    return NULL;
  return gdk_content_provider_new_typed (G_TYPE_UINT,
                                         sf_layer_get_id (sf_layer_item_get_layer (row->item)));
}

static SfLayer *
layer_with_id (SfDocument *document, guint id)
{
  for (guint i = 0; i < sf_document_get_layer_count (document); i++)
    if (sf_layer_get_id (sf_document_get_layer (document, i)) == id)
      return sf_document_get_layer (document, i);
  return NULL;
}

static gboolean
on_drop (GtkDropTarget *target, const GValue *value, double x, double y, Row *row)
{
  SfDocument *document = row->panel->document;
  if (!row->item || !document || !G_VALUE_HOLDS_UINT (value))
    return FALSE;
  SfLayer *moved = layer_with_id (document, g_value_get_uint (value));
  int index = sf_document_get_layer_index (document, sf_layer_item_get_layer (row->item));
  if (!moved || index < 0)
    return FALSE;
  sf_document_move_layer (document, moved, (guint) index);
  sf_document_set_active_layer (document, moved);
  return TRUE;
}

static void
setup_row (GtkSignalListItemFactory *factory, GtkListItem *list_item, SfLayersPanel *panel)
{
  Row *row = g_new0 (Row, 1);
  row->panel = panel;
  row->box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_widget_add_css_class (row->box, "layer-row");
  row->eye = GTK_TOGGLE_BUTTON (gtk_toggle_button_new ());
  gtk_widget_add_css_class (GTK_WIDGET (row->eye), "flat");
  gtk_widget_set_valign (GTK_WIDGET (row->eye), GTK_ALIGN_CENTER);
  gtk_widget_set_tooltip_text (GTK_WIDGET (row->eye), _("Show or hide the layer"));
  row->thumbnail = GTK_PICTURE (gtk_picture_new ());
  gtk_widget_set_size_request (GTK_WIDGET (row->thumbnail), SF_LAYER_THUMBNAIL_SIZE,
                               SF_LAYER_THUMBNAIL_SIZE);
  gtk_picture_set_can_shrink (row->thumbnail, FALSE);
  gtk_widget_add_css_class (GTK_WIDGET (row->thumbnail), "layer-thumbnail");
  row->name = GTK_LABEL (gtk_label_new (""));
  gtk_label_set_xalign (row->name, 0);
  gtk_label_set_ellipsize (row->name, PANGO_ELLIPSIZE_END);
  row->name_entry = GTK_ENTRY (gtk_entry_new ());
  row->name_stack = GTK_STACK (gtk_stack_new ());
  gtk_stack_add_child (row->name_stack, GTK_WIDGET (row->name));
  gtk_stack_add_child (row->name_stack, GTK_WIDGET (row->name_entry));
  gtk_widget_set_hexpand (GTK_WIDGET (row->name_stack), TRUE);
  gtk_widget_set_valign (GTK_WIDGET (row->name_stack), GTK_ALIGN_CENTER);
  g_signal_connect (row->name_entry, "activate", G_CALLBACK (on_name_activate), row);
  GtkEventController *focus = gtk_event_controller_focus_new ();
  g_signal_connect (focus, "leave", G_CALLBACK (on_name_focus_leave), row);
  gtk_widget_add_controller (GTK_WIDGET (row->name_entry), focus);
  GtkEventController *keys = gtk_event_controller_key_new ();
  g_signal_connect (keys, "key-pressed", G_CALLBACK (on_name_key), row);
  gtk_widget_add_controller (GTK_WIDGET (row->name_entry), keys);
  row->mask_icon = gtk_image_new_from_icon_name ("sf-layer-mask-symbolic");
  gtk_widget_set_tooltip_text (row->mask_icon, _("This layer has a mask"));
  row->generated_icon = gtk_image_new_from_icon_name ("image-x-generic-symbolic");
  gtk_box_append (GTK_BOX (row->box), GTK_WIDGET (row->eye));
  gtk_box_append (GTK_BOX (row->box), GTK_WIDGET (row->thumbnail));
  gtk_box_append (GTK_BOX (row->box), GTK_WIDGET (row->name_stack));
  gtk_box_append (GTK_BOX (row->box), row->mask_icon);
  gtk_box_append (GTK_BOX (row->box), row->generated_icon);
  g_signal_connect (row->eye, "toggled", G_CALLBACK (on_eye_toggled), row);

  GtkGesture *click = gtk_gesture_click_new ();
  g_signal_connect (click, "pressed", G_CALLBACK (on_row_pressed), row);
  gtk_widget_add_controller (row->box, GTK_EVENT_CONTROLLER (click));
  GtkDragSource *source = gtk_drag_source_new ();
  gtk_drag_source_set_actions (source, GDK_ACTION_MOVE);
  g_signal_connect (source, "prepare", G_CALLBACK (on_drag_prepare), row);
  gtk_widget_add_controller (row->box, GTK_EVENT_CONTROLLER (source));
  GtkDropTarget *target = gtk_drop_target_new (G_TYPE_UINT, GDK_ACTION_MOVE);
  g_signal_connect (target, "drop", G_CALLBACK (on_drop), row);
  gtk_widget_add_controller (row->box, GTK_EVENT_CONTROLLER (target));

  g_object_set_data_full (G_OBJECT (list_item), "row", row, g_free);
  g_object_set_data (G_OBJECT (row->box), "row", row);
  gtk_list_item_set_child (list_item, row->box);
}

static void
on_item_notify (SfLayerItem *item, GParamSpec *pspec, Row *row)
{
  row_update (row);
}

static void
bind_row (GtkSignalListItemFactory *factory, GtkListItem *list_item, SfLayersPanel *panel)
{
  Row *row = g_object_get_data (G_OBJECT (list_item), "row");
  row->item = gtk_list_item_get_item (list_item);
  row->notify_handler = g_signal_connect (row->item, "notify", G_CALLBACK (on_item_notify), row);
  row_update (row);
}

static void
unbind_row (GtkSignalListItemFactory *factory, GtkListItem *list_item, SfLayersPanel *panel)
{
  Row *row = g_object_get_data (G_OBJECT (list_item), "row");
  finish_renaming (row, FALSE);
  if (row->item)
    g_clear_signal_handler (&row->notify_handler, row->item);
  row->item = NULL;
}

/* The active layer and its properties */

static void
update_properties (SfLayersPanel *self)
{
  SfLayer *layer = self->document ? sf_document_get_active_layer (self->document) : NULL;
  self->updating = TRUE;
  gtk_widget_set_sensitive (GTK_WIDGET (self->blend_dropdown), layer != NULL);
  gtk_widget_set_sensitive (GTK_WIDGET (self->alpha_lock_button), layer != NULL);
  gtk_widget_set_sensitive (gtk_widget_get_parent (GTK_WIDGET (self->blend_dropdown)),
                            layer != NULL);
  if (layer)
    {
      gtk_drop_down_set_selected (self->blend_dropdown, sf_layer_get_blend_mode (layer));
      gtk_adjustment_set_value (self->opacity_adjustment, sf_layer_get_opacity (layer) * 100);
      gtk_toggle_button_set_active (self->alpha_lock_button, sf_layer_get_alpha_locked (layer));
    }
  guint position = layer ? sf_layer_list_get_position (self->model, layer)
                         : GTK_INVALID_LIST_POSITION;
  gtk_single_selection_set_selected (self->selection, position);
  self->updating = FALSE;
}

static void
on_document_changed (SfDocument *document, const SfDocumentEvent *event, gpointer user_data)
{
  SfLayersPanel *self = user_data;
  if (event->change & (SF_DOCUMENT_CHANGED_ACTIVE | SF_DOCUMENT_CHANGED_LAYERS))
    update_properties (self);
  else if ((event->change & SF_DOCUMENT_CHANGED_LAYER)
           && event->layer == sf_document_get_active_layer (document))
    update_properties (self);
}

static void
on_selection_changed (GtkSingleSelection *selection, GParamSpec *pspec, SfLayersPanel *self)
{
  if (self->updating || !self->document)
    return;
  SfLayerItem *item = gtk_single_selection_get_selected_item (selection);
  if (item)
    sf_document_set_active_layer (self->document, sf_layer_item_get_layer (item));
}

static void
on_opacity_changed (GtkAdjustment *adjustment, SfLayersPanel *self)
{
  SfLayer *layer = self->document ? sf_document_get_active_layer (self->document) : NULL;
  if (!self->updating && layer)
    sf_document_set_layer_opacity (self->document, layer, gtk_adjustment_get_value (adjustment) / 100);
}

static void
on_blend_changed (GtkDropDown *dropdown, GParamSpec *pspec, SfLayersPanel *self)
{
  SfLayer *layer = self->document ? sf_document_get_active_layer (self->document) : NULL;
  guint mode = gtk_drop_down_get_selected (dropdown);
  if (!self->updating && layer && mode < SF_BLEND_COUNT)
    sf_document_set_layer_blend_mode (self->document, layer, mode);
}

static void
on_alpha_lock_toggled (GtkToggleButton *button, SfLayersPanel *self)
{
  SfLayer *layer = self->document ? sf_document_get_active_layer (self->document) : NULL;
  if (!self->updating && layer)
    sf_document_set_layer_alpha_locked (self->document, layer,
                                        gtk_toggle_button_get_active (button));
}

void
sf_layers_panel_set_document (SfLayersPanel *self, SfDocument *document)
{
  if (self->document)
    sf_document_remove_observer (self->document, self->observer);
  self->document = document;
  sf_layer_list_set_document (self->model, document);
  self->observer = document ? sf_document_add_observer (document, on_document_changed, self) : 0;
  update_properties (self);
}

SfLayerList *
sf_layers_panel_get_model (SfLayersPanel *self)
{
  return self->model;
}

void
sf_layers_panel_rename_active (SfLayersPanel *self)
{
  guint position = gtk_single_selection_get_selected (self->selection);
  if (position == GTK_INVALID_LIST_POSITION)
    return;
  /* Find the row showing it among the list view's children. */
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->list_view)); child;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *box = gtk_widget_get_first_child (child);
      Row *row = box ? g_object_get_data (G_OBJECT (box), "row") : NULL;
      if (row && row->item
          && sf_layer_list_get_position (self->model, sf_layer_item_get_layer (row->item))
                 == position)
        {
          start_renaming (row);
          return;
        }
    }
}

static void
sf_layers_panel_dispose (GObject *object)
{
  SfLayersPanel *self = SF_LAYERS_PANEL (object);
  if (self->document)
    sf_layers_panel_set_document (self, NULL);
  gtk_widget_dispose_template (GTK_WIDGET (self), SF_TYPE_LAYERS_PANEL);
  g_clear_object (&self->selection);
  g_clear_object (&self->model);
  G_OBJECT_CLASS (sf_layers_panel_parent_class)->dispose (object);
}

static void
sf_layers_panel_class_init (SfLayersPanelClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  G_OBJECT_CLASS (klass)->dispose = sf_layers_panel_dispose;
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/sfumato/Sfumato/layers-panel.ui");
  gtk_widget_class_bind_template_child (widget_class, SfLayersPanel, list_view);
  gtk_widget_class_bind_template_child (widget_class, SfLayersPanel, blend_dropdown);
  gtk_widget_class_bind_template_child (widget_class, SfLayersPanel, opacity_adjustment);
  gtk_widget_class_bind_template_child (widget_class, SfLayersPanel, alpha_lock_button);
}

static void
sf_layers_panel_init (SfLayersPanel *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->model = sf_layer_list_new ();
  self->selection = gtk_single_selection_new (g_object_ref (G_LIST_MODEL (self->model)));
  gtk_single_selection_set_autoselect (self->selection, FALSE);
  gtk_single_selection_set_can_unselect (self->selection, FALSE);
  g_signal_connect (self->selection, "notify::selected", G_CALLBACK (on_selection_changed), self);
  GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (setup_row), self);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_row), self);
  g_signal_connect (factory, "unbind", G_CALLBACK (unbind_row), self);
  gtk_list_view_set_factory (self->list_view, factory);
  g_object_unref (factory);
  gtk_list_view_set_model (self->list_view, GTK_SELECTION_MODEL (self->selection));

  GtkStringList *modes = gtk_string_list_new (NULL);
  for (int mode = 0; mode < SF_BLEND_COUNT; mode++)
    gtk_string_list_append (modes, _(sf_blend_mode_get_label (mode)));
  gtk_drop_down_set_model (self->blend_dropdown, G_LIST_MODEL (modes));
  g_object_unref (modes);
  g_signal_connect (self->blend_dropdown, "notify::selected", G_CALLBACK (on_blend_changed), self);
  g_signal_connect (self->opacity_adjustment, "value-changed", G_CALLBACK (on_opacity_changed),
                    self);
  g_signal_connect (self->alpha_lock_button, "toggled", G_CALLBACK (on_alpha_lock_toggled), self);
  update_properties (self);
}

SfLayersPanel *
sf_layers_panel_new (void)
{
  return g_object_new (SF_TYPE_LAYERS_PANEL, NULL);
}
