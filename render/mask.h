/* The inpaint mask's pixel operations on plain A8 buffers, shared by the
 * document's mask tools (mask.c) and the generation frame, so that the
 * frame feathers exactly as "Feather Mask" does. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Grows the mask (@width × @height, rows packed) by @radius_px, a disc:
 * pixels within @radius_px of a pixel ≥ 128 become 255, fading over the
 * next pixel; a negative radius shrinks it the same way. */
void sf_mask_grow (guint8 *mask, int width, int height, int radius_px);

/* Blurs the mask with a Gaussian of σ = @radius_px / 2, truncated at 3σ;
 * the edges repeat. A pixel farther than 3σ from any non-zero pixel stays
 * exactly 0. No-op for σ < 0.3. */
void sf_mask_feather (guint8 *mask, int width, int height, double radius_px);

/* How far sf_mask_feather() spreads a mask, in whole pixels. */
int sf_mask_feather_reach (double radius_px);

G_END_DECLS
