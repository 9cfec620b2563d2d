/* The history store: rows, files, queries, search, lineage, migrations
 * and the worker thread. Each test gets a fresh folder. */
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>

#include "history-schema.h"
#include "history-test.h"
#include "history.h"
#include "png-io.h"
#include "png_text.h"

static void
assert_same_record (const SfGenerationRecord *a, const SfGenerationRecord *b)
{
  g_assert_cmpint (a->created_us, ==, b->created_us);
  g_assert_cmpint (a->mode, ==, b->mode);
  g_assert_cmpstr (a->prompt, ==, b->prompt);
  g_assert_cmpstr (a->negative_prompt, ==, b->negative_prompt);
  g_assert_cmpstr (a->prompt_weights, ==, b->prompt_weights);
  g_assert_cmpstr (a->negative_weights, ==, b->negative_weights);
  g_assert_cmpuint (a->seed, ==, b->seed);
  g_assert_cmpstr (a->sampler, ==, b->sampler);
  g_assert_cmpstr (a->scheduler, ==, b->scheduler);
  g_assert_cmpint (a->steps, ==, b->steps);
  g_assert_cmpfloat (a->cfg_scale, ==, b->cfg_scale);
  g_assert_cmpfloat (a->strength, ==, b->strength);
  g_assert_cmpint (a->width_px, ==, b->width_px);
  g_assert_cmpint (a->height_px, ==, b->height_px);
  g_assert_cmpint (a->frame_x, ==, b->frame_x);
  g_assert_cmpint (a->frame_y, ==, b->frame_y);
  g_assert_cmpstr (a->model_name, ==, b->model_name);
  g_assert_cmpstr (a->model_hash, ==, b->model_hash);
  g_assert_cmpstr (a->refiner_name, ==, b->refiner_name);
  g_assert_cmpstr (a->refiner_hash, ==, b->refiner_hash);
  g_assert_cmpfloat (a->refiner_switch, ==, b->refiner_switch);
  g_assert_cmpstr (a->precision, ==, b->precision);
  g_assert_cmpint (a->duration_us, ==, b->duration_us);
  g_assert_cmpstr (a->device, ==, b->device);
  g_assert_cmpint (a->status, ==, b->status);
  g_assert_cmpstr (a->status_message, ==, b->status_message);
  g_assert_cmpint (a->parent_id, ==, b->parent_id);
  g_assert_cmpstr (a->document_id, ==, b->document_id);
  g_assert_cmpstr (a->document_path, ==, b->document_path);
  g_assert_cmpint (a->favourite, ==, b->favourite);
}

