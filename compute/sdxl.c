#include "sdxl.h"

#include <string.h>
#include <errno.h>
#include <glib/gstdio.h>

#include "vk_error.h"

#define CLIP_L_PREFIX "conditioner.embedders.0.transformer.text_model."
#define CLIP_G_PREFIX "conditioner.embedders.1.model."

struct SfSdxl {
  SfDevice *device;
  SfPrecision precision;
  char *path;
  char *name;
  char *hash;
  SfCheckpoint *checkpoint;
  SfTokenizer *tokenizer;
  SfTextEncoder *clip_l, *clip_g;
  SfUnet *unet;
  SfVae *vae;
};

char *
sf_sdxl_name_for_path (const char *path)
{
  g_autofree char *base = g_path_get_basename (path);
  char *dot = g_str_has_suffix (base, ".safetensors") ? strrchr (base, '.') : NULL;
  if (dot)
    *dot = '\0';
  return g_steal_pointer (&base);
}

SfSdxl *
sf_sdxl_open (const char *path, const char *vae_path, SfDevice *device, SfPrecision precision,
              GError **error)
{
  SfCheckpoint *checkpoint = vae_path ? sf_checkpoint_open_parts (path, vae_path, error)
                                      : sf_checkpoint_open (path, error);
  if (!checkpoint)
    return NULL;
  SfSdxl *sdxl = g_new0 (SfSdxl, 1);
  sdxl->device = device;
  sdxl->precision = precision;
  sdxl->path = g_strdup (path);
  sdxl->name = sf_sdxl_name_for_path (path);
  sdxl->checkpoint = checkpoint;
  return sdxl;
}

void
sf_sdxl_free (SfSdxl *sdxl)
{
  if (!sdxl)
    return;
  sf_sdxl_release (sdxl, SF_SDXL_TEXT | SF_SDXL_UNET | SF_SDXL_VAE);
  g_clear_pointer (&sdxl->tokenizer, sf_tokenizer_free);
  g_clear_pointer (&sdxl->checkpoint, sf_checkpoint_free);
  g_free (sdxl->path);
  g_free (sdxl->name);
  g_free (sdxl->hash);
  g_free (sdxl);
}

SfCheckpoint *sf_sdxl_get_checkpoint (SfSdxl *sdxl) { return sdxl->checkpoint; }
SfDevice *sf_sdxl_get_device (SfSdxl *sdxl) { return sdxl->device; }
SfPrecision sf_sdxl_get_precision (SfSdxl *sdxl) { return sdxl->precision; }
const char *sf_sdxl_get_name (SfSdxl *sdxl) { return sdxl->name; }

const SfModelConfig *
sf_sdxl_get_config (SfSdxl *sdxl)
{
  return sf_checkpoint_get_config (sdxl->checkpoint);
}

gboolean
sf_sdxl_is_refiner (SfSdxl *sdxl)
{
  const SfModelConfig *config = sf_sdxl_get_config (sdxl);
  return config->arch == SF_ARCH_SDXL_REFINER || (!config->has_clip_l && config->has_clip_g)
         || config->unet.num_time_ids == 5;
}

/* SHA-256 of a multi-GB file takes a while: remember it per (path, size,
 * mtime) in $XDG_CACHE_HOME/sfumato/hashes.ini. */
