/* The document's layers as a GListModel for the layers panel: one
 * SfLayerItem per layer, the top layer first (as layer panels show
 * them). Items keep their identity while their layer lives, notify when
 * its properties change, and carry a thumbnail refreshed shortly after
 * its pixels change. */
#pragma once

#include <gtk/gtk.h>

#include "document.h"

G_BEGIN_DECLS

#define SF_LAYER_THUMBNAIL_SIZE 40

#define SF_TYPE_LAYER_ITEM (sf_layer_item_get_type ())
G_DECLARE_FINAL_TYPE (SfLayerItem, sf_layer_item, SF, LAYER_ITEM, GObject)

/* Returns: (transfer none). */
SfLayer *sf_layer_item_get_layer (SfLayerItem *self);
/* Returns: (transfer none) (nullable). */
GdkPaintable *sf_layer_item_get_thumbnail (SfLayerItem *self);

#define SF_TYPE_LAYER_LIST (sf_layer_list_get_type ())
G_DECLARE_FINAL_TYPE (SfLayerList, sf_layer_list, SF, LAYER_LIST, GObject)

SfLayerList *sf_layer_list_new (void);
/* @document (nullable) is not owned; set NULL before freeing it. */
void sf_layer_list_set_document (SfLayerList *self, SfDocument *document);
SfDocument *sf_layer_list_get_document (SfLayerList *self);
/* The list position of @layer (the top layer is 0), or GTK_INVALID_LIST_POSITION. */
guint sf_layer_list_get_position (SfLayerList *self, SfLayer *layer);
/* Makes every thumbnail that is out of date now (tests). */
void sf_layer_list_refresh_thumbnails (SfLayerList *self);

G_END_DECLS
