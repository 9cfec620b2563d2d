/* sfumato history list|search|show|export|import: the generation history
 * for scripts. */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "history-import.h"
#include "history.h"

static const char USAGE[] =
  "ACTION [ARGUMENTS] - the generation history\n\n"
  "Actions:\n"
  "  list                 generations, newest first\n"
  "  search TEXT          generations whose prompts contain the words (or \"phrases\")\n"
  "  show ID              every parameter of one generation, its parents and children\n"
  "  export ID... --output DIR   copy each image with a JSON sidecar\n"
  "  import FILE...       add PNGs made by A1111, ComfyUI or Sfumato";

typedef struct {
  gboolean json;
  int limit;
  int offset;
  char *model;
  char *mode;
  char *since;
  char *until;
  gboolean favourites;
  gboolean oldest_first;
  char *output;
} Options;

static void
options_clear (Options *options)
{
  g_free (options->model);
  g_free (options->mode);
  g_free (options->since);
  g_free (options->until);
  g_free (options->output);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Options, options_clear)

/* "2025-03-01" (local midnight) or a full ISO 8601 time. */
static gboolean
parse_time (const char *text, gint64 *unix_us)
{
  int year, month, day;
  char tail;
  g_autoptr (GDateTime) time = NULL;
  if (sscanf (text, "%d-%d-%d%c", &year, &month, &day, &tail) == 3)
    time = g_date_time_new_local (year, month, day, 0, 0, 0);
  else
    {
      g_autoptr (GTimeZone) local = g_time_zone_new_local ();
      time = g_date_time_new_from_iso8601 (text, local);
    }
  if (!time)
    return FALSE;
  *unix_us = g_date_time_to_unix (time) * G_USEC_PER_SEC + g_date_time_get_microsecond (time);
  return TRUE;
}

static gboolean
build_filter (const Options *options, SfHistoryFilter *filter, GError **error)
{
  sf_history_filter_init (filter);
  filter->model_name = options->model;
  filter->favourites_only = options->favourites;
  filter->sort = options->oldest_first ? SF_HISTORY_OLDEST_FIRST : SF_HISTORY_NEWEST_FIRST;
  SfGenerationMode mode;
  if (options->mode)
    {
      if (!sf_generation_mode_from_string (options->mode, &mode))
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       "unknown mode “%s” (txt2img, img2img, inpaint or outpaint)", options->mode);
          return FALSE;
        }
      filter->mode = mode;
    }
  if ((options->since && !parse_time (options->since, &filter->after_us))
      || (options->until && !parse_time (options->until, &filter->before_us)))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "dates are YYYY-MM-DD or ISO 8601 times");
      return FALSE;
    }
  return TRUE;
}

static void
print_json (JsonNode *node)
{
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  json_generator_set_pretty (generator, TRUE);
  json_generator_set_root (generator, node);
  g_autofree char *text = json_generator_to_data (generator, NULL);
  printf ("%s\n", text);
}

static JsonNode *
records_to_json (GPtrArray *records)
{
  JsonArray *array = json_array_new ();
  for (guint i = 0; i < records->len; i++)
    json_array_add_element (array, sf_generation_record_to_json (records->pdata[i]));
  JsonNode *node = json_node_new (JSON_NODE_ARRAY);
  json_node_take_array (node, array);
  return node;
}

/* One line: id, local time, mode, seed, model, the prompt's start. */
static void
print_line (const SfGenerationRecord *record)
{
  g_autoptr (GDateTime) utc = g_date_time_new_from_unix_utc (record->created_us / G_USEC_PER_SEC);
  g_autoptr (GDateTime) local = utc ? g_date_time_to_local (utc) : NULL;
  g_autofree char *time = local ? g_date_time_format (local, "%Y-%m-%d %H:%M:%S") : g_strdup ("?");
  g_autofree char *prompt = g_strdup (record->prompt);
  g_strdelimit (prompt, "\n\t", ' ');
  if (g_utf8_strlen (prompt, -1) > 60)
    {
      char *cut = g_utf8_offset_to_pointer (prompt, 59);
      strcpy (cut, "…");
    }
  printf ("%6" G_GINT64_FORMAT "  %s  %-8s %s%s  %-20" G_GUINT64_FORMAT "  %-24s  %s\n", record->id, time,
          sf_generation_mode_to_string (record->mode), record->favourite ? "★" : " ",
          record->status == SF_GENERATION_DONE ? " " : "!", record->seed,
          record->model_name ? record->model_name : "-", prompt);
}

static int
list_or_search (SfHistory *history, const Options *options, const char *search)
{
  SfHistoryFilter filter;
  g_autoptr (GError) error = NULL;
  if (!build_filter (options, &filter, &error))
    return sf_cli_fail ("history", "%s", error->message);
  filter.search = search;
  g_autoptr (GPtrArray) records = sf_history_query (history, &filter, (guint) MAX (options->offset, 0),
                                                    options->limit > 0 ? (guint) options->limit : G_MAXUINT,
                                                    &error);
  if (!records)
    return sf_cli_fail ("history", "%s", error->message);
  if (options->json)
    {
      g_autoptr (JsonNode) node = records_to_json (records);
      print_json (node);
    }
  else
    for (guint i = 0; i < records->len; i++)
      print_line (records->pdata[i]);
  return 0;
}

