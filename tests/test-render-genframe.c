/* The generation frame: mode detection, inpaint plans composited back
 * bit-identically outside the feather, only-masked crops and their scale
 * round trip, outpaint prefill and masks, fill, the extend frames, and
 * randomized canvases and frames (odd sizes, negative origins). Expected
 * values are computed here from the document, not from the plan. */
#include <math.h>
#include <string.h>

#include "generation-frame.h"
#include "sf-test.h"

/* A natural-ish opaque picture: smooth gradients plus a little noise. */
static guint8 *
make_picture_noisy (int width, int height, guint64 seed, float noise)
{
  SfTestRng rng;
  sf_test_rng_init (&rng, seed);
  double phase[3], freq[3];
  for (int c = 0; c < 3; c++)
    {
      phase[c] = sf_test_rng_uniform (&rng, 0, 6.28f);
      freq[c] = sf_test_rng_uniform (&rng, 0.01f, 0.05f);
    }
  guint8 *rgba = g_malloc ((gsize) width * height * 4);
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        guint8 *p = rgba + ((gsize) y * width + x) * 4;
        for (int c = 0; c < 3; c++)
          {
            double v = 128 + 90 * sin (phase[c] + freq[c] * x + 0.7 * freq[c] * y)
                       + sf_test_rng_uniform (&rng, -noise, noise);
            p[c] = (guint8) CLAMP (v, 0, 255);
          }
        p[3] = 255;
      }
  return rgba;
}

static guint8 *
make_picture (int width, int height, guint64 seed)
{
  return make_picture_noisy (width, height, seed, 6);
}

static SfDocument *
document_with_picture_noisy (int width, int height, guint64 seed, float noise)
{
  SfDocument *document = sf_document_new (width, height);
  g_autofree guint8 *picture = make_picture_noisy (width, height, seed, noise);
  g_autoptr (GError) error = NULL;
  g_assert_nonnull (sf_document_add_layer_from_rgba (document, -1, picture, width, height,
                                                     width * 4, 0, 0, "picture", NULL, &error));
  g_assert_no_error (error);
  return document;
}

static SfDocument *
document_with_picture (int width, int height, guint64 seed)
{
  return document_with_picture_noisy (width, height, seed, 6);
}

/* A hard disc of 255 in the document's mask. */
static void
mask_disc (SfDocument *document, double cx, double cy, double radius)
{
  SfRect box = { (int) floor (cx - radius) - 1, (int) floor (cy - radius) - 1,
                 (int) ceil (2 * radius) + 3, (int) ceil (2 * radius) + 3 };
  SfRect canvas = sf_document_get_canvas (document);
  if (!sf_rect_intersect (&box, &canvas, &box))
    return;
  g_autofree guint8 *mask = g_malloc ((gsize) box.width * box.height);
  sf_document_read_mask (document, &box, mask, box.width);
  for (int y = 0; y < box.height; y++)
    for (int x = 0; x < box.width; x++)
      if (hypot (box.x + x + 0.5 - cx, box.y + y + 0.5 - cy) <= radius)
        mask[y * box.width + x] = 255;
  sf_tile_grid_write (sf_document_get_mask (document), &box, mask, box.width);
}

static guint8 *
read_rgba (SfDocument *document, const SfRect *rect)
{
  guint8 *rgba = g_malloc ((gsize) rect->width * rect->height * 4);
  sf_document_read_rgba (document, rect, rgba, rect->width * 4);
  return rgba;
}

static guint8 *
read_mask (SfDocument *document, const SfRect *rect)
{
  guint8 *mask = g_malloc ((gsize) rect->width * rect->height);
  sf_document_read_mask (document, rect, mask, rect->width);
  return mask;
}

/* What sf_frame_plan_composite promises, pixel by pixel, for an opaque
 * original: the rounded linear mix, opaque result. */
static void
expected_mix (const guint8 *original, const guint8 *result, guint b, guint8 *out)
{
  if (b == 0)
    {
      memcpy (out, original, 4);
      return;
    }
  g_assert_cmpuint (original[3], ==, 255);
  for (int c = 0; c < 3; c++)
    out[c] = (guint8) ((original[c] * (255 - b) + result[c] * b + 127) / 255);
  out[3] = 255;
}

