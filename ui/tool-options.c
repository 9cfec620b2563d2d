#include "tool-options.h"

#include <glib/gi18n.h>
#include <math.h>

static const char *const TOOL_IDS[SF_TOOL_COUNT] = {
  "brush", "eraser", "mask", "mask-eraser", "frame", "eyedropper",
};

static const char *const TOOL_NAMES[SF_TOOL_COUNT] = {
  N_("Brush"), N_("Eraser"), N_("Mask Brush"), N_("Mask Eraser"), N_("Generation Frame"),
  N_("Colour Picker"),
};

static const char *const TOOL_HINTS[SF_TOOL_COUNT] = {
  NULL,
  NULL,
  N_("Paint what the generation should redo. Ctrl+H hides the mask."),
  NULL,
  N_("The frame is what SDXL sees. Drag inside it to move it, its handles to resize it, or "
     "outside to draw a new one; sizes snap to multiples of 8."),
  N_("Click or drag on the canvas to take its colour."),
};

const char *
sf_tool_get_id (SfTool tool)
{
  g_return_val_if_fail (tool < SF_TOOL_COUNT, NULL);
  return TOOL_IDS[tool];
}

SfTool
sf_tool_from_id (const char *id)
{
  for (int tool = 0; tool < SF_TOOL_COUNT; tool++)
    if (g_strcmp0 (id, TOOL_IDS[tool]) == 0)
      return tool;
  return SF_TOOL_COUNT;
}

gboolean
sf_tool_paints (SfTool tool)
{
  return tool <= SF_TOOL_MASK_ERASER;
}

struct _SfToolOptions {
  GtkBox parent_instance;

  SfTool tool;
  double size;
  double mask_size;
  double hardness;
  double opacity;
  double flow;
  double spacing;
  double smoothing;
  gboolean pressure_size;
  gboolean pressure_opacity;
  gboolean on_layer_mask;
  GdkRGBA color;

  GtkLabel *title;
  GtkLabel *hint;
  GtkWidget *grid;
  GtkWidget *colour_row;
  GtkWidget *colour_button;
  GtkWidget *pressure_size_check;
  GtkWidget *pressure_opacity_check;
  GtkWidget *layer_mask_check;
  GtkAdjustment *size_adjustment;
  GtkAdjustment *hardness_adjustment;
  GtkAdjustment *opacity_adjustment;
  GtkAdjustment *flow_adjustment;
  GtkAdjustment *spacing_adjustment;
  GtkAdjustment *smoothing_adjustment;
};

G_DEFINE_FINAL_TYPE (SfToolOptions, sf_tool_options, GTK_TYPE_BOX)

