#include "cli.h"

#include <stdio.h>
#include <string.h>

static const struct {
  const char *name;
  SfCliFunc func;
} SUBCOMMANDS[] = {
  { "info", sf_cli_info },
  { "make-checkpoint", sf_cli_make_checkpoint },
  { "generate", sf_cli_generate },
  { "unet", sf_cli_unet },
  { "vae-decode", sf_cli_vae_decode },
  { "vae-encode", sf_cli_vae_encode },
  { "encode-prompt", sf_cli_encode_prompt },
  { "history", sf_cli_history },
  { "tokenize", sf_cli_tokenize },
  { "watermark", sf_cli_watermark },
};

SfCliFunc
sf_cli_lookup (int argc, char **argv)
{
  if (argc < 2)
    return NULL;
  for (gsize i = 0; i < G_N_ELEMENTS (SUBCOMMANDS); i++)
    if (strcmp (argv[1], SUBCOMMANDS[i].name) == 0)
      return SUBCOMMANDS[i].func;
  return NULL;
}

int
sf_cli_fail (const char *subcommand, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *message = g_strdup_vprintf (format, args);
  va_end (args);
  fprintf (stderr, "sfumato %s: %s\n", subcommand, message);
  return 1;
}

gboolean
sf_cli_parse (const char *subcommand, const char *summary, GOptionEntry *entries,
              int *argc, char ***argv)
{
  g_autofree char *parameter = g_strdup_printf ("%s - %s", subcommand, summary);
  g_autoptr (GOptionContext) context = g_option_context_new (parameter);
  g_option_context_add_main_entries (context, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (context, argc, argv, &error))
    {
      fprintf (stderr, "sfumato %s: %s\nTry 'sfumato %s --help'.\n", subcommand,
               error->message, subcommand);
      return FALSE;
    }
  return TRUE;
}
