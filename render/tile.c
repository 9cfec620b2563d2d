#include "tile.h"

#include <string.h>

struct SfTile {
  gint ref_count; /* atomic: snapshots are saved on worker threads */
  SfTileFormat format;
  guint8 *data;
};

struct SfTileGrid {
  gint ref_count;
  SfTileFormat format;
  guint8 fill;
  GHashTable *tiles; /* packed coordinate → SfTile (owned) */
};

gsize
sf_tile_format_bytes (SfTileFormat format)
{
  return (gsize) SF_TILE_SIZE * SF_TILE_SIZE * (format == SF_TILE_ARGB32 ? 4 : 1);
}

SfTile *
sf_tile_new (SfTileFormat format, guint8 fill)
{
  SfTile *tile = g_new (SfTile, 1);
  tile->ref_count = 1;
  tile->format = format;
  tile->data = g_malloc (sf_tile_format_bytes (format));
  memset (tile->data, fill, sf_tile_format_bytes (format));
  return tile;
}

SfTile *
sf_tile_copy (const SfTile *tile)
{
  SfTile *copy = g_new (SfTile, 1);
  copy->ref_count = 1;
  copy->format = tile->format;
  copy->data = g_memdup2 (tile->data, sf_tile_format_bytes (tile->format));
  return copy;
}

SfTile *
sf_tile_ref (SfTile *tile)
{
  g_atomic_int_inc (&tile->ref_count);
  return tile;
}

void
sf_tile_unref (SfTile *tile)
{
  if (tile && g_atomic_int_dec_and_test (&tile->ref_count))
    {
      g_free (tile->data);
      g_free (tile);
    }
}

SfTileFormat
sf_tile_get_format (const SfTile *tile)
{
  return tile->format;
}

int
sf_tile_get_stride (const SfTile *tile)
{
  return tile->format == SF_TILE_ARGB32 ? SF_TILE_SIZE * 4 : SF_TILE_SIZE;
}

gsize
sf_tile_get_bytes (const SfTile *tile)
{
  return sf_tile_format_bytes (tile->format);
}

gboolean
sf_tile_is_shared (const SfTile *tile)
{
  return g_atomic_int_get (&tile->ref_count) > 1;
}

gboolean
sf_tile_is_uniform (const SfTile *tile, guint8 value)
{
  gsize bytes = sf_tile_get_bytes (tile);
  if (tile->data[0] != value)
    return FALSE;
  /* Overlapping compare: every byte equals its predecessor. */
  return memcmp (tile->data, tile->data + 1, bytes - 1) == 0;
}

const guint8 *
sf_tile_peek_data (const SfTile *tile)
{
  return tile->data;
}

guint8 *
sf_tile_get_data (SfTile *tile)
{
  g_return_val_if_fail (!sf_tile_is_shared (tile), NULL);
  return tile->data;
}

cairo_surface_t *
sf_tile_create_surface (SfTile *tile)
{
  return cairo_image_surface_create_for_data (
      tile->data, tile->format == SF_TILE_ARGB32 ? CAIRO_FORMAT_ARGB32 : CAIRO_FORMAT_A8,
      SF_TILE_SIZE, SF_TILE_SIZE, sf_tile_get_stride (tile));
}

/* Grids */

static gpointer
pack (int tx, int ty)
{
  g_return_val_if_fail (ABS (tx) <= SF_TILE_COORD_LIMIT && ABS (ty) <= SF_TILE_COORD_LIMIT, NULL);
  guint32 key = ((guint32) (tx + 32768) << 16) | (guint32) (ty + 32768);
  return GUINT_TO_POINTER (key);
}

static void
unpack (gpointer key, int *tx, int *ty)
{
  guint32 value = GPOINTER_TO_UINT (key);
  *tx = (int) (value >> 16) - 32768;
  *ty = (int) (value & 0xffff) - 32768;
}

SfTileGrid *
sf_tile_grid_new (SfTileFormat format, guint8 fill)
{
  SfTileGrid *grid = g_new (SfTileGrid, 1);
  grid->ref_count = 1;
  grid->format = format;
  grid->fill = fill;
  grid->tiles = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL,
                                       (GDestroyNotify) sf_tile_unref);
  return grid;
}

SfTileGrid *
sf_tile_grid_copy (const SfTileGrid *grid)
{
  SfTileGrid *copy = sf_tile_grid_new (grid->format, grid->fill);
  GHashTableIter iter;
  gpointer key, value;
  g_hash_table_iter_init (&iter, grid->tiles);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_hash_table_insert (copy->tiles, key, sf_tile_ref (value));
  return copy;
}

