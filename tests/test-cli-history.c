/* `sfumato history`: the built binary run against a history made here. */
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/wait.h>

#include "history-import.h"
#include "history-test.h"
#include "png-io.h"

typedef struct {
  char *home;      /* XDG_DATA_HOME for the child */
  SfHistory *history;
  gint64 parent, child, plain;
} Fixture;

static int
run_sfumato (Fixture *f, const char *const *args, char **out, char **err)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_ptr_array_add (argv, (char *) SF_SFUMATO_PATH);
  g_ptr_array_add (argv, (char *) "history");
  for (int i = 0; args[i]; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);
  g_auto (GStrv) env = g_environ_setenv (g_get_environ (), "XDG_DATA_HOME", f->home, TRUE);
  int status = 0;
  g_autoptr (GError) error = NULL;
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, env, G_SPAWN_DEFAULT, NULL, NULL, out,
                               err, &status, &error));
  g_assert_no_error (error);
  return g_spawn_check_wait_status (status, NULL) ? 0 : (WIFEXITED (status) ? WEXITSTATUS (status) : -1);
}

static JsonNode *
run_json (Fixture *f, const char *const *args)
{
  g_autofree char *out = NULL, *err = NULL;
  int status = run_sfumato (f, args, &out, &err);
  if (status != 0)
    g_error ("sfumato history failed (%d): %s", status, err);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  g_assert_true (json_parser_load_from_data (parser, out, -1, &error));
  return json_node_copy (json_parser_get_root (parser));
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  f->home = sf_history_test_dir ();
  g_autofree char *dir = g_build_filename (f->home, "sfumato", NULL);
  g_autoptr (GError) error = NULL;
  f->history = sf_history_open (dir, &error);
  g_assert_no_error (error);
  g_autofree guint8 *pixels = sf_history_test_pixels (40, 30, 2);
  SfHistoryImage image = { .pixels = pixels, .width_px = 40, .height_px = 30, .stride = 160 };
  g_autoptr (SfGenerationRecord) a = sf_history_test_record (1);
  g_free (a->prompt);
  a->prompt = g_strdup ("a lighthouse in a storm");
  a->seed = G_MAXUINT64 - 1;
  f->parent = sf_history_insert (f->history, a, &image, NULL, NULL, &error);
  g_autoptr (SfGenerationRecord) b = sf_history_test_record (2);
  g_free (b->prompt);
  b->prompt = g_strdup ("a lighthouse at dawn");
  b->parent_id = f->parent;
  b->mode = SF_GENERATION_IMG2IMG;
  b->strength = 0.4;
  f->child = sf_history_insert (f->history, b, &image, &image, NULL, &error);
  g_autoptr (SfGenerationRecord) c = sf_history_test_record (3);
  g_free (c->prompt);
  c->prompt = g_strdup ("portrait of a cat");
  c->favourite = TRUE;
  f->plain = sf_history_insert (f->history, c, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  sf_history_free (f->history);
  g_free (f->home);
}

static void
test_lists_and_searches_as_json (Fixture *f, gconstpointer data)
{
  g_autoptr (JsonNode) all = run_json (f, (const char *[]) { "list", "--json", NULL });
  JsonArray *array = json_node_get_array (all);
  g_assert_cmpuint (json_array_get_length (array), ==, 3);
  /* Newest first: the test records' times grow with their index. */
  JsonObject *first = json_array_get_object_element (array, 0);
  g_assert_cmpint (json_object_get_int_member (first, "id"), ==, f->plain);
  g_assert_true (json_object_get_boolean_member (first, "favourite"));
  JsonObject *last = json_array_get_object_element (array, 2);
  g_assert_cmpstr (json_object_get_string_member (last, "seed"), ==, "18446744073709551614");
  g_assert_cmpstr (json_object_get_string_member (last, "prompt"), ==, "a lighthouse in a storm");
  g_assert_cmpstr (json_object_get_string_member (last, "created"), ==, "2023-11-14T22:13:20.001000Z");
  JsonArray *weights = json_object_get_array_member (last, "prompt_weights");
  g_assert_cmpuint (json_array_get_length (weights), ==, 2);

  g_autoptr (JsonNode) found = run_json (f, (const char *[]) { "search", "--json", "lighthouse", NULL });
  g_assert_cmpuint (json_array_get_length (json_node_get_array (found)), ==, 2);
  g_autoptr (JsonNode) phrase = run_json (f, (const char *[]) { "search", "--json", "\"at dawn\"", NULL });
  g_assert_cmpuint (json_array_get_length (json_node_get_array (phrase)), ==, 1);
  g_autoptr (JsonNode) filtered = run_json (
    f, (const char *[]) { "list", "--json", "--mode", "img2img", "--oldest-first", NULL });
  g_assert_cmpuint (json_array_get_length (json_node_get_array (filtered)), ==, 1);
  g_autoptr (JsonNode) favourites = run_json (f, (const char *[]) { "list", "--json", "--favourites", NULL });
  g_assert_cmpuint (json_array_get_length (json_node_get_array (favourites)), ==, 1);
  g_autoptr (JsonNode) page = run_json (f, (const char *[]) { "list", "--json", "-n", "1", "--offset", "1", NULL });
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (json_node_get_array (page), 0), "id"),
                   ==, f->child);
  g_autoptr (JsonNode) dated = run_json (f, (const char *[]) { "list", "--json", "--since", "2024-01-01", NULL });
  g_assert_cmpuint (json_array_get_length (json_node_get_array (dated)), ==, 0);

  /* The plain listing: one line per generation. */
  g_autofree char *out = NULL, *err = NULL;
  g_assert_cmpint (run_sfumato (f, (const char *[]) { "list", NULL }, &out, &err), ==, 0);
  g_auto (GStrv) lines = g_strsplit (out, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 4);
  g_assert_nonnull (strstr (lines[1], "a lighthouse at dawn"));
  g_assert_nonnull (strstr (lines[1], "img2img"));
}

