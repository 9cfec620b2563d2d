/* An invisible watermark that is the "dwtDct" method of the
 * invisible-watermark library (imwatermark, EmbedMaxDct), which the Stable
 * Diffusion reference scripts use, bit for bit: the picture goes to
 * OpenCV's 8-bit YUV; the U plane of its top-left crop (sides rounded down
 * to multiples of 4) goes through a one-level Haar transform; the low band
 * is cut into 4×4 blocks (8×8 pixels each) and in each block the entry of
 * largest magnitude after the first is set to (⌊|v| / 36⌋ + ¼ + ½ bit) · 36,
 * so its remainder modulo 36 says one bit; the message repeats over the
 * blocks in row-major order and reading takes the mean vote per bit. The
 * library's quirks come along, since they decide the output bytes: the
 * inverse transform gets two detail bands swapped (each 2×2 group of U
 * comes back transposed), U is truncated to bytes, and every pixel makes
 * the round trip through 8-bit YUV. sf_watermark_embed_as_imwatermark()
 * equals the library's output byte for byte (tests/data/watermark, made by
 * tests/reference/watermark_reference.py); sf_watermark_embed() differs
 * only where the library's own mark would read wrong (see there); each
 * side reads the other's marks.
 *
 * Reading always gives some bits: an unmarked picture reads whatever its
 * blocks happen to say (a flat one reads one bit throughout, every vote
 * agreeing).
 * A mark is there when the bits are the expected message: Sfumato's tag
 * exactly, or the SDXL scripts' 48 bits by their own detector's rule.
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
/* The quantisation step, in units of the wavelet low band (twice a 2×2
 * group's mean U; the library's default): larger survives more, shows
 * more. */
#define SF_WATERMARK_SCALE 36.0
/* Each bit must repeat at least this often for a reading to mean much.
 * (imwatermark itself refuses pictures under 256 × 256 pixels.) */
#define SF_WATERMARK_MIN_REPEATS 8
/* Share of agreeing votes from which sf_watermark_detect() calls a
 * reading confident. Our marks read 0.96 or more after a PNG round trip;
 * noise reads about 0.5 + 0.4 / √repeats, but smooth or flat pictures can
 * read confidently too, so confidence alone does not mean "marked". */
#define SF_WATERMARK_THRESHOLD 0.75
#define SF_WATERMARK_MAX_BITS 256

/* The Stable Diffusion XL reference scripts' mark (Stability-AI/
 * generative-models, sgm/inference/helpers.py): 48 bits chosen at random,
 * 0xB3EC907BB19E, given to imwatermark as bits. */
#define SF_WATERMARK_SDXL_BITS 48
extern const guint8 sf_watermark_sdxl_message[SF_WATERMARK_SDXL_BITS / 8];
/* Their detector (scripts/demo/detect.py) calls a picture "likely
 * watermarked" from 36 matching bits of 48 (0.02 % of their 10,000 real
 * pictures did). */
#define SF_WATERMARK_SDXL_LIKELY 36

/* How many times @bits repeat in a @width × @height picture. */
int sf_watermark_repeats (int width, int height, int bits);

/* Embeds @bits bits of @message (MSB first) into @rgba in place (@width ×
 * @height, rows of @stride bytes). FALSE with an error when the picture is
 * too small for SF_WATERMARK_MIN_REPEATS repetitions or @bits is not 1 …
 * SF_WATERMARK_MAX_BITS.
 *
 * This is the library's encoder with one difference: where its step to
 * the lattice lowers a block's largest entry below another one (common in
 * smooth pictures), its decoder then reads the other entry and, often,
 * the wrong bit; here the entry goes one lattice step higher instead, so
 * the block reads right by both decoders. Other blocks' pixels are the
 * library's, byte for byte. */
gboolean sf_watermark_embed (guint8 *rgba, int width, int height, int stride,
                             const guint8 *message, int bits, GError **error);
/* Exactly what imwatermark's dwtDct encoder writes, byte for byte (for the
 * tests, and for anyone who needs the library's output). */
gboolean sf_watermark_embed_as_imwatermark (guint8 *rgba, int width, int height, int stride,
                                            const guint8 *message, int bits, GError **error);

/* Reads @bits bits into @message_out ((@bits + 7) / 8 bytes) as the
 * library's decoder does (a bit is 1 when its mean vote × 255 > 127) and
 * sets @confidence (nullable) to the share of the votes that agree with the
 * bits read, 0.5 … 1 (0 when the picture is too small). Returns whether the
 * confidence reaches SF_WATERMARK_THRESHOLD. */
gboolean sf_watermark_detect (const guint8 *rgba, int width, int height, int stride,
                              guint8 *message_out, int bits, double *confidence);

/* How many of the @bits bits read from @rgba equal @message's (0 when the
 * picture is too small); @confidence as sf_watermark_detect() sets it. */
int sf_watermark_matching_bits (const guint8 *rgba, int width, int height, int stride,
                                const guint8 *message, int bits, double *confidence);

/* The same with Sfumato's tag. */
gboolean sf_watermark_embed_tag (guint8 *rgba, int width, int height, int stride,
                                 GError **error);
/* Whether @rgba holds Sfumato's tag: all 32 bits read are the tag (an
 * unmarked picture's bits are the tag by chance about once in 2³²);
 * @confidence as sf_watermark_detect() sets it. */
gboolean sf_watermark_has_tag (const guint8 *rgba, int width, int height, int stride,
                               double *confidence);
/* Whether @rgba holds the SDXL reference scripts' mark: at least
 * SF_WATERMARK_SDXL_LIKELY bits match; @matching_out (nullable) gets how
 * many. */
gboolean sf_watermark_has_sdxl_mark (const guint8 *rgba, int width, int height, int stride,
                                     int *matching_out);

G_END_DECLS
