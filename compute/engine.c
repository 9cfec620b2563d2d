#include "engine.h"

#include <string.h>

#include "generate.h"
#include "tokenizer.h"
#include "vk_error.h"

struct SfEngine {
  GThread *worker;
  GAsyncQueue *jobs;          /* Job*, or the engine itself to stop */
  GMutex lock;                /* guards the models below against unload */
  SfDevice *device;
  char *device_selector;
  SfSdxl *model, *refiner;
  char *model_key, *refiner_key;
  GCancellable *stopping;
};

typedef struct {
  SfEngine *engine;
  SfEngineRequest *request;
  GCancellable *cancellable;
  GMainContext *context;
  SfEngineProgressFunc progress;
  SfEngineImageFunc image;
  SfEngineDoneFunc done;
  gpointer data;
  gint64 started_us;
  int image_index;
  gint64 image_started_us;
  double seconds_per_step;     /* running estimate for the ETA */
} Job;

/* ---- requests ---------------------------------------------------------- */

SfEngineRequest *
sf_engine_request_new (void)
{
  SfEngineRequest *r = g_new0 (SfEngineRequest, 1);
  r->width = 1024;
  r->height = 1024;
  r->steps = 30;
  r->cfg = 5.0;
  r->sampler = g_strdup ("euler");
  r->scheduler = g_strdup ("normal");
  r->batch_count = 1;
  r->strength = 0.75;
  r->refiner_start = 0.8;
  r->precision = SF_ENGINE_FP16;
  return r;
}

SfEngineRequest *
sf_engine_request_copy (const SfEngineRequest *request)
{
  SfEngineRequest *r = g_memdup2 (request, sizeof *request);
  r->model_path = g_strdup (request->model_path);
  r->vae_path = g_strdup (request->vae_path);
  r->refiner_path = g_strdup (request->refiner_path);
  r->prompt = g_strdup (request->prompt);
  r->negative = g_strdup (request->negative);
  r->sampler = g_strdup (request->sampler);
  r->scheduler = g_strdup (request->scheduler);
  r->device = g_strdup (request->device);
  r->init_rgba = request->init_rgba ? g_bytes_ref (request->init_rgba) : NULL;
  r->mask = request->mask ? g_bytes_ref (request->mask) : NULL;
  return r;
}

void
sf_engine_request_free (SfEngineRequest *request)
{
  if (!request)
    return;
  g_free (request->model_path);
  g_free (request->vae_path);
  g_free (request->refiner_path);
  g_free (request->prompt);
  g_free (request->negative);
  g_free (request->sampler);
  g_free (request->scheduler);
  g_free (request->device);
  g_clear_pointer (&request->init_rgba, g_bytes_unref);
  g_clear_pointer (&request->mask, g_bytes_unref);
  g_free (request);
}

/* ---- delivering to the submitter's main context ------------------------- */

typedef struct {
  Job *job;
  SfEngineProgress progress;
  guint8 *preview;
  SfEngineImage image;
  GError *error;
  int kind;                   /* 0 progress, 1 image, 2 done */
} Delivery;

static void
job_free (Job *job)
{
  sf_engine_request_free (job->request);
  g_clear_object (&job->cancellable);
  g_main_context_unref (job->context);
  g_free (job);
}

static gboolean
deliver_on_main (gpointer data)
{
  Delivery *d = data;
  Job *job = d->job;
  if (d->kind == 0 && job->progress)
    {
      d->progress.preview_rgb = d->preview;
      job->progress (&d->progress, job->data);
    }
  else if (d->kind == 1 && job->image)
    job->image (&d->image, job->data);
  else if (d->kind == 2)
    {
      if (job->done)
        job->done (d->error, job->data);
      job_free (job);
    }
  g_free (d->preview);
  g_clear_pointer (&d->image.rgba, g_bytes_unref);
  g_free (d->image.model_name);
  g_free (d->image.model_hash);
  g_free (d->image.refiner_name);
  g_free (d->image.refiner_hash);
  g_free (d->image.device_name);
  g_clear_error (&d->error);
  g_free (d);
  return G_SOURCE_REMOVE;
}

/* An idle source, never g_main_context_invoke: that may run the callback
 * right here on the worker when the context happens to be free. */
static void
deliver (Job *job, Delivery *d)
{
  d->job = job;
  GSource *source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, deliver_on_main, d, NULL);
  g_source_attach (source, job->context);
  g_source_unref (source);
}

static void
report_stage (Job *job, const char *stage)
{
  Delivery *d = g_new0 (Delivery, 1);
  d->progress.image = job->image_index;
  d->progress.images = job->request->batch_count;
  d->progress.elapsed_s = (g_get_monotonic_time () - job->started_us) * 1e-6;
  d->progress.stage = stage;
  deliver (job, d);
}