static gboolean
parse_id (const char *text, gint64 *id)
{
  guint64 value = 0;
  if (!g_ascii_string_to_unsigned (text, 10, 1, G_MAXINT64, &value, NULL))
    return FALSE;
  *id = (gint64) value;
  return TRUE;
}

static void
print_details (SfHistory *history, const SfGenerationRecord *r, GPtrArray *chain, GPtrArray *children)
{
  g_autofree char *time = sf_generation_format_time (r->created_us);
  g_autofree char *image = sf_history_get_file (history, r->image_path);
  printf ("generation %" G_GINT64_FORMAT "%s\n", r->id, r->favourite ? " ★" : "");
  printf ("  created:   %s\n", time);
  printf ("  mode:      %s\n", sf_generation_mode_to_string (r->mode));
  printf ("  status:    %s%s%s\n", sf_generation_status_to_string (r->status),
          r->status_message ? ": " : "", r->status_message ? r->status_message : "");
  printf ("  prompt:    %s\n", r->prompt);
  printf ("  negative:  %s\n", r->negative_prompt);
  printf ("  seed:      %" G_GUINT64_FORMAT "\n", r->seed);
  printf ("  sampler:   %s, %s schedule, %d steps, CFG %g\n", r->sampler, r->scheduler, r->steps,
          r->cfg_scale);
  if (r->mode != SF_GENERATION_TXT2IMG)
    printf ("  strength:  %g\n", r->strength);
  printf ("  size:      %dx%d at %d,%d\n", r->width_px, r->height_px, r->frame_x, r->frame_y);
  printf ("  model:     %s [%s]\n", r->model_name ? r->model_name : "-", r->model_hash ? r->model_hash : "-");
  if (r->refiner_name)
    printf ("  refiner:   %s [%s] from %g\n", r->refiner_name, r->refiner_hash ? r->refiner_hash : "-",
            r->refiner_switch);
  printf ("  precision: %s on %s, %.2f s\n", r->precision ? r->precision : "-", r->device ? r->device : "-",
          (double) r->duration_us / G_USEC_PER_SEC);
  if (r->document_path || r->document_id)
    printf ("  document:  %s\n", r->document_path ? r->document_path : r->document_id);
  if (image)
    printf ("  image:     %s\n", image);
  if (chain->len > 1)
    {
      printf ("  refined from:");
      for (guint i = 1; i < chain->len; i++)
        printf (" %" G_GINT64_FORMAT, ((SfGenerationRecord *) chain->pdata[i])->id);
      printf ("\n");
    }
  if (children->len)
    {
      printf ("  refined into:");
      for (guint i = 0; i < children->len; i++)
        printf (" %" G_GINT64_FORMAT, ((SfGenerationRecord *) children->pdata[i])->id);
      printf ("\n");
    }
}

static JsonArray *
ids_to_json (GPtrArray *records, guint start)
{
  JsonArray *array = json_array_new ();
  for (guint i = start; i < records->len; i++)
    json_array_add_int_element (array, ((SfGenerationRecord *) records->pdata[i])->id);
  return array;
}

static int
show (SfHistory *history, const Options *options, const char *id_text)
{
  gint64 id;
  if (!id_text || !parse_id (id_text, &id))
    return sf_cli_fail ("history", "show needs a generation id");
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) chain = sf_history_get_parent_chain (history, id, &error);
  g_autoptr (GPtrArray) children = chain ? sf_history_get_children (history, id, &error) : NULL;
  if (!children)
    return sf_cli_fail ("history", "%s", error->message);
  const SfGenerationRecord *record = chain->pdata[0];
  if (options->json)
    {
      g_autoptr (JsonNode) node = sf_generation_record_to_json (record);
      JsonObject *object = json_node_get_object (node);
      g_autofree char *parameters = sf_generation_record_format_parameters (record);
      json_object_set_string_member (object, "parameters", parameters);
      json_object_set_array_member (object, "parents", ids_to_json (chain, 1));
      json_object_set_array_member (object, "children", ids_to_json (children, 0));
      print_json (node);
    }
  else
    print_details (history, record, chain, children);
  return 0;
}

static gboolean
copy_file (SfHistory *history, const char *relative, const char *dir, const char *name, GError **error)
{
  if (!relative)
    return TRUE;
  g_autofree char *source = sf_history_get_file (history, relative);
  g_autofree char *target = g_build_filename (dir, name, NULL);
  g_autoptr (GFile) from = g_file_new_for_path (source);
  g_autoptr (GFile) to = g_file_new_for_path (target);
  return g_file_copy (from, to, G_FILE_COPY_OVERWRITE, NULL, NULL, NULL, error);
}

