/* Generation on the canvas: jobs and the window (this file), what the
 * panels and actions ask for (generation-actions.c) and the staging
 * strip (generation-staging.c). See generation.h. */
#include "generation-private.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>

#include "prompt.h"
#include "sdxl.h"
#include "watermark.h"

G_DEFINE_FINAL_TYPE (SfGeneration, sf_generation, G_TYPE_OBJECT)

enum { SIGNAL_PROGRESS, SIGNAL_FINISHED, N_SIGNALS };
static guint signals[N_SIGNALS];

/* ---- jobs ------------------------------------------------------------- */

/* One submitted request. The engine and the history call back with it
 * as their data; it is freed when the engine's done and every history
 * write it asked for have come back. */
typedef struct SfGenerationJob {
  SfGeneration *self;          /* NULL once the window is gone */
  SfEngineRequest *request;
  SfFramePlan *plan;
  SfPanelOptions options;
  GCancellable *cancellable;
  guint document_serial;       /* the document it was planned on */
  gint64 created_us;
  gint64 parent_id;
  char *document_id;
  char *document_path;
  char *model_name, *model_hash, *device_name;
  guint pending_writes;
  gboolean engine_done;
  SfGenerationStatus status;
  char *message;
  gint64 last_id;
  guint images;
} Job;

static void
job_free (Job *job)
{
  sf_engine_request_free (job->request);
  sf_frame_plan_free (job->plan);
  g_clear_object (&job->cancellable);
  g_free (job->document_id);
  g_free (job->document_path);
  g_free (job->model_name);
  g_free (job->model_hash);
  g_free (job->device_name);
  g_free (job->message);
  g_free (job);
}

static char *
weights_json (const char *prompt)
{
  g_autoptr (GArray) runs = sf_prompt_parse (prompt ? prompt : "");
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  json_builder_begin_array (builder);
  for (guint i = 0; i < runs->len; i++)
    {
      const SfPromptRun *run = &g_array_index (runs, SfPromptRun, i);
      json_builder_begin_array (builder);
      json_builder_add_string_value (builder, run->text);
      json_builder_add_double_value (builder, run->weight);
      json_builder_end_array (builder);
    }
  json_builder_end_array (builder);
  g_autoptr (JsonNode) root = json_builder_get_root (builder);
  return json_to_string (root, FALSE);
}

static SfGenerationMode
record_mode (SfFrameMode mode)
{
  switch (mode)
    {
    case SF_FRAME_IMG2IMG:
      return SF_GENERATION_IMG2IMG;
    case SF_FRAME_INPAINT:
      return SF_GENERATION_INPAINT;
    case SF_FRAME_OUTPAINT:
      return SF_GENERATION_OUTPAINT;
    case SF_FRAME_TXT2IMG:
    default:
      return SF_GENERATION_TXT2IMG;
    }
}

/* Everything the history keeps about @job's image (@image NULL: the
 * job ended without one). */
static SfGenerationRecord *
job_record (Job *job, const SfEngineImage *image, SfGenerationStatus status, const char *message)
{
  const SfEngineRequest *r = job->request;
  SfGenerationRecord *record = sf_generation_record_new ();
  record->created_us = image ? g_get_real_time () : job->created_us;
  record->mode = record_mode (job->plan->mode);
  g_free (record->prompt);
  record->prompt = g_strdup (r->prompt ? r->prompt : "");
  g_free (record->negative_prompt);
  record->negative_prompt = g_strdup (r->negative ? r->negative : "");
  record->prompt_weights = weights_json (r->prompt);
  record->negative_weights = weights_json (r->negative);
  record->seed = image ? image->seed : r->seed + job->images;
  g_free (record->sampler);
  record->sampler = g_strdup (r->sampler);
  g_free (record->scheduler);
  record->scheduler = g_strdup (r->scheduler);
  record->steps = r->steps;
  record->cfg_scale = r->cfg;
  record->strength = job->plan->init_rgba ? r->strength : 1.0;
  record->width_px = r->width;
  record->height_px = r->height;
  record->frame_x = job->plan->source.x;
  record->frame_y = job->plan->source.y;
  if (image)
    {
      record->model_name = g_strdup (image->model_name);
      record->model_hash = g_strdup (image->model_hash);
      record->device = g_strdup (image->device_name);
      record->duration_us = (gint64) (image->seconds * G_USEC_PER_SEC);
    }
  else
    {
      if (job->model_name)
        record->model_name = g_strdup (job->model_name);
      else if (r->model_path)
        record->model_name = sf_sdxl_name_for_path (r->model_path);
      record->model_hash = g_strdup (job->model_hash);
      record->device = g_strdup (job->device_name);
      record->duration_us = g_get_real_time () - job->created_us;
    }
  if (r->refiner_path)
    {
      record->refiner_name = image && image->refiner_name ? g_strdup (image->refiner_name)
                                                         : sf_sdxl_name_for_path (r->refiner_path);
      record->refiner_hash = image ? g_strdup (image->refiner_hash) : NULL;
      record->refiner_switch = r->refiner_start;
    }
  else
    record->refiner_switch = -1;
  record->precision = g_strdup (r->precision == SF_ENGINE_FP32 ? "fp32" : "fp16");
  record->status = status;
  record->status_message = g_strdup (message);
  record->parent_id = job->parent_id;
  record->document_id = g_strdup (job->document_id);
  record->document_path = g_strdup (job->document_path);
  return record;
}