static void
test_inserts_and_reads_back_every_field (void)
{
  g_autofree char *dir = sf_history_test_dir ();
  g_autoptr (GError) error = NULL;
  g_autoptr (SfHistory) history = sf_history_open (dir, &error);
  g_assert_no_error (error);

  g_autoptr (SfGenerationRecord) record = sf_history_test_record (7);
  record->mode = SF_GENERATION_INPAINT;
  record->seed = G_MAXUINT64; /* the top bit survives SQLite's signed integers */
  record->refiner_name = g_strdup ("sd_xl_refiner_1.0");
  record->refiner_hash = g_strdup ("7440042bbd");
  record->refiner_switch = 0.8;
  record->strength = 0.55;
  record->status = SF_GENERATION_FAILED;
  record->status_message = g_strdup ("out of device memory");
  record->document_id = g_strdup ("0b5e-41");
  record->document_path = g_strdup ("/home/a/picture.sfumato");
  record->favourite = TRUE;
  enum { W = 300, H = 200 };
  g_autofree guint8 *pixels = sf_history_test_pixels (W, H, 3);
  g_autofree guint8 *mask = sf_history_test_pixels (W, H, 4);
  SfHistoryImage image = { .pixels = pixels, .width_px = W, .height_px = H, .stride = W * 4 };
  SfHistoryImage mask_image = { .pixels = mask, .width_px = W, .height_px = H, .stride = W * 4 };
  gint64 id = sf_history_insert (history, record, &image, &mask_image, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);

  g_autoptr (SfGenerationRecord) back = sf_history_get (history, id, &error);
  g_assert_no_error (error);
  g_assert_cmpint (back->id, ==, id);
  assert_same_record (back, record);
  g_assert_nonnull (back->image_path);
  g_assert_nonnull (back->mask_path);
  g_assert_null (back->init_path);
  g_assert_true (g_str_has_prefix (back->image_path, "outputs/"));

  /* The image file: the pixels, and A1111 parameters that read back. */
  g_autofree char *path = sf_history_get_file (history, back->image_path);
  g_autofree char *contents = NULL;
  gsize size;
  g_assert_true (g_file_get_contents (path, &contents, &size, NULL));
  g_autoptr (SfImage) decoded = sf_png_load_from_data ((guint8 *) contents, size, &error);
  g_assert_no_error (error);
  g_assert_cmpint (decoded->width, ==, W);
  g_assert_cmpmem (decoded->pixels, W * H * 4, pixels, W * H * 4);
  g_autoptr (GHashTable) text = sf_png_text_read_data ((guint8 *) contents, size, &error);
  g_assert_no_error (error);
  g_autofree char *parameters = sf_generation_record_format_parameters (record);
  g_assert_cmpstr (g_hash_table_lookup (text, "parameters"), ==, parameters);
  g_assert_true (strstr (parameters, "Seed: 18446744073709551615, "));
  g_assert_true (strstr (parameters, "Denoising strength: 0.55, Refiner: sd_xl_refiner_1.0 [7440042bbd], "
                                     "Refiner switch at: 0.8"));
  g_autofree char *mask_path = sf_history_get_file (history, back->mask_path);
  g_assert_true (g_file_test (mask_path, G_FILE_TEST_IS_REGULAR));

  /* The thumbnail: at most 128 px, the image's mean colour kept. */
  g_autoptr (GBytes) thumbnail = sf_history_get_thumbnail (history, id, &error);
  g_assert_no_error (error);
  g_assert_nonnull (thumbnail);
  g_autoptr (SfImage) small = sf_png_load_from_data (g_bytes_get_data (thumbnail, NULL),
                                                     g_bytes_get_size (thumbnail), &error);
  g_assert_no_error (error);
  g_assert_cmpint (small->width, ==, 128);
  g_assert_cmpint (small->height, ==, 85);
  double mean_big = 0, mean_small = 0;
  for (gsize i = 0; i < (gsize) W * H; i++)
    mean_big += pixels[i * 4];
  for (gsize i = 0; i < (gsize) small->width * small->height; i++)
    mean_small += small->pixels[i * 4];
  g_assert_cmpfloat_with_epsilon (mean_big / (W * H), mean_small / (small->width * small->height),
                                  2.0);

  /* An encoded PNG is kept byte for byte. */
  g_autoptr (GBytes) png = g_bytes_new (contents, size);
  SfHistoryImage given = { .png = png };
  gint64 second = sf_history_insert (history, record, &given, NULL, NULL, &error);
  g_assert_no_error (error);
  g_autoptr (SfGenerationRecord) copy = sf_history_get (history, second, &error);
  g_assert_cmpstr (copy->image_path, !=, back->image_path);
  g_autofree char *copy_path = sf_history_get_file (history, copy->image_path);
  g_autofree char *copy_contents = NULL;
  gsize copy_size;
  g_assert_true (g_file_get_contents (copy_path, &copy_contents, &copy_size, NULL));
  g_assert_cmpmem (copy_contents, copy_size, contents, size);

  g_assert_null (sf_history_get (history, 424242, &error));
  g_assert_error (error, SF_HISTORY_ERROR, SF_HISTORY_ERROR_NOT_FOUND);
}

