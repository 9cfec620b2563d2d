#include "safetensors.h"

#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

G_DEFINE_QUARK (sf-safetensors-error-quark, sf_safetensors_error)

#if G_BYTE_ORDER != G_LITTLE_ENDIAN
#error "safetensors data is little-endian; this loader assumes a little-endian host"
#endif

/* A header this deep is not a safetensors header; json-glib's parser
 * recurses per level, so hostile nesting is refused before parsing. */
#define MAX_JSON_DEPTH 16

struct SfSafetensors {
  char *path;
  GBytes *bytes;
  GArray *tensors;       /* SfSafetensorsTensor, sorted by data offset */
  GHashTable *by_name;   /* name -> index + 1 */
  GHashTable *metadata;  /* string -> string */
  gboolean mapped;       /* bytes are a mapping of the file */
};

static const struct {
  const char *name;
  gsize size;
  gboolean float_weight;
} DTYPES[] = {
  [SF_SAFETENSORS_F16] = { "F16", 2, TRUE },
  [SF_SAFETENSORS_BF16] = { "BF16", 2, TRUE },
  [SF_SAFETENSORS_F32] = { "F32", 4, TRUE },
  [SF_SAFETENSORS_F64] = { "F64", 8, FALSE },
  [SF_SAFETENSORS_F8_E4M3] = { "F8_E4M3", 1, FALSE },
  [SF_SAFETENSORS_F8_E5M2] = { "F8_E5M2", 1, FALSE },
  [SF_SAFETENSORS_BOOL] = { "BOOL", 1, FALSE },
  [SF_SAFETENSORS_I8] = { "I8", 1, FALSE },
  [SF_SAFETENSORS_U8] = { "U8", 1, FALSE },
  [SF_SAFETENSORS_I16] = { "I16", 2, FALSE },
  [SF_SAFETENSORS_U16] = { "U16", 2, FALSE },
  [SF_SAFETENSORS_I32] = { "I32", 4, FALSE },
  [SF_SAFETENSORS_U32] = { "U32", 4, FALSE },
  [SF_SAFETENSORS_I64] = { "I64", 8, FALSE },
  [SF_SAFETENSORS_U64] = { "U64", 8, FALSE },
};

const char *
sf_safetensors_dtype_name (SfSafetensorsDType dtype)
{
  return (guint) dtype < G_N_ELEMENTS (DTYPES) ? DTYPES[dtype].name : "?";
}

gsize
sf_safetensors_dtype_size (SfSafetensorsDType dtype)
{
  return (guint) dtype < G_N_ELEMENTS (DTYPES) ? DTYPES[dtype].size : 0;
}

gboolean
sf_safetensors_dtype_is_float_weight (SfSafetensorsDType dtype)
{
  return (guint) dtype < G_N_ELEMENTS (DTYPES) && DTYPES[dtype].float_weight;
}

static gboolean
parse_dtype (const char *name, SfSafetensorsDType *dtype)
{
  for (guint i = 0; i < G_N_ELEMENTS (DTYPES); i++)
    if (strcmp (name, DTYPES[i].name) == 0)
      {
        *dtype = (SfSafetensorsDType) i;
        return TRUE;
      }
  return FALSE;
}

void
sf_safetensors_free (SfSafetensors *file)
{
  if (!file)
    return;
  if (file->tensors)
    for (guint i = 0; i < file->tensors->len; i++)
      g_free ((char *) g_array_index (file->tensors, SfSafetensorsTensor, i).name);
  g_clear_pointer (&file->tensors, g_array_unref);
  g_clear_pointer (&file->by_name, g_hash_table_unref);
  g_clear_pointer (&file->metadata, g_hash_table_unref);
  g_clear_pointer (&file->bytes, g_bytes_unref);
  g_free (file->path);
  g_free (file);
}

static gboolean G_GNUC_PRINTF (3, 4)
fail (GError **error, const SfSafetensors *file, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, SF_SAFETENSORS_ERROR, SF_SAFETENSORS_ERROR_INVALID,
               "%s: not a valid safetensors file: %s", file->path, message);
  return FALSE;
}

