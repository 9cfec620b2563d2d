/* libFuzzer target: the safetensors header parser on arbitrary bytes.
 * Whatever it accepts must describe tensors inside the buffer. */
#include <stdint.h>
#include <string.h>

#include "safetensors.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GBytes) bytes = g_bytes_new_static (data, size);
  g_autoptr (GError) error = NULL;
  g_autoptr (SfSafetensors) file = sf_safetensors_new_from_bytes (bytes, "fuzz", &error);
  if (!file)
    {
      g_assert (error != NULL && error->message[0] != '\0');
      return 0;
    }
  volatile uint8_t sink = 0;
  for (guint i = 0; i < sf_safetensors_get_n_tensors (file); i++)
    {
      const SfSafetensorsTensor *tensor = sf_safetensors_get_tensor (file, i);
      g_assert (sf_safetensors_lookup (file, tensor->name) == tensor);
      const uint8_t *begin = tensor->data;
      g_assert (begin >= data && begin + tensor->nbytes <= data + size);
      g_assert (tensor->nbytes == tensor->numel * sf_safetensors_dtype_size (tensor->dtype));
      if (tensor->nbytes)
        sink ^= begin[0] ^ begin[tensor->nbytes - 1];
    }
  (void) sink;
  return 0;
}
