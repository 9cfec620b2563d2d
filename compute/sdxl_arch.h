/* The published SDXL architectures as hyper-parameters, and the tensors a
 * single-file checkpoint of each holds (names, shapes, dtypes exactly as
 * in sd_xl_base_1.0.safetensors / sd_xl_refiner_1.0.safetensors). Used to
 * make full-size random-weight checkpoints for benchmarks and full-size
 * checks, never to load a model (loading reads shapes from the file). */
#pragma once

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

typedef struct {
  const char *name;                /* "sdxl-base", "sdxl-refiner" */
  /* UNet */
  int in_channels, out_channels, model_channels, levels;
  int channel_mult[4];
  int res_blocks;
  int transformer_depth[4];
  int transformer_depth_middle;
  int context_dim, adm_channels;
  /* Text encoders: 0 layers = absent. */
  int clip_l_layers, clip_l_hidden, clip_l_intermediate;
  int clip_g_layers, clip_g_hidden, clip_g_intermediate, clip_g_projection;
  const char *clip_g_prefix;
  int vocab, tokens;
  /* VAE */
  int vae_channels, vae_levels;
  int vae_mult[4];
  int vae_res_blocks, z_channels;
} SfSdxlArch;

extern const SfSdxlArch sf_sdxl_arch_base;
extern const SfSdxlArch sf_sdxl_arch_refiner;

/* "sdxl-base" or "sdxl-refiner"; NULL when unknown. */
const SfSdxlArch *sf_sdxl_arch_lookup (const char *name);

/* How a tensor's random values are drawn. */
typedef enum {
  SF_INIT_WEIGHT,      /* N(0, 1/fan_in): keeps activations at unit scale */
  SF_INIT_BIAS,        /* N(0, 0.02) */
  SF_INIT_NORM_SCALE,  /* 1 + N(0, 0.02) */
  SF_INIT_EMBEDDING,   /* N(0, 0.02) token/position tables */
  SF_INIT_POSITION_IDS,/* 0, 1, 2, ... (int64) */
  SF_INIT_LOGIT_SCALE, /* ln(100), a scalar */
} SfInitKind;

typedef struct {
  const char *name;
  gboolean int64;      /* I64 (position_ids) rather than the float dtype */
  int ndim;
  int64_t shape[4];
  SfInitKind init;
  int64_t fan_in;
} SfArchTensor;

/* "name<TAB>F16<TAB>[d0,d1,...]", the form of the key lists in tests/data.
 * Returns: (transfer full). */
char *sf_arch_tensor_describe (const SfArchTensor *tensor);

/* Calls @visit for every tensor of @arch, in a fixed order. */
void sf_sdxl_arch_enumerate (const SfSdxlArch *arch,
                             void (*visit) (const SfArchTensor *tensor, gpointer data),
                             gpointer data);

G_END_DECLS