static void
on_progress (const SfGenerateProgress *p, gpointer data)
{
  Job *job = data;
  gint64 now = g_get_monotonic_time ();
  double image_elapsed = (now - job->image_started_us) * 1e-6;
  job->seconds_per_step = image_elapsed / MAX (p->step, 1);
  int remaining_images = job->request->batch_count - job->image_index - 1;
  Delivery *d = g_new0 (Delivery, 1);
  d->progress.image = job->image_index;
  d->progress.images = job->request->batch_count;
  d->progress.step = p->step;
  d->progress.total = p->total;
  d->progress.elapsed_s = (now - job->started_us) * 1e-6;
  d->progress.eta_s = job->seconds_per_step * ((p->total - p->step) + remaining_images * p->total);
  d->progress.stage = "sampling";
  d->progress.preview_width = p->latent_width;
  d->progress.preview_height = p->latent_height;
  d->preview = g_malloc ((gsize) p->latent_width * p->latent_height * 3);
  sf_latent_preview_rgb (p->denoised ? p->denoised : p->latent, p->latent_height, p->latent_width,
                         d->preview);
  deliver (job, d);
}

/* ---- the worker --------------------------------------------------------- */

static char *
model_key (const char *path, const char *vae, SfEnginePrecision precision)
{
  return g_strdup_printf ("%s|%s|%d", path, vae ? vae : "", (int) precision);
}

static gboolean
ensure_models (SfEngine *engine, const SfEngineRequest *r, GError **error)
{
  if (!engine->device || g_strcmp0 (engine->device_selector, r->device) != 0)
    {
      g_clear_pointer (&engine->model, sf_sdxl_free);
      g_clear_pointer (&engine->refiner, sf_sdxl_free);
      g_clear_pointer (&engine->model_key, g_free);
      g_clear_pointer (&engine->refiner_key, g_free);
      g_clear_pointer (&engine->device, sf_device_free);
      engine->device = sf_device_open (r->device, error);
      if (!engine->device)
        return FALSE;
      g_free (engine->device_selector);
      engine->device_selector = g_strdup (r->device);
    }
  SfPrecision precision = r->precision == SF_ENGINE_FP32 ? SF_PRECISION_FP32 : SF_PRECISION_FP16;
  g_autofree char *key = model_key (r->model_path, r->vae_path, r->precision);
  if (g_strcmp0 (key, engine->model_key) != 0)
    {
      g_clear_pointer (&engine->model, sf_sdxl_free);
      g_clear_pointer (&engine->model_key, g_free);
      if (!r->model_path)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "No model was chosen");
          return FALSE;
        }
      engine->model = sf_sdxl_open (r->model_path, r->vae_path, engine->device, precision, error);
      if (!engine->model)
        return FALSE;
      engine->model_key = g_steal_pointer (&key);
    }
  g_autofree char *refiner_key = r->refiner_path ? model_key (r->refiner_path, NULL, r->precision)
                                                 : NULL;
  if (g_strcmp0 (refiner_key, engine->refiner_key) != 0)
    {
      g_clear_pointer (&engine->refiner, sf_sdxl_free);
      g_clear_pointer (&engine->refiner_key, g_free);
      if (r->refiner_path)
        {
          engine->refiner = sf_sdxl_open (r->refiner_path, NULL, engine->device, precision, error);
          if (!engine->refiner)
            return FALSE;
          engine->refiner_key = g_steal_pointer (&refiner_key);
        }
    }
  return TRUE;
}

static gboolean
check_request (const SfEngineRequest *r, GError **error)
{
  gsize pixels = (gsize) MAX (r->width, 0) * MAX (r->height, 0);
  if ((r->init_rgba && g_bytes_get_size (r->init_rgba) != pixels * 4)
      || (r->mask && g_bytes_get_size (r->mask) != pixels))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "The init image or mask does not have the frame's size (%d×%d)", r->width,
                   r->height);
      return FALSE;
    }
  if (r->batch_count < 1 || r->batch_count > 100)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "The batch count must be between 1 and 100");
      return FALSE;
    }
  return TRUE;
}

