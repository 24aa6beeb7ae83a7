/* Element types: safetensors dtypes and ggml tensor types, with their sizes
 * (doc/FACTS.md "Checkpoint formats"). */
#ifndef SC_DTYPE_H
#define SC_DTYPE_H

#include <stddef.h>
#include <stdint.h>

enum st_dtype {
	ST_BOOL, ST_F4, ST_F6_E2M3, ST_F6_E3M2, ST_U8, ST_I8, ST_F8_E5M2,
	ST_F8_E4M3, ST_F8_E8M0, ST_F8_E4M3FNUZ, ST_F8_E5M2FNUZ, ST_I16, ST_U16,
	ST_F16, ST_BF16, ST_I32, ST_U32, ST_F32, ST_I64, ST_U64, ST_F64, ST_C64,
	ST_DTYPE_COUNT
};

/* Look a dtype name up; returns <0 when unknown. */
int sc_st_dtype_from_name(const char *s, size_t len);
const char *sc_st_dtype_name(enum st_dtype t);
unsigned sc_st_dtype_bits(enum st_dtype t);

#define GGML_TYPE_COUNT 40

/* ggml type name, NULL if the number is not a known type. */
const char *sc_ggml_type_name(uint32_t type);
/* Bytes per block and values per block; 0 when unknown. */
int sc_ggml_type_block(uint32_t type, uint32_t *bytes, uint32_t *values);

/* Name of a GGUF general.file_type value ("Q4_K_M"), NULL if unknown. */
const char *sc_gguf_file_type_name(uint32_t ft);
/* The file-type name that a dominant ggml tensor type implies. */
const char *sc_gguf_file_type_from_ggml(uint32_t type);

#endif
