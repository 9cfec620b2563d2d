#include "history-model.h"

#include <string.h>

/* ---- items --------------------------------------------------------- */

struct _SfHistoryItem {
  GObject parent_instance;
  SfHistory *history;
  SfGenerationRecord *record;
  GdkTexture *thumbnail;
  gboolean loading;
  gboolean loaded;
  gint shown;             /* atomic: read by the loading thread */
};

G_DEFINE_FINAL_TYPE (SfHistoryItem, sf_history_item, G_TYPE_OBJECT)

enum { PROP_0, PROP_THUMBNAIL, N_PROPS };
static GParamSpec *item_properties[N_PROPS];

static void
sf_history_item_finalize (GObject *object)
{
  SfHistoryItem *self = SF_HISTORY_ITEM (object);
  sf_generation_record_free (self->record);
  g_clear_object (&self->thumbnail);
  sf_history_unref (self->history);
  G_OBJECT_CLASS (sf_history_item_parent_class)->finalize (object);
}

static void
sf_history_item_get_property (GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
  if (id == PROP_THUMBNAIL)
    g_value_set_object (value, SF_HISTORY_ITEM (object)->thumbnail);
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
}

static void
sf_history_item_class_init (SfHistoryItemClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  object_class->finalize = sf_history_item_finalize;
  object_class->get_property = sf_history_item_get_property;
  item_properties[PROP_THUMBNAIL] = g_param_spec_object ("thumbnail", NULL, NULL, GDK_TYPE_TEXTURE,
                                                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, item_properties);
}

static void
sf_history_item_init (SfHistoryItem *self)
{
}

static SfHistoryItem *
sf_history_item_new (SfHistory *history, SfGenerationRecord *record)
{
  SfHistoryItem *item = g_object_new (SF_TYPE_HISTORY_ITEM, NULL);
  item->history = sf_history_ref (history);
  item->record = record;
  return item;
}

const SfGenerationRecord *
sf_history_item_get_record (SfHistoryItem *item)
{
  return item->record;
}

void
sf_history_item_set_shown (SfHistoryItem *item, gboolean shown)
{
  g_atomic_int_set (&item->shown, shown);
}

/* In a worker thread: the store's read connection is locked per call, and
 * GdkTexture is immutable, so both may be used here. */
static void
load_thumbnail (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  SfHistoryItem *self = source;
  if (!g_atomic_int_get (&self->shown))
    {
      g_task_return_pointer (task, NULL, NULL); /* scrolled past: try again when shown */
      return;
    }
  g_autoptr (GBytes) png = sf_history_get_thumbnail (self->history, self->record->id, NULL);
  GdkTexture *texture = png ? gdk_texture_new_from_bytes (png, NULL) : NULL;
  g_task_set_task_data (task, GINT_TO_POINTER (TRUE), NULL); /* it was looked for */
  g_task_return_pointer (task, texture, g_object_unref);
}

static void
on_thumbnail_loaded (GObject *source, GAsyncResult *result, gpointer data)
{
  SfHistoryItem *self = SF_HISTORY_ITEM (source);
  self->loading = FALSE;
  self->loaded = g_task_get_task_data (G_TASK (result)) != NULL;
  self->thumbnail = g_task_propagate_pointer (G_TASK (result), NULL);
  if (self->thumbnail)
    g_object_notify_by_pspec (G_OBJECT (self), item_properties[PROP_THUMBNAIL]);
}

GdkTexture *
sf_history_item_get_thumbnail (SfHistoryItem *item)
{
  if (!item->loaded && !item->loading)
    {
      item->loading = TRUE;
      g_autoptr (GTask) task = g_task_new (item, NULL, on_thumbnail_loaded, NULL);
      g_task_run_in_thread (task, load_thumbnail);
    }
  return item->thumbnail;
}

/* ---- the model ----------------------------------------------------- */

/* Pages kept in memory; the oldest is dropped past this. */
#define MAX_PAGES 64

struct _SfHistoryModel {
  GObject parent_instance;
  SfHistory *history;
  guint watch;
  SfHistoryFilter filter;
  char *search;
  char *model_name;
  GArray *ids;            /* gint64 */
  GHashTable *pages;      /* page index -> GPtrArray of SfHistoryItem */
  GQueue page_order;      /* page indices, oldest first */
  guint pages_loaded;
};

static void sf_history_model_list_model_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (SfHistoryModel, sf_history_model, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL,
                                                      sf_history_model_list_model_init))

static GType
sf_history_model_get_item_type (GListModel *list)
{
  return SF_TYPE_HISTORY_ITEM;
}

static guint
sf_history_model_get_n_items (GListModel *list)
{
  return SF_HISTORY_MODEL (list)->ids->len;
}

static GPtrArray *
load_page (SfHistoryModel *self, guint page)
{
  guint start = page * SF_HISTORY_MODEL_PAGE;
  guint count = MIN (SF_HISTORY_MODEL_PAGE, self->ids->len - start);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) records = sf_history_get_many (self->history, &g_array_index (self->ids, gint64, start),
                                                       count, &error);
  if (!records)
    {
      g_warning ("history: %s", error->message);
      return NULL;
    }
  GPtrArray *items = g_ptr_array_new_full (count, g_object_unref);
  for (guint i = 0; i < count; i++)
    {
      SfGenerationRecord *record = g_steal_pointer (&records->pdata[i]);
      if (!record)
        {
          /* Deleted since the ids were read: an empty stand-in until the
           * reload that the deletion triggers arrives. */
          record = sf_generation_record_new ();
          record->id = g_array_index (self->ids, gint64, start + i);
        }
      g_ptr_array_add (items, sf_history_item_new (self->history, record));
    }
  g_hash_table_insert (self->pages, GUINT_TO_POINTER (page), items);
  g_queue_push_tail (&self->page_order, GUINT_TO_POINTER (page));
  self->pages_loaded++;
  while (g_queue_get_length (&self->page_order) > MAX_PAGES)
    g_hash_table_remove (self->pages, g_queue_pop_head (&self->page_order));
  return items;
}