static gboolean
run_job (SfEngine *engine, Job *job, GError **error)
{
  const SfEngineRequest *r = job->request;
  SfGenerateParams params;
  sf_generate_params_init (&params);
  if (!check_request (r, error)
      || !sf_sampler_kind_parse (r->sampler, &params.sampler, error)
      || !sf_scheduler_kind_parse (r->scheduler, &params.scheduler, error))
    return FALSE;
  report_stage (job, "loading");
  g_mutex_lock (&engine->lock);
  gboolean ok = ensure_models (engine, r, error);
  g_autofree float *init = NULL, *mask = NULL;
  if (ok)
    {
      params.prompt = r->prompt;
      params.negative = r->negative;
      params.width = r->width;
      params.height = r->height;
      params.steps = r->steps;
      params.cfg = r->cfg;
      params.strength = r->strength;
      params.weighting = r->weighting == SF_ENGINE_WEIGHTING_COMFY ? SF_PROMPT_WEIGHTING_COMFY
                                                                 : SF_PROMPT_WEIGHTING_A1111;
      params.refiner = engine->refiner;
      params.refiner_start = r->refiner_start;
      params.progress = on_progress;
      params.progress_data = job;
      if (r->init_rgba)
        params.init_image = init = sf_rgba_to_planes (g_bytes_get_data (r->init_rgba, NULL),
                                                        r->width, r->height);
      if (r->mask)
        {
          gsize pixels = (gsize) r->width * r->height;
          const guint8 *m = g_bytes_get_data (r->mask, NULL);
          mask = g_new (float, pixels);
          for (gsize i = 0; i < pixels; i++)
            mask[i] = m[i] / 255.0f;
          params.mask = mask;
        }
    }
  g_autofree float *image = ok ? g_new (float, 3 * (gsize) r->width * r->height) : NULL;
  for (int i = 0; ok && i < r->batch_count; i++)
    {
      job->image_index = i;
      job->image_started_us = g_get_monotonic_time ();
      params.seed = r->seed + (guint64) i;
      report_stage (job, "encoding");
      ok = sf_generate (engine->model, &params, image, job->cancellable, error);
      if (!ok)
        break;
      const char *hash = sf_sdxl_get_hash (engine->model, NULL);
      Delivery *d = g_new0 (Delivery, 1);
      d->kind = 1;
      d->image.image = i;
      d->image.rgba = sf_planes_to_rgba (image, r->width, r->height);
      d->image.width = r->width;
      d->image.height = r->height;
      d->image.seed = params.seed;
      d->image.seconds = (g_get_monotonic_time () - job->image_started_us) * 1e-6;
      d->image.model_name = g_strdup (sf_sdxl_get_name (engine->model));
      d->image.model_hash = g_strdup (hash);
      if (engine->refiner)
        {
          d->image.refiner_name = g_strdup (sf_sdxl_get_name (engine->refiner));
          d->image.refiner_hash = g_strdup (sf_sdxl_get_hash (engine->refiner, NULL));
        }
      d->image.device_name = g_strdup (sf_device_get_info (engine->device)->name);
      deliver (job, d);
    }
  g_mutex_unlock (&engine->lock);
  return ok;
}

static gpointer
worker_main (gpointer data)
{
  SfEngine *engine = data;
  for (;;)
    {
      gpointer item = g_async_queue_pop (engine->jobs);
      if (item == engine)
        break;
      Job *job = item;
      GError *error = NULL;
      if (!g_cancellable_set_error_if_cancelled (job->cancellable, &error)
          && !run_job (engine, job, &error) && !error)
        g_set_error (&error, G_IO_ERROR, G_IO_ERROR_FAILED, "Generation failed");
      /* One kind of cancel for the window, whichever layer noticed it. */
      if (error && error->domain == SF_VK_ERROR && error->code == SF_VK_ERROR_CANCELLED)
        {
          g_clear_error (&error);
          g_set_error (&error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "Cancelled");
        }
      Delivery *d = g_new0 (Delivery, 1);
      d->kind = 2;
      d->error = error;
      deliver (job, d);
    }
  return NULL;
}

SfEngine *
sf_engine_new (void)
{
  SfEngine *engine = g_new0 (SfEngine, 1);
  engine->jobs = g_async_queue_new ();
  engine->stopping = g_cancellable_new ();
  g_mutex_init (&engine->lock);
  return engine;
}

void
sf_engine_submit (SfEngine *engine, const SfEngineRequest *request, GCancellable *cancellable,
                  SfEngineProgressFunc progress, SfEngineImageFunc image, SfEngineDoneFunc done,
                  gpointer data)
{
  Job *job = g_new0 (Job, 1);
  job->engine = engine;
  job->request = sf_engine_request_copy (request);
  job->cancellable = cancellable ? g_object_ref (cancellable) : g_cancellable_new ();
  job->context = g_main_context_ref_thread_default ();
  job->progress = progress;
  job->image = image;
  job->done = done;
  job->data = data;
  job->started_us = g_get_monotonic_time ();
  g_signal_connect_object (engine->stopping, "cancelled", G_CALLBACK (g_cancellable_cancel),
                           job->cancellable, G_CONNECT_SWAPPED);
  if (!engine->worker)
    engine->worker = g_thread_new ("sfumato-engine", worker_main, engine);
  g_async_queue_push (engine->jobs, job);
}

