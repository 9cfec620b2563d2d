/* HTML named character references (for the CLIP text cleanup). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  const char *name;      /* without the ';' */
  gunichar first;
  gunichar second;       /* 0, or the second code point of a pair */
  gboolean legacy;       /* also valid without the ';' */
} SfHtmlEntity;

/* The entity called @name (without ';'), or NULL. */
const SfHtmlEntity *sf_html_entity_find (const char *name);

G_END_DECLS
