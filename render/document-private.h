/* Internals shared by the render/ modules that make up the document
 * (document.c, document-layers.c, composite.c, brush.c, mask.c, ora.c).
 * Not for use outside render/. */
#pragma once

#include "document.h"
#include "undo.h"

G_BEGIN_DECLS

struct SfLayer {
  gint ref_count;
  guint id;
  char *name;
  gboolean visible;
  double opacity;
  SfBlendMode blend_mode;
  gboolean alpha_locked;
  SfTileGrid *pixels;
  SfTileGrid *mask; /* nullable */
  char *generation_id; /* nullable */
  guint64 pixel_serial;
};

/* The properties one undo step of a property change swaps. */
typedef struct {
  char *name;
  gboolean visible;
  double opacity;
  SfBlendMode blend_mode;
  gboolean alpha_locked;
  char *generation_id;
} SfLayerProps;

typedef struct {
  guint id;
  SfDocumentObserver func;
  gpointer user_data;
} SfObserver;

struct SfDocument {
  SfRect canvas;
  SfRect frame;
  GPtrArray *layers; /* SfLayer, owned; index 0 is the bottom */
  SfLayer *active;   /* one of layers, or NULL when there are none */
  SfTileGrid *mask;  /* the inpaint mask (A8, fill 0) */

  SfTileGrid *composite; /* cached composite tiles; absent = to be made */

  SfUndoStack *undo;
  int edit_depth;
  GHashTable *recorded; /* during an edit: SfTileGrid* → set of packed tile coords */

  GArray *observers; /* SfObserver */
  guint next_observer_id;
  int notify_freeze;
};

/* A document with @canvas, the default frame and no layers, for loaders.
 * Returns: (transfer full). */
SfDocument *sf_document_new_blank (const SfRect *canvas);

/* A new layer with empty pixels (not in any document). */
SfLayer *sf_layer_new (const char *name);
/* A copy sharing tiles with @layer, with a fresh id. */
SfLayer *sf_layer_duplicate (const SfLayer *layer, const char *name);
void sf_layer_get_props (const SfLayer *layer, SfLayerProps *props);
void sf_layer_set_props (SfLayer *layer, const SfLayerProps *props);
void sf_layer_props_clear (SfLayerProps *props);

/* Opens an edit whose step a later property change with the same
 * @merge_key may update (see sf_undo_stack_find_mergeable). */
void sf_document_begin_edit_merging (SfDocument *document, const char *label,
                                     const char *merge_key);

/* Tells observers; also invalidates the composite cache where pixels
 * changed. */
void sf_document_emit (SfDocument *document, SfDocumentChange change, const SfRect *rect,
                       SfLayer *layer);
/* Drops cached composite tiles over @rect (NULL: all). */
void sf_document_invalidate_composite (SfDocument *document, const SfRect *rect);

/* The tile at (tx, ty) of @grid (a layer's pixels or mask, owned by
 * @layer, or the document mask with @layer NULL), ready to be written: the
 * first write in the open edit records the old tile for undo. An edit must
 * be open. Returns: (transfer none). */
SfTile *sf_document_write_tile (SfDocument *document, SfLayer *layer, SfTileGrid *grid, int tx,
                                int ty);
/* Puts @tile (NULL: removes) at (tx, ty) of @grid, recording undo. */
void sf_document_replace_tile (SfDocument *document, SfLayer *layer, SfTileGrid *grid, int tx,
                               int ty, SfTile *tile);
/* Records undo for and writes @rect of @grid from @in (grid format). */
void sf_document_write_grid (SfDocument *document, SfLayer *layer, SfTileGrid *grid,
                             const SfRect *rect, const guint8 *in, int stride);
/* Marks @layer's pixels as changed in @rect: bumps its serial and emits. */
void sf_document_layer_pixels_changed (SfDocument *document, SfLayer *layer, const SfRect *rect);

/* Composites tile (tx, ty) of @layer onto @target (a writable ARGB32
 * tile at the same place) within @clip (tile pixels) with the layer's
 * blend mode, opacity and mask; nothing where the layer has no tile.
 * Visibility is the caller's business. */
void sf_composite_layer_tile (SfTile *target, const SfLayer *layer, int tx, int ty,
                              const SfRect *clip);


G_END_DECLS
