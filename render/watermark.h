/* An invisible watermark in the manner of the `invisible-watermark`
 * library's "dwtDct" method, which the Stable Diffusion reference scripts
 * use: the blue-difference chroma (U of YUV) goes through a one-level Haar
 * wavelet transform; the low band is cut into 4×4 blocks, each block's
 * DCT has its largest AC coefficient quantised so that the magnitude's
 * remainder modulo the scale (36) says one bit; the message repeats over
 * all blocks and reading takes the majority over repetitions.
 *
 * Unlike the library, each block's bit is XORed with a fixed pseudo-random
 * key, so a picture without a watermark (whose blocks all "read" the same
 * bit where it is smooth) gives split votes and a low confidence. Images
 * written by the library are not read by this, nor the other way round.
 *
 * Off by default: the application embeds only when asked. Pixels are
 * straight RGBA8; alpha is left alone. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SF_WATERMARK_ERROR (sf_watermark_error_quark ())
GQuark sf_watermark_error_quark (void);

typedef enum {
  SF_WATERMARK_ERROR_TOO_SMALL, /* too few blocks to repeat the message */
  SF_WATERMARK_ERROR_INVALID,   /* bad message length */
} SfWatermarkError;

/* Sfumato's own tag: the 4 bytes "SFMT", 32 bits, most significant bit
 * of each byte first. */
#define SF_WATERMARK_TAG "SFMT"
#define SF_WATERMARK_TAG_BITS 32
/* The quantisation step, in DCT units of the wavelet low band (the
 * library's default): larger survives more, shows more. */
#define SF_WATERMARK_SCALE 36.0
/* Each bit must repeat at least this often for a reading to mean much. */
#define SF_WATERMARK_MIN_REPEATS 8
/* Confidence from which sf_watermark_detect() says a mark is there; an
 * unmarked picture reads about 0.5 + 0.4 / √repeats. */
#define SF_WATERMARK_THRESHOLD 0.75
#define SF_WATERMARK_MAX_BITS 256

/* How many times @bits repeat in a @width × @height picture. */
int sf_watermark_repeats (int width, int height, int bits);

/* Embeds @bits bits of @message (MSB first) into @rgba in place (@width ×
 * @height, rows of @stride bytes). FALSE with an error when the picture is
 * too small for SF_WATERMARK_MIN_REPEATS repetitions or @bits is not 1 …
 * SF_WATERMARK_MAX_BITS. */
gboolean sf_watermark_embed (guint8 *rgba, int width, int height, int stride,
                             const guint8 *message, int bits, GError **error);

/* Reads @bits bits into @message_out ((@bits + 7) / 8 bytes) and sets
 * @confidence (nullable) to the share of the votes that agree with the bits
 * read, 0.5 … 1 (0 when the picture is too small). Returns whether the
 * confidence reaches SF_WATERMARK_THRESHOLD. */
gboolean sf_watermark_detect (const guint8 *rgba, int width, int height, int stride,
                              guint8 *message_out, int bits, double *confidence);

/* The same with Sfumato's tag. */
gboolean sf_watermark_embed_tag (guint8 *rgba, int width, int height, int stride,
                                 GError **error);
/* Whether @rgba holds Sfumato's tag: a confident reading that is the tag. */
gboolean sf_watermark_has_tag (const guint8 *rgba, int width, int height, int stride,
                               double *confidence);

G_END_DECLS
