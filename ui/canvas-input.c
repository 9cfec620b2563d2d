/* Tools and gestures on the canvas: painting (mouse, or pen with
 * pressure), the frame tool, the colour picker, panning and zooming. */
#include <math.h>

#include "canvas-view-private.h"

#define HANDLE_PX 10.0

graphene_rect_t
sf_canvas_view_handle_rect (SfCanvasView *self, int handle)
{
  SfRect frame = sf_document_get_frame (self->document);
  double x0, y0, x1, y1;
  sf_canvas_view_canvas_to_widget (self, frame.x, frame.y, &x0, &y0);
  sf_canvas_view_canvas_to_widget (self, frame.x + frame.width, frame.y + frame.height, &x1, &y1);
  const double xs[8] = { x0, (x0 + x1) / 2, x1, x1, x1, (x0 + x1) / 2, x0, x0 };
  const double ys[8] = { y0, y0, y0, (y0 + y1) / 2, y1, y1, y1, (y0 + y1) / 2 };
  return GRAPHENE_RECT_INIT (round (xs[handle] - HANDLE_PX / 2), round (ys[handle] - HANDLE_PX / 2),
                             HANDLE_PX, HANDLE_PX);
}

int
sf_canvas_view_frame_handle_at (SfCanvasView *self, double x, double y)
{
  for (int handle = 0; handle < 8; handle++)
    {
      graphene_rect_t box = sf_canvas_view_handle_rect (self, handle);
      graphene_rect_inset (&box, -3, -3);
      if (graphene_rect_contains_point (&box, &GRAPHENE_POINT_INIT (x, y)))
        return handle;
    }
  double cx, cy;
  sf_canvas_view_widget_to_canvas (self, x, y, &cx, &cy);
  SfRect frame = sf_document_get_frame (self->document);
  if (cx >= frame.x && cy >= frame.y && cx < frame.x + frame.width && cy < frame.y + frame.height)
    return SF_HANDLE_MOVE;
  return SF_HANDLE_NEW;
}

void
sf_canvas_view_update_cursor (SfCanvasView *self)
{
  static const char *const handle_cursors[8] = {
    "nw-resize", "n-resize", "ne-resize", "e-resize", "se-resize", "s-resize", "sw-resize",
    "w-resize",
  };
  const char *name = "crosshair";
  if (self->drag == SF_DRAG_PAN)
    name = "grabbing";
  else if (self->space_held)
    name = "grab";
  else if (self->document && sf_tool_options_get_tool (self->options) == SF_TOOL_FRAME)
    {
      int handle = self->drag == SF_DRAG_FRAME
                       ? self->frame_handle
                       : sf_canvas_view_frame_handle_at (self, self->pointer_x, self->pointer_y);
      if (handle >= 0 && handle < 8)
        name = handle_cursors[handle];
      else if (handle == SF_HANDLE_MOVE)
        name = "move";
    }
  gtk_widget_set_cursor_from_name (GTK_WIDGET (self), name);
}

static void
pick_colour (SfCanvasView *self, double x, double y)
{
  double cx, cy;
  sf_canvas_view_widget_to_canvas (self, x, y, &cx, &cy);
  SfRect pixel = { (int) floor (cx), (int) floor (cy), 1, 1 };
  guint8 rgba[4];
  sf_document_read_rgba (self->document, &pixel, rgba, 4);
  if (rgba[3] == 0)
    return;
  GdkRGBA colour = { rgba[0] / 255.0f, rgba[1] / 255.0f, rgba[2] / 255.0f, 1 };
  sf_canvas_view_emit_color_picked (self, &colour);
}

static void
move_frame (SfCanvasView *self, double x, double y)
{
  double dx = (x - self->drag_start_x) / self->zoom, dy = (y - self->drag_start_y) / self->zoom;
  SfRect start = self->frame_start;
  double x0 = start.x, y0 = start.y, x1 = start.x + start.width, y1 = start.y + start.height;
  int handle = self->frame_handle;
  if (handle == SF_HANDLE_MOVE)
    {
      x0 += dx, x1 += dx, y0 += dy, y1 += dy;
      /* Keep the size: snap the position only. */
      double snapped_x = floor ((x0 + 4) / 8) * 8, snapped_y = floor ((y0 + 4) / 8) * 8;
      SfRect moved = { (int) snapped_x, (int) snapped_y, start.width, start.height };
      sf_document_set_frame (self->document, &moved);
      return;
    }
  if (handle == SF_HANDLE_NEW)
    {
      x1 = x0 + dx, y1 = y0 + dy;
    }
  else
    {
      if (handle == 0 || handle == 6 || handle == 7)
        x0 += dx;
      if (handle == 2 || handle == 3 || handle == 4)
        x1 += dx;
      if (handle == 0 || handle == 1 || handle == 2)
        y0 += dy;
      if (handle == 4 || handle == 5 || handle == 6)
        y1 += dy;
    }
  SfRect frame = { (int) round (MIN (x0, x1)), (int) round (MIN (y0, y1)),
                   (int) round (fabs (x1 - x0)), (int) round (fabs (y1 - y0)) };
  sf_document_set_frame (self->document, &frame);
}

