/* The generation frame: mode detection, the engine's input for each mode,
 * and putting the result back. The behaviour follows AUTOMATIC1111's
 * img2img tab (mask blur, "inpaint only masked" with padding, masked
 * content original / fill / latent noise), with outpainting done as an
 * inpaint of the area beyond the canvas, prefilled and overlapping the
 * picture so the seam is regenerated too. */
#include "generation-frame.h"

#include <math.h>
#include <string.h>

#include "mask.h"

G_DEFINE_QUARK (sf-frame-error-quark, sf_frame_error)

/* How far outpaint prefill noise goes either way, in 8-bit levels: enough
 * texture for the sampler to work with, not enough to change the colour. */
#define NOISE_LEVELS 24

void
sf_frame_options_init (SfFrameOptions *options)
{
  *options = (SfFrameOptions) {
    .mask_blur_px = 4,
    .only_masked = FALSE,
    .only_masked_padding_px = 32,
    .model_width = SF_FRAME_DEFAULT_SIZE,
    .model_height = SF_FRAME_DEFAULT_SIZE,
    .masked_content = SF_FRAME_MASKED_ORIGINAL,
    .outpaint_overlap_px = 64,
    .noise_seed = 0,
  };
}

void
sf_frame_plan_free (SfFramePlan *plan)
{
  if (!plan)
    return;
  g_clear_pointer (&plan->init_rgba, g_bytes_unref);
  g_clear_pointer (&plan->mask, g_bytes_unref);
  g_clear_pointer (&plan->blend_mask, g_bytes_unref);
  g_clear_pointer (&plan->original_rgba, g_bytes_unref);
  g_free (plan);
}

static int
floor8 (int value)
{
  return sf_floor_div (value, 8) * 8;
}

static int
ceil8 (int value)
{
  return -floor8 (-value);
}

static gsize
pixel_count (const SfRect *rect)
{
  return (gsize) rect->width * rect->height;
}

static guint8 *
read_rgba (SfDocument *document, const SfRect *rect)
{
  guint8 *rgba = g_malloc (pixel_count (rect) * 4);
  sf_document_read_rgba (document, rect, rgba, rect->width * 4);
  return rgba;
}

static guint8 *
read_mask (SfDocument *document, const SfRect *rect)
{
  guint8 *mask = g_malloc (pixel_count (rect));
  sf_document_read_mask (document, rect, mask, rect->width);
  return mask;
}

static gboolean
any_nonzero (const guint8 *values, gsize count, gsize step)
{
  for (gsize i = 0; i < count; i++)
    if (values[i * step])
      return TRUE;
  return FALSE;
}

static gboolean
frame_inside_canvas (SfDocument *document, const SfRect *frame)
{
  SfRect canvas = sf_document_get_canvas (document), inside;
  return sf_rect_intersect (frame, &canvas, &inside) && sf_rect_equal (&inside, frame);
}

/* The mode, and in *@rgba_out (nullable) the frame's composite when
 * deciding read it (txt2img and img2img), so planning reads it once. */
static SfFrameMode
detect_mode (SfDocument *document, const SfRect *frame, guint8 **rgba_out)
{
  if (!frame_inside_canvas (document, frame))
    return SF_FRAME_OUTPAINT;
  if (!sf_document_mask_is_empty (document))
    {
      g_autofree guint8 *mask = read_mask (document, frame);
      if (any_nonzero (mask, pixel_count (frame), 1))
        return SF_FRAME_INPAINT;
    }
  g_autofree guint8 *rgba = read_rgba (document, frame);
  SfFrameMode mode = any_nonzero (rgba + 3, pixel_count (frame), 4) ? SF_FRAME_IMG2IMG
                                                                     : SF_FRAME_TXT2IMG;
  if (rgba_out)
    *rgba_out = g_steal_pointer (&rgba);
  return mode;
}

SfFrameMode
sf_frame_detect_mode (SfDocument *document, const SfRect *frame)
{
  return detect_mode (document, frame, NULL);
}

