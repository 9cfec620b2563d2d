/* PNG text chunks and generation parameters (A1111, ComfyUI). PNG files
 * with chunks in unusual places are assembled here chunk by chunk with
 * zlib, independently of the code under test. */
#include <string.h>
#include <zlib.h>

#include "infotext.h"
#include "png-io.h"
#include "png_text.h"

/* ---- a chunk-level PNG assembler (the reference) ---------------------- */

static void
append_chunk (GByteArray *png, const char *type, const void *data, gsize length)
{
  guint8 header[8] = { length >> 24, length >> 16, length >> 8, length };
  memcpy (header + 4, type, 4);
  g_byte_array_append (png, header, 8);
  if (length)
    g_byte_array_append (png, data, length);
  uLong crc = crc32 (0, (const Bytef *) type, 4);
  if (length)
    crc = crc32 (crc, data, length);
  guint8 tail[4] = { crc >> 24, crc >> 16, crc >> 8, crc };
  g_byte_array_append (png, tail, 4);
}

static void
append_keyword_chunk (GByteArray *png, const char *type, const char *key, const guint8 *body,
                      gsize body_length)
{
  g_autoptr (GByteArray) data = g_byte_array_new ();
  g_byte_array_append (data, (const guint8 *) key, strlen (key) + 1);
  g_byte_array_append (data, body, body_length);
  append_chunk (png, type, data->data, data->len);
}

/* A 2x2 grey PNG; text chunks go before or after IDAT as asked. */
static GBytes *
assemble_png (void (*before) (GByteArray *), void (*after) (GByteArray *))
{
  GByteArray *png = g_byte_array_new ();
  static const guint8 signature[8] = { 137, 80, 78, 71, 13, 10, 26, 10 };
  g_byte_array_append (png, signature, 8);
  guint8 ihdr[13] = { 0, 0, 0, 2, 0, 0, 0, 2, 8, 0, 0, 0, 0 };
  append_chunk (png, "IHDR", ihdr, sizeof ihdr);
  if (before)
    before (png);
  guint8 raw[6] = { 0, 10, 20, 0, 30, 40 }; /* filter byte + 2 pixels per row */
  guint8 compressed[64];
  uLongf compressed_length = sizeof compressed;
  g_assert_cmpint (compress (compressed, &compressed_length, raw, sizeof raw), ==, Z_OK);
  append_chunk (png, "IDAT", compressed, compressed_length);
  if (after)
    after (png);
  append_chunk (png, "IEND", NULL, 0);
  return g_byte_array_free_to_bytes (png);
}

static void
add_latin1_text (GByteArray *png)
{
  static const guint8 cafe[] = { 'c', 'a', 'f', 0xE9 }; /* "café" in Latin-1 */
  append_keyword_chunk (png, "tEXt", "parameters", cafe, sizeof cafe);
}

static void
add_late_text (GByteArray *png)
{
  /* zTXt: keyword, NUL, method 0, zlib data. */
  const char *text = "late zTXt value";
  guint8 body[128] = { 0 };
  uLongf length = sizeof body - 1;
  g_assert_cmpint (compress (body + 1, &length, (const Bytef *) text, strlen (text)), ==, Z_OK);
  append_keyword_chunk (png, "zTXt", "Comment", body, length + 1);
  /* iTXt: keyword, NUL, flag 0, method 0, language "", NUL, translated "", NUL, text. */
  const char *utf8 = "Ölgemälde 🎨";
  g_autoptr (GByteArray) itxt = g_byte_array_new ();
  guint8 flags[4] = { 0, 0, 0, 0 };
  g_byte_array_append (itxt, flags, 4);
  g_byte_array_append (itxt, (const guint8 *) utf8, strlen (utf8));
  append_keyword_chunk (png, "iTXt", "Description", itxt->data, itxt->len);
}

/* ---- PNG text --------------------------------------------------------- */

