/* Tiles and sparse tile grids: the storage of every layer and mask.
 *
 * A tile is 256×256 pixels, either premultiplied ARGB32 in Cairo's layout
 * (one native-endian guint32 0xAARRGGBB per pixel, so a tile wraps as a
 * cairo_image_surface_t without conversion) or 8-bit coverage (A8, masks).
 * Tiles are reference-counted and shared copy-on-write: a grid copy, an
 * undo step or a snapshot being saved on another thread holds references,
 * and whoever writes first into a shared tile gets a private copy. So an
 * undo step costs only the tiles its edit changed.
 *
 * A grid maps tile coordinates (tx, ty) to tiles; a tile that is absent
 * reads as the grid's fill value (transparent for layers, 0 or 255 for
 * masks) and is created on first write. Tile (tx, ty) covers the canvas
 * pixels [tx·256, tx·256+256) × [ty·256, ty·256+256); coordinates may be
 * negative. */
#pragma once

#include <cairo.h>
#include <glib.h>

#include "geometry.h"

G_BEGIN_DECLS

#define SF_TILE_SIZE 256
/* Grid coordinates are kept within ±SF_TILE_COORD_LIMIT tiles (±8 Mpx). */
#define SF_TILE_COORD_LIMIT 32767

typedef enum {
  SF_TILE_ARGB32, /* premultiplied, Cairo's CAIRO_FORMAT_ARGB32 */
  SF_TILE_A8,     /* one byte of coverage per pixel */
} SfTileFormat;

typedef struct SfTile SfTile;

/* A tile with every byte set to @fill. Returns: (transfer full). */
SfTile *sf_tile_new (SfTileFormat format, guint8 fill);
/* A private copy of @tile's pixels. Returns: (transfer full). */
SfTile *sf_tile_copy (const SfTile *tile);
SfTile *sf_tile_ref (SfTile *tile);
void sf_tile_unref (SfTile *tile);

SfTileFormat sf_tile_get_format (const SfTile *tile);
/* Bytes per row: 1024 for ARGB32, 256 for A8. */
int sf_tile_get_stride (const SfTile *tile);
/* Bytes of pixel storage. */
gsize sf_tile_get_bytes (const SfTile *tile);
gsize sf_tile_format_bytes (SfTileFormat format);
/* Whether someone besides the caller holds a reference. */
gboolean sf_tile_is_shared (const SfTile *tile);
/* Whether every byte equals @value. */
gboolean sf_tile_is_uniform (const SfTile *tile, guint8 value);

const guint8 *sf_tile_peek_data (const SfTile *tile);
/* Writable pixels; only for a tile that is not shared. */
guint8 *sf_tile_get_data (SfTile *tile);

/* A Cairo surface over the tile's pixels (no copy). Drawing into it is
 * allowed only while the tile is not shared. Returns: (transfer full). */
cairo_surface_t *sf_tile_create_surface (SfTile *tile);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SfTile, sf_tile_unref)

typedef struct SfTileGrid SfTileGrid;

typedef struct {
  int tx;
  int ty;
} SfTileCoord;

/* Returns: (transfer full). */
SfTileGrid *sf_tile_grid_new (SfTileFormat format, guint8 fill);
/* A grid sharing every tile with @grid. Returns: (transfer full). */
SfTileGrid *sf_tile_grid_copy (const SfTileGrid *grid);
SfTileGrid *sf_tile_grid_ref (SfTileGrid *grid);
void sf_tile_grid_unref (SfTileGrid *grid);

SfTileFormat sf_tile_grid_get_format (const SfTileGrid *grid);
guint8 sf_tile_grid_get_fill (const SfTileGrid *grid);
guint sf_tile_grid_get_count (const SfTileGrid *grid);
/* Bytes of all tiles (shared ones counted in full). */
gsize sf_tile_grid_get_bytes (const SfTileGrid *grid);

/* The tile at (tx, ty), or NULL when absent. Returns: (transfer none). */
SfTile *sf_tile_grid_peek (const SfTileGrid *grid, int tx, int ty);
/* The tile at (tx, ty), created (filled) when absent and copied when
 * shared, so its pixels may be written. Returns: (transfer none). */
SfTile *sf_tile_grid_get_writable (SfTileGrid *grid, int tx, int ty);
/* Puts @tile (a new reference is taken; NULL removes) at (tx, ty). */
void sf_tile_grid_set (SfTileGrid *grid, int tx, int ty, SfTile *tile);
void sf_tile_grid_clear (SfTileGrid *grid);

/* Coordinates of the present tiles, sorted by row then column.
 * Returns: (transfer full) (element-type SfTileCoord). */
GArray *sf_tile_grid_list (const SfTileGrid *grid);
/* The union of the present tiles' pixel rectangles; FALSE when none. */
gboolean sf_tile_grid_get_extent (const SfTileGrid *grid, SfRect *extent);
/* The tightest rectangle of pixels that differ from the fill value (and,
 * for ARGB32, are not fully transparent); FALSE when there are none. */
gboolean sf_tile_grid_get_content_bounds (const SfTileGrid *grid, SfRect *bounds);

/* Copies the pixels of @rect into @out (rows of @stride bytes, 4 or 1
 * byte per pixel in the grid's format); absent tiles read as the fill. */
void sf_tile_grid_read (const SfTileGrid *grid, const SfRect *rect, guint8 *out, int stride);
/* Writes @rect from @in (same layout as sf_tile_grid_read). Tiles that
 * would become entirely the fill value are not created. */
void sf_tile_grid_write (SfTileGrid *grid, const SfRect *rect, const guint8 *in, int stride);
/* Removes the tiles that hold only the fill value. */
void sf_tile_grid_prune (SfTileGrid *grid);

/* The pixel rectangle of tile (tx, ty). */
SfRect sf_tile_rect (int tx, int ty);
/* The range of tile coordinates touching @rect (inclusive). */
void sf_tile_range (const SfRect *rect, int *tx0, int *ty0, int *tx1, int *ty1);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SfTileGrid, sf_tile_grid_unref)

G_END_DECLS
