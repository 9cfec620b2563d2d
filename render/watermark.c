/* The dwtDct watermark of invisible-watermark (imwatermark/maxDct.py,
 * EmbedMaxDct), step for step, so that either side reads what the other
 * wrote (see watermark.h). Every floating-point operation is the one
 * numpy, PyWavelets and OpenCV do, in their order, because the library
 * truncates the inverse wavelet transform to bytes: a value one ulp below
 * an integer lands a level lower, and we must land there too. This file
 * is built with -ffp-contract=off for the same reason. */
#include "watermark.h"

#include <math.h>
#include <string.h>

G_DEFINE_QUARK (sf-watermark-error-quark, sf_watermark_error)

/* PyWavelets' Haar filter taps, 1/√2 as it stores them. */
#define HAAR 0.7071067811865476
#define BLOCK 4 /* blocks of the low band; 8×8 pixels each */

const guint8 sf_watermark_sdxl_message[SF_WATERMARK_SDXL_BITS / 8] = { 0xb3, 0xec, 0x90,
                                                                       0x7b, 0xb1, 0x9e };

/* OpenCV's 8-bit BGR ↔ YUV (modules/imgproc/src/color_yuv.simd.hpp,
 * RGB2YCrCb_i and YCrCb2RGB_i with the YUV coefficients): 14-bit fixed
 * point, rounded, saturated. Checked against cv2.cvtColor on all 2²⁴
 * colours both ways. */
#define YUV_SHIFT 14
#define DESCALE(x) (((x) + (1 << (YUV_SHIFT - 1))) >> YUV_SHIFT)

static guint8
saturate (int value)
{
  return (guint8) CLAMP (value, 0, 255);
}

static void
rgb_to_yuv (const guint8 *rgb, guint8 yuv[3])
{
  int r = rgb[0], g = rgb[1], b = rgb[2];
  int y = DESCALE (r * 4899 + g * 9617 + b * 1868);
  yuv[0] = saturate (y);
  yuv[1] = saturate (DESCALE ((b - y) * 8061 + (128 << YUV_SHIFT)));
  yuv[2] = saturate (DESCALE ((r - y) * 14369 + (128 << YUV_SHIFT)));
}

static void
yuv_to_rgb (const guint8 yuv[3], guint8 *rgb)
{
  int y = yuv[0], u = yuv[1] - 128, v = yuv[2] - 128;
  rgb[0] = saturate (y + DESCALE (v * 18678));
  rgb[1] = saturate (y + DESCALE (u * -6472 + v * -9519));
  rgb[2] = saturate (y + DESCALE (u * 33292));
}

/* The U plane of the top-left crop the library transforms: height and
 * width rounded down to multiples of 4. */
typedef struct {
  int width, height; /* of the crop */
  guint8 *u;         /* width × height */
} SfChroma;

static void
chroma_read (SfChroma *chroma, const guint8 *rgba, int width, int height, int stride)
{
  chroma->width = width / 4 * 4;
  chroma->height = height / 4 * 4;
  chroma->u = g_malloc ((gsize) chroma->width * chroma->height);
  for (int y = 0; y < chroma->height; y++)
    for (int x = 0; x < chroma->width; x++)
      {
        guint8 yuv[3];
        rgb_to_yuv (rgba + (gsize) y * stride + (gsize) x * 4, yuv);
        chroma->u[(gsize) y * chroma->width + x] = yuv[1];
      }
}

/* One 2×2 pixel group's Haar coefficients as pywt.dwt2 computes them:
 * along rows (axis 0) first, then columns; each output is the sum of the
 * later tap's product and the earlier one's (PyWavelets'
 * downsampling_convolution). @ll is the low band, @lh low along rows and
 * high along columns (pywt's cV), @hl the other way round (cH), @hh cD. */
typedef struct {
  double ll, hl, lh, hh;
} SfHaar;

static SfHaar
haar_forward (double top_left, double top_right, double bottom_left, double bottom_right)
{
  double low_left = HAAR * bottom_left + HAAR * top_left;
  double low_right = HAAR * bottom_right + HAAR * top_right;
  double high_left = -HAAR * bottom_left + HAAR * top_left;
  double high_right = -HAAR * bottom_right + HAAR * top_right;
  return (SfHaar) {
    .ll = HAAR * low_right + HAAR * low_left,
    .lh = -HAAR * low_right + HAAR * low_left,
    .hl = HAAR * high_right + HAAR * high_left,
    .hh = -HAAR * high_right + HAAR * high_left,
  };
}