static void job_maybe_finish (Job *job);

/* The engine's images are straight RGBA; the mask goes to the store as
 * grey RGBA. */
static guint8 *
mask_to_rgba (GBytes *mask, int width, int height)
{
  const guint8 *m = g_bytes_get_data (mask, NULL);
  gsize pixels = (gsize) width * height;
  guint8 *rgba = g_malloc (pixels * 4);
  for (gsize i = 0; i < pixels; i++)
    {
      rgba[4 * i] = rgba[4 * i + 1] = rgba[4 * i + 2] = m[i];
      rgba[4 * i + 3] = 255;
    }
  return rgba;
}

typedef struct {
  Job *job;
  GBytes *layer_rgba;          /* source-size, ready to become a layer */
  guint64 seed;
} ImageWrite;

static void
stage_written (Job *job, GBytes *layer_rgba, guint64 seed, gint64 id)
{
  SfGeneration *self = job->self;
  if (!self || job->document_serial != self->document_serial || !self->document)
    return;
  g_autofree char *generation_id = id > 0 ? g_strdup_printf ("%" G_GINT64_FORMAT, id) : NULL;
  sf_generation_stage_add (self, layer_rgba, &job->plan->source,
                           job->plan->mode == SF_FRAME_OUTPAINT, seed, generation_id);
}

static void
on_image_written (gint64 id, const GError *error, gpointer user_data)
{
  ImageWrite *write = user_data;
  Job *job = write->job;
  if (error && job->self)
    {
      g_autofree char *message = g_strdup_printf (_("The generation was not saved in the history: %s"),
                                                  error->message);
      sf_window_show_message (job->self->window, message);
    }
  if (id > 0)
    job->last_id = id;
  stage_written (job, write->layer_rgba, write->seed, id);
  g_bytes_unref (write->layer_rgba);
  g_free (write);
  job->pending_writes--;
  job_maybe_finish (job);
}

static void
on_engine_image (const SfEngineImage *image, gpointer data)
{
  Job *job = data;
  job->images++;
  g_free (job->model_name);
  job->model_name = g_strdup (image->model_name);
  g_free (job->model_hash);
  job->model_hash = g_strdup (image->model_hash);
  g_free (job->device_name);
  job->device_name = g_strdup (image->device_name);

  /* The watermark goes into the pixels before anything keeps them. */
  g_autoptr (GBytes) result = NULL;
  if (job->options.watermark)
    {
      gsize size;
      guint8 *pixels = g_memdup2 (g_bytes_get_data (image->rgba, &size), g_bytes_get_size (image->rgba));
      g_autoptr (GError) error = NULL;
      /* A picture too small to hold the tag stays unmarked. */
      if (!sf_watermark_embed (pixels, image->width, image->height, image->width * 4,
                               (const guint8 *) SF_WATERMARK_TAG, SF_WATERMARK_TAG_BITS, &error))
        g_debug ("No watermark: %s", error->message);
      result = g_bytes_new_take (pixels, size);
    }
  else
    result = g_bytes_ref (image->rgba);
  GBytes *layer_rgba = sf_frame_plan_composite (job->plan, result);
  g_return_if_fail (layer_rgba != NULL);

  SfHistory *history = job->self ? job->self->history : NULL;
  if (!history)
    {
      stage_written (job, layer_rgba, image->seed, 0);
      g_bytes_unref (layer_rgba);
      return;
    }
  g_autoptr (SfGenerationRecord) record = job_record (job, image, SF_GENERATION_DONE, NULL);
  SfHistoryImage out = { .pixels = g_bytes_get_data (result, NULL), .width_px = image->width,
                         .height_px = image->height, .stride = (gsize) image->width * 4 };
  g_autofree guint8 *mask_rgba = NULL;
  SfHistoryImage mask = { 0 }, init = { 0 };
  int width = job->request->width, height = job->request->height;
  if (job->plan->mask)
    {
      mask_rgba = mask_to_rgba (job->plan->mask, width, height);
      mask = (SfHistoryImage) { .pixels = mask_rgba, .width_px = width, .height_px = height,
                                .stride = (gsize) width * 4 };
    }
  if (job->plan->init_rgba)
    init = (SfHistoryImage) { .pixels = g_bytes_get_data (job->plan->init_rgba, NULL),
                              .width_px = width, .height_px = height, .stride = (gsize) width * 4 };
  ImageWrite *write = g_new0 (ImageWrite, 1);
  write->job = job;
  write->layer_rgba = layer_rgba;
  write->seed = image->seed;
  job->pending_writes++;
  sf_history_insert_async (history, record, &out, job->plan->mask ? &mask : NULL,
                           job->plan->init_rgba ? &init : NULL, on_image_written, write);
}

