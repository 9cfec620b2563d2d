/* The op library: each op is one shader (shaders/NAME.comp, possibly with
 * per-device variants) and one recorder here that checks its tensors and
 * appends dispatches to a stream. Outputs are allocated by the caller.
 *
 * Conventions
 * - Activations are float32 and NHWC: images [N,H,W,C], sequences [B,L,C].
 *   A tensor with fewer dimensions means the same with leading dims merged.
 * - Weights of linear layers and convolutions are made by sf_weight_new_*()
 *   (f16 or f32, possibly repacked for this device's kernels: SF_LAYOUT_PACKED).
 *   Biases and norm parameters are plain f32 vectors.
 * - Accumulation is always float32.
 * - Unless an op says otherwise, @out may not alias an input.
 * - Tolerances against the float64 CPU references in tests/: f32 ≤ 1e-5
 *   relative L2; f16 weights ≤ 2e-3.
 * - Any bad shape or dtype gives SF_VK_ERROR_INVALID naming the op and the
 *   tensors, and records nothing. */
#pragma once

#include "tensor.h"

G_BEGIN_DECLS

/* ---- data movement and simple maps ------------------------------------ */

/* out[i] = value. out: f32, any shape. */
gboolean sf_op_fill (SfStream *stream, SfTensor *out, float value, GError **error);

/* out = src converted to out's dtype (f32 <-> f16); same shape. */
gboolean sf_op_convert (SfStream *stream, const SfTensor *src, SfTensor *out, GError **error);

typedef enum {
  SF_ACT_SILU,        /* x * sigmoid(x) */
  SF_ACT_GELU,        /* x * Φ(x), exact (erf), as torch's default */
  SF_ACT_GELU_TANH,   /* tanh approximation */
  SF_ACT_QUICK_GELU,  /* x * sigmoid(1.702 x), CLIP ViT-L */
} SfActivation;

/* out = act(x); same shape; out may be x (in place). */
gboolean sf_op_activation (SfStream *stream, SfActivation act, const SfTensor *x, SfTensor *out,
                           GError **error);

/* x [..., 2F] → out [..., F] = x[..., :F] * gelu(x[..., F:]) (diffusers' GEGLU). */
gboolean sf_op_geglu (SfStream *stream, const SfTensor *x, SfTensor *out, GError **error);

/* out = a + b and out = a * b with b broadcast to a's shape (numpy rules,
 * dims aligned on the right; b's dims are 1 or equal). out has a's shape
 * and may be a (in place). */
gboolean sf_op_add (SfStream *stream, const SfTensor *a, const SfTensor *b, SfTensor *out,
                    GError **error);
gboolean sf_op_mul (SfStream *stream, const SfTensor *a, const SfTensor *b, SfTensor *out,
                    GError **error);

/* out = x * scale + shift; out may be x. */
gboolean sf_op_scale (SfStream *stream, const SfTensor *x, float scale, float shift,
                      SfTensor *out, GError **error);

/* x [N,H,W,C] → out [N,2H,2W,C], nearest neighbour. */
gboolean sf_op_upsample_nearest2x (SfStream *stream, const SfTensor *x, SfTensor *out,
                                   GError **error);

/* Concatenation along the last dimension: a [..., Ca], b [..., Cb] →
 * out [..., Ca+Cb] (the UNet's skip connections in NHWC). */
gboolean sf_op_concat_last (SfStream *stream, const SfTensor *a, const SfTensor *b,
                            SfTensor *out, GError **error);

/* out = x.permute(perm): out.shape[i] = x.shape[perm[i]]; x->ndim entries. */
gboolean sf_op_permute (SfStream *stream, const SfTensor *x, const int *perm, SfTensor *out,
                        GError **error);

/* Copies x into out at element offset @offset along dimension @dim of out
 * (other dims equal): the building block for stitching tiles and batches. */
gboolean sf_op_copy_into (SfStream *stream, const SfTensor *x, SfTensor *out, int dim,
                          int64_t offset, GError **error);

/* The mirror of copy_into: out = the window of x that starts at element
 * @offset along dimension @dim (other dims equal). The UNet crops an
 * upsampled tensor to its skip connection's size with it (odd sizes). */
gboolean sf_op_copy_window (SfStream *stream, const SfTensor *x, int dim, int64_t offset,
                            SfTensor *out, GError **error);

/* out [T, D] = table [V, D] rows at ids [T] (i32); ids out of range give
 * zero rows. table: f16 or f32 plain. */
gboolean sf_op_embedding (SfStream *stream, const SfTensor *table, const SfTensor *ids,
                          SfTensor *out, GError **error);

/* Sinusoidal timestep embedding as diffusers' get_timestep_embedding:
 * timesteps [B] f32 → out [B, dim]; half = dim/2,
 * freq_j = exp(-ln(max_period) * j / (half - shift)), args = t * freq_j;
 * out = [sin, cos] or, with flip_sin_to_cos, [cos, sin]. */
