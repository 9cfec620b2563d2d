#include "geometry.h"

gboolean
sf_rect_intersect (const SfRect *a, const SfRect *b, SfRect *out)
{
  int x0 = MAX (a->x, b->x);
  int y0 = MAX (a->y, b->y);
  int x1 = MIN (a->x + a->width, b->x + b->width);
  int y1 = MIN (a->y + a->height, b->y + b->height);
  if (x1 <= x0 || y1 <= y0 || sf_rect_is_empty (a) || sf_rect_is_empty (b))
    {
      *out = (SfRect) { x0, y0, 0, 0 };
      return FALSE;
    }
  *out = (SfRect) { x0, y0, x1 - x0, y1 - y0 };
  return TRUE;
}

void
sf_rect_union (const SfRect *a, const SfRect *b, SfRect *out)
{
  if (sf_rect_is_empty (a))
    {
      *out = *b;
      return;
    }
  if (sf_rect_is_empty (b))
    {
      *out = *a;
      return;
    }
  int x0 = MIN (a->x, b->x);
  int y0 = MIN (a->y, b->y);
  int x1 = MAX (a->x + a->width, b->x + b->width);
  int y1 = MAX (a->y + a->height, b->y + b->height);
  *out = (SfRect) { x0, y0, x1 - x0, y1 - y0 };
}

gboolean
sf_rect_contains_point (const SfRect *rect, int x, int y)
{
  return x >= rect->x && y >= rect->y && x < rect->x + rect->width && y < rect->y + rect->height;
}

gboolean
sf_rect_equal (const SfRect *a, const SfRect *b)
{
  return a->x == b->x && a->y == b->y && a->width == b->width && a->height == b->height;
}

static int
round8 (int value)
{
  /* Nearest multiple of 8, halves up; the same for negatives, so moving a
   * rectangle by a multiple of 8 never changes its snapped size. */
  return sf_floor_div (value + 4, 8) * 8;
}

SfRect
sf_rect_snap8 (const SfRect *rect)
{
  int x0 = round8 (rect->x);
  int y0 = round8 (rect->y);
  int x1 = round8 (rect->x + rect->width);
  int y1 = round8 (rect->y + rect->height);
  return (SfRect) { x0, y0, MAX (x1 - x0, 8), MAX (y1 - y0, 8) };
}
