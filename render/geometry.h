/* Integer rectangles in canvas coordinates (pixels; y grows downward; the
 * canvas origin may be negative once the canvas has grown up or left). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  int x;
  int y;
  int width;
  int height;
} SfRect;

static inline gboolean
sf_rect_is_empty (const SfRect *rect)
{
  return rect->width <= 0 || rect->height <= 0;
}

/* Sets @out to the intersection (empty: width = height = 0); returns
 * whether it is non-empty. @out may alias @a or @b. */
gboolean sf_rect_intersect (const SfRect *a, const SfRect *b, SfRect *out);

/* The smallest rectangle holding both; an empty input is ignored. */
void sf_rect_union (const SfRect *a, const SfRect *b, SfRect *out);

gboolean sf_rect_contains_point (const SfRect *rect, int x, int y);
gboolean sf_rect_equal (const SfRect *a, const SfRect *b);

/* The rectangle with every edge rounded to the nearest multiple of 8 and
 * at least 8×8 (what the generation frame must be: SDXL works on 8-pixel
 * latent cells). */
SfRect sf_rect_snap8 (const SfRect *rect);

/* floor(a / b) for b > 0, also for negative a. */
static inline int
sf_floor_div (int a, int b)
{
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

G_END_DECLS
