/* The Vulkan core: device choice, memory arenas, uploads, pipelines and
 * their cache file, command streams (replay, barriers, cancel). */
#include <string.h>

#include "ops.h"
#include "sf-test.h"
#include "vk_error.h"

static void
test_device_describes_itself (void)
{
  const SfDeviceInfo *info = sf_device_get_info (sf_test_device ());
  g_assert_cmpuint (strlen (info->name), >, 0);
  g_assert_cmpuint (info->subgroup_size, >=, 1);
  g_assert_cmpuint (info->heap_count, >=, 1);
  g_assert_cmpuint (info->heaps[0].size, >, 0);
  g_assert_cmpuint (info->max_storage_buffer_range, >=, 1u << 27);
}

static void
test_device_selector_by_index_and_name (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) infos = sf_device_enumerate (&error);
  g_assert_no_error (error);
  g_assert_cmpuint (infos->len, >=, 1);
  const SfDeviceInfo *first = infos->pdata[0];

  g_autoptr (SfDevice) by_index = sf_device_open ("0", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (sf_device_get_info (by_index)->name, ==, first->name);

  /* A part of the name, in another case. */
  g_autofree char *part = g_utf8_strup (first->name, 4);
  g_autoptr (SfDevice) by_name = sf_device_open (part, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sf_device_get_info (by_name)->index, ==, 0);

  SfDevice *none = sf_device_open ("no-such-gpu-anywhere", &error);
  g_assert_null (none);
  g_assert_error (error, SF_VK_ERROR, SF_VK_ERROR_NO_DEVICE);
  g_assert_nonnull (strstr (error->message, "no-such-gpu-anywhere"));
  g_assert_nonnull (strstr (error->message, first->name));
  g_clear_error (&error);

  none = sf_device_open ("99", &error);
  g_assert_null (none);
  g_assert_error (error, SF_VK_ERROR, SF_VK_ERROR_NO_DEVICE);
}

static void
test_arena_reuses_released_ranges (void)
{
  SfDevice *device = sf_test_device ();
  g_autoptr (SfArena) arena = sf_arena_new (device, "test");
  g_autoptr (GError) error = NULL;
  VkDeviceSize align = sf_device_alignment (device);
  SfAllocation a, b, c, d;
  g_assert_true (sf_arena_alloc (arena, 1000, &a, &error));
  g_assert_true (sf_arena_alloc (arena, 3000, &b, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (a.offset % align, ==, 0);
  g_assert_cmpuint (b.offset % align, ==, 0);
  g_assert_cmpuint (b.offset, >=, a.offset + 1000);
  g_assert_cmpuint (sf_arena_bytes_in_use (arena), ==, a.size + b.size);

  sf_arena_release (arena, &a);
  g_assert_true (sf_arena_alloc (arena, 900, &c, &error));
  g_assert_cmpuint (c.offset, ==, a.offset); /* first fit reuses the hole */
  sf_arena_release (arena, &c);
  sf_arena_release (arena, &b);
  g_assert_cmpuint (sf_arena_bytes_in_use (arena), ==, 0);
  /* The holes merged: one range covering both fits at the start again. */
  g_assert_true (sf_arena_alloc (arena, a.size + b.size, &d, &error));
  g_assert_cmpuint (d.offset, ==, a.offset);
  sf_arena_release (arena, &d);

  VkDeviceSize reserved = sf_arena_bytes_reserved (arena);
  g_assert_cmpuint (reserved, >, 0);
  sf_arena_trim (arena);
  g_assert_cmpuint (sf_arena_bytes_reserved (arena), ==, 0);
}

static void
test_upload_download_round_trip (void)
{
  SfDevice *device = sf_test_device ();
  g_autoptr (SfArena) arena = sf_arena_new (device, "test");
  g_autoptr (GError) error = NULL;
  SfAllocation allocation;
  const gsize bytes = (40u << 20) + 12; /* larger than one staging chunk */
  g_assert_true (sf_arena_alloc (arena, bytes, &allocation, &error));
  g_autofree guint8 *data = g_malloc (bytes);
  g_autofree guint8 *back = g_malloc0 (bytes);
  for (gsize i = 0; i < bytes; i++)
    data[i] = (guint8) (i * 2654435761u >> 13);
  g_assert_true (sf_device_upload (device, &allocation, 0, data, bytes, &error));
  g_assert_true (sf_device_download (device, &allocation, 0, back, bytes, &error));
  g_assert_no_error (error);
  g_assert_true (memcmp (data, back, bytes) == 0);

  /* Out of range copies are refused, not performed. */
  g_assert_false (sf_device_upload (device, &allocation, allocation.size - 4, data, 8, &error));
  g_assert_error (error, SF_VK_ERROR, SF_VK_ERROR_INVALID);
  sf_arena_release (arena, &allocation);
}

static void
test_out_of_memory_names_size_and_heap (void)
{
  g_setenv ("SFUMATO_MEMORY_LIMIT_MB", "16", TRUE);
  g_autoptr (GError) error = NULL;
  g_autoptr (SfDevice) device = sf_device_open (NULL, &error);
  g_unsetenv ("SFUMATO_MEMORY_LIMIT_MB");
  g_assert_no_error (error);
  g_autoptr (SfArena) arena = sf_arena_new (device, "UNet weights");
  SfAllocation small, big;
  g_assert_true (sf_arena_alloc (arena, 4 << 20, &small, &error));
  g_assert_no_error (error);
  g_assert_false (sf_arena_alloc (arena, 64 << 20, &big, &error));
  g_assert_error (error, SF_VK_ERROR, SF_VK_ERROR_OUT_OF_MEMORY);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "64.0"));
  g_assert_nonnull (strstr (error->message, "MiB"));
  g_assert_nonnull (strstr (error->message, "heap"));
  g_assert_nonnull (strstr (error->message, "UNet weights"));
  g_clear_error (&error);

  /* Larger than any single allocation may be. */
  g_assert_false (sf_arena_alloc (arena, (VkDeviceSize) 1 << 44, &big, &error));
  g_assert_error (error, SF_VK_ERROR, SF_VK_ERROR_OUT_OF_MEMORY);
  g_clear_error (&error);

  /* The arena still works after the failures. */
  g_assert_true (sf_arena_alloc (arena, 1 << 20, &big, &error));
  sf_arena_release (arena, &big);
  sf_arena_release (arena, &small);
}

