#include "history-record.h"

#include <string.h>

G_DEFINE_BOXED_TYPE (SfGenerationRecord, sf_generation_record, sf_generation_record_copy,
                     sf_generation_record_free)

SfGenerationRecord *
sf_generation_record_new (void)
{
  SfGenerationRecord *record = g_new0 (SfGenerationRecord, 1);
  record->created_us = g_get_real_time ();
  record->prompt = g_strdup ("");
  record->negative_prompt = g_strdup ("");
  record->sampler = g_strdup ("euler");
  record->scheduler = g_strdup ("normal");
  record->strength = 1.0;
  record->refiner_switch = -1;
  record->status = SF_GENERATION_DONE;
  return record;
}

#define STRING_FIELDS(X)                                                                      \
  X (prompt) X (negative_prompt) X (prompt_weights) X (negative_weights) X (sampler)          \
  X (scheduler) X (model_name) X (model_hash) X (refiner_name) X (refiner_hash) X (precision) \
  X (device) X (status_message) X (document_id) X (document_path) X (image_path)              \
  X (mask_path) X (init_path)

SfGenerationRecord *
sf_generation_record_copy (const SfGenerationRecord *record)
{
  SfGenerationRecord *copy = g_memdup2 (record, sizeof *record);
#define COPY(field) copy->field = g_strdup (record->field);
  STRING_FIELDS (COPY)
#undef COPY
  return copy;
}

void
sf_generation_record_free (SfGenerationRecord *record)
{
  if (!record)
    return;
#define FREE(field) g_free (record->field);
  STRING_FIELDS (FREE)
#undef FREE
  g_free (record);
}

static const char *const MODE_NAMES[] = { "txt2img", "img2img", "inpaint", "outpaint" };
static const char *const STATUS_NAMES[] = { "running", "done", "cancelled", "failed" };

const char *
sf_generation_mode_to_string (SfGenerationMode mode)
{
  return (guint) mode < G_N_ELEMENTS (MODE_NAMES) ? MODE_NAMES[mode] : "txt2img";
}

gboolean
sf_generation_mode_from_string (const char *text, SfGenerationMode *mode)
{
  for (guint i = 0; text && i < G_N_ELEMENTS (MODE_NAMES); i++)
    if (strcmp (text, MODE_NAMES[i]) == 0)
      {
        *mode = (SfGenerationMode) i;
        return TRUE;
      }
  return FALSE;
}

const char *
sf_generation_status_to_string (SfGenerationStatus status)
{
  return (guint) status < G_N_ELEMENTS (STATUS_NAMES) ? STATUS_NAMES[status] : "failed";
}

gboolean
sf_generation_status_from_string (const char *text, SfGenerationStatus *status)
{
  for (guint i = 0; text && i < G_N_ELEMENTS (STATUS_NAMES); i++)
    if (strcmp (text, STATUS_NAMES[i]) == 0)
      {
        *status = (SfGenerationStatus) i;
        return TRUE;
      }
  return FALSE;
}

char *
sf_generation_format_time (gint64 unix_us)
{
  g_autoptr (GDateTime) time = g_date_time_new_from_unix_utc (unix_us / G_USEC_PER_SEC);
  if (!time)
    return g_strdup ("");
  g_autofree char *seconds = g_date_time_format (time, "%Y-%m-%dT%H:%M:%S");
  gint64 fraction = unix_us % G_USEC_PER_SEC;
  if (fraction < 0)
    fraction += G_USEC_PER_SEC;
  return g_strdup_printf ("%s.%06" G_GINT64_FORMAT "Z", seconds, fraction);
}

/* ---- names other tools use --------------------------------------------- */

static const char *const SAMPLERS[][2] = {
  { "euler", "Euler" },           { "euler_a", "Euler a" },
  { "heun", "Heun" },             { "lms", "LMS" },
  { "dpm_2", "DPM2" },            { "dpm_2_a", "DPM2 a" },
  { "dpmpp_2s_a", "DPM++ 2S a" }, { "dpmpp_2m", "DPM++ 2M" },
  { "dpmpp_sde", "DPM++ SDE" },   { "dpmpp_2m_sde", "DPM++ 2M SDE" },
  { "dpmpp_3m_sde", "DPM++ 3M SDE" }, { "dpm_fast", "DPM fast" },
  { "dpm_adaptive", "DPM adaptive" }, { "ddim", "DDIM" },
  { "plms", "PLMS" },             { "uni_pc", "UniPC" },
  { "lcm", "LCM" },               { "euler_ancestral", "Euler a" }, /* ComfyUI's id */
  { "dpm_2_ancestral", "DPM2 a" }, { "dpmpp_2s_ancestral", "DPM++ 2S a" },
};

