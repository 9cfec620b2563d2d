#include "tokenizer.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "clip_text.h"

G_DEFINE_QUARK (sf-tokenizer-error-quark, sf_tokenizer_error)

/* Merge table: open addressing over (left, right) symbol pairs. */
#define MERGE_BITS 17
#define MERGE_SLOTS (1u << MERGE_BITS)
#define NO_KEY G_MAXUINT64
/* Vocabulary files larger than this are not CLIP's (it is ~1.4 MB). */
#define MAX_VOCAB_BYTES (64u << 20)

typedef struct {
  guint64 key;
  guint32 rank;
  int32_t merged;
} Merge;

struct SfTokenizer {
  char *source;
  GHashTable *vocab;     /* token string -> id + 1 (keys owned) */
  GPtrArray *tokens;     /* id -> token string (borrowed from vocab) */
  int32_t byte_symbol[256];      /* a byte inside a word */
  int32_t byte_end_symbol[256];  /* a byte ending a word: "x</w>" */
  Merge *merges;
};

void
sf_tokenizer_free (SfTokenizer *tokenizer)
{
  if (!tokenizer)
    return;
  g_clear_pointer (&tokenizer->tokens, g_ptr_array_unref);
  g_clear_pointer (&tokenizer->vocab, g_hash_table_unref);
  g_free (tokenizer->merges);
  g_free (tokenizer->source);
  g_free (tokenizer);
}

static gboolean G_GNUC_PRINTF (3, 4)
fail (GError **error, SfTokenizerErrorCode code, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error_literal (error, SF_TOKENIZER_ERROR, code, message);
  return FALSE;
}

/* GPT-2's reversible byte -> character map: printable Latin-1 bytes are
 * themselves, the other 68 bytes take U+0100 onwards in byte order. The
 * first 256 tokens of CLIP's vocabulary are these characters, printable
 * ones first. */
static gboolean
byte_is_printable (int b)
{
  return (b >= '!' && b <= '~') || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
}

static void
byte_characters (gunichar characters[256], int order[256])
{
  int n = 0, extra = 0;
  for (int b = 0; b < 256; b++)
    if (byte_is_printable (b))
      {
        characters[b] = (gunichar) b;
        order[n++] = b;
      }
  for (int b = 0; b < 256; b++)
    if (!byte_is_printable (b))
      {
        characters[b] = (gunichar) (256 + extra++);
        order[n++] = b;
      }
}

static SfTokenizer *
tokenizer_new (const char *source)
{
  SfTokenizer *tokenizer = g_new0 (SfTokenizer, 1);
  tokenizer->source = g_strdup (source);
  tokenizer->vocab = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  tokenizer->tokens = g_ptr_array_new ();
  tokenizer->merges = g_new (Merge, MERGE_SLOTS);
  for (guint i = 0; i < MERGE_SLOTS; i++)
    tokenizer->merges[i].key = NO_KEY;
  return tokenizer;
}

static int32_t
lookup (const SfTokenizer *tokenizer, const char *token)
{
  return (int32_t) GPOINTER_TO_INT (g_hash_table_lookup (tokenizer->vocab, token)) - 1;
}

static gboolean
add_token (SfTokenizer *tokenizer, char *token /* transfer full */, int32_t id, GError **error)
{
  if (id < 0 || id >= 1 << 20 || g_hash_table_contains (tokenizer->vocab, token))
    {
      fail (error, SF_TOKENIZER_ERROR_INVALID, "%s: token “%s” (id %d) is repeated or out of range",
            tokenizer->source, token, id);
      g_free (token);
      return FALSE;
    }
  g_hash_table_insert (tokenizer->vocab, token, GINT_TO_POINTER (id + 1));
  if ((guint) id >= tokenizer->tokens->len)
    g_ptr_array_set_size (tokenizer->tokens, id + 1);
  tokenizer->tokens->pdata[id] = token;
  return TRUE;
}

static Merge *
merge_slot (const SfTokenizer *tokenizer, guint64 key)
{
  guint slot = (guint) ((key * 0x9e3779b97f4a7c15u) >> (64 - MERGE_BITS));
  while (tokenizer->merges[slot].key != NO_KEY && tokenizer->merges[slot].key != key)
    slot = (slot + 1) & (MERGE_SLOTS - 1);
  return &tokenizer->merges[slot];
}

