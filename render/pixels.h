/* Pixel layout conversions. Layers store premultiplied ARGB32 in Cairo's
 * layout (native-endian 0xAARRGGBB words); files and the generation
 * engine use straight (non-premultiplied) R,G,B,A bytes. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Premultiplied ARGB32 → straight RGBA8. For every valid premultiplied
 * pixel (colour ≤ alpha) the round trip back through
 * sf_pixels_rgba_to_argb gives the same bytes. */
void sf_pixels_argb_to_rgba (const guint8 *argb, int argb_stride, guint8 *rgba, int rgba_stride,
                             int width, int height);
/* Straight RGBA8 → premultiplied ARGB32, rounding to nearest. */
void sf_pixels_rgba_to_argb (const guint8 *rgba, int rgba_stride, guint8 *argb, int argb_stride,
                             int width, int height);

/* Multiplies with rounding: a·b/255 for bytes. */
static inline guint8
sf_mul_255 (guint a, guint b)
{
  guint t = a * b + 128;
  return (guint8) ((t + (t >> 8)) >> 8);
}

G_END_DECLS
