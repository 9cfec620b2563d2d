#include "op_common.h"

#include <stdarg.h>

void
sf_op_groups_1d (uint64_t items, uint32_t per_group, uint32_t groups[3])
{
  uint64_t total = (items + per_group - 1) / per_group;
  if (total <= 65535)
    {
      groups[0] = (uint32_t) total;
      groups[1] = 1;
    }
  else
    {
      groups[0] = 65535;
      groups[1] = (uint32_t) ((total + 65534) / 65535);
    }
  groups[2] = 1;
}

gboolean
sf_op_fail (GError **error, const char *op, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, SF_VK_ERROR, SF_VK_ERROR_INVALID, "%s: %s", op, message);
  return FALSE;
}

gboolean
sf_op_check_tensor (const char *op, const char *what, const SfTensor *tensor, int ndim,
                    int dtype, GError **error)
{
  if (!tensor)
    return sf_op_fail (error, op, "%s is missing", what);
  if ((ndim >= 0 && tensor->ndim != ndim) || (dtype >= 0 && (int) tensor->dtype != dtype))
    {
      g_autofree char *text = sf_tensor_describe (tensor);
      return sf_op_fail (error, op, "%s is %s; expected %s with %d dimensions", what, text,
                         dtype >= 0 ? sf_dtype_name ((SfDType) dtype) : "any type", ndim);
    }
  return TRUE;
}

gboolean
sf_op_check_same_shape (const char *op, const SfTensor *a, const SfTensor *b, GError **error)
{
  if (sf_tensor_same_shape (a, b))
    return TRUE;
  g_autofree char *ta = sf_tensor_describe (a);
  g_autofree char *tb = sf_tensor_describe (b);
  return sf_op_fail (error, op, "shapes differ: %s and %s", ta, tb);
}
