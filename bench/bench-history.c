/* The history at scale: builds a database of N generations (100,000 by
 * default) and times inserts, queries, searches, page loads and, under a
 * display (xvfb-run), scrolling the browser's GtkGridView over all of it.
 *
 *   sfumato-bench-history [--rows N] [--dir DIR] [--keep]
 */
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "history.h"
#include "png-io.h"
#ifdef SF_HAVE_UI
#include "history-panel.h"
#else
#define SF_HISTORY_MODEL_PAGE 64 /* the grid's page, to time the same reads */
#endif

static const char *const WORDS[] = {
  "lighthouse", "storm", "portrait", "cat", "forest", "misty", "oil", "painting", "watercolor",
  "city", "night", "neon", "river", "mountain", "dawn", "dusk", "castle", "dragon", "robot",
  "garden", "flowers", "ocean", "waves", "desert", "snow", "fox", "owl", "library", "market",
  "bridge", "rain", "golden", "hour", "cinematic", "lighting", "detailed", "sketch", "ink",
  "baroque", "minimal", "café", "油絵", "猫", "cathedral", "harbor", "lantern", "meadow",
};
static const char *const MODELS[] = { "sd_xl_base_1.0", "juggernautXL_v9", "dreamshaperXL", "animagineXL" };

static guint64
next_random (guint64 *state)
{
  guint64 z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static char *
random_prompt (guint64 *state, int words)
{
  GString *text = g_string_new (NULL);
  for (int i = 0; i < words; i++)
    {
      if (i)
        g_string_append (text, i % 4 == 0 ? ", " : " ");
      g_string_append (text, WORDS[next_random (state) % G_N_ELEMENTS (WORDS)]);
    }
  return g_string_free (text, FALSE);
}

static SfGenerationRecord *
random_record (guint64 *state, int index, int rows, gint64 now)
{
  SfGenerationRecord *r = sf_generation_record_new ();
  /* A year of history, oldest first. */
  r->created_us = now - (gint64) (rows - index) * (365 * G_TIME_SPAN_DAY / rows);
  g_free (r->prompt);
  r->prompt = random_prompt (state, 8 + (int) (next_random (state) % 24));
  g_free (r->negative_prompt);
  r->negative_prompt = random_prompt (state, 3);
  r->seed = next_random (state);
  r->steps = 20 + (int) (next_random (state) % 20);
  r->cfg_scale = 4 + (double) (next_random (state) % 8);
  r->width_px = 1024;
  r->height_px = 1024;
  r->mode = (SfGenerationMode) (next_random (state) % 4);
  r->model_name = g_strdup (MODELS[next_random (state) % G_N_ELEMENTS (MODELS)]);
  r->model_hash = g_strdup ("31e35c80fc");
  r->favourite = next_random (state) % 50 == 0;
  r->parent_id = index > 10 && next_random (state) % 5 == 0 ? index - 1 - (gint64) (next_random (state) % 10) : 0;
  r->precision = g_strdup ("fp16");
  r->device = g_strdup ("llvmpipe");
  return r;
}

static GBytes *
random_thumbnail (guint64 *state)
{
  enum { W = 128, H = 128 };
  static guint8 pixels[W * H * 4];
  guint8 base[3] = { (guint8) next_random (state), (guint8) next_random (state), (guint8) next_random (state) };
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      {
        guint8 *p = pixels + (y * W + x) * 4;
        /* Smooth gradients with a little noise: compresses about as well
         * as a downscaled picture. */
        guint noise = (guint) (next_random (state) & 7);
        p[0] = (guint8) (base[0] + x + noise);
        p[1] = (guint8) (base[1] + y + noise);
        p[2] = (guint8) (base[2] + (x ^ y) / 4);
        p[3] = 255;
      }
  return sf_png_encode (pixels, W, H, W * 4, SF_PNG_RGB, NULL, 6, NULL);
}

static void
remove_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;
  while (dir && (name = g_dir_read_name (dir)))
    {
      g_autofree char *child = g_build_filename (path, name, NULL);
      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

static double
now_ms (void)
{
  return (double) g_get_monotonic_time () / 1000.0;
}

/* The main thread's CPU time: unlike the wall clock it does not count the
 * time other processes held the CPU, nor waits for the frame clock. */
G_GNUC_UNUSED static double
cpu_ms (void)
{
  struct timespec t;
  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &t);
  return (double) t.tv_sec * 1000.0 + (double) t.tv_nsec / 1e6;
}

static int
compare_doubles (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

/* Median, p95 and max of @count timings, in ms. */
static void
print_timings (const char *what, double *ms, int count)
{
  qsort (ms, (size_t) count, sizeof *ms, compare_doubles);
  printf ("  %-44s median %8.2f ms   p95 %8.2f ms   max %8.2f ms\n", what, ms[count / 2],
          ms[(int) (count * 0.95)], ms[count - 1]);
}

static void
time_query (SfHistory *history, const char *what, const SfHistoryFilter *filter)
{
  double ms[9];
  guint found = 0;
  for (int i = 0; i < 9; i++)
    {
      double start = now_ms ();
      g_autoptr (GArray) ids = sf_history_query_ids (history, filter, NULL);
      ms[i] = now_ms () - start;
      found = ids ? ids->len : 0;
    }
  g_autofree char *label = g_strdup_printf ("%s (%u rows)", what, found);
  print_timings (label, ms, 9);
}

#ifdef SF_HAVE_UI
/* Frame phases: binding items happens in layout (size allocation);
 * paint is the snapshot, the cairo render and the copy to the X server. */
typedef struct {
  gboolean painted;
  double layout_start, paint_start, paint_end;
} FrameWait;

static void
on_layout (GdkFrameClock *clock, FrameWait *wait)
{
  wait->layout_start = now_ms ();
}

static void
on_paint (GdkFrameClock *clock, FrameWait *wait)
{
  wait->paint_start = now_ms ();
}

static void
on_after_paint (GdkFrameClock *clock, FrameWait *wait)
{
  wait->paint_end = now_ms ();
  wait->painted = TRUE;
}

static void
bench_grid (SfHistory *history)
{
  GtkWidget *window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (window), 1280, 800);
  double start = now_ms (), cpu_start = cpu_ms ();
  GtkWidget *panel = sf_history_panel_new (history);
  double create_ms = now_ms () - start, create_cpu = cpu_ms () - cpu_start;
  gtk_window_set_child (GTK_WINDOW (window), panel);
  gtk_window_present (GTK_WINDOW (window));
  while (!gtk_widget_get_mapped (window))
    g_main_context_iteration (NULL, TRUE);
  for (int i = 0; i < 100; i++)
    g_main_context_iteration (NULL, FALSE);
  SfHistoryModel *model = sf_history_panel_get_model (SF_HISTORY_PANEL (panel));
  printf ("  %-44s %8.2f ms (CPU %.2f ms; %u items)\n", "panel created, ids of every row read", create_ms,
          create_cpu, g_list_model_get_n_items (G_LIST_MODEL (model)));

  GtkWidget *grid = GTK_WIDGET (sf_history_panel_get_grid (SF_HISTORY_PANEL (panel)));
  GtkAdjustment *adjustment = gtk_scrollable_get_vadjustment (GTK_SCROLLABLE (grid));
  GdkFrameClock *clock = gtk_widget_get_frame_clock (window);
  FrameWait wait = { 0 };
  g_signal_connect (clock, "layout", G_CALLBACK (on_layout), &wait);
  g_signal_connect (clock, "paint", G_CALLBACK (on_paint), &wait);
  g_signal_connect (clock, "after-paint", G_CALLBACK (on_after_paint), &wait);
  enum { STEPS = 120 };
  double ms[STEPS], cpu[STEPS], layout_ms[STEPS], paint_ms[STEPS];
  guint pages_before = sf_history_model_get_pages_loaded (model);
  /* Page-sized jumps from the top, then a fling to random places, each
   * timed from the scroll to the end of the frame that shows it. */
  guint64 state = 7;
  for (int i = 0; i < STEPS; i++)
    {
      double upper = gtk_adjustment_get_upper (adjustment), page = gtk_adjustment_get_page_size (adjustment);
      double value = i < STEPS / 2 ? i * page
                                   : (double) (next_random (&state) % 1000000) / 1000000.0 * (upper - page);
      wait.painted = FALSE;
      wait.layout_start = wait.paint_start = -1;
      double t0 = now_ms (), c0 = cpu_ms ();
      gtk_adjustment_set_value (adjustment, value);
      gtk_widget_queue_draw (window);
      while (!wait.painted)
        g_main_context_iteration (NULL, TRUE);
      ms[i] = now_ms () - t0;
      cpu[i] = cpu_ms () - c0;
      /* A frame may skip layout when nothing moved. */
      layout_ms[i] = wait.layout_start < 0 ? 0 : wait.paint_start - wait.layout_start;
      paint_ms[i] = wait.paint_start < 0 ? 0 : wait.paint_end - wait.paint_start;
    }
  print_timings ("grid scroll: scroll to painted frame", ms, STEPS);
  print_timings ("  main thread CPU time per frame", cpu, STEPS);
  print_timings ("  layout phase (binds, thumbnails)", layout_ms, STEPS);
  print_timings ("  paint phase (snapshot, render, to X)", paint_ms, STEPS);
  printf ("  %-44s %u pages of %d records\n", "pages read while scrolling",
          sf_history_model_get_pages_loaded (model) - pages_before, SF_HISTORY_MODEL_PAGE);
  g_signal_handlers_disconnect_by_data (clock, &wait);

  /* Typing a search over all rows. */
  start = now_ms ();
  cpu_start = cpu_ms ();
  SfHistoryFilter filter;
  sf_history_filter_init (&filter);
  filter.search = "lighthouse storm";
  sf_history_model_set_filter (model, &filter);
  printf ("  %-44s %8.2f ms (CPU %.2f ms; %u items)\n", "grid refiltered by \"lighthouse storm\"",
          now_ms () - start, cpu_ms () - cpu_start, g_list_model_get_n_items (G_LIST_MODEL (model)));
  gtk_window_destroy (GTK_WINDOW (window));
  while (g_main_context_iteration (NULL, FALSE))
    ;

  /* The same model without a view: what the store and model cost alone. */
  g_autoptr (SfHistoryModel) detached = sf_history_model_new (history);
  sf_history_filter_init (&filter);
  filter.search = "lighthouse storm";
  start = now_ms ();
  sf_history_model_set_filter (detached, &filter);
  printf ("  %-44s %8.2f ms (%u items)\n", "model without a view refiltered", now_ms () - start,
          g_list_model_get_n_items (G_LIST_MODEL (detached)));
}
#endif

int
main (int argc, char **argv)
{
  int rows = 100000;
  char *dir = NULL;
  gboolean keep = FALSE;
  GOptionEntry entries[] = {
    { "rows", 0, 0, G_OPTION_ARG_INT, &rows, "Generations in the database (100000)", "N" },
    { "dir", 0, 0, G_OPTION_ARG_FILENAME, &dir, "History folder (a new temporary one)", "DIR" },
    { "keep", 0, 0, G_OPTION_ARG_NONE, &keep, "Keep the database afterwards", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- benchmark the generation history");
  g_option_context_add_main_entries (context, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (context, &argc, &argv, &error) || rows < 100)
    {
      fprintf (stderr, "sfumato-bench-history: %s\n", error ? error->message : "--rows must be >= 100");
      return 2;
    }
  if (!dir)
    dir = g_dir_make_tmp ("sfumato-bench-history-XXXXXX", &error);
  g_autoptr (SfHistory) history = dir ? sf_history_open (dir, &error) : NULL;
  if (!history)
    {
      fprintf (stderr, "sfumato-bench-history: %s\n", error->message);
      return 1;
    }
  printf ("history benchmark: %d generations in %s (SQLite %s)\n", rows, dir, sqlite3_libversion ());

  /* Bulk rows: transactions of 1000, each row with a 128 px thumbnail
   * (from a pool of 256 distinct ones, to keep the set-up short). A
   * folder that already holds enough rows (--dir, --keep) is reused. */
  guint64 state = 42;
  gint64 now = g_get_real_time ();
  SfHistoryFilter everything;
  sf_history_filter_init (&everything);
  g_autoptr (GArray) existing = sf_history_query_ids (history, &everything, NULL);
  if (existing && existing->len >= (guint) rows)
    printf ("  reusing the %u generations already there\n", existing->len);
  else
    {
      g_autoptr (GPtrArray) pool = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
      gsize thumbnail_bytes = 0;
      for (int i = 0; i < 256; i++)
        {
          g_ptr_array_add (pool, random_thumbnail (&state));
          thumbnail_bytes += g_bytes_get_size (pool->pdata[i]);
        }
      double insert_ms = 0;
      for (int start = 0; start < rows; start += 1000)
        {
          g_autoptr (GPtrArray) records = g_ptr_array_new_with_free_func ((GDestroyNotify) sf_generation_record_free);
          g_autoptr (GPtrArray) thumbnails = g_ptr_array_new ();
          for (int i = start; i < MIN (rows, start + 1000); i++)
            {
              g_ptr_array_add (records, random_record (&state, i, rows, now));
              g_ptr_array_add (thumbnails, pool->pdata[next_random (&state) % pool->len]);
            }
          double t0 = now_ms ();
          if (!sf_history_insert_batch (history, records, thumbnails, &error))
            {
              fprintf (stderr, "sfumato-bench-history: %s\n", error->message);
              return 1;
            }
          insert_ms += now_ms () - t0;
        }
      printf ("  %-44s %8.0f rows/s (thumbnails %.1f KiB each)\n", "bulk insert, 1000 per transaction",
              rows / (insert_ms / 1000.0), (double) thumbnail_bytes / 256 / 1024.0);
    }

  /* Single generations as the engine stores them: 512x512 pixels encoded
   * to PNG on the worker, thumbnail made, files synced, row committed. */
  {
    enum { N = 20, SIZE = 512 };
    g_autofree guint8 *pixels = g_malloc (SIZE * SIZE * 4);
    for (gsize i = 0; i < SIZE * SIZE * 4; i++)
      pixels[i] = (guint8) (next_random (&state) & 0x3f) + (guint8) (i / (SIZE * 4));
    double ms[N];
    for (int i = 0; i < N; i++)
      {
        g_autoptr (SfGenerationRecord) record = random_record (&state, rows, rows, now);
        record->parent_id = 0;
        SfHistoryImage image = { .pixels = pixels, .width_px = SIZE, .height_px = SIZE, .stride = SIZE * 4 };
        double t0 = now_ms ();
        if (!sf_history_insert (history, record, &image, NULL, NULL, &error))
          {
            fprintf (stderr, "sfumato-bench-history: %s\n", error->message);
            return 1;
          }
        ms[i] = now_ms () - t0;
      }
    print_timings ("insert one 512x512 generation (PNG, files)", ms, N);
  }

  SfHistoryFilter filter;
  sf_history_filter_init (&filter);
  time_query (history, "ids, everything, newest first", &filter);
  filter.sort = SF_HISTORY_OLDEST_FIRST;
  time_query (history, "ids, everything, oldest first", &filter);
  sf_history_filter_init (&filter);
  filter.favourites_only = TRUE;
  time_query (history, "ids, favourites", &filter);
  sf_history_filter_init (&filter);
  filter.model_name = MODELS[1];
  filter.mode = SF_GENERATION_INPAINT;
  time_query (history, "ids, one model and mode", &filter);
  sf_history_filter_init (&filter);
  filter.after_us = now - 30 * G_TIME_SPAN_DAY;
  time_query (history, "ids, last 30 days", &filter);
  sf_history_filter_init (&filter);
  filter.search = "lighthouse";
  time_query (history, "search: lighthouse", &filter);
  filter.search = "lighthouse storm cat";
  time_query (history, "search: lighthouse storm cat", &filter);
  filter.search = "\"oil painting\"";
  time_query (history, "search: \"oil painting\"", &filter);
  filter.search = "cath";
  time_query (history, "search: cath (prefix)", &filter);
  filter.search = "油絵";
  time_query (history, "search: 油絵", &filter);

  /* Pages as the grid reads them: 64 records by id at random places. */
  sf_history_filter_init (&filter);
  g_autoptr (GArray) ids = sf_history_query_ids (history, &filter, NULL);
  {
    enum { N = 50 };
    double page_ms[N], offset_ms[N], thumbnail_ms[N];
    for (int i = 0; i < N; i++)
      {
        guint start = (guint) (next_random (&state) % (ids->len - SF_HISTORY_MODEL_PAGE));
        double t0 = now_ms ();
        g_autoptr (GPtrArray) page = sf_history_get_many (history, &g_array_index (ids, gint64, start),
                                                          SF_HISTORY_MODEL_PAGE, NULL);
        page_ms[i] = now_ms () - t0;
        t0 = now_ms ();
        g_autoptr (GPtrArray) by_offset = sf_history_query (history, &filter, start, SF_HISTORY_MODEL_PAGE, NULL);
        offset_ms[i] = now_ms () - t0;
        t0 = now_ms ();
        g_autoptr (GBytes) thumbnail = sf_history_get_thumbnail (history, g_array_index (ids, gint64, start), NULL);
        g_autoptr (SfImage) decoded = sf_png_load_from_data (g_bytes_get_data (thumbnail, NULL),
                                                             g_bytes_get_size (thumbnail), NULL);
        thumbnail_ms[i] = now_ms () - t0;
      }
    print_timings ("page of 64 records by id", page_ms, N);
    print_timings ("page of 64 records by LIMIT/OFFSET", offset_ms, N);
    print_timings ("one thumbnail read and decoded", thumbnail_ms, N);
  }
  {
    enum { N = 50 };
    double ms[N];
    for (int i = 0; i < N; i++)
      {
        gint64 id = g_array_index (ids, gint64, next_random (&state) % ids->len);
        double t0 = now_ms ();
        g_autoptr (GPtrArray) lineage = sf_history_get_lineage (history, id, NULL);
        ms[i] = now_ms () - t0;
      }
    print_timings ("lineage of a random generation", ms, N);
  }

#ifdef SF_HAVE_UI
  if (g_getenv ("DISPLAY") || g_getenv ("WAYLAND_DISPLAY"))
    {
      gtk_init ();
      bench_grid (history);
    }
  else
    printf ("  (no display: run under xvfb-run for the grid figures)\n");
#endif

  g_autofree char *database = g_build_filename (dir, "history.db", NULL);
  GStatBuf info;
  if (g_stat (database, &info) == 0)
    printf ("  %-44s %.1f MiB\n", "database size", (double) info.st_size / (1024.0 * 1024.0));
  sf_history_free (g_steal_pointer (&history));
  if (!keep)
    remove_tree (dir);
  g_free (dir);
  return 0;
}
