/* Importing images made by other tools (A1111, ComfyUI) or by Sfumato
 * into the history, with the parameters their PNG text chunks hold. */
#pragma once

#include "history.h"

G_BEGIN_DECLS

/* The record @path's text chunks describe (its size from the image when
 * the text has none; its time the file's modification time).
 * Returns: (transfer full), NULL with @error for a file that is not a PNG
 * or has no readable parameters. */
SfGenerationRecord *sf_history_read_png_record (const char *path, GBytes **png_out, GError **error);

/* Reads @path and stores it (the PNG kept byte for byte).
 * Returns: the new generation's id, 0 on error. */
gint64 sf_history_import_png (SfHistory *history, const char *path, GError **error);

G_END_DECLS
