/* sfumato-bench-render: the painting engine's figures on a 4096×4096
 * canvas with 10 full layers (some with blend modes, some translucent):
 *   - dab throughput for small, medium and large brushes (undo recording
 *     and copy-on-write included);
 *   - per frame while painting: a stroke advancing 16 px per frame (a
 *     brisk 1000 px/s at 60 Hz), the dabs then the tiles it dirtied
 *     composited again;
 *   - the whole canvas composited from scratch (first view, or after a
 *     layer's opacity changes).
 * Not a test: figures only. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "brush.h"
#include "document.h"

#define SIDE 4096
#define LAYERS 10

static double
now_ms (void)
{
  return g_get_monotonic_time () / 1000.0;
}

static SfDocument *
make_document (void)
{
  SfDocument *document = sf_document_new (SIDE, SIDE);
  sf_document_remove_layer (document, sf_document_get_layer (document, 0));
  g_autofree guint8 *rgba = g_malloc ((gsize) SIDE * SIDE * 4);
  static const SfBlendMode modes[LAYERS] = {
    SF_BLEND_NORMAL, SF_BLEND_NORMAL,  SF_BLEND_MULTIPLY, SF_BLEND_NORMAL, SF_BLEND_SCREEN,
    SF_BLEND_NORMAL, SF_BLEND_OVERLAY, SF_BLEND_NORMAL,   SF_BLEND_ADD,    SF_BLEND_NORMAL,
  };
  for (int l = 0; l < LAYERS; l++)
    {
      for (int y = 0; y < SIDE; y++)
        for (int x = 0; x < SIDE; x++)
          {
            guint8 *p = rgba + ((gsize) y * SIDE + x) * 4;
            p[0] = (guint8) (x * (l + 1) / 16);
            p[1] = (guint8) (y * (l + 2) / 16);
            p[2] = (guint8) ((x + y) * (l + 3) / 32);
            /* The bottom layer opaque, the others partly see-through. */
            p[3] = l == 0 ? 255 : (guint8) (128 + 127 * sin ((x + l * 97) * 0.01) * cos (y * 0.013));
          }
      g_autoptr (GError) error = NULL;
      g_autofree char *name = g_strdup_printf ("Layer %d", l + 1);
      SfLayer *layer = sf_document_add_layer_from_rgba (document, l, rgba, SIDE, SIDE, SIDE * 4, 0,
                                                        0, name, NULL, &error);
      g_assert_no_error (error);
      sf_document_set_layer_blend_mode (document, layer, modes[l]);
      if (l % 3 == 1)
        sf_document_set_layer_opacity (document, layer, 0.7);
    }
  sf_document_set_active_layer (document, sf_document_get_layer (document, LAYERS / 2));
  sf_document_clear_history (document);
  return document;
}

static double
composite_all (SfDocument *document)
{
  double start = now_ms ();
  for (int ty = 0; ty < SIDE / SF_TILE_SIZE; ty++)
    for (int tx = 0; tx < SIDE / SF_TILE_SIZE; tx++)
      sf_document_get_composite_tile (document, tx, ty);
  return now_ms () - start;
}

/* A zigzag across the canvas, one point every @step px. */
static void
path_point (int i, double step, double *x, double *y)
{
  double along = i * step;
  int row = (int) (along / 3600);
  double offset = fmod (along, 3600);
  *x = 248 + ((row % 2) ? 3600 - offset : offset);
  *y = 300 + row * 400 + 60 * sin (along * 0.01);
}

static void
bench_dabs (SfDocument *document, double size)
{
  SfBrush brush;
  sf_brush_init (&brush);
  brush.size_px = size;
  brush.hardness = 0.8;
  brush.color[0] = 0.8;
  const int points = size <= 20 ? 4000 : 2000;
  double x, y;
  path_point (0, 4, &x, &y);
  double start = now_ms ();
  SfStroke *stroke = sf_stroke_begin (document, &brush, x, y, 1.0);
  for (int i = 1; i < points; i++)
    {
      path_point (i, 4, &x, &y);
      sf_stroke_motion (stroke, x, y, 0.9 + 0.1 * sin (i * 0.1));
    }
  guint dabs = sf_stroke_get_dab_count (stroke);
  sf_stroke_end (stroke);
  double elapsed = now_ms () - start;
  double radius = size / 2;
  printf ("dabs, size %4.0f px          %9.0f dabs/s   %7.1f Mpx/s  (%u dabs in %.0f ms)\n", size,
          dabs / (elapsed / 1000), dabs * G_PI * radius * radius / (elapsed / 1000) / 1e6, dabs,
          elapsed);
  sf_document_undo (document);
}

