/* Reading OpenRaster: stack.xml with GMarkup, layer PNGs from the zip.
 * Nested stacks are read as a flat list of their layers (the groups' own
 * properties are not applied). */
#include <glib/gi18n.h>
#include <string.h>
#include <zip.h>

#include "document-io.h"
#include "document-private.h"
#include "pixels.h"

#define MAX_ENTRY_BYTES ((zip_uint64_t) 1 << 30)
#define MAX_STACK_BYTES ((zip_uint64_t) 16 << 20)
#define MAX_LAYERS 1000
/* Layer offsets must keep tiles inside the grid's coordinate range. */
#define MAX_OFFSET (SF_TILE_COORD_LIMIT * SF_TILE_SIZE / 2)

typedef struct {
  char *name;
  char *src;
  int x, y;
  double opacity;
  gboolean visible;
  SfBlendMode blend_mode;
  gboolean alpha_locked;
  gboolean selected;
  char *generation_id;
  char *mask_src;
  int mask_x, mask_y;
} LayerInfo;

typedef struct {
  gboolean seen_image;
  int width, height;
  int origin_x, origin_y;
  gboolean has_frame;
  SfRect frame;
  char *mask_src;
  int mask_x, mask_y;
  GPtrArray *layers; /* LayerInfo, top first (document order) */
} StackInfo;

static void
set_string (char **field, const char *value)
{
  g_free (*field);
  *field = g_strdup (value);
}

static void
layer_info_free (gpointer data)
{
  LayerInfo *info = data;
  g_free (info->name);
  g_free (info->src);
  g_free (info->generation_id);
  g_free (info->mask_src);
  g_free (info);
}

static gboolean
parse_int (const char *value, int low, int high, int *out, const char *what, GError **error)
{
  gint64 number;
  if (!g_ascii_string_to_signed (value, 10, low, high, &number, NULL))
    {
      g_set_error (error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT,
                   _("%s “%s” is not a whole number from %d to %d"), what, value, low, high);
      return FALSE;
    }
  *out = (int) number;
  return TRUE;
}

static gboolean
parse_frame (const char *value, SfRect *frame, GError **error)
{
  g_auto (GStrv) parts = g_strsplit (value, " ", -1);
  int numbers[4];
  if (g_strv_length (parts) != 4)
    goto bad;
  for (int i = 0; i < 4; i++)
    if (!parse_int (parts[i], i < 2 ? -MAX_OFFSET : 8, i < 2 ? MAX_OFFSET : SF_CANVAS_MAX_SIZE,
                    &numbers[i], "frame", NULL))
      goto bad;
  *frame = (SfRect) { numbers[0], numbers[1], numbers[2], numbers[3] };
  return TRUE;
bad:
  g_set_error (error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT,
               _("The generation frame “%s” is not four numbers"), value);
  return FALSE;
}

