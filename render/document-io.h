/* Opening and saving documents.
 *
 * The whole document is saved as OpenRaster (.ora, the layered format
 * GIMP, Krita and MyPaint read): a zip holding stack.xml, one PNG per
 * layer, mergedimage.png and a thumbnail. Sfumato's own state rides in
 * attributes of the "sfumato:" namespace, which other programs ignore:
 * the canvas origin, the generation frame, the inpaint mask, layer masks,
 * locked alpha and the history ids of generated layers. Every save is
 * atomic (temporary file, fsync, rename).
 *
 * Saving reads the document only, so it may be given a snapshot
 * (sf_document_snapshot) on a worker thread. */
#pragma once

#include "document.h"
#include "png-io.h"

G_BEGIN_DECLS

/* Opens an .ora or a PNG (by content, not by name). A PNG becomes a
 * document of its size with one layer named after the file.
 * Returns: (transfer full) (nullable). */
SfDocument *sf_document_open (const char *path, GError **error);

/* A document of @image's size with one layer holding it.
 * Returns: (transfer full). */
SfDocument *sf_document_new_from_image (const SfImage *image, const char *layer_name);

/* Saves the whole document as OpenRaster. */
gboolean sf_document_save_ora (SfDocument *document, const char *path, GError **error);
/* The .ora file's bytes. Returns: (transfer full) (nullable). */
GBytes *sf_document_encode_ora (SfDocument *document, GError **error);
/* Returns: (transfer full) (nullable). */
SfDocument *sf_document_load_ora (const char *path, GError **error);
SfDocument *sf_document_decode_ora (const guint8 *data, gsize size, GError **error);

/* Writes the canvas, flattened, as a PNG with optional text chunks
 * (key, value, …, NULL). */
gboolean sf_document_export_png (SfDocument *document, const char *path,
                                 const char *const *text, GError **error);

G_END_DECLS
