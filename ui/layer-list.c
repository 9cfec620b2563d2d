#include "layer-list.h"

/* Items */

struct _SfLayerItem {
  GObject parent_instance;
  SfLayer *layer;
  GdkTexture *thumbnail;
  guint64 thumbnail_serial; /* the layer's pixel serial it shows; G_MAXUINT64 = none */
};

enum {
  ITEM_PROP_0,
  ITEM_PROP_NAME,
  ITEM_PROP_VISIBLE,
  ITEM_PROP_OPACITY,
  ITEM_PROP_BLEND_MODE,
  ITEM_PROP_ALPHA_LOCKED,
  ITEM_PROP_HAS_MASK,
  ITEM_PROP_GENERATED,
  ITEM_PROP_THUMBNAIL,
  ITEM_N_PROPS
};

static GParamSpec *item_properties[ITEM_N_PROPS];

G_DEFINE_FINAL_TYPE (SfLayerItem, sf_layer_item, G_TYPE_OBJECT)

static void
sf_layer_item_finalize (GObject *object)
{
  SfLayerItem *self = SF_LAYER_ITEM (object);
  sf_layer_unref (self->layer);
  g_clear_object (&self->thumbnail);
  G_OBJECT_CLASS (sf_layer_item_parent_class)->finalize (object);
}

