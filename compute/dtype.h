/* Element types and their conversions on the host. */
#pragma once

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

typedef enum {
  SF_DTYPE_F32,
  SF_DTYPE_F16,
  SF_DTYPE_I32,   /* token ids and other indices */
} SfDType;

gsize sf_dtype_size (SfDType dtype);
const char *sf_dtype_name (SfDType dtype);

/* IEEE binary16 <-> binary32, round to nearest even; overflow gives inf,
 * NaN stays NaN. */
uint16_t sf_f32_to_f16 (float value);
float sf_f16_to_f32 (uint16_t bits);
/* bfloat16 is the top half of a binary32. */
float sf_bf16_to_f32 (uint16_t bits);

void sf_f32_to_f16_array (const float *src, uint16_t *dst, gsize count);
void sf_f16_to_f32_array (const uint16_t *src, float *dst, gsize count);

G_END_DECLS