static const char *const SCHEDULERS[][2] = {
  { "normal", "Normal" },           { "karras", "Karras" },
  { "exponential", "Exponential" }, { "polyexponential", "Polyexponential" },
  { "sgm_uniform", "SGM Uniform" }, { "simple", "Simple" },
  { "ddim_uniform", "DDIM" },       { "beta", "Beta" },
  { "kl_optimal", "KL Optimal" },   { "uniform", "Uniform" },
  { "align_your_steps", "Align Your Steps" },
};

static const char *
map_name (const char *const (*table)[2], gsize count, int from, const char *name)
{
  for (gsize i = 0; name && i < count; i++)
    if (strcmp (table[i][from], name) == 0)
      return table[i][1 - from];
  return name;
}

const char *
sf_sampler_to_a1111 (const char *sampler)
{
  return map_name (SAMPLERS, G_N_ELEMENTS (SAMPLERS), 0, sampler);
}

const char *
sf_sampler_from_a1111 (const char *name)
{
  return map_name (SAMPLERS, G_N_ELEMENTS (SAMPLERS), 1, name);
}

const char *
sf_scheduler_to_a1111 (const char *scheduler)
{
  return map_name (SCHEDULERS, G_N_ELEMENTS (SCHEDULERS), 0, scheduler);
}

const char *
sf_scheduler_from_a1111 (const char *name)
{
  return map_name (SCHEDULERS, G_N_ELEMENTS (SCHEDULERS), 1, name);
}

/* ---- JSON ---------------------------------------------------------------- */

