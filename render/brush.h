/* The brush engine: round dabs placed along a stroke.
 *
 * A dab is a disc of radius size/2 whose coverage is 1 inside
 * hardness·radius and falls off smoothly (smoothstep) to 0 at the radius,
 * with a one-pixel anti-aliased rim. Dabs are placed every
 * spacing·diameter pixels along the (optionally smoothed) pointer path.
 *
 * Opacity and flow work as in Krita and Photoshop: each dab adds
 * flow × coverage to the stroke's coverage (cov += (1 − cov)·a), and the
 * stroke as a whole is laid over the pixels it started from with
 * opacity × cov, so crossing a stroke over itself never exceeds opacity.
 *
 * Modes: paint (the brush colour), erase (towards transparent) on the
 * active layer, or on its layer mask (brush colour's luminance; erase
 * hides); mask and mask erase on the document's inpaint mask. A stroke
 * is one undo step. */
#pragma once

#include "document.h"

G_BEGIN_DECLS

typedef enum {
  SF_BRUSH_PAINT,
  SF_BRUSH_ERASE,
  SF_BRUSH_MASK,
  SF_BRUSH_MASK_ERASE,
} SfBrushMode;

#define SF_PRESSURE_CURVE_MAX_POINTS 8

/* A response curve through (x, y) points in 0…1 with x increasing,
 * linear between them and flat beyond the ends. */
typedef struct {
  int count;
  double x[SF_PRESSURE_CURVE_MAX_POINTS];
  double y[SF_PRESSURE_CURVE_MAX_POINTS];
} SfPressureCurve;

/* The identity curve (0,0)–(1,1). */
void sf_pressure_curve_init_linear (SfPressureCurve *curve);
double sf_pressure_curve_eval (const SfPressureCurve *curve, double pressure);

typedef struct {
  SfBrushMode mode;
  double size_px;   /* diameter at full pressure, 1 … 1000 */
  double hardness;  /* 0 … 1 */
  double opacity;   /* 0 … 1: the most a stroke adds */
  double flow;      /* 0 … 1: what each dab adds */
  double spacing;   /* dab distance as a fraction of the diameter, 0.02 … 5 */
  double smoothing; /* 0 … 0.99: how much the path lags behind the pointer */
  gboolean pressure_size;
  gboolean pressure_opacity;
  SfPressureCurve size_curve;
  SfPressureCurve opacity_curve;
  double color[3]; /* straight sRGB 0 … 1 */
  /* Paint and erase go to the active layer's mask when it has one. */
  gboolean on_layer_mask;
} SfBrush;

/* Size 20, hardness 0.8, opacity and flow 1, spacing 0.1, no smoothing,
 * pressure to size on, black, paint. */
void sf_brush_init (SfBrush *brush);

/* The coverage (0…1) of a dab centred at (cx, cy) with @radius and
 * @hardness, at the pixel whose centre is (px + 0.5, py + 0.5). */
float sf_brush_dab_coverage (double cx, double cy, double radius, double hardness, int px, int py);

typedef struct SfStroke SfStroke;

/* Starts a stroke with a dab at (x, y) (canvas pixels) and @pressure
 * (0…1; pass 1 for a mouse). Opens an undo step that sf_stroke_end
 * closes. The brush settings are copied. Returns: (transfer full)
 * (nullable): NULL when there is nothing to paint on (no active layer,
 * or a mask stroke target that does not exist). */
SfStroke *sf_stroke_begin (SfDocument *document, const SfBrush *brush, double x, double y,
                           double pressure);
/* Continues the stroke to (x, y). */
void sf_stroke_motion (SfStroke *stroke, double x, double y, double pressure);
/* Finishes the stroke (catching up with the pointer when smoothing) and
 * frees it. */
void sf_stroke_end (SfStroke *stroke);
guint sf_stroke_get_dab_count (const SfStroke *stroke);

/* Paints a straight line from (x0, y0) to (x1, y1) at full pressure as
 * one stroke (tests, benchmarks, scripting). */
void sf_document_stroke_line (SfDocument *document, const SfBrush *brush, double x0, double y0,
                              double x1, double y1);

G_END_DECLS
