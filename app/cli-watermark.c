/* sfumato watermark --check FILE | --embed IN OUT: reads or writes
 * Sfumato's invisible watermark (render/watermark.h) in a PNG. Embedding
 * keeps the file's text chunks (the generation parameters). --check also
 * names the SDXL reference scripts' mark, which the same method carries.
 *
 * --check exits 0 when the tag is there, 1 when it is not, 2 when the
 * file cannot be read, so scripts can tell "unmarked" from "broken". */
#include "cli.h"

#include <stdio.h>

#include "png-io.h"
#include "png_text.h"
#include "watermark.h"

/* Errors exit 2: 1 means "no watermark". */
static int
fail (const char *message)
{
  sf_cli_fail ("watermark", "%s", message);
  return 2;
}

static int
check (const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SfImage) image = sf_png_load (path, &error);
  if (!image)
    return fail (error->message);
  double confidence = 0;
  int sdxl_bits = 0;
  gboolean ours = sf_watermark_has_tag (image->pixels, image->width, image->height,
                                        image->width * 4, &confidence);
  gboolean sdxl = !ours && sf_watermark_has_sdxl_mark (image->pixels, image->width, image->height,
                                                       image->width * 4, &sdxl_bits);
  char number[G_ASCII_DTOSTR_BUF_SIZE];
  g_ascii_formatd (number, sizeof number, "%.2f", confidence);
  if (ours)
    printf ("watermark: %s (confidence %s)\n", SF_WATERMARK_TAG, number);
  else if (sdxl)
    printf ("watermark: Stable Diffusion XL reference scripts' mark (%d of %d bits)\n", sdxl_bits,
            SF_WATERMARK_SDXL_BITS);
  else
    printf ("no watermark (confidence %s)\n", number);
  return ours || sdxl ? 0 : 1;
}

/* The text chunks of @path as sf_png_save takes them: key, value, …, NULL
 * (the generation parameters must survive the marking). */
static GStrv
text_chunks (const char *path, GError **error)
{
  g_autoptr (GHashTable) chunks = sf_png_text_read_file (path, error);
  if (!chunks)
    return NULL;
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  GHashTableIter iter;
  gpointer key, value;
  g_hash_table_iter_init (&iter, chunks);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      g_strv_builder_add (builder, key);
      g_strv_builder_add (builder, value);
    }
  return g_strv_builder_end (builder);
}

static int
embed (const char *in, const char *out)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SfImage) image = sf_png_load (in, &error);
  if (!image)
    return fail (error->message);
  g_auto (GStrv) text = text_chunks (in, &error);
  if (!text)
    return fail (error->message);
  if (!sf_watermark_embed_tag (image->pixels, image->width, image->height, image->width * 4,
                               &error)
      || !sf_png_save (out, image->pixels, image->width, image->height, image->width * 4,
                       SF_PNG_RGBA, (const char *const *) text, &error))
    return fail (error->message);
  return 0;
}

int
sf_cli_watermark (int argc, char **argv)
{
  gboolean do_check = FALSE, do_embed = FALSE;
  g_auto (GStrv) files = NULL;
  GOptionEntry entries[] = {
    { "check", 0, 0, G_OPTION_ARG_NONE, &do_check,
      "Say whether FILE holds the watermark (exit 0 yes, 1 no, 2 error)", NULL },
    { "embed", 0, 0, G_OPTION_ARG_NONE, &do_embed, "Write IN with the watermark to OUT", NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files, NULL, "FILE…" },
    { NULL },
  };
  if (!sf_cli_parse ("watermark", "Sfumato's invisible watermark in PNG files", entries, &argc,
                     &argv))
    return 2;
  guint count = files ? g_strv_length (files) : 0;
  if (do_check && !do_embed && count == 1)
    return check (files[0]);
  if (do_embed && !do_check && count == 2)
    return embed (files[0], files[1]);
  sf_cli_fail ("watermark", "use --check FILE or --embed IN OUT");
  return 2;
}