static void
on_engine_progress (const SfEngineProgress *progress, gpointer data)
{
  Job *job = data;
  SfGeneration *self = job->self;
  if (!self || self->job != job)
    return;
  sf_generation_panel_set_progress (self->panel, progress);
  if (progress->preview_rgb && progress->preview_width > 0 && progress->preview_height > 0)
    {
      gsize stride = (gsize) progress->preview_width * 3;
      g_autoptr (GBytes) bytes = g_bytes_new (progress->preview_rgb,
                                              stride * progress->preview_height);
      g_autoptr (GdkTexture) texture = gdk_memory_texture_new (
          progress->preview_width, progress->preview_height, GDK_MEMORY_R8G8B8, bytes, stride);
      if (job->document_serial == self->document_serial)
        sf_canvas_view_set_preview (sf_window_get_canvas_view (self->window), texture,
                                    &job->plan->source);
    }
  if (progress->total > 0)
    g_signal_emit (self, signals[SIGNAL_PROGRESS], 0, progress->step, progress->total);
}

static void
on_status_written (gint64 id, const GError *error, gpointer user_data)
{
  Job *job = user_data;
  if (id > 0)
    job->last_id = id;
  job->pending_writes--;
  job_maybe_finish (job);
}

static void
on_engine_done (const GError *error, gpointer data)
{
  Job *job = data;
  job->engine_done = TRUE;
  if (error)
    {
      job->status = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
                        ? SF_GENERATION_CANCELLED
                        : SF_GENERATION_FAILED;
      job->message = g_strdup (error->message);
      if (job->status == SF_GENERATION_FAILED && job->self)
        sf_window_show_message (job->self->window, error->message);
      SfHistory *history = job->self ? job->self->history : NULL;
      if (history)
        {
          g_autoptr (SfGenerationRecord) record = job_record (job, NULL, job->status, job->message);
          job->pending_writes++;
          sf_history_insert_async (history, record, NULL, NULL, NULL, on_status_written, job);
        }
    }
  job_maybe_finish (job);
}

static void
job_maybe_finish (Job *job)
{
  if (!job->engine_done || job->pending_writes > 0)
    return;
  SfGeneration *self = job->self;
  if (self)
    {
      g_object_ref (self);
      if (self->job == job)
        {
          self->job = NULL;
          sf_generation_panel_set_busy (self->panel, FALSE);
          sf_generation_panel_set_progress (self->panel, NULL);
          sf_canvas_view_set_preview (sf_window_get_canvas_view (self->window), NULL, NULL);
          sf_generation_update_actions (self);
        }
      g_signal_emit (self, signals[SIGNAL_FINISHED], 0, (int) job->status, job->last_id,
                     job->message);
      if (!self->job && self->restart && !self->disposed)
        {
          self->restart = FALSE;
          sf_generation_start (self);
        }
      g_object_unref (self);
    }
  job_free (job);
}

/* ---- starting --------------------------------------------------------- */