static guint64
pair_key (int32_t left, int32_t right)
{
  return ((guint64) (guint32) left << 32) | (guint32) right;
}

/* Up to @max_lines lines of @text, split in place (the pointers go into
 * @text; free only the array). */
static char **
split_lines (char *text, guint max_lines, guint *n_lines)
{
  char **lines = g_new0 (char *, max_lines + 1);
  guint n = 0;
  char *p = text;
  while (n < max_lines && p)
    {
      lines[n++] = p;
      p = strchr (p, '\n');
      if (p)
        *p++ = '\0';
    }
  *n_lines = n;
  return lines;
}

/* "a b" -> "a", "b" (in place); FALSE unless exactly two symbols. */
static gboolean
split_pair (char *line, char **right)
{
  char *space = strchr (line, ' ');
  if (!space || space == line || !space[1] || strchr (space + 1, ' '))
    return FALSE;
  *space = '\0';
  *right = space + 1;
  return TRUE;
}

/* Byte symbols, merge ranks and the special tokens, once the vocabulary
 * is known. @lines: merge lines "a b", in rank order. */
static gboolean
finish_tokenizer (SfTokenizer *tokenizer, char **lines, guint n_lines, GError **error)
{
  gunichar characters[256];
  int order[256];
  byte_characters (characters, order);
  for (int b = 0; b < 256; b++)
    {
      char utf8[8] = { 0 };
      g_unichar_to_utf8 (characters[b], utf8);
      g_autofree char *end = g_strconcat (utf8, "</w>", NULL);
      tokenizer->byte_symbol[b] = lookup (tokenizer, utf8);
      tokenizer->byte_end_symbol[b] = lookup (tokenizer, end);
      if (tokenizer->byte_symbol[b] < 0 || tokenizer->byte_end_symbol[b] < 0)
        return fail (error, SF_TOKENIZER_ERROR_INVALID, "%s lacks the token for byte 0x%02x: not a "
                     "CLIP vocabulary", tokenizer->source, b);
    }
  if (n_lines < SF_CLIP_MERGES)
    return fail (error, SF_TOKENIZER_ERROR_INVALID, "%s has %u merges; CLIP's vocabulary has %u",
                 tokenizer->source, n_lines, SF_CLIP_MERGES);
  GString *joined = g_string_new (NULL);
  for (guint rank = 0; rank < SF_CLIP_MERGES; rank++)
    {
      char *second;
      if (!split_pair (lines[rank], &second))
        {
          g_string_free (joined, TRUE);
          return fail (error, SF_TOKENIZER_ERROR_INVALID, "%s: merge %u (“%s”) is not two symbols",
                       tokenizer->source, rank + 1, lines[rank]);
        }
      g_string_assign (joined, lines[rank]);
      g_string_append (joined, second);
      int32_t left = lookup (tokenizer, lines[rank]), right = lookup (tokenizer, second);
      int32_t merged = lookup (tokenizer, joined->str);
      if (left < 0 || right < 0 || merged < 0)
        {
          g_string_free (joined, TRUE);
          return fail (error, SF_TOKENIZER_ERROR_INVALID, "%s: merge %u (“%s %s”) uses a token the "
                       "vocabulary lacks", tokenizer->source, rank + 1, lines[rank], second);
        }
      Merge *slot = merge_slot (tokenizer, pair_key (left, right));
      if (slot->key == NO_KEY) /* the first (best) rank of a pair counts */
        *slot = (Merge) { pair_key (left, right), rank, merged };
    }
  g_string_free (joined, TRUE);
  if (lookup (tokenizer, "<|startoftext|>") != SF_CLIP_BOS ||
      lookup (tokenizer, "<|endoftext|>") != SF_CLIP_EOS)
    return fail (error, SF_TOKENIZER_ERROR_INVALID, "%s: <|startoftext|> and <|endoftext|> are not "
                 "tokens %d and %d: not CLIP's vocabulary", tokenizer->source, SF_CLIP_BOS, SF_CLIP_EOS);
  for (guint id = 0; id < tokenizer->tokens->len; id++)
    if (!tokenizer->tokens->pdata[id])
      return fail (error, SF_TOKENIZER_ERROR_INVALID, "%s: token id %u is missing", tokenizer->source, id);
  return TRUE;
}

/* The (decompressed) contents, bounded in size; reading stops after
 * @max_lines lines when that is not 0. */
