/* Shared by canvas-view.c (showing) and canvas-input.c (tools, gestures). */
#pragma once

#include "brush.h"
#include "canvas-view.h"

G_BEGIN_DECLS

typedef enum {
  SF_DRAG_NONE,
  SF_DRAG_PAINT,
  SF_DRAG_PAN,
  SF_DRAG_FRAME,
  SF_DRAG_PICK,
} SfDragKind;

/* Frame handles: corners and edge middles clockwise from the top left,
 * then the inside (move) and "outside" (draw a new frame). */
enum {
  SF_HANDLE_NONE = -1,
  SF_HANDLE_MOVE = 8,
  SF_HANDLE_NEW = 9,
};

struct _SfCanvasView {
  GtkWidget parent_instance;

  SfDocument *document;
  guint observer;
  SfToolOptions *options;

  double zoom;
  double origin_x, origin_y; /* the canvas point at the widget's top left */
  gboolean fitted;

  GHashTable *textures;      /* packed (level, tx, ty) → GdkTexture */
  GHashTable *mask_textures; /* packed (0, tx, ty) → GdkTexture */
  guint texture_count;
  gboolean show_mask;
  GdkRGBA mask_color;

  gboolean pointer_inside;
  double pointer_x, pointer_y;
  gboolean space_held;

  SfDragKind drag;
  SfStroke *stroke;
  gboolean pen_eraser; /* the pen's eraser end is down */
  double drag_start_x, drag_start_y; /* widget coordinates */
  double drag_origin_x, drag_origin_y;
  int frame_handle;
  SfRect frame_start;
  double pinch_zoom;

  GdkTexture *preview; /* the running generation's latest preview, or NULL */
  SfRect preview_rect;
};

/* canvas-view.c */
void sf_canvas_view_emit_color_picked (SfCanvasView *self, const GdkRGBA *color);
void sf_canvas_view_emit_pointer_moved (SfCanvasView *self, double x, double y);

/* canvas-input.c */
void sf_canvas_view_setup_input (SfCanvasView *self);
void sf_canvas_view_update_cursor (SfCanvasView *self);
/* The frame handle under widget point (x, y). */
int sf_canvas_view_frame_handle_at (SfCanvasView *self, double x, double y);
/* The rectangle of handle @handle of the frame, in widget coordinates. */
graphene_rect_t sf_canvas_view_handle_rect (SfCanvasView *self, int handle);

G_END_DECLS