/* pywt.idwt2 of one group: columns (the last axis) first, then rows; each
 * output starts from zero and adds the low tap's product, then the high
 * one's (upsampling_convolution_valid_sf). The library passes its detail
 * bands back as (cV, cH, cD) where dwt2 gave (cH, cV, cD), so the band
 * idwt2 takes as horizontal detail is really the vertical one: the
 * transform of a 2×2 group comes back transposed. We reproduce that. */
static void
haar_inverse_swapped (SfHaar band, double out[2][2])
{
  /* idwt2 reads cH = band.lh and cV = band.hl. */
  double as_hl = band.lh, as_lh = band.hl;
  double low_left = HAAR * band.ll + HAAR * as_lh;
  double low_right = HAAR * band.ll + -HAAR * as_lh;
  double high_left = HAAR * as_hl + HAAR * band.hh;
  double high_right = HAAR * as_hl + -HAAR * band.hh;
  out[0][0] = HAAR * low_left + HAAR * high_left;
  out[1][0] = HAAR * low_left + -HAAR * high_left;
  out[0][1] = HAAR * low_right + HAAR * high_right;
  out[1][1] = HAAR * low_right + -HAAR * high_right;
}

static SfHaar
chroma_haar (const SfChroma *chroma, int row, int column)
{
  const guint8 *top = chroma->u + (gsize) (2 * row) * chroma->width + 2 * column;
  const guint8 *bottom = top + chroma->width;
  return haar_forward (top[0], top[1], bottom[0], bottom[1]);
}

/* numpy's float floor division (npy_divmod), which val // scale is. */
static double
floor_divide (double a, double b)
{
  double mod = fmod (a, b);
  double div = (a - mod) / b;
  if (mod != 0 && ((b < 0) != (mod < 0)))
    div -= 1.0;
  if (div == 0)
    return copysign (0.0, a / b);
  double floored = floor (div);
  if (div - floored > 0.5)
    floored += 1.0;
  return floored;
}

/* numpy's float remainder (npy_divmod), which val % scale is. */
static double
remainder_of (double a, double b)
{
  double mod = fmod (a, b);
  if (mod != 0 && ((b < 0) != (mod < 0)))
    mod += b;
  return mod;
}

/* Where in a 4×4 low-band block the library writes: the largest magnitude
 * after the first entry, the first of equals in row-major order
 * (np.argmax of abs(block.flatten()[1:])). The library's "dwtDct" takes it
 * from the low band itself; no DCT is computed despite the name. */
static int
largest_entry (const double block[BLOCK * BLOCK])
{
  int best = 1;
  for (int i = 2; i < BLOCK * BLOCK; i++)
    if (fabs (block[i]) > fabs (block[best]))
      best = i;
  return best;
}

/* EmbedMaxDct.diffuse_dct_matrix: (⌊|v| / scale⌋ + ¼ + ½ bit) · scale with
 * v's sign, so the remainder sits at a quarter or three quarters. */
static double
quantise (double value, int bit)
{
  double magnitude = fabs (value);
  double moved = (floor_divide (magnitude, SF_WATERMARK_SCALE) + 0.25 + 0.5 * bit)
                 * SF_WATERMARK_SCALE;
  return value >= 0.0 ? moved : -1.0 * moved;
}

/* EmbedMaxDct.infer_dct_matrix. */
static int
infer_bit (double value)
{
  return remainder_of (fabs (value), SF_WATERMARK_SCALE) > 0.5 * SF_WATERMARK_SCALE;
}

/* The largest magnitude in the block other than at @entry (and the first
 * entry, which the library never looks at). */
static double
runner_up (const double block[BLOCK * BLOCK], int entry)
{
  double best = 0;
  for (int i = 1; i < BLOCK * BLOCK; i++)
    if (i != entry)
      best = MAX (best, fabs (block[i]));
  return best;
}

/* How far the moved entry must stay ahead of the rest for the decoder to
 * find it again: the truncation to bytes and the round trip through 8-bit
 * YUV move low-band entries by up to about 2. */