static gpointer
sf_history_model_get_item (GListModel *list, guint position)
{
  SfHistoryModel *self = SF_HISTORY_MODEL (list);
  if (position >= self->ids->len)
    return NULL;
  guint page = position / SF_HISTORY_MODEL_PAGE;
  GPtrArray *items = g_hash_table_lookup (self->pages, GUINT_TO_POINTER (page));
  if (!items && !(items = load_page (self, page)))
    return NULL;
  return g_object_ref (items->pdata[position % SF_HISTORY_MODEL_PAGE]);
}

static void
sf_history_model_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = sf_history_model_get_item_type;
  iface->get_n_items = sf_history_model_get_n_items;
  iface->get_item = sf_history_model_get_item;
}

static void
clear_pages (SfHistoryModel *self)
{
  g_hash_table_remove_all (self->pages);
  g_queue_clear (&self->page_order);
}

void
sf_history_model_reload (SfHistoryModel *self)
{
  g_autoptr (GError) error = NULL;
  GArray *ids = sf_history_query_ids (self->history, &self->filter, &error);
  if (!ids)
    {
      g_warning ("history: %s", error->message);
      ids = g_array_new (FALSE, FALSE, sizeof (gint64));
    }
  GArray *old = self->ids;
  /* One items-changed for the span between the common head and tail. */
  guint head = 0, tail = 0;
  while (head < old->len && head < ids->len
         && g_array_index (old, gint64, head) == g_array_index (ids, gint64, head))
    head++;
  while (tail < old->len - head && tail < ids->len - head
         && g_array_index (old, gint64, old->len - 1 - tail) == g_array_index (ids, gint64, ids->len - 1 - tail))
    tail++;
  guint removed = old->len - head - tail, added = ids->len - head - tail;
  /* Rows that stayed may have changed (a favourite, a status): the cached
   * pages go, and the rows views had asked for are announced again. */
  guint first = G_MAXUINT, last = 0;
  GHashTableIter iter;
  gpointer key;
  g_hash_table_iter_init (&iter, self->pages);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      guint page = GPOINTER_TO_UINT (key);
      first = MIN (first, page * SF_HISTORY_MODEL_PAGE);
      last = MAX (last, MIN ((page + 1) * SF_HISTORY_MODEL_PAGE, old->len));
    }
  clear_pages (self);
  self->ids = ids;
  if (first < last)
    {
      /* Widen the changed span over the cached rows. */
      guint start = MIN (first, head);
      guint end_old = MAX (last, head + removed);
      guint shift = end_old - (head + removed);
      if (end_old > old->len)
        end_old = old->len;
      guint end_new = MIN (ids->len, head + added + shift);
      removed = end_old - start;
      added = end_new - start;
      head = start;
    }
  g_array_unref (old);
  if (removed || added)
    g_list_model_items_changed (G_LIST_MODEL (self), head, removed, added);
}

static void
on_history_changed (gpointer user_data)
{
  sf_history_model_reload (user_data);
}

void
sf_history_model_set_filter (SfHistoryModel *self, const SfHistoryFilter *filter)
{
  g_free (self->search);
  g_free (self->model_name);
  self->filter = *filter;
  self->search = g_strdup (filter->search);
  self->model_name = g_strdup (filter->model_name);
  self->filter.search = self->search;
  self->filter.model_name = self->model_name;
  /* A new filter shows another list: no row carries over. */
  guint old_length = self->ids->len;
  clear_pages (self);
  g_array_set_size (self->ids, 0);
  if (old_length)
    g_list_model_items_changed (G_LIST_MODEL (self), 0, old_length, 0);
  sf_history_model_reload (self);
}

int
sf_history_model_find (SfHistoryModel *self, gint64 id)
{
  for (guint i = 0; i < self->ids->len; i++)
    if (g_array_index (self->ids, gint64, i) == id)
      return (int) i;
  return -1;
}

guint
sf_history_model_get_pages_loaded (SfHistoryModel *self)
{
  return self->pages_loaded;
}

static void
sf_history_model_finalize (GObject *object)
{
  SfHistoryModel *self = SF_HISTORY_MODEL (object);
  sf_history_remove_watch (self->history, self->watch);
  clear_pages (self);
  g_hash_table_unref (self->pages);
  g_array_unref (self->ids);
  g_free (self->search);
  g_free (self->model_name);
  sf_history_unref (self->history);
  G_OBJECT_CLASS (sf_history_model_parent_class)->finalize (object);
}

static void
sf_history_model_class_init (SfHistoryModelClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = sf_history_model_finalize;
}

static void
sf_history_model_init (SfHistoryModel *self)
{
  self->ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  self->pages = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL,
                                       (GDestroyNotify) g_ptr_array_unref);
  g_queue_init (&self->page_order);
  sf_history_filter_init (&self->filter);
}

SfHistoryModel *
sf_history_model_new (SfHistory *history)
{
  SfHistoryModel *self = g_object_new (SF_TYPE_HISTORY_MODEL, NULL);
  self->history = sf_history_ref (history);
  self->watch = sf_history_add_watch (history, on_history_changed, self);
  sf_history_model_reload (self);
  return self;
}