void
sf_canvas_view_press (SfCanvasView *self, double x, double y, double pressure)
{
  if (!self->document || self->drag != SF_DRAG_NONE)
    return;
  self->drag_start_x = self->pointer_x = x;
  self->drag_start_y = self->pointer_y = y;
  double cx, cy;
  sf_canvas_view_widget_to_canvas (self, x, y, &cx, &cy);
  SfTool tool = sf_tool_options_get_tool (self->options);
  if (self->space_held)
    {
      self->drag = SF_DRAG_PAN;
    }
  else if (sf_tool_paints (tool))
    {
      SfBrush brush;
      sf_tool_options_get_brush (self->options, &brush);
      if (self->pen_eraser)
        brush.mode = brush.mode == SF_BRUSH_MASK || brush.mode == SF_BRUSH_MASK_ERASE
                         ? SF_BRUSH_MASK_ERASE
                         : SF_BRUSH_ERASE;
      self->stroke = sf_stroke_begin (self->document, &brush, cx, cy, pressure);
      self->drag = SF_DRAG_PAINT;
    }
  else if (tool == SF_TOOL_FRAME)
    {
      self->frame_handle = sf_canvas_view_frame_handle_at (self, x, y);
      self->frame_start = sf_document_get_frame (self->document);
      if (self->frame_handle == SF_HANDLE_NEW)
        self->frame_start = (SfRect) { (int) round (cx), (int) round (cy), 0, 0 };
      self->drag = SF_DRAG_FRAME;
    }
  else if (tool == SF_TOOL_EYEDROPPER)
    {
      pick_colour (self, x, y);
      self->drag = SF_DRAG_PICK;
    }
  self->drag_origin_x = x;
  self->drag_origin_y = y;
  sf_canvas_view_update_cursor (self);
}

void
sf_canvas_view_motion (SfCanvasView *self, double x, double y, double pressure)
{
  self->pointer_x = x;
  self->pointer_y = y;
  if (!self->document)
    return;
  double cx, cy;
  sf_canvas_view_widget_to_canvas (self, x, y, &cx, &cy);
  switch (self->drag)
    {
    case SF_DRAG_PAINT:
      if (self->stroke)
        sf_stroke_motion (self->stroke, cx, cy, pressure);
      break;
    case SF_DRAG_PAN:
      sf_canvas_view_pan (self, x - self->drag_origin_x, y - self->drag_origin_y);
      self->drag_origin_x = x;
      self->drag_origin_y = y;
      break;
    case SF_DRAG_FRAME:
      move_frame (self, x, y);
      break;
    case SF_DRAG_PICK:
      pick_colour (self, x, y);
      break;
    case SF_DRAG_NONE:
      break;
    }
  sf_canvas_view_emit_pointer_moved (self, cx, cy);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
sf_canvas_view_release (SfCanvasView *self, double x, double y)
{
  if (self->drag == SF_DRAG_NONE)
    return;
  if (self->drag == SF_DRAG_PAINT)
    g_clear_pointer (&self->stroke, sf_stroke_end);
  self->drag = SF_DRAG_NONE;
  self->frame_handle = SF_HANDLE_NONE;
  sf_canvas_view_update_cursor (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

gboolean
sf_canvas_view_is_busy (SfCanvasView *self)
{
  return self->drag != SF_DRAG_NONE;
}

/* Mouse */

static gboolean
is_pen (GtkEventController *controller)
{
  GdkEvent *event = gtk_event_controller_get_current_event (controller);
  GdkDeviceTool *tool = event ? gdk_event_get_device_tool (event) : NULL;
  if (!tool)
    return FALSE;
  GdkDeviceToolType type = gdk_device_tool_get_tool_type (tool);
  return type == GDK_DEVICE_TOOL_TYPE_PEN || type == GDK_DEVICE_TOOL_TYPE_ERASER
         || type == GDK_DEVICE_TOOL_TYPE_BRUSH || type == GDK_DEVICE_TOOL_TYPE_PENCIL
         || type == GDK_DEVICE_TOOL_TYPE_AIRBRUSH;
}

static void
on_drag_begin (GtkGestureDrag *gesture, double x, double y, SfCanvasView *self)
{
  /* Pens go through the stylus gesture, which knows their pressure. */
  if (is_pen (GTK_EVENT_CONTROLLER (gesture)))
    {
      gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_DENIED);
      return;
    }
  gtk_widget_grab_focus (GTK_WIDGET (self));
  guint button = gtk_gesture_single_get_current_button (GTK_GESTURE_SINGLE (gesture));
  if (button == GDK_BUTTON_MIDDLE)
    {
      self->drag_origin_x = x;
      self->drag_origin_y = y;
      self->drag = SF_DRAG_PAN;
      sf_canvas_view_update_cursor (self);
    }
  else if (button == GDK_BUTTON_PRIMARY)
    sf_canvas_view_press (self, x, y, 1.0);
  else
    {
      gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_DENIED);
      return;
    }
  gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_CLAIMED);
}

