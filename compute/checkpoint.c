#include "checkpoint.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "checkpoint_config.h"
#include "checkpoint_names.h"
#include "safetensors.h"

G_DEFINE_QUARK (sf-checkpoint-error-quark, sf_checkpoint_error)

/* A canonical tensor: one source tensor, or the three thirds of a fused
 * q/k/v tensor, possibly read transposed or with a reshape (the VAE's
 * 1×1 convolutions). */
typedef struct {
  char *name;
  int ndim;
  int64_t shape[4];
  int n_parts;
  const SfSafetensorsTensor *parts[3];
  const SfSafetensors *file;
  gboolean transposed;
} Entry;

struct SfCheckpoint {
  char *path;
  char *hash_path;
  SfCheckpointLayout layout;
  GPtrArray *files;       /* SfSafetensors, owned */
  GHashTable *entries;    /* canonical name -> Entry */
  SfModelConfig config;
};

static void
entry_free (gpointer data)
{
  Entry *entry = data;
  g_free (entry->name);
  g_free (entry);
}

void
sf_checkpoint_free (SfCheckpoint *checkpoint)
{
  if (!checkpoint)
    return;
  g_clear_pointer (&checkpoint->entries, g_hash_table_unref);
  g_clear_pointer (&checkpoint->files, g_ptr_array_unref);
  g_free (checkpoint->path);
  g_free (checkpoint->hash_path);
  g_free (checkpoint);
}

static SfCheckpoint *
checkpoint_new (const char *path, SfCheckpointLayout layout)
{
  SfCheckpoint *checkpoint = g_new0 (SfCheckpoint, 1);
  checkpoint->path = g_strdup (path);
  checkpoint->layout = layout;
  checkpoint->files = g_ptr_array_new_with_free_func ((GDestroyNotify) sf_safetensors_free);
  checkpoint->entries = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, entry_free);
  return checkpoint;
}

/* ---- Pickles ------------------------------------------------------------ */

static gboolean
has_pickle_extension (const char *path)
{
  static const char *const EXTENSIONS[] = { ".ckpt", ".pt", ".pth", ".bin", ".pkl", ".pickle" };
  g_autofree char *lower = g_ascii_strdown (path, -1);
  for (gsize i = 0; i < G_N_ELEMENTS (EXTENSIONS); i++)
    if (g_str_has_suffix (lower, EXTENSIONS[i]))
      return TRUE;
  return FALSE;
}

/* PyTorch's zip container, or a bare pickle (protocol 2 to 5). */
static gboolean
starts_like_pickle (const char *path)
{
  guint8 head[4] = { 0 };
  FILE *stream = fopen (path, "rb");
  if (!stream)
    return FALSE;
  size_t got = fread (head, 1, sizeof head, stream);
  fclose (stream);
  return got == 4 && ((memcmp (head, "PK\x03\x04", 4) == 0) ||
                      (head[0] == 0x80 && head[1] >= 2 && head[1] <= 5));
}

static gboolean
refuse_pickle (const char *path, GError **error)
{
  g_set_error (error, SF_CHECKPOINT_ERROR, SF_CHECKPOINT_ERROR_PICKLE,
               "%s is a pickled PyTorch file. Loading a pickle runs whatever code it contains, "
               "so Sfumato only reads .safetensors. Convert it once, in a Python you trust, with "
               "torch and safetensors installed: python3 -c \"import torch, safetensors.torch as s; "
               "d = torch.load('%s', map_location='cpu', weights_only=True); "
               "s.save_file({k: v.contiguous() for k, v in d.get('state_dict', d).items()}, "
               "'model.safetensors')\" (weights_only=True refuses code, but read the warnings), "
               "or download the .safetensors version of the model.", path, path);
  return FALSE;
}

static SfSafetensors *
open_safetensors (const char *path, GError **error)
{
  if (has_pickle_extension (path))
    {
      refuse_pickle (path, error);
      return NULL;
    }
  g_autoptr (GError) local = NULL;
  SfSafetensors *file = sf_safetensors_open (path, &local);
  if (!file && local->domain == SF_SAFETENSORS_ERROR &&
      local->code == SF_SAFETENSORS_ERROR_INVALID && starts_like_pickle (path))
    refuse_pickle (path, error);
  else if (!file)
    g_propagate_error (error, g_steal_pointer (&local));
  return file;
}

