/* sfumato: the window without arguments, a headless subcommand with one. */
#include <locale.h>
#include <stdio.h>

#include "cli.h"
#ifdef SF_HAVE_UI
#include "application.h"
#endif

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  SfCliFunc subcommand = sf_cli_lookup (argc, argv);
  if (subcommand)
    return subcommand (argc - 1, argv + 1);
#ifdef SF_HAVE_UI
  g_autoptr (SfApplication) application = sf_application_new ();
  return g_application_run (G_APPLICATION (application), argc, argv);
#else
  fprintf (stderr, "sfumato: built without the user interface; use a subcommand\n");
  return 2;
#endif
}