static void
on_drag_update (GtkGestureDrag *gesture, double dx, double dy, SfCanvasView *self)
{
  double x, y;
  gtk_gesture_drag_get_start_point (gesture, &x, &y);
  sf_canvas_view_motion (self, x + dx, y + dy, 1.0);
}

static void
on_drag_end (GtkGestureDrag *gesture, double dx, double dy, SfCanvasView *self)
{
  double x, y;
  gtk_gesture_drag_get_start_point (gesture, &x, &y);
  sf_canvas_view_release (self, x + dx, y + dy);
}

/* Pen */

static double
stylus_pressure (GtkGestureStylus *gesture)
{
  double pressure;
  if (!gtk_gesture_stylus_get_axis (gesture, GDK_AXIS_PRESSURE, &pressure))
    return 1.0;
  return CLAMP (pressure, 0.0, 1.0);
}

static void
on_stylus_down (GtkGestureStylus *gesture, double x, double y, SfCanvasView *self)
{
  GdkDeviceTool *tool = gtk_gesture_stylus_get_device_tool (gesture);
  self->pen_eraser = tool && gdk_device_tool_get_tool_type (tool) == GDK_DEVICE_TOOL_TYPE_ERASER;
  gtk_widget_grab_focus (GTK_WIDGET (self));
  sf_canvas_view_press (self, x, y, stylus_pressure (gesture));
}

static void
on_stylus_motion (GtkGestureStylus *gesture, double x, double y, SfCanvasView *self)
{
  if (self->drag == SF_DRAG_NONE)
    {
      /* Hovering: only the outline follows. */
      self->pointer_x = x;
      self->pointer_y = y;
      gtk_widget_queue_draw (GTK_WIDGET (self));
      return;
    }
  /* The events the compositor merged since the last one: every sample
   * the pen sent, for smooth strokes. */
  GdkTimeCoord *backlog = NULL;
  guint count = 0;
  if (gtk_gesture_stylus_get_backlog (gesture, &backlog, &count))
    {
      for (guint i = 0; i < count; i++)
        {
          const GdkTimeCoord *point = &backlog[i];
          double pressure = (point->flags & GDK_AXIS_FLAG_PRESSURE)
                                ? CLAMP (point->axes[GDK_AXIS_PRESSURE], 0.0, 1.0)
                                : stylus_pressure (gesture);
          sf_canvas_view_motion (self, point->axes[GDK_AXIS_X], point->axes[GDK_AXIS_Y],
                                 pressure);
        }
      g_free (backlog);
    }
  sf_canvas_view_motion (self, x, y, stylus_pressure (gesture));
}

static void
on_stylus_up (GtkGestureStylus *gesture, double x, double y, SfCanvasView *self)
{
  sf_canvas_view_release (self, x, y);
  self->pen_eraser = FALSE;
}

/* Scrolling, pinching, hovering, keys */

static gboolean
on_scroll (GtkEventControllerScroll *controller, double dx, double dy, SfCanvasView *self)
{
  GdkModifierType state = gtk_event_controller_get_current_event_state (
      GTK_EVENT_CONTROLLER (controller));
  gboolean pixels = gtk_event_controller_scroll_get_unit (controller) == GDK_SCROLL_UNIT_SURFACE;
  if (state & GDK_CONTROL_MASK)
    {
      /* A wheel notch zooms by 2^¼; touchpads zoom smoothly. */
      double factor = pow (2, -dy * (pixels ? 0.01 : 0.25));
      sf_canvas_view_set_zoom (self, self->zoom * factor, self->pointer_x, self->pointer_y);
      return TRUE;
    }
  double step = pixels ? 1 : 48;
  if ((state & GDK_SHIFT_MASK) && dx == 0)
    sf_canvas_view_pan (self, -dy * step, 0);
  else
    sf_canvas_view_pan (self, -dx * step, -dy * step);
  return TRUE;
}