/* ---- The canonical table -------------------------------------------------- */

static gboolean G_GNUC_PRINTF (3, 4)
fail (GError **error, SfCheckpointErrorCode code, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error_literal (error, SF_CHECKPOINT_ERROR, code, message);
  return FALSE;
}

/* How a source tensor becomes (part of) a canonical one. */
typedef struct {
  int qkv_part;          /* -1, or the third 0..2 of a fused tensor */
  gboolean transposed;
  gboolean to_conv_1x1;
} Mapping;

static gboolean
add_tensor (SfCheckpoint *checkpoint, const SfSafetensors *file, const SfSafetensorsTensor *tensor,
            char *canonical /* transfer full */, const Mapping *mapping, GError **error)
{
  g_autofree char *name = canonical;
  const char *path = sf_safetensors_get_path (file);
  if (!sf_safetensors_dtype_is_float_weight (tensor->dtype))
    {
      /* Buffers, not weights: SDXL's CLIP-L keeps its position ids. */
      if (g_str_has_suffix (tensor->name, "position_ids"))
        return TRUE;
      return fail (error, SF_CHECKPOINT_ERROR_UNSUPPORTED,
                   "%s: tensor “%s” is stored as %s; Sfumato reads weights stored as F16, BF16 or "
                   "F32 (convert the file with a tool that casts it to one of those)", path,
                   tensor->name, sf_safetensors_dtype_name (tensor->dtype));
    }
  int max_ndim = mapping->to_conv_1x1 ? 2 : 4;
  if (tensor->ndim > max_ndim || ((mapping->transposed || mapping->to_conv_1x1) && tensor->ndim != 2) ||
      (mapping->qkv_part >= 0 && tensor->ndim < 1))
    return fail (error, SF_CHECKPOINT_ERROR_INVALID, "%s: tensor “%s” has an unexpected shape "
                 "(%d dimensions)", path, tensor->name, tensor->ndim);

  Entry *entry = g_hash_table_lookup (checkpoint->entries, name);
  if (mapping->qkv_part >= 0 && entry && entry->n_parts == 3 && !entry->parts[mapping->qkv_part])
    {
      entry->parts[mapping->qkv_part] = tensor;
      return TRUE;
    }
  if (entry)
    return fail (error, SF_CHECKPOINT_ERROR_INVALID, "%s: tensor “%s” is given twice (as “%s” and "
                 "in %s)", path, name, tensor->name, sf_safetensors_get_path (entry->file));

  entry = g_new0 (Entry, 1);
  entry->name = g_steal_pointer (&name);
  entry->file = file;
  entry->ndim = tensor->ndim;
  memcpy (entry->shape, tensor->shape, sizeof (int64_t) * (gsize) tensor->ndim);
  entry->transposed = mapping->transposed;
  if (mapping->transposed)
    {
      entry->shape[0] = tensor->shape[1];
      entry->shape[1] = tensor->shape[0];
    }
  if (mapping->to_conv_1x1)
    {
      entry->ndim = 4;
      entry->shape[2] = entry->shape[3] = 1;
    }
  if (mapping->qkv_part >= 0)
    {
      entry->n_parts = 3;
      entry->parts[mapping->qkv_part] = tensor;
      entry->shape[0] *= 3;
    }
  else
    {
      entry->n_parts = 1;
      entry->parts[0] = tensor;
    }
  g_hash_table_insert (checkpoint->entries, entry->name, entry);
  return TRUE;
}

/* Fused tensors need all three parts, of one shape. */
static gboolean
check_fused (SfCheckpoint *checkpoint, GError **error)
{
  GHashTableIter iter;
  Entry *entry;
  g_hash_table_iter_init (&iter, checkpoint->entries);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &entry))
    {
      if (entry->n_parts != 3)
        continue;
      for (int p = 0; p < 3; p++)
        {
          const SfSafetensorsTensor *part = entry->parts[p];
          if (!part)
            return fail (error, SF_CHECKPOINT_ERROR_INVALID, "%s: the %s third of “%s” is missing",
                         sf_safetensors_get_path (entry->file), (const char *[]) { "q", "k", "v" }[p],
                         entry->name);
          const SfSafetensorsTensor *first = entry->parts[0];
          if (part->ndim != first->ndim ||
              memcmp (part->shape, first->shape, sizeof (int64_t) * (gsize) part->ndim) != 0)
            return fail (error, SF_CHECKPOINT_ERROR_INVALID, "%s: q, k and v of “%s” differ in shape",
                         sf_safetensors_get_path (entry->file), entry->name);
        }
    }
  return TRUE;
}