/* Resampling */

/* The taps of a separable triangle filter from @in samples to @out: a
 * tent one input pixel wide when enlarging (bilinear), one output pixel
 * wide when reducing (so every input pixel counts, like an area average).
 * Pixel centres line up ((i + ½)·in/out). */
typedef struct {
  int taps;     /* per output sample */
  int *first;   /* out: the first input index */
  float *weight;/* out × taps, normalised */
} SfTaps;

static void
taps_init (SfTaps *taps, int in, int out)
{
  double scale = (double) in / out;
  double width = MAX (scale, 1.0);
  taps->taps = (int) ceil (width) * 2 + 2;
  taps->first = g_new (int, out);
  taps->weight = g_new0 (float, (gsize) out * taps->taps);
  for (int i = 0; i < out; i++)
    {
      double centre = (i + 0.5) * scale;
      int first = MAX (0, (int) floor (centre - width));
      int last = MIN (in - 1, (int) ceil (centre + width));
      float *w = taps->weight + (gsize) i * taps->taps;
      double sum = 0;
      for (int j = first; j <= last && j - first < taps->taps; j++)
        sum += w[j - first] = (float) MAX (0.0, 1.0 - fabs ((j + 0.5 - centre) / width));
      if (sum <= 0)
        {
          /* Only at the very edge of a large enlargement: take the nearest. */
          first = CLAMP ((int) centre, 0, in - 1);
          w[0] = 1;
          sum = 1;
        }
      for (int k = 0; k < taps->taps; k++)
        w[k] = (float) (w[k] / sum);
      taps->first[i] = first;
    }
}

static void
taps_clear (SfTaps *taps)
{
  g_free (taps->first);
  g_free (taps->weight);
}

/* Resamples @channels-byte pixels, rows packed, from @in_w × @in_h to
 * @out_w × @out_h: rows first into floats, then columns. */
static guint8 *
resample (const guint8 *in, int in_w, int in_h, int channels, int out_w, int out_h)
{
  SfTaps across, down;
  taps_init (&across, in_w, out_w);
  taps_init (&down, in_h, out_h);
  g_autofree float *rows = g_new (float, (gsize) in_h * out_w * channels);
  for (int y = 0; y < in_h; y++)
    for (int x = 0; x < out_w; x++)
      for (int c = 0; c < channels; c++)
        {
          const float *w = across.weight + (gsize) x * across.taps;
          int first = across.first[x];
          float acc = 0;
          for (int k = 0; k < across.taps && first + k < in_w; k++)
            acc += w[k] * in[((gsize) y * in_w + first + k) * channels + c];
          rows[((gsize) y * out_w + x) * channels + c] = acc;
        }
  guint8 *out = g_malloc ((gsize) out_w * out_h * channels);
  for (int y = 0; y < out_h; y++)
    for (int x = 0; x < out_w; x++)
      for (int c = 0; c < channels; c++)
        {
          const float *w = down.weight + (gsize) y * down.taps;
          int first = down.first[y];
          float acc = 0;
          for (int k = 0; k < down.taps && first + k < in_h; k++)
            acc += w[k] * rows[((gsize) (first + k) * out_w + x) * channels + c];
          out[((gsize) y * out_w + x) * channels + c] = (guint8) CLAMP (acc + 0.5f, 0.0f, 255.0f);
        }
  taps_clear (&across);
  taps_clear (&down);
  return out;
}

/* Filling unknown pixels */

/* One level of the push-pull pyramid: colour × weight and weight. */
typedef struct {
  int width, height;
  float *colour; /* 3 per pixel, premultiplied by weight */
  float *weight; /* ≤ 1 */
} SfLevel;