static void
sf_layer_item_get_property (GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
  SfLayerItem *self = SF_LAYER_ITEM (object);
  switch (id)
    {
    case ITEM_PROP_NAME:
      g_value_set_string (value, sf_layer_get_name (self->layer));
      break;
    case ITEM_PROP_VISIBLE:
      g_value_set_boolean (value, sf_layer_get_visible (self->layer));
      break;
    case ITEM_PROP_OPACITY:
      g_value_set_double (value, sf_layer_get_opacity (self->layer));
      break;
    case ITEM_PROP_BLEND_MODE:
      g_value_set_uint (value, sf_layer_get_blend_mode (self->layer));
      break;
    case ITEM_PROP_ALPHA_LOCKED:
      g_value_set_boolean (value, sf_layer_get_alpha_locked (self->layer));
      break;
    case ITEM_PROP_HAS_MASK:
      g_value_set_boolean (value, sf_layer_get_mask (self->layer) != NULL);
      break;
    case ITEM_PROP_GENERATED:
      g_value_set_boolean (value, sf_layer_get_generation_id (self->layer) != NULL);
      break;
    case ITEM_PROP_THUMBNAIL:
      g_value_set_object (value, self->thumbnail);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
sf_layer_item_class_init (SfLayerItemClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  object_class->finalize = sf_layer_item_finalize;
  object_class->get_property = sf_layer_item_get_property;
  GParamFlags flags = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;
  item_properties[ITEM_PROP_NAME] = g_param_spec_string ("name", NULL, NULL, NULL, flags);
  item_properties[ITEM_PROP_VISIBLE] = g_param_spec_boolean ("visible", NULL, NULL, TRUE, flags);
  item_properties[ITEM_PROP_OPACITY] = g_param_spec_double ("opacity", NULL, NULL, 0, 1, 1,
                                                            flags);
  item_properties[ITEM_PROP_BLEND_MODE] = g_param_spec_uint ("blend-mode", NULL, NULL, 0,
                                                             SF_BLEND_COUNT - 1, 0, flags);
  item_properties[ITEM_PROP_ALPHA_LOCKED] = g_param_spec_boolean ("alpha-locked", NULL, NULL,
                                                                  FALSE, flags);
  item_properties[ITEM_PROP_HAS_MASK] = g_param_spec_boolean ("has-mask", NULL, NULL, FALSE,
                                                              flags);
  item_properties[ITEM_PROP_GENERATED] = g_param_spec_boolean ("generated", NULL, NULL, FALSE,
                                                               flags);
  item_properties[ITEM_PROP_THUMBNAIL] = g_param_spec_object ("thumbnail", NULL, NULL,
                                                              GDK_TYPE_PAINTABLE, flags);
  g_object_class_install_properties (object_class, ITEM_N_PROPS, item_properties);
}

static void
sf_layer_item_init (SfLayerItem *self)
{
  self->thumbnail_serial = G_MAXUINT64;
}

SfLayer *
sf_layer_item_get_layer (SfLayerItem *self)
{
  return self->layer;
}

GdkPaintable *
sf_layer_item_get_thumbnail (SfLayerItem *self)
{
  return self->thumbnail ? GDK_PAINTABLE (self->thumbnail) : NULL;
}

static void
item_refresh_thumbnail (SfLayerItem *self, const SfRect *canvas, gboolean force)
{
  guint64 serial = sf_layer_get_pixel_serial (self->layer);
  if (!force && self->thumbnail && serial == self->thumbnail_serial)
    return;
  int size = SF_LAYER_THUMBNAIL_SIZE;
  cairo_surface_t *surface = sf_layer_render_thumbnail (self->layer, canvas, size);
  cairo_surface_flush (surface);
  int stride = cairo_image_surface_get_stride (surface);
  g_autoptr (GBytes) bytes = g_bytes_new (cairo_image_surface_get_data (surface),
                                          (gsize) stride * size);
  cairo_surface_destroy (surface);
  g_clear_object (&self->thumbnail);
  self->thumbnail = gdk_memory_texture_new (size, size, GDK_MEMORY_DEFAULT, bytes, stride);
  self->thumbnail_serial = serial;
  g_object_notify_by_pspec (G_OBJECT (self), item_properties[ITEM_PROP_THUMBNAIL]);
}

static void
item_notify_all (SfLayerItem *self)
{
  g_object_freeze_notify (G_OBJECT (self));
  for (int id = ITEM_PROP_NAME; id < ITEM_PROP_THUMBNAIL; id++)
    g_object_notify_by_pspec (G_OBJECT (self), item_properties[id]);
  g_object_thaw_notify (G_OBJECT (self));
}

/* The list */

struct _SfLayerList {
  GObject parent_instance;
  SfDocument *document;
  guint observer;
  GPtrArray *items; /* SfLayerItem, top first */
  guint thumbnail_timeout;
};

static void sf_layer_list_model_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (SfLayerList, sf_layer_list, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL,
                                                      sf_layer_list_model_init))

static GType
get_item_type (GListModel *model)
{
  return SF_TYPE_LAYER_ITEM;
}

static guint
get_n_items (GListModel *model)
{
  return SF_LAYER_LIST (model)->items->len;
}

static gpointer
get_item (GListModel *model, guint position)
{
  SfLayerList *self = SF_LAYER_LIST (model);
  return position < self->items->len ? g_object_ref (self->items->pdata[position]) : NULL;
}

static void
sf_layer_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = get_item_type;
  iface->get_n_items = get_n_items;
  iface->get_item = get_item;
}

static SfLayerItem *
find_item (SfLayerList *self, SfLayer *layer)
{
  for (guint i = 0; i < self->items->len; i++)
    if (((SfLayerItem *) self->items->pdata[i])->layer == layer)
      return self->items->pdata[i];
  return NULL;
}

static void
rebuild (SfLayerList *self)
{
  guint removed = self->items->len;
  g_autoptr (GPtrArray) old = g_steal_pointer (&self->items);
  self->items = g_ptr_array_new_with_free_func (g_object_unref);
  guint count = self->document ? sf_document_get_layer_count (self->document) : 0;
  SfRect canvas = self->document ? sf_document_get_canvas (self->document) : (SfRect) { 0 };
  for (guint i = count; i-- > 0;)
    {
      SfLayer *layer = sf_document_get_layer (self->document, i);
      SfLayerItem *item = NULL;
      for (guint j = 0; j < old->len && !item; j++)
        if (((SfLayerItem *) old->pdata[j])->layer == layer)
          item = g_object_ref (old->pdata[j]);
      if (!item)
        {
          item = g_object_new (SF_TYPE_LAYER_ITEM, NULL);
          item->layer = sf_layer_ref (layer);
          item_refresh_thumbnail (item, &canvas, TRUE);
        }
      g_ptr_array_add (self->items, item);
    }
  g_list_model_items_changed (G_LIST_MODEL (self), 0, removed, self->items->len);
}