static GBytes *
read_file (const char *path, gboolean gzip, guint max_lines, GError **error)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GInputStream) stream = G_INPUT_STREAM (g_file_read (file, NULL, error));
  if (!stream)
    return NULL;
  if (gzip)
    {
      g_autoptr (GZlibDecompressor) decompressor = g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP);
      GInputStream *converted = g_converter_input_stream_new (stream, G_CONVERTER (decompressor));
      g_object_unref (stream);
      stream = converted;
    }
  g_autoptr (GByteArray) contents = g_byte_array_new ();
  guint8 buffer[65536];
  gssize got;
  guint lines = 0;
  while ((max_lines == 0 || lines < max_lines) &&
         (got = g_input_stream_read (stream, buffer, sizeof buffer, NULL, error)) > 0)
    {
      if (contents->len + (gsize) got > MAX_VOCAB_BYTES)
        {
          fail (error, SF_TOKENIZER_ERROR_INVALID, "%s is larger than any CLIP vocabulary", path);
          return NULL;
        }
      for (gssize i = 0; i < got; i++)
        lines += buffer[i] == '\n';
      g_byte_array_append (contents, buffer, (guint) got);
    }
  if (error && *error)
    {
      g_prefix_error (error, "%s: ", path);
      return NULL;
    }
  g_byte_array_append (contents, (const guint8 *) "", 1); /* NUL-terminated text */
  return g_byte_array_free_to_bytes (g_steal_pointer (&contents));
}

SfTokenizer *
sf_tokenizer_new_from_bpe (const char *path, GError **error)
{
  g_autoptr (GBytes) bytes = read_file (path, TRUE, SF_CLIP_MERGES + 1, error);
  if (!bytes)
    return NULL;
  g_autoptr (SfTokenizer) tokenizer = tokenizer_new (path);
  gsize size;
  g_autofree char *text = g_bytes_unref_to_data (g_steal_pointer (&bytes), &size);
  if (!g_utf8_validate (text, -1, NULL))
    {
      fail (error, SF_TOKENIZER_ERROR_INVALID, "%s is not UTF-8 text", path);
      return NULL;
    }
  /* Line 0 is a header; merges follow. The vocabulary is built as
   * OpenAI's simple_tokenizer.py builds it: bytes, bytes + </w>, one
   * token per merge, then the two special tokens. */
  guint n_lines;
  g_autofree char **lines = split_lines (text, SF_CLIP_MERGES + 1, &n_lines);
  if (n_lines < SF_CLIP_MERGES + 1)
    {
      fail (error, SF_TOKENIZER_ERROR_INVALID, "%s has %u merges; CLIP's vocabulary has %u", path,
            n_lines ? n_lines - 1 : 0, SF_CLIP_MERGES);
      return NULL;
    }
  gunichar characters[256];
  int order[256];
  byte_characters (characters, order);
  int32_t id = 0;
  for (int suffix = 0; suffix < 2; suffix++)
    for (int i = 0; i < 256; i++)
      {
        char utf8[8] = { 0 };
        g_unichar_to_utf8 (characters[order[i]], utf8);
        if (!add_token (tokenizer, g_strconcat (utf8, suffix ? "</w>" : "", NULL), id++, error))
          return NULL;
      }
  for (guint m = 1; m <= SF_CLIP_MERGES; m++)
    {
      const char *space = strchr (lines[m], ' ');
      if (!space || strchr (space + 1, ' '))
        {
          fail (error, SF_TOKENIZER_ERROR_INVALID, "%s: line %u (“%s”) is not a merge", path, m + 1,
                lines[m]);
          return NULL;
        }
      char *token = g_strdup (lines[m]);
      memmove (token + (space - lines[m]), space + 1, strlen (space + 1) + 1);
      if (!add_token (tokenizer, token, id++, error))
        return NULL;
    }
  if (!add_token (tokenizer, g_strdup ("<|startoftext|>"), id++, error) ||
      !add_token (tokenizer, g_strdup ("<|endoftext|>"), id++, error) ||
      !finish_tokenizer (tokenizer, lines + 1, n_lines - 1, error))
    return NULL;
  return g_steal_pointer (&tokenizer);
}