static void
test_detects_each_mode (void)
{
  g_autoptr (SfDocument) document = sf_document_new (300, 200);
  SfRect frame = { 8, 16, 128, 96 };
  g_assert_cmpint (sf_frame_detect_mode (document, &frame), ==, SF_FRAME_TXT2IMG);

  /* Content beside the frame, not in it: still empty. */
  guint8 dot[4 * 4 * 4];
  memset (dot, 200, sizeof dot);
  g_autoptr (GError) error = NULL;
  sf_document_add_layer_from_rgba (document, -1, dot, 4, 4, 16, 200, 150, "dot", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (sf_frame_detect_mode (document, &frame), ==, SF_FRAME_TXT2IMG);
  SfRect mask_beside = { 150, 10, 20, 20 };
  sf_document_fill_mask (document, &mask_beside, 255);
  g_assert_cmpint (sf_frame_detect_mode (document, &frame), ==, SF_FRAME_TXT2IMG);

  /* One faint pixel in the frame makes it img2img. */
  guint8 faint[4] = { 10, 20, 30, 1 };
  sf_document_add_layer_from_rgba (document, -1, faint, 1, 1, 4, 8 + 127, 16 + 95, "faint",
                                   NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (sf_frame_detect_mode (document, &frame), ==, SF_FRAME_IMG2IMG);

  /* A single masked pixel in the frame makes it inpaint. */
  SfRect one = { 8, 16, 1, 1 };
  sf_document_fill_mask (document, &one, 1);
  g_assert_cmpint (sf_frame_detect_mode (document, &frame), ==, SF_FRAME_INPAINT);

  /* Reaching past any edge, even by one pixel, is outpaint. */
  SfRect past[] = { { -8, 16, 128, 96 }, { 8, -1, 128, 96 }, { 173, 16, 128, 96 },
                    { 8, 105, 128, 96 }, { 400, 400, 64, 64 } };
  for (guint i = 0; i < G_N_ELEMENTS (past); i++)
    g_assert_cmpint (sf_frame_detect_mode (document, &past[i]), ==, SF_FRAME_OUTPAINT);
  SfRect whole = { 0, 0, 296, 200 };
  g_assert_cmpint (sf_frame_detect_mode (document, &whole), ==, SF_FRAME_INPAINT);

  /* The plans carry what each mode needs. */
  g_autoptr (SfFramePlan) plan = sf_frame_plan_new (document, &past[0], NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (plan->mode, ==, SF_FRAME_OUTPAINT);
  g_assert_nonnull (plan->mask);
  g_assert_nonnull (plan->blend_mask);
  g_autoptr (SfDocument) empty = sf_document_new (300, 200);
  g_autoptr (SfFramePlan) txt = sf_frame_plan_new (empty, &frame, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (txt->mode, ==, SF_FRAME_TXT2IMG);
  g_assert_null (txt->init_rgba);
  g_assert_null (txt->mask);
  g_assert_null (txt->blend_mask);
  g_assert_cmpint (txt->width, ==, 128);
  g_assert_cmpint (txt->height, ==, 96);
}

static void
test_rejects_bad_frames (void)
{
  g_autoptr (SfDocument) document = document_with_picture (300, 200, 3);
  g_autoptr (GError) error = NULL;
  SfRect bad[] = { { 0, 0, 100, 64 }, { 0, 0, 64, 60 }, { 0, 0, 56, 64 }, { 0, 0, 0, 0 } };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_assert_null (sf_frame_plan_new (document, &bad[i], NULL, &error));
      g_assert_error (error, SF_FRAME_ERROR, SF_FRAME_ERROR_INVALID_FRAME);
      g_clear_error (&error);
    }
  SfFrameOptions options;
  sf_frame_options_init (&options);
  options.only_masked = TRUE;
  SfRect frame = { 0, 0, 128, 128 };
  g_assert_null (sf_frame_plan_new (document, &frame, &options, &error));
  g_assert_error (error, SF_FRAME_ERROR, SF_FRAME_ERROR_EMPTY_MASK);
  g_clear_error (&error);
  mask_disc (document, 60, 60, 10);
  options.model_width = 1001;
  g_assert_null (sf_frame_plan_new (document, &frame, &options, &error));
  g_assert_error (error, SF_FRAME_ERROR, SF_FRAME_ERROR_INVALID);
}

/* For each pixel of @frame, whether any pixel of the canvas mask lies
 * within the square of @reach around it (the support of the separable
 * feather), by a summed-area table. Returns frame-size booleans. */
static guint8 *
mask_near (SfDocument *document, const SfRect *frame, int reach)
{
  SfRect wide = { frame->x - reach, frame->y - reach, frame->width + 2 * reach,
                  frame->height + 2 * reach };
  g_autofree guint8 *mask = read_mask (document, &wide);
  int w = wide.width + 1;
  g_autofree gint64 *sum = g_new0 (gint64, (gsize) w * (wide.height + 1));
  for (int y = 0; y < wide.height; y++)
    for (int x = 0; x < wide.width; x++)
      sum[(y + 1) * w + x + 1] = (mask[y * wide.width + x] != 0) + sum[y * w + x + 1]
                                 + sum[(y + 1) * w + x] - sum[y * w + x];
  guint8 *near = g_malloc ((gsize) frame->width * frame->height);
  int side = 2 * reach + 1;
  for (int y = 0; y < frame->height; y++)
    for (int x = 0; x < frame->width; x++)
      near[y * frame->width + x] = sum[(y + side) * w + x + side] - sum[y * w + x + side]
                                   - sum[(y + side) * w + x] + sum[y * w + x] > 0;
  return near;
}

/* The feather by direct 2-D convolution, in doubles, edges of the canvas
 * repeated (as "Feather Mask" treats them). */
static double
feather_at (const guint8 *canvas_mask, int width, int height, int x, int y, double sigma)
{
  int reach = (int) ceil (3 * sigma);
  double acc = 0, sum = 0;
  for (int v = -reach; v <= reach; v++)
    for (int u = -reach; u <= reach; u++)
      {
        double w = exp (-(u * u + v * v) / (2 * sigma * sigma));
        sum += w;
        acc += w * canvas_mask[CLAMP (y + v, 0, height - 1) * width + CLAMP (x + u, 0, width - 1)];
      }
  return acc / sum;
}

static void
test_inpaint_keeps_pixels_outside_the_feather (void)
{
  const int width = 203, height = 157;
  g_autoptr (SfDocument) document = document_with_picture (width, height, 7);
  mask_disc (document, 70, 60, 24);
  mask_disc (document, 150, 120, 9);
  /* A blob touching the canvas edge: the feather must not fade there. */
  mask_disc (document, 2, 100, 20);
  SfRect frame = { 0, 8, 192, 144 };
  SfFrameOptions options;
  sf_frame_options_init (&options);
  options.mask_blur_px = 6;
  g_autoptr (GError) error = NULL;
  g_autoptr (SfFramePlan) plan = sf_frame_plan_new (document, &frame, &options, &error);
  g_assert_no_error (error);
  g_assert_cmpint (plan->mode, ==, SF_FRAME_INPAINT);
  g_assert_true (sf_rect_equal (&plan->source, &frame));
  g_assert_cmpint (plan->width, ==, 192);
  g_assert_cmpint (plan->height, ==, 144);
  g_assert_false (plan->latent_noise);

  SfRect canvas = sf_document_get_canvas (document);
  g_autofree guint8 *canvas_mask = read_mask (document, &canvas);
  g_autofree guint8 *original = read_rgba (document, &frame);
  gsize count = (gsize) frame.width * frame.height;
  g_assert_cmpuint (g_bytes_get_size (plan->init_rgba), ==, count * 4);
  g_assert_cmpmem (g_bytes_get_data (plan->init_rgba, NULL), count * 4, original, count * 4);
  g_assert_cmpmem (g_bytes_get_data (plan->original_rgba, NULL), count * 4, original, count * 4);
  const guint8 *blend = g_bytes_get_data (plan->blend_mask, NULL);
  g_assert_cmpmem (g_bytes_get_data (plan->mask, NULL), g_bytes_get_size (plan->mask), blend,
                   count);

  g_autofree guint8 *result_pixels = make_picture (frame.width, frame.height, 99);
  g_autoptr (GBytes) result = g_bytes_new (result_pixels, count * 4);
  g_autoptr (GBytes) composite = sf_frame_plan_composite (plan, result);
  g_assert_cmpuint (g_bytes_get_size (composite), ==, count * 4);
  const guint8 *out = g_bytes_get_data (composite, NULL);
  g_autofree guint8 *near = mask_near (document, &frame, (int) ceil (3 * 3.0));
  int outside = 0, replaced = 0, mixed = 0;
  for (int y = 0; y < frame.height; y++)
    for (int x = 0; x < frame.width; x++)
      {
        gsize i = (gsize) y * frame.width + x;
        int cx = frame.x + x, cy = frame.y + y;
        double expected = feather_at (canvas_mask, width, height, cx, cy, 3.0);
        /* Float sums in the separable passes against doubles here: only
         * a value within a hair of .5 may round the other way. */
        g_assert_cmpfloat (fabs (blend[i] - expected), <=, 0.55);
        if (!near[i])
          {
            g_assert_cmpuint (blend[i], ==, 0);
            g_assert_cmpmem (out + i * 4, 4, original + i * 4, 4);
            outside++;
          }
        guint8 want[4];
        expected_mix (original + i * 4, result_pixels + i * 4, blend[i], want);
        g_assert_cmpmem (out + i * 4, 4, want, 4);
        if (blend[i] == 255)
          {
            g_assert_cmpmem (out + i * 4, 3, result_pixels + i * 4, 3);
            replaced++;
          }
        else if (blend[i] > 0)
          mixed++;
      }
  g_assert_cmpint (outside, >, 10000);
  g_assert_cmpint (replaced, >, 600);
  g_assert_cmpint (mixed, >, 200);
  /* The blob at the canvas edge stays fully masked at the edge. */
  g_assert_cmpuint (blend[(100 - frame.y) * frame.width + 0], ==, 255);
}

static void
test_latent_noise_keeps_the_original (void)
{
  g_autoptr (SfDocument) document = document_with_picture (160, 120, 5);
  mask_disc (document, 60, 60, 20);
  SfFrameOptions options;
  sf_frame_options_init (&options);
  options.masked_content = SF_FRAME_MASKED_LATENT_NOISE;
  SfRect frame = { 0, 0, 160, 120 };
  g_autoptr (GError) error = NULL;
  g_autoptr (SfFramePlan) plan = sf_frame_plan_new (document, &frame, &options, &error);
  g_assert_no_error (error);
  g_assert_true (plan->latent_noise);
  g_autofree guint8 *original = read_rgba (document, &frame);
  g_assert_cmpmem (g_bytes_get_data (plan->init_rgba, NULL), 160 * 120 * 4, original,
                   160 * 120 * 4);
}

static void
test_only_masked_crops_and_scales_back (void)
{
  const int width = 640, height = 480;
  g_autoptr (SfDocument) document = document_with_picture_noisy (width, height, 11, 2);
  mask_disc (document, 300, 200, 20);
  mask_disc (document, 340, 215, 8);
  SfRect frame = { 0, 0, 640, 480 };
  SfFrameOptions options;
  sf_frame_options_init (&options);
  g_autoptr (GError) error = NULL;
  g_autoptr (SfFramePlan) whole = sf_frame_plan_new (document, &frame, &options, &error);
  g_assert_no_error (error);
  options.only_masked = TRUE;
  options.only_masked_padding_px = 32;
  options.model_width = 256;
  options.model_height = 192;
  g_autoptr (SfFramePlan) plan = sf_frame_plan_new (document, &frame, &options, &error);
  g_assert_no_error (error);
  g_assert_cmpint (plan->mode, ==, SF_FRAME_INPAINT);
  g_assert_cmpint (plan->width, ==, 256);
  g_assert_cmpint (plan->height, ==, 192);
  g_assert_cmpuint (g_bytes_get_size (plan->init_rgba), ==, 256 * 192 * 4);
  g_assert_cmpuint (g_bytes_get_size (plan->mask), ==, 256 * 192);

  /* The raw mask spans x 280…347, y 180…222: the crop holds it and the
   * padding, widened to the model's 4:3, not much more. */
  const SfRect *s = &plan->source;
  g_assert_cmpint (s->x, <=, 280 - 32);
  g_assert_cmpint (s->x + s->width, >=, 348 + 32);
  g_assert_cmpint (s->y, <=, 180 - 32);
  g_assert_cmpint (s->y + s->height, >=, 223 + 32);
  g_assert_cmpfloat (fabs ((double) s->width / s->height - 256.0 / 192), <, 0.02);
  g_assert_cmpint (s->width, <, 180);
  /* Every pixel the full-frame plan would blend lies inside the crop. */
  const guint8 *whole_blend = g_bytes_get_data (whole->blend_mask, NULL);
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      if (whole_blend[y * width + x])
        g_assert_true (sf_rect_contains_point (s, x, y));
  /* Exactly: that mask's bounding box, 32 px more each way, widened
   * (centred) to 4:3. */
  int bx0 = width, by0 = height, bx1 = 0, by1 = 0;
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      if (whole_blend[y * width + x])
        {
          bx0 = MIN (bx0, x), by0 = MIN (by0, y);
          bx1 = MAX (bx1, x + 1), by1 = MAX (by1, y + 1);
        }
  int padded_w = bx1 - bx0 + 64, padded_h = by1 - by0 + 64;
  g_assert_cmpint (padded_w * 3, <, padded_h * 4);
  int wide = (int) ceil (padded_h * 4.0 / 3);
  g_assert_cmpint (s->y, ==, by0 - 32);
  g_assert_cmpint (s->height, ==, padded_h);
  g_assert_cmpint (s->width, ==, wide);
  g_assert_cmpint (s->x, ==, bx0 - 32 - (wide - padded_w) / 2);
  /* … and the crop's blend mask is that mask's part. */
  const guint8 *blend = g_bytes_get_data (plan->blend_mask, NULL);
  for (int y = 0; y < s->height; y++)
    for (int x = 0; x < s->width; x++)
      g_assert_cmpuint (blend[y * s->width + x], ==,
                        whole_blend[(s->y + y) * width + s->x + x]);

  /* The round trip: the engine hands its input back unchanged; scaled
   * up and back down it stays close to the (smooth) original. */
  g_autoptr (GBytes) composite = sf_frame_plan_composite (plan, plan->init_rgba);
  g_assert_cmpuint (g_bytes_get_size (composite), ==, (gsize) s->width * s->height * 4);
  g_autofree guint8 *original = read_rgba (document, s);
  const guint8 *out = g_bytes_get_data (composite, NULL);
  double total = 0;
  int worst = 0;
  for (int i = 0; i < s->width * s->height; i++)
    {
      if (blend[i] == 0)
        g_assert_cmpmem (out + i * 4, 4, original + i * 4, 4);
      for (int c = 0; c < 3; c++)
        {
          int d = ABS (out[i * 4 + c] - original[i * 4 + c]);
          worst = MAX (worst, d);
          total += d;
        }
    }
  /* The picture's ±6 noise is smoothed by the two resamplings; the
   * gradients survive. */
  g_assert_cmpfloat (total / (s->width * s->height * 3), <, 3.0);
  g_assert_cmpint (worst, <=, 16);

  /* A portrait model widens the crop downwards instead. */
  options.model_width = 192;
  options.model_height = 256;
  g_autoptr (SfFramePlan) portrait = sf_frame_plan_new (document, &frame, &options, &error);
  g_assert_no_error (error);
  g_assert_cmpfloat (fabs ((double) portrait->source.width / portrait->source.height - 0.75), <,
                     0.02);
  g_assert_cmpint (portrait->source.width, <, s->width);
  g_assert_cmpint (portrait->source.height, >, s->height);

  /* A mask in the frame's corner: the crop is clipped by the frame and
   * widened away from the corner, still within the frame. */
  g_autoptr (SfDocument) corner = document_with_picture_noisy (width, height, 12, 2);
  mask_disc (corner, 610, 20, 10);
  SfRect right = { 320, 0, 320, 240 };
  options.model_width = 256;
  options.model_height = 128;
  g_autoptr (SfFramePlan) clipped = sf_frame_plan_new (corner, &right, &options, &error);
  g_assert_no_error (error);
  const SfRect *c = &clipped->source;
  SfRect inside;
  g_assert_true (sf_rect_intersect (c, &right, &inside) && sf_rect_equal (&inside, c));
  g_assert_cmpint (c->x + c->width, ==, 640);
  g_assert_cmpint (c->y, ==, 0);
  g_assert_cmpint (c->x, <=, 600 - 32);
  g_assert_cmpint (c->height, >=, 30 + 32);
  g_assert_cmpfloat (fabs ((double) c->width / c->height - 2.0), <, 0.05);

  /* A flat colour survives the round trip exactly. */
  g_autofree guint8 *flat = g_malloc (256 * 192 * 4);
  for (int i = 0; i < 256 * 192; i++)
    memcpy (flat + i * 4, (guint8[]) { 17, 200, 99, 255 }, 4);
  g_autoptr (GBytes) flat_bytes = g_bytes_new (flat, 256 * 192 * 4);
  g_autoptr (GBytes) flat_out = sf_frame_plan_composite (plan, flat_bytes);
  out = g_bytes_get_data (flat_out, NULL);
  for (int i = 0; i < s->width * s->height; i++)
    if (blend[i] == 255)
      g_assert_cmpmem (out + i * 4, 4, ((guint8[]) { 17, 200, 99, 255 }), 4);
}

/* Reducing the crop to the model size averages the pixels (as an area
 * filter does) rather than picking some: 1-pixel stripes become grey. */
static void
test_only_masked_reduces_without_aliasing (void)
{
  const int width = 300, height = 200;
  g_autoptr (SfDocument) document = sf_document_new (width, height);
  g_autofree guint8 *stripes = g_malloc (width * height * 4);
  for (int i = 0; i < width * height; i++)
    {
      guint8 v = (i % width) % 2 ? 255 : 0;
      memcpy (stripes + i * 4, (guint8[]) { v, v, v, 255 }, 4);
    }
  g_autoptr (GError) error = NULL;
  sf_document_add_layer_from_rgba (document, -1, stripes, width, height, width * 4, 0, 0, "s",
                                   NULL, &error);
  g_assert_no_error (error);
  mask_disc (document, 150, 100, 30);
  SfRect frame = { 0, 0, 296, 200 };
  SfFrameOptions options;
  sf_frame_options_init (&options);
  options.only_masked = TRUE;
  options.model_width = options.model_height = 64;
  g_autoptr (SfFramePlan) plan = sf_frame_plan_new (document, &frame, &options, &error);
  g_assert_no_error (error);
  g_assert_cmpint (plan->source.width, >, 2 * 64);
  const guint8 *init = g_bytes_get_data (plan->init_rgba, NULL);
  for (int i = 0; i < 64 * 64; i++)
    {
      /* a tent over ≥ 4 stripes leaves at most a quarter stripe's imbalance */
      g_assert_cmpint (ABS (init[i * 4] - 128), <=, 32);
      g_assert_cmpuint (init[i * 4 + 3], ==, 255);
    }
}

static void
test_outpaint_prefills_and_masks_the_new_area (void)
{
  const int width = 201, height = 149;
  g_autoptr (SfDocument) document = document_with_picture (width, height, 13);
  /* Past the right edge and the top. */
  SfRect frame = { 96, -48, 160, 128 };
  SfFrameOptions options;
  sf_frame_options_init (&options);
  options.outpaint_overlap_px = 32;
  options.noise_seed = 42;
  g_autoptr (GError) error = NULL;
  g_autoptr (SfFramePlan) plan = sf_frame_plan_new (document, &frame, &options, &error);
  g_assert_no_error (error);
  g_assert_cmpint (plan->mode, ==, SF_FRAME_OUTPAINT);
  g_assert_true (sf_rect_equal (&plan->source, &frame));
  SfRect canvas = sf_document_get_canvas (document);
  g_autofree guint8 *picture = read_rgba (document, &canvas);
  const guint8 *init = g_bytes_get_data (plan->init_rgba, NULL);
  const guint8 *mask = g_bytes_get_data (plan->mask, NULL);
  const guint8 *blend = g_bytes_get_data (plan->blend_mask, NULL);
  int noisy = 0, band = 0, outside = 0;
  for (int y = 0; y < frame.height; y++)
    for (int x = 0; x < frame.width; x++)
      {
        gsize i = (gsize) y * frame.width + x;
        int cx = frame.x + x, cy = frame.y + y;
        int sx = CLAMP (cx, 0, width - 1), sy = CLAMP (cy, 0, height - 1);
        const guint8 *near = picture + ((gsize) sy * width + sx) * 4;
        g_assert_cmpuint (mask[i], ==, blend[i]);
        if (sf_rect_contains_point (&canvas, cx, cy))
          {
            g_assert_cmpmem (init + i * 4, 4, near, 4);
            /* Distance to the nearest new pixel: the right or top strip. */
            int distance = MIN (width - cx, cy + 1);
            if (distance > options.outpaint_overlap_px + 1)
              g_assert_cmpuint (mask[i], ==, 0);
            if (mask[i] > 0 && mask[i] < 255)
              band++;
            continue;
          }
        outside++;
        g_assert_cmpuint (mask[i], ==, 255);
        g_assert_cmpuint (init[i * 4 + 3], ==, 255);
        for (int c = 0; c < 3; c++)
          {
            g_assert_cmpint (ABS (init[i * 4 + c] - near[c]), <=, 24);
            noisy += init[i * 4 + c] != near[c];
          }
      }
  g_assert_cmpint (outside, ==, 160 * 128 - 105 * 80);
  g_assert_cmpint (noisy, >, outside * 3 * 8 / 10);
  g_assert_cmpint (band, >, 1500);

  /* The seed makes the plan reproducible, and matters. */
  g_autoptr (SfFramePlan) again = sf_frame_plan_new (document, &frame, &options, &error);
  g_assert_true (g_bytes_equal (again->init_rgba, plan->init_rgba));
  options.noise_seed = 43;
  g_autoptr (SfFramePlan) other = sf_frame_plan_new (document, &frame, &options, &error);
  g_assert_false (g_bytes_equal (other->init_rgba, plan->init_rgba));

  /* Composited: the picture untouched past the overlap, the result over
   * the new area. */
  gsize count = (gsize) frame.width * frame.height;
  g_autofree guint8 *result_pixels = make_picture (frame.width, frame.height, 77);
  g_autoptr (GBytes) result = g_bytes_new (result_pixels, count * 4);
  g_autoptr (GBytes) composite = sf_frame_plan_composite (plan, result);
  const guint8 *out = g_bytes_get_data (composite, NULL);
  const guint8 *original = g_bytes_get_data (plan->original_rgba, NULL);
  for (gsize i = 0; i < count; i++)
    {
      if (blend[i] == 255)
        {
          g_assert_cmpmem (out + i * 4, 3, result_pixels + i * 4, 3);
          g_assert_cmpuint (out[i * 4 + 3], ==, 255);
        }
      else if (blend[i] == 0)
        g_assert_cmpmem (out + i * 4, 4, original + i * 4, 4);
    }
}

static void
test_outpaint_fills_transparent_holes (void)
{
  /* A canvas whose picture covers only its left half: the frame over the
   * right edge sees transparent pixels inside the canvas as unknown too. */
  g_autoptr (SfDocument) document = sf_document_new (200, 128);
  guint8 red[4 * 100 * 128];
  for (int i = 0; i < 100 * 128; i++)
    memcpy (red + i * 4, (guint8[]) { 220, 30, 30, 255 }, 4);
  g_autoptr (GError) error = NULL;
  sf_document_add_layer_from_rgba (document, -1, red, 100, 128, 400, 0, 0, "red", NULL, &error);
  g_assert_no_error (error);
  SfRect frame = { 64, 0, 192, 128 };
  g_autoptr (SfFramePlan) plan = sf_frame_plan_new (document, &frame, NULL, &error);
  g_assert_no_error (error);
  const guint8 *init = g_bytes_get_data (plan->init_rgba, NULL);
  const guint8 *mask = g_bytes_get_data (plan->mask, NULL);
  for (int y = 0; y < 128; y++)
    for (int x = 0; x < 192; x++)
      {
        const guint8 *p = init + (y * 192 + x) * 4;
        if (frame.x + x >= 100)
          {
            /* red spread over the hole, give or take the noise */
            g_assert_cmpuint (mask[y * 192 + x], ==, 255);
            g_assert_cmpint (p[0], >=, 220 - 24);
            g_assert_cmpint (p[1], <=, 30 + 24);
            g_assert_cmpuint (p[3], ==, 255);
          }
        else
          g_assert_cmpmem (p, 4, ((guint8[]) { 220, 30, 30, 255 }), 4);
      }
}

static void
test_fill_replaces_a_masked_blob (void)
{
  const int width = 180, height = 140;
  g_autoptr (SfDocument) document = sf_document_new (width, height);
  /* Greenish surroundings with a magenta blob in them. */
  g_autofree guint8 *rgba = g_malloc (width * height * 4);
  SfTestRng rng;
  sf_test_rng_init (&rng, 21);
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        guint8 *p = rgba + (y * width + x) * 4;
        p[0] = (guint8) (40 + x / 4 + sf_test_rng_uniform (&rng, 0, 5));
        p[1] = (guint8) (150 + y / 4 + sf_test_rng_uniform (&rng, 0, 5));
        p[2] = (guint8) (60 + sf_test_rng_uniform (&rng, 0, 5));
        p[3] = 255;
        if (hypot (x + 0.5 - 90, y + 0.5 - 70) <= 25)
          memcpy (p, (guint8[]) { 255, 0, 255, 255 }, 4);
      }
  g_autoptr (GError) error = NULL;
  sf_document_add_layer_from_rgba (document, -1, rgba, width, height, width * 4, 0, 0, "blob",
                                   NULL, &error);
  g_assert_no_error (error);
  mask_disc (document, 90, 70, 25);
  SfFrameOptions options;
  sf_frame_options_init (&options);
  options.masked_content = SF_FRAME_MASKED_FILL;
  SfRect frame = { 8, 0, 168, 136 };
  g_autoptr (SfFramePlan) plan = sf_frame_plan_new (document, &frame, &options, &error);
  g_assert_no_error (error);
  g_assert_false (plan->latent_noise);
  const guint8 *init = g_bytes_get_data (plan->init_rgba, NULL);
  g_autofree guint8 *mask = read_mask (document, &frame);
  g_autofree guint8 *original = read_rgba (document, &frame);
  int filled = 0, worst = 0;
  for (int i = 0; i < frame.width * frame.height; i++)
    {
      const guint8 *p = init + i * 4;
      if (mask[i] == 0)
        {
          g_assert_cmpmem (p, 4, original + i * 4, 4);
          continue;
        }
      filled++;
      /* The fill follows the surroundings: red grows to the right, green
       * downwards, as around the blob. */
      int x = frame.x + i % frame.width, y = i / frame.width;
      worst = MAX (worst, ABS (p[0] - (40 + x / 4 + 2)));
      worst = MAX (worst, ABS (p[1] - (150 + y / 4 + 2)));
      /* Within the surroundings' colour range, nowhere near magenta. */
      g_assert_cmpint (p[0], >=, 40);
      g_assert_cmpint (p[0], <=, 40 + 180 / 4 + 5);
      g_assert_cmpint (p[1], >=, 150);
      g_assert_cmpint (p[1], <=, 150 + 140 / 4 + 5);
      g_assert_cmpint (p[2], >=, 60);
      g_assert_cmpint (p[2], <=, 65);
      g_assert_cmpuint (p[3], ==, 255);
    }
  g_assert_cmpint (filled, >, 1800);
  /* 2 for the noise's mean; the rest is how far push-pull strays from a
   * plane (a nearest-neighbour pull strays 11 here). */
  g_assert_cmpint (worst, <=, 6);
}

/* Whether @rect's edges lie on multiples of 8 and it is at least 64². */
static void
assert_frame_shape (const SfRect *rect)
{
  g_assert_cmpint (((rect->x % 8) + 8) % 8, ==, 0);
  g_assert_cmpint (((rect->y % 8) + 8) % 8, ==, 0);
  g_assert_cmpint (rect->width % 8, ==, 0);
  g_assert_cmpint (rect->height % 8, ==, 0);
  g_assert_cmpint (rect->width, >=, 64);
  g_assert_cmpint (rect->height, >=, 64);
}

static void
test_extend_frames_cover_the_strip (void)
{
  g_autoptr (SfDocument) document = sf_document_new (1001, 701);
  SfRect canvas = sf_document_get_canvas (document);
  SfRect small = { 96, 104, 256, 256 };
  /* The frame keeps its size when that covers the strip and overlap. */
  SfRect right = sf_frame_for_extend (document, &small, 2, 128, 64);
  g_assert_cmpint (right.x, ==, 1136 - 256);
  g_assert_cmpint (right.width, ==, 256);
  g_assert_cmpint (right.y, ==, 104);
  g_assert_cmpint (right.height, ==, 256);
  SfRect top = sf_frame_for_extend (document, &small, 1, 100, 64);
  g_assert_cmpint (top.y, ==, -104);
  g_assert_cmpint (top.height, ==, 256);
  g_assert_cmpint (top.x, ==, 96);

  SfRect frames[] = { small, { 0, 0, 1024, 1024 }, { -40, 600, 64, 64 }, { 900, 0, 128, 704 } };
  int amounts[] = { 8, 64, 128, 256, 500 };
  for (guint f = 0; f < G_N_ELEMENTS (frames); f++)
    for (int side = 0; side < 4; side++)
      for (guint a = 0; a < G_N_ELEMENTS (amounts); a++)
        {
          int amount = amounts[a], overlap = 64;
          SfRect r = sf_frame_for_extend (document, &frames[f], side, amount, overlap);
          assert_frame_shape (&r);
          int cx0 = canvas.x, cx1 = canvas.x + canvas.width;
          int cy0 = canvas.y, cy1 = canvas.y + canvas.height;
          switch (side)
            {
            case 0:
              g_assert_cmpint (r.x, <=, cx0 - amount);
              g_assert_cmpint (r.x + r.width, >=, cx0 + overlap);
              break;
            case 1:
              g_assert_cmpint (r.y, <=, cy0 - amount);
              g_assert_cmpint (r.y + r.height, >=, cy0 + overlap);
              break;
            case 2:
              g_assert_cmpint (r.x + r.width, >=, cx1 + amount);
              g_assert_cmpint (r.x, <=, cx1 - overlap);
              break;
            default:
              g_assert_cmpint (r.y + r.height, >=, cy1 + amount);
              g_assert_cmpint (r.y, <=, cy1 - overlap);
            }
          /* Across the extended side it stays within the canvas. */
          if (side == 0 || side == 2)
            {
              g_assert_cmpint (r.y, >=, cy0);
              g_assert_cmpint (r.y + r.height, <=, cy1);
            }
          else
            {
              g_assert_cmpint (r.x, >=, cx0);
              g_assert_cmpint (r.x + r.width, <=, cx1);
            }
          g_assert_cmpint (sf_frame_detect_mode (document, &r), ==, SF_FRAME_OUTPAINT);
        }
}

/* Random canvases (odd sizes), pictures that cover part of them, masks,
 * and frames anywhere (negative origins, over edges, outside): every
 * plan keeps its promises. */
static void
test_randomized_frames (void)
{
  SfTestRng rng;
  sf_test_rng_init (&rng, 2026);
  int rounds = sf_test_quick () ? 6 : 30;
  int modes[4] = { 0 };
  for (int round = 0; round < rounds; round++)
    {
      /* Rounds 0–2 of every 4 aim at txt2img, img2img and inpaint with a
       * frame inside the canvas; round 3 puts the frame anywhere. */
      int kind = round % 4;
      int low = kind == 3 ? 40 : 64;
      int width = (int) sf_test_rng_uniform (&rng, low, 260) | 1;
      int height = (int) sf_test_rng_uniform (&rng, low, 260) | 1;
      g_autoptr (SfDocument) document = sf_document_new (width, height);
      SfRect frame = { (width - 64) / 2, (height - 64) / 2, 64, 64 };
      if (kind == 3)
        frame = (SfRect) { (int) sf_test_rng_uniform (&rng, -80, width - 20),
                           (int) sf_test_rng_uniform (&rng, -80, height - 20),
                           8 * (int) sf_test_rng_uniform (&rng, 8, 30),
                           8 * (int) sf_test_rng_uniform (&rng, 8, 30) };
      if (kind != 0)
        {
          int pw = kind == 3 ? (int) sf_test_rng_uniform (&rng, 10, width) : width;
          int ph = kind == 3 ? (int) sf_test_rng_uniform (&rng, 10, height) : height;
          int px = kind == 3 ? (int) sf_test_rng_uniform (&rng, -20, width - 10) : 0;
          int py = kind == 3 ? (int) sf_test_rng_uniform (&rng, -20, height - 10) : 0;
          g_autofree guint8 *picture = make_picture (pw, ph, round);
          g_autoptr (GError) error = NULL;
          sf_document_add_layer_from_rgba (document, -1, picture, pw, ph, pw * 4, px, py, "p",
                                           NULL, &error);
          g_assert_no_error (error);
        }
      if (kind == 2)
        mask_disc (document, frame.x + 32, frame.y + 32, sf_test_rng_uniform (&rng, 2, 30));
      if (kind == 3 && round % 3 == 1)
        mask_disc (document, sf_test_rng_uniform (&rng, 0, width),
                   sf_test_rng_uniform (&rng, 0, height), sf_test_rng_uniform (&rng, 2, 30));
      SfFrameOptions options;
      sf_frame_options_init (&options);
      options.mask_blur_px = sf_test_rng_uniform (&rng, 0, 10);
      options.outpaint_overlap_px = (int) sf_test_rng_uniform (&rng, 0, 70);
      options.masked_content = round % 3;
      options.noise_seed = round;
      g_autoptr (GError) error = NULL;
      g_autoptr (SfFramePlan) plan = sf_frame_plan_new (document, &frame, &options, &error);
      g_assert_no_error (error);
      modes[plan->mode]++;
      g_assert_cmpint (plan->mode, ==, sf_frame_detect_mode (document, &frame));
      g_assert_true (sf_rect_equal (&plan->source, &frame));
      gsize count = (gsize) frame.width * frame.height;
      g_autofree guint8 *original = read_rgba (document, &frame);
      g_assert_cmpmem (g_bytes_get_data (plan->original_rgba, NULL),
                       g_bytes_get_size (plan->original_rgba), original, count * 4);
      SfRect canvas = sf_document_get_canvas (document);
      const guint8 *blend = plan->blend_mask ? g_bytes_get_data (plan->blend_mask, NULL) : NULL;
      const guint8 *init = plan->init_rgba ? g_bytes_get_data (plan->init_rgba, NULL) : NULL;
      g_assert_true ((plan->init_rgba == NULL) == (plan->mode == SF_FRAME_TXT2IMG));
      g_assert_true ((plan->mask != NULL) == (blend != NULL));
      if (init)
        g_assert_cmpuint (g_bytes_get_size (plan->init_rgba), ==, count * 4);
      int reach = options.mask_blur_px / 2 >= 0.3 ? (int) ceil (3 * options.mask_blur_px / 2) : 0;
      g_autofree guint8 *near = mask_near (document, &frame, reach);
      g_autofree guint8 *result_pixels = make_picture (frame.width, frame.height, 500 + round);
      g_autoptr (GBytes) result = g_bytes_new (result_pixels, count * 4);
      g_autoptr (GBytes) composite = sf_frame_plan_composite (plan, result);
      const guint8 *out = g_bytes_get_data (composite, NULL);
      for (int y = 0; y < frame.height; y++)
        for (int x = 0; x < frame.width; x++)
          {
            gsize i = (gsize) y * frame.width + x;
            int cx = frame.x + x, cy = frame.y + y;
            gboolean in_canvas = sf_rect_contains_point (&canvas, cx, cy);
            guint b = blend ? blend[i] : 255;
            if (b == 0)
              g_assert_cmpmem (out + i * 4, 4, original + i * 4, 4);
            else if (b == 255)
              {
                g_assert_cmpmem (out + i * 4, 3, result_pixels + i * 4, 3);
                g_assert_cmpuint (out[i * 4 + 3], ==, 255);
              }
            if (plan->mode == SF_FRAME_INPAINT && !near[i])
              g_assert_cmpuint (b, ==, 0);
            if (plan->mode == SF_FRAME_OUTPAINT)
              {
                gboolean known = in_canvas && original[i * 4 + 3] > 0;
                if (!known)
                  g_assert_cmpuint (b, ==, 255);
                if (known && original[i * 4 + 3] == 255)
                  g_assert_cmpmem (init + i * 4, 4, original + i * 4, 4);
              }
            if (plan->mode == SF_FRAME_IMG2IMG)
              g_assert_cmpmem (init + i * 4, 4, original + i * 4, 4);
          }
    }
  if (!sf_test_quick ())
    for (int m = 0; m < 4; m++)
      g_assert_cmpint (modes[m], >, 0);
}

int
main (int argc, char **argv)
{
  sf_test_init (&argc, &argv);
  sf_test_add ("/render/genframe/detects-each-mode", test_detects_each_mode);
  sf_test_add ("/render/genframe/rejects-bad-frames", test_rejects_bad_frames);
  sf_test_add ("/render/genframe/inpaint-keeps-pixels-outside-the-feather",
               test_inpaint_keeps_pixels_outside_the_feather);
  sf_test_add ("/render/genframe/latent-noise-keeps-the-original",
               test_latent_noise_keeps_the_original);
  sf_test_add ("/render/genframe/only-masked-crops-and-scales-back",
               test_only_masked_crops_and_scales_back);
  sf_test_add ("/render/genframe/only-masked-reduces-without-aliasing",
               test_only_masked_reduces_without_aliasing);
  sf_test_add ("/render/genframe/outpaint-prefills-and-masks-the-new-area",
               test_outpaint_prefills_and_masks_the_new_area);
  sf_test_add ("/render/genframe/outpaint-fills-transparent-holes",
               test_outpaint_fills_transparent_holes);
  sf_test_add ("/render/genframe/fill-replaces-a-masked-blob", test_fill_replaces_a_masked_blob);
  sf_test_add ("/render/genframe/extend-frames-cover-the-strip",
               test_extend_frames_cover_the_strip);
  sf_test_add ("/render/genframe/randomized-frames", test_randomized_frames);
  return sf_test_run ();
}
