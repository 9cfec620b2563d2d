/* .safetensors files: a validated header over a read-only mapping.
 *
 * The format (huggingface/safetensors): 8 bytes little-endian header
 * length N, N bytes of JSON, then the data section. The JSON object maps
 * tensor names to {"dtype", "shape", "data_offsets": [begin, end]}
 * (offsets relative to the data section) and may hold "__metadata__", a
 * string-to-string object.
 *
 * Everything in the header is checked before any of it is used, as the
 * reference loader does: N ≤ 100,000,000 and inside the file, UTF-8 JSON
 * (json-glib) with shallow nesting, every dtype known, every shape's
 * element count × dtype size == end - begin without overflow, and the
 * tensors tile the data section exactly (sorted by offset, no gap, no
 * overlap, ending at the end of the file). Anything else is a GError in
 * SF_SAFETENSORS_ERROR naming the file and, where there is one, the
 * tensor. Integer and F64 tensors are described (the real SDXL file has an
 * I64 `position_ids`), but the checkpoint layer refuses to read them. */
#pragma once

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

#define SF_SAFETENSORS_ERROR (sf_safetensors_error_quark ())
GQuark sf_safetensors_error_quark (void);

typedef enum {
  SF_SAFETENSORS_ERROR_IO,       /* the file cannot be opened or mapped */
  SF_SAFETENSORS_ERROR_INVALID,  /* the header breaks the format */
} SfSafetensorsErrorCode;

/* Largest header the reference loader accepts. */
#define SF_SAFETENSORS_MAX_HEADER 100000000u
#define SF_SAFETENSORS_MAX_DIMS 8

typedef enum {
  SF_SAFETENSORS_F16,
  SF_SAFETENSORS_BF16,
  SF_SAFETENSORS_F32,
  SF_SAFETENSORS_F64,
  SF_SAFETENSORS_F8_E4M3,
  SF_SAFETENSORS_F8_E5M2,
  SF_SAFETENSORS_BOOL,
  SF_SAFETENSORS_I8,
  SF_SAFETENSORS_U8,
  SF_SAFETENSORS_I16,
  SF_SAFETENSORS_U16,
  SF_SAFETENSORS_I32,
  SF_SAFETENSORS_U32,
  SF_SAFETENSORS_I64,
  SF_SAFETENSORS_U64,
} SfSafetensorsDType;

/* The format's spelling ("F16", "BF16", ...). */
const char *sf_safetensors_dtype_name (SfSafetensorsDType dtype);
gsize sf_safetensors_dtype_size (SfSafetensorsDType dtype);
/* F16, BF16 and F32: the types weights may be stored in. */
gboolean sf_safetensors_dtype_is_float_weight (SfSafetensorsDType dtype);

typedef struct {
  const char *name;
  SfSafetensorsDType dtype;
  int ndim;
  int64_t shape[SF_SAFETENSORS_MAX_DIMS];
  uint64_t numel;
  /* The bytes, little-endian, inside the mapping: valid while the file is
   * open, and not necessarily aligned (read with memcpy). */
  const void *data;
  gsize nbytes;
} SfSafetensorsTensor;

typedef struct SfSafetensors SfSafetensors;

/* Maps @path and validates its header.
 * Returns: (transfer full) or NULL with @error set. */
SfSafetensors *sf_safetensors_open (const char *path, GError **error);

/* The same over bytes already in memory (kept referenced); @display_name
 * names them in messages. Used by the fuzz target and tests. */
SfSafetensors *sf_safetensors_new_from_bytes (GBytes *bytes, const char *display_name,
                                              GError **error);

void sf_safetensors_free (SfSafetensors *file);

/* Says that @tensor's bytes will not be read again soon: the pages of a
 * mapped file leave the process's resident memory (they stay in the page
 * cache and are read back if touched), so loading a model does not keep
 * a second copy of its weights resident. Nothing for in-memory files. */
void sf_safetensors_release (const SfSafetensors *file, const SfSafetensorsTensor *tensor);

/* The path given to open (or the display name). */
const char *sf_safetensors_get_path (const SfSafetensors *file);
/* Bytes of the whole file. */
guint64 sf_safetensors_get_size (const SfSafetensors *file);
/* The whole file, for hashing: valid while @file is open. */
const guint8 *sf_safetensors_get_bytes (const SfSafetensors *file);

/* Tensors in data-offset order. */
guint sf_safetensors_get_n_tensors (const SfSafetensors *file);
const SfSafetensorsTensor *sf_safetensors_get_tensor (const SfSafetensors *file, guint index);
/* The tensor called @name, or NULL. */
const SfSafetensorsTensor *sf_safetensors_lookup (const SfSafetensors *file, const char *name);

/* A value of "__metadata__", or NULL. */
const char *sf_safetensors_get_metadata (const SfSafetensors *file, const char *key);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SfSafetensors, sf_safetensors_free)

G_END_DECLS
