/* The layers panel: the layer stack (top first) with thumbnails,
 * visibility and names (double-click to rename, drag to reorder), and the
 * active layer's blend mode, opacity and alpha lock. The add, duplicate,
 * merge, mask, raise, lower and delete buttons use the window's win.layer-*
 * actions. */
#pragma once

#include <gtk/gtk.h>

#include "document.h"
#include "layer-list.h"

G_BEGIN_DECLS

#define SF_TYPE_LAYERS_PANEL (sf_layers_panel_get_type ())
G_DECLARE_FINAL_TYPE (SfLayersPanel, sf_layers_panel, SF, LAYERS_PANEL, GtkBox)

SfLayersPanel *sf_layers_panel_new (void);
/* @document (nullable) is not owned; set NULL before freeing it. */
void sf_layers_panel_set_document (SfLayersPanel *self, SfDocument *document);
/* Returns: (transfer none). */
SfLayerList *sf_layers_panel_get_model (SfLayersPanel *self);
/* Starts renaming the active layer in place. */
void sf_layers_panel_rename_active (SfLayersPanel *self);

G_END_DECLS
