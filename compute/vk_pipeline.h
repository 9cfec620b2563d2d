/* Compute pipelines from the embedded SPIR-V, created on first use and
 * kept for the device's life. A pipeline cache file in the XDG cache dir
 * (sfumato/pipelines-VENDOR-DEVICE-UUID.bin) makes later starts fast. */
#pragma once

#include "vk_device.h"

G_BEGIN_DECLS

/* What a shader expects: set by the op that records it. */
typedef struct {
  const char *shader;    /* name in the shader table, e.g. "matmul@f16" */
  const char *bindings;  /* one letter per binding 0..n-1 of set 0:
                            't' storage texel buffer (imageBuffer),
                            'u' uniform texel buffer (samplerBuffer),
                            'b' storage buffer */
  uint32_t push_size;    /* bytes of push constants, at most 128 */
} SfKernel;

typedef struct SfPipeline {
  VkPipeline pipeline;
  VkPipelineLayout layout;
  VkDescriptorSetLayout set_layout;
  const char *bindings;  /* borrowed from the SfKernel */
  uint32_t push_size;
} SfPipeline;

/* The pipeline for @kernel with specialization constants 0..@spec_count-1
 * set to @spec (each a 32-bit int, uint, float or bool). Created on first
 * use; owned by the device. */
SfPipeline *sf_device_get_pipeline (SfDevice *device, const SfKernel *kernel,
                                    const uint32_t *spec, guint spec_count,
                                    GError **error);

/* Loads the pipeline cache file (device open) and writes it back when new
 * pipelines were made (device free). */
void sf_pipelines_init (SfDevice *device);
void sf_pipelines_fini (SfDevice *device);

G_END_DECLS
