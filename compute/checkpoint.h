/* SDXL checkpoints: one naming for every layout, hyper-parameters read
 * from the tensors.
 *
 * Layouts:
 *  - the single file of sd_xl_base_1.0.safetensors (and the refiner's);
 *  - the diffusers folder (model_index.json, unet/, vae/, text_encoder/,
 *    text_encoder_2/; tokenizer folders are the tokenizer's business);
 *  - parts: a UNet file (single-file names, with or without the text
 *    encoders and VAE, or a diffusers unet file) plus a separate VAE file
 *    (first_stage_model.*, bare encoder.* / decoder.*, or diffusers names),
 *    whose VAE replaces any in the UNet file.
 *
 * Canonical names are those of sd_xl_base_1.0.safetensors:
 *   model.diffusion_model.*                     UNet
 *   first_stage_model.*                         VAE
 *   conditioner.embedders.0.transformer.text_model.*   CLIP ViT-L (HF names)
 *   conditioner.embedders.1.model.*             OpenCLIP ViT-bigG
 * The refiner's single file keeps bigG under conditioner.embedders.0.model;
 * it is renamed to embedders.1 so bigG has one name everywhere. Diffusers
 * names are mapped at open; where the single file fuses what diffusers
 * splits (bigG's attn.in_proj_weight/_bias = q, k, v stacked along dim 0)
 * the canonical tensor is the fused one and reading it concatenates the
 * parts; diffusers' VAE mid-block attention weights [C,C] read as the
 * single file's 1×1 convolutions [C,C,1,1]; diffusers' bigG
 * text_projection.weight [proj,hidden] reads transposed, as OpenCLIP's
 * text_projection [hidden,proj] (used as x @ P).
 *
 * Buffers that are not weights (CLIP-L's I64 position_ids) are skipped;
 * any other non-float tensor in a model component, and pickled files
 * (.ckpt, .pt, .pth, .bin), are refused with a message saying why. */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "dtype.h"

G_BEGIN_DECLS

#define SF_CHECKPOINT_ERROR (sf_checkpoint_error_quark ())
GQuark sf_checkpoint_error_quark (void);

typedef enum {
  SF_CHECKPOINT_ERROR_INVALID,      /* the files break their format or each other */
  SF_CHECKPOINT_ERROR_PICKLE,       /* a pickled PyTorch file: refused */
  SF_CHECKPOINT_ERROR_UNSUPPORTED,  /* readable, but not an architecture Sfumato runs */
  SF_CHECKPOINT_ERROR_NOT_FOUND,    /* no such tensor, file or component */
} SfCheckpointErrorCode;

typedef enum {
  SF_CHECKPOINT_SINGLE_FILE,
  SF_CHECKPOINT_DIFFUSERS,
  SF_CHECKPOINT_PARTS,
} SfCheckpointLayout;

typedef enum {
  SF_ARCH_UNKNOWN,
  SF_ARCH_SDXL_BASE,
  SF_ARCH_SDXL_REFINER,
  SF_ARCH_SDXL_INPAINT,
} SfArch;

typedef enum {
  SF_CLIP_ACTIVATION_QUICK_GELU,  /* x * sigmoid(1.702 x): CLIP ViT-L */
  SF_CLIP_ACTIVATION_GELU,        /* erf GELU: OpenCLIP bigG */
} SfClipActivation;

#define SF_UNET_MAX_LEVELS 6
#define SF_VAE_MAX_LEVELS 6

typedef struct {
  int in_channels;            /* 4; 9 for inpainting (latent + mask + masked latent) */
  int out_channels;
  int model_channels;         /* 320 */
  int num_levels;             /* 3 base, 4 refiner */
  int channel_mult[SF_UNET_MAX_LEVELS];    /* width of level l = model_channels * mult */
  int num_res_blocks;         /* per level on the way down; up has one more */
  int transformer_depth[SF_UNET_MAX_LEVELS];         /* down side; 0: no attention */
  int transformer_depth_output[SF_UNET_MAX_LEVELS];  /* up side, by level */
  int transformer_depth_middle;
  int num_heads[SF_UNET_MAX_LEVELS];       /* 0 where the level has no attention */
  int head_dim[SF_UNET_MAX_LEVELS];
  int num_heads_middle;
  int head_dim_middle;
  int context_dim;            /* 2048 base (768 + 1280), 1280 refiner */
  int adm_in_channels;        /* 2816 base, 2560 refiner */
  int time_embed_dim;         /* 1280 */
  int addition_time_embed_dim;/* 256: Fourier width per time id; 0 if unknown */
  int num_time_ids;           /* 6 base (size, crop, target), 5 refiner (size, crop, aesthetic) */
  gboolean use_linear_projection;  /* proj_in/proj_out are linear (SDXL) */
} SfUNetConfig;

