/* What generation-panel.c (behaviour) and generation-panel-build.c (the
 * widgets and their settings) share. */
#pragma once

#include "generation-panel.h"

G_BEGIN_DECLS

typedef struct {
  int width, height;
} SfFrameSize;

/* SDXL's trained sizes (about one megapixel, sides multiples of 64). */
#define SF_N_FRAME_SIZES 9
extern const SfFrameSize sf_frame_sizes[SF_N_FRAME_SIZES];

struct _SfGenerationPanel {
  GtkWidget parent_instance;
  GSettings *settings;              /* nullable */
  GtkWidget *stack;
  GtkSizeGroup *label_column;      /* while building */
  /* Prompt */
  GtkWidget *prompt;
  GtkWidget *negative;
  /* Model & sampling */
  GtkWidget *model_dropdown;
  GtkWidget *refiner_dropdown;
  GtkAdjustment *refiner_start;
  GtkWidget *refiner_start_spin;
  GtkWidget *sampler_dropdown;
  GtkWidget *scheduler_dropdown;
  GtkAdjustment *steps;
  GtkAdjustment *cfg;
  GtkAdjustment *seed;
  GtkWidget *keep_seed;
  GtkAdjustment *batch_count;
  GtkAdjustment *strength;
  GtkWidget *precision_dropdown;
  /* Inpaint & outpaint */
  GtkAdjustment *mask_blur;
  GtkWidget *only_masked;
  GtkAdjustment *only_masked_padding;
  GtkWidget *masked_content_dropdown;
  GtkAdjustment *extend_px;
  /* Output */
  GtkWidget *frame_dropdown;
  GtkWidget *auto_regenerate;
  GtkWidget *watermark;
  /* Running */
  GtkWidget *generate_button;
  GtkWidget *cancel_button;
  GtkWidget *progress;
  GtkWidget *staging;
  GtkWidget *staging_label;
  /* First use */
  GtkWidget *folders_label;
  GtkWidget *open_folder_button;
  GtkWidget *rescan_button;
  GtkWidget *rescan_models_button;  /* beside the model picker */

  GPtrArray *models;                /* SfModelFile */
  GtkStringList *model_names;
  GtkStringList *refiner_names;     /* "None", then the models */
  char *wanted_model;               /* the path to select once it is found */
  char *wanted_refiner;
  gboolean busy;
  gboolean rescanning;              /* the lists change under the dropdowns */
  guint staging_count, staging_current;
};

/* Builds the widgets into @self, binds them to @self->settings and names
 * them after their settings keys (tests find them by name). */
void sf_generation_panel_build (SfGenerationPanel *self);

/* Stores @value under @key when the settings have that key. */
void sf_generation_panel_save_string (SfGenerationPanel *self, const char *key, const char *value);

G_END_DECLS