SfTokenizer *
sf_tokenizer_new_from_hf (const char *vocab_json, const char *merges_txt, GError **error)
{
  g_autofree char *source = g_strdup_printf ("%s + %s", vocab_json, merges_txt);
  g_autoptr (SfTokenizer) tokenizer = tokenizer_new (source);
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autoptr (GBytes) json = read_file (vocab_json, FALSE, 0, error);
  if (!json)
    return NULL;
  g_autoptr (GError) json_error = NULL;
  if (!json_parser_load_from_data (parser, g_bytes_get_data (json, NULL), -1, &json_error))
    {
      fail (error, SF_TOKENIZER_ERROR_INVALID, "%s: %s", vocab_json, json_error->message);
      return NULL;
    }
  JsonNode *root = json_parser_get_root (parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT (root))
    {
      fail (error, SF_TOKENIZER_ERROR_INVALID, "%s is not a JSON object", vocab_json);
      return NULL;
    }
  JsonObject *object = json_node_get_object (root);
  g_autoptr (GList) members = json_object_get_members (object);
  for (GList *l = members; l; l = l->next)
    {
      JsonNode *node = json_object_get_member (object, l->data);
      if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
        {
          fail (error, SF_TOKENIZER_ERROR_INVALID, "%s: the id of “%s” is not an integer", vocab_json,
                (char *) l->data);
          return NULL;
        }
      gint64 id = json_node_get_int (node);
      if (!add_token (tokenizer, g_strdup (l->data), (int32_t) CLAMP (id, -1, G_MAXINT32), error))
        return NULL;
    }

  g_autoptr (GBytes) merges = read_file (merges_txt, FALSE, 0, error);
  if (!merges)
    return NULL;
  /* As transformers' CLIPTokenizer reads it: strip, split lines, skip the
   * "#version" header, keep CLIP's 48,894 merges. */
  g_autofree char *text = g_strstrip (g_strdup (g_bytes_get_data (merges, NULL)));
  guint n_lines;
  g_autofree char **lines = split_lines (text, SF_CLIP_MERGES + 1, &n_lines);
  if (n_lines == 0 || !g_str_has_prefix (lines[0], "#"))
    {
      fail (error, SF_TOKENIZER_ERROR_INVALID, "%s does not start with a #version line", merges_txt);
      return NULL;
    }
  for (guint i = 1; i < n_lines; i++)
    g_strchomp (lines[i]); /* files written on Windows */
  if (!finish_tokenizer (tokenizer, lines + 1, n_lines - 1, error))
    return NULL;
  return g_steal_pointer (&tokenizer);
}

const char *
sf_tokenizer_get_source (const SfTokenizer *tokenizer)
{
  return tokenizer->source;
}

const char *
sf_tokenizer_get_token (const SfTokenizer *tokenizer, int32_t id)
{
  return id >= 0 && (guint) id < tokenizer->tokens->len ? tokenizer->tokens->pdata[id] : NULL;
}

char *
sf_tokenizer_get_text (const SfTokenizer *tokenizer, int32_t id)
{
  const char *token = sf_tokenizer_get_token (tokenizer, id);
  if (!token)
    return NULL;
  if (id == SF_CLIP_BOS || id == SF_CLIP_EOS)
    return g_strdup (token);
  gunichar characters[256];
  int order[256];
  byte_characters (characters, order);
  GString *bytes = g_string_new (NULL);
  for (const char *p = token; *p; p = g_utf8_next_char (p))
    {
      if (g_str_has_prefix (p, "</w>") && p[4] == '\0')
        {
          g_string_append (bytes, "</w>");
          break;
        }
      gunichar c = g_utf8_get_char (p);
      for (int b = 0; b < 256; b++)
        if (characters[b] == c)
          {
            g_string_append_c (bytes, (char) b);
            break;
          }
    }
  g_autofree char *raw = g_string_free (bytes, FALSE);
  return g_utf8_make_valid (raw, -1);
}

/* Byte-level BPE of one piece: repeatedly merge every occurrence (left to
 * right) of the adjacent pair with the lowest rank. */