static void
pull (const SfLevel *fine, SfLevel *coarse)
{
  coarse->width = (fine->width + 1) / 2;
  coarse->height = (fine->height + 1) / 2;
  gsize count = (gsize) coarse->width * coarse->height;
  coarse->colour = g_new0 (float, count * 3);
  coarse->weight = g_new0 (float, count);
  for (int y = 0; y < fine->height; y++)
    for (int x = 0; x < fine->width; x++)
      {
        gsize from = (gsize) y * fine->width + x;
        gsize to = (gsize) (y / 2) * coarse->width + x / 2;
        coarse->weight[to] += fine->weight[from];
        for (int c = 0; c < 3; c++)
          coarse->colour[to * 3 + c] += fine->colour[from * 3 + c];
      }
  /* A cell with enough known pixels is known: keep its average. */
  for (gsize i = 0; i < count; i++)
    if (coarse->weight[i] > 1)
      {
        for (int c = 0; c < 3; c++)
          coarse->colour[i * 3 + c] /= coarse->weight[i];
        coarse->weight[i] = 1;
      }
}

/* The coarse level's filled colour at the fine pixel (@x, @y), bilinear. */
static void
sample_coarse (const SfLevel *coarse, const float *filled, int x, int y, float *out)
{
  float fx = CLAMP ((x + 0.5f) / 2 - 0.5f, 0.0f, (float) coarse->width - 1);
  float fy = CLAMP ((y + 0.5f) / 2 - 0.5f, 0.0f, (float) coarse->height - 1);
  int x0 = (int) fx, y0 = (int) fy;
  int x1 = MIN (x0 + 1, coarse->width - 1), y1 = MIN (y0 + 1, coarse->height - 1);
  float ax = fx - x0, ay = fy - y0;
  for (int c = 0; c < 3; c++)
    {
      float top = filled[((gsize) y0 * coarse->width + x0) * 3 + c] * (1 - ax)
                  + filled[((gsize) y0 * coarse->width + x1) * 3 + c] * ax;
      float bottom = filled[((gsize) y1 * coarse->width + x0) * 3 + c] * (1 - ax)
                     + filled[((gsize) y1 * coarse->width + x1) * 3 + c] * ax;
      out[c] = top * (1 - ay) + bottom * ay;
    }
}

/* Push-pull (Gortler et al., "The Lumigraph", 1996): every pixel becomes
 * weight · its colour + (1 − weight) · the colour diffused from known
 * pixels around it. Weight 1 keeps a pixel's colour exactly. With no
 * known pixel at all the fill is mid grey. Writes opaque RGBA8. */
static void
push_pull (const guint8 *rgba, const float *weight, int width, int height, guint8 *out)
{
  g_autoptr (GArray) levels = g_array_new (FALSE, FALSE, sizeof (SfLevel));
  SfLevel base = { width, height, g_new (float, (gsize) width * height * 3),
                   g_memdup2 (weight, (gsize) width * height * sizeof (float)) };
  for (gsize i = 0; i < (gsize) width * height; i++)
    for (int c = 0; c < 3; c++)
      base.colour[i * 3 + c] = rgba[i * 4 + c] * weight[i];
  g_array_append_val (levels, base);
  while (g_array_index (levels, SfLevel, levels->len - 1).width > 1
         || g_array_index (levels, SfLevel, levels->len - 1).height > 1)
    {
      SfLevel coarse;
      pull (&g_array_index (levels, SfLevel, levels->len - 1), &coarse);
      g_array_append_val (levels, coarse);
    }

  SfLevel *top = &g_array_index (levels, SfLevel, levels->len - 1);
  float *filled = g_new (float, 3);
  for (int c = 0; c < 3; c++)
    filled[c] = top->weight[0] > 0 ? top->colour[c] / top->weight[0] : 128;
  for (int l = (int) levels->len - 2; l >= 0; l--)
    {
      SfLevel *fine = &g_array_index (levels, SfLevel, l);
      SfLevel *coarse = &g_array_index (levels, SfLevel, l + 1);
      float *finer = g_new (float, (gsize) fine->width * fine->height * 3);
      for (int y = 0; y < fine->height; y++)
        for (int x = 0; x < fine->width; x++)
          {
            gsize i = (gsize) y * fine->width + x;
            float around[3];
            sample_coarse (coarse, filled, x, y, around);
            for (int c = 0; c < 3; c++)
              finer[i * 3 + c] = fine->colour[i * 3 + c] + (1 - fine->weight[i]) * around[c];
          }
      g_free (filled);
      filled = finer;
    }
  for (gsize i = 0; i < (gsize) width * height; i++)
    {
      for (int c = 0; c < 3; c++)
        out[i * 4 + c] = (guint8) CLAMP (filled[i * 3 + c] + 0.5f, 0.0f, 255.0f);
      out[i * 4 + 3] = 255;
    }
  g_free (filled);
  for (guint l = 0; l < levels->len; l++)
    {
      g_free (g_array_index (levels, SfLevel, l).colour);
      g_free (g_array_index (levels, SfLevel, l).weight);
    }
}