static void
test_bad_input_gives_errors_and_leaves_no_files (void)
{
  g_autofree char *dir = sf_history_test_dir ();
  g_autoptr (GError) error = NULL;
  g_autoptr (SfHistory) history = sf_history_open (dir, &error);
  g_assert_no_error (error);
  g_autoptr (SfGenerationRecord) record = sf_history_test_record (1);
  record->parent_id = 999;
  g_autofree guint8 *pixels = sf_history_test_pixels (8, 8, 1);
  SfHistoryImage image = { .pixels = pixels, .width_px = 8, .height_px = 8, .stride = 32 };
  g_assert_cmpint (sf_history_insert (history, record, &image, NULL, NULL, &error), ==, 0);
  g_assert_error (error, SF_HISTORY_ERROR, SF_HISTORY_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "999"));
  g_clear_error (&error);
  record->parent_id = 0;
  SfHistoryImage bad = { .pixels = pixels, .width_px = 8, .height_px = 8, .stride = 3 };
  g_assert_cmpint (sf_history_insert (history, record, &bad, NULL, NULL, &error), ==, 0);
  g_assert_error (error, SF_HISTORY_ERROR, SF_HISTORY_ERROR_INVALID);
  g_clear_error (&error);
  g_autoptr (GBytes) not_png = g_bytes_new_static ("GIF89a", 6);
  SfHistoryImage garbage = { .png = not_png };
  g_assert_cmpint (sf_history_insert (history, record, &garbage, NULL, NULL, &error), ==, 0);
  g_assert_nonnull (error);
  g_clear_error (&error);
  /* No row, and no file left behind. */
  g_autoptr (GArray) ids = sf_history_query_ids (history, &(SfHistoryFilter) { .mode = -1 }, &error);
  g_assert_cmpuint (ids->len, ==, 0);
  g_assert_cmpuint (sf_history_test_count_files (dir), ==, 0);
  g_assert_false (sf_history_update_status (history, 5, SF_GENERATION_DONE, NULL, 0, &error));
  g_assert_error (error, SF_HISTORY_ERROR, SF_HISTORY_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (sf_history_delete (history, 5, &error));
  g_assert_error (error, SF_HISTORY_ERROR, SF_HISTORY_ERROR_NOT_FOUND);
}

/* The reference for queries: the same filter applied in C. */
static gboolean
reference_matches (const SfGenerationRecord *r, const SfHistoryFilter *f)
{
  return (!f->model_name || g_strcmp0 (r->model_name, f->model_name) == 0)
         && (f->mode < 0 || (int) r->mode == f->mode)
         && (!f->after_us || r->created_us >= f->after_us)
         && (!f->before_us || r->created_us < f->before_us)
         && (!f->favourites_only || r->favourite);
}

static gint
by_time_newest_first (gconstpointer a, gconstpointer b)
{
  const SfGenerationRecord *x = *(SfGenerationRecord **) a, *y = *(SfGenerationRecord **) b;
  if (x->created_us != y->created_us)
    return x->created_us > y->created_us ? -1 : 1;
  return x->id > y->id ? -1 : (x->id < y->id);
}