static void
test_pipeline_cache_file_is_written_and_reloaded (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_build_filename (g_get_user_cache_dir (), "sfumato", NULL);
  g_autoptr (SfDevice) device = sf_device_open (NULL, &error);
  g_assert_no_error (error);
  {
    g_autoptr (SfArena) arena = sf_arena_new (device, "test");
    g_autoptr (SfTensor) t = sf_tensor_new (arena, SF_DTYPE_F32, 1, (int64_t[]) { 100 }, &error);
    g_autoptr (SfStream) stream = sf_stream_new (device, &error);
    g_assert_true (sf_op_fill (stream, t, 2.5f, &error));
    g_assert_true (sf_stream_run (stream, NULL, &error));
    g_assert_no_error (error);
  }
  g_clear_pointer (&device, sf_device_free);

  g_autoptr (GDir) listing = g_dir_open (dir, 0, &error);
  g_assert_no_error (error);
  const char *name;
  gboolean found = FALSE;
  while ((name = g_dir_read_name (listing)))
    if (g_str_has_prefix (name, "pipelines-") && g_str_has_suffix (name, ".bin"))
      {
        g_autofree char *path = g_build_filename (dir, name, NULL);
        g_autofree char *contents = NULL;
        gsize length = 0;
        g_assert_true (g_file_get_contents (path, &contents, &length, NULL));
        g_assert_cmpuint (length, >=, 32);
        found = TRUE;

        /* A corrupt cache file is ignored, not fed to the driver. */
        g_assert_true (g_file_set_contents (path, "garbage garbage garbage garbage!!", -1, NULL));
      }
  g_assert_true (found);
  device = sf_device_open (NULL, &error);
  g_assert_no_error (error);
  g_autoptr (SfArena) arena = sf_arena_new (device, "test");
  g_autoptr (SfTensor) t = sf_tensor_new (arena, SF_DTYPE_F32, 1, (int64_t[]) { 5 }, &error);
  g_autoptr (SfStream) stream = sf_stream_new (device, &error);
  g_assert_true (sf_op_fill (stream, t, 1.0f, &error));
  g_assert_true (sf_stream_run (stream, NULL, &error));
  g_assert_no_error (error);
}

