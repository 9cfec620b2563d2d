/* Errors of the Vulkan compute core.
 *
 * Every Vk* call's result is checked; a failure becomes a GError in the
 * SF_VK_ERROR domain whose message names the call and the VkResult. */
#pragma once

#include <glib.h>
#include <vulkan/vulkan.h>

G_BEGIN_DECLS

#define SF_VK_ERROR (sf_vk_error_quark ())
GQuark sf_vk_error_quark (void);

typedef enum {
  SF_VK_ERROR_FAILED,         /* a Vulkan call failed */
  SF_VK_ERROR_OUT_OF_MEMORY,  /* host or device memory exhausted */
  SF_VK_ERROR_NO_DEVICE,      /* no usable device, or the selector matched none */
  SF_VK_ERROR_DEVICE_LOST,    /* the device was lost: results are gone */
  SF_VK_ERROR_UNSUPPORTED,    /* the device lacks something the work needs */
  SF_VK_ERROR_INVALID,        /* bad arguments: shapes, dtypes, sizes */
  SF_VK_ERROR_CANCELLED,      /* the caller's GCancellable fired */
} SfVkErrorCode;

/* The enum's name, e.g. "VK_ERROR_OUT_OF_DEVICE_MEMORY". */
const char *sf_vk_result_name (VkResult result);

/* Returns TRUE when @result is VK_SUCCESS (or another non-error code);
 * otherwise sets @error to "@call failed: VK_..." and returns FALSE. */
gboolean sf_vk_check (VkResult result, const char *call, GError **error);

G_END_DECLS