const char *
sf_sdxl_get_hash (SfSdxl *sdxl, GError **error)
{
  if (sdxl->hash)
    return sdxl->hash;
  const char *file = sf_checkpoint_get_hash_path (sdxl->checkpoint);
  GStatBuf st;
  if (g_stat (file, &st) != 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "Cannot read %s", file);
      return NULL;
    }
  g_autofree char *cache = g_build_filename (g_get_user_cache_dir (), "sfumato", "hashes.ini", NULL);
  g_autoptr (GKeyFile) keys = g_key_file_new ();
  g_key_file_load_from_file (keys, cache, G_KEY_FILE_NONE, NULL);
  g_autofree char *stamp = g_strdup_printf ("%" G_GINT64_FORMAT ":%" G_GINT64_FORMAT,
                                            (gint64) st.st_size, (gint64) st.st_mtime);
  g_autofree char *cached_stamp = g_key_file_get_string (keys, file, "stamp", NULL);
  g_autofree char *sha = NULL;
  if (g_strcmp0 (cached_stamp, stamp) == 0)
    sha = g_key_file_get_string (keys, file, "sha256", NULL);
  if (!sha || strlen (sha) < 10)
    {
      g_clear_pointer (&sha, g_free);
      sha = sf_file_sha256 (file, error);
      if (!sha)
        return NULL;
      g_key_file_set_string (keys, file, "stamp", stamp);
      g_key_file_set_string (keys, file, "sha256", sha);
      g_autofree char *dir = g_path_get_dirname (cache);
      if (g_mkdir_with_parents (dir, 0700) == 0)
        g_key_file_save_to_file (keys, cache, NULL);
    }
  sdxl->hash = g_strndup (sha, 10);
  return sdxl->hash;
}

static SfDType
matrix_dtype (SfSdxl *sdxl)
{
  return sdxl->precision == SF_PRECISION_FP16 ? SF_DTYPE_F16 : SF_DTYPE_F32;
}

static SfActivation
encoder_activation (const SfClipConfig *config)
{
  return config->activation == SF_CLIP_ACTIVATION_QUICK_GELU ? SF_ACT_QUICK_GELU : SF_ACT_GELU;
}

static gboolean
load_text_encoders (SfSdxl *sdxl, GError **error)
{
  const SfModelConfig *config = sf_sdxl_get_config (sdxl);
  if (!config->has_clip_g)
    {
      g_set_error (error, SF_VK_ERROR, SF_VK_ERROR_INVALID,
                   "%s has no OpenCLIP bigG text encoder, which SDXL needs", sdxl->path);
      return FALSE;
    }
  if (config->has_clip_l && !sdxl->clip_l)
    {
      sdxl->clip_l = sf_text_encoder_load (sdxl->checkpoint, sdxl->device, CLIP_L_PREFIX,
                                           SF_TEXT_NAMES_TRANSFORMERS,
                                           encoder_activation (&config->clip_l),
                                           matrix_dtype (sdxl), config->clip_l.head_dim, error);
      if (!sdxl->clip_l)
        return FALSE;
    }
  if (!sdxl->clip_g)
    {
      sdxl->clip_g = sf_text_encoder_load (sdxl->checkpoint, sdxl->device, CLIP_G_PREFIX,
                                           SF_TEXT_NAMES_OPENCLIP,
                                           encoder_activation (&config->clip_g),
                                           matrix_dtype (sdxl), config->clip_g.head_dim, error);
      if (!sdxl->clip_g)
        return FALSE;
    }
  return TRUE;
}

SfUnet *
sf_sdxl_get_unet (SfSdxl *sdxl, GError **error)
{
  if (!sdxl->unet)
    sdxl->unet = sf_unet_load (sdxl->checkpoint, sdxl->device, matrix_dtype (sdxl),
                               &sf_sdxl_get_config (sdxl)->unet, error);
  return sdxl->unet;
}

SfVae *
sf_sdxl_get_vae (SfSdxl *sdxl, GError **error)
{
  /* SDXL's VAE overflows fp16 activations; its activations stay fp32
   * (ops keep them so) and its weights follow the precision. */
  if (!sdxl->vae)
    sdxl->vae = sf_vae_load (sdxl->checkpoint, sdxl->device, matrix_dtype (sdxl), error);
  return sdxl->vae;
}

void
sf_sdxl_release (SfSdxl *sdxl, SfSdxlPart parts)
{
  if (parts & SF_SDXL_TEXT)
    {
      g_clear_pointer (&sdxl->clip_l, sf_text_encoder_free);
      g_clear_pointer (&sdxl->clip_g, sf_text_encoder_free);
    }
  if (parts & SF_SDXL_UNET)
    g_clear_pointer (&sdxl->unet, sf_unet_free);
  if (parts & SF_SDXL_VAE)
    g_clear_pointer (&sdxl->vae, sf_vae_free);
}