static void
start_element (GMarkupParseContext *context, const char *element, const char **names,
               const char **values, gpointer user_data, GError **error)
{
  StackInfo *stack = user_data;
  if (strcmp (element, "image") == 0)
    {
      stack->seen_image = TRUE;
      for (int i = 0; names[i]; i++)
        {
          const char *name = names[i], *value = values[i];
          gboolean ok = TRUE;
          if (strcmp (name, "w") == 0)
            ok = parse_int (value, 1, SF_CANVAS_MAX_SIZE, &stack->width, "w", error);
          else if (strcmp (name, "h") == 0)
            ok = parse_int (value, 1, SF_CANVAS_MAX_SIZE, &stack->height, "h", error);
          else if (strcmp (name, "sfumato:origin-x") == 0)
            ok = parse_int (value, -MAX_OFFSET, MAX_OFFSET, &stack->origin_x, name, error);
          else if (strcmp (name, "sfumato:origin-y") == 0)
            ok = parse_int (value, -MAX_OFFSET, MAX_OFFSET, &stack->origin_y, name, error);
          else if (strcmp (name, "sfumato:frame") == 0)
            ok = stack->has_frame = parse_frame (value, &stack->frame, error);
          else if (strcmp (name, "sfumato:mask-src") == 0)
            set_string (&stack->mask_src, value);
          else if (strcmp (name, "sfumato:mask-x") == 0)
            ok = parse_int (value, -MAX_OFFSET, MAX_OFFSET, &stack->mask_x, name, error);
          else if (strcmp (name, "sfumato:mask-y") == 0)
            ok = parse_int (value, -MAX_OFFSET, MAX_OFFSET, &stack->mask_y, name, error);
          if (!ok)
            return;
        }
      return;
    }
  if (strcmp (element, "layer") != 0)
    return; /* stack, text, filters …: nothing to read */
  if (stack->layers->len >= MAX_LAYERS)
    {
      g_set_error (error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT,
                   _("More than %d layers"), MAX_LAYERS);
      return;
    }
  LayerInfo *layer = g_new0 (LayerInfo, 1);
  layer->opacity = 1.0;
  layer->visible = TRUE;
  g_ptr_array_add (stack->layers, layer);
  for (int i = 0; names[i]; i++)
    {
      const char *name = names[i], *value = values[i];
      gboolean ok = TRUE;
      if (strcmp (name, "name") == 0)
        set_string (&layer->name, value);
      else if (strcmp (name, "src") == 0)
        set_string (&layer->src, value);
      else if (strcmp (name, "x") == 0)
        ok = parse_int (value, -MAX_OFFSET, MAX_OFFSET, &layer->x, "x", error);
      else if (strcmp (name, "y") == 0)
        ok = parse_int (value, -MAX_OFFSET, MAX_OFFSET, &layer->y, "y", error);
      else if (strcmp (name, "opacity") == 0)
        {
          char *end;
          double opacity = g_ascii_strtod (value, &end);
          layer->opacity = (*end || !(opacity >= 0)) ? 1.0 : MIN (opacity, 1.0);
        }
      else if (strcmp (name, "visibility") == 0)
        layer->visible = strcmp (value, "hidden") != 0;
      else if (strcmp (name, "composite-op") == 0)
        layer->blend_mode = sf_blend_mode_from_ora (value);
      else if (strcmp (name, "selected") == 0)
        layer->selected = strcmp (value, "true") == 0;
      else if (strcmp (name, "sfumato:alpha-locked") == 0)
        layer->alpha_locked = strcmp (value, "true") == 0;
      else if (strcmp (name, "sfumato:generation-id") == 0)
        set_string (&layer->generation_id, value);
      else if (strcmp (name, "sfumato:mask-src") == 0)
        set_string (&layer->mask_src, value);
      else if (strcmp (name, "sfumato:mask-x") == 0)
        ok = parse_int (value, -MAX_OFFSET, MAX_OFFSET, &layer->mask_x, name, error);
      else if (strcmp (name, "sfumato:mask-y") == 0)
        ok = parse_int (value, -MAX_OFFSET, MAX_OFFSET, &layer->mask_y, name, error);
      if (!ok)
        return;
    }
  if (!layer->src)
    g_set_error (error, G_MARKUP_ERROR, G_MARKUP_ERROR_MISSING_ATTRIBUTE,
                 _("A layer has no “src” attribute"));
}

