/* A painting document: the canvas rectangle, a stack of tiled layers, the
 * inpaint mask, the generation frame and the undo history.
 *
 * Coordinates are canvas pixels. The canvas is a rectangle that may start
 * at a negative origin once it has grown up or left (outpainting); layers
 * are not clipped to it, but compositing and export are.
 *
 * Every change made through these functions is undoable. Changes made
 * between sf_document_begin_edit() and sf_document_end_edit() become one
 * undo step; a single call outside such a pair is a step of its own.
 * Observers hear about every change (including undo and redo), on the
 * thread that made it: the main thread in the application.
 *
 * Entry points for the generation features (read the picture and the mask
 * under the frame, add the result as a layer, grow the canvas):
 *   sf_document_get_frame / sf_document_set_frame
 *   sf_document_read_rgba, sf_document_read_mask
 *   sf_document_add_layer_from_rgba (with a generation id)
 *   sf_document_grow
 */
#pragma once

#include <glib.h>

#include "geometry.h"
#include "layer.h"
#include "tile.h"

G_BEGIN_DECLS

#define SF_DOCUMENT_ERROR (sf_document_error_quark ())
GQuark sf_document_error_quark (void);

typedef enum {
  SF_DOCUMENT_ERROR_TOO_LARGE,
  SF_DOCUMENT_ERROR_INVALID,
  SF_DOCUMENT_ERROR_NO_LAYER,
} SfDocumentError;

/* The largest canvas side, in pixels. */
#define SF_CANVAS_MAX_SIZE 16384
/* The generation frame's default side (SDXL's native size). */
#define SF_FRAME_DEFAULT_SIZE 1024

typedef struct SfDocument SfDocument;

/* A document with a @width_px × @height_px canvas at (0, 0), one empty
 * layer and the frame centred (1024×1024, or the canvas snapped to 8 when
 * smaller). Returns: (transfer full). */
SfDocument *sf_document_new (int width_px, int height_px);
void sf_document_free (SfDocument *document);

/* A copy that shares every tile (copy-on-write) and has no history and no
 * observers: cheap, and safe to read on another thread (saving) while the
 * original goes on changing. Returns: (transfer full). */
SfDocument *sf_document_snapshot (const SfDocument *document);

/* Canvas */

SfRect sf_document_get_canvas (const SfDocument *document);
int sf_document_get_width (const SfDocument *document);
int sf_document_get_height (const SfDocument *document);
/* Makes @canvas the canvas (crop or extend; pixels stay where they are in
 * canvas coordinates). The frame is kept inside it. */
gboolean sf_document_set_canvas (SfDocument *document, const SfRect *canvas, GError **error);
/* Grows the canvas by the given pixels on each side (negative values
 * shrink it); for outpainting. */
gboolean sf_document_grow (SfDocument *document, int left_px, int top_px, int right_px,
                           int bottom_px, GError **error);

/* The generation frame */

SfRect sf_document_get_frame (const SfDocument *document);
/* Sets the frame, snapped to multiples of 8 (sf_rect_snap8). Not an undo
 * step of its own: moving a frame is not an edit of the picture. */
void sf_document_set_frame (SfDocument *document, const SfRect *frame);

/* Layers (index 0 is the bottom) */

guint sf_document_get_layer_count (const SfDocument *document);
/* Returns: (transfer none) (nullable). */
SfLayer *sf_document_get_layer (const SfDocument *document, guint index);
/* -1 when @layer is not in the document. */
int sf_document_get_layer_index (const SfDocument *document, const SfLayer *layer);
/* The layer painting goes to. Returns: (transfer none) (nullable). */
SfLayer *sf_document_get_active_layer (const SfDocument *document);
void sf_document_set_active_layer (SfDocument *document, SfLayer *layer);

/* Adds an empty layer above the active one and makes it active.
 * Returns: (transfer none). */
SfLayer *sf_document_add_layer (SfDocument *document, const char *name);
/* Adds a layer at @index (0…count) holding @rgba (straight R,G,B,A bytes,
 * @width × @height, rows of @stride bytes) with its top-left pixel at
 * canvas (@x, @y), and makes it active. @generation_id (nullable) is kept
 * on the layer and saved in the .ora; pass -1 as @index for "above the
 * active layer". Returns: (transfer none) (nullable): NULL on error. */
SfLayer *sf_document_add_layer_from_rgba (SfDocument *document, int index, const guint8 *rgba,
                                          int width, int height, int stride, int x, int y,
                                          const char *name, const char *generation_id,
                                          GError **error);
/* The same for premultiplied ARGB32 pixels (Cairo's layout). */
SfLayer *sf_document_add_layer_from_argb (SfDocument *document, int index, const guint8 *argb,
                                          int width, int height, int stride, int x, int y,
                                          const char *name, const char *generation_id,
                                          GError **error);
/* A copy above @layer, made active. Returns: (transfer none). */
SfLayer *sf_document_duplicate_layer (SfDocument *document, SfLayer *layer);
void sf_document_remove_layer (SfDocument *document, SfLayer *layer);
/* Moves @layer to @index (0 … count-1). */
void sf_document_move_layer (SfDocument *document, SfLayer *layer, guint index);
/* Composites @layer onto the layer below it (with its blend mode, opacity
 * and mask) and removes it. FALSE with an error when it is the bottom. */