/* Depth of {} and [] outside strings; the text is known to be UTF-8. */
static gboolean
nesting_is_shallow (const char *text, gsize length)
{
  int depth = 0;
  gboolean in_string = FALSE;
  for (gsize i = 0; i < length; i++)
    {
      char c = text[i];
      if (in_string)
        {
          if (c == '\\')
            i++;
          else if (c == '"')
            in_string = FALSE;
        }
      else if (c == '"')
        in_string = TRUE;
      else if (c == '{' || c == '[')
        {
          if (++depth > MAX_JSON_DEPTH)
            return FALSE;
        }
      else if (c == '}' || c == ']')
        depth--;
    }
  return TRUE;
}

/* A JSON integer ≥ 0 (json-glib types integers as gint64). */
static gboolean
get_count (JsonNode *node, int64_t *value)
{
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
    return FALSE;
  *value = json_node_get_int (node);
  return *value >= 0;
}

static gboolean
parse_metadata (SfSafetensors *file, JsonNode *node, GError **error)
{
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return fail (error, file, "__metadata__ is not an object");
  JsonObject *object = json_node_get_object (node);
  g_autoptr (GList) members = json_object_get_members (object);
  for (GList *l = members; l; l = l->next)
    {
      JsonNode *value = json_object_get_member (object, l->data);
      if (!JSON_NODE_HOLDS_VALUE (value) || json_node_get_value_type (value) != G_TYPE_STRING)
        return fail (error, file, "__metadata__ value “%s” is not a string", (char *) l->data);
      g_hash_table_insert (file->metadata, g_strdup (l->data), g_strdup (json_node_get_string (value)));
    }
  return TRUE;
}

static gboolean
parse_tensor (SfSafetensors *file, const char *name, JsonNode *node, guint64 data_size,
              SfSafetensorsTensor *tensor, uint64_t offsets[2], GError **error)
{
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return fail (error, file, "tensor “%s” is not an object", name);
  JsonObject *object = json_node_get_object (node);
  JsonNode *dtype = json_object_get_member (object, "dtype");
  JsonNode *shape = json_object_get_member (object, "shape");
  JsonNode *data_offsets = json_object_get_member (object, "data_offsets");
  if (!dtype || !shape || !data_offsets)
    return fail (error, file, "tensor “%s” lacks dtype, shape or data_offsets", name);

  if (!JSON_NODE_HOLDS_VALUE (dtype) || json_node_get_value_type (dtype) != G_TYPE_STRING)
    return fail (error, file, "tensor “%s”: dtype is not a string", name);
  if (!parse_dtype (json_node_get_string (dtype), &tensor->dtype))
    return fail (error, file, "tensor “%s”: unknown dtype “%s”", name, json_node_get_string (dtype));

  if (!JSON_NODE_HOLDS_ARRAY (shape))
    return fail (error, file, "tensor “%s”: shape is not an array", name);
  JsonArray *dims = json_node_get_array (shape);
  guint ndim = json_array_get_length (dims);
  if (ndim > SF_SAFETENSORS_MAX_DIMS)
    return fail (error, file, "tensor “%s” has %u dimensions (at most %d are supported)", name,
                 ndim, SF_SAFETENSORS_MAX_DIMS);
  tensor->ndim = (int) ndim;
  tensor->numel = 1;
  for (guint d = 0; d < ndim; d++)
    {
      if (!get_count (json_array_get_element (dims, d), &tensor->shape[d]))
        return fail (error, file, "tensor “%s”: shape[%u] is not a non-negative integer", name, d);
      if (!g_uint64_checked_mul (&tensor->numel, tensor->numel, (uint64_t) tensor->shape[d]))
        return fail (error, file, "tensor “%s”: the shape's element count overflows", name);
    }
  uint64_t nbytes;
  if (!g_uint64_checked_mul (&nbytes, tensor->numel, sf_safetensors_dtype_size (tensor->dtype)))
    return fail (error, file, "tensor “%s”: the shape's byte size overflows", name);

  if (!JSON_NODE_HOLDS_ARRAY (data_offsets) ||
      json_array_get_length (json_node_get_array (data_offsets)) != 2)
    return fail (error, file, "tensor “%s”: data_offsets is not a pair", name);
  JsonArray *pair = json_node_get_array (data_offsets);
  int64_t begin, end;
  if (!get_count (json_array_get_element (pair, 0), &begin) ||
      !get_count (json_array_get_element (pair, 1), &end))
    return fail (error, file, "tensor “%s”: data_offsets are not non-negative integers", name);
  if (end < begin || (uint64_t) end > data_size)
    return fail (error, file, "tensor “%s”: data_offsets [%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT
                 "] are outside the data section (%" G_GUINT64_FORMAT " bytes)", name, begin, end,
                 data_size);
  if ((uint64_t) (end - begin) != nbytes)
    return fail (error, file, "tensor “%s”: shape and dtype %s make %" G_GUINT64_FORMAT
                 " bytes but data_offsets span %" G_GINT64_FORMAT, name,
                 sf_safetensors_dtype_name (tensor->dtype), nbytes, end - begin);
  tensor->nbytes = (gsize) nbytes;
  offsets[0] = (uint64_t) begin;
  offsets[1] = (uint64_t) end;
  return TRUE;
}

