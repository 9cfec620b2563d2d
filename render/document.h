/* A painting document: its canvas size and (in later steps) its layers,
 * masks and generation frame. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct SfDocument SfDocument;

/* Returns: (transfer full). */
SfDocument *sf_document_new (int width_px, int height_px);
void sf_document_free (SfDocument *document);

int sf_document_get_width (const SfDocument *document);
int sf_document_get_height (const SfDocument *document);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SfDocument, sf_document_free)

G_END_DECLS
