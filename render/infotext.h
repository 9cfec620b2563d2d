/* Generation parameters as other tools store them in PNG text chunks:
 * AUTOMATIC1111's `parameters` text (which Sfumato also writes) and
 * ComfyUI's `prompt` graph.
 *
 * A1111's format (modules/processing.py create_infotext, parsed by
 * modules/infotext_utils.py parse_generation_parameters):
 *
 *   PROMPT (may span lines)
 *   Negative prompt: NEGATIVE (line omitted when empty)
 *   Steps: 20, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 1, ...
 *
 * The last line is "Key: value" pairs joined by ", "; a value holding a
 * comma, colon or newline is written as a JSON string. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  char *prompt;
  char *negative_prompt;
  int steps;               /* 0 when absent */
  char *sampler;           /* A1111's name ("DPM++ 2M") or ComfyUI's ("dpmpp_2m") */
  char *scheduler;         /* "Karras", "karras", ...; NULL when absent */
  double cfg_scale;        /* 0 when absent */
  gboolean has_seed;
  guint64 seed;
  int width_px, height_px; /* 0 when absent */
  double denoising_strength; /* < 0 when absent */
  char *model_hash;
  char *model;
  char *refiner;           /* "Refiner: name [hash]" as written */
  double refiner_switch_at; /* < 0 when absent */
  /* Every "Key: value" pair of A1111's last line, unquoted, in order of
   * appearance (those above included). NULL for ComfyUI. */
  GPtrArray *keys;
  GPtrArray *values;
} SfInfotext;

/* Returns: (transfer full): an empty SfInfotext (numbers "absent"). */
SfInfotext *sf_infotext_new (void);
void sf_infotext_free (SfInfotext *infotext);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SfInfotext, sf_infotext_free)

/* Value of @key in an A1111 parameter list, or NULL. */
const char *sf_infotext_lookup (const SfInfotext *infotext, const char *key);

/* Parses A1111's `parameters` text. Never fails: text without a parameter
 * line is all prompt. Returns: (transfer full). */
SfInfotext *sf_infotext_parse_a1111 (const char *text);

/* Formats @infotext exactly as A1111 does: prompt, "Negative prompt:"
 * line when the negative is not empty, then Steps, Sampler, Schedule type,
 * CFG scale, Seed, Size, Model hash, Model, Denoising strength, Refiner,
 * Refiner switch at (each only when present), then @extra_keys/values.
 * Returns: (transfer full). */
char *sf_infotext_format_a1111 (const SfInfotext *infotext, const char *const *extra_keys,
                                const char *const *extra_values);

/* Parses ComfyUI's `prompt` JSON (the API graph: node id -> {class_type,
 * inputs}): the first KSampler / KSamplerAdvanced gives seed, steps, cfg,
 * sampler, scheduler and denoise; following its positive and negative
 * links (through any node with a "conditioning" input) to CLIPTextEncode
 * nodes gives the prompts (SDXL's text_g/text_l too), and its latent_image
 * link to EmptyLatentImage gives the size; the checkpoint loader gives the
 * model. Returns: (transfer full), NULL with @error when the JSON is not
 * such a graph. */
SfInfotext *sf_infotext_parse_comfyui (const char *prompt_json, GError **error);

/* Parses ComfyUI's `workflow` JSON (the editor's graph: "nodes" with
 * "widgets_values", "links" as [id, from node, from slot, to node, to
 * slot, type]): the first KSampler's widgets give seed, steps, cfg,
 * sampler, scheduler and denoise, its positive and negative inputs lead
 * to CLIPTextEncode nodes, its latent input to EmptyLatentImage.
 * Returns: (transfer full), NULL with @error when it is not such a graph. */
SfInfotext *sf_infotext_parse_comfyui_workflow (const char *workflow_json, GError **error);

/* From a PNG's text chunks (sf_png_text_read_*): A1111's `parameters`
 * when present, else ComfyUI's `prompt`, else its `workflow`. Returns: (transfer full), NULL
 * with @error when neither is there or readable. */
SfInfotext *sf_infotext_from_png_text (GHashTable *text_chunks, GError **error);

/* A number as A1111 prints it from Python: integers without a decimal
 * point ("7"), others in the shortest form that reads back ("7.5").
 * Returns: (transfer full). */
char *sf_infotext_format_number (double value);

G_END_DECLS