void
sf_conditioning_clear (SfConditioning *conditioning)
{
  g_free (conditioning->cond);
  g_free (conditioning->uncond);
  g_free (conditioning->pooled);
  g_free (conditioning->uncond_pooled);
  g_free (conditioning->ids_l);
  g_free (conditioning->ids_g);
  memset (conditioning, 0, sizeof *conditioning);
}

/* ---- prompt encoding --------------------------------------------------- */

/* The windows one encoder pass sees: the prompt's (padded to @windows with
 * the empty prompt's), the negative's likewise, then one empty window
 * (ComfyUI's weighting reference). */
typedef struct {
  int windows;
  int rows;
  gint32 *ids_l;          /* [rows, 77] */
  gint32 *ids_g;
  float *weights;         /* [rows, 77] */
  gboolean has_negative;
} Batch;

static void
batch_clear (Batch *batch)
{
  g_free (batch->ids_l);
  g_free (batch->ids_g);
  g_free (batch->weights);
}

static void
put_window (Batch *batch, int row, const SfTokenChunks *chunks, guint window)
{
  gsize at = (gsize) row * SF_CLIP_WINDOW, from = (gsize) window * SF_CLIP_WINDOW;
  memcpy (batch->ids_l + at, chunks->ids + from, SF_CLIP_WINDOW * sizeof (gint32));
  memcpy (batch->ids_g + at, chunks->ids_g + from, SF_CLIP_WINDOW * sizeof (gint32));
  memcpy (batch->weights + at, chunks->weights + from, SF_CLIP_WINDOW * sizeof (float));
}

static void
put_side (Batch *batch, int first_row, const SfTokenChunks *chunks, const SfTokenChunks *empty)
{
  for (int w = 0; w < batch->windows; w++)
    {
      if ((guint) w < chunks->n_chunks)
        put_window (batch, first_row + w, chunks, (guint) w);
      else
        put_window (batch, first_row + w, empty, 0);
    }
}

/* Applies the weights of @batch's rows [first, first + windows) to one
 * encoder's hidden states, which sit at column @column of rows of @stride
 * floats in @hidden. */
static void
apply_weights (SfPromptWeighting weighting, const Batch *batch, int first, float *hidden,
               int tokens, int dim, int stride, int column, const float *empty)
{
  for (int w = 0; w < batch->windows; w++)
    {
      float *z = hidden + ((gsize) w * tokens) * stride + column;
      const float *weights = batch->weights + (gsize) (first + w) * tokens;
      if (weighting == SF_PROMPT_WEIGHTING_COMFY)
        sf_prompt_weight_comfy (z, empty, (gsize) tokens, (gsize) dim, (gsize) stride, weights);
      else
        sf_prompt_weight_a1111 (z, (gsize) tokens, (gsize) dim, (gsize) stride, weights);
    }
}

