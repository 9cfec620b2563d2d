/* The history as a GListModel for list and grid views: the ids matching a
 * filter are fetched at once (a few milliseconds for 100,000 rows), the
 * records in pages of SF_HISTORY_MODEL_PAGE as views ask for them, and
 * thumbnails one by one when an item is shown. */
#pragma once

#include <gdk/gdk.h>
#include <gio/gio.h>

#include "history.h"

G_BEGIN_DECLS

#define SF_HISTORY_MODEL_PAGE 64

#define SF_TYPE_HISTORY_ITEM (sf_history_item_get_type ())
G_DECLARE_FINAL_TYPE (SfHistoryItem, sf_history_item, SF, HISTORY_ITEM, GObject)

/* Returns: (transfer none). */
const SfGenerationRecord *sf_history_item_get_record (SfHistoryItem *item);
/* The thumbnail, or NULL while it loads (in a worker thread, started by
 * the first call; "notify::thumbnail" says when it is there) or when
 * there is none. Returns: (transfer none). */
GdkTexture *sf_history_item_get_thumbnail (SfHistoryItem *item);

/* Whether a view shows the item: thumbnails of items scrolled past before
 * their turn came are not decoded. */
void sf_history_item_set_shown (SfHistoryItem *item, gboolean shown);

#define SF_TYPE_HISTORY_MODEL (sf_history_model_get_type ())
G_DECLARE_FINAL_TYPE (SfHistoryModel, sf_history_model, SF, HISTORY_MODEL, GObject)

/* The model and its items keep @history open. Returns: (transfer full). */
SfHistoryModel *sf_history_model_new (SfHistory *history);

/* Shows the generations @filter selects (its strings are copied). */
void sf_history_model_set_filter (SfHistoryModel *model, const SfHistoryFilter *filter);

/* Fetches the ids again (the store calls this itself after each write). */
void sf_history_model_reload (SfHistoryModel *model);

/* The position of @id, or -1. */
int sf_history_model_find (SfHistoryModel *model, gint64 id);

/* How many pages of records were read from the store so far. */
guint sf_history_model_get_pages_loaded (SfHistoryModel *model);

G_END_DECLS
