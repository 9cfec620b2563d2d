/* Internals of the VAE shared by vae.c (loading, whole-image passes) and
 * vae_bands.c (the banded path for images too large for one pass). */
#pragma once

#include "graph.h"
#include "vae.h"

#define P "first_stage_model."
#define VAE_EPS 1e-6f
#define MAX_LEVELS 8

typedef struct {
  SfTensor *norm1_g, *norm1_b, *conv1_w, *conv1_b;
  SfTensor *norm2_g, *norm2_b, *conv2_w, *conv2_b;
  SfTensor *shortcut_w, *shortcut_b;
} ResBlock;

typedef struct {
  SfTensor *norm_g, *norm_b, *q, *q_b, *k, *k_b, *v, *v_b, *proj, *proj_b;
} AttnBlock;

typedef struct {
  ResBlock *blocks;
  int block_count;
  SfTensor *resample_w, *resample_b;   /* encoder: downsample; decoder: upsample */
} Level;

typedef struct {
  gboolean present;
  SfTensor *conv_in_w, *conv_in_b;
  Level levels[MAX_LEVELS];
  int level_count;
  ResBlock mid1, mid2;
  AttnBlock attn;
  SfTensor *norm_out_g, *norm_out_b, *conv_out_w, *conv_out_b;
  SfTensor *quant_w, *quant_b;          /* quant_conv / post_quant_conv (1×1) */
  int in_channels, out_channels;
  int max_channels;
} Coder;

struct SfVae {
  SfDevice *device;
  SfArena *weights;
  GPtrArray *tensors;
  Coder encoder, decoder;
  int latent_channels;
  int band_rows;               /* 0: choose; > 0: banded, at most this many rows */
  guint64 weight_bytes;
};


/* Recorders of the parts (vae.c). */
SfTensor *sf_vae_resblock_forward (SfGraph *g, const ResBlock *rb, const SfTensor *x);
SfTensor *sf_vae_mid_forward (SfGraph *g, const Coder *coder, const SfTensor *x);
/* The latent-resolution ends of the coders: post_quant_conv, conv_in and
 * the mid-block of the decoder; the mid-block, norm_out + SiLU, conv_out
 * and quant_conv of the encoder (into @out). */
SfTensor *sf_vae_decoder_head (SfGraph *g, const Coder *dec, const SfTensor *z);
gboolean sf_vae_record_encoder_tail (SfGraph *g, const Coder *enc, const SfTensor *x,
                                     SfTensor *out);

/* The banded path (vae_bands.c): NCHW host arrays in and out as the
 * public functions take them. */
gboolean sf_vae_decode_banded (SfVae *vae, const float *latent, int h, int w, float *image,
                               GCancellable *cancellable, GError **error);
gboolean sf_vae_encode_banded (SfVae *vae, const float *image, int height, int width,
                               float *moments, GCancellable *cancellable, GError **error);
