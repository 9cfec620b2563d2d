/* Checkpoint and text figures: opening a full-size SDXL checkpoint (its
 * real header over a sparse file, so no weights are needed), converting
 * weights, hashing, tokenizing and parsing prompts. Not a test.
 *
 *   sfumato-bench-model [--vocab FILE.gz] [--model PATH]
 *
 * --model also times opening and reading every tensor of a real model. */
#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <unistd.h>

#include "checkpoint.h"
#include "prompt.h"
#include "safetensors.h"
#include "sdxl_arch.h"
#include "tokenizer.h"

static int
compare_doubles (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

/* Median seconds of @runs calls. */
static double
median_seconds (void (*func) (gpointer), gpointer data, int runs)
{
  g_autofree double *times = g_new (double, runs);
  for (int r = 0; r < runs; r++)
    {
      gint64 start = g_get_monotonic_time ();
      func (data);
      times[r] = (g_get_monotonic_time () - start) / 1e6;
    }
  qsort (times, (gsize) runs, sizeof (double), compare_doubles);
  return times[runs / 2];
}

static void
add_tensor (const SfArchTensor *tensor, gpointer data)
{
  GString *header = ((gpointer *) data)[0];
  guint64 *offset = ((gpointer *) data)[1];
  guint64 size = tensor->int64 ? 8 : 2;
  g_autoptr (GString) shape = g_string_new ("[");
  for (int d = 0; d < tensor->ndim; d++)
    {
      g_string_append_printf (shape, "%s%" G_GINT64_FORMAT, d ? "," : "", tensor->shape[d]);
      size *= (guint64) tensor->shape[d];
    }
  g_string_append_c (shape, ']');
  g_string_append_printf (header, "%s\"%s\":{\"dtype\":\"%s\",\"shape\":%s,\"data_offsets\":[%"
                          G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT "]}", header->len > 1 ? "," : "",
                          tensor->name, tensor->int64 ? "I64" : "F16", shape->str, *offset, *offset + size);
  *offset += size;
}

/* SDXL base's header over a sparse data section. */
static char *
write_sparse_base (const char *dir, gsize *header_bytes)
{
  g_autoptr (GString) header = g_string_new ("{");
  guint64 offset = 0;
  gpointer data[] = { header, &offset };
  sf_sdxl_arch_enumerate (&sf_sdxl_arch_base, add_tensor, data);
  g_string_append_c (header, '}');
  char *path = g_build_filename (dir, "sdxl-base-sparse.safetensors", NULL);
  int fd = g_open (path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
  guint8 length[8];
  for (int b = 0; b < 8; b++)
    length[b] = (guint8) ((guint64) header->len >> (8 * b));
  if (fd < 0 || write (fd, length, 8) != 8 || write (fd, header->str, header->len) != (gssize) header->len ||
      ftruncate (fd, (off_t) (8 + header->len + offset)) != 0)
    g_error ("cannot write %s", path);
  close (fd);
  *header_bytes = header->len;
  return path;
}

static void
open_safetensors (gpointer path)
{
  g_autoptr (SfSafetensors) file = sf_safetensors_open (path, NULL);
  g_assert (file);
}

static void
open_checkpoint (gpointer path)
{
  g_autoptr (SfCheckpoint) checkpoint = sf_checkpoint_open (path, NULL);
  g_assert (checkpoint);
}

typedef struct {
  SfCheckpoint *checkpoint;
  GPtrArray *names;
  SfDType want;
} ReadAll;

static void
read_all (gpointer data)
{
  ReadAll *r = data;
  for (guint i = 0; i < r->names->len; i++)
    {
      void *values = NULL;
      SfDType got;
      if (!sf_checkpoint_read (r->checkpoint, r->names->pdata[i], r->want, &got, &values, NULL))
        g_error ("cannot read %s", (char *) r->names->pdata[i]);
      g_free (values);
    }
}

static void
bench_reads (const char *label, const char *path, const char *vae)
{
  g_autoptr (GError) error = NULL;
  gint64 start = g_get_monotonic_time ();
  g_autoptr (SfCheckpoint) checkpoint = vae ? sf_checkpoint_open_parts (path, vae, &error)
                                            : sf_checkpoint_open (path, &error);
  if (!checkpoint)
    g_error ("%s", error->message);
  double open_s = (g_get_monotonic_time () - start) / 1e6;
  SfCheckpointStats stats;
  sf_checkpoint_get_stats (checkpoint, &stats);
  g_autoptr (GPtrArray) names = sf_checkpoint_list_names (checkpoint);
  printf ("%-40s open %.1f ms, %u tensors, %.1f MiB\n", label, open_s * 1e3, stats.n_tensors,
          stats.total_bytes / 1048576.0);
  const SfDType wants[] = { SF_DTYPE_F16, SF_DTYPE_F32 };
  for (gsize w = 0; w < G_N_ELEMENTS (wants); w++)
    {
      ReadAll r = { checkpoint, names, wants[w] };
      read_all (&r); /* page the file in */
      double seconds = median_seconds (read_all, &r, 3);
      printf ("%-40s read all as %s: %.1f ms, %.0f MB/s of stored weights\n", "", sf_dtype_name (wants[w]),
              seconds * 1e3, stats.total_bytes / seconds / 1e6);
    }
}

typedef struct {
  SfTokenizer *tokenizer;
  const char *const *prompts;
  int n;
} Encode;

#define REPEATS 100

static void
encode_all (gpointer data)
{
  Encode *e = data;
  for (int r = 0; r < REPEATS; r++)
    for (int i = 0; i < e->n; i++)
      sf_token_chunks_free (sf_tokenizer_encode_prompt (e->tokenizer, e->prompts[i]));
}

static void
load_vocab (gpointer path)
{
  SfTokenizer *tokenizer = sf_tokenizer_new_from_bpe (path, NULL);
  g_assert (tokenizer);
  sf_tokenizer_free (tokenizer);
}

static void
parse_prompts (gpointer data)
{
  Encode *e = data;
  for (int r = 0; r < REPEATS; r++)
    for (int i = 0; i < e->n; i++)
      g_array_unref (sf_prompt_parse (e->prompts[i]));
}

static void
hash_file (gpointer path)
{
  g_free (sf_file_sha256 (path, NULL));
}

int
main (int argc, char **argv)
{
  g_autofree char *vocab = NULL, *model = NULL;
  GOptionEntry entries[] = {
    { "vocab", 0, 0, G_OPTION_ARG_FILENAME, &vocab, "CLIP merge list (.gz)", "FILE" },
    { "model", 0, 0, G_OPTION_ARG_FILENAME, &model, "Also time a real checkpoint", "PATH" },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- checkpoint and tokenizer figures");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, NULL))
    return 2;
  if (!vocab)
    vocab = g_strdup (SF_BENCH_CLIP_VOCAB);

  g_autofree char *dir = g_dir_make_tmp ("sf-bench-model-XXXXXX", NULL);
  gsize header_bytes;
  g_autofree char *sparse = write_sparse_base (dir, &header_bytes);
  printf ("SDXL base header (%" G_GSIZE_FORMAT " KiB, 2515 tensors, sparse file)\n", header_bytes / 1024);
  printf ("  safetensors open + validate:   %.2f ms\n", median_seconds (open_safetensors, sparse, 9) * 1e3);
  printf ("  checkpoint open (names, config): %.2f ms\n", median_seconds (open_checkpoint, sparse, 9) * 1e3);
  g_remove (sparse);

  /* SHA-256 over a 256 MiB file of zeros (sparse: no disk read). */
  g_autofree char *blob = g_build_filename (dir, "blob", NULL);
  int fd = g_open (blob, O_CREAT | O_TRUNC | O_WRONLY, 0644);
  if (fd < 0 || ftruncate (fd, 256 << 20) != 0)
    g_error ("cannot write %s", blob);
  close (fd);
  double hash_s = median_seconds (hash_file, blob, 3);
  printf ("SHA-256 (GChecksum): %.0f MB/s, so %.0f s for the 6.94 GB SDXL base file\n",
          256 * 1.048576 / hash_s, 6.94e9 / (256 * 1048576.0 / hash_s));
  g_remove (blob);
  g_rmdir (dir);

  bench_reads ("tiny-sdxl.safetensors (F16)", SF_BENCH_DATA "/tiny-sdxl.safetensors", NULL);
  bench_reads ("tiny-sdxl/ (diffusers, F16)", SF_BENCH_DATA "/tiny-sdxl", NULL);
  bench_reads ("tiny-sdxl-refiner.safetensors (BF16)", SF_BENCH_DATA "/tiny-sdxl-refiner.safetensors", NULL);
  if (model)
    bench_reads (model, model, NULL);

  printf ("tokenizer load (%s): %.1f ms\n", vocab, median_seconds (load_vocab, vocab, 5) * 1e3);
  g_autoptr (GError) error = NULL;
  g_autoptr (SfTokenizer) tokenizer = sf_tokenizer_new_from_bpe (vocab, &error);
  if (!tokenizer)
    g_error ("%s", error->message);
  static const char *const PROMPTS[] = {
    "a photo of a cat sitting on a red chair",
    "masterpiece, (best quality:1.2), [[blurry]], 1girl, solo, (detailed eyes), looking at viewer",
    "cinematic still of a red sports car in the rain at night, neon reflections, 35mm, bokeh BREAK "
    "((wet asphalt)), [people], highly detailed, 8k uhd, dslr, soft lighting, film grain, Fujifilm XT3",
    "café crème brûlée, 東京タワー, привет мир 🐱 &amp; it's o'clock",
  };
  Encode e = { tokenizer, PROMPTS, G_N_ELEMENTS (PROMPTS) };
  double encode_s = median_seconds (encode_all, &e, 21);
  printf ("tokenize + chunk: %.1f µs per prompt (%d prompts of 9 to 60 tokens)\n",
          encode_s * 1e6 / e.n / REPEATS, e.n);
  double parse_s = median_seconds (parse_prompts, &e, 21);
  printf ("attention parse:  %.2f µs per prompt\n", parse_s * 1e6 / e.n / REPEATS);
  return 0;
}
