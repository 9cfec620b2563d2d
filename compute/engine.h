/* The engine as the window sees it: jobs on one worker thread, progress
 * and results delivered on the submitting thread's main context. This is
 * the only header of compute/ that ui/ includes.
 *
 * Models stay loaded between jobs (the same model and precision are
 * reused), so interactive tweaking pays for loading once; a job with
 * another model frees the previous one first. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct SfEngine SfEngine;

typedef enum {
  SF_ENGINE_FP16,
  SF_ENGINE_FP32,
} SfEnginePrecision;

typedef enum {
  SF_ENGINE_WEIGHTING_A1111,
  SF_ENGINE_WEIGHTING_COMFY,
} SfEngineWeighting;

/* What the masked area starts from when inpainting (A1111's "masked
 * content"): the original pixels, or fresh noise in latent space. ("Fill"
 * with edge colours is done on the pixels before they reach the engine.) */
typedef enum {
  SF_ENGINE_MASKED_ORIGINAL,
  SF_ENGINE_MASKED_LATENT_NOISE,
} SfEngineMaskedContent;

/* What to generate. Pixel buffers are straight (not premultiplied) RGBA8
 * of width × height, rows packed; the mask is 8-bit, 255 = repaint. */
typedef struct {
  char *model_path;
  char *vae_path;            /* or NULL */
  char *refiner_path;        /* or NULL */
  double refiner_start;      /* 0.8 */
  char *prompt;
  char *negative;
  int width, height;         /* multiples of 8 */
  int steps;
  double cfg;
  char *sampler;             /* "euler", "euler_a", "dpmpp_2m", ... */
  char *scheduler;           /* "normal", "karras" */
  guint64 seed;
  int batch_count;           /* images made one after another, seeds seed, seed+1, ... */
  double strength;           /* with an init image */
  SfEnginePrecision precision;
  SfEngineWeighting weighting;
  GBytes *init_rgba;         /* img2img / inpaint source, or NULL */
  GBytes *mask;              /* inpaint mask, or NULL */
  SfEngineMaskedContent masked_content;
  char *device;              /* SFUMATO_DEVICE-style selector, or NULL */
} SfEngineRequest;

SfEngineRequest *sf_engine_request_new (void);   /* defaults: 1024², 30 steps, CFG 5, euler */
SfEngineRequest *sf_engine_request_copy (const SfEngineRequest *request);
void sf_engine_request_free (SfEngineRequest *request);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SfEngineRequest, sf_engine_request_free)

typedef struct {
  int image;                 /* 0-based index in the batch */
  int images;
  int step, total;           /* model evaluations of this image */
  double elapsed_s;          /* since the job started */
  double eta_s;              /* estimated seconds to the end of the job */
  const guint8 *preview_rgb; /* latent preview, preview_width × preview_height RGB8 */
  int preview_width, preview_height;
  const char *stage;         /* "loading", "encoding", "sampling", "decoding" */
} SfEngineProgress;

typedef struct {
  int image;
  GBytes *rgba;              /* width × height straight RGBA8 */
  int width, height;
  guint64 seed;
  double seconds;            /* this image's generation time */
  char *model_name;
  char *model_hash;          /* A1111's AutoV2 hash */
  char *refiner_name;        /* NULL without a refiner */
  char *refiner_hash;
  char *device_name;
} SfEngineImage;

typedef void (*SfEngineProgressFunc) (const SfEngineProgress *progress, gpointer data);
typedef void (*SfEngineImageFunc) (const SfEngineImage *image, gpointer data);
/* @error is NULL on success; G_IO_ERROR_CANCELLED when cancelled. */
typedef void (*SfEngineDoneFunc) (const GError *error, gpointer data);

/* Returns: (transfer full). The worker starts on the first job. */
SfEngine *sf_engine_new (void);
/* Cancels queued and running jobs, waits for the worker, frees models. */
void sf_engine_free (SfEngine *engine);

/* Queues a job. The callbacks run on the calling thread's thread-default
 * main context; @done runs last and exactly once. */
void sf_engine_submit (SfEngine *engine, const SfEngineRequest *request,
                       GCancellable *cancellable, SfEngineProgressFunc progress,
                       SfEngineImageFunc image, SfEngineDoneFunc done, gpointer data);

/* Frees loaded models (e.g. when memory is needed elsewhere); the next job
 * loads again. Waits for a running job to finish first. */
void sf_engine_unload (SfEngine *engine);

/* The token count of each 75-token chunk of @prompt, chunked as the
 * engine chunks it for the text encoders (A1111's rules: weighting syntax
 * stripped, BREAK and every 75 tokens start a chunk; see tokenizer.h).
 * The CLIP vocabulary is found (sf_tokenizer_find) and loaded on the
 * first call and kept for the process; any thread may call this.
 * Returns: (transfer full) *@n_chunks counts (g_free), at least one; NULL
 * with @error set when no vocabulary is found. */
int *sf_engine_count_prompt_tokens (const char *prompt, guint *n_chunks, GError **error);

/* The sampler and scheduler names the engine takes in a request, in the
 * order a picker shows them. Returns: (transfer none) NULL-terminated. */
const char *const *sf_engine_get_sampler_names (void);
const char *const *sf_engine_get_scheduler_names (void);
/* A1111's label for a sampler name ("Euler a" for "euler_a"), or @name
 * itself when it is unknown. */
const char *sf_engine_describe_sampler (const char *name);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SfEngine, sf_engine_free)

G_END_DECLS