static gboolean
export_one (SfHistory *history, gint64 id, const char *dir, GError **error)
{
  g_autoptr (SfGenerationRecord) record = sf_history_get (history, id, error);
  if (!record)
    return FALSE;
  g_autofree char *base = record->image_path ? g_path_get_basename (record->image_path)
                                             : g_strdup_printf ("generation-%" G_GINT64_FORMAT ".png", id);
  if (g_str_has_suffix (base, ".png"))
    base[strlen (base) - 4] = '\0';
  g_autofree char *image = g_strconcat (base, ".png", NULL);
  g_autofree char *mask = g_strconcat (base, "-mask.png", NULL);
  g_autofree char *init = g_strconcat (base, "-init.png", NULL);
  if (!copy_file (history, record->image_path, dir, image, error)
      || !copy_file (history, record->mask_path, dir, mask, error)
      || !copy_file (history, record->init_path, dir, init, error))
    return FALSE;
  g_autoptr (JsonNode) node = sf_generation_record_to_json (record);
  g_autofree char *parameters = sf_generation_record_format_parameters (record);
  json_object_set_string_member (json_node_get_object (node), "parameters", parameters);
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  json_generator_set_pretty (generator, TRUE);
  json_generator_set_root (generator, node);
  g_autofree char *sidecar = g_strconcat (base, ".json", NULL);
  g_autofree char *sidecar_path = g_build_filename (dir, sidecar, NULL);
  if (!json_generator_to_file (generator, sidecar_path, error))
    return FALSE;
  printf ("%s\n", sidecar_path);
  return TRUE;
}

static int
export (SfHistory *history, const Options *options, char **ids)
{
  if (!options->output)
    return sf_cli_fail ("history", "export needs --output DIR");
  if (!ids[0])
    return sf_cli_fail ("history", "export needs generation ids");
  if (g_mkdir_with_parents (options->output, 0755) != 0)
    return sf_cli_fail ("history", "cannot create %s: %s", options->output, g_strerror (errno));
  for (int i = 0; ids[i]; i++)
    {
      gint64 id;
      g_autoptr (GError) error = NULL;
      if (!parse_id (ids[i], &id))
        return sf_cli_fail ("history", "“%s” is not a generation id", ids[i]);
      if (!export_one (history, id, options->output, &error))
        return sf_cli_fail ("history", "%s", error->message);
    }
  return 0;
}

static int
import (SfHistory *history, char **files)
{
  if (!files[0])
    return sf_cli_fail ("history", "import needs PNG files");
  int status = 0;
  for (int i = 0; files[i]; i++)
    {
      g_autoptr (GError) error = NULL;
      gint64 id = sf_history_import_png (history, files[i], &error);
      if (id)
        printf ("%" G_GINT64_FORMAT "\t%s\n", id, files[i]);
      else
        status = sf_cli_fail ("history", "%s", error->message);
    }
  return status;
}

int
sf_cli_history (int argc, char **argv)
{
  g_auto (Options) options = { 0 };
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &options.json, "Print JSON", NULL },
    { "limit", 'n', 0, G_OPTION_ARG_INT, &options.limit, "At most N generations", "N" },
    { "offset", 0, 0, G_OPTION_ARG_INT, &options.offset, "Skip the first N", "N" },
    { "model", 0, 0, G_OPTION_ARG_STRING, &options.model, "Only this model", "NAME" },
    { "mode", 0, 0, G_OPTION_ARG_STRING, &options.mode, "Only txt2img, img2img, inpaint or outpaint", "MODE" },
    { "since", 0, 0, G_OPTION_ARG_STRING, &options.since, "Made at or after", "DATE" },
    { "until", 0, 0, G_OPTION_ARG_STRING, &options.until, "Made before", "DATE" },
    { "favourites", 0, 0, G_OPTION_ARG_NONE, &options.favourites, "Only favourites", NULL },
    { "oldest-first", 0, 0, G_OPTION_ARG_NONE, &options.oldest_first, "Oldest first", NULL },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &options.output, "Export into DIR", "DIR" },
    { NULL },
  };
  if (!sf_cli_parse ("history", USAGE, entries, &argc, &argv))
    return 2;
  if (argc < 2)
    return sf_cli_fail ("history", "which action? list, search, show, export or import");
  const char *action = argv[1];
  g_autoptr (GError) error = NULL;
  g_autoptr (SfHistory) history = sf_history_open (NULL, &error);
  if (!history)
    return sf_cli_fail ("history", "%s", error->message);
  if (strcmp (action, "list") == 0)
    return list_or_search (history, &options, NULL);
  if (strcmp (action, "search") == 0)
    {
      if (argc < 3)
        return sf_cli_fail ("history", "search needs the text to look for");
      g_autofree char *text = g_strjoinv (" ", argv + 2);
      return list_or_search (history, &options, text);
    }
  if (strcmp (action, "show") == 0)
    return show (history, &options, argc > 2 ? argv[2] : NULL);
  if (strcmp (action, "export") == 0)
    return export (history, &options, argv + 2);
  if (strcmp (action, "import") == 0)
    return import (history, argv + 2);
  return sf_cli_fail ("history", "unknown action “%s”: list, search, show, export or import", action);
}
