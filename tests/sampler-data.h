/* Reading tests/data/sampler (made by tests/reference/make_sampler_reference.py):
 * .npy float32 arrays and the JSON indexes. Aborts the test on bad data. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* The float32 array in $SF_TEST_DATA/sampler/@name; its element count in
 * @count and its shape in @shape (up to 8 dims, @ndim set). */
float *sf_sampler_data_npy (const char *name, gsize *count, int *ndim, gint64 *shape);

/* The parsed $SF_TEST_DATA/sampler/@name. Returns: (transfer full). */
JsonParser *sf_sampler_data_json (const char *name);

/* A JSON array of numbers as doubles. Returns: (transfer full). */
double *sf_sampler_data_doubles (JsonArray *array, guint *length);

G_END_DECLS