typedef struct {
  SfRect dirty;
} Frame;

static void
on_change (SfDocument *document, const SfDocumentEvent *event, gpointer user_data)
{
  Frame *frame = user_data;
  if (event->change & SF_DOCUMENT_CHANGED_PIXELS)
    sf_rect_union (&frame->dirty, &event->rect, &frame->dirty);
}

static int
compare_doubles (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static void
bench_frames (SfDocument *document, double size)
{
  SfBrush brush;
  sf_brush_init (&brush);
  brush.size_px = size;
  brush.hardness = 0.8;
  brush.color[2] = 0.9;
  Frame frame = { { 0, 0, 0, 0 } };
  guint observer = sf_document_add_observer (document, on_change, &frame);
  const int frames = 240, moves = 4; /* 4 pointer events of 4 px per frame */
  double *paint = g_new (double, frames), *composite = g_new (double, frames);
  guint tiles = 0;
  double x, y;
  path_point (0, 4, &x, &y);
  SfStroke *stroke = sf_stroke_begin (document, &brush, x, y, 1.0);
  for (int f = 0; f < frames; f++)
    {
      frame.dirty = (SfRect) { 0, 0, 0, 0 };
      double start = now_ms ();
      for (int m = 1; m <= moves; m++)
        {
          path_point (f * moves + m, 4, &x, &y);
          sf_stroke_motion (stroke, x, y, 1.0);
        }
      double painted = now_ms ();
      /* What the canvas view does for the next frame. */
      int tx0, ty0, tx1, ty1;
      if (!sf_rect_is_empty (&frame.dirty))
        {
          sf_tile_range (&frame.dirty, &tx0, &ty0, &tx1, &ty1);
          for (int ty = ty0; ty <= ty1; ty++)
            for (int tx = tx0; tx <= tx1; tx++, tiles++)
              sf_document_get_composite_tile (document, tx, ty);
        }
      paint[f] = painted - start;
      composite[f] = now_ms () - painted;
    }
  sf_stroke_end (stroke);
  sf_document_remove_observer (document, observer);
  double total[frames];
  double paint_sum = 0, composite_sum = 0;
  for (int f = 0; f < frames; f++)
    {
      total[f] = paint[f] + composite[f];
      paint_sum += paint[f];
      composite_sum += composite[f];
    }
  qsort (total, frames, sizeof (double), compare_doubles);
  qsort (composite, frames, sizeof (double), compare_doubles);
  printf ("frame, size %4.0f px: paint %.2f ms + composite %.2f ms (%.1f tiles) = %.2f ms mean;"
          " p95 %.2f ms, worst %.2f ms; composite p95 %.2f ms\n",
          size, paint_sum / frames, composite_sum / frames, (double) tiles / frames,
          (paint_sum + composite_sum) / frames, total[frames * 95 / 100], total[frames - 1],
          composite[frames * 95 / 100]);
  g_free (paint);
  g_free (composite);
  sf_document_undo (document);
}

int
main (int argc, char **argv)
{
  printf ("sfumato-bench-render: %d×%d canvas, %d layers, %u threads available\n", SIDE, SIDE,
          LAYERS, g_get_num_processors ());
  double start = now_ms ();
  g_autoptr (SfDocument) document = make_document ();
  printf ("document made in %.0f ms\n", now_ms () - start);

  double cold = composite_all (document);
  printf ("whole canvas composited: %.0f ms (%d tiles, %.2f ms per tile of %d layers)\n", cold,
          (SIDE / SF_TILE_SIZE) * (SIDE / SF_TILE_SIZE),
          cold / ((SIDE / SF_TILE_SIZE) * (SIDE / SF_TILE_SIZE)), LAYERS);
  /* A global change (one layer's opacity) invalidates everything. */
  sf_document_set_layer_opacity (document, sf_document_get_layer (document, 3), 0.5);
  double again = composite_all (document);
  printf ("whole canvas after an opacity change: %.0f ms\n", again);

  const double sizes[] = { 10, 50, 200 };
  for (gsize i = 0; i < G_N_ELEMENTS (sizes); i++)
    bench_dabs (document, sizes[i]);
  composite_all (document);
  for (gsize i = 0; i < G_N_ELEMENTS (sizes); i++)
    bench_frames (document, sizes[i]);
  return 0;
}
