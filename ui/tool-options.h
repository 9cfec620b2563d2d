/* The tools and their options: brush size, hardness, opacity, flow,
 * spacing, smoothing, pressure, colour. Options are properties, so they
 * bind to GSettings and to the window's actions. */
#pragma once

#include <gtk/gtk.h>

#include "brush.h"

G_BEGIN_DECLS

typedef enum {
  SF_TOOL_BRUSH,
  SF_TOOL_ERASER,
  SF_TOOL_MASK,
  SF_TOOL_MASK_ERASER,
  SF_TOOL_FRAME,
  SF_TOOL_EYEDROPPER,
  SF_TOOL_COUNT
} SfTool;

/* "brush", "eraser", "mask", "mask-eraser", "frame", "eyedropper": the
 * target of the win.tool action. */
const char *sf_tool_get_id (SfTool tool);
/* SF_TOOL_COUNT when @id names no tool. */
SfTool sf_tool_from_id (const char *id);
/* Whether @tool paints with the brush engine. */
gboolean sf_tool_paints (SfTool tool);

#define SF_TYPE_TOOL_OPTIONS (sf_tool_options_get_type ())
G_DECLARE_FINAL_TYPE (SfToolOptions, sf_tool_options, SF, TOOL_OPTIONS, GtkBox)

SfToolOptions *sf_tool_options_new (void);

SfTool sf_tool_options_get_tool (SfToolOptions *self);
void sf_tool_options_set_tool (SfToolOptions *self, SfTool tool);
/* The brush for the current tool (its mode, and the mask size for the
 * mask tools). */
void sf_tool_options_get_brush (SfToolOptions *self, SfBrush *brush);
/* The diameter of the current tool's brush. */
double sf_tool_options_get_size (SfToolOptions *self);
void sf_tool_options_set_size (SfToolOptions *self, double size_px);
void sf_tool_options_get_color (SfToolOptions *self, GdkRGBA *color);
void sf_tool_options_set_color (SfToolOptions *self, const GdkRGBA *color);
/* Keeps the options in @settings (brush-size, brush-hardness, …). */
void sf_tool_options_bind_settings (SfToolOptions *self, GSettings *settings);

G_END_DECLS
