/* The SPIR-V of every shader in shaders/, compiled by glslc at build time
 * and embedded by the generated shader_table.c (see shaders/CMakeLists.txt). */
#pragma once

#include <stddef.h>
#include <stdint.h>

typedef struct {
  const char *name;        /* the .comp file's base name, plus "@variant" */
  const uint32_t *words;   /* SPIR-V */
  size_t size_bytes;
} SfShaderCode;

extern const SfShaderCode sf_shader_table[];
extern const size_t sf_shader_table_length;
