/* Full-size random-weight SDXL checkpoints, for benchmarks and full-size
 * checks on machines that cannot download real weights: every tensor of
 * sd_xl_base_1.0 (or the refiner) by name and shape, values drawn so that
 * activations stay at a sane scale (see SfInitKind). */
#pragma once

#include <gio/gio.h>

#include "dtype.h"
#include "sdxl_arch.h"

G_BEGIN_DECLS

/* Writes @path atomically (temporary file, fsync, rename); float tensors
 * in @dtype (f16 as the real files, or f32). @progress, when given, is
 * called with the fraction written. */
gboolean sf_make_random_checkpoint (const SfSdxlArch *arch, const char *path, SfDType dtype,
                                    guint64 seed, void (*progress) (double fraction, gpointer data),
                                    gpointer data, GCancellable *cancellable, GError **error);

G_END_DECLS
