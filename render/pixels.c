#include "pixels.h"

void
sf_pixels_argb_to_rgba (const guint8 *argb, int argb_stride, guint8 *rgba, int rgba_stride,
                        int width, int height)
{
  for (int y = 0; y < height; y++)
    {
      const guint32 *src = (const guint32 *) (argb + (gsize) y * argb_stride);
      guint8 *dst = rgba + (gsize) y * rgba_stride;
      for (int x = 0; x < width; x++)
        {
          guint32 p = src[x];
          guint a = p >> 24;
          if (a == 0)
            {
              dst[4 * x + 0] = dst[4 * x + 1] = dst[4 * x + 2] = dst[4 * x + 3] = 0;
              continue;
            }
          guint r = (p >> 16) & 0xff, g = (p >> 8) & 0xff, b = p & 0xff;
          /* round(c·255/a); colour ≤ alpha keeps it ≤ 255 */
          dst[4 * x + 0] = (guint8) MIN (255u, (r * 255 + a / 2) / a);
          dst[4 * x + 1] = (guint8) MIN (255u, (g * 255 + a / 2) / a);
          dst[4 * x + 2] = (guint8) MIN (255u, (b * 255 + a / 2) / a);
          dst[4 * x + 3] = (guint8) a;
        }
    }
}

void
sf_pixels_rgba_to_argb (const guint8 *rgba, int rgba_stride, guint8 *argb, int argb_stride,
                        int width, int height)
{
  for (int y = 0; y < height; y++)
    {
      const guint8 *src = rgba + (gsize) y * rgba_stride;
      guint32 *dst = (guint32 *) (argb + (gsize) y * argb_stride);
      for (int x = 0; x < width; x++)
        {
          guint a = src[4 * x + 3];
          guint r = sf_mul_255 (src[4 * x + 0], a);
          guint g = sf_mul_255 (src[4 * x + 1], a);
          guint b = sf_mul_255 (src[4 * x + 2], a);
          dst[x] = (a << 24) | (r << 16) | (g << 8) | b;
        }
    }
}
