#include "kernel-test.h"

static const char *const variants[] = { "cpu-rolled", "cpu-unrolled", "gpu", NULL };
static const char *const quick_variants[] = { "cpu-rolled", "gpu", NULL };

const char *const *
sf_kernel_test_variants (void)
{
  return sf_kernel_test_quick () ? quick_variants : variants;
}

void
sf_kernel_test_use (const char *variant)
{
  if (variant)
    g_setenv ("SFUMATO_KERNELS", variant, TRUE);
  else
    g_unsetenv ("SFUMATO_KERNELS");
  /* Under sanitizers LLVM compiles the big CPU kernels several times
   * slower: a smaller tile (same host code) halves that. */
  if (sf_kernel_test_quick ())
    g_setenv ("SFUMATO_TILE", "16x8x32x1", FALSE);
}

int64_t
sf_kernel_test_row_count (int64_t total, guint count)
{
  return count == 0 || (int64_t) count >= total ? total : (int64_t) count;
}

int64_t *
sf_kernel_test_pick_rows (int64_t total, guint count)
{
  int64_t n = sf_kernel_test_row_count (total, count);
  int64_t *rows = g_new (int64_t, MAX (n, 1));
  for (int64_t i = 0; i < n; i++)
    rows[i] = n == total ? i : (n == 1 ? 0 : i * (total - 1) / (n - 1));
  return rows;
}

float *
sf_kernel_test_round (const float *values, gsize count, SfDType dtype)
{
  float *out = g_new (float, MAX (count, 1));
  for (gsize i = 0; i < count; i++)
    out[i] = dtype == SF_DTYPE_F16 ? sf_f16_to_f32 (sf_f32_to_f16 (values[i])) : values[i];
  return out;
}

gboolean
sf_kernel_test_quick (void)
{
  return g_getenv ("SF_TEST_QUICK") != NULL;
}