/* ---- Components and layouts ---------------------------------------------- */

typedef enum {
  COMPONENT_SINGLE_FILE,   /* canonical names (maybe the refiner's bigG) */
  COMPONENT_UNET,          /* diffusers UNet */
  COMPONENT_VAE,           /* diffusers or bare single-file VAE */
  COMPONENT_CLIP_L,
  COMPONENT_CLIP_G,
} Component;

/* The largest N of names PREFIX.N..., or -1. */
static int
max_index (const SfSafetensors *file, const char *prefix)
{
  int best = -1;
  gsize length = strlen (prefix);
  for (guint i = 0; i < sf_safetensors_get_n_tensors (file); i++)
    {
      const char *name = sf_safetensors_get_tensor (file, i)->name;
      if (!g_str_has_prefix (name, prefix) || !g_ascii_isdigit (name[length]))
        continue;
      guint64 value = g_ascii_strtoull (name + length, NULL, 10);
      if (value < 1000)
        best = MAX (best, (int) value);
    }
  return best;
}

static gboolean
add_component (SfCheckpoint *checkpoint, const SfSafetensors *file, Component component,
               gboolean skip_vae, GError **error)
{
  SfUNetBlocks blocks = { 0 };
  int vae_levels = 0;
  if (component == COMPONENT_UNET)
    {
      blocks.num_levels = max_index (file, "down_blocks.") + 1;
      blocks.layers_per_block = max_index (file, "down_blocks.0.resnets.") + 1;
      for (int level = 0; level < blocks.num_levels && level < 31; level++)
        {
          g_autofree char *prefix = g_strdup_printf ("up_blocks.%d.attentions.", level);
          if (max_index (file, prefix) >= 0)
            blocks.up_attention_levels |= 1u << level;
        }
    }
  else if (component == COMPONENT_VAE)
    vae_levels = MAX (max_index (file, "encoder.down_blocks."),
                      max_index (file, "decoder.up_blocks.")) + 1;

  for (guint i = 0; i < sf_safetensors_get_n_tensors (file); i++)
    {
      const SfSafetensorsTensor *tensor = sf_safetensors_get_tensor (file, i);
      Mapping mapping = { .qkv_part = -1 };
      char *canonical = NULL;
      switch (component)
        {
        case COMPONENT_SINGLE_FILE:
          canonical = sf_names_from_single_file (tensor->name);
          if (!canonical || (skip_vae && g_str_has_prefix (canonical, SF_PREFIX_VAE)))
            {
              g_free (canonical);
              continue; /* EMA copies, schedules, or the VAE a part file replaces */
            }
          break;
        case COMPONENT_UNET:
          canonical = sf_names_unet_from_diffusers (tensor->name, &blocks);
          break;
        case COMPONENT_VAE:
          canonical = sf_names_vae_from_diffusers (tensor->name, vae_levels, &mapping.to_conv_1x1);
          break;
        case COMPONENT_CLIP_L:
          canonical = sf_names_clip_l_from_diffusers (tensor->name);
          break;
        case COMPONENT_CLIP_G:
          canonical = sf_names_clip_g_from_diffusers (tensor->name, &mapping.qkv_part,
                                                      &mapping.transposed);
          break;
        }
      if (!canonical)
        return fail (error, SF_CHECKPOINT_ERROR_UNSUPPORTED, "%s: tensor “%s” is not part of an "
                     "SDXL %s", sf_safetensors_get_path (file), tensor->name,
                     component == COMPONENT_UNET ? "UNet" : component == COMPONENT_VAE ? "VAE"
                     : "text encoder");
      if (!add_tensor (checkpoint, file, tensor, canonical, &mapping, error))
        return FALSE;
    }
  return TRUE;
}