typedef struct {
  int vocab_size;             /* 49408 */
  int max_positions;          /* 77 */
  int hidden;                 /* 768 L, 1280 bigG */
  int layers;                 /* 12 L, 32 bigG */
  int heads;                  /* 12 L, 20 bigG */
  int head_dim;
  int intermediate;           /* 3072 L, 5120 bigG */
  int projection_dim;         /* 0 for L (no projection in SDXL), 1280 bigG */
  SfClipActivation activation;
} SfClipConfig;

typedef struct {
  int in_channels;            /* 3 */
  int base_channels;          /* 128 */
  int num_levels;             /* 4 */
  int channel_mult[SF_VAE_MAX_LEVELS];   /* 1, 2, 4, 4 */
  int num_res_blocks;         /* 2 (decoder levels have one more) */
  int z_channels;             /* 4 */
  double scaling_factor;      /* 0.13025 for SDXL */
} SfVaeConfig;

typedef struct {
  SfArch arch;
  gboolean has_unet, has_vae, has_clip_l, has_clip_g;
  SfUNetConfig unet;
  SfClipConfig clip_l;
  SfClipConfig clip_g;
  SfVaeConfig vae;
} SfModelConfig;

typedef struct SfCheckpoint SfCheckpoint;

/* @path: a .safetensors single file or a diffusers folder.
 * Returns: (transfer full) or NULL with @error set. */
SfCheckpoint *sf_checkpoint_open (const char *path, GError **error);
/* A UNet file and a separate VAE file (@vae_path may be NULL). */
SfCheckpoint *sf_checkpoint_open_parts (const char *unet_path, const char *vae_path, GError **error);
void sf_checkpoint_free (SfCheckpoint *checkpoint);

SfCheckpointLayout sf_checkpoint_get_layout (const SfCheckpoint *checkpoint);
const char *sf_checkpoint_get_path (const SfCheckpoint *checkpoint);
const SfModelConfig *sf_checkpoint_get_config (const SfCheckpoint *checkpoint);

gboolean sf_checkpoint_has (const SfCheckpoint *checkpoint, const char *name);
/* FALSE when there is no such tensor. */
gboolean sf_checkpoint_get_shape (const SfCheckpoint *checkpoint, const char *name, int *ndim,
                                  int64_t shape[4]);
/* Canonical names, sorted. Returns: (transfer container). */
GPtrArray *sf_checkpoint_list_names (const SfCheckpoint *checkpoint);

/* Reads tensor @name converted to @want (SF_DTYPE_F16 or SF_DTYPE_F32)
 * into a g_malloc'd buffer (*@data_out, caller frees), row-major in the
 * canonical shape. When @want is F16 and a BF16 or F32 value is finite but
 * beyond fp16's range, the whole tensor comes back as F32 (*@got says
 * which) and a g_message names it. */
gboolean sf_checkpoint_read (SfCheckpoint *checkpoint, const char *name, SfDType want,
                             SfDType *got, void **data_out, GError **error);

/* Where the weights are stored: tensors and bytes by source dtype (over
 * the source tensors behind the canonical ones). */
typedef struct {
  guint n_tensors;            /* canonical tensors */
  guint n_f16, n_bf16, n_f32; /* source tensors */
  guint64 total_bytes;        /* bytes of the source tensors */
  guint n_files;
} SfCheckpointStats;
void sf_checkpoint_get_stats (const SfCheckpoint *checkpoint, SfCheckpointStats *stats);

/* The file A1111 hashes: the single file, or the UNet file of parts;
 * NULL for a diffusers folder. */
const char *sf_checkpoint_get_hash_path (const SfCheckpoint *checkpoint);
/* SHA-256 of a whole file as 64 lowercase hex digits; A1111's "AutoV2"
 * model hash is its first 10. Returns: (transfer full) or NULL. */
char *sf_file_sha256 (const char *path, GError **error);

const char *sf_arch_name (SfArch arch);
const char *sf_checkpoint_layout_name (SfCheckpointLayout layout);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SfCheckpoint, sf_checkpoint_free)

G_END_DECLS
