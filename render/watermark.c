/* The DWT-DCT watermark (see watermark.h). Every 8×8 pixel block of the
 * picture is one 4×4 block of the Haar low band, so the work is done per
 * block: its low band from the pixels' U, the block's DCT, one coefficient
 * moved, and the change spread back over the pixels (with the orthonormal
 * Haar transform a change d of a low-band value is d/2 on each of its four
 * pixels, the detail bands untouched). */
#include "watermark.h"

#include <math.h>
#include <string.h>

G_DEFINE_QUARK (sf-watermark-error-quark, sf_watermark_error)

#define BLOCK_PX 8 /* a 4×4 low-band block covers 8×8 pixels */

/* Re-embedding passes: rounding to bytes and clipping at 0/255 can leave
 * a block off its lattice point; another pass usually puts it back. */
#define PASSES 3

/* U of BT.601 YUV as OpenCV computes it (0.492 (B − Y)), without its
 * offset: only AC coefficients are used, which a constant does not touch. */
static double
chroma_u (const guint8 *p)
{
  double y = 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
  return 0.492 * (p[2] - y);
}

/* Orthonormal 4-point DCT-II basis: basis[k][n]. */
static void
dct_basis (double basis[4][4])
{
  for (int k = 0; k < 4; k++)
    for (int n = 0; n < 4; n++)
      basis[k][n] = (k ? sqrt (0.5) : 0.5) * cos (G_PI * (2 * n + 1) * k / 8);
}

typedef struct {
  double basis[4][4];
  guint64 key_state;
} SfMarkContext;

static void
context_init (SfMarkContext *context)
{
  dct_basis (context->basis);
  /* Any fixed seed: it is the key both sides share. */
  context->key_state = 0x53464d5400000001ull;
}

/* SplitMix64's next bit (Steele et al., 2014): the per-block key. */
static int
next_key_bit (SfMarkContext *context)
{
  guint64 z = (context->key_state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return (int) ((z ^ (z >> 31)) >> 63);
}

/* The block at pixel (@x0, @y0): its largest AC coefficient's position
 * and value. */
static double
largest_coefficient (const SfMarkContext *context, const guint8 *rgba, int stride, int x0, int y0,
                     int *p_out, int *q_out)
{
  double low[4][4];
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 4; j++)
      {
        const guint8 *top = rgba + (gsize) (y0 + 2 * i) * stride + (gsize) (x0 + 2 * j) * 4;
        const guint8 *bottom = top + stride;
        low[i][j] = (chroma_u (top) + chroma_u (top + 4) + chroma_u (bottom) + chroma_u (bottom + 4))
                    / 2;
      }
  double best = 0, best_magnitude = -1;
  int best_p = 0, best_q = 1;
  for (int p = 0; p < 4; p++)
    for (int q = 0; q < 4; q++)
      {
        if (p == 0 && q == 0)
          continue;
        double value = 0;
        for (int m = 0; m < 4; m++)
          for (int n = 0; n < 4; n++)
            value += context->basis[p][m] * low[m][n] * context->basis[q][n];
        /* The first of equal magnitudes, in row-major order, wins. */
        if (fabs (value) > best_magnitude)
          {
            best = value;
            best_magnitude = fabs (value);
            best_p = p;
            best_q = q;
          }
      }
  *p_out = best_p;
  *q_out = best_q;
  return best;
}

/* The bit a coefficient says: its magnitude's remainder in the upper half. */
static int
coefficient_bit (double value)
{
  return fmod (fabs (value), SF_WATERMARK_SCALE) > SF_WATERMARK_SCALE / 2;
}

/* The lattice point for @bit nearest @value, with @value's sign:
 * (n + ¼ + ½ bit) · scale. */
static double
lattice_point (double value, int bit)
{
  double offset = 0.25 + 0.5 * bit;
  double n = MAX (0.0, round (fabs (value) / SF_WATERMARK_SCALE - offset));
  double magnitude = (n + offset) * SF_WATERMARK_SCALE;
  return value < 0 ? -magnitude : magnitude;
}