/* What a lone .safetensors file holds, judged by its names. */
static gboolean
classify_file (const SfSafetensors *file, Component *component, GError **error)
{
  for (guint i = 0; i < sf_safetensors_get_n_tensors (file); i++)
    {
      g_autofree char *canonical = sf_names_from_single_file (sf_safetensors_get_tensor (file, i)->name);
      if (canonical)
        {
          *component = COMPONENT_SINGLE_FILE;
          return TRUE;
        }
    }
  if (sf_safetensors_lookup (file, "conv_in.weight") &&
      sf_safetensors_lookup (file, "time_embedding.linear_1.weight"))
    *component = COMPONENT_UNET;
  else if (sf_safetensors_lookup (file, "decoder.conv_in.weight"))
    *component = COMPONENT_VAE;
  else
    return fail (error, SF_CHECKPOINT_ERROR_UNSUPPORTED, "%s: no SDXL UNet, VAE or text encoder "
                 "tensors were found in it (%u tensors with other names)", sf_safetensors_get_path (file),
                 sf_safetensors_get_n_tensors (file));
  return TRUE;
}

static SfSafetensors *
add_file (SfCheckpoint *checkpoint, const char *path, GError **error)
{
  SfSafetensors *file = open_safetensors (path, error);
  if (file)
    g_ptr_array_add (checkpoint->files, file);
  return file;
}

static gboolean
finish (SfCheckpoint *checkpoint, const SfConfigHints *hints, GError **error)
{
  if (g_hash_table_size (checkpoint->entries) == 0)
    return fail (error, SF_CHECKPOINT_ERROR_UNSUPPORTED, "%s holds no SDXL tensors", checkpoint->path);
  return check_fused (checkpoint, error) &&
         sf_model_config_derive (&checkpoint->config, checkpoint, hints, checkpoint->path, error);
}

static SfCheckpoint *
open_single (const char *path, GError **error)
{
  g_autoptr (SfCheckpoint) checkpoint = checkpoint_new (path, SF_CHECKPOINT_SINGLE_FILE);
  checkpoint->hash_path = g_strdup (path);
  const SfSafetensors *file = add_file (checkpoint, path, error);
  Component component;
  SfConfigHints hints;
  sf_config_hints_init (&hints);
  if (!file || !classify_file (file, &component, error) ||
      !add_component (checkpoint, file, component, FALSE, error) ||
      !sf_config_hints_read_metadata (&hints, file, error) || !finish (checkpoint, &hints, error))
    return NULL;
  return g_steal_pointer (&checkpoint);
}

/* The weights file of a diffusers component folder: the plain name, the
 * fp16 variant, or the shards an index lists; NULL (no error) if absent. */
static GPtrArray *
find_component_files (const char *folder, const char *component, const char *stem, GError **error)
{
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *dir = g_build_filename (folder, component, NULL);
  static const char *const SUFFIXES[] = { ".safetensors", ".fp16.safetensors" };
  for (gsize i = 0; i < G_N_ELEMENTS (SUFFIXES); i++)
    {
      g_autofree char *name = g_strconcat (stem, SUFFIXES[i], NULL);
      char *path = g_build_filename (dir, name, NULL);
      if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
        {
          g_ptr_array_add (paths, path);
          return g_steal_pointer (&paths);
        }
      g_free (path);
    }
  g_autofree char *index_name = g_strconcat (stem, ".safetensors.index.json", NULL);
  g_autofree char *index = g_build_filename (dir, index_name, NULL);
  if (g_file_test (index, G_FILE_TEST_IS_REGULAR))
    {
      g_autofree char *text = NULL;
      gsize length;
      if (!g_file_get_contents (index, &text, &length, error))
        return NULL;
      /* Shard names look like STEM-00001-of-00002.safetensors. */
      g_autoptr (GDir) listing = g_dir_open (dir, 0, error);
      if (!listing)
        return NULL;
      g_autofree char *shard_prefix = g_strconcat (stem, "-", NULL);
      const char *entry;
      while ((entry = g_dir_read_name (listing)))
        if (g_str_has_prefix (entry, shard_prefix) && g_str_has_suffix (entry, ".safetensors") &&
            strstr (text, entry))
          g_ptr_array_add (paths, g_build_filename (dir, entry, NULL));
      if (paths->len == 0)
        {
          fail (error, SF_CHECKPOINT_ERROR_NOT_FOUND, "%s names no shard file present beside it", index);
          return NULL;
        }
      return g_steal_pointer (&paths);
    }
  g_autofree char *pickle_name = g_strconcat (stem, ".bin", NULL);
  g_autofree char *pickle = g_build_filename (dir, pickle_name, NULL);
  if (g_file_test (pickle, G_FILE_TEST_IS_REGULAR))
    {
      refuse_pickle (pickle, error);
      return NULL;
    }
  return g_steal_pointer (&paths); /* empty: no such component */
}