gboolean
sf_sdxl_encode_prompt (SfSdxl *sdxl, const char *prompt, const char *negative,
                       SfPromptWeighting weighting, SfConditioning *out, GCancellable *cancellable,
                       GError **error)
{
  memset (out, 0, sizeof *out);
  if (!sdxl->tokenizer && !(sdxl->tokenizer = sf_tokenizer_find (sdxl->path, error)))
    return FALSE;
  if (!load_text_encoders (sdxl, error))
    return FALSE;

  g_autoptr (SfTokenChunks) chunks = sf_tokenizer_encode_prompt (sdxl->tokenizer, prompt ? prompt : "");
  g_autoptr (SfTokenChunks) empty = sf_tokenizer_encode_prompt (sdxl->tokenizer, "");
  /* An empty negative gives zeros for SDXL base (force_zeros_for_empty_prompt);
   * the refiner's pipeline encodes it like any prompt. */
  gboolean has_negative = (negative && *negative) || sf_sdxl_is_refiner (sdxl);
  g_autoptr (SfTokenChunks) neg = has_negative
    ? sf_tokenizer_encode_prompt (sdxl->tokenizer, negative ? negative : "") : NULL;

  Batch batch = { 0 };
  batch.has_negative = has_negative;
  batch.windows = (int) MAX (chunks->n_chunks, neg ? neg->n_chunks : 1);
  batch.rows = batch.windows * (has_negative ? 2 : 1) + 1;
  gsize cells = (gsize) batch.rows * SF_CLIP_WINDOW;
  batch.ids_l = g_new (gint32, cells);
  batch.ids_g = g_new (gint32, cells);
  batch.weights = g_new (float, cells);
  put_side (&batch, 0, chunks, empty);
  if (has_negative)
    put_side (&batch, batch.windows, neg, empty);
  put_window (&batch, batch.rows - 1, empty, 0);

  int tokens = SF_CLIP_WINDOW;
  int dl = sdxl->clip_l ? sf_text_encoder_get_hidden (sdxl->clip_l) : 0;
  int dg = sf_text_encoder_get_hidden (sdxl->clip_g);
  int pooled_dim = sf_text_encoder_get_projection (sdxl->clip_g);
  int stride = dl + dg;
  g_autofree float *hidden_l = dl ? g_new (float, cells * dl) : NULL;
  g_autofree float *hidden_g = g_new (float, cells * dg);
  g_autofree float *pooled = g_new (float, (gsize) batch.rows * pooled_dim);
  gboolean ok = (!sdxl->clip_l
                 || sf_text_encoder_encode (sdxl->clip_l, batch.ids_l, batch.rows, hidden_l, NULL,
                                            cancellable, error))
                && sf_text_encoder_encode (sdxl->clip_g, batch.ids_g, batch.rows, hidden_g, pooled,
                                           cancellable, error);
  if (!ok)
    {
      batch_clear (&batch);
      return FALSE;
    }

  /* Interleave per token: [CLIP-L | bigG]. */
  gsize side = (gsize) batch.windows * tokens;
  g_autofree float *all = g_new (float, cells * stride);
  for (gsize t = 0; t < cells; t++)
    {
      if (dl)
        memcpy (all + t * stride, hidden_l + t * dl, dl * sizeof (float));
      memcpy (all + t * stride + dl, hidden_g + t * dg, dg * sizeof (float));
    }
  const float *empty_row = all + (gsize) (batch.rows - 1) * tokens * stride;
  for (int side_index = 0; side_index < (has_negative ? 2 : 1); side_index++)
    {
      float *first = all + side_index * side * stride;
      int first_row = side_index * batch.windows;
      if (dl)
        apply_weights (weighting, &batch, first_row, first, tokens, dl, stride, 0, empty_row);
      apply_weights (weighting, &batch, first_row, first, tokens, dg, stride, dl, empty_row + dl);
    }

  out->tokens = (int) side;
  out->windows = batch.windows;
  out->context_dim = stride;
  out->pooled_dim = pooled_dim;
  out->cond = g_memdup2 (all, side * stride * sizeof (float));
  out->pooled = g_memdup2 (pooled, pooled_dim * sizeof (float));
  if (has_negative)
    {
      out->uncond = g_memdup2 (all + side * stride, side * stride * sizeof (float));
      out->uncond_pooled = g_memdup2 (pooled + (gsize) batch.windows * pooled_dim,
                                      pooled_dim * sizeof (float));
    }
  else
    {
      out->uncond = g_new0 (float, side * stride);
      out->uncond_pooled = g_new0 (float, pooled_dim);
    }
  if (dl)
    out->ids_l = g_memdup2 (batch.ids_l, side * sizeof (gint32));
  out->ids_g = g_memdup2 (batch.ids_g, side * sizeof (gint32));
  batch_clear (&batch);
  return TRUE;
}