static void
test_shows_one_generation_with_its_lineage (Fixture *f, gconstpointer data)
{
  g_autofree char *child = g_strdup_printf ("%" G_GINT64_FORMAT, f->child);
  g_autoptr (JsonNode) node = run_json (f, (const char *[]) { "show", child, "--json", NULL });
  JsonObject *object = json_node_get_object (node);
  g_assert_cmpstr (json_object_get_string_member (object, "mode"), ==, "img2img");
  g_assert_cmpfloat (json_object_get_double_member (object, "strength"), ==, 0.4);
  JsonArray *parents = json_object_get_array_member (object, "parents");
  g_assert_cmpuint (json_array_get_length (parents), ==, 1);
  g_assert_cmpint (json_array_get_int_element (parents, 0), ==, f->parent);
  g_assert_nonnull (strstr (json_object_get_string_member (object, "parameters"), "Denoising strength: 0.4"));

  g_autofree char *out = NULL, *err = NULL;
  g_assert_cmpint (run_sfumato (f, (const char *[]) { "show", child, NULL }, &out, &err), ==, 0);
  g_autofree char *refined = g_strdup_printf ("refined from: %" G_GINT64_FORMAT, f->parent);
  g_assert_nonnull (strstr (out, refined));
  g_free (out);
  g_free (err);
  g_assert_cmpint (run_sfumato (f, (const char *[]) { "show", "9999", NULL }, &out, &err), ==, 1);
  g_assert_nonnull (strstr (err, "no generation 9999"));
  g_free (out);
  g_free (err);
  g_assert_cmpint (run_sfumato (f, (const char *[]) { "frobnicate", NULL }, &out, &err), ==, 1);
  g_assert_nonnull (strstr (err, "unknown action"));
}