static void
encode_piece (SfTokenizer *tokenizer, const char *piece, GArray *ids)
{
  gsize length = strlen (piece);
  if (length == 0)
    return;
  g_autofree int32_t *word = g_new (int32_t, length);
  for (gsize i = 0; i < length; i++)
    word[i] = i + 1 < length ? tokenizer->byte_symbol[(guint8) piece[i]]
                             : tokenizer->byte_end_symbol[(guint8) piece[i]];
  gsize n = length;
  while (n > 1)
    {
      guint32 best_rank = G_MAXUINT32;
      guint64 best_key = NO_KEY;
      int32_t best_merged = -1;
      for (gsize i = 0; i + 1 < n; i++)
        {
          const Merge *merge = merge_slot (tokenizer, pair_key (word[i], word[i + 1]));
          if (merge->key != NO_KEY && merge->rank < best_rank)
            {
              best_rank = merge->rank;
              best_key = merge->key;
              best_merged = merge->merged;
            }
        }
      if (best_key == NO_KEY)
        break;
      gsize out = 0;
      for (gsize i = 0; i < n; i++)
        {
          if (i + 1 < n && pair_key (word[i], word[i + 1]) == best_key)
            {
              word[out++] = best_merged;
              i++;
            }
          else
            word[out++] = word[i];
        }
      n = out;
    }
  g_array_append_vals (ids, word, (guint) n);
}

GArray *
sf_tokenizer_encode (SfTokenizer *tokenizer, const char *text)
{
  GArray *ids = g_array_new (FALSE, FALSE, sizeof (int32_t));
  g_autofree char *cleaned = sf_clip_clean (text ? text : "");
  g_autoptr (GPtrArray) pieces = sf_clip_split (cleaned);
  for (guint i = 0; i < pieces->len; i++)
    {
      const char *piece = pieces->pdata[i];
      /* Special tokens written in the text are those tokens, as in
       * OpenAI's tokenizer (its BPE cache starts with them). */
      int32_t special = strcmp (piece, "<|startoftext|>") == 0 ? SF_CLIP_BOS
                        : strcmp (piece, "<|endoftext|>") == 0 ? SF_CLIP_EOS : -1;
      if (special >= 0)
        g_array_append_val (ids, special);
      else
        encode_piece (tokenizer, piece, ids);
    }
  return ids;
}

/* ---- Windows ------------------------------------------------------------ */

void
sf_token_chunks_free (SfTokenChunks *chunks)
{
  if (!chunks)
    return;
  g_free (chunks->ids);
  g_free (chunks->ids_g);
  g_free (chunks->weights);
  g_free (chunks);
}

typedef struct {
  GArray *ids;       /* int32_t, whole windows */
  GArray *weights;   /* float */
  int32_t pending[SF_CLIP_CHUNK];
  float pending_weights[SF_CLIP_CHUNK];
  guint n_pending;
  int last_comma;    /* index in pending of the last comma, or -1 */
  int32_t comma;     /* the comma's token id */
} Chunker;

static void
close_window (Chunker *chunker)
{
  int32_t bos = SF_CLIP_BOS, eos = SF_CLIP_EOS;
  float one = 1.0f;
  g_array_append_val (chunker->ids, bos);
  g_array_append_val (chunker->weights, one);
  g_array_append_vals (chunker->ids, chunker->pending, chunker->n_pending);
  g_array_append_vals (chunker->weights, chunker->pending_weights, chunker->n_pending);
  for (guint i = chunker->n_pending; i < SF_CLIP_CHUNK + 1; i++)
    {
      g_array_append_val (chunker->ids, eos);
      g_array_append_val (chunker->weights, one);
    }
  chunker->n_pending = 0;
  chunker->last_comma = -1;
}

/* Adds one prompt token the way A1111 does (sd_hijack_clip.py's
 * tokenize_line with its default comma_padding_backtrack of 20): a full
 * window is closed when the next token comes, and when that token is not
 * a comma and the window's last comma is at most 20 tokens back, the
 * tokens after the comma move to the next window, so that a phrase is not
 * cut in two. (A comma arriving at a full window opens the next one
 * without counting as its last comma: A1111 forgets it too.) */
static void
chunk_add_token (Chunker *chunker, int32_t token, float weight)
{
  if (token == chunker->comma)
    chunker->last_comma = (int) chunker->n_pending;
  else if (chunker->n_pending == SF_CLIP_CHUNK && chunker->last_comma >= 0
           && SF_CLIP_CHUNK - chunker->last_comma <= SF_CLIP_COMMA_BACKTRACK)
    {
      guint from = (guint) chunker->last_comma + 1, moved = chunker->n_pending - from;
      int32_t ids[SF_CLIP_CHUNK];
      float weights[SF_CLIP_CHUNK];
      memcpy (ids, chunker->pending + from, moved * sizeof *ids);
      memcpy (weights, chunker->pending_weights + from, moved * sizeof *weights);
      chunker->n_pending = from;
      close_window (chunker);
      memcpy (chunker->pending, ids, moved * sizeof *ids);
      memcpy (chunker->pending_weights, weights, moved * sizeof *weights);
      chunker->n_pending = moved;
    }
  if (chunker->n_pending == SF_CLIP_CHUNK)
    close_window (chunker);
  chunker->pending[chunker->n_pending] = token;
  chunker->pending_weights[chunker->n_pending++] = weight;
}