static GBytes *
read_entry (zip_t *zip, const char *name, zip_uint64_t limit, GError **error)
{
  zip_int64_t index = zip_name_locate (zip, name, 0);
  zip_stat_t stat;
  if (index < 0 || zip_stat_index (zip, (zip_uint64_t) index, 0, &stat) < 0
      || !(stat.valid & ZIP_STAT_SIZE))
    {
      g_set_error (error, SF_IO_ERROR, SF_IO_ERROR_CORRUPT, _("%s is missing from the archive"),
                   name);
      return NULL;
    }
  if (stat.size > limit)
    {
      g_set_error (error, SF_IO_ERROR, SF_IO_ERROR_TOO_LARGE, _("%s is too large"), name);
      return NULL;
    }
  zip_file_t *file = zip_fopen_index (zip, (zip_uint64_t) index, 0);
  if (!file)
    {
      g_set_error (error, SF_IO_ERROR, SF_IO_ERROR_CORRUPT, _("Could not read %s: %s"), name,
                   zip_strerror (zip));
      return NULL;
    }
  guint8 *data = g_malloc (MAX (stat.size, 1));
  zip_int64_t got = zip_fread (file, data, stat.size);
  gboolean ok = got == (zip_int64_t) stat.size;
  if (!ok)
    g_set_error (error, SF_IO_ERROR, SF_IO_ERROR_CORRUPT, _("Could not read %s: %s"), name,
                 zip_file_strerror (file));
  zip_fclose (file);
  if (!ok)
    {
      g_free (data);
      return NULL;
    }
  return g_bytes_new_take (data, stat.size);
}

static SfImage *
read_png_entry (zip_t *zip, const char *name, GError **error)
{
  g_autoptr (GBytes) bytes = read_entry (zip, name, MAX_ENTRY_BYTES, error);
  if (!bytes)
    return NULL;
  gsize size;
  const guint8 *data = g_bytes_get_data (bytes, &size);
  g_autoptr (GError) local = NULL;
  SfImage *image = sf_png_load_from_data (data, size, &local);
  if (!image)
    g_set_error (error, SF_IO_ERROR, local->code, "%s: %s", name, local->message);
  return image;
}

/* Writes the grey (red) channel of @image into @grid at (x, y). */
static void
write_grey (SfTileGrid *grid, const SfImage *image, int x, int y)
{
  gsize count = (gsize) image->width * image->height;
  g_autofree guint8 *grey = g_malloc (count);
  for (gsize i = 0; i < count; i++)
    grey[i] = image->pixels[i * 4];
  SfRect rect = { x, y, image->width, image->height };
  sf_tile_grid_write (grid, &rect, grey, image->width);
}

static SfDocument *
build_document (zip_t *zip, StackInfo *stack, GError **error)
{
  SfRect canvas = { stack->origin_x, stack->origin_y, stack->width, stack->height };
  g_autoptr (SfDocument) document = sf_document_new_blank (&canvas);
  if (stack->has_frame)
    document->frame = sf_rect_snap8 (&stack->frame);
  if (stack->mask_src)
    {
      g_autoptr (SfImage) image = read_png_entry (zip, stack->mask_src, error);
      if (!image)
        return NULL;
      write_grey (document->mask, image, canvas.x + stack->mask_x, canvas.y + stack->mask_y);
    }
  SfLayer *active = NULL;
  for (guint i = stack->layers->len; i-- > 0;)
    {
      LayerInfo *info = stack->layers->pdata[i];
      g_autoptr (SfImage) image = read_png_entry (zip, info->src, error);
      if (!image)
        return NULL;
      SfLayer *layer = sf_layer_new (info->name ? info->name : "");
      g_ptr_array_add (document->layers, layer);
      layer->visible = info->visible;
      layer->opacity = info->opacity;
      layer->blend_mode = info->blend_mode;
      layer->alpha_locked = info->alpha_locked;
      layer->generation_id = g_strdup (info->generation_id);
      gsize count = (gsize) image->width * image->height;
      g_autofree guint8 *argb = g_malloc (count * 4);
      sf_pixels_rgba_to_argb (image->pixels, image->width * 4, argb, image->width * 4,
                              image->width, image->height);
      SfRect rect = { canvas.x + info->x, canvas.y + info->y, image->width, image->height };
      sf_tile_grid_write (layer->pixels, &rect, argb, image->width * 4);
      if (info->mask_src)
        {
          g_autoptr (SfImage) mask = read_png_entry (zip, info->mask_src, error);
          if (!mask)
            return NULL;
          layer->mask = sf_tile_grid_new (SF_TILE_A8, 255);
          write_grey (layer->mask, mask, canvas.x + info->mask_x, canvas.y + info->mask_y);
        }
      if (info->selected)
        active = layer;
    }
  /* Without a selected layer, the top one. */
  if (!active && document->layers->len > 0)
    active = document->layers->pdata[document->layers->len - 1];
  document->active = active;
  return g_steal_pointer (&document);
}

