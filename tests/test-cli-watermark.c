/* `sfumato watermark`: the built binary embeds into a PNG made here
 * (keeping its parameters chunk),
 * finds the tag in it (exit 0), says "no watermark" for the unmarked one
 * (exit 1), and fails clearly on a file that is not a PNG (exit 2); it names
 * imwatermark's marks in the committed fixtures (ours and the SDXL scripts'). */
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <sys/wait.h>

#include "png-io.h"
#include "png_text.h"
#include "sf-test.h"
#include "watermark.h"

static int
run_sfumato (const char *const *args, char **out, char **err)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_ptr_array_add (argv, (char *) SF_SFUMATO_PATH);
  g_ptr_array_add (argv, (char *) "watermark");
  for (int i = 0; args[i]; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);
  int status = 0;
  g_autoptr (GError) error = NULL;
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, out,
                               err, &status, &error));
  g_assert_no_error (error);
  g_assert_true (WIFEXITED (status));
  return WEXITSTATUS (status);
}

/* A smooth picture with some texture. */
static guint8 *
make_picture (int width, int height)
{
  SfTestRng rng;
  sf_test_rng_init (&rng, 9);
  guint8 *rgba = g_malloc ((gsize) width * height * 4);
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        guint8 *p = rgba + ((gsize) y * width + x) * 4;
        p[0] = (guint8) (120 + 80 * sin (x * 0.02) + sf_test_rng_uniform (&rng, -3, 3));
        p[1] = (guint8) (120 + 80 * cos (y * 0.015) + sf_test_rng_uniform (&rng, -3, 3));
        p[2] = (guint8) (128 + 60 * sin ((x + y) * 0.01) + sf_test_rng_uniform (&rng, -3, 3));
        p[3] = 255;
      }
  return rgba;
}

static void
test_check_and_embed (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("sf-cli-watermark-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *plain = g_build_filename (dir, "plain.png", NULL);
  g_autofree char *marked = g_build_filename (dir, "marked.png", NULL);
  g_autofree char *junk = g_build_filename (dir, "junk.png", NULL);
  const int width = 321, height = 240;
  g_autofree guint8 *rgba = make_picture (width, height);
  const char *const text[] = { "parameters", "a lighthouse\nSteps: 30, Seed: 7", NULL };
  g_assert_true (sf_png_save (plain, rgba, width, height, width * 4, SF_PNG_RGBA, text, &error));
  g_assert_no_error (error);

  g_autofree char *out = NULL, *err = NULL;
  g_assert_cmpint (run_sfumato ((const char *[]) { "--check", plain, NULL }, &out, &err), ==, 1);
  g_assert_true (g_str_has_prefix (out, "no watermark"));

  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run_sfumato ((const char *[]) { "--embed", plain, marked, NULL }, &out, &err),
                   ==, 0);
  /* What the binary wrote is what the library writes. */
  g_autoptr (SfImage) written = sf_png_load (marked, &error);
  g_assert_no_error (error);
  g_assert_true (sf_watermark_embed_tag (rgba, width, height, width * 4, &error));
  g_assert_cmpmem (written->pixels, width * height * 4, rgba, width * height * 4);
  /* The generation parameters survive. */
  g_autoptr (GHashTable) chunks = sf_png_text_read_file (marked, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (g_hash_table_lookup (chunks, "parameters"), ==, text[1]);

  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run_sfumato ((const char *[]) { "--check", marked, NULL }, &out, &err), ==, 0);
  g_assert_true (g_str_has_prefix (out, "watermark: SFMT (confidence "));
  double confidence = g_ascii_strtod (out + strlen ("watermark: SFMT (confidence "), NULL);
  g_assert_cmpfloat (confidence, >=, 0.9);
  g_assert_cmpfloat (confidence, <=, 1.0);

  /* imwatermark's marks: Sfumato's tag and the SDXL scripts' message. */
  g_autofree char *theirs = g_build_filename (g_getenv ("SF_TEST_DATA"), "watermark",
                                              "blobs-301x257-imwatermark-sfmt.png", NULL);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run_sfumato ((const char *[]) { "--check", theirs, NULL }, &out, &err), ==, 0);
  g_assert_true (g_str_has_prefix (out, "watermark: SFMT (confidence "));
  g_autofree char *sdxl = g_build_filename (g_getenv ("SF_TEST_DATA"), "watermark",
                                            "blobs-301x257-imwatermark-sdxl.png", NULL);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run_sfumato ((const char *[]) { "--check", sdxl, NULL }, &out, &err), ==, 0);
  g_assert_cmpstr (out, ==,
                   "watermark: Stable Diffusion XL reference scripts' mark (37 of 48 bits)\n");
  g_autofree char *original = g_build_filename (g_getenv ("SF_TEST_DATA"), "watermark",
                                                "blobs-301x257.png", NULL);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run_sfumato ((const char *[]) { "--check", original, NULL }, &out, &err), ==,
                   1);
  g_assert_true (g_str_has_prefix (out, "no watermark"));

  g_assert_true (g_file_set_contents (junk, "not a png at all", -1, &error));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run_sfumato ((const char *[]) { "--check", junk, NULL }, &out, &err), ==, 2);
  g_assert_true (g_str_has_prefix (err, "sfumato watermark: "));
  g_assert_nonnull (strstr (err, "junk.png"));
  g_assert_cmpstr (out, ==, "");

  /* Missing or mixed-up arguments are usage errors. */
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run_sfumato ((const char *[]) { "--check", NULL }, &out, &err), ==, 2);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run_sfumato ((const char *[]) { "--embed", plain, NULL }, &out, &err), ==, 2);

  g_unlink (plain);
  g_unlink (marked);
  g_unlink (junk);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  sf_test_init (&argc, &argv);
  sf_test_add ("/cli/watermark/checks-and-embeds", test_check_and_embed);
  return sf_test_run ();
}