void
sf_engine_unload (SfEngine *engine)
{
  g_mutex_lock (&engine->lock);
  g_clear_pointer (&engine->model, sf_sdxl_free);
  g_clear_pointer (&engine->refiner, sf_sdxl_free);
  g_clear_pointer (&engine->model_key, g_free);
  g_clear_pointer (&engine->refiner_key, g_free);
  g_mutex_unlock (&engine->lock);
}

void
sf_engine_free (SfEngine *engine)
{
  if (!engine)
    return;
  g_cancellable_cancel (engine->stopping);
  if (engine->worker)
    {
      g_async_queue_push (engine->jobs, engine);
      g_thread_join (engine->worker);
    }
  /* Jobs still queued were cancelled; their done deliveries are pending
   * on their contexts and free themselves when dispatched. */
  sf_engine_unload (engine);
  g_clear_pointer (&engine->device, sf_device_free);
  g_free (engine->device_selector);
  g_async_queue_unref (engine->jobs);
  g_object_unref (engine->stopping);
  g_mutex_clear (&engine->lock);
  g_free (engine);
}

/* ---- prompts and names --------------------------------------------------- */

/* The tokenizer is the one piece of state shared by every caller: loading
 * the vocabulary takes a noticeable moment and it never changes, so it is
 * loaded once for the process. Once loaded it is only read, which is safe
 * from any thread; the lock guards the loading. A failed load is retried
 * on the next call (the person may have put the file in place since). */
static GMutex count_tokenizer_lock;
static SfTokenizer *count_tokenizer;

static SfTokenizer *
get_count_tokenizer (GError **error)
{
  g_mutex_lock (&count_tokenizer_lock);
  if (!count_tokenizer)
    count_tokenizer = sf_tokenizer_find (NULL, error);
  SfTokenizer *tokenizer = count_tokenizer;
  g_mutex_unlock (&count_tokenizer_lock);
  return tokenizer;
}

int *
sf_engine_count_prompt_tokens (const char *prompt, guint *n_chunks, GError **error)
{
  g_return_val_if_fail (n_chunks != NULL, NULL);
  *n_chunks = 0;
  SfTokenizer *tokenizer = get_count_tokenizer (error);
  if (!tokenizer)
    return NULL;
  g_autoptr (SfTokenChunks) chunks = sf_tokenizer_encode_prompt (tokenizer, prompt ? prompt : "");
  int *counts = g_new0 (int, MAX (chunks->n_chunks, 1));
  /* Each window is <|startoftext|>, the chunk's tokens, then
   * <|endoftext|> padding: the tokens end at the first <|endoftext|>
   * (a prompt that spells "<|endoftext|>" out counts short there). */
  for (guint c = 0; c < chunks->n_chunks; c++)
    {
      const int32_t *ids = chunks->ids + (gsize) c * SF_CLIP_WINDOW;
      int end = 1;
      while (end < SF_CLIP_WINDOW - 1 && ids[end] != SF_CLIP_EOS)
        end++;
      counts[c] = end - 1;
    }
  *n_chunks = MAX (chunks->n_chunks, 1);
  return counts;
}

/* From the sampler module's own tables, so a new sampler shows up here. */
const char *const *
sf_engine_get_sampler_names (void)
{
  static const char *names[SF_SAMPLER_KIND_COUNT + 1];
  if (g_once_init_enter (&names[0]))
    {
      for (int i = 1; i < SF_SAMPLER_KIND_COUNT; i++)
        names[i] = sf_sampler_kind_name ((SfSamplerKind) i);
      g_once_init_leave (&names[0], sf_sampler_kind_name ((SfSamplerKind) 0));
    }
  return names;
}

const char *const *
sf_engine_get_scheduler_names (void)
{
  static const char *names[SF_SCHEDULER_KIND_COUNT + 1];
  if (g_once_init_enter (&names[0]))
    {
      for (int i = 1; i < SF_SCHEDULER_KIND_COUNT; i++)
        names[i] = sf_scheduler_kind_name ((SfSchedulerKind) i);
      g_once_init_leave (&names[0], sf_scheduler_kind_name ((SfSchedulerKind) 0));
    }
  return names;
}

const char *
sf_engine_describe_sampler (const char *name)
{
  SfSamplerKind kind;
  if (name && sf_sampler_kind_parse (name, &kind, NULL))
    return sf_sampler_kind_describe (kind);
  return name;
}
