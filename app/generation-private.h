/* Shared by generation.c (jobs, actions) and generation-staging.c (the
 * staging strip). */
#pragma once

#include "generation-frame.h"
#include "generation.h"

G_BEGIN_DECLS

struct _SfGeneration {
  GObject parent_instance;

  SfWindow *window;            /* not owned: the window owns this */
  SfEngine *engine;            /* not owned: the application's */
  SfHistory *history;          /* nullable */
  SfGenerationPanel *panel;
  SfHistoryPanel *history_panel; /* nullable */
  gboolean disposed;

  SfDocument *document;        /* the window's, not owned */
  guint observer;
  guint document_serial;       /* bumped when another document is shown */
  char *document_id;           /* a random id per document shown */
  gint64 parent_id;            /* the history entry last recalled */

  struct SfGenerationJob *job; /* the running job, or NULL */
  gboolean restart;            /* start again when the running job ends */

  /* The staging strip (generation-staging.c). */
  GPtrArray *variants;         /* SfStagedVariant, oldest first */
  guint current;
  SfRect base_canvas;          /* the canvas before anything was staged */
  SfLayer *base_active;        /* the active layer then (a reference) */
  gboolean clean;              /* only our steps were made since staging began */
  guint our_steps;             /* undo steps of ours on top of the stack */
  guint64 expected_state;      /* the document's state after our last step */
  gboolean busy_editing;       /* while we change the document ourselves */
  guint apply_timer;           /* waits for a brush stroke to end */
};

typedef struct {
  SfLayer *layer;              /* a reference; may have left the document */
  GBytes *rgba;                /* rect-size straight RGBA */
  SfRect rect;
  gboolean outpaint;           /* the canvas grows to hold rect */
  guint64 seed;
  char *generation_id;         /* nullable */
} SfStagedVariant;

void sf_generation_variant_free (gpointer variant);

/* generation-actions.c */
/* Connects the panels' signals and adds the window's actions. */
void sf_generation_connect (SfGeneration *self);
void sf_generation_update_actions (SfGeneration *self);

/* generation-staging.c */
/* A new result joins the strip and becomes the current variant. */
void sf_generation_stage_add (SfGeneration *self, GBytes *rgba, const SfRect *rect,
                              gboolean outpaint, guint64 seed, const char *generation_id);
/* Drops the strip without touching the document (it is gone). */
void sf_generation_stage_forget (SfGeneration *self);
/* The document without the staged layers, for planning.
 * Returns: (transfer full). */
SfDocument *sf_generation_stage_snapshot (SfGeneration *self);
/* The document observer: notices staged layers that left. */
void sf_generation_stage_observe (SfDocument *document, const SfDocumentEvent *event,
                                  gpointer user_data);

G_END_DECLS
