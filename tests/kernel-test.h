/* Helpers shared by the hot-kernel tests (matmul, conv2d, attention). */
#pragma once

#include <glib.h>

#include "dtype.h"

G_BEGIN_DECLS

/* The kernel variants every test runs on this device, NULL-terminated:
 * the CPU variants for Mesa 22 and Mesa ≥ 23 loops and the GPU variant,
 * all of which run (more or less fast) on any device. Under
 * SF_TEST_QUICK (sanitizers, where compiling the big CPU kernels is slow)
 * the Mesa ≥ 23 one, the same host code, is left out. */
const char *const *sf_kernel_test_variants (void);

/* Makes the ops record @variant (SFUMATO_KERNELS); NULL restores the
 * automatic choice. Under SF_TEST_QUICK it also picks a smaller CPU tile
 * (SFUMATO_TILE, unless set), which compiles faster. */
void sf_kernel_test_use (const char *variant);

/* @count row indices spread over [0, total) including the first and the
 * last, or all of them when @count is 0 or ≥ total.
 * Returns: (transfer full). */
int64_t *sf_kernel_test_pick_rows (int64_t total, guint count);
int64_t sf_kernel_test_row_count (int64_t total, guint count);

/* @values as the device stores them in @dtype (f16 rounding).
 * Returns: (transfer full). */
float *sf_kernel_test_round (const float *values, gsize count, SfDType dtype);

/* TRUE when SF_TEST_QUICK is set (sanitizer runs): tests drop their
 * largest cases. */
gboolean sf_kernel_test_quick (void);

G_END_DECLS