typedef struct {
  SfSafetensorsTensor tensor;
  uint64_t offsets[2];
} Entry;

static int
compare_entries (gconstpointer a, gconstpointer b)
{
  const Entry *x = a, *y = b;
  if (x->offsets[0] != y->offsets[0])
    return x->offsets[0] < y->offsets[0] ? -1 : 1;
  if (x->offsets[1] != y->offsets[1])
    return x->offsets[1] < y->offsets[1] ? -1 : 1;
  return 0;
}

static gboolean
parse_header (SfSafetensors *file, GError **error)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (file->bytes, &size);
  if (size < 8)
    return fail (error, file, "%" G_GSIZE_FORMAT " bytes is too short for the header length", size);
  uint64_t header_length = 0;
  for (int i = 7; i >= 0; i--)
    header_length = (header_length << 8) | data[i];
  if (header_length > SF_SAFETENSORS_MAX_HEADER)
    return fail (error, file, "header length %" G_GUINT64_FORMAT " exceeds the limit of %u bytes",
                 header_length, SF_SAFETENSORS_MAX_HEADER);
  if (header_length > size - 8)
    return fail (error, file, "header length %" G_GUINT64_FORMAT " runs past the end of the file (%"
                 G_GSIZE_FORMAT " bytes)", header_length, size);
  const char *header = (const char *) data + 8;
  if (header_length < 2 || header[0] != '{')
    return fail (error, file, "the header is not a JSON object");
  if (memchr (header, '\0', header_length) || !g_utf8_validate_len (header, header_length, NULL))
    return fail (error, file, "the header is not UTF-8 text");
  if (!nesting_is_shallow (header, header_length))
    return fail (error, file, "the header nests deeper than %d levels", MAX_JSON_DEPTH);

  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autoptr (GError) json_error = NULL;
  if (!json_parser_load_from_data (parser, header, (gssize) header_length, &json_error))
    return fail (error, file, "the header is not valid JSON: %s", json_error->message);
  JsonNode *root = json_parser_get_root (parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT (root))
    return fail (error, file, "the header is not a JSON object");

  uint64_t data_size = size - 8 - header_length;
  JsonObject *object = json_node_get_object (root);
  g_autoptr (GList) members = json_object_get_members (object);
  g_autoptr (GArray) entries = g_array_new (FALSE, TRUE, sizeof (Entry));
  for (GList *l = members; l; l = l->next)
    {
      const char *name = l->data;
      JsonNode *node = json_object_get_member (object, name);
      if (strcmp (name, "__metadata__") == 0)
        {
          if (!parse_metadata (file, node, error))
            return FALSE;
          continue;
        }
      Entry entry = { 0 };
      if (!parse_tensor (file, name, node, data_size, &entry.tensor, entry.offsets, error))
        return FALSE;
      entry.tensor.name = name; /* borrowed until copied below */
      g_array_append_val (entries, entry);
    }

  /* The tensors must tile the data section: each begins where the one
   * before ends, and the last ends at the end of the file. */
  g_array_sort (entries, compare_entries);
  uint64_t expected = 0;
  for (guint i = 0; i < entries->len; i++)
    {
      const Entry *entry = &g_array_index (entries, Entry, i);
      if (entry->offsets[0] != expected)
        return fail (error, file, "tensor “%s” begins at %" G_GUINT64_FORMAT " in the data section "
                     "where %" G_GUINT64_FORMAT " was expected (%s)", entry->tensor.name,
                     entry->offsets[0], expected,
                     entry->offsets[0] < expected ? "it overlaps another tensor" : "a gap");
      expected = entry->offsets[1];
    }
  if (expected != data_size)
    return fail (error, file, "the data section has %" G_GUINT64_FORMAT " bytes but the tensors "
                 "cover %" G_GUINT64_FORMAT " (truncated or padded file)", data_size, expected);

  const guint8 *section = data + 8 + header_length;
  for (guint i = 0; i < entries->len; i++)
    {
      Entry *entry = &g_array_index (entries, Entry, i);
      entry->tensor.name = g_strdup (entry->tensor.name);
      entry->tensor.data = section + entry->offsets[0];
      g_array_append_val (file->tensors, entry->tensor);
      g_hash_table_insert (file->by_name, (char *) entry->tensor.name, GUINT_TO_POINTER (i + 1));
    }
  return TRUE;
}