static void
test_queries_filter_sort_and_page (void)
{
  g_autofree char *dir = sf_history_test_dir ();
  g_autoptr (GError) error = NULL;
  g_autoptr (SfHistory) history = sf_history_open (dir, &error);
  g_assert_no_error (error);
  static const char *const models[] = { "base", "turbo", "paint" };
  g_autoptr (GPtrArray) records = g_ptr_array_new_with_free_func ((GDestroyNotify) sf_generation_record_free);
  for (int i = 0; i < 90; i++)
    {
      SfGenerationRecord *r = sf_history_test_record (i);
      r->created_us = 1700000000000000 + (gint64) ((i * 37) % 90) * 1000000 / 3; /* ties too */
      g_free (r->model_name);
      r->model_name = g_strdup (models[i % 3]);
      r->mode = (SfGenerationMode) ((i / 3) % 4);
      r->favourite = i % 5 == 0;
      g_ptr_array_add (records, r);
    }
  g_assert_true (sf_history_insert_batch (history, records, NULL, &error));
  g_assert_no_error (error);
  g_ptr_array_sort (records, by_time_newest_first);

  SfHistoryFilter filters[6];
  for (int i = 0; i < 6; i++)
    sf_history_filter_init (&filters[i]);
  filters[1].model_name = "turbo";
  filters[2].mode = SF_GENERATION_INPAINT;
  filters[3].after_us = 1700000010000000;
  filters[3].before_us = 1700000020000000;
  filters[4].favourites_only = TRUE;
  filters[5].model_name = "paint";
  filters[5].favourites_only = TRUE;
  filters[5].sort = SF_HISTORY_OLDEST_FIRST;
  for (int f = 0; f < 6; f++)
    {
      g_autoptr (GArray) expected = g_array_new (FALSE, FALSE, sizeof (gint64));
      for (guint i = 0; i < records->len; i++)
        {
          const SfGenerationRecord *r = records->pdata[i];
          if (reference_matches (r, &filters[f]))
            g_array_append_val (expected, r->id);
        }
      if (filters[f].sort == SF_HISTORY_OLDEST_FIRST)
        for (guint i = 0; i < expected->len / 2; i++)
          {
            gint64 t = g_array_index (expected, gint64, i);
            g_array_index (expected, gint64, i) = g_array_index (expected, gint64, expected->len - 1 - i);
            g_array_index (expected, gint64, expected->len - 1 - i) = t;
          }
      g_assert_cmpuint (expected->len, >, 0);
      g_autoptr (GArray) ids = sf_history_query_ids (history, &filters[f], &error);
      g_assert_no_error (error);
      g_assert_cmpmem (ids->data, ids->len * 8, expected->data, expected->len * 8);
      /* Pages of 7 cover the same list. */
      for (guint offset = 0; offset < expected->len; offset += 7)
        {
          g_autoptr (GPtrArray) page = sf_history_query (history, &filters[f], offset, 7, &error);
          g_assert_no_error (error);
          g_assert_cmpuint (page->len, ==, MIN (7, expected->len - offset));
          for (guint i = 0; i < page->len; i++)
            g_assert_cmpint (((SfGenerationRecord *) page->pdata[i])->id, ==,
                             g_array_index (expected, gint64, offset + i));
        }
    }
  g_auto (GStrv) names = sf_history_list_models (history, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (names), ==, 3);

  /* get_many keeps the order asked for and leaves holes for missing ids. */
  gint64 ask[3] = { ((SfGenerationRecord *) records->pdata[4])->id, 77777,
                    ((SfGenerationRecord *) records->pdata[1])->id };
  g_autoptr (GPtrArray) many = sf_history_get_many (history, ask, 3, &error);
  g_assert_no_error (error);
  g_assert_cmpint (((SfGenerationRecord *) many->pdata[0])->id, ==, ask[0]);
  g_assert_null (many->pdata[1]);
  g_assert_cmpint (((SfGenerationRecord *) many->pdata[2])->id, ==, ask[2]);
}

static void
test_search_query_quotes_safely (void)
{
  static const struct { const char *search, *fts; } cases[] = {
    { "fox", "\"fox\"*" },
    { "  red   fox ", "\"red\"* \"fox\"*" },
    { "\"red fox\" snow", "\"red fox\" \"snow\"*" },
    { "say \"he said \"\"", "\"say\"* \"he said \"" },
    { "unclosed \"blue sky", "\"unclosed\"* \"blue sky\"" },
    { "AND OR NOT NEAR", "\"AND\"* \"OR\"* \"NOT\"* \"NEAR\"*" },
    { "col:umn (x) *", "\"col:umn\"* \"(x)\"*" },
    { "油絵 café", "\"油絵\"* \"café\"*" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *fts = sf_history_search_to_fts (cases[i].search);
      g_assert_cmpstr (fts, ==, cases[i].fts);
    }
  g_assert_null (sf_history_search_to_fts (""));
  g_assert_null (sf_history_search_to_fts ("  \" \" ** , "));
  g_assert_null (sf_history_search_to_fts (NULL));
}

static guint
count_search (SfHistory *history, const char *search)
{
  SfHistoryFilter filter;
  sf_history_filter_init (&filter);
  filter.search = search;
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) ids = sf_history_query_ids (history, &filter, &error);
  g_assert_no_error (error);
  return ids->len;
}

