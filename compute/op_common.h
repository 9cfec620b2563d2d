/* Helpers shared by the op recorders (op_*.c). Not part of the API. */
#pragma once

#include "ops.h"
#include "vk_error.h"

/* Work items per group → a dispatch grid that respects the 65535 limit
 * per dimension; shaders recover the index with sf_group_index(). */
void sf_op_groups_1d (uint64_t items, uint32_t per_group, uint32_t groups[3]);

/* Sets @error unless @tensor has @dtype and @ndim dimensions (ndim < 0: any). */
gboolean sf_op_check_tensor (const char *op, const char *what, const SfTensor *tensor,
                             int ndim, int dtype, GError **error);
/* Sets @error naming both tensors when their shapes differ. */
gboolean sf_op_check_same_shape (const char *op, const SfTensor *a, const SfTensor *b,
                                 GError **error);
/* Sets @error with a formatted message prefixed by the op's name. */
gboolean sf_op_fail (GError **error, const char *op, const char *format, ...) G_GNUC_PRINTF (3, 4);