enum {
  PROP_0,
  PROP_TOOL,
  PROP_SIZE,
  PROP_MASK_SIZE,
  PROP_HARDNESS,
  PROP_OPACITY,
  PROP_FLOW,
  PROP_SPACING,
  PROP_SMOOTHING,
  PROP_PRESSURE_SIZE,
  PROP_PRESSURE_OPACITY,
  PROP_ON_LAYER_MASK,
  PROP_COLOR,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static gboolean
is_mask_tool (SfTool tool)
{
  return tool == SF_TOOL_MASK || tool == SF_TOOL_MASK_ERASER;
}

static void
update_for_tool (SfToolOptions *self)
{
  gtk_label_set_label (self->title, _(TOOL_NAMES[self->tool]));
  gtk_label_set_label (self->hint, TOOL_HINTS[self->tool] ? _(TOOL_HINTS[self->tool]) : "");
  gtk_widget_set_visible (GTK_WIDGET (self->hint), TOOL_HINTS[self->tool] != NULL);
  gboolean paints = sf_tool_paints (self->tool);
  gtk_widget_set_visible (self->grid, paints);
  gtk_widget_set_visible (self->pressure_size_check, paints);
  gtk_widget_set_visible (self->pressure_opacity_check, paints);
  gtk_widget_set_visible (self->colour_row, !is_mask_tool (self->tool) && self->tool != SF_TOOL_FRAME);
  gtk_widget_set_visible (self->layer_mask_check,
                          self->tool == SF_TOOL_BRUSH || self->tool == SF_TOOL_ERASER);
  gtk_adjustment_set_value (self->size_adjustment, sf_tool_options_get_size (self));
}

static void
on_size_changed (GtkAdjustment *adjustment, SfToolOptions *self)
{
  sf_tool_options_set_size (self, gtk_adjustment_get_value (adjustment));
}

static gboolean
to_percent (GBinding *binding, const GValue *from, GValue *to, gpointer user_data)
{
  g_value_set_double (to, round (g_value_get_double (from) * 100));
  return TRUE;
}

static gboolean
from_percent (GBinding *binding, const GValue *from, GValue *to, gpointer user_data)
{
  g_value_set_double (to, g_value_get_double (from) / 100);
  return TRUE;
}

static void
bind_percent (SfToolOptions *self, const char *property, GtkAdjustment *adjustment)
{
  g_object_bind_property_full (self, property, adjustment, "value",
                               G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE, to_percent,
                               from_percent, NULL, NULL);
}

static void
sf_tool_options_init (SfToolOptions *self)
{
  self->tool = SF_TOOL_BRUSH;
  self->size = 20;
  self->mask_size = 80;
  self->hardness = 0.8;
  self->opacity = 1;
  self->flow = 1;
  self->spacing = 0.1;
  self->pressure_size = TRUE;
  self->color = (GdkRGBA) { 0, 0, 0, 1 };
  gtk_widget_init_template (GTK_WIDGET (self));
  bind_percent (self, "brush-hardness", self->hardness_adjustment);
  bind_percent (self, "brush-opacity", self->opacity_adjustment);
  bind_percent (self, "brush-flow", self->flow_adjustment);
  bind_percent (self, "brush-spacing", self->spacing_adjustment);
  bind_percent (self, "brush-smoothing", self->smoothing_adjustment);
  GBindingFlags both = G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE;
  g_object_bind_property (self, "pressure-size", self->pressure_size_check, "active", both);
  g_object_bind_property (self, "pressure-opacity", self->pressure_opacity_check, "active", both);
  g_object_bind_property (self, "on-layer-mask", self->layer_mask_check, "active", both);
  g_object_bind_property (self, "brush-color", self->colour_button, "rgba", both);
  g_signal_connect (self->size_adjustment, "value-changed", G_CALLBACK (on_size_changed), self);
  update_for_tool (self);
}

static void
sf_tool_options_get_property (GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
  SfToolOptions *self = SF_TOOL_OPTIONS (object);
  switch (id)
    {
    case PROP_TOOL:
      g_value_set_int (value, self->tool);
      break;
    case PROP_SIZE:
      g_value_set_double (value, self->size);
      break;
    case PROP_MASK_SIZE:
      g_value_set_double (value, self->mask_size);
      break;
    case PROP_HARDNESS:
      g_value_set_double (value, self->hardness);
      break;
    case PROP_OPACITY:
      g_value_set_double (value, self->opacity);
      break;
    case PROP_FLOW:
      g_value_set_double (value, self->flow);
      break;
    case PROP_SPACING:
      g_value_set_double (value, self->spacing);
      break;
    case PROP_SMOOTHING:
      g_value_set_double (value, self->smoothing);
      break;
    case PROP_PRESSURE_SIZE:
      g_value_set_boolean (value, self->pressure_size);
      break;
    case PROP_PRESSURE_OPACITY:
      g_value_set_boolean (value, self->pressure_opacity);
      break;
    case PROP_ON_LAYER_MASK:
      g_value_set_boolean (value, self->on_layer_mask);
      break;
    case PROP_COLOR:
      g_value_set_boxed (value, &self->color);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
set_double (SfToolOptions *self, double *field, double value, int property)
{
  if (*field == value)
    return;
  *field = value;
  g_object_notify_by_pspec (G_OBJECT (self), properties[property]);
}

static void
set_boolean (SfToolOptions *self, gboolean *field, gboolean value, int property)
{
  value = !!value;
  if (*field == value)
    return;
  *field = value;
  g_object_notify_by_pspec (G_OBJECT (self), properties[property]);
}

static void
sf_tool_options_set_property (GObject *object, guint id, const GValue *value, GParamSpec *pspec)
{
  SfToolOptions *self = SF_TOOL_OPTIONS (object);
  switch (id)
    {
    case PROP_TOOL:
      sf_tool_options_set_tool (self, g_value_get_int (value));
      break;
    case PROP_SIZE:
      set_double (self, &self->size, g_value_get_double (value), PROP_SIZE);
      if (!is_mask_tool (self->tool))
        gtk_adjustment_set_value (self->size_adjustment, self->size);
      break;
    case PROP_MASK_SIZE:
      set_double (self, &self->mask_size, g_value_get_double (value), PROP_MASK_SIZE);
      if (is_mask_tool (self->tool))
        gtk_adjustment_set_value (self->size_adjustment, self->mask_size);
      break;
    case PROP_HARDNESS:
      set_double (self, &self->hardness, g_value_get_double (value), PROP_HARDNESS);
      break;
    case PROP_OPACITY:
      set_double (self, &self->opacity, g_value_get_double (value), PROP_OPACITY);
      break;
    case PROP_FLOW:
      set_double (self, &self->flow, g_value_get_double (value), PROP_FLOW);
      break;
    case PROP_SPACING:
      set_double (self, &self->spacing, g_value_get_double (value), PROP_SPACING);
      break;
    case PROP_SMOOTHING:
      set_double (self, &self->smoothing, g_value_get_double (value), PROP_SMOOTHING);
      break;
    case PROP_PRESSURE_SIZE:
      set_boolean (self, &self->pressure_size, g_value_get_boolean (value), PROP_PRESSURE_SIZE);
      break;
    case PROP_PRESSURE_OPACITY:
      set_boolean (self, &self->pressure_opacity, g_value_get_boolean (value),
                   PROP_PRESSURE_OPACITY);
      break;
    case PROP_ON_LAYER_MASK:
      set_boolean (self, &self->on_layer_mask, g_value_get_boolean (value), PROP_ON_LAYER_MASK);
      break;
    case PROP_COLOR:
      sf_tool_options_set_color (self, g_value_get_boxed (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
sf_tool_options_class_init (SfToolOptionsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  object_class->get_property = sf_tool_options_get_property;
  object_class->set_property = sf_tool_options_set_property;

  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  properties[PROP_TOOL] = g_param_spec_int ("tool", NULL, NULL, 0, SF_TOOL_COUNT - 1, 0, flags);
  properties[PROP_SIZE] = g_param_spec_double ("brush-size", NULL, NULL, 1, 1000, 20, flags);
  properties[PROP_MASK_SIZE] = g_param_spec_double ("mask-brush-size", NULL, NULL, 1, 1000, 80, flags);
  properties[PROP_HARDNESS] = g_param_spec_double ("brush-hardness", NULL, NULL, 0, 1, 0.8, flags);
  properties[PROP_OPACITY] = g_param_spec_double ("brush-opacity", NULL, NULL, 0, 1, 1, flags);
  properties[PROP_FLOW] = g_param_spec_double ("brush-flow", NULL, NULL, 0, 1, 1, flags);
  properties[PROP_SPACING] = g_param_spec_double ("brush-spacing", NULL, NULL, 0.02, 5, 0.1, flags);
  properties[PROP_SMOOTHING] = g_param_spec_double ("brush-smoothing", NULL, NULL, 0, 0.99, 0, flags);
  properties[PROP_PRESSURE_SIZE] = g_param_spec_boolean ("pressure-size", NULL, NULL, TRUE, flags);
  properties[PROP_PRESSURE_OPACITY] = g_param_spec_boolean ("pressure-opacity", NULL, NULL,
                                                            FALSE, flags);
  properties[PROP_ON_LAYER_MASK] = g_param_spec_boolean ("on-layer-mask", NULL, NULL, FALSE,
                                                         flags);
  properties[PROP_COLOR] = g_param_spec_boxed ("brush-color", NULL, NULL, GDK_TYPE_RGBA, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/sfumato/Sfumato/tool-options.ui");
  gtk_widget_class_bind_template_child (widget_class, SfToolOptions, title);
  gtk_widget_class_bind_template_child (widget_class, SfToolOptions, hint);
  gtk_widget_class_bind_template_child (widget_class, SfToolOptions, grid);
  gtk_widget_class_bind_template_child (widget_class, SfToolOptions, colour_row);
  gtk_widget_class_bind_template_child (widget_class, SfToolOptions, colour_button);
  gtk_widget_class_bind_template_child (widget_class, SfToolOptions, pressure_size_check);
  gtk_widget_class_bind_template_child (widget_class, SfToolOptions, pressure_opacity_check);
  gtk_widget_class_bind_template_child (widget_class, SfToolOptions, layer_mask_check);
  gtk_widget_class_bind_template_child (widget_class, SfToolOptions, size_adjustment);
  gtk_widget_class_bind_template_child (widget_class, SfToolOptions, hardness_adjustment);
  gtk_widget_class_bind_template_child (widget_class, SfToolOptions, opacity_adjustment);
  gtk_widget_class_bind_template_child (widget_class, SfToolOptions, flow_adjustment);
  gtk_widget_class_bind_template_child (widget_class, SfToolOptions, spacing_adjustment);
  gtk_widget_class_bind_template_child (widget_class, SfToolOptions, smoothing_adjustment);
}

SfToolOptions *
sf_tool_options_new (void)
{
  return g_object_new (SF_TYPE_TOOL_OPTIONS, NULL);
}

SfTool
sf_tool_options_get_tool (SfToolOptions *self)
{
  return self->tool;
}

void
sf_tool_options_set_tool (SfToolOptions *self, SfTool tool)
{
  g_return_if_fail (tool < SF_TOOL_COUNT);
  if (self->tool == tool)
    return;
  self->tool = tool;
  update_for_tool (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TOOL]);
}

double
sf_tool_options_get_size (SfToolOptions *self)
{
  return is_mask_tool (self->tool) ? self->mask_size : self->size;
}

void
sf_tool_options_set_size (SfToolOptions *self, double size_px)
{
  size_px = CLAMP (size_px, 1, 1000);
  if (is_mask_tool (self->tool))
    g_object_set (self, "mask-brush-size", size_px, NULL);
  else
    g_object_set (self, "brush-size", size_px, NULL);
}

void
sf_tool_options_get_color (SfToolOptions *self, GdkRGBA *color)
{
  *color = self->color;
}

void
sf_tool_options_set_color (SfToolOptions *self, const GdkRGBA *color)
{
  if (!color || gdk_rgba_equal (color, &self->color))
    return;
  self->color = *color;
  self->color.alpha = 1;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_COLOR]);
}

void
sf_tool_options_get_brush (SfToolOptions *self, SfBrush *brush)
{
  sf_brush_init (brush);
  static const SfBrushMode modes[] = {
    [SF_TOOL_BRUSH] = SF_BRUSH_PAINT,      [SF_TOOL_ERASER] = SF_BRUSH_ERASE,
    [SF_TOOL_MASK] = SF_BRUSH_MASK,        [SF_TOOL_MASK_ERASER] = SF_BRUSH_MASK_ERASE,
    [SF_TOOL_FRAME] = SF_BRUSH_PAINT,      [SF_TOOL_EYEDROPPER] = SF_BRUSH_PAINT,
  };
  brush->mode = modes[self->tool];
  brush->size_px = sf_tool_options_get_size (self);
  brush->hardness = self->hardness;
  brush->opacity = self->opacity;
  brush->flow = self->flow;
  brush->spacing = self->spacing;
  brush->smoothing = self->smoothing;
  brush->pressure_size = self->pressure_size;
  brush->pressure_opacity = self->pressure_opacity;
  brush->color[0] = self->color.red;
  brush->color[1] = self->color.green;
  brush->color[2] = self->color.blue;
  brush->on_layer_mask = self->on_layer_mask;
}

static gboolean
color_from_setting (GValue *value, GVariant *variant, gpointer user_data)
{
  GdkRGBA color;
  if (!gdk_rgba_parse (&color, g_variant_get_string (variant, NULL)))
    color = (GdkRGBA) { 0, 0, 0, 1 };
  g_value_set_boxed (value, &color);
  return TRUE;
}

static GVariant *
color_to_setting (const GValue *value, const GVariantType *type, gpointer user_data)
{
  const GdkRGBA *color = g_value_get_boxed (value);
  g_autofree char *text = g_strdup_printf ("#%02x%02x%02x", (int) round (color->red * 255),
                                           (int) round (color->green * 255),
                                           (int) round (color->blue * 255));
  return g_variant_new_string (text);
}

void
sf_tool_options_bind_settings (SfToolOptions *self, GSettings *settings)
{
  /* The properties are named after the keys. */
  static const char *const keys[] = {
    "brush-size",    "mask-brush-size", "brush-hardness", "brush-opacity",    "brush-flow",
    "brush-spacing", "brush-smoothing", "pressure-size",  "pressure-opacity",
  };
  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    g_settings_bind (settings, keys[i], self, keys[i], G_SETTINGS_BIND_DEFAULT);
  g_settings_bind_with_mapping (settings, "brush-color", self, "brush-color", G_SETTINGS_BIND_DEFAULT,
                                color_from_setting, color_to_setting, NULL, NULL);
}