static void
test_search_finds_words_phrases_and_unicode (void)
{
  g_autofree char *dir = sf_history_test_dir ();
  g_autoptr (GError) error = NULL;
  g_autoptr (SfHistory) history = sf_history_open (dir, &error);
  g_assert_no_error (error);
  static const char *const prompts[][2] = {
    { "a \"quoted\" red fox in snow", "blurry" },
    { "Café au lait, oil painting", "" },
    { "日本の 猫, 油絵", "low quality" },
    { "O'Brien's landscapes AND rivers", "red" },
    { "(red fox:1.3), snow", "text, watermark" },
  };
  g_autoptr (GPtrArray) records = g_ptr_array_new_with_free_func ((GDestroyNotify) sf_generation_record_free);
  for (gsize i = 0; i < G_N_ELEMENTS (prompts); i++)
    {
      SfGenerationRecord *r = sf_history_test_record ((int) i);
      g_free (r->prompt);
      g_free (r->negative_prompt);
      r->prompt = g_strdup (prompts[i][0]);
      r->negative_prompt = g_strdup (prompts[i][1]);
      g_ptr_array_add (records, r);
    }
  g_assert_true (sf_history_insert_batch (history, records, NULL, &error));
  g_assert_cmpuint (count_search (history, ""), ==, 5);
  g_assert_cmpuint (count_search (history, "fox"), ==, 2);
  g_assert_cmpuint (count_search (history, "\"red fox\""), ==, 2);
  g_assert_cmpuint (count_search (history, "\"fox red\""), ==, 0);
  g_assert_cmpuint (count_search (history, "\"quoted\""), ==, 1);
  g_assert_cmpuint (count_search (history, "red"), ==, 3);  /* the negative prompt counts */
  g_assert_cmpuint (count_search (history, "cafe"), ==, 1); /* diacritics fold */
  g_assert_cmpuint (count_search (history, "CAFÉ"), ==, 1);
  g_assert_cmpuint (count_search (history, "猫"), ==, 1);
  g_assert_cmpuint (count_search (history, "油絵"), ==, 1);
  g_assert_cmpuint (count_search (history, "land"), ==, 1); /* prefix */
  g_assert_cmpuint (count_search (history, "AND"), ==, 1);  /* a word, not an operator */
  g_assert_cmpuint (count_search (history, "o'brien"), ==, 1);
  g_assert_cmpuint (count_search (history, "watermark snow"), ==, 1);
  g_assert_cmpuint (count_search (history, "\"unclosed"), ==, 0);
  g_assert_cmpuint (count_search (history, "\"\"\"\""), ==, 5); /* nothing to search for */
  g_assert_cmpuint (count_search (history, "NEAR(fox snow)"), ==, 0);
}