#define LEAD 4.0

static void
block_read (const SfChroma *chroma, int block_row, int block_column, double block[BLOCK * BLOCK])
{
  for (int i = 0; i < BLOCK; i++)
    for (int j = 0; j < BLOCK; j++)
      block[i * BLOCK + j] = chroma_haar (chroma, block_row * BLOCK + i, block_column * BLOCK + j).ll;
}

static int
message_bit (const guint8 *message, int index)
{
  return (message[index / 8] >> (7 - index % 8)) & 1;
}

int
sf_watermark_repeats (int width, int height, int bits)
{
  if (bits <= 0 || width <= 0 || height <= 0)
    return 0;
  return (width / 8) * (height / 8) / bits;
}

static gboolean
embed (guint8 *rgba, int width, int height, int stride, const guint8 *message, int bits,
       gboolean keep_lead, GError **error)
{
  if (bits < 1 || bits > SF_WATERMARK_MAX_BITS)
    {
      g_set_error (error, SF_WATERMARK_ERROR, SF_WATERMARK_ERROR_INVALID,
                   "A watermark message has 1 to %d bits, not %d", SF_WATERMARK_MAX_BITS, bits);
      return FALSE;
    }
  if (sf_watermark_repeats (width, height, bits) < SF_WATERMARK_MIN_REPEATS)
    {
      g_set_error (error, SF_WATERMARK_ERROR, SF_WATERMARK_ERROR_TOO_SMALL,
                   "A %d×%d picture is too small for a %d-bit watermark (it needs %d blocks "
                   "of 8×8 pixels)",
                   width, height, bits, bits * SF_WATERMARK_MIN_REPEATS);
      return FALSE;
    }
  SfChroma chroma;
  chroma_read (&chroma, rgba, width, height, stride);
  int rows = chroma.height / 2, columns = chroma.width / 2;
  /* The low band, with each block's largest entry moved (encode_frame:
   * block k carries bit k mod bits, blocks in row-major order). */
  double *low = g_new (double, (gsize) rows * columns);
  for (int i = 0; i < rows; i++)
    for (int j = 0; j < columns; j++)
      low[(gsize) i * columns + j] = chroma_haar (&chroma, i, j).ll;
  int index = 0;
  for (int block_row = 0; block_row < rows / BLOCK; block_row++)
    for (int block_column = 0; block_column < columns / BLOCK; block_column++, index++)
      {
        double block[BLOCK * BLOCK];
        block_read (&chroma, block_row, block_column, block);
        int entry = largest_entry (block);
        int i = block_row * BLOCK + entry / BLOCK, j = block_column * BLOCK + entry % BLOCK;
        double moved = quantise (block[entry], message_bit (message, index % bits));
        /* Where the library's step down lets another entry overtake, its
         * decoder reads that entry instead; one lattice step up (36 more
         * in magnitude) keeps the moved one the largest. */
        if (keep_lead && fabs (moved) < runner_up (block, entry) + LEAD)
          moved += moved >= 0 ? SF_WATERMARK_SCALE : -SF_WATERMARK_SCALE;
        low[(gsize) i * columns + j] = moved;
      }
  /* Back to U, truncated to bytes as numpy's assignment into the uint8
   * YUV array does. The library's steps keep U within 3 … 253; our step
   * up can pass 255 in saturated blue, where numpy would wrap: clamp. */
  guint8 *u = g_malloc ((gsize) chroma.width * chroma.height);
  for (int i = 0; i < rows; i++)
    for (int j = 0; j < columns; j++)
      {
        SfHaar band = chroma_haar (&chroma, i, j);
        band.ll = low[(gsize) i * columns + j];
        double out[2][2];
        haar_inverse_swapped (band, out);
        for (int dy = 0; dy < 2; dy++)
          for (int dx = 0; dx < 2; dx++)
            u[(gsize) (2 * i + dy) * chroma.width + 2 * j + dx] = saturate ((int) out[dy][dx]);
      }
  /* Every pixel goes through YUV and back, the crop with its new U: the
   * library converts the whole picture both ways. */
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        guint8 *pixel = rgba + (gsize) y * stride + (gsize) x * 4;
        guint8 yuv[3];
        rgb_to_yuv (pixel, yuv);
        if (y < chroma.height && x < chroma.width)
          yuv[1] = u[(gsize) y * chroma.width + x];
        yuv_to_rgb (yuv, pixel);
      }
  g_free (u);
  g_free (low);
  g_free (chroma.u);
  return TRUE;
}

