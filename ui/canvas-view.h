/* The canvas view: shows the document (composited tile by tile, over a
 * checkerboard where it is transparent), the inpaint mask as a coloured
 * overlay and the generation frame with its handles and size; zooms
 * (ctrl+scroll, pinch) and pans (scroll, middle drag, space+drag); paints
 * with the current tool from the mouse or a tablet pen (pressure through
 * GtkGestureStylus, the pen's eraser end erases).
 *
 * Only what changed is composited again and uploaded: the view keeps a
 * texture per tile and drops the ones under each change. */
#pragma once

#include <gtk/gtk.h>

#include "document.h"
#include "tool-options.h"

G_BEGIN_DECLS

#define SF_CANVAS_ZOOM_MIN (1.0 / 64)
#define SF_CANVAS_ZOOM_MAX 64.0

#define SF_TYPE_CANVAS_VIEW (sf_canvas_view_get_type ())
G_DECLARE_FINAL_TYPE (SfCanvasView, sf_canvas_view, SF, CANVAS_VIEW, GtkWidget)

SfCanvasView *sf_canvas_view_new (SfToolOptions *options);

/* @document (nullable) is not owned; set NULL before freeing it. */
void sf_canvas_view_set_document (SfCanvasView *self, SfDocument *document);
SfDocument *sf_canvas_view_get_document (SfCanvasView *self);

/* Zoom: canvas pixels per screen pixel, 1/64 … 64. */
double sf_canvas_view_get_zoom (SfCanvasView *self);
/* Zooms keeping the canvas point under widget point (@anchor_x,
 * @anchor_y) in place; a negative anchor means the widget's centre. */
void sf_canvas_view_set_zoom (SfCanvasView *self, double zoom, double anchor_x, double anchor_y);
/* Steps through 1/64 … 64 by factors of √2 around the centre. */
void sf_canvas_view_zoom_in (SfCanvasView *self);
void sf_canvas_view_zoom_out (SfCanvasView *self);
/* Shows the whole canvas; stays fitted as the window resizes until the
 * view is zoomed or panned. */
void sf_canvas_view_zoom_fit (SfCanvasView *self);
/* Moves the view by (@dx, @dy) screen pixels. */
void sf_canvas_view_pan (SfCanvasView *self, double dx, double dy);

void sf_canvas_view_widget_to_canvas (SfCanvasView *self, double x, double y, double *canvas_x,
                                      double *canvas_y);
void sf_canvas_view_canvas_to_widget (SfCanvasView *self, double canvas_x, double canvas_y,
                                      double *x, double *y);

void sf_canvas_view_set_show_mask (SfCanvasView *self, gboolean show);
gboolean sf_canvas_view_get_show_mask (SfCanvasView *self);
void sf_canvas_view_set_mask_color (SfCanvasView *self, const GdkRGBA *color);

/* The current tool at widget point (x, y): press, move, release — what
 * the pointer and pen do, also for tests and scripts. @pressure is 0…1
 * (1 for a mouse). */
void sf_canvas_view_press (SfCanvasView *self, double x, double y, double pressure);
void sf_canvas_view_motion (SfCanvasView *self, double x, double y, double pressure);
void sf_canvas_view_release (SfCanvasView *self, double x, double y);
/* Whether a stroke or another drag is under way. */
gboolean sf_canvas_view_is_busy (SfCanvasView *self);

/* Shows @texture (nullable: none) scaled into @rect (canvas pixels) over
 * the canvas, under the frame: the running generation's preview of each
 * step. The view keeps a reference. */
void sf_canvas_view_set_preview (SfCanvasView *self, GdkTexture *texture, const SfRect *rect);
/* The preview shown, or NULL. Returns: (transfer none) (nullable). */
GdkTexture *sf_canvas_view_get_preview (SfCanvasView *self);

/* Tiles composited and textures made since the view was created
 * (benchmarks and tests). */
guint sf_canvas_view_get_texture_count (SfCanvasView *self);

G_END_DECLS