static SfCheckpoint *
open_diffusers (const char *folder, GError **error)
{
  g_autoptr (SfCheckpoint) checkpoint = checkpoint_new (folder, SF_CHECKPOINT_DIFFUSERS);
  static const struct {
    const char *dir;
    const char *stem;
    Component component;
  } PARTS[] = {
    { "unet", "diffusion_pytorch_model", COMPONENT_UNET },
    { "vae", "diffusion_pytorch_model", COMPONENT_VAE },
    { "text_encoder", "model", COMPONENT_CLIP_L },
    { "text_encoder_2", "model", COMPONENT_CLIP_G },
  };
  for (gsize c = 0; c < G_N_ELEMENTS (PARTS); c++)
    {
      g_autoptr (GPtrArray) paths = find_component_files (folder, PARTS[c].dir, PARTS[c].stem, error);
      if (!paths)
        return NULL;
      for (guint p = 0; p < paths->len; p++)
        {
          const SfSafetensors *file = add_file (checkpoint, paths->pdata[p], error);
          if (!file || !add_component (checkpoint, file, PARTS[c].component, FALSE, error))
            return NULL;
        }
    }
  SfConfigHints hints;
  sf_config_hints_init (&hints);
  if (!sf_config_hints_read_diffusers (&hints, folder, error) || !finish (checkpoint, &hints, error))
    return NULL;
  return g_steal_pointer (&checkpoint);
}

SfCheckpoint *
sf_checkpoint_open (const char *path, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_autofree char *index = g_build_filename (path, "model_index.json", NULL);
      g_autofree char *unet = g_build_filename (path, "unet", NULL);
      if (!g_file_test (index, G_FILE_TEST_EXISTS) && !g_file_test (unet, G_FILE_TEST_IS_DIR))
        {
          fail (error, SF_CHECKPOINT_ERROR_NOT_FOUND, "%s is a folder but not a diffusers model "
                "(no model_index.json or unet/ in it)", path);
          return NULL;
        }
      return open_diffusers (path, error);
    }
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      fail (error, SF_CHECKPOINT_ERROR_NOT_FOUND, "%s: no such file or folder", path);
      return NULL;
    }
  return open_single (path, error);
}

SfCheckpoint *
sf_checkpoint_open_parts (const char *unet_path, const char *vae_path, GError **error)
{
  if (!vae_path)
    return sf_checkpoint_open (unet_path, error);
  g_autoptr (SfCheckpoint) checkpoint = checkpoint_new (unet_path, SF_CHECKPOINT_PARTS);
  checkpoint->hash_path = g_strdup (unet_path);
  SfConfigHints hints;
  sf_config_hints_init (&hints);
  const SfSafetensors *unet = add_file (checkpoint, unet_path, error);
  Component unet_component, vae_component;
  if (!unet || !classify_file (unet, &unet_component, error) ||
      !add_component (checkpoint, unet, unet_component, TRUE, error) ||
      !sf_config_hints_read_metadata (&hints, unet, error))
    return NULL;
  if (unet_component != COMPONENT_SINGLE_FILE && unet_component != COMPONENT_UNET)
    {
      fail (error, SF_CHECKPOINT_ERROR_UNSUPPORTED, "%s holds no UNet", unet_path);
      return NULL;
    }
  const SfSafetensors *vae = add_file (checkpoint, vae_path, error);
  if (!vae || !classify_file (vae, &vae_component, error))
    return NULL;
  if (vae_component == COMPONENT_SINGLE_FILE)
    {
      /* A whole checkpoint given as the VAE: take its VAE only. */
      for (guint i = 0; i < sf_safetensors_get_n_tensors (vae); i++)
        {
          const SfSafetensorsTensor *tensor = sf_safetensors_get_tensor (vae, i);
          Mapping mapping = { .qkv_part = -1 };
          if (g_str_has_prefix (tensor->name, SF_PREFIX_VAE) &&
              !add_tensor (checkpoint, vae, tensor, g_strdup (tensor->name), &mapping, error))
            return NULL;
        }
    }
  else if (vae_component != COMPONENT_VAE || !add_component (checkpoint, vae, vae_component, FALSE, error))
    {
      if (error && !*error)
        fail (error, SF_CHECKPOINT_ERROR_UNSUPPORTED, "%s holds no VAE", vae_path);
      return NULL;
    }
  if (!finish (checkpoint, &hints, error))
    return NULL;
  if (!checkpoint->config.has_vae)
    {
      fail (error, SF_CHECKPOINT_ERROR_UNSUPPORTED, "%s holds no complete VAE", vae_path);
      return NULL;
    }
  return g_steal_pointer (&checkpoint);
}

