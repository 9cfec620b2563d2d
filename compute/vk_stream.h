/* A command stream: many dispatches recorded into one command buffer with
 * the barriers they need, submitted at once and waited on with a fence.
 * A recording can be run again and again (record once per shape, replay
 * every sampling step); only the contents of its buffers change.
 *
 * Barriers come from hazard tracking: a dispatch that reads or writes a
 * range written since the last barrier, or writes a range read since
 * then, gets a barrier first; independent dispatches run without one. */
#pragma once

#include <gio/gio.h>

#include "vk_device.h"
#include "vk_pipeline.h"

G_BEGIN_DECLS

typedef struct SfStream SfStream;

typedef struct {
  VkBuffer buffer;
  VkDeviceSize offset;
  VkDeviceSize range;
  VkFormat format;      /* texel bindings: the view's format */
  gboolean writes;      /* the shader writes this binding */
} SfBinding;

typedef struct {
  const SfKernel *kernel;
  const uint32_t *spec;         /* specialization constants 0..spec_count-1 */
  guint spec_count;
  const SfBinding *bindings;    /* one per letter of kernel->bindings */
  const void *push;             /* kernel->push_size bytes */
  uint32_t groups[3];
  const char *label;            /* row of the profile table; NULL: kernel->shader */
  double flops;                 /* for the profile's GFLOP/s */
  double bytes;                 /* for the profile's GB/s */
} SfDispatch;

/* Returns: (transfer full) or NULL with @error set. */
SfStream *sf_stream_new (SfDevice *device, GError **error);
void sf_stream_free (SfStream *stream);

SfDevice *sf_stream_get_device (const SfStream *stream);

/* Appends a dispatch. Fails (without recording) on bad bindings or when
 * the pipeline cannot be made. A stream that has run cannot be appended
 * to until sf_stream_reset(). */
gboolean sf_stream_dispatch (SfStream *stream, const SfDispatch *dispatch, GError **error);

/* Appends a buffer-to-buffer copy. */
gboolean sf_stream_copy (SfStream *stream, VkBuffer src, VkDeviceSize src_offset,
                         VkBuffer dst, VkDeviceSize dst_offset, VkDeviceSize bytes,
                         GError **error);

/* Ends the recording (the first time), submits it and waits. When
 * @cancellable fires before the submission, nothing runs; when it fires
 * during, the work finishes and SF_VK_ERROR_CANCELLED is returned. */
gboolean sf_stream_run (SfStream *stream, GCancellable *cancellable, GError **error);

/* Drops the recording and everything it made (views, descriptor sets). */
void sf_stream_reset (SfStream *stream);

guint sf_stream_get_dispatch_count (const SfStream *stream);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SfStream, sf_stream_free)

G_END_DECLS
