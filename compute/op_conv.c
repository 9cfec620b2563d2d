/* 2-D convolution over NHWC as an implicit GEMM (op_gemm.h): output
 * pixels are rows, output channels columns, and K runs over the kernel's
 * taps, then input channels, matching the packed weight. */
#include "op_gemm.h"

gboolean
sf_op_conv2d (SfStream *stream, const SfTensor *x, const SfTensor *w, const SfTensor *bias,
              const SfTensor *residual, int stride, int pad_top, int pad_left, SfTensor *out,
              GError **error)
{
  const char *op = "conv2d";
  if (!sf_op_check_tensor (op, "x", x, 4, SF_DTYPE_F32, error)
      || !sf_op_check_tensor (op, "out", out, 4, SF_DTYPE_F32, error)
      || !sf_op_check_tensor (op, "w", w, 4, -1, error))
    return FALSE;
  if (w->layout != SF_LAYOUT_PACKED
      || (w->dtype != SF_DTYPE_F32 && w->dtype != SF_DTYPE_F16))
    {
      g_autofree char *text = sf_tensor_describe (w);
      return sf_op_fail (error, op, "w %s is not a weight from sf_weight_new_conv", text);
    }
  const int64_t cout = w->shape[0], kh = w->shape[1], kw = w->shape[2], cin = w->shape[3];
  const int64_t batch = x->shape[0], h = x->shape[1], width = x->shape[2];
  const int64_t ho = out->shape[1], wo = out->shape[2];
  if (x->shape[3] != cin || out->shape[0] != batch || out->shape[3] != cout)
    {
      g_autofree char *tx = sf_tensor_describe (x);
      g_autofree char *tw = sf_tensor_describe (w);
      g_autofree char *tout = sf_tensor_describe (out);
      return sf_op_fail (error, op, "x %s, w %s and out %s do not fit [N,H,W,Cin] * "
                         "[Cout,kh,kw,Cin] = [N,Ho,Wo,Cout]", tx, tw, tout);
    }
  if (stride < 1 || stride > 16 || pad_top < 0 || pad_left < 0 || pad_top >= kh + h
      || pad_left >= kw + width)
    return sf_op_fail (error, op, "stride %d and padding (%d, %d) are not usable", stride,
                       pad_top, pad_left);
  /* Every output pixel's window must start inside the padded input. */
  if ((ho - 1) * stride - pad_top >= h || (wo - 1) * stride - pad_left >= width)
    {
      g_autofree char *tx = sf_tensor_describe (x);
      g_autofree char *tout = sf_tensor_describe (out);
      return sf_op_fail (error, op, "out %s is larger than x %s gives with stride %d and "
                         "padding (%d, %d)", tout, tx, stride, pad_top, pad_left);
    }
  if (bias && (bias->dtype != SF_DTYPE_F32 || sf_tensor_numel (bias) != cout))
    {
      g_autofree char *text = sf_tensor_describe (bias);
      return sf_op_fail (error, op, "bias is %s; expected f32 with %" G_GINT64_FORMAT
                         " values", text, cout);
    }
  if (residual)
    {
      if (!sf_op_check_tensor (op, "residual", residual, -1, SF_DTYPE_F32, error)
          || !sf_op_check_same_shape (op, residual, out, error))
        return FALSE;
      if (residual->memory.buffer == out->memory.buffer
          && residual->memory.offset < out->memory.offset + sf_tensor_bytes (out)
          && out->memory.offset < residual->memory.offset + sf_tensor_bytes (residual))
        return sf_op_fail (error, op, "residual may not alias out");
    }

  /* Profile rows by kernel shape: "conv2d 3x3", "conv2d 3x3 s2". */
  g_autofree char *label = g_strdup_printf ("conv2d %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT "%s",
                                            kh, kw, stride == 2 ? " s2" : stride > 2 ? " s>2" : "");
  /* A 1×1 convolution without stride or padding is a plain matmul. */
  gboolean pointwise = kh == 1 && kw == 1 && stride == 1 && pad_top == 0 && pad_left == 0
                       && ho == h && wo == width;
  SfGemm gemm = {
    .op = op, .label = g_intern_string (label), .a = x, .w = w, .bias = bias,
    .residual = residual, .out = out, .m = batch * ho * wo, .n = cout, .k = cin,
    .k4 = (cin + 3) / 4, .blocks = (cout + 7) / 8, .conv = !pointwise,
    .in_h = (int) h, .in_w = (int) width, .out_h = (int) ho, .out_w = (int) wo,
    .kh = (int) kh, .kw = (int) kw, .stride = stride, .pad_top = pad_top, .pad_left = pad_left,
    .flops = 2.0 * (double) (batch * ho * wo) * (double) cout * (double) (cin * kh * kw),
  };
  return sf_gemm_record (stream, &gemm, error);
}