static void
test_updates_status_and_favourite (void)
{
  g_autofree char *dir = sf_history_test_dir ();
  g_autoptr (GError) error = NULL;
  g_autoptr (SfHistory) history = sf_history_open (dir, &error);
  g_autoptr (SfGenerationRecord) record = sf_history_test_record (2);
  record->status = SF_GENERATION_RUNNING;
  gint64 id = sf_history_insert (history, record, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (sf_history_update_status (history, id, SF_GENERATION_CANCELLED, "stopped", 1234, &error));
  g_assert_true (sf_history_set_favourite (history, id, TRUE, &error));
  g_autoptr (SfGenerationRecord) back = sf_history_get (history, id, &error);
  g_assert_cmpint (back->status, ==, SF_GENERATION_CANCELLED);
  g_assert_cmpstr (back->status_message, ==, "stopped");
  g_assert_cmpint (back->duration_us, ==, 1234);
  g_assert_true (back->favourite);
  g_assert_null (back->image_path);
  g_assert_null (sf_history_get_thumbnail (history, id, &error));
  g_assert_no_error (error);
}

static gint64
insert_with_image (SfHistory *history, int index, gint64 parent_id, gint64 created_us)
{
  g_autoptr (SfGenerationRecord) record = sf_history_test_record (index);
  record->parent_id = parent_id;
  if (created_us)
    record->created_us = created_us;
  g_autofree guint8 *pixels = sf_history_test_pixels (16, 16, index);
  SfHistoryImage image = { .pixels = pixels, .width_px = 16, .height_px = 16, .stride = 64 };
  g_autoptr (GError) error = NULL;
  gint64 id = sf_history_insert (history, record, &image, &image, &image, &error);
  g_assert_no_error (error);
  return id;
}

static void
test_delete_removes_files_and_prune_keeps_favourites (void)
{
  g_autofree char *dir = sf_history_test_dir ();
  g_autoptr (GError) error = NULL;
  g_autoptr (SfHistory) history = sf_history_open (dir, &error);
  gint64 parent = insert_with_image (history, 1, 0, 0);
  gint64 child = insert_with_image (history, 2, parent, 0);
  g_assert_cmpuint (sf_history_test_count_files (dir), ==, 6);
  g_assert_true (sf_history_delete (history, parent, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (sf_history_test_count_files (dir), ==, 3);
  g_autoptr (SfGenerationRecord) orphan = sf_history_get (history, child, &error);
  g_assert_cmpint (orphan->parent_id, ==, 0);
  g_assert_null (sf_history_get_thumbnail (history, parent, &error));
  g_assert_cmpuint (count_search (history, "prompt"), ==, 1); /* the index forgot it too */

  /* Prune: old non-favourites go; favourites and newer ones stay. */
  gint64 now = g_get_real_time ();
  gint64 old_favourite = insert_with_image (history, 3, 0, now - 3 * G_TIME_SPAN_DAY);
  insert_with_image (history, 4, 0, now - 2 * G_TIME_SPAN_DAY);
  gint64 recent = insert_with_image (history, 5, 0, now);
  g_assert_true (sf_history_set_favourite (history, old_favourite, TRUE, &error));
  guint deleted = 0;
  g_assert_true (sf_history_prune (history, now - G_TIME_SPAN_DAY, &deleted, &error));
  g_assert_no_error (error);
  /* The two-day-old one and the child (made in 2023). */
  g_assert_cmpuint (deleted, ==, 2);
  g_autoptr (GArray) ids = sf_history_query_ids (history, &(SfHistoryFilter) { .mode = -1 }, &error);
  g_assert_cmpuint (ids->len, ==, 2);
  g_assert_true (sf_history_prune (history, G_MAXINT64, &deleted, &error));
  g_assert_cmpuint (deleted, ==, 1);
  g_autoptr (GArray) left = sf_history_query_ids (history, &(SfHistoryFilter) { .mode = -1 }, &error);
  g_assert_cmpuint (left->len, ==, 1);
  g_assert_cmpint (g_array_index (left, gint64, 0), ==, old_favourite);
  g_assert_cmpuint (sf_history_test_count_files (dir), ==, 3);
  g_assert_null (sf_history_get (history, recent, NULL));
}

static void
test_lineage_follows_parents_and_children (void)
{
  g_autofree char *dir = sf_history_test_dir ();
  g_autoptr (GError) error = NULL;
  g_autoptr (SfHistory) history = sf_history_open (dir, &error);
  /* a ─ b ─ c        (times increase with the letters)
   *  │   └─ d
   *  └─ e            and an unrelated f */
  gint64 t = 1700000000000000;
  gint64 a = insert_with_image (history, 1, 0, t);
  gint64 b = insert_with_image (history, 2, a, t + 1);
  gint64 c = insert_with_image (history, 3, b, t + 2);
  gint64 d = insert_with_image (history, 4, b, t + 3);
  gint64 e = insert_with_image (history, 5, a, t + 4);
  insert_with_image (history, 6, 0, t + 5);
  g_autoptr (GPtrArray) chain = sf_history_get_parent_chain (history, c, &error);
  g_assert_no_error (error);
  gint64 expected_chain[] = { c, b, a };
  g_assert_cmpuint (chain->len, ==, 3);
  for (guint i = 0; i < 3; i++)
    g_assert_cmpint (((SfGenerationRecord *) chain->pdata[i])->id, ==, expected_chain[i]);
  g_autoptr (GPtrArray) children = sf_history_get_children (history, b, &error);
  g_assert_cmpuint (children->len, ==, 2);
  g_assert_cmpint (((SfGenerationRecord *) children->pdata[0])->id, ==, c);
  g_assert_cmpint (((SfGenerationRecord *) children->pdata[1])->id, ==, d);
  g_autoptr (GPtrArray) lineage = sf_history_get_lineage (history, d, &error);
  gint64 expected_tree[] = { a, b, c, d, e };
  g_assert_cmpuint (lineage->len, ==, 5);
  for (guint i = 0; i < 5; i++)
    g_assert_cmpint (((SfGenerationRecord *) lineage->pdata[i])->id, ==, expected_tree[i]);
  g_assert_null (sf_history_get_parent_chain (history, 999, &error));
  g_assert_error (error, SF_HISTORY_ERROR, SF_HISTORY_ERROR_NOT_FOUND);
}

/* Every earlier schema version, with rows, opens and migrates to the
 * current one keeping them. Version 0 is a new, empty database. */
static void
test_migrates_from_every_earlier_version (void)
{
  for (int version = 0; version <= SF_HISTORY_SCHEMA_VERSION; version++)
    {
      g_autofree char *dir = sf_history_test_dir ();
      g_autofree char *path = g_build_filename (dir, "history.db", NULL);
      sqlite3 *db = NULL;
      g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
      g_autoptr (GError) error = NULL;
      g_assert_true (sf_history_schema_migrate (db, version, &error));
      g_assert_cmpint (sf_history_schema_get_version (db, &error), ==, version);
      if (version >= 1)
        /* A row as version 1 stored it. */
        g_assert_true (sf_history_exec (
          db,
          "INSERT INTO generations (id, created_us, mode, prompt, seed, sampler, scheduler,"
          " steps, cfg_scale, width, height, status, favourite)"
          " VALUES (5, 1700000000000000, 'img2img', 'an old lighthouse', -1, 'euler', 'karras',"
          " 20, 6.5, 832, 1216, 'done', 1);", "seeding", &error));
      sqlite3_close (db);

      g_autoptr (SfHistory) history = sf_history_open (dir, &error);
      g_assert_no_error (error);
      sqlite3_open (path, &db);
      g_assert_cmpint (sf_history_schema_get_version (db, &error), ==, SF_HISTORY_SCHEMA_VERSION);
      sqlite3_close (db);
      if (version >= 1)
        {
          g_autoptr (SfGenerationRecord) old = sf_history_get (history, 5, &error);
          g_assert_no_error (error);
          g_assert_cmpstr (old->prompt, ==, "an old lighthouse");
          g_assert_cmpuint (old->seed, ==, G_MAXUINT64);
          g_assert_cmpint (old->mode, ==, SF_GENERATION_IMG2IMG);
          g_assert_true (old->favourite);
          g_assert_cmpuint (count_search (history, "lighthouse"), ==, 1);
        }
      /* New rows work after the migration. */
      insert_with_image (history, 9, version >= 1 ? 5 : 0, 0);
    }
}

static void
test_refuses_a_newer_database (void)
{
  g_autofree char *dir = sf_history_test_dir ();
  g_autofree char *path = g_build_filename (dir, "history.db", NULL);
  sqlite3 *db = NULL;
  sqlite3_open (path, &db);
  g_assert_true (sf_history_exec (db, "PRAGMA user_version = 99", "test", NULL));
  sqlite3_close (db);
  g_autoptr (GError) error = NULL;
  g_assert_null (sf_history_open (dir, &error));
  g_assert_error (error, SF_HISTORY_ERROR, SF_HISTORY_ERROR_TOO_NEW);
  g_assert_nonnull (strstr (error->message, "99"));
  /* A file that is not a database. */
  g_autofree char *other = sf_history_test_dir ();
  g_autofree char *junk = g_build_filename (other, "history.db", NULL);
  g_assert_true (g_file_set_contents (junk, "this is not SQLite, but long enough to look at it", -1, NULL));
  g_clear_error (&error);
  g_assert_null (sf_history_open (other, &error));
  g_assert_error (error, SF_HISTORY_ERROR, SF_HISTORY_ERROR_DATABASE);
}

typedef struct {
  GMainLoop *loop;
  GArray *order;
  guint pending;
  guint watch_calls;
  GThread *main_thread;
} AsyncState;

static void
on_done (gint64 id, const GError *error, gpointer user_data)
{
  AsyncState *state = user_data;
  g_assert_true (g_thread_self () == state->main_thread);
  gint64 value = error ? -error->code - 1 : id;
  g_array_append_val (state->order, value);
  if (--state->pending == 0)
    g_main_loop_quit (state->loop);
}

static void
on_changed (gpointer user_data)
{
  AsyncState *state = user_data;
  g_assert_true (g_thread_self () == state->main_thread);
  state->watch_calls++;
}

static void
test_async_writes_report_in_order_on_the_main_context (void)
{
  g_autofree char *dir = sf_history_test_dir ();
  g_autoptr (GError) error = NULL;
  g_autoptr (SfHistory) history = sf_history_open (dir, &error);
  AsyncState state = { .loop = g_main_loop_new (NULL, FALSE),
                       .order = g_array_new (FALSE, FALSE, sizeof (gint64)),
                       .main_thread = g_thread_self () };
  guint watch = sf_history_add_watch (history, on_changed, &state);
  g_autofree guint8 *pixels = sf_history_test_pixels (64, 64, 1);
  for (int i = 0; i < 4; i++)
    {
      g_autoptr (SfGenerationRecord) record = sf_history_test_record (i);
      SfHistoryImage image = { .pixels = pixels, .width_px = 64, .height_px = 64, .stride = 256 };
      sf_history_insert_async (history, record, &image, NULL, NULL, on_done, &state);
      state.pending++;
    }
  /* The pixels were copied: scribbling on them now changes nothing. */
  memset (pixels, 0, 64 * 64 * 4);
  sf_history_set_favourite_async (history, 2, TRUE, on_done, &state);
  sf_history_delete_async (history, 3, on_done, &state);
  sf_history_delete_async (history, 3, on_done, &state);
  state.pending += 3;
  /* The writes finish while nobody iterates the main context: the
   * callbacks must still wait for it, not run on the worker thread. */
  g_usleep (300000);
  g_main_loop_run (state.loop);
  gint64 expected[] = { 1, 2, 3, 4, 2, 3, -SF_HISTORY_ERROR_NOT_FOUND - 1 };
  g_assert_cmpmem (state.order->data, state.order->len * 8, expected, sizeof expected);
  /* Each successful write told the watch once, on the main context. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (state.watch_calls, ==, 6);
  sf_history_remove_watch (history, watch);
  g_autoptr (GBytes) thumbnail = sf_history_get_thumbnail (history, 4, &error);
  g_autoptr (SfImage) small = sf_png_load_from_data (g_bytes_get_data (thumbnail, NULL),
                                                     g_bytes_get_size (thumbnail), &error);
  g_assert_no_error (error);
  g_autofree guint8 *original = sf_history_test_pixels (64, 64, 1);
  g_assert_cmpuint (small->pixels[0], ==, original[0]);
  g_main_loop_unref (state.loop);
  g_array_unref (state.order);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/history/inserts-and-reads-back-every-field", test_inserts_and_reads_back_every_field);
  g_test_add_func ("/history/bad-input-gives-errors-and-leaves-no-files",
                   test_bad_input_gives_errors_and_leaves_no_files);
  g_test_add_func ("/history/queries-filter-sort-and-page", test_queries_filter_sort_and_page);
  g_test_add_func ("/history/search-query-quotes-safely", test_search_query_quotes_safely);
  g_test_add_func ("/history/search-finds-words-phrases-and-unicode",
                   test_search_finds_words_phrases_and_unicode);
  g_test_add_func ("/history/updates-status-and-favourite", test_updates_status_and_favourite);
  g_test_add_func ("/history/delete-removes-files-and-prune-keeps-favourites",
                   test_delete_removes_files_and_prune_keeps_favourites);
  g_test_add_func ("/history/lineage-follows-parents-and-children",
                   test_lineage_follows_parents_and_children);
  g_test_add_func ("/history/migrates-from-every-earlier-version",
                   test_migrates_from_every_earlier_version);
  g_test_add_func ("/history/refuses-a-newer-database", test_refuses_a_newer_database);
  g_test_add_func ("/history/async-writes-report-in-order-on-the-main-context",
                   test_async_writes_report_in_order_on_the_main_context);
  return g_test_run ();
}