/* ---- Queries ------------------------------------------------------------ */

SfCheckpointLayout
sf_checkpoint_get_layout (const SfCheckpoint *checkpoint)
{
  return checkpoint->layout;
}

const char *
sf_checkpoint_get_path (const SfCheckpoint *checkpoint)
{
  return checkpoint->path;
}

const char *
sf_checkpoint_get_hash_path (const SfCheckpoint *checkpoint)
{
  return checkpoint->hash_path;
}

const SfModelConfig *
sf_checkpoint_get_config (const SfCheckpoint *checkpoint)
{
  return &checkpoint->config;
}

gboolean
sf_checkpoint_has (const SfCheckpoint *checkpoint, const char *name)
{
  return g_hash_table_contains (checkpoint->entries, name);
}

gboolean
sf_checkpoint_get_shape (const SfCheckpoint *checkpoint, const char *name, int *ndim,
                         int64_t shape[4])
{
  const Entry *entry = g_hash_table_lookup (checkpoint->entries, name);
  if (!entry)
    return FALSE;
  *ndim = entry->ndim;
  for (int d = 0; d < 4; d++)
    shape[d] = d < entry->ndim ? entry->shape[d] : 1;
  return TRUE;
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

GPtrArray *
sf_checkpoint_list_names (const SfCheckpoint *checkpoint)
{
  GPtrArray *names = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer key;
  g_hash_table_iter_init (&iter, checkpoint->entries);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (names, key);
  g_ptr_array_sort (names, compare_names);
  return names;
}

void
sf_checkpoint_get_stats (const SfCheckpoint *checkpoint, SfCheckpointStats *stats)
{
  memset (stats, 0, sizeof *stats);
  stats->n_files = checkpoint->files->len;
  GHashTableIter iter;
  const Entry *entry;
  g_hash_table_iter_init (&iter, checkpoint->entries);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &entry))
    {
      stats->n_tensors++;
      for (int p = 0; p < entry->n_parts; p++)
        {
          const SfSafetensorsTensor *part = entry->parts[p];
          stats->n_f16 += part->dtype == SF_SAFETENSORS_F16;
          stats->n_bf16 += part->dtype == SF_SAFETENSORS_BF16;
          stats->n_f32 += part->dtype == SF_SAFETENSORS_F32;
          stats->total_bytes += part->nbytes;
        }
    }
}

/* ---- Reading ------------------------------------------------------------ */

/* Converts @count elements; FALSE when @want is F16 and a finite source
 * value is beyond fp16's range. */
static gboolean
convert (const guint8 *src, SfSafetensorsDType from, guint8 *dst, SfDType want, gsize count)
{
  gsize from_size = sf_safetensors_dtype_size (from);
  if ((from == SF_SAFETENSORS_F16 && want == SF_DTYPE_F16) ||
      (from == SF_SAFETENSORS_F32 && want == SF_DTYPE_F32))
    {
      memcpy (dst, src, count * from_size);
      return TRUE;
    }
  for (gsize i = 0; i < count; i++)
    {
      float value;
      if (from == SF_SAFETENSORS_F32)
        memcpy (&value, src + 4 * i, 4);
      else
        {
          uint16_t bits;
          memcpy (&bits, src + 2 * i, 2);
          value = from == SF_SAFETENSORS_F16 ? sf_f16_to_f32 (bits) : sf_bf16_to_f32 (bits);
        }
      if (want == SF_DTYPE_F32)
        memcpy (dst + 4 * i, &value, 4);
      else
        {
          uint16_t half = sf_f32_to_f16 (value);
          if ((half & 0x7fffu) == 0x7c00u && isfinite (value))
            return FALSE;
          memcpy (dst + 2 * i, &half, 2);
        }
    }
  return TRUE;
}