static SfFrameMaskedContent
frame_masked_content (SfPanelMaskedContent content)
{
  switch (content)
    {
    case SF_PANEL_MASKED_FILL:
      return SF_FRAME_MASKED_FILL;
    case SF_PANEL_MASKED_LATENT_NOISE:
      return SF_FRAME_MASKED_LATENT_NOISE;
    case SF_PANEL_MASKED_ORIGINAL:
    default:
      return SF_FRAME_MASKED_ORIGINAL;
    }
}

gboolean
sf_generation_start (SfGeneration *self)
{
  g_return_val_if_fail (SF_IS_GENERATION (self), FALSE);
  if (self->disposed || !self->document)
    return FALSE;
  if (self->job)
    {
      /* Auto-regenerate and impatient clicks: the running job stops
       * within a step and this one starts when it has. */
      self->restart = TRUE;
      g_cancellable_cancel (self->job->cancellable);
      return TRUE;
    }
  g_autoptr (SfEngineRequest) request = sf_generation_panel_build_request (self->panel);
  if (!request)
    {
      sf_window_show_message (self->window, _("Choose a model first: no SDXL checkpoint was found"));
      return FALSE;
    }
  SfPanelOptions options;
  sf_generation_panel_get_options (self->panel, &options);
  request->seed = sf_generation_panel_resolve_seed (self->panel);

  SfFrameOptions frame_options;
  sf_frame_options_init (&frame_options);
  frame_options.mask_blur_px = options.mask_blur_px;
  frame_options.only_masked = options.only_masked;
  frame_options.only_masked_padding_px = options.only_masked_padding_px;
  if (options.frame_width > 0 && options.frame_height > 0)
    {
      frame_options.model_width = options.frame_width;
      frame_options.model_height = options.frame_height;
    }
  frame_options.masked_content = frame_masked_content (options.masked_content);
  frame_options.noise_seed = request->seed;

  /* The plan reads the picture without the staged results. */
  g_autoptr (SfDocument) view = sf_generation_stage_snapshot (self);
  SfRect frame = sf_document_get_frame (self->document);
  g_autoptr (GError) error = NULL;
  g_autoptr (SfFramePlan) plan = sf_frame_plan_new (view, &frame, &frame_options, &error);
  if (!plan)
    {
      sf_window_show_message (self->window, error->message);
      return FALSE;
    }
  request->width = plan->width;
  request->height = plan->height;
  g_clear_pointer (&request->init_rgba, g_bytes_unref);
  g_clear_pointer (&request->mask, g_bytes_unref);
  request->init_rgba = plan->init_rgba ? g_bytes_ref (plan->init_rgba) : NULL;
  request->mask = plan->mask ? g_bytes_ref (plan->mask) : NULL;
  request->masked_content = plan->latent_noise ? SF_ENGINE_MASKED_LATENT_NOISE
                                               : SF_ENGINE_MASKED_ORIGINAL;

  Job *job = g_new0 (Job, 1);
  job->self = self;
  job->request = g_steal_pointer (&request);
  job->plan = g_steal_pointer (&plan);
  job->options = options;
  job->cancellable = g_cancellable_new ();
  job->document_serial = self->document_serial;
  job->created_us = g_get_real_time ();
  job->parent_id = self->parent_id;
  job->document_id = g_strdup (self->document_id);
  job->document_path = g_strdup (sf_window_get_path (self->window));
  job->status = SF_GENERATION_DONE;
  self->job = job;
  sf_generation_panel_set_busy (self->panel, TRUE);
  sf_generation_update_actions (self);
  sf_engine_submit (self->engine, job->request, job->cancellable, on_engine_progress,
                    on_engine_image, on_engine_done, job);
  return TRUE;
}

void
sf_generation_cancel (SfGeneration *self)
{
  g_return_if_fail (SF_IS_GENERATION (self));
  self->restart = FALSE;
  if (self->job)
    g_cancellable_cancel (self->job->cancellable);
}

gboolean
sf_generation_is_busy (SfGeneration *self)
{
  return self->job != NULL;
}

/* ---- the window -------------------------------------------------------- */

/* @document_alive: whether the previous document still exists (the
 * window frees it before it says "document-changed"). */