/* SplitMix64 (Steele et al., 2014): small, and the same sequence on
 * every platform, so a plan is reproducible from its seed. */
static guint64
next_random (guint64 *state)
{
  guint64 z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* A1111's "fill": masked pixels take the colours diffused from the
 * unmasked ones around them (partly masked pixels partly). Transparent
 * pixels count as unknown too. */
static guint8 *
fill_masked (const guint8 *rgba, const guint8 *mask, int width, int height)
{
  gsize count = (gsize) width * height;
  g_autofree float *weight = g_new (float, count);
  for (gsize i = 0; i < count; i++)
    weight[i] = (255 - mask[i]) / 255.0f * (rgba[i * 4 + 3] / 255.0f);
  guint8 *out = g_malloc (count * 4);
  push_pull (rgba, weight, width, height, out);
  return out;
}

/* Masks */

/* The document's mask under @frame (0 outside the canvas), feathered as
 * "Feather Mask" would: the mask is read with a margin so its Gaussian
 * sees past the frame, and goes on past the canvas edge instead of
 * fading there. */
static guint8 *
feathered_mask (SfDocument *document, const SfRect *frame, double radius_px)
{
  guint8 *out = g_malloc0 (pixel_count (frame));
  SfRect canvas = sf_document_get_canvas (document), inside, area;
  if (!sf_rect_intersect (frame, &canvas, &inside))
    return out;
  int reach = sf_mask_feather_reach (radius_px);
  SfRect wide = { inside.x - reach, inside.y - reach, inside.width + 2 * reach,
                  inside.height + 2 * reach };
  sf_rect_intersect (&wide, &canvas, &area);
  g_autofree guint8 *mask = read_mask (document, &area);
  sf_mask_feather (mask, area.width, area.height, radius_px);
  for (int y = inside.y; y < inside.y + inside.height; y++)
    memcpy (out + (gsize) (y - frame->y) * frame->width + (inside.x - frame->x),
            mask + (gsize) (y - area.y) * area.width + (inside.x - area.x), inside.width);
  return out;
}

/* Only masked */

/* Widens [*lo, *hi) towards @size, centred, kept within [min, max). */
static void
widen_span (int *lo, int *hi, int size, int min, int max)
{
  size = MIN (size, max - min);
  int grow = size - (*hi - *lo);
  if (grow <= 0)
    return;
  *lo -= grow / 2;
  *lo = CLAMP (*lo, min, max - size);
  *hi = *lo + size;
}

/* The region "only masked" crops: the bounding box of the (feathered)
 * mask plus padding, within the frame, widened towards the model's
 * aspect ratio so the crop is not stretched (as A1111 does). FALSE when
 * nothing is masked. */
static gboolean
only_masked_region (const guint8 *mask, const SfRect *frame, const SfFrameOptions *options,
                    SfRect *region)
{
  int x0 = frame->width, y0 = frame->height, x1 = -1, y1 = -1;
  for (int y = 0; y < frame->height; y++)
    for (int x = 0; x < frame->width; x++)
      if (mask[(gsize) y * frame->width + x])
        {
          x0 = MIN (x0, x), x1 = MAX (x1, x);
          y0 = MIN (y0, y), y1 = MAX (y1, y);
        }
  if (x1 < 0)
    return FALSE;
  int pad = MAX (options->only_masked_padding_px, 0);
  int lo_x = MAX (x0 - pad, 0), hi_x = MIN (x1 + 1 + pad, frame->width);
  int lo_y = MAX (y0 - pad, 0), hi_y = MIN (y1 + 1 + pad, frame->height);
  double ratio = (double) options->model_width / options->model_height;
  int w = hi_x - lo_x, h = hi_y - lo_y;
  if ((double) w / h > ratio)
    widen_span (&lo_y, &hi_y, (int) ceil (w / ratio), 0, frame->height);
  else
    widen_span (&lo_x, &hi_x, (int) ceil (h * ratio), 0, frame->width);
  *region = (SfRect) { frame->x + lo_x, frame->y + lo_y, hi_x - lo_x, hi_y - lo_y };
  return TRUE;
}

/* Copies @rect (within @frame) out of a frame-sized buffer. */
static guint8 *
crop (const guint8 *data, int channels, const SfRect *frame, const SfRect *rect)
{
  guint8 *out = g_malloc (pixel_count (rect) * channels);
  for (int y = 0; y < rect->height; y++)
    memcpy (out + (gsize) y * rect->width * channels,
            data + ((gsize) (rect->y - frame->y + y) * frame->width + (rect->x - frame->x)) * channels,
            (gsize) rect->width * channels);
  return out;
}

/* Outpaint */

/* What is not known under @frame: outside the canvas, or transparent. */
static guint8 *
unknown_area (SfDocument *document, const SfRect *frame, const guint8 *original)
{
  SfRect canvas = sf_document_get_canvas (document);
  guint8 *unknown = g_malloc (pixel_count (frame));
  for (int y = 0; y < frame->height; y++)
    for (int x = 0; x < frame->width; x++)
      {
        gsize i = (gsize) y * frame->width + x;
        gboolean inside = sf_rect_contains_point (&canvas, frame->x + x, frame->y + y);
        unknown[i] = inside && original[i * 4 + 3] > 0 ? 0 : 255;
      }
  return unknown;
}

/* The init image for outpainting: the canvas's edge pixels stretched
 * outwards (each outside pixel takes the nearest canvas pixel along rows
 * and columns), holes that are still transparent filled by push-pull,
 * and seeded noise over everything unknown. Known opaque pixels are kept
 * exactly. */
static guint8 *
outpaint_init (SfDocument *document, const SfRect *frame, const guint8 *original,
               const guint8 *unknown, guint64 seed)
{
  SfRect canvas = sf_document_get_canvas (document);
  gsize count = pixel_count (frame);
  g_autofree guint8 *stretched = g_malloc0 (count * 4);
  if (!sf_rect_is_empty (&canvas))
    {
      /* The canvas pixels nearest the frame: the frame clamped into it. */
      int x0 = CLAMP (frame->x, canvas.x, canvas.x + canvas.width - 1);
      int x1 = CLAMP (frame->x + frame->width - 1, canvas.x, canvas.x + canvas.width - 1);
      int y0 = CLAMP (frame->y, canvas.y, canvas.y + canvas.height - 1);
      int y1 = CLAMP (frame->y + frame->height - 1, canvas.y, canvas.y + canvas.height - 1);
      SfRect edge = { x0, y0, x1 - x0 + 1, y1 - y0 + 1 };
      g_autofree guint8 *near = read_rgba (document, &edge);
      for (int y = 0; y < frame->height; y++)
        for (int x = 0; x < frame->width; x++)
          {
            int u = CLAMP (frame->x + x, x0, x1) - x0, v = CLAMP (frame->y + y, y0, y1) - y0;
            memcpy (stretched + ((gsize) y * frame->width + x) * 4,
                    near + ((gsize) v * edge.width + u) * 4, 4);
          }
    }
  g_autofree float *weight = g_new (float, count);
  for (gsize i = 0; i < count; i++)
    {
      /* Inside the canvas the frame's own read is what the plan composites over. */
      if (!unknown[i])
        memcpy (stretched + i * 4, original + i * 4, 4);
      weight[i] = stretched[i * 4 + 3] / 255.0f;
    }
  guint8 *init = g_malloc (count * 4);
  push_pull (stretched, weight, frame->width, frame->height, init);
  guint64 state = seed;
  for (gsize i = 0; i < count; i++)
    if (unknown[i])
      for (int c = 0; c < 3; c++)
        {
          int noise = (int) (next_random (&state) % (2 * NOISE_LEVELS + 1)) - NOISE_LEVELS;
          init[i * 4 + c] = (guint8) CLAMP (init[i * 4 + c] + noise, 0, 255);
        }
  return init;
}

/* The outpaint mask: the unknown area grown into the picture and
 * feathered so that it reaches @overlap_px in all, is 255 over the whole
 * unknown area, and 0 beyond the overlap. The feather takes a quarter of
 * the overlap (at least the mask blur, at most a third), so the seam is
 * regenerated and blended over a wide band. */
static void
outpaint_mask (guint8 *mask, int width, int height, const guint8 *unknown, int overlap_px,
               double blur_px)
{
  double radius = MIN (MAX (blur_px, overlap_px / 4.0), overlap_px / 3.0);
  int reach = sf_mask_feather_reach (radius);
  memcpy (mask, unknown, (gsize) width * height);
  sf_mask_grow (mask, width, height, MAX (overlap_px - reach - 1, 0));
  sf_mask_feather (mask, width, height, radius);
  for (gsize i = 0; i < (gsize) width * height; i++)
    mask[i] = MAX (mask[i], unknown[i]);
}

/* Planning */

static gboolean
check_size (int width, int height, const char *what, int code, GError **error)
{
  if (width % 8 || height % 8 || width < SF_FRAME_MIN_SIZE || height < SF_FRAME_MIN_SIZE
      || width > SF_CANVAS_MAX_SIZE || height > SF_CANVAS_MAX_SIZE)
    {
      g_set_error (error, SF_FRAME_ERROR, code,
                   "The %s is %d×%d pixels; it must be a multiple of 8 on each side, "
                   "from %d to %d",
                   what, width, height, SF_FRAME_MIN_SIZE, SF_CANVAS_MAX_SIZE);
      return FALSE;
    }
  return TRUE;
}

static GBytes *
take_bytes (guint8 *data, gsize size)
{
  return g_bytes_new_take (data, size);
}

static void
plan_inpaint (SfFramePlan *plan, SfDocument *document, const SfFrameOptions *options,
              guint8 *blend)
{
  const SfRect *source = &plan->source;
  g_autofree guint8 *original = read_rgba (document, source);
  gsize count = pixel_count (source);
  guint8 *init;
  if (options->masked_content == SF_FRAME_MASKED_FILL)
    {
      g_autofree guint8 *raw = read_mask (document, source);
      init = fill_masked (original, raw, source->width, source->height);
    }
  else
    init = g_memdup2 (original, count * 4);
  if (plan->width != source->width || plan->height != source->height)
    {
      guint8 *scaled = resample (init, source->width, source->height, 4, plan->width, plan->height);
      g_free (init);
      init = scaled;
      plan->mask = take_bytes (resample (blend, source->width, source->height, 1, plan->width,
                                         plan->height),
                               (gsize) plan->width * plan->height);
    }
  else
    plan->mask = g_bytes_new (blend, count);
  plan->init_rgba = take_bytes (init, (gsize) plan->width * plan->height * 4);
  plan->blend_mask = take_bytes (blend, count);
  plan->original_rgba = take_bytes (g_steal_pointer (&original), count * 4);
}

static void
plan_outpaint (SfFramePlan *plan, SfDocument *document, const SfFrameOptions *options)
{
  const SfRect *frame = &plan->frame;
  gsize count = pixel_count (frame);
  guint8 *original = read_rgba (document, frame);
  g_autofree guint8 *unknown = unknown_area (document, frame, original);
  guint8 *init = outpaint_init (document, frame, original, unknown, options->noise_seed);
  guint8 *mask = feathered_mask (document, frame, options->mask_blur_px);
  g_autofree guint8 *seam = g_malloc (count);
  outpaint_mask (seam, frame->width, frame->height, unknown,
                 MAX (options->outpaint_overlap_px, 0), options->mask_blur_px);
  /* A mask painted inside the frame is inpainted in the same pass. */
  for (gsize i = 0; i < count; i++)
    mask[i] = MAX (mask[i], seam[i]);
  plan->init_rgba = take_bytes (init, count * 4);
  plan->mask = g_bytes_new (mask, count);
  plan->blend_mask = take_bytes (mask, count);
  plan->original_rgba = take_bytes (original, count * 4);
}

SfFramePlan *
sf_frame_plan_new (SfDocument *document, const SfRect *frame, const SfFrameOptions *options,
                   GError **error)
{
  SfFrameOptions defaults;
  if (!options)
    {
      sf_frame_options_init (&defaults);
      options = &defaults;
    }
  if (!check_size (frame->width, frame->height, "generation frame",
                   SF_FRAME_ERROR_INVALID_FRAME, error))
    return NULL;
  g_autoptr (SfFramePlan) plan = g_new0 (SfFramePlan, 1);
  g_autofree guint8 *composite = NULL;
  plan->mode = detect_mode (document, frame, &composite);
  plan->frame = plan->source = *frame;
  plan->width = frame->width;
  plan->height = frame->height;
  plan->latent_noise = options->masked_content == SF_FRAME_MASKED_LATENT_NOISE
                       && (plan->mode == SF_FRAME_INPAINT || plan->mode == SF_FRAME_OUTPAINT);
  /* Outpainting needs the whole frame, so only-masked does not apply. */
  if (options->only_masked && plan->mode != SF_FRAME_OUTPAINT)
    {
      if (!check_size (options->model_width, options->model_height, "model size",
                       SF_FRAME_ERROR_INVALID, error))
        return NULL;
      if (plan->mode != SF_FRAME_INPAINT)
        {
          g_set_error (error, SF_FRAME_ERROR, SF_FRAME_ERROR_EMPTY_MASK,
                       "Nothing is masked in the frame; paint a mask to inpaint only the "
                       "masked area, or turn “only masked” off");
          return NULL;
        }
    }

  switch (plan->mode)
    {
    case SF_FRAME_TXT2IMG:
      plan->original_rgba = take_bytes (g_steal_pointer (&composite), pixel_count (frame) * 4);
      break;
    case SF_FRAME_IMG2IMG:
      plan->original_rgba = take_bytes (g_steal_pointer (&composite), pixel_count (frame) * 4);
      plan->init_rgba = g_bytes_ref (plan->original_rgba);
      break;
    case SF_FRAME_INPAINT:
      {
        guint8 *blend = feathered_mask (document, frame, options->mask_blur_px);
        SfRect region;
        if (options->only_masked && only_masked_region (blend, frame, options, &region))
          {
            guint8 *cropped = crop (blend, 1, frame, &region);
            g_free (blend);
            blend = cropped;
            plan->source = region;
            plan->width = options->model_width;
            plan->height = options->model_height;
          }
        plan_inpaint (plan, document, options, blend);
        break;
      }
    case SF_FRAME_OUTPAINT:
      plan_outpaint (plan, document, options);
      break;
    }
  return g_steal_pointer (&plan);
}

/* Compositing the result */

/* One pixel of the result laid over the original with coverage @b: the
 * original's colour counts by its alpha, so a transparent original adds
 * no colour; with an opaque original this is the rounded linear mix. */
static void
blend_pixel (const guint8 *original, const guint8 *result, guint b, guint8 *out)
{
  if (b == 0)
    {
      memcpy (out, original, 4);
      return;
    }
  guint keep = original[3] * (255 - b), take = 255 * b, total = keep + take;
  for (int c = 0; c < 3; c++)
    out[c] = (guint8) ((original[c] * keep + result[c] * take + total / 2) / total);
  out[3] = (guint8) ((total + 127) / 255);
}

GBytes *
sf_frame_plan_composite (const SfFramePlan *plan, GBytes *result_rgba)
{
  gsize size;
  const guint8 *result = g_bytes_get_data (result_rgba, &size);
  g_return_val_if_fail (size == (gsize) plan->width * plan->height * 4, NULL);
  const SfRect *source = &plan->source;
  g_autofree guint8 *scaled = NULL;
  if (plan->width != source->width || plan->height != source->height)
    result = scaled = resample (result, plan->width, plan->height, 4, source->width,
                                source->height);
  const guint8 *original = g_bytes_get_data (plan->original_rgba, NULL);
  const guint8 *blend = plan->blend_mask ? g_bytes_get_data (plan->blend_mask, NULL) : NULL;
  gsize count = pixel_count (source);
  guint8 *out = g_malloc (count * 4);
  for (gsize i = 0; i < count; i++)
    blend_pixel (original + i * 4, result + i * 4, blend ? blend[i] : 255, out + i * 4);
  return g_bytes_new_take (out, count * 4);
}

/* Extending the canvas */

/* The frame's span along the axis it extends: its outer edge @amount px
 * past the canvas edge (rounded outwards to 8), reaching @overlap_px back
 * into the canvas, as wide as @size where that stays within the canvas. */
static void
extend_span (int canvas_lo, int canvas_hi, int size, int amount, int overlap, gboolean high,
             int *lo, int *hi)
{
  if (high)
    {
      int outer = ceil8 (canvas_hi + amount);
      int needed = ceil8 (outer - (canvas_hi - overlap));
      int widest = outer - ceil8 (canvas_lo);
      size = MAX (MAX (needed, MIN (size, widest)), SF_FRAME_MIN_SIZE);
      *lo = outer - size;
      *hi = outer;
    }
  else
    {
      int outer = floor8 (canvas_lo - amount);
      int needed = ceil8 (canvas_lo + overlap - outer);
      int widest = floor8 (canvas_hi) - outer;
      size = MAX (MAX (needed, MIN (size, widest)), SF_FRAME_MIN_SIZE);
      *lo = outer;
      *hi = outer + size;
    }
}

/* The frame's span across that axis: where it is, moved (and if need be
 * shrunk) to lie within the canvas, so only one side is extended. */
static void
fit_span (int canvas_lo, int canvas_hi, int start, int size, int *lo, int *hi)
{
  int min = ceil8 (canvas_lo), max = floor8 (canvas_hi);
  size = MAX (MIN (size, max - min), SF_FRAME_MIN_SIZE);
  *lo = max - size < min ? min : CLAMP (start, min, max - size);
  *hi = *lo + size;
}

SfRect
sf_frame_for_extend (SfDocument *document, const SfRect *frame, int side, int amount,
                     int overlap_px)
{
  g_return_val_if_fail (side >= 0 && side <= 3, *frame);
  SfRect canvas = sf_document_get_canvas (document);
  SfRect snapped = sf_rect_snap8 (frame);
  amount = MAX (amount, 0);
  overlap_px = MAX (overlap_px, 0);
  int x0, x1, y0, y1;
  gboolean high = side == 2 || side == 3;
  if (side == 0 || side == 2)
    {
      extend_span (canvas.x, canvas.x + canvas.width, snapped.width, amount, overlap_px, high,
                   &x0, &x1);
      fit_span (canvas.y, canvas.y + canvas.height, snapped.y, snapped.height, &y0, &y1);
    }
  else
    {
      extend_span (canvas.y, canvas.y + canvas.height, snapped.height, amount, overlap_px, high,
                   &y0, &y1);
      fit_span (canvas.x, canvas.x + canvas.width, snapped.x, snapped.width, &x0, &x1);
    }
  return (SfRect) { x0, y0, x1 - x0, y1 - y0 };
}