/* ",</w>": what a comma on its own, or after a word, becomes. */
static int32_t
comma_token (SfTokenizer *tokenizer)
{
  g_autoptr (GArray) ids = sf_tokenizer_encode (tokenizer, ",");
  return ids->len == 1 ? g_array_index (ids, int32_t, 0) : -1;
}

SfTokenChunks *
sf_tokenizer_chunk (SfTokenizer *tokenizer, const SfPromptRun *runs, guint n_runs)
{
  Chunker chunker = {
    .ids = g_array_new (FALSE, FALSE, sizeof (int32_t)),
    .weights = g_array_new (FALSE, FALSE, sizeof (float)),
    .last_comma = -1,
    .comma = comma_token (tokenizer),
  };
  for (guint r = 0; r < n_runs; r++)
    {
      if (sf_prompt_run_is_break (&runs[r]))
        {
          close_window (&chunker);
          continue;
        }
      g_autoptr (GArray) ids = sf_tokenizer_encode (tokenizer, runs[r].text);
      for (guint i = 0; i < ids->len; i++)
        chunk_add_token (&chunker, g_array_index (ids, int32_t, i), (float) runs[r].weight);
    }
  if (chunker.n_pending > 0 || chunker.ids->len == 0)
    close_window (&chunker);

  SfTokenChunks *chunks = g_new0 (SfTokenChunks, 1);
  chunks->n_chunks = chunker.ids->len / SF_CLIP_WINDOW;
  chunks->ids = (int32_t *) g_array_free (chunker.ids, FALSE);
  chunks->weights = (float *) g_array_free (chunker.weights, FALSE);
  chunks->ids_g = g_memdup2 (chunks->ids, sizeof (int32_t) * SF_CLIP_WINDOW * chunks->n_chunks);
  for (guint c = 0; c < chunks->n_chunks; c++)
    {
      int32_t *window = chunks->ids_g + c * SF_CLIP_WINDOW;
      guint first_eos = 0;
      while (window[first_eos] != SF_CLIP_EOS)
        first_eos++;
      for (guint i = first_eos + 1; i < SF_CLIP_WINDOW; i++)
        window[i] = 0;
    }
  return chunks;
}

SfTokenChunks *
sf_tokenizer_encode_prompt (SfTokenizer *tokenizer, const char *prompt)
{
  g_autoptr (GArray) runs = sf_prompt_parse (prompt);
  return sf_tokenizer_chunk (tokenizer, (const SfPromptRun *) runs->data, runs->len);
}

/* ---- Finding the vocabulary --------------------------------------------------- */

/* Loads from @dir when it holds the .gz merge list or vocab.json +
 * merges.txt; *@found says whether it held either (a file that is there
 * but broken is an error, not a reason to look further). */
static SfTokenizer *
try_folder (const char *dir, gboolean allow_gz, GPtrArray *tried, gboolean *found, GError **error)
{
  *found = FALSE;
  if (g_ptr_array_find_with_equal_func (tried, dir, g_str_equal, NULL))
    return NULL;
  g_ptr_array_add (tried, g_strdup (dir));
  g_autofree char *gz = g_build_filename (dir, SF_CLIP_VOCAB_FILE, NULL);
  g_autofree char *vocab = g_build_filename (dir, "vocab.json", NULL);
  g_autofree char *merges = g_build_filename (dir, "merges.txt", NULL);
  *found = TRUE;
  if (allow_gz && g_file_test (gz, G_FILE_TEST_IS_REGULAR))
    return sf_tokenizer_new_from_bpe (gz, error);
  if (g_file_test (vocab, G_FILE_TEST_IS_REGULAR) && g_file_test (merges, G_FILE_TEST_IS_REGULAR))
    return sf_tokenizer_new_from_hf (vocab, merges, error);
  *found = FALSE;
  return NULL;
}

