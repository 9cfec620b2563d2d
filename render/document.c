#include "document.h"

struct SfDocument {
  int width_px;
  int height_px;
};

SfDocument *
sf_document_new (int width_px, int height_px)
{
  g_return_val_if_fail (width_px > 0 && height_px > 0, NULL);
  SfDocument *document = g_new0 (SfDocument, 1);
  document->width_px = width_px;
  document->height_px = height_px;
  return document;
}

void
sf_document_free (SfDocument *document)
{
  g_free (document);
}

int
sf_document_get_width (const SfDocument *document)
{
  return document->width_px;
}

int
sf_document_get_height (const SfDocument *document)
{
  return document->height_px;
}
