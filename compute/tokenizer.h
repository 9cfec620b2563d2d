/* OpenAI's CLIP tokenizer, as both SDXL text encoders use it: the text
 * cleanup and split of clip_text.h, then byte-level BPE with `</w>`
 * marking word ends, over a 49,408-token vocabulary (256 bytes, the same
 * with `</w>`, 48,894 merges, <|startoftext|> 49406, <|endoftext|> 49407).
 *
 * The vocabulary loads from OpenAI's merge list (bpe_simple_vocab_16e6
 * .txt.gz) or from a Hugging Face tokenizer folder's vocab.json +
 * merges.txt; both give the same tokenizer.
 *
 * Prompts become 77-token windows as A1111 makes them: the prompt's
 * attention runs (prompt.h) are tokenized one by one, tokens carry their
 * run's weight, every 75 tokens (or a BREAK) start a new chunk, and each
 * chunk is <|startoftext|> + up to 75 tokens + <|endoftext|> padding to
 * 77. When a chunk is full and its last comma is at most 20 tokens back,
 * the tokens after that comma start the next chunk instead (A1111's
 * default "comma backtrack"; ComfyUI keeps short words whole instead, so
 * the two differ only for prompts over 75 tokens). Encoder 1 (CLIP ViT-L) pads with
 * <|endoftext|>; encoder 2 (bigG) keeps the first <|endoftext|> and pads
 * with id 0 after it (SDXL's tokenizer_2 pads with "!", id 0; A1111 and
 * ComfyUI pad bigG with 0 too). BOS, EOS and padding weigh 1.0. */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "prompt.h"

G_BEGIN_DECLS

#define SF_TOKENIZER_ERROR (sf_tokenizer_error_quark ())
GQuark sf_tokenizer_error_quark (void);

typedef enum {
  SF_TOKENIZER_ERROR_NOT_FOUND,  /* no vocabulary file anywhere it was looked for */
  SF_TOKENIZER_ERROR_INVALID,    /* a vocabulary file that is not CLIP's */
} SfTokenizerErrorCode;

#define SF_CLIP_BOS 49406
#define SF_CLIP_EOS 49407
#define SF_CLIP_VOCAB_SIZE 49408
#define SF_CLIP_WINDOW 77       /* tokens per encoder pass */
#define SF_CLIP_CHUNK 75        /* prompt tokens per window */
#define SF_CLIP_COMMA_BACKTRACK 20 /* A1111's comma_padding_backtrack */
#define SF_CLIP_MERGES 48894
#define SF_CLIP_VOCAB_FILE "bpe_simple_vocab_16e6.txt.gz"

typedef struct SfTokenizer SfTokenizer;

/* From OpenAI's gzip'd merge list. Returns: (transfer full) or NULL. */
SfTokenizer *sf_tokenizer_new_from_bpe (const char *path, GError **error);
/* From a Hugging Face CLIPTokenizer's files. Returns: (transfer full) or NULL. */
SfTokenizer *sf_tokenizer_new_from_hf (const char *vocab_json, const char *merges_txt,
                                       GError **error);
/* Looks, in order, in @model_path's tokenizer/ folder (a diffusers model;
 * @model_path may be NULL or a file), $XDG_DATA_HOME/sfumato/clip/, the
 * installed data folder (and $XDG_DATA_DIRS/sfumato/clip/), and the
 * Hugging Face hub cache of openai/clip-vit-large-patch14. The error
 * says where to put the file when none is found.
 * Returns: (transfer full) or NULL. */
SfTokenizer *sf_tokenizer_find (const char *model_path, GError **error);
void sf_tokenizer_free (SfTokenizer *tokenizer);

/* The file(s) it was loaded from. */
const char *sf_tokenizer_get_source (const SfTokenizer *tokenizer);
/* The token's vocabulary string (bytes shown as CLIP's byte characters,
 * e.g. "cat</w>"), or NULL for an id outside the vocabulary. */
const char *sf_tokenizer_get_token (const SfTokenizer *tokenizer, int32_t id);
/* The same with the bytes decoded ("café</w>"; a token holding part of a
 * character shows U+FFFD). Returns: (transfer full) or NULL. */
char *sf_tokenizer_get_text (const SfTokenizer *tokenizer, int32_t id);

/* Token ids of @text, without <|startoftext|> / <|endoftext|> around.
 * Returns: (transfer full) (element-type int32_t). */
GArray *sf_tokenizer_encode (SfTokenizer *tokenizer, const char *text);

typedef struct {
  guint n_chunks;
  int32_t *ids;     /* [n_chunks][77], encoder 1: padded with <|endoftext|> */
  int32_t *ids_g;   /* [n_chunks][77], encoder 2: 0 after the first <|endoftext|> */
  float *weights;   /* [n_chunks][77] */
} SfTokenChunks;

/* Windows of the attention runs @runs (from sf_prompt_parse). */
SfTokenChunks *sf_tokenizer_chunk (SfTokenizer *tokenizer, const SfPromptRun *runs, guint n_runs);
/* sf_prompt_parse + sf_tokenizer_chunk. */
SfTokenChunks *sf_tokenizer_encode_prompt (SfTokenizer *tokenizer, const char *prompt);
void sf_token_chunks_free (SfTokenChunks *chunks);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SfTokenizer, sf_tokenizer_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SfTokenChunks, sf_token_chunks_free)

G_END_DECLS