gboolean
sf_watermark_embed (guint8 *rgba, int width, int height, int stride, const guint8 *message,
                    int bits, GError **error)
{
  return embed (rgba, width, height, stride, message, bits, TRUE, error);
}

gboolean
sf_watermark_embed_as_imwatermark (guint8 *rgba, int width, int height, int stride,
                                   const guint8 *message, int bits, GError **error)
{
  return embed (rgba, width, height, stride, message, bits, FALSE, error);
}

gboolean
sf_watermark_detect (const guint8 *rgba, int width, int height, int stride, guint8 *message_out,
                     int bits, double *confidence)
{
  g_return_val_if_fail (bits >= 1 && bits <= SF_WATERMARK_MAX_BITS, FALSE);
  memset (message_out, 0, (bits + 7) / 8);
  if (confidence)
    *confidence = 0;
  if (sf_watermark_repeats (width, height, bits) < SF_WATERMARK_MIN_REPEATS)
    return FALSE;
  SfChroma chroma;
  chroma_read (&chroma, rgba, width, height, stride);
  int ones[SF_WATERMARK_MAX_BITS] = { 0 }, votes[SF_WATERMARK_MAX_BITS] = { 0 };
  int index = 0;
  for (int block_row = 0; block_row < chroma.height / 2 / BLOCK; block_row++)
    for (int block_column = 0; block_column < chroma.width / 2 / BLOCK; block_column++, index++)
      {
        double block[BLOCK * BLOCK];
        block_read (&chroma, block_row, block_column, block);
        ones[index % bits] += infer_bit (block[largest_entry (block)]);
        votes[index % bits]++;
      }
  g_free (chroma.u);
  int agree = 0, total = 0;
  for (int i = 0; i < bits; i++)
    {
      /* EmbedMaxDct.decode: the mean vote, times 255, above 127. */
      if ((double) ones[i] / votes[i] * 255 > 127)
        message_out[i / 8] |= (guint8) (0x80 >> (i % 8));
      agree += MAX (ones[i], votes[i] - ones[i]);
      total += votes[i];
    }
  double share = (double) agree / total;
  if (confidence)
    *confidence = share;
  return share >= SF_WATERMARK_THRESHOLD;
}

int
sf_watermark_matching_bits (const guint8 *rgba, int width, int height, int stride,
                            const guint8 *message, int bits, double *confidence)
{
  guint8 read[SF_WATERMARK_MAX_BITS / 8];
  sf_watermark_detect (rgba, width, height, stride, read, bits, confidence);
  if (sf_watermark_repeats (width, height, bits) < SF_WATERMARK_MIN_REPEATS)
    return 0;
  int matching = 0;
  for (int i = 0; i < bits; i++)
    matching += message_bit (read, i) == message_bit (message, i);
  return matching;
}

gboolean
sf_watermark_embed_tag (guint8 *rgba, int width, int height, int stride, GError **error)
{
  return sf_watermark_embed (rgba, width, height, stride, (const guint8 *) SF_WATERMARK_TAG,
                             SF_WATERMARK_TAG_BITS, error);
}

gboolean
sf_watermark_has_tag (const guint8 *rgba, int width, int height, int stride, double *confidence)
{
  double share = 0;
  int matching = sf_watermark_matching_bits (rgba, width, height, stride,
                                             (const guint8 *) SF_WATERMARK_TAG,
                                             SF_WATERMARK_TAG_BITS, &share);
  if (confidence)
    *confidence = share;
  return matching == SF_WATERMARK_TAG_BITS;
}

gboolean
sf_watermark_has_sdxl_mark (const guint8 *rgba, int width, int height, int stride,
                            int *matching_out)
{
  int matching = sf_watermark_matching_bits (rgba, width, height, stride,
                                             sf_watermark_sdxl_message, SF_WATERMARK_SDXL_BITS,
                                             NULL);
  if (matching_out)
    *matching_out = matching;
  return matching >= SF_WATERMARK_SDXL_LIKELY;
}
