/* Helpers shared by the history's tests and benchmark. */
#pragma once

#include "history.h"

G_BEGIN_DECLS

/* A new empty folder under $XDG_DATA_HOME (the build tree in ctest).
 * Returns: (transfer full). */
char *sf_history_test_dir (void);

/* A record with every field set, varied by @index. Returns: (transfer full). */
SfGenerationRecord *sf_history_test_record (int index);

/* Deterministic RGBA pixels. Returns: (transfer full). */
guint8 *sf_history_test_pixels (int width_px, int height_px, int seed);

/* Regular files under @dir/outputs. */
guint sf_history_test_count_files (const char *dir);

G_END_DECLS