static SfDocument *
read_archive (zip_t *zip, GError **error)
{
  if (zip_name_locate (zip, "mimetype", 0) >= 0)
    {
      g_autoptr (GBytes) mimetype = read_entry (zip, "mimetype", 256, error);
      if (!mimetype)
        return NULL;
      gsize size;
      const char *data = g_bytes_get_data (mimetype, &size);
      if (size < strlen ("image/openraster") || memcmp (data, "image/openraster", 16) != 0)
        {
          g_set_error (error, SF_IO_ERROR, SF_IO_ERROR_UNSUPPORTED,
                       _("This archive is not an OpenRaster image"));
          return NULL;
        }
    }
  g_autoptr (GBytes) xml = read_entry (zip, "stack.xml", MAX_STACK_BYTES, error);
  if (!xml)
    return NULL;
  StackInfo stack = { .layers = g_ptr_array_new_with_free_func (layer_info_free) };
  static const GMarkupParser parser = { start_element, NULL, NULL, NULL, NULL };
  GMarkupParseContext *context = g_markup_parse_context_new (&parser, 0, &stack, NULL);
  gsize size;
  const char *text = g_bytes_get_data (xml, &size);
  g_autoptr (GError) local = NULL;
  gboolean parsed = g_markup_parse_context_parse (context, text, (gssize) size, &local)
                    && g_markup_parse_context_end_parse (context, &local);
  g_markup_parse_context_free (context);
  SfDocument *document = NULL;
  if (!parsed)
    g_set_error (error, SF_IO_ERROR, SF_IO_ERROR_CORRUPT, _("stack.xml is damaged: %s"),
                 local->message);
  else if (!stack.seen_image || stack.width < 1 || stack.height < 1)
    g_set_error (error, SF_IO_ERROR, SF_IO_ERROR_CORRUPT,
                 _("stack.xml does not give the image size"));
  else
    document = build_document (zip, &stack, error);
  g_ptr_array_unref (stack.layers);
  g_free (stack.mask_src);
  return document;
}

SfDocument *
sf_document_decode_ora (const guint8 *data, gsize size, GError **error)
{
  zip_error_t zip_error;
  zip_error_init (&zip_error);
  zip_source_t *source = zip_source_buffer_create (data, size, 0, &zip_error);
  zip_t *zip = source ? zip_open_from_source (source, ZIP_RDONLY | ZIP_CHECKCONS, &zip_error)
                      : NULL;
  if (!zip)
    {
      g_set_error (error, SF_IO_ERROR, SF_IO_ERROR_CORRUPT,
                   _("This is not an OpenRaster file (a zip archive): %s"),
                   zip_error_strerror (&zip_error));
      zip_error_fini (&zip_error);
      if (source)
        zip_source_free (source);
      return NULL;
    }
  zip_error_fini (&zip_error);
  SfDocument *document = read_archive (zip, error);
  zip_discard (zip);
  return document;
}

SfDocument *
sf_document_load_ora (const char *path, GError **error)
{
  g_autofree char *contents = NULL;
  gsize size = 0;
  g_autoptr (GError) local = NULL;
  if (!g_file_get_contents (path, &contents, &size, &local))
    {
      g_set_error (error, SF_IO_ERROR, SF_IO_ERROR_READ, _("Could not open “%s”: %s"), path,
                   local->message);
      return NULL;
    }
  SfDocument *document = sf_document_decode_ora ((const guint8 *) contents, size, &local);
  if (!document)
    g_set_error (error, SF_IO_ERROR, local->code, _("Could not open “%s”: %s"), path,
                 local->message);
  return document;
}
