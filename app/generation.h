/* Generation on the canvas: the bridge between a window, its document,
 * the generation panel, the engine and the history.
 *
 * One per window (sf_application_new_window makes it). It adds the
 * generation panel ("generate") and the history browser ("history") to
 * the window's sidebar, and the actions
 *   win.generate             (ctrl+Return)  plans the frame and runs a job
 *   win.cancel-generation    (Escape)       cancels the running job
 *   win.stage-accept / win.stage-discard / win.stage-next /
 *   win.stage-previous / win.stage-select (uint32 index)
 *
 * A job reads the document under the frame (render/generation-frame.h
 * decides the mode), runs on the engine's worker thread and shows a
 * preview of every step in the frame. Each image is stored in the history
 * and arrives as a new layer in a staging strip: only the current
 * variant's layer is visible until one is accepted (a normal layer, one
 * undo step with the outpaint canvas growth) or all are discarded.
 *
 * Starting a job while variants are staged keeps them, as Krita's AI
 * Diffusion plugin keeps earlier results: the new images join the strip.
 * The new job's plan reads the document without the staged layers. */
#pragma once

#include <gtk/gtk.h>

#include "engine.h"
#include "generation-panel.h"
#include "history-panel.h"
#include "history.h"
#include "window.h"

G_BEGIN_DECLS

#define SF_TYPE_GENERATION (sf_generation_get_type ())
G_DECLARE_FINAL_TYPE (SfGeneration, sf_generation, SF, GENERATION, GObject)

/* Attaches generation to @window, which keeps the object until it is
 * destroyed. @engine is shared (not owned; it must outlive the window's
 * jobs: sf_engine_free cancels them). @history (nullable) is kept.
 * Returns: (transfer none). */
SfGeneration *sf_generation_attach (SfWindow *window, SfEngine *engine, SfHistory *history);
/* The window's generation, or NULL. Returns: (transfer none). */
SfGeneration *sf_generation_get_for_window (SfWindow *window);

/* Returns: (transfer none). */
SfGenerationPanel *sf_generation_get_panel (SfGeneration *self);
/* Returns: (transfer none) (nullable): NULL when the history could not
 * be opened. */
SfHistoryPanel *sf_generation_get_history_panel (SfGeneration *self);

/* What win.generate does. When a job is running it is cancelled and the
 * new one starts when it has ended. FALSE (with a message shown) when
 * the frame or the panel cannot make a job. */
gboolean sf_generation_start (SfGeneration *self);
void sf_generation_cancel (SfGeneration *self);
/* Whether a job runs (or its results are still being stored). */
gboolean sf_generation_is_busy (SfGeneration *self);

/* The staging strip. */
guint sf_generation_get_staged_count (SfGeneration *self);
guint sf_generation_get_staged_index (SfGeneration *self);
/* Returns: (transfer none) (nullable). */
SfLayer *sf_generation_get_staged_layer (SfGeneration *self, guint index);
void sf_generation_stage_select (SfGeneration *self, guint index);
void sf_generation_stage_accept (SfGeneration *self);
void sf_generation_stage_discard (SfGeneration *self);

/* Signals:
 *   "progress" (int step, int total): a step of the running job.
 *   "finished" (int status, gint64 history_id, const char *message): a
 *     job ended and its history rows are written; status is an
 *     SfGenerationStatus, history_id the job's last row (0 without a
 *     history), message the error's (nullable). */

G_END_DECLS
