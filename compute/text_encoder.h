/* CLIP text encoders: OpenAI's ViT-L/14 text tower (transformers' names,
 * quick-GELU) and OpenCLIP's ViT-bigG/14 text tower (OpenCLIP's names,
 * GELU, fused q/k/v, text projection), as SDXL uses them: pre-LN
 * transformer layers with a causal mask; SDXL takes the hidden states
 * after the penultimate layer (no final norm) from both, and the pooled
 * output (final norm at the first EOS token, then the projection) from
 * bigG. Sizes come from the checkpoint's shapes. */
#pragma once

#include <gio/gio.h>

#include "checkpoint.h"
#include "ops.h"

G_BEGIN_DECLS

typedef struct SfTextEncoder SfTextEncoder;

typedef enum {
  SF_TEXT_NAMES_TRANSFORMERS,  /* embeddings.token_embedding, encoder.layers.N.self_attn.q_proj */
  SF_TEXT_NAMES_OPENCLIP,      /* token_embedding, transformer.resblocks.N.attn.in_proj_weight */
} SfTextNames;

#define SF_TEXT_EOS 49407

/* @prefix: e.g. "conditioner.embedders.0.transformer.text_model." or
 * "conditioner.embedders.1.model.". @act: SF_ACT_QUICK_GELU for CLIP-L,
 * SF_ACT_GELU for bigG. Returns: (transfer full) or NULL. */
SfTextEncoder *sf_text_encoder_load (SfCheckpoint *checkpoint, SfDevice *device, const char *prefix,
                               SfTextNames names, SfActivation act, SfDType weight_dtype,
                               int head_dim, GError **error);
void sf_text_encoder_free (SfTextEncoder *clip);

int sf_text_encoder_get_hidden (const SfTextEncoder *clip);
int sf_text_encoder_get_tokens (const SfTextEncoder *clip);       /* 77 */
int sf_text_encoder_get_layers (const SfTextEncoder *clip);
/* 0 when the model has no text projection. */
int sf_text_encoder_get_projection (const SfTextEncoder *clip);
guint64 sf_text_encoder_weight_bytes (const SfTextEncoder *clip);

/* Encodes @batch rows of token ids [batch, tokens].
 * penultimate: [batch, tokens, hidden] out (hidden states after all but the
 * last layer). pooled: [batch, projection] out, or NULL to skip it. */
gboolean sf_text_encoder_encode (SfTextEncoder *clip, const gint32 *ids, int batch, float *penultimate,
                              float *pooled, GCancellable *cancellable, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SfTextEncoder, sf_text_encoder_free)

G_END_DECLS