static gboolean
refresh_thumbnails_later (gpointer user_data)
{
  SfLayerList *self = user_data;
  self->thumbnail_timeout = 0;
  sf_layer_list_refresh_thumbnails (self);
  return G_SOURCE_REMOVE;
}

void
sf_layer_list_refresh_thumbnails (SfLayerList *self)
{
  if (!self->document)
    return;
  SfRect canvas = sf_document_get_canvas (self->document);
  for (guint i = 0; i < self->items->len; i++)
    item_refresh_thumbnail (self->items->pdata[i], &canvas, FALSE);
}

static void
on_document_changed (SfDocument *document, const SfDocumentEvent *event, gpointer user_data)
{
  SfLayerList *self = user_data;
  if (event->change & SF_DOCUMENT_CHANGED_LAYERS)
    rebuild (self);
  if ((event->change & SF_DOCUMENT_CHANGED_LAYER) && event->layer)
    {
      SfLayerItem *item = find_item (self, event->layer);
      if (item)
        item_notify_all (item);
    }
  if (event->change & SF_DOCUMENT_CHANGED_CANVAS)
    for (guint i = 0; i < self->items->len; i++)
      ((SfLayerItem *) self->items->pdata[i])->thumbnail_serial = G_MAXUINT64;
  if ((event->change & (SF_DOCUMENT_CHANGED_PIXELS | SF_DOCUMENT_CHANGED_CANVAS))
      && !self->thumbnail_timeout)
    /* Thumbnails follow a stroke a few times a second, not every dab. */
    self->thumbnail_timeout = g_timeout_add (300, refresh_thumbnails_later, self);
}

void
sf_layer_list_set_document (SfLayerList *self, SfDocument *document)
{
  if (self->document == document)
    return;
  if (self->document)
    sf_document_remove_observer (self->document, self->observer);
  self->document = document;
  self->observer = document ? sf_document_add_observer (document, on_document_changed, self) : 0;
  rebuild (self);
}

SfDocument *
sf_layer_list_get_document (SfLayerList *self)
{
  return self->document;
}

guint
sf_layer_list_get_position (SfLayerList *self, SfLayer *layer)
{
  for (guint i = 0; i < self->items->len; i++)
    if (((SfLayerItem *) self->items->pdata[i])->layer == layer)
      return i;
  return GTK_INVALID_LIST_POSITION;
}

static void
sf_layer_list_dispose (GObject *object)
{
  SfLayerList *self = SF_LAYER_LIST (object);
  g_clear_handle_id (&self->thumbnail_timeout, g_source_remove);
  if (self->document)
    sf_document_remove_observer (self->document, self->observer);
  self->document = NULL;
  G_OBJECT_CLASS (sf_layer_list_parent_class)->dispose (object);
}

static void
sf_layer_list_finalize (GObject *object)
{
  g_ptr_array_unref (SF_LAYER_LIST (object)->items);
  G_OBJECT_CLASS (sf_layer_list_parent_class)->finalize (object);
}

static void
sf_layer_list_class_init (SfLayerListClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = sf_layer_list_dispose;
  G_OBJECT_CLASS (klass)->finalize = sf_layer_list_finalize;
}

static void
sf_layer_list_init (SfLayerList *self)
{
  self->items = g_ptr_array_new_with_free_func (g_object_unref);
}

SfLayerList *
sf_layer_list_new (void)
{
  return g_object_new (SF_TYPE_LAYER_LIST, NULL);
}