gboolean sf_document_merge_down (SfDocument *document, SfLayer *layer, GError **error);
/* Makes every pixel of @layer transparent. */
void sf_document_clear_layer (SfDocument *document, SfLayer *layer);

void sf_document_set_layer_name (SfDocument *document, SfLayer *layer, const char *name);
void sf_document_set_layer_visible (SfDocument *document, SfLayer *layer, gboolean visible);
void sf_document_set_layer_opacity (SfDocument *document, SfLayer *layer, double opacity);
void sf_document_set_layer_blend_mode (SfDocument *document, SfLayer *layer, SfBlendMode mode);
void sf_document_set_layer_alpha_locked (SfDocument *document, SfLayer *layer, gboolean locked);
void sf_document_set_layer_generation_id (SfDocument *document, SfLayer *layer,
                                          const char *generation_id);
/* Gives @layer a mask that shows everything; no-op when it has one. */
void sf_document_add_layer_mask (SfDocument *document, SfLayer *layer);
void sf_document_remove_layer_mask (SfDocument *document, SfLayer *layer);

/* Reading the picture */

/* The composite of the visible layers over @rect as straight R,G,B,A
 * bytes (rows of @stride bytes). Pixels outside the canvas are
 * transparent. */
void sf_document_read_rgba (SfDocument *document, const SfRect *rect, guint8 *out, int stride);
/* The same, premultiplied ARGB32 (Cairo's layout). */
void sf_document_read_argb (SfDocument *document, const SfRect *rect, guint8 *out, int stride);
/* The composite tile (tx, ty), clipped to the canvas, made again only
 * where something changed since. Valid until the document next changes.
 * Returns: (transfer none). */
SfTile *sf_document_get_composite_tile (SfDocument *document, int tx, int ty);

/* The inpaint mask: 0 keeps, 255 regenerates. */

/* Reads @rect of the mask as 8-bit values (0 outside the canvas). */
void sf_document_read_mask (const SfDocument *document, const SfRect *rect, guint8 *out,
                            int stride);
/* Returns: (transfer none). */
SfTileGrid *sf_document_get_mask (const SfDocument *document);
/* Whether no pixel of the canvas is masked. */
gboolean sf_document_mask_is_empty (const SfDocument *document);
/* Sets every mask pixel of @rect (within the canvas) to @value: "fill the
 * frame" with 255, "clear" with 0 over the canvas. */
void sf_document_fill_mask (SfDocument *document, const SfRect *rect, guint8 value);
void sf_document_invert_mask (SfDocument *document);
/* Grows the mask by @radius_px (a disc), or shrinks it when negative. */
void sf_document_grow_mask (SfDocument *document, int radius_px);
/* Softens the mask's edges with a Gaussian of σ = @radius_px / 2. */
void sf_document_feather_mask (SfDocument *document, double radius_px);

/* Undo */

void sf_document_begin_edit (SfDocument *document, const char *label);
void sf_document_end_edit (SfDocument *document);
gboolean sf_document_can_undo (const SfDocument *document);
gboolean sf_document_can_redo (const SfDocument *document);
/* Labels of the steps undo and redo would take back (nullable). */
const char *sf_document_get_undo_label (const SfDocument *document);
const char *sf_document_get_redo_label (const SfDocument *document);
gboolean sf_document_undo (SfDocument *document);
gboolean sf_document_redo (SfDocument *document);
/* Bytes the history may keep (default SF_UNDO_DEFAULT_LIMIT, 1 GiB);
 * older steps are dropped past it. */
void sf_document_set_undo_limit (SfDocument *document, gsize bytes);
gsize sf_document_get_undo_bytes (const SfDocument *document);
guint sf_document_get_undo_count (const SfDocument *document);
/* Forgets the history (after loading a file). */
void sf_document_clear_history (SfDocument *document);
/* A number that names the document's state in its history: save it when
 * the document is saved; the document is modified when it differs. */
guint64 sf_document_get_state (const SfDocument *document);

/* Observers */

typedef enum {
  SF_DOCUMENT_CHANGED_PIXELS = 1 << 0, /* rect of the composite; layer, if one */
  SF_DOCUMENT_CHANGED_MASK = 1 << 1,   /* rect of the inpaint mask */
  SF_DOCUMENT_CHANGED_LAYERS = 1 << 2, /* layers added, removed or moved */
  SF_DOCUMENT_CHANGED_LAYER = 1 << 3,  /* properties of layer */
  SF_DOCUMENT_CHANGED_ACTIVE = 1 << 4, /* the active layer */
  SF_DOCUMENT_CHANGED_CANVAS = 1 << 5, /* rect is the new canvas */
  SF_DOCUMENT_CHANGED_FRAME = 1 << 6,  /* rect is the new frame */
  SF_DOCUMENT_CHANGED_HISTORY = 1 << 7, /* an undo step was made, undone or redone */
} SfDocumentChange;

typedef struct {
  SfDocumentChange change;
  SfRect rect;
  SfLayer *layer; /* nullable */
} SfDocumentEvent;

typedef void (*SfDocumentObserver) (SfDocument *document, const SfDocumentEvent *event,
                                    gpointer user_data);

guint sf_document_add_observer (SfDocument *document, SfDocumentObserver func,
                                gpointer user_data);
void sf_document_remove_observer (SfDocument *document, guint id);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SfDocument, sf_document_free)

G_END_DECLS