static void
test_exports_images_with_sidecars (Fixture *f, gconstpointer data)
{
  g_autofree char *target = g_build_filename (f->home, "export", NULL);
  g_autofree char *child = g_strdup_printf ("%" G_GINT64_FORMAT, f->child);
  g_autofree char *out = NULL, *err = NULL;
  g_assert_cmpint (run_sfumato (f, (const char *[]) { "export", child, "-o", target, NULL }, &out, &err), ==, 0);
  g_autoptr (GError) error = NULL;
  g_autoptr (SfGenerationRecord) record = sf_history_get (f->history, f->child, &error);
  g_autofree char *stored = sf_history_get_file (f->history, record->image_path);
  g_autofree char *base = g_path_get_basename (record->image_path);
  g_autofree char *copy = g_build_filename (target, base, NULL);
  g_autofree char *a = NULL, *b = NULL;
  gsize a_size, b_size;
  g_assert_true (g_file_get_contents (stored, &a, &a_size, NULL));
  g_assert_true (g_file_get_contents (copy, &b, &b_size, NULL));
  g_assert_cmpmem (a, a_size, b, b_size);
  base[strlen (base) - 4] = '\0';
  g_autofree char *mask_name = g_strconcat (base, "-mask.png", NULL);
  g_autofree char *mask = g_build_filename (target, mask_name, NULL);
  g_assert_true (g_file_test (mask, G_FILE_TEST_IS_REGULAR));
  g_autofree char *sidecar_name = g_strconcat (base, ".json", NULL);
  g_autofree char *sidecar = g_build_filename (target, sidecar_name, NULL);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_assert_true (json_parser_load_from_file (parser, sidecar, &error));
  JsonObject *object = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (object, "prompt"), ==, "a lighthouse at dawn");
  g_assert_cmpint (json_object_get_int_member (object, "parent_id"), ==, f->parent);
}

static void
test_imports_a1111_pngs (Fixture *f, gconstpointer data)
{
  guint8 pixels[6 * 4 * 4] = { 0 };
  const char *text[] = { "parameters",
                         "a red barn, (snow:1.2)\nNegative prompt: people\n"
                         "Steps: 28, Sampler: DPM++ 2M Karras, CFG scale: 5.5, Seed: 31337, "
                         "Size: 6x4, Model hash: abc123, Model: juggernaut", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) png = sf_png_encode (pixels, 6, 4, 24, SF_PNG_RGBA, text, 6, &error);
  g_autofree char *file = g_build_filename (f->home, "from-a1111.png", NULL);
  g_assert_true (g_file_set_contents (file, g_bytes_get_data (png, NULL), (gssize) g_bytes_get_size (png), NULL));
  g_autofree char *out = NULL, *err = NULL;
  g_assert_cmpint (run_sfumato (f, (const char *[]) { "import", file, NULL }, &out, &err), ==, 0);
  gint64 id = g_ascii_strtoll (out, NULL, 10);
  g_autoptr (SfGenerationRecord) record = sf_history_get (f->history, id, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (record->prompt, ==, "a red barn, (snow:1.2)");
  g_assert_cmpstr (record->negative_prompt, ==, "people");
  g_assert_cmpint (record->steps, ==, 28);
  g_assert_cmpstr (record->sampler, ==, "dpmpp_2m");
  g_assert_cmpstr (record->scheduler, ==, "karras");
  g_assert_cmpfloat (record->cfg_scale, ==, 5.5);
  g_assert_cmpuint (record->seed, ==, 31337);
  g_assert_cmpint (record->width_px, ==, 6);
  g_assert_cmpstr (record->model_name, ==, "juggernaut");
  g_autoptr (GBytes) thumbnail = sf_history_get_thumbnail (f->history, id, &error);
  g_assert_nonnull (thumbnail);
  /* A PNG without parameters is refused with the reason. */
  g_autoptr (GBytes) bare = sf_png_encode (pixels, 6, 4, 24, SF_PNG_RGBA, NULL, 6, &error);
  g_autofree char *bare_file = g_build_filename (f->home, "bare.png", NULL);
  g_assert_true (g_file_set_contents (bare_file, g_bytes_get_data (bare, NULL), (gssize) g_bytes_get_size (bare), NULL));
  g_free (out);
  g_free (err);
  g_assert_cmpint (run_sfumato (f, (const char *[]) { "import", bare_file, NULL }, &out, &err), ==, 1);
  g_assert_nonnull (strstr (err, "no generation parameters"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/cli-history/lists-and-searches-as-json", Fixture, NULL, fixture_set_up,
              test_lists_and_searches_as_json, fixture_tear_down);
  g_test_add ("/cli-history/shows-one-generation-with-its-lineage", Fixture, NULL, fixture_set_up,
              test_shows_one_generation_with_its_lineage, fixture_tear_down);
  g_test_add ("/cli-history/exports-images-with-sidecars", Fixture, NULL, fixture_set_up,
              test_exports_images_with_sidecars, fixture_tear_down);
  g_test_add ("/cli-history/imports-a1111-pngs", Fixture, NULL, fixture_set_up,
              test_imports_a1111_pngs, fixture_tear_down);
  return g_test_run ();
}