gboolean sf_op_timestep_embedding (SfStream *stream, const SfTensor *timesteps, gboolean flip_sin_to_cos,
                                   float downscale_freq_shift, float max_period, SfTensor *out,
                                   GError **error);

/* ---- normalisation ---------------------------------------------------- */

/* Group norm over x [N, ..., C] (NHWC or [B,L,C]): C split into @groups
 * contiguous groups; statistics per (n, group) over all positions;
 * out = (x - mean) / sqrt(var + eps) * gamma + beta (biased variance),
 * then SiLU when @silu. gamma, beta: f32 [C]. */
gboolean sf_op_group_norm (SfStream *stream, const SfTensor *x, const SfTensor *gamma,
                           const SfTensor *beta, int groups, float eps, gboolean silu,
                           SfTensor *out, GError **error);

/* Layer norm over the last dimension; gamma, beta f32 [C]. */
gboolean sf_op_layer_norm (SfStream *stream, const SfTensor *x, const SfTensor *gamma,
                           const SfTensor *beta, float eps, SfTensor *out, GError **error);

/* Softmax over the last dimension (numerically stable). */
gboolean sf_op_softmax (SfStream *stream, const SfTensor *x, SfTensor *out, GError **error);

/* ---- matrix products -------------------------------------------------- */

/* A linear weight [N, K] (row-major host data in @src_dtype: f32 or f16)
 * uploaded as @dtype and laid out for this device's matmul kernel. */
SfTensor *sf_weight_new_linear (SfArena *arena, SfDType dtype, int64_t n, int64_t k,
                                const void *data, SfDType src_dtype, GError **error);

/* A GEGLU projection [2F, K] (rows 0..F-1 the value half, F..2F-1 the gate,
 * as diffusers stores GEGLU.proj) laid out for sf_op_matmul_geglu. */
SfTensor *sf_weight_new_geglu (SfArena *arena, SfDType dtype, int64_t f, int64_t k,
                               const void *data, SfDType src_dtype, GError **error);

/* A convolution weight from torch's layout [Cout, Cin, kh, kw]. The tensor
 * has shape [Cout, kh, kw, Cin] (its K is ordered tap, then channel). */
SfTensor *sf_weight_new_conv (SfArena *arena, SfDType dtype, int64_t cout, int64_t cin,
                              int kh, int kw, const void *data, SfDType src_dtype,
                              GError **error);

/* out [..., N] = a [..., K] · wᵀ + bias + residual.
 * w: from sf_weight_new_linear [N, K], shared by all rows of a; or a plain
 * f32/f16 tensor [B, N, K] with a [B, M, K] (batched, one w per batch).
 * bias: f32 [N] or NULL. residual: out's shape or NULL (may not alias out). */
gboolean sf_op_matmul (SfStream *stream, const SfTensor *a, const SfTensor *w,
                       const SfTensor *bias, const SfTensor *residual, SfTensor *out,
                       GError **error);

/* out [..., F] = (a·wᵥᵀ + bᵥ) * gelu(a·w_gᵀ + b_g) with w from
 * sf_weight_new_geglu and bias f32 [2F] (or NULL): the GEGLU feed-forward
 * projection without its [..., 2F] intermediate. */
gboolean sf_op_matmul_geglu (SfStream *stream, const SfTensor *a, const SfTensor *w,
                             const SfTensor *bias, SfTensor *out, GError **error);

/* 2-D convolution over NHWC: x [N,H,W,Cin], w from sf_weight_new_conv,
 * bias f32 [Cout] or NULL, residual (out's shape) or NULL.
 * out [N,Ho,Wo,Cout]: output pixel (oy, ox) reads input rows
 * oy*stride - pad_top + ky and columns ox*stride - pad_left + kx; taps
 * outside the input read zero. Ho and Wo come from @out, so asymmetric
 * padding (the VAE's (0,1,0,1) before a stride-2 conv) needs no copy. */
gboolean sf_op_conv2d (SfStream *stream, const SfTensor *x, const SfTensor *w,
                       const SfTensor *bias, const SfTensor *residual, int stride,
                       int pad_top, int pad_left, SfTensor *out, GError **error);

/* Fused attention: for each batch b and head h,
 * out[b, i, h*D:(h+1)*D] = softmax_j(q_i · k_j * scale [+ -inf where j > i when causal]) · v_j
 * q [B, Sq, H*D], k and v [B, Sk, H*D], out [B, Sq, H*D]; the Sq×Sk score
 * matrix is never stored (online softmax over blocks of keys). */
gboolean sf_op_attention (SfStream *stream, const SfTensor *q, const SfTensor *k,
                          const SfTensor *v, int heads, float scale, gboolean causal,
                          SfTensor *out, GError **error);

G_END_DECLS