static void
test_reads_text_before_and_after_image_data (void)
{
  g_autoptr (GBytes) png = assemble_png (add_latin1_text, add_late_text);
  g_autoptr (GError) error = NULL;
  gsize size;
  const guint8 *data = g_bytes_get_data (png, &size);
  g_autoptr (GHashTable) text = sf_png_text_read_data (data, size, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_hash_table_size (text), ==, 3);
  g_assert_cmpstr (g_hash_table_lookup (text, "parameters"), ==, "café");
  g_assert_cmpstr (g_hash_table_lookup (text, "Comment"), ==, "late zTXt value");
  g_assert_cmpstr (g_hash_table_lookup (text, "Description"), ==, "Ölgemälde 🎨");
}

static void
test_writes_text_that_reads_back_with_the_pixels (void)
{
  enum { W = 5, H = 3 };
  guint8 pixels[W * H * 4];
  for (gsize i = 0; i < sizeof pixels; i++)
    pixels[i] = (guint8) (i * 37 + 11);
  const char *text[] = { "parameters", "a cat at night\nSteps: 20",
                         "prompt", "{\"text\": \"café 油絵 🎨\"}", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) png = sf_png_encode (pixels, W, H, W * 4, SF_PNG_RGBA, text, 6, &error);
  g_assert_no_error (error);
  gsize size;
  const guint8 *data = g_bytes_get_data (png, &size);
  g_autoptr (GHashTable) table = sf_png_text_read_data (data, size, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (g_hash_table_lookup (table, "parameters"), ==, text[1]);
  g_assert_cmpstr (g_hash_table_lookup (table, "prompt"), ==, text[3]);
  /* The ASCII text is a tEXt chunk, the other an iTXt, both before IDAT. */
  const guint8 *tEXt = memmem (data, size, "tEXtparameters", 14);
  const guint8 *iTXt = memmem (data, size, "iTXtprompt", 10);
  const guint8 *IDAT = memmem (data, size, "IDAT", 4);
  g_assert_nonnull (tEXt);
  g_assert_nonnull (iTXt);
  g_assert_true (tEXt < IDAT && iTXt < IDAT);

  g_autoptr (SfImage) decoded = sf_png_load_from_data (data, size, &error);
  g_assert_no_error (error);
  g_assert_cmpint (decoded->width, ==, W);
  g_assert_cmpint (decoded->height, ==, H);
  g_assert_cmpmem (decoded->pixels, sizeof pixels, pixels, sizeof pixels);

  /* Without alpha: RGB, the alpha channel read back as opaque. */
  g_autoptr (GBytes) rgb = sf_png_encode (pixels, W, H, W * 4, SF_PNG_RGB, NULL, 6, &error);
  g_assert_no_error (error);
  g_assert_nonnull (memmem (g_bytes_get_data (rgb, NULL), 32, "IHDR", 4));
  g_assert_cmpuint (((const guint8 *) g_bytes_get_data (rgb, NULL))[25], ==, 2); /* colour type RGB */
  g_autoptr (SfImage) opaque = sf_png_load_from_data (g_bytes_get_data (rgb, NULL),
                                                      g_bytes_get_size (rgb), &error);
  g_assert_no_error (error);
  for (gsize i = 0; i < sizeof pixels; i++)
    g_assert_cmpuint (opaque->pixels[i], ==, i % 4 == 3 ? 255 : pixels[i]);
}

static void
test_writer_refuses_bad_keywords_and_sizes (void)
{
  guint8 pixels[4] = { 0 };
  g_autoptr (GError) error = NULL;
  const char *empty_key[] = { "", "x", NULL };
  g_assert_null (sf_png_encode (pixels, 1, 1, 4, SF_PNG_RGBA, empty_key, 6, &error));
  g_assert_error (error, SF_IO_ERROR, SF_IO_ERROR_WRITE);
  g_clear_error (&error);
  const char *unicode_key[] = { "油絵", "x", NULL };
  g_assert_null (sf_png_encode (pixels, 1, 1, 4, SF_PNG_RGBA, unicode_key, 6, &error));
  g_assert_error (error, SF_IO_ERROR, SF_IO_ERROR_WRITE);
  g_clear_error (&error);
  g_assert_null (sf_png_encode (pixels, 0, 1, 4, SF_PNG_RGB, NULL, 6, &error));
  g_assert_error (error, SF_IO_ERROR, SF_IO_ERROR_WRITE);
}

static void
test_truncated_and_corrupt_files_give_errors (void)
{
  g_autoptr (GBytes) png = assemble_png (add_latin1_text, add_late_text);
  gsize size;
  const guint8 *data = g_bytes_get_data (png, &size);
  /* Every proper prefix fails cleanly (the IEND chunk is 12 bytes; a file
   * cut inside it still lacks it). */
  for (gsize length = 0; length < size; length++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree guint8 *copy = g_memdup2 (data, length + 1); /* no read past @length */
      GHashTable *text = sf_png_text_read_data (copy, length, &error);
      g_assert_null (text);
      g_assert_nonnull (error);
      g_assert_true (error->code == SF_PNG_TEXT_ERROR_NOT_PNG || error->code == SF_PNG_TEXT_ERROR_CORRUPT);
    }
  /* Flipping any byte never crashes; flips in critical chunks are errors
   * (their CRC no longer matches). */
  g_autofree guint8 *copy = g_memdup2 (data, size);
  guint failures = 0;
  for (gsize i = 0; i < size; i++)
    {
      copy[i] ^= 0x5A;
      g_autoptr (GError) error = NULL;
      GHashTable *text = sf_png_text_read_data (copy, size, &error);
      if (text)
        g_hash_table_unref (text);
      else
        failures++;
      g_assert_true ((text == NULL) == (error != NULL));
      copy[i] ^= 0x5A;
    }
  g_assert_cmpuint (failures, >, size / 2);
  g_autoptr (GError) error = NULL;
  g_assert_null (sf_png_text_read_data ((const guint8 *) "GIF89a..", 8, &error));
  g_assert_error (error, SF_PNG_TEXT_ERROR, SF_PNG_TEXT_ERROR_NOT_PNG);
  g_clear_error (&error);
  g_assert_null (sf_png_text_read_file ("/nonexistent/file.png", &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_clear_error (&error);
  g_assert_null (sf_png_load_from_data (data, 40, &error));
  g_assert_error (error, SF_IO_ERROR, SF_IO_ERROR_CORRUPT);
}

/* ---- A1111 ------------------------------------------------------------- */

static const char A1111_SAMPLE[] =
  "masterpiece, a (red:1.2) fox in the snow,\n"
  "  watercolor \n"
  "Negative prompt: blurry, lowres\n"
  "ugly\n"
  "Steps: 30, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6.5, Seed: 4294967296123, "
  "Size: 832x1216, Model hash: 31e35c80fc, Model: sd_xl_base_1.0, Denoising strength: 0.35, "
  "Lora hashes: \"fox: a1b2, snow \\\"x\\\": c3\", Refiner: sd_xl_refiner_1.0 [7440042bbd], "
  "Refiner switch at: 0.8, Version: v1.10.1";

static void
test_parses_a1111_parameters (void)
{
  g_autoptr (SfInfotext) info = sf_infotext_parse_a1111 (A1111_SAMPLE);
  g_assert_cmpstr (info->prompt, ==, "masterpiece, a (red:1.2) fox in the snow,\nwatercolor");
  g_assert_cmpstr (info->negative_prompt, ==, "blurry, lowres\nugly");
  g_assert_cmpint (info->steps, ==, 30);
  g_assert_cmpstr (info->sampler, ==, "DPM++ 2M");
  g_assert_cmpstr (info->scheduler, ==, "Karras");
  g_assert_cmpfloat (info->cfg_scale, ==, 6.5);
  g_assert_true (info->has_seed);
  g_assert_cmpuint (info->seed, ==, G_GUINT64_CONSTANT (4294967296123));
  g_assert_cmpint (info->width_px, ==, 832);
  g_assert_cmpint (info->height_px, ==, 1216);
  g_assert_cmpstr (info->model_hash, ==, "31e35c80fc");
  g_assert_cmpstr (info->model, ==, "sd_xl_base_1.0");
  g_assert_cmpfloat (info->denoising_strength, ==, 0.35);
  g_assert_cmpstr (info->refiner, ==, "sd_xl_refiner_1.0 [7440042bbd]");
  g_assert_cmpfloat (info->refiner_switch_at, ==, 0.8);
  g_assert_cmpstr (sf_infotext_lookup (info, "Lora hashes"), ==, "fox: a1b2, snow \"x\": c3");
  g_assert_cmpstr (sf_infotext_lookup (info, "Version"), ==, "v1.10.1");
  g_assert_cmpuint (info->keys->len, ==, 13);
}

static void
test_a1111_needs_three_pairs_for_a_parameter_line (void)
{
  g_autoptr (SfInfotext) info = sf_infotext_parse_a1111 ("a castle\nstyle: gothic, mood: dark");
  g_assert_cmpstr (info->prompt, ==, "a castle\nstyle: gothic, mood: dark");
  g_assert_cmpstr (info->negative_prompt, ==, "");
  g_assert_cmpint (info->steps, ==, 0);
  g_assert_false (info->has_seed);
  g_autoptr (SfInfotext) empty = sf_infotext_parse_a1111 ("");
  g_assert_cmpstr (empty->prompt, ==, "");
  /* A bad Size or Seed is ignored, not guessed. */
  g_autoptr (SfInfotext) bad = sf_infotext_parse_a1111 ("x\nSteps: 5, Seed: -3, Size: 12by4");
  g_assert_cmpint (bad->steps, ==, 5);
  g_assert_false (bad->has_seed);
  g_assert_cmpint (bad->width_px, ==, 0);
}

static void
test_formats_exactly_like_a1111 (void)
{
  g_autoptr (SfInfotext) info = sf_infotext_new ();
  info->prompt = g_strdup ("a lighthouse, storm");
  info->negative_prompt = g_strdup ("blurry");
  info->steps = 20;
  info->sampler = g_strdup ("DPM++ 2M");
  info->scheduler = g_strdup ("Karras");
  info->cfg_scale = 7;
  info->has_seed = TRUE;
  info->seed = 123;
  info->width_px = 1024;
  info->height_px = 768;
  info->model_hash = g_strdup ("31e35c80fc");
  info->model = g_strdup ("sd_xl_base_1.0");
  const char *keys[] = { "Note", NULL };
  const char *values[] = { "a, \"b\"", NULL };
  g_autofree char *text = sf_infotext_format_a1111 (info, keys, values);
  g_assert_cmpstr (text, ==,
                   "a lighthouse, storm\n"
                   "Negative prompt: blurry\n"
                   "Steps: 20, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 123, "
                   "Size: 1024x768, Model hash: 31e35c80fc, Model: sd_xl_base_1.0, "
                   "Note: \"a, \\\"b\\\"\"");
  /* No negative line when the negative is empty; img2img strength and the
   * refiner follow the model. */
  g_free (info->negative_prompt);
  info->negative_prompt = g_strdup ("");
  info->denoising_strength = 0.75;
  info->refiner = g_strdup ("refiner [abc]");
  info->refiner_switch_at = 0.8;
  info->cfg_scale = 7.5;
  g_free (text);
  text = sf_infotext_format_a1111 (info, NULL, NULL);
  g_assert_cmpstr (text, ==,
                   "a lighthouse, storm\n"
                   "Steps: 20, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7.5, Seed: 123, "
                   "Size: 1024x768, Model hash: 31e35c80fc, Model: sd_xl_base_1.0, "
                   "Denoising strength: 0.75, Refiner: refiner [abc], Refiner switch at: 0.8");
}

static void
test_format_and_parse_round_trip (void)
{
  static const char *const prompts[] = {
    "plain",
    "commas, colons: and \"quotes\"",
    "multi\nline prompt",
    "unicode: 油絵の猫, café, 🎨",
    "(weighted:1.3), [de-emphasised], {braces}",
  };
  static const char *const samplers[] = { "Euler a", "DPM++ 2M SDE", "name, with comma", "k: v" };
  for (gsize i = 0; i < G_N_ELEMENTS (prompts); i++)
    for (gsize j = 0; j < G_N_ELEMENTS (samplers); j++)
      {
        g_autoptr (SfInfotext) info = sf_infotext_new ();
        info->prompt = g_strdup (prompts[i]);
        info->negative_prompt = g_strdup (prompts[(i + j) % G_N_ELEMENTS (prompts)]);
        info->steps = (int) (i * 7 + j + 1);
        info->sampler = g_strdup (samplers[j]);
        info->scheduler = g_strdup (j % 2 ? "Exponential" : "Karras");
        info->cfg_scale = 1.0 + 0.1 * (double) (i + j);
        info->has_seed = TRUE;
        info->seed = G_MAXUINT64 - i * 1000 - j;
        info->width_px = 512 + 64 * (int) i;
        info->height_px = 1024 - 64 * (int) j;
        info->model = g_strdup ("model, v2: final");
        info->model_hash = g_strdup ("deadbeef");
        info->denoising_strength = j % 2 ? 0.3 + 0.01 * (double) i : -1;
        g_autofree char *text = sf_infotext_format_a1111 (info, NULL, NULL);
        g_autoptr (SfInfotext) back = sf_infotext_parse_a1111 (text);
        g_assert_cmpstr (back->prompt, ==, info->prompt);
        g_assert_cmpstr (back->negative_prompt, ==, info->negative_prompt);
        g_assert_cmpint (back->steps, ==, info->steps);
        g_assert_cmpstr (back->sampler, ==, info->sampler);
        g_assert_cmpstr (back->scheduler, ==, info->scheduler);
        g_assert_cmpfloat (back->cfg_scale, ==, info->cfg_scale);
        g_assert_cmpuint (back->seed, ==, info->seed);
        g_assert_cmpint (back->width_px, ==, info->width_px);
        g_assert_cmpint (back->height_px, ==, info->height_px);
        g_assert_cmpstr (back->model, ==, info->model);
        g_assert_cmpstr (back->model_hash, ==, info->model_hash);
        g_assert_cmpfloat (back->denoising_strength, ==, info->denoising_strength);
      }
}

static void
test_formats_numbers_like_python (void)
{
  static const struct { double value; const char *text; } cases[] = {
    { 7, "7" }, { 7.5, "7.5" }, { 0.1, "0.1" }, { 0.35, "0.35" }, { 1.0 / 3, "0.3333333333333333" },
    { -2, "-2" }, { 1e-7, "1e-07" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = sf_infotext_format_number (cases[i].value);
      g_assert_cmpstr (text, ==, cases[i].text);
    }
}

/* ---- ComfyUI ----------------------------------------------------------- */

/* ComfyUI's default graph, with the seed from a primitive node, the
 * positive prompt through a ConditioningCombine and an SDXL encoder. */
static const char COMFY_SAMPLE[] =
  "{"
  " \"3\": {\"inputs\": {\"seed\": [\"20\", 0], \"steps\": 25, \"cfg\": 7.5,"
  "        \"sampler_name\": \"dpmpp_2m\", \"scheduler\": \"karras\", \"denoise\": 1,"
  "        \"model\": [\"10\", 0], \"positive\": [\"11\", 0], \"negative\": [\"7\", 0],"
  "        \"latent_image\": [\"5\", 0]}, \"class_type\": \"KSampler\"},"
  " \"4\": {\"inputs\": {\"ckpt_name\": \"sd_xl_base_1.0.safetensors\"},"
  "        \"class_type\": \"CheckpointLoaderSimple\"},"
  " \"5\": {\"inputs\": {\"width\": 1152, \"height\": 896, \"batch_size\": 1},"
  "        \"class_type\": \"EmptyLatentImage\"},"
  " \"6\": {\"inputs\": {\"text_g\": \"a misty forest, 油絵\", \"text_l\": \"forest\", \"clip\": [\"4\", 1]},"
  "        \"class_type\": \"CLIPTextEncodeSDXL\"},"
  " \"7\": {\"inputs\": {\"text\": \"text, watermark\", \"clip\": [\"4\", 1]},"
  "        \"class_type\": \"CLIPTextEncode\"},"
  " \"10\": {\"inputs\": {\"lora_name\": \"x\", \"model\": [\"4\", 0]}, \"class_type\": \"LoraLoader\"},"
  " \"11\": {\"inputs\": {\"conditioning_1\": [\"6\", 0], \"conditioning_2\": [\"7\", 0]},"
  "        \"class_type\": \"ConditioningCombine\"},"
  " \"20\": {\"inputs\": {\"value\": 18446744073709551}, \"class_type\": \"PrimitiveInt\"},"
  " \"30\": {\"inputs\": {\"seed\": 1, \"steps\": 5}, \"class_type\": \"KSampler\"}"
  "}";

static void
test_parses_comfyui_prompt_graph (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SfInfotext) info = sf_infotext_parse_comfyui (COMFY_SAMPLE, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (info->prompt, ==, "a misty forest, 油絵");
  g_assert_cmpstr (info->negative_prompt, ==, "text, watermark");
  g_assert_true (info->has_seed);
  g_assert_cmpuint (info->seed, ==, G_GUINT64_CONSTANT (18446744073709551));
  g_assert_cmpint (info->steps, ==, 25);
  g_assert_cmpfloat (info->cfg_scale, ==, 7.5);
  g_assert_cmpstr (info->sampler, ==, "dpmpp_2m");
  g_assert_cmpstr (info->scheduler, ==, "karras");
  g_assert_cmpint (info->width_px, ==, 1152);
  g_assert_cmpint (info->height_px, ==, 896);
  g_assert_cmpstr (info->model, ==, "sd_xl_base_1.0.safetensors");
  g_assert_cmpfloat (info->denoising_strength, ==, 1.0);
}

static void
test_comfyui_errors_are_clear (void)
{
  static const char *const bad[] = {
    "not json", "[1, 2]", "{\"1\": {\"class_type\": \"CLIPTextEncode\", \"inputs\": {}}}",
    /* A cycle of links must end. */
    "{\"1\": {\"class_type\": \"KSampler\", \"inputs\": {\"positive\": [\"2\", 0], \"seed\": [\"3\", 0]}},"
    " \"2\": {\"class_type\": \"X\", \"inputs\": {\"conditioning\": [\"2\", 0]}},"
    " \"3\": {\"class_type\": \"Y\", \"inputs\": {\"value\": [\"3\", 0]}}}",
  };
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (SfInfotext) info = sf_infotext_parse_comfyui (bad[i], &error);
      if (i < 3)
        {
          g_assert_null (info);
          g_assert_nonnull (error);
        }
      else
        {
          g_assert_no_error (error);
          g_assert_cmpstr (info->prompt, ==, "");
          g_assert_false (info->has_seed);
        }
    }
}

/* The editor's graph of ComfyUI's default workflow, as saved in PNGs. */
static const char COMFY_WORKFLOW[] =
  "{\"last_node_id\": 9, \"nodes\": ["
  " {\"id\": 7, \"type\": \"CLIPTextEncode\", \"widgets_values\": [\"text, watermark\"]},"
  " {\"id\": 3, \"type\": \"KSampler\", \"inputs\": ["
  "    {\"name\": \"model\", \"type\": \"MODEL\", \"link\": 1},"
  "    {\"name\": \"positive\", \"type\": \"CONDITIONING\", \"link\": 4},"
  "    {\"name\": \"negative\", \"type\": \"CONDITIONING\", \"link\": 6},"
  "    {\"name\": \"latent_image\", \"type\": \"LATENT\", \"link\": 2}],"
  "  \"widgets_values\": [156680208700286, \"randomize\", 20, 8, \"euler\", \"normal\", 1]},"
  " {\"id\": 4, \"type\": \"CheckpointLoaderSimple\", \"widgets_values\": [\"v1-5-pruned-emaonly.safetensors\"]},"
  " {\"id\": 5, \"type\": \"EmptyLatentImage\", \"widgets_values\": [512, 768, 1]},"
  " {\"id\": 6, \"type\": \"CLIPTextEncode\", \"widgets_values\": [\"beautiful scenery, glass bottle\"]}],"
  " \"links\": [[1, 4, 0, 3, 0, \"MODEL\"], [2, 5, 0, 3, 3, \"LATENT\"],"
  "   [4, 6, 0, 3, 1, \"CONDITIONING\"], [6, 7, 0, 3, 2, \"CONDITIONING\"]]}";

static void
test_parses_comfyui_workflow (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SfInfotext) info = sf_infotext_parse_comfyui_workflow (COMFY_WORKFLOW, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (info->prompt, ==, "beautiful scenery, glass bottle");
  g_assert_cmpstr (info->negative_prompt, ==, "text, watermark");
  g_assert_cmpuint (info->seed, ==, G_GUINT64_CONSTANT (156680208700286));
  g_assert_cmpint (info->steps, ==, 20);
  g_assert_cmpfloat (info->cfg_scale, ==, 8);
  g_assert_cmpstr (info->sampler, ==, "euler");
  g_assert_cmpstr (info->scheduler, ==, "normal");
  g_assert_cmpint (info->width_px, ==, 512);
  g_assert_cmpint (info->height_px, ==, 768);
  g_assert_cmpstr (info->model, ==, "v1-5-pruned-emaonly.safetensors");
  /* Broken graphs fail cleanly. */
  static const char *const bad[] = { "{}", "{\"nodes\": 3}", "{\"nodes\": [{\"id\": 1, \"type\": \"Note\"}]}", "[" };
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) bad_error = NULL;
      g_assert_null (sf_infotext_parse_comfyui_workflow (bad[i], &bad_error));
      g_assert_nonnull (bad_error);
    }
  /* A KSampler whose links lead nowhere still gives its own values. */
  g_autoptr (SfInfotext) lonely = sf_infotext_parse_comfyui_workflow (
    "{\"nodes\": [{\"id\": 2, \"type\": \"KSampler\", \"inputs\": [{\"name\": \"positive\", \"link\": 99}],"
    " \"widgets_values\": [5, \"fixed\", 12]}]}", &error);
  g_assert_no_error (error);
  g_assert_cmpint (lonely->steps, ==, 12);
  g_assert_cmpstr (lonely->prompt, ==, "");
}

static void
test_png_text_prefers_a1111_parameters (void)
{
  g_autoptr (GHashTable) chunks = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GError) error = NULL;
  g_assert_null (sf_infotext_from_png_text (chunks, &error));
  g_assert_error (error, SF_PNG_TEXT_ERROR, SF_PNG_TEXT_ERROR_INVALID);
  g_clear_error (&error);
  g_hash_table_insert (chunks, "workflow", (char *) COMFY_WORKFLOW);
  g_autoptr (SfInfotext) from_workflow = sf_infotext_from_png_text (chunks, &error);
  g_assert_no_error (error);
  g_assert_cmpint (from_workflow->steps, ==, 20);
  g_hash_table_insert (chunks, "prompt", (char *) COMFY_SAMPLE);
  g_autoptr (SfInfotext) comfy = sf_infotext_from_png_text (chunks, &error);
  g_assert_no_error (error);
  g_assert_cmpint (comfy->steps, ==, 25);
  g_hash_table_insert (chunks, "parameters", (char *) A1111_SAMPLE);
  g_autoptr (SfInfotext) a1111 = sf_infotext_from_png_text (chunks, &error);
  g_assert_no_error (error);
  g_assert_cmpint (a1111->steps, ==, 30);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/png-text/reads-text-before-and-after-image-data",
                   test_reads_text_before_and_after_image_data);
  g_test_add_func ("/png-text/writes-text-that-reads-back-with-the-pixels",
                   test_writes_text_that_reads_back_with_the_pixels);
  g_test_add_func ("/png-text/writer-refuses-bad-keywords-and-sizes",
                   test_writer_refuses_bad_keywords_and_sizes);
  g_test_add_func ("/png-text/truncated-and-corrupt-files-give-errors",
                   test_truncated_and_corrupt_files_give_errors);
  g_test_add_func ("/infotext/parses-a1111-parameters", test_parses_a1111_parameters);
  g_test_add_func ("/infotext/a1111-needs-three-pairs-for-a-parameter-line",
                   test_a1111_needs_three_pairs_for_a_parameter_line);
  g_test_add_func ("/infotext/formats-exactly-like-a1111", test_formats_exactly_like_a1111);
  g_test_add_func ("/infotext/format-and-parse-round-trip", test_format_and_parse_round_trip);
  g_test_add_func ("/infotext/formats-numbers-like-python", test_formats_numbers_like_python);
  g_test_add_func ("/infotext/parses-comfyui-prompt-graph", test_parses_comfyui_prompt_graph);
  g_test_add_func ("/infotext/comfyui-errors-are-clear", test_comfyui_errors_are_clear);
  g_test_add_func ("/infotext/parses-comfyui-workflow", test_parses_comfyui_workflow);
  g_test_add_func ("/infotext/png-text-prefers-a1111-parameters",
                   test_png_text_prefers_a1111_parameters);
  return g_test_run ();
}