SfTileGrid *
sf_tile_grid_ref (SfTileGrid *grid)
{
  g_atomic_int_inc (&grid->ref_count);
  return grid;
}

void
sf_tile_grid_unref (SfTileGrid *grid)
{
  if (grid && g_atomic_int_dec_and_test (&grid->ref_count))
    {
      g_hash_table_unref (grid->tiles);
      g_free (grid);
    }
}

SfTileFormat
sf_tile_grid_get_format (const SfTileGrid *grid)
{
  return grid->format;
}

guint8
sf_tile_grid_get_fill (const SfTileGrid *grid)
{
  return grid->fill;
}

guint
sf_tile_grid_get_count (const SfTileGrid *grid)
{
  return g_hash_table_size (grid->tiles);
}

gsize
sf_tile_grid_get_bytes (const SfTileGrid *grid)
{
  return sf_tile_grid_get_count (grid) * sf_tile_format_bytes (grid->format);
}

SfTile *
sf_tile_grid_peek (const SfTileGrid *grid, int tx, int ty)
{
  return g_hash_table_lookup (grid->tiles, pack (tx, ty));
}

SfTile *
sf_tile_grid_get_writable (SfTileGrid *grid, int tx, int ty)
{
  gpointer key = pack (tx, ty);
  SfTile *tile = g_hash_table_lookup (grid->tiles, key);
  if (!tile)
    {
      tile = sf_tile_new (grid->format, grid->fill);
      g_hash_table_insert (grid->tiles, key, tile);
    }
  else if (sf_tile_is_shared (tile))
    {
      tile = sf_tile_copy (tile);
      g_hash_table_insert (grid->tiles, key, tile); /* drops our old reference */
    }
  return tile;
}

void
sf_tile_grid_set (SfTileGrid *grid, int tx, int ty, SfTile *tile)
{
  g_return_if_fail (!tile || tile->format == grid->format);
  if (tile)
    g_hash_table_insert (grid->tiles, pack (tx, ty), sf_tile_ref (tile));
  else
    g_hash_table_remove (grid->tiles, pack (tx, ty));
}

void
sf_tile_grid_clear (SfTileGrid *grid)
{
  g_hash_table_remove_all (grid->tiles);
}

static int
compare_coords (gconstpointer a, gconstpointer b)
{
  const SfTileCoord *ca = a, *cb = b;
  if (ca->ty != cb->ty)
    return ca->ty < cb->ty ? -1 : 1;
  return ca->tx < cb->tx ? -1 : ca->tx > cb->tx;
}

GArray *
sf_tile_grid_list (const SfTileGrid *grid)
{
  GArray *coords = g_array_sized_new (FALSE, FALSE, sizeof (SfTileCoord),
                                      g_hash_table_size (grid->tiles));
  GHashTableIter iter;
  gpointer key;
  g_hash_table_iter_init (&iter, grid->tiles);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      SfTileCoord coord;
      unpack (key, &coord.tx, &coord.ty);
      g_array_append_val (coords, coord);
    }
  g_array_sort (coords, compare_coords);
  return coords;
}

SfRect
sf_tile_rect (int tx, int ty)
{
  return (SfRect) { tx * SF_TILE_SIZE, ty * SF_TILE_SIZE, SF_TILE_SIZE, SF_TILE_SIZE };
}

void
sf_tile_range (const SfRect *rect, int *tx0, int *ty0, int *tx1, int *ty1)
{
  *tx0 = sf_floor_div (rect->x, SF_TILE_SIZE);
  *ty0 = sf_floor_div (rect->y, SF_TILE_SIZE);
  *tx1 = sf_floor_div (rect->x + rect->width - 1, SF_TILE_SIZE);
  *ty1 = sf_floor_div (rect->y + rect->height - 1, SF_TILE_SIZE);
}

gboolean
sf_tile_grid_get_extent (const SfTileGrid *grid, SfRect *extent)
{
  *extent = (SfRect) { 0, 0, 0, 0 };
  GHashTableIter iter;
  gpointer key;
  g_hash_table_iter_init (&iter, grid->tiles);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      int tx, ty;
      unpack (key, &tx, &ty);
      SfRect rect = sf_tile_rect (tx, ty);
      sf_rect_union (extent, &rect, extent);
    }
  return !sf_rect_is_empty (extent);
}