static gboolean
read_entry (const Entry *entry, SfDType want, guint8 *out)
{
  gsize element = sf_dtype_size (want), offset = 0;
  for (int p = 0; p < entry->n_parts; p++)
    {
      const SfSafetensorsTensor *part = entry->parts[p];
      if (!convert (part->data, part->dtype, out + offset, want, part->numel))
        return FALSE;
      offset += part->numel * element;
    }
  if (entry->transposed)
    {
      /* Source [rows, cols] -> canonical [cols, rows]. */
      gsize rows = (gsize) entry->shape[1], cols = (gsize) entry->shape[0];
      g_autofree guint8 *source = g_memdup2 (out, rows * cols * element);
      for (gsize r = 0; r < rows; r++)
        for (gsize c = 0; c < cols; c++)
          memcpy (out + (c * rows + r) * element, source + (r * cols + c) * element, element);
    }
  return TRUE;
}

gboolean
sf_checkpoint_read (SfCheckpoint *checkpoint, const char *name, SfDType want, SfDType *got,
                    void **data_out, GError **error)
{
  if (want != SF_DTYPE_F16 && want != SF_DTYPE_F32)
    return fail (error, SF_CHECKPOINT_ERROR_INVALID, "tensor “%s” can only be read as f16 or f32, "
                 "not %s", name, sf_dtype_name (want));
  const Entry *entry = g_hash_table_lookup (checkpoint->entries, name);
  if (!entry)
    return fail (error, SF_CHECKPOINT_ERROR_NOT_FOUND, "%s has no tensor “%s”", checkpoint->path, name);
  gsize numel = 0;
  for (int p = 0; p < entry->n_parts; p++)
    numel += entry->parts[p]->numel;
  guint8 *out = g_try_malloc (MAX (numel, 1) * sf_dtype_size (want));
  if (!out)
    return fail (error, SF_CHECKPOINT_ERROR_INVALID, "out of memory reading tensor “%s” (%"
                 G_GSIZE_FORMAT " elements)", name, numel);
  if (!read_entry (entry, want, out))
    {
      g_message ("%s: tensor “%s” has values beyond fp16's range; it is kept as fp32",
                 sf_safetensors_get_path (entry->file), name);
      g_free (out);
      want = SF_DTYPE_F32;
      out = g_try_malloc (MAX (numel, 1) * 4);
      if (!out)
        return fail (error, SF_CHECKPOINT_ERROR_INVALID, "out of memory reading tensor “%s”", name);
      read_entry (entry, want, out);
    }
  /* The converted copy is what the caller keeps; the file's pages can go. */
  for (int p = 0; p < entry->n_parts; p++)
    sf_safetensors_release (entry->file, entry->parts[p]);
  *got = want;
  *data_out = out;
  return TRUE;
}

/* ---- Names and hashes ---------------------------------------------------- */

const char *
sf_arch_name (SfArch arch)
{
  switch (arch)
    {
    case SF_ARCH_SDXL_BASE: return "base";
    case SF_ARCH_SDXL_REFINER: return "refiner";
    case SF_ARCH_SDXL_INPAINT: return "inpaint";
    default: return "unknown";
    }
}

const char *
sf_checkpoint_layout_name (SfCheckpointLayout layout)
{
  switch (layout)
    {
    case SF_CHECKPOINT_DIFFUSERS: return "diffusers folder";
    case SF_CHECKPOINT_PARTS: return "UNet file + VAE file";
    default: return "single file";
    }
}

char *
sf_file_sha256 (const char *path, GError **error)
{
  FILE *stream = fopen (path, "rb");
  if (!stream)
    {
      int saved = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "%s: %s", path,
                   g_strerror (saved));
      return NULL;
    }
  g_autoptr (GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  const gsize chunk = 4 << 20;
  g_autofree guint8 *buffer = g_malloc (chunk);
  size_t got;
  while ((got = fread (buffer, 1, chunk, stream)) > 0)
    g_checksum_update (checksum, buffer, (gssize) got);
  gboolean failed = ferror (stream);
  fclose (stream);
  if (failed)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_IO, "%s: read error", path);
      return NULL;
    }
  return g_strdup (g_checksum_get_string (checksum));
}
