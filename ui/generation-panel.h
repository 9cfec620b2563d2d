/* The generation panel: prompt and negative prompt editors, model and
 * refiner pickers, sampling parameters, inpaint and outpaint options,
 * output options, and the running UI (Generate, Cancel, progress, the
 * staging strip of results waiting to be accepted). When no SDXL
 * checkpoint is found it shows a first-use page instead, with the
 * folders searched, "Open models folder" and "Rescan".
 *
 * Models are looked for in A1111's models/Stable-diffusion and ComfyUI's
 * models/checkpoints (under ~/stable-diffusion-webui, ~/ComfyUI and the
 * install roots in GSettings), Sfumato's $XDG_DATA_HOME/sfumato/models,
 * the GSettings strv model-folders, and SFUMATO_MODEL_DIRS (colon-
 * separated).
 *
 * Signals: "generate" (), "cancel" (),
 *   "extend" (int side: 0 left, 1 top, 2 right, 3 bottom; int px),
 *   "frame-size" (int width, int height) when the preset changes,
 *   "stage-select" (guint index), "stage-accept" (), "stage-discard" (),
 *   "prompt-changed" () after the editors' debounce (for auto-regenerate).
 * Actions on the widget (group "gen"): gen.generate, gen.cancel,
 *   gen.accept, gen.discard, gen.next, gen.previous, gen.dice, and
 *   gen.extend (int side) which emits "extend" with the panel's pixels.
 * The widgets are named after their GSettings keys ("steps", "seed", ...;
 *   "pages" is the stack of "main" and "first-use"), for tests. */
#pragma once

#include <gtk/gtk.h>

#include "engine.h"
#include "prompt-editor.h"

G_BEGIN_DECLS

#define SF_TYPE_GENERATION_PANEL (sf_generation_panel_get_type ())
G_DECLARE_FINAL_TYPE (SfGenerationPanel, sf_generation_panel, SF, GENERATION_PANEL, GtkWidget)

typedef enum {
  SF_PANEL_MASKED_ORIGINAL,
  SF_PANEL_MASKED_FILL,
  SF_PANEL_MASKED_LATENT_NOISE,
} SfPanelMaskedContent;

/* What the panel says beyond the engine request. */
typedef struct {
  double mask_blur_px;
  gboolean only_masked;
  int only_masked_padding_px;
  SfPanelMaskedContent masked_content;
  int extend_px;
  gboolean keep_seed;
  gboolean auto_regenerate;
  gboolean watermark;
  int frame_width, frame_height;   /* the preset chosen */
} SfPanelOptions;

/* @settings (nullable): the org.sfumato.Sfumato settings. */
GtkWidget *sf_generation_panel_new (GSettings *settings);

/* A request from the widgets: model, refiner, prompts, sampler,
 * scheduler, steps, cfg, batch count, strength, precision; width and
 * height are the preset's; seed is the resolved seed (see below).
 * Returns: (transfer full), or NULL (and shows the first-use page) when
 * no model is chosen. */
SfEngineRequest *sf_generation_panel_build_request (SfGenerationPanel *panel);

/* Seed field >= 0: that seed. -1: a fresh random 32-bit seed; with
 * keep-seed on, the resolved seed is written back into the seed field so
 * the next run reuses it. */
guint64 sf_generation_panel_resolve_seed (SfGenerationPanel *panel);

void sf_generation_panel_get_options (SfGenerationPanel *panel, SfPanelOptions *options);

/* Recall: puts every parameter of @request (prompt, negative, seed,
 * sampler, ...; the model by path, or by file name when the path is not
 * among the models found) back into the widgets. */
void sf_generation_panel_apply_request (SfGenerationPanel *panel, const SfEngineRequest *request);

void sf_generation_panel_set_busy (SfGenerationPanel *panel, gboolean busy);
/* @progress NULL clears the progress bar. */
void sf_generation_panel_set_progress (SfGenerationPanel *panel, const SfEngineProgress *progress);
/* Shows "◀ current+1/count ▶"; @count 0 hides the strip. */
void sf_generation_panel_set_staging (SfGenerationPanel *panel, guint count, guint current);

void sf_generation_panel_rescan_models (SfGenerationPanel *panel);
guint sf_generation_panel_get_model_count (SfGenerationPanel *panel);

/* For tests: the editors. Returns: (transfer none). */
SfPromptEditor *sf_generation_panel_get_prompt_editor (SfGenerationPanel *panel);
SfPromptEditor *sf_generation_panel_get_negative_editor (SfGenerationPanel *panel);

G_END_DECLS