SfSafetensors *
sf_safetensors_new_from_bytes (GBytes *bytes, const char *display_name, GError **error)
{
  g_autoptr (SfSafetensors) file = g_new0 (SfSafetensors, 1);
  file->path = g_strdup (display_name);
  file->bytes = g_bytes_ref (bytes);
  file->tensors = g_array_new (FALSE, TRUE, sizeof (SfSafetensorsTensor));
  file->by_name = g_hash_table_new (g_str_hash, g_str_equal);
  file->metadata = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  if (!parse_header (file, error))
    return NULL;
  return g_steal_pointer (&file);
}

SfSafetensors *
sf_safetensors_open (const char *path, GError **error)
{
  /* A FIFO would block the open, a folder fail obscurely in mmap. */
  if (g_file_test (path, G_FILE_TEST_EXISTS) && !g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, SF_SAFETENSORS_ERROR, SF_SAFETENSORS_ERROR_IO, "%s is not a regular file", path);
      return NULL;
    }
  g_autoptr (GError) local = NULL;
  g_autoptr (GMappedFile) mapped = g_mapped_file_new (path, FALSE, &local);
  if (!mapped)
    {
      g_set_error (error, SF_SAFETENSORS_ERROR, SF_SAFETENSORS_ERROR_IO, "%s", local->message);
      return NULL;
    }
  g_autoptr (GBytes) bytes = g_mapped_file_get_bytes (mapped);
  SfSafetensors *file = sf_safetensors_new_from_bytes (bytes, path, error);
  if (file)
    file->mapped = TRUE;
  return file;
}

void
sf_safetensors_release (const SfSafetensors *file, const SfSafetensorsTensor *tensor)
{
  if (!file->mapped || tensor->nbytes == 0)
    return;
  /* Only whole pages inside the tensor: the edges may hold a neighbour. */
  guintptr page = (guintptr) sysconf (_SC_PAGESIZE);
  guintptr start = ((guintptr) tensor->data + page - 1) / page * page;
  guintptr end = ((guintptr) tensor->data + tensor->nbytes) / page * page;
  if (end > start)
    madvise ((void *) start, end - start, MADV_DONTNEED);
}

const char *
sf_safetensors_get_path (const SfSafetensors *file)
{
  return file->path;
}

guint64
sf_safetensors_get_size (const SfSafetensors *file)
{
  return g_bytes_get_size (file->bytes);
}

const guint8 *
sf_safetensors_get_bytes (const SfSafetensors *file)
{
  return g_bytes_get_data (file->bytes, NULL);
}

guint
sf_safetensors_get_n_tensors (const SfSafetensors *file)
{
  return file->tensors->len;
}

const SfSafetensorsTensor *
sf_safetensors_get_tensor (const SfSafetensors *file, guint index)
{
  g_return_val_if_fail (index < file->tensors->len, NULL);
  return &g_array_index (file->tensors, SfSafetensorsTensor, index);
}

const SfSafetensorsTensor *
sf_safetensors_lookup (const SfSafetensors *file, const char *name)
{
  guint index = GPOINTER_TO_UINT (g_hash_table_lookup (file->by_name, name));
  return index ? &g_array_index (file->tensors, SfSafetensorsTensor, index - 1) : NULL;
}

const char *
sf_safetensors_get_metadata (const SfSafetensors *file, const char *key)
{
  return g_hash_table_lookup (file->metadata, key);
}