static void
set_document (SfGeneration *self, SfDocument *document, gboolean document_alive)
{
  if (self->document == document)
    return;
  /* Results of a job on the previous document are kept in the history
   * but not staged on another picture. */
  sf_generation_stage_forget (self);
  if (self->job)
    {
      self->restart = FALSE;
      g_cancellable_cancel (self->job->cancellable);
    }
  if (self->document && self->observer && document_alive)
    sf_document_remove_observer (self->document, self->observer);
  self->observer = 0;
  self->document = document;
  self->document_serial++;
  self->parent_id = 0;
  g_free (self->document_id);
  self->document_id = g_uuid_string_random ();
  if (document)
    self->observer = sf_document_add_observer (document, sf_generation_stage_observe, self);
  sf_generation_update_actions (self);
}

static void
on_document_changed (SfWindow *window, SfGeneration *self)
{
  set_document (self, sf_window_get_document (window), FALSE);
}

static void
on_window_destroy (SfWindow *window, SfGeneration *self)
{
  /* The window may have freed its document already (it does in dispose). */
  set_document (self, NULL, sf_window_get_document (window) == self->document);
  if (self->job)
    {
      /* The job frees itself when the engine and the history are done;
       * it no longer reaches this object. */
      self->job->self = NULL;
      g_cancellable_cancel (self->job->cancellable);
      self->job = NULL;
    }
  self->disposed = TRUE;
  g_signal_handlers_disconnect_by_data (window, self);
  if (self->history_panel)
    g_signal_handlers_disconnect_by_data (self->history_panel, self);
  g_signal_handlers_disconnect_by_data (self->panel, self);
}

/* ---- the object ------------------------------------------------------- */

static void
sf_generation_finalize (GObject *object)
{
  SfGeneration *self = SF_GENERATION (object);
  if (self->job)
    {
      self->job->self = NULL;
      g_cancellable_cancel (self->job->cancellable);
    }
  g_clear_handle_id (&self->apply_timer, g_source_remove);
  g_clear_pointer (&self->variants, g_ptr_array_unref);
  g_clear_pointer (&self->base_active, sf_layer_unref);
  g_clear_object (&self->panel);
  g_clear_object (&self->history_panel);
  g_clear_pointer (&self->history, sf_history_unref);
  g_free (self->document_id);
  G_OBJECT_CLASS (sf_generation_parent_class)->finalize (object);
}

static void
sf_generation_class_init (SfGenerationClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = sf_generation_finalize;
  signals[SIGNAL_PROGRESS] = g_signal_new ("progress", G_TYPE_FROM_CLASS (klass),
                                           G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE,
                                           2, G_TYPE_INT, G_TYPE_INT);
  signals[SIGNAL_FINISHED] = g_signal_new ("finished", G_TYPE_FROM_CLASS (klass),
                                           G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE,
                                           3, G_TYPE_INT, G_TYPE_INT64, G_TYPE_STRING);
}

static void
sf_generation_init (SfGeneration *self)
{
  self->variants = g_ptr_array_new_with_free_func (sf_generation_variant_free);
}

SfGeneration *
sf_generation_attach (SfWindow *window, SfEngine *engine, SfHistory *history)
{
  SfGeneration *self = g_object_new (SF_TYPE_GENERATION, NULL);
  self->window = window;
  self->engine = engine;
  self->history = history ? sf_history_ref (history) : NULL;
  g_object_set_data_full (G_OBJECT (window), "sf-generation", self, g_object_unref);

  self->panel = SF_GENERATION_PANEL (sf_generation_panel_new (sf_window_get_settings (window)));
  g_object_ref_sink (self->panel);
  sf_window_add_sidebar_page (window, GTK_WIDGET (self->panel), "generate", _("Generate"));
  if (history)
    {
      self->history_panel = SF_HISTORY_PANEL (sf_history_panel_new (history));
      g_object_ref_sink (self->history_panel);
      sf_history_panel_set_compact (self->history_panel, TRUE);
      sf_window_add_sidebar_page (window, GTK_WIDGET (self->history_panel), "history",
                                  _("History"));
    }
  sf_generation_connect (self);

  g_signal_connect (window, "document-changed", G_CALLBACK (on_document_changed), self);
  g_signal_connect (window, "destroy", G_CALLBACK (on_window_destroy), self);
  set_document (self, sf_window_get_document (window), TRUE);
  return self;
}

SfGeneration *
sf_generation_get_for_window (SfWindow *window)
{
  return g_object_get_data (G_OBJECT (window), "sf-generation");
}

SfGenerationPanel *
sf_generation_get_panel (SfGeneration *self)
{
  return self->panel;
}

SfHistoryPanel *
sf_generation_get_history_panel (SfGeneration *self)
{
  return self->history_panel;
}