/* Moves coefficient (@p, @q) of the block by @delta: in the low band that
 * is delta · basis[p][m] · basis[q][n]; in U half that on each of the four
 * pixels; in RGB, holding Y and V, B moves by ΔU / 0.492 and G by
 * −0.114/0.587 of that. */
static void
move_coefficient (const SfMarkContext *context, guint8 *rgba, int stride, int x0, int y0, int p,
                  int q, double delta)
{
  for (int m = 0; m < 4; m++)
    for (int n = 0; n < 4; n++)
      {
        double du = delta * context->basis[p][m] * context->basis[q][n] / 2;
        double db = du / 0.492, dg = -0.114 / 0.587 * db;
        for (int dy = 0; dy < 2; dy++)
          for (int dx = 0; dx < 2; dx++)
            {
              guint8 *px = rgba + (gsize) (y0 + 2 * m + dy) * stride + (gsize) (x0 + 2 * n + dx) * 4;
              px[1] = (guint8) CLAMP (round (px[1] + dg), 0, 255);
              px[2] = (guint8) CLAMP (round (px[2] + db), 0, 255);
            }
      }
}

static int
message_bit (const guint8 *message, int index)
{
  return (message[index / 8] >> (7 - index % 8)) & 1;
}

int
sf_watermark_repeats (int width, int height, int bits)
{
  if (bits <= 0)
    return 0;
  return (width / BLOCK_PX) * (height / BLOCK_PX) / bits;
}

gboolean
sf_watermark_embed (guint8 *rgba, int width, int height, int stride, const guint8 *message,
                    int bits, GError **error)
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
  for (int pass = 0; pass < PASSES; pass++)
    {
      SfMarkContext context;
      context_init (&context);
      int index = 0;
      for (int y0 = 0; y0 + BLOCK_PX <= height; y0 += BLOCK_PX)
        for (int x0 = 0; x0 + BLOCK_PX <= width; x0 += BLOCK_PX, index++)
          {
            int bit = message_bit (message, index % bits) ^ next_key_bit (&context);
            int p, q;
            double value = largest_coefficient (&context, rgba, stride, x0, y0, &p, &q);
            double delta = lattice_point (value, bit) - value;
            /* Later passes touch only blocks that drifted off their point. */
            if (pass == 0 || fabs (delta) > SF_WATERMARK_SCALE / 8)
              move_coefficient (&context, rgba, stride, x0, y0, p, q, delta);
          }
    }
  return TRUE;
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
  int ones[SF_WATERMARK_MAX_BITS] = { 0 }, votes[SF_WATERMARK_MAX_BITS] = { 0 };
  SfMarkContext context;
  context_init (&context);
  int index = 0;
  for (int y0 = 0; y0 + BLOCK_PX <= height; y0 += BLOCK_PX)
    for (int x0 = 0; x0 + BLOCK_PX <= width; x0 += BLOCK_PX, index++)
      {
        int p, q;
        double value = largest_coefficient (&context, rgba, stride, x0, y0, &p, &q);
        int bit = coefficient_bit (value) ^ next_key_bit (&context);
        ones[index % bits] += bit;
        votes[index % bits]++;
      }
  int agree = 0, total = 0;
  for (int i = 0; i < bits; i++)
    {
      if (2 * ones[i] > votes[i])
        message_out[i / 8] |= (guint8) (0x80 >> (i % 8));
      agree += MAX (ones[i], votes[i] - ones[i]);
      total += votes[i];
    }
  double share = (double) agree / total;
  if (confidence)
    *confidence = share;
  return share >= SF_WATERMARK_THRESHOLD;
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
  guint8 message[SF_WATERMARK_TAG_BITS / 8];
  gboolean confident = sf_watermark_detect (rgba, width, height, stride, message,
                                            SF_WATERMARK_TAG_BITS, confidence);
  return confident && memcmp (message, SF_WATERMARK_TAG, sizeof message) == 0;
}
