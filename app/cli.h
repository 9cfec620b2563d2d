/* The headless command line: `sfumato SUBCOMMAND [OPTIONS]`. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A subcommand's entry: returns the process exit status. */
typedef int (*SfCliFunc) (int argc, char **argv);

/* The subcommand named by argv[1], or NULL when argv[1] is not one (the
 * window opens then). */
SfCliFunc sf_cli_lookup (int argc, char **argv);

/* Prints "sfumato SUBCOMMAND: message" to stderr; returns 1. */
int sf_cli_fail (const char *subcommand, const char *format, ...) G_GNUC_PRINTF (2, 3);

/* Parses options with @entries; on error prints it with the usage hint. */
gboolean sf_cli_parse (const char *subcommand, const char *summary, GOptionEntry *entries,
                       int *argc, char ***argv);

int sf_cli_info (int argc, char **argv);
int sf_cli_make_checkpoint (int argc, char **argv);
int sf_cli_generate (int argc, char **argv);
int sf_cli_unet (int argc, char **argv);
int sf_cli_vae_decode (int argc, char **argv);
int sf_cli_vae_encode (int argc, char **argv);
int sf_cli_encode_prompt (int argc, char **argv);
int sf_cli_history (int argc, char **argv);
int sf_cli_tokenize (int argc, char **argv);
int sf_cli_watermark (int argc, char **argv);

G_END_DECLS
