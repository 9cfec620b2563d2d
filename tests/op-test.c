#include "op-test.h"

SfTensor *
op_test_tensor (SfArena *arena, SfDType dtype, int ndim, const int64_t *shape, const float *data)
{
  g_autoptr (GError) error = NULL;
  SfTensor *tensor = sf_tensor_new (arena, dtype, ndim, shape, &error);
  g_assert_no_error (error);
  if (data && sf_tensor_numel (tensor) > 0)
    {
      g_assert_true (sf_tensor_upload (tensor, data, &error));
      g_assert_no_error (error);
    }
  return tensor;
}

SfTensor *
op_test_tensor_like (SfArena *arena, const SfTensor *like)
{
  return op_test_tensor (arena, like->dtype, like->ndim, like->shape, NULL);
}

void
op_test_run (SfStream *stream)
{
  g_autoptr (GError) error = NULL;
  g_assert_true (sf_stream_run (stream, NULL, &error));
  g_assert_no_error (error);
}

float *
op_test_download (const SfTensor *tensor)
{
  g_autoptr (GError) error = NULL;
  gsize count = (gsize) sf_tensor_numel (tensor);
  float *data = g_new0 (float, MAX (count, 1));
  if (count > 0)
    g_assert_true (sf_tensor_download (tensor, data, &error));
  g_assert_no_error (error);
  return data;
}

gsize
op_test_numel (int ndim, const int64_t *shape)
{
  gsize count = 1;
  for (int i = 0; i < ndim; i++)
    count *= (gsize) shape[i];
  return count;
}

char *
op_test_shape_text (int ndim, const int64_t *shape)
{
  GString *text = g_string_new ("[");
  for (int i = 0; i < ndim; i++)
    g_string_append_printf (text, "%s%" G_GINT64_FORMAT, i ? "," : "", shape[i]);
  g_string_append_c (text, ']');
  return g_string_free (text, FALSE);
}

void
op_test_limit_bindings (guint64 bytes)
{
  if (bytes == 0)
    g_unsetenv ("SFUMATO_MAX_BINDING_BYTES");
  else
    {
      g_autofree char *text = g_strdup_printf ("%" G_GUINT64_FORMAT, bytes);
      g_setenv ("SFUMATO_MAX_BINDING_BYTES", text, TRUE);
    }
}