gboolean
sf_tile_grid_get_content_bounds (const SfTileGrid *grid, SfRect *bounds)
{
  *bounds = (SfRect) { 0, 0, 0, 0 };
  int bpp = grid->format == SF_TILE_ARGB32 ? 4 : 1;
  GHashTableIter iter;
  gpointer key, value;
  g_hash_table_iter_init (&iter, grid->tiles);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      const SfTile *tile = value;
      if (sf_tile_is_uniform (tile, grid->fill))
        continue;
      int tx, ty;
      unpack (key, &tx, &ty);
      int x0 = SF_TILE_SIZE, y0 = SF_TILE_SIZE, x1 = -1, y1 = -1;
      for (int y = 0; y < SF_TILE_SIZE; y++)
        {
          const guint8 *row = tile->data + (gsize) y * SF_TILE_SIZE * bpp;
          for (int x = 0; x < SF_TILE_SIZE; x++)
            {
              gboolean differs = FALSE;
              for (int c = 0; c < bpp; c++)
                differs |= row[x * bpp + c] != grid->fill;
              if (differs)
                {
                  x0 = MIN (x0, x);
                  x1 = MAX (x1, x);
                  y0 = MIN (y0, y);
                  y1 = MAX (y1, y);
                }
            }
        }
      SfRect rect = { tx * SF_TILE_SIZE + x0, ty * SF_TILE_SIZE + y0, x1 - x0 + 1, y1 - y0 + 1 };
      sf_rect_union (bounds, &rect, bounds);
    }
  return !sf_rect_is_empty (bounds);
}

void
sf_tile_grid_read (const SfTileGrid *grid, const SfRect *rect, guint8 *out, int stride)
{
  if (sf_rect_is_empty (rect))
    return;
  int bpp = grid->format == SF_TILE_ARGB32 ? 4 : 1;
  int tx0, ty0, tx1, ty1;
  sf_tile_range (rect, &tx0, &ty0, &tx1, &ty1);
  for (int ty = ty0; ty <= ty1; ty++)
    for (int tx = tx0; tx <= tx1; tx++)
      {
        SfRect tile_rect = sf_tile_rect (tx, ty), part;
        sf_rect_intersect (&tile_rect, rect, &part);
        const SfTile *tile = sf_tile_grid_peek (grid, tx, ty);
        for (int y = part.y; y < part.y + part.height; y++)
          {
            guint8 *dst = out + (gsize) (y - rect->y) * stride + (gsize) (part.x - rect->x) * bpp;
            if (tile)
              {
                const guint8 *src = tile->data
                                    + ((gsize) (y - tile_rect.y) * SF_TILE_SIZE
                                       + (gsize) (part.x - tile_rect.x)) * bpp;
                memcpy (dst, src, (gsize) part.width * bpp);
              }
            else
              memset (dst, grid->fill, (gsize) part.width * bpp);
          }
      }
}

static gboolean
span_is (const guint8 *data, gsize bytes, guint8 value)
{
  for (gsize i = 0; i < bytes; i++)
    if (data[i] != value)
      return FALSE;
  return TRUE;
}

void
sf_tile_grid_write (SfTileGrid *grid, const SfRect *rect, const guint8 *in, int stride)
{
  if (sf_rect_is_empty (rect))
    return;
  int bpp = grid->format == SF_TILE_ARGB32 ? 4 : 1;
  int tx0, ty0, tx1, ty1;
  sf_tile_range (rect, &tx0, &ty0, &tx1, &ty1);
  for (int ty = ty0; ty <= ty1; ty++)
    for (int tx = tx0; tx <= tx1; tx++)
      {
        SfRect tile_rect = sf_tile_rect (tx, ty), part;
        sf_rect_intersect (&tile_rect, rect, &part);
        if (!sf_tile_grid_peek (grid, tx, ty))
          {
            gboolean all_fill = TRUE;
            for (int y = part.y; y < part.y + part.height && all_fill; y++)
              all_fill = span_is (in + (gsize) (y - rect->y) * stride
                                      + (gsize) (part.x - rect->x) * bpp,
                                  (gsize) part.width * bpp, grid->fill);
            if (all_fill)
              continue;
          }
        SfTile *tile = sf_tile_grid_get_writable (grid, tx, ty);
        for (int y = part.y; y < part.y + part.height; y++)
          memcpy (tile->data + ((gsize) (y - tile_rect.y) * SF_TILE_SIZE
                                + (gsize) (part.x - tile_rect.x)) * bpp,
                  in + (gsize) (y - rect->y) * stride + (gsize) (part.x - rect->x) * bpp,
                  (gsize) part.width * bpp);
      }
}

void
sf_tile_grid_prune (SfTileGrid *grid)
{
  GHashTableIter iter;
  gpointer value;
  g_hash_table_iter_init (&iter, grid->tiles);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (sf_tile_is_uniform (value, grid->fill))
      g_hash_table_iter_remove (&iter);
}