static void
on_pinch_begin (GtkGesture *gesture, GdkEventSequence *sequence, SfCanvasView *self)
{
  self->pinch_zoom = self->zoom;
}

static void
on_pinch_scale_changed (GtkGestureZoom *gesture, double scale, SfCanvasView *self)
{
  double x, y;
  if (!gtk_gesture_get_bounding_box_center (GTK_GESTURE (gesture), &x, &y))
    x = y = -1;
  sf_canvas_view_set_zoom (self, self->pinch_zoom * scale, x, y);
}

static void
on_pointer_motion (GtkEventControllerMotion *controller, double x, double y, SfCanvasView *self)
{
  self->pointer_inside = TRUE;
  if (self->drag != SF_DRAG_NONE)
    return; /* the gesture reports it */
  self->pointer_x = x;
  self->pointer_y = y;
  if (self->document)
    {
      double cx, cy;
      sf_canvas_view_widget_to_canvas (self, x, y, &cx, &cy);
      sf_canvas_view_emit_pointer_moved (self, cx, cy);
    }
  if (sf_tool_options_get_tool (self->options) == SF_TOOL_FRAME)
    sf_canvas_view_update_cursor (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
on_pointer_leave (GtkEventControllerMotion *controller, SfCanvasView *self)
{
  self->pointer_inside = FALSE;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static gboolean
on_key_pressed (GtkEventControllerKey *controller, guint keyval, guint keycode,
                GdkModifierType state, SfCanvasView *self)
{
  if (keyval != GDK_KEY_space)
    return FALSE;
  if (!self->space_held)
    {
      self->space_held = TRUE;
      sf_canvas_view_update_cursor (self);
      gtk_widget_queue_draw (GTK_WIDGET (self));
    }
  return TRUE;
}

static void
on_key_released (GtkEventControllerKey *controller, guint keyval, guint keycode,
                 GdkModifierType state, SfCanvasView *self)
{
  if (keyval != GDK_KEY_space)
    return;
  self->space_held = FALSE;
  sf_canvas_view_update_cursor (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
sf_canvas_view_setup_input (SfCanvasView *self)
{
  GtkWidget *widget = GTK_WIDGET (self);

  GtkGesture *stylus = gtk_gesture_stylus_new ();
  g_signal_connect (stylus, "down", G_CALLBACK (on_stylus_down), self);
  g_signal_connect (stylus, "motion", G_CALLBACK (on_stylus_motion), self);
  g_signal_connect (stylus, "up", G_CALLBACK (on_stylus_up), self);
  gtk_widget_add_controller (widget, GTK_EVENT_CONTROLLER (stylus));

  GtkGesture *drag = gtk_gesture_drag_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (drag), 0);
  g_signal_connect (drag, "drag-begin", G_CALLBACK (on_drag_begin), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (on_drag_update), self);
  g_signal_connect (drag, "drag-end", G_CALLBACK (on_drag_end), self);
  gtk_widget_add_controller (widget, GTK_EVENT_CONTROLLER (drag));

  GtkEventController *scroll = gtk_event_controller_scroll_new (
      GTK_EVENT_CONTROLLER_SCROLL_BOTH_AXES);
  g_signal_connect (scroll, "scroll", G_CALLBACK (on_scroll), self);
  gtk_widget_add_controller (widget, scroll);

  GtkGesture *pinch = gtk_gesture_zoom_new ();
  g_signal_connect (pinch, "begin", G_CALLBACK (on_pinch_begin), self);
  g_signal_connect (pinch, "scale-changed", G_CALLBACK (on_pinch_scale_changed), self);
  gtk_widget_add_controller (widget, GTK_EVENT_CONTROLLER (pinch));

  GtkEventController *motion = gtk_event_controller_motion_new ();
  g_signal_connect (motion, "motion", G_CALLBACK (on_pointer_motion), self);
  g_signal_connect (motion, "leave", G_CALLBACK (on_pointer_leave), self);
  gtk_widget_add_controller (widget, motion);

  GtkEventController *keys = gtk_event_controller_key_new ();
  g_signal_connect (keys, "key-pressed", G_CALLBACK (on_key_pressed), self);
  g_signal_connect (keys, "key-released", G_CALLBACK (on_key_released), self);
  gtk_widget_add_controller (widget, keys);

  gtk_widget_set_cursor_from_name (widget, "crosshair");
}