static void
add_string (JsonBuilder *builder, const char *name, const char *value)
{
  json_builder_set_member_name (builder, name);
  if (value)
    json_builder_add_string_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

static void
add_int (JsonBuilder *builder, const char *name, gint64 value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_int_value (builder, value);
}

static void
add_double (JsonBuilder *builder, const char *name, double value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_double_value (builder, value);
}

/* Weights are stored as JSON text; they go out as JSON, not as a string. */
static void
add_json (JsonBuilder *builder, const char *name, const char *json)
{
  json_builder_set_member_name (builder, name);
  g_autoptr (JsonParser) parser = json_parser_new ();
  if (json && json_parser_load_from_data (parser, json, -1, NULL) && json_parser_get_root (parser))
    json_builder_add_value (builder, json_node_copy (json_parser_get_root (parser)));
  else
    json_builder_add_null_value (builder);
}

JsonNode *
sf_generation_record_to_json (const SfGenerationRecord *record)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  json_builder_begin_object (builder);
  add_int (builder, "id", record->id);
  g_autofree char *time = sf_generation_format_time (record->created_us);
  add_string (builder, "created", time);
  add_int (builder, "created_us", record->created_us);
  add_string (builder, "mode", sf_generation_mode_to_string (record->mode));
  add_string (builder, "prompt", record->prompt);
  add_string (builder, "negative_prompt", record->negative_prompt);
  add_json (builder, "prompt_weights", record->prompt_weights);
  add_json (builder, "negative_weights", record->negative_weights);
  g_autofree char *seed = g_strdup_printf ("%" G_GUINT64_FORMAT, record->seed);
  add_string (builder, "seed", seed);
  add_string (builder, "sampler", record->sampler);
  add_string (builder, "scheduler", record->scheduler);
  add_int (builder, "steps", record->steps);
  add_double (builder, "cfg_scale", record->cfg_scale);
  add_double (builder, "strength", record->strength);
  add_int (builder, "width", record->width_px);
  add_int (builder, "height", record->height_px);
  add_int (builder, "frame_x", record->frame_x);
  add_int (builder, "frame_y", record->frame_y);
  add_string (builder, "model_name", record->model_name);
  add_string (builder, "model_hash", record->model_hash);
  add_string (builder, "refiner_name", record->refiner_name);
  add_string (builder, "refiner_hash", record->refiner_hash);
  json_builder_set_member_name (builder, "refiner_switch");
  if (record->refiner_name && record->refiner_switch >= 0)
    json_builder_add_double_value (builder, record->refiner_switch);
  else
    json_builder_add_null_value (builder);
  add_string (builder, "precision", record->precision);
  add_int (builder, "duration_us", record->duration_us);
  add_string (builder, "device", record->device);
  add_string (builder, "status", sf_generation_status_to_string (record->status));
  add_string (builder, "status_message", record->status_message);
  json_builder_set_member_name (builder, "parent_id");
  if (record->parent_id)
    json_builder_add_int_value (builder, record->parent_id);
  else
    json_builder_add_null_value (builder);
  add_string (builder, "document_id", record->document_id);
  add_string (builder, "document_path", record->document_path);
  json_builder_set_member_name (builder, "favourite");
  json_builder_add_boolean_value (builder, record->favourite);
  add_string (builder, "image_path", record->image_path);
  add_string (builder, "mask_path", record->mask_path);
  add_string (builder, "init_path", record->init_path);
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

/* ---- A1111 parameters ---------------------------------------------------- */

char *
sf_generation_record_format_parameters (const SfGenerationRecord *record)
{
  g_autoptr (SfInfotext) info = sf_infotext_new ();
  info->prompt = g_strdup (record->prompt);
  info->negative_prompt = g_strdup (record->negative_prompt);
  info->steps = record->steps;
  info->sampler = g_strdup (sf_sampler_to_a1111 (record->sampler));
  info->scheduler = g_strdup (sf_scheduler_to_a1111 (record->scheduler));
  info->cfg_scale = record->cfg_scale;
  info->has_seed = TRUE;
  info->seed = record->seed;
  info->width_px = record->width_px;
  info->height_px = record->height_px;
  info->model_hash = g_strdup (record->model_hash);
  info->model = g_strdup (record->model_name);
  if (record->mode != SF_GENERATION_TXT2IMG)
    info->denoising_strength = record->strength;
  if (record->refiner_name)
    {
      info->refiner = record->refiner_hash
                        ? g_strdup_printf ("%s [%s]", record->refiner_name, record->refiner_hash)
                        : g_strdup (record->refiner_name);
      info->refiner_switch_at = record->refiner_switch;
    }
  return sf_infotext_format_a1111 (info, NULL, NULL);
}

/* "name [hash]" as A1111 writes the refiner. */
static void
split_name_and_hash (const char *text, char **name, char **hash)
{
  const char *open = strrchr (text, '[');
  gsize length = strlen (text);
  if (open && open > text && length > 0 && text[length - 1] == ']')
    {
      *name = g_strstrip (g_strndup (text, open - text));
      *hash = g_strndup (open + 1, text + length - 1 - (open + 1));
    }
  else
    {
      *name = g_strdup (text);
      *hash = NULL;
    }
}

SfGenerationRecord *
sf_generation_record_from_infotext (const SfInfotext *info)
{
  SfGenerationRecord *record = sf_generation_record_new ();
  g_free (record->prompt);
  record->prompt = g_strdup (info->prompt ? info->prompt : "");
  g_free (record->negative_prompt);
  record->negative_prompt = g_strdup (info->negative_prompt ? info->negative_prompt : "");
  record->steps = info->steps;
  record->cfg_scale = info->cfg_scale;
  record->seed = info->seed;
  record->width_px = info->width_px;
  record->height_px = info->height_px;

  /* Before A1111 1.9 the schedule was part of the sampler's name. */
  g_autofree char *sampler = g_strdup (info->sampler ? info->sampler : "");
  g_autofree char *scheduler = g_strdup (info->scheduler);
  static const char *const suffixes[] = { " Karras", " Exponential" };
  for (gsize i = 0; !scheduler && i < G_N_ELEMENTS (suffixes); i++)
    if (g_str_has_suffix (sampler, suffixes[i]))
      {
        scheduler = g_strdup (suffixes[i] + 1);
        sampler[strlen (sampler) - strlen (suffixes[i])] = '\0';
      }
  g_free (record->sampler);
  record->sampler = g_strdup (sf_sampler_from_a1111 (sampler));
  g_free (record->scheduler);
  record->scheduler = g_strdup (scheduler ? sf_scheduler_from_a1111 (scheduler) : "normal");

  record->model_name = g_strdup (info->model);
  record->model_hash = g_strdup (info->model_hash);
  if (info->refiner)
    {
      split_name_and_hash (info->refiner, &record->refiner_name, &record->refiner_hash);
      record->refiner_switch = info->refiner_switch_at;
    }
  if (info->denoising_strength >= 0 && info->denoising_strength < 1)
    {
      record->mode = SF_GENERATION_IMG2IMG;
      record->strength = info->denoising_strength;
    }
  return record;
}