/* An environment variable holding an absolute path, or NULL. */
static const char *
env_path (const char *name)
{
  const char *value = g_getenv (name);
  return value && g_path_is_absolute (value) ? value : NULL;
}

static char *
hub_cache (void)
{
  if (env_path ("HF_HUB_CACHE"))
    return g_strdup (env_path ("HF_HUB_CACHE"));
  if (env_path ("HF_HOME"))
    return g_build_filename (env_path ("HF_HOME"), "hub", NULL);
  if (env_path ("XDG_CACHE_HOME"))
    return g_build_filename (env_path ("XDG_CACHE_HOME"), "huggingface", "hub", NULL);
  return g_build_filename (g_get_home_dir (), ".cache", "huggingface", "hub", NULL);
}

SfTokenizer *
sf_tokenizer_find (const char *model_path, GError **error)
{
  g_autoptr (GPtrArray) tried = g_ptr_array_new_with_free_func (g_free);
  gboolean found = FALSE;
  SfTokenizer *tokenizer;

  if (model_path && g_file_test (model_path, G_FILE_TEST_IS_DIR))
    {
      g_autofree char *dir = g_build_filename (model_path, "tokenizer", NULL);
      if ((tokenizer = try_folder (dir, FALSE, tried, &found, error)) || found)
        return tokenizer;
    }

  /* Read from the environment on each call (GLib caches its own answer),
   * so a test can point these anywhere. */
  g_autofree char *user_data = env_path ("XDG_DATA_HOME")
                               ? g_strdup (env_path ("XDG_DATA_HOME"))
                               : g_build_filename (g_get_home_dir (), ".local", "share", NULL);
  g_autofree char *user_dir = g_build_filename (user_data, "sfumato", "clip", NULL);
  if ((tokenizer = try_folder (user_dir, TRUE, tried, &found, error)) || found)
    return tokenizer;

  g_autoptr (GPtrArray) system_dirs = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (system_dirs, g_strdup (SF_CLIP_INSTALL_DIR));
  const char *data_dirs = g_getenv ("XDG_DATA_DIRS");
  if (!data_dirs || !*data_dirs)
    data_dirs = "/usr/local/share:/usr/share"; /* the XDG default */
  g_auto (GStrv) dirs = g_strsplit (data_dirs, ":", -1);
  for (guint i = 0; dirs[i]; i++)
    if (g_path_is_absolute (dirs[i]))
      g_ptr_array_add (system_dirs, g_build_filename (dirs[i], "sfumato", "clip", NULL));
  for (guint i = 0; i < system_dirs->len; i++)
    if ((tokenizer = try_folder (system_dirs->pdata[i], TRUE, tried, &found, error)) || found)
      return tokenizer;

  /* The hub cache: the snapshot refs/main names, else any snapshot. */
  g_autofree char *cache = hub_cache ();
  g_autofree char *repo = g_build_filename (cache, "models--openai--clip-vit-large-patch14", NULL);
  g_autofree char *ref_path = g_build_filename (repo, "refs", "main", NULL);
  g_autofree char *snapshots = g_build_filename (repo, "snapshots", NULL);
  g_autofree char *ref = NULL;
  if (g_file_get_contents (ref_path, &ref, NULL, NULL))
    {
      g_autofree char *dir = g_build_filename (snapshots, g_strstrip (ref), NULL);
      if ((tokenizer = try_folder (dir, FALSE, tried, &found, error)) || found)
        return tokenizer;
    }
  g_autoptr (GDir) listing = g_dir_open (snapshots, 0, NULL);
  const char *name;
  while (listing && (name = g_dir_read_name (listing)))
    {
      g_autofree char *dir = g_build_filename (snapshots, name, NULL);
      if ((tokenizer = try_folder (dir, FALSE, tried, &found, error)) || found)
        return tokenizer;
    }
  if (!listing)
    g_ptr_array_add (tried, g_build_filename (snapshots, "*", NULL));

  g_ptr_array_add (tried, NULL);
  g_autofree char *looked = g_strjoinv (", ", (char **) tried->pdata);
  fail (error, SF_TOKENIZER_ERROR_NOT_FOUND, "The CLIP vocabulary was not found. Put %s (from "
        "github.com/openai/CLIP, file clip/%s) into %s/. Looked in: %s", SF_CLIP_VOCAB_FILE,
        SF_CLIP_VOCAB_FILE, user_dir, looked);
  return NULL;
}
