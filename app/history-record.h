/* One generation as the history remembers it: everything needed to show
 * it, search it and reproduce it. The engine fills one in per job. */
#pragma once

#include <glib-object.h>
#include <json-glib/json-glib.h>

#include "infotext.h"

G_BEGIN_DECLS

typedef enum {
  SF_GENERATION_TXT2IMG,
  SF_GENERATION_IMG2IMG,
  SF_GENERATION_INPAINT,
  SF_GENERATION_OUTPAINT,
} SfGenerationMode;

typedef enum {
  SF_GENERATION_RUNNING,   /* inserted when the job started, not finished yet */
  SF_GENERATION_DONE,
  SF_GENERATION_CANCELLED,
  SF_GENERATION_FAILED,    /* status_message says why */
} SfGenerationStatus;

typedef struct {
  gint64 id;                /* 0 until stored */
  gint64 created_us;        /* UTC, microseconds since the Unix epoch */
  SfGenerationMode mode;
  char *prompt;             /* as typed, weights syntax and all */
  char *negative_prompt;    /* as typed; "" when none */
  /* The parsed (text, weight) runs as JSON, e.g. [["a ",1.0],["red fox",1.2]];
   * NULL when not known (imported images). */
  char *prompt_weights;
  char *negative_weights;
  guint64 seed;
  char *sampler;            /* the engine's id: "euler", "euler_a", "dpmpp_2m", ... */
  char *scheduler;          /* "normal", "karras", "exponential", ... */
  int steps;
  double cfg_scale;
  double strength;          /* denoising strength: 1 for txt2img */
  int width_px, height_px;
  int frame_x, frame_y;     /* the generation frame's top-left on the canvas */
  char *model_name;
  char *model_hash;
  char *refiner_name;       /* NULL when no refiner */
  char *refiner_hash;
  double refiner_switch;    /* fraction of steps run on the base; < 0 without refiner */
  char *precision;          /* "fp16" or "fp32" */
  gint64 duration_us;
  char *device;             /* the Vulkan device's name */
  SfGenerationStatus status;
  char *status_message;     /* why it failed; NULL otherwise */
  gint64 parent_id;         /* the generation this one refined; 0 when none */
  char *document_id;        /* the document it was made in; NULL when none */
  char *document_path;
  gboolean favourite;
  /* Files relative to the history's folder ($XDG_DATA_HOME/sfumato);
   * NULL when there is none. Set by the store. */
  char *image_path;
  char *mask_path;
  char *init_path;
} SfGenerationRecord;

#define SF_TYPE_GENERATION_RECORD (sf_generation_record_get_type ())
GType sf_generation_record_get_type (void);

/* Returns: (transfer full): a record with empty strings for the prompts,
 * strength 1, no refiner, status done, created now. */
SfGenerationRecord *sf_generation_record_new (void);
SfGenerationRecord *sf_generation_record_copy (const SfGenerationRecord *record);
void sf_generation_record_free (SfGenerationRecord *record);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SfGenerationRecord, sf_generation_record_free)

const char *sf_generation_mode_to_string (SfGenerationMode mode);
gboolean sf_generation_mode_from_string (const char *text, SfGenerationMode *mode);
const char *sf_generation_status_to_string (SfGenerationStatus status);
gboolean sf_generation_status_from_string (const char *text, SfGenerationStatus *status);

/* "2025-03-01T12:34:56.789012Z". Returns: (transfer full). */
char *sf_generation_format_time (gint64 unix_us);

/* Sampler and scheduler ids <-> the names A1111 writes ("dpmpp_2m" <->
 * "DPM++ 2M", "karras" <-> "Karras"); unknown names pass through. */
const char *sf_sampler_to_a1111 (const char *sampler);
const char *sf_sampler_from_a1111 (const char *name);
const char *sf_scheduler_to_a1111 (const char *scheduler);
const char *sf_scheduler_from_a1111 (const char *name);

/* Every field as a JSON object (seed as a decimal string: JSON numbers
 * lose precision past 2^53). Returns: (transfer full). */
JsonNode *sf_generation_record_to_json (const SfGenerationRecord *record);

/* The A1111 `parameters` text for @record. Returns: (transfer full). */
char *sf_generation_record_format_parameters (const SfGenerationRecord *record);

/* A record from parameters read out of another tool's PNG (the mode is
 * img2img when a denoising strength below 1 was given).
 * Returns: (transfer full). */
SfGenerationRecord *sf_generation_record_from_infotext (const SfInfotext *infotext);

G_END_DECLS