static void
test_stream_records_once_and_replays (void)
{
  SfDevice *device = sf_test_device ();
  g_autoptr (GError) error = NULL;
  g_autoptr (SfArena) arena = sf_arena_new (device, "test");
  const int64_t n = 1000;
  g_autoptr (SfTensor) src = sf_tensor_new (arena, SF_DTYPE_F32, 1, &n, &error);
  g_autoptr (SfTensor) half = sf_tensor_new (arena, SF_DTYPE_F16, 1, &n, &error);
  g_autoptr (SfTensor) back = sf_tensor_new (arena, SF_DTYPE_F32, 1, &n, &error);
  g_autoptr (SfStream) stream = sf_stream_new (device, &error);
  g_assert_no_error (error);
  /* Two dependent dispatches: the second reads what the first wrote. */
  g_assert_true (sf_op_convert (stream, src, half, &error));
  g_assert_true (sf_op_convert (stream, half, back, &error));
  g_assert_cmpuint (sf_stream_get_dispatch_count (stream), ==, 2);

  g_autofree float *input = g_new (float, n);
  g_autofree float *output = g_new (float, n);
  for (int run = 0; run < 3; run++)
    {
      for (int64_t i = 0; i < n; i++)
        input[i] = (float) (i - 500) * 0.25f + (float) run; /* exact in fp16 */
      g_assert_true (sf_tensor_upload (src, input, &error));
      g_assert_true (sf_stream_run (stream, NULL, &error));
      g_assert_true (sf_tensor_download (back, output, &error));
      g_assert_no_error (error);
      g_assert_cmpmem (input, n * sizeof (float), output, n * sizeof (float));
    }
  g_assert_cmpuint (sf_stream_get_dispatch_count (stream), ==, 2);

  /* Recording more needs a reset. */
  g_assert_false (sf_op_fill (stream, src, 0.0f, &error));
  g_assert_error (error, SF_VK_ERROR, SF_VK_ERROR_INVALID);
  g_clear_error (&error);
  sf_stream_reset (stream);
  g_assert_true (sf_op_fill (stream, back, -3.0f, &error));
  g_assert_true (sf_stream_run (stream, NULL, &error));
  g_assert_true (sf_tensor_download (back, output, &error));
  g_assert_no_error (error);
  for (int64_t i = 0; i < n; i++)
    g_assert_cmpfloat (output[i], ==, -3.0f);
}

static void
test_stream_cancelled_before_run_does_nothing (void)
{
  SfDevice *device = sf_test_device ();
  g_autoptr (GError) error = NULL;
  g_autoptr (SfArena) arena = sf_arena_new (device, "test");
  g_autoptr (SfTensor) t = sf_tensor_new (arena, SF_DTYPE_F32, 1, (int64_t[]) { 64 }, &error);
  float zeros[64] = { 0 }, out[64];
  g_assert_true (sf_tensor_upload (t, zeros, &error));
  g_autoptr (SfStream) stream = sf_stream_new (device, &error);
  g_assert_true (sf_op_fill (stream, t, 7.0f, &error));
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_cancellable_cancel (cancellable);
  g_assert_false (sf_stream_run (stream, cancellable, &error));
  g_assert_error (error, SF_VK_ERROR, SF_VK_ERROR_CANCELLED);
  g_assert_true (sf_tensor_download (t, out, NULL));
  g_assert_cmpfloat (out[0], ==, 0.0f);
}

static void
test_profile_counts_dispatches (void)
{
  g_setenv ("SFUMATO_PROFILE", "1", TRUE);
  g_autoptr (GError) error = NULL;
  g_autoptr (SfDevice) device = sf_device_open (NULL, &error);
  g_unsetenv ("SFUMATO_PROFILE");
  g_assert_no_error (error);
  g_autoptr (SfArena) arena = sf_arena_new (device, "test");
  g_autoptr (SfTensor) t = sf_tensor_new (arena, SF_DTYPE_F32, 1, (int64_t[]) { 4096 }, &error);
  g_autoptr (SfStream) stream = sf_stream_new (device, &error);
  for (int i = 0; i < 5; i++)
    g_assert_true (sf_op_fill (stream, t, (float) i, &error));
  g_assert_true (sf_stream_run (stream, NULL, &error));
  g_assert_true (sf_stream_run (stream, NULL, &error));
  g_assert_no_error (error);
  /* The table is printed to stderr when the device is freed; here we only
   * check that profiling does not disturb results. */
  float out[4096];
  g_assert_true (sf_tensor_download (t, out, &error));
  g_assert_cmpfloat (out[4095], ==, 4.0f);
}

int
main (int argc, char **argv)
{
  sf_test_init (&argc, &argv);
  sf_test_add ("/vk/device/describes-itself", test_device_describes_itself);
  sf_test_add ("/vk/device/is-chosen-by-index-or-name", test_device_selector_by_index_and_name);
  sf_test_add ("/vk/memory/arena-reuses-released-ranges", test_arena_reuses_released_ranges);
  sf_test_add ("/vk/memory/upload-download-round-trips", test_upload_download_round_trip);
  sf_test_add ("/vk/memory/out-of-memory-names-size-and-heap", test_out_of_memory_names_size_and_heap);
  sf_test_add ("/vk/pipeline/cache-file-is-written-and-reloaded",
               test_pipeline_cache_file_is_written_and_reloaded);
  sf_test_add ("/vk/stream/records-once-and-replays", test_stream_records_once_and_replays);
  sf_test_add ("/vk/stream/cancelled-before-run-does-nothing",
               test_stream_cancelled_before_run_does_nothing);
  sf_test_add ("/vk/stream/profiling-keeps-results", test_profile_counts_dispatches);
  return sf_test_run ();
}
