#include "dtype.h"

#include <string.h>

#define T(n, b) { n, b, sizeof(n) - 1 }
static const struct {
	const char *name;
	unsigned bits;
	size_t len;
} st_types[ST_DTYPE_COUNT] = {
	[ST_BOOL] = T("BOOL", 8),       [ST_F4] = T("F4", 4),
	[ST_F6_E2M3] = T("F6_E2M3", 6), [ST_F6_E3M2] = T("F6_E3M2", 6),
	[ST_U8] = T("U8", 8),           [ST_I8] = T("I8", 8),
	[ST_F8_E5M2] = T("F8_E5M2", 8), [ST_F8_E4M3] = T("F8_E4M3", 8),
	[ST_F8_E8M0] = T("F8_E8M0", 8), [ST_F8_E4M3FNUZ] = T("F8_E4M3FNUZ", 8),
	[ST_F8_E5M2FNUZ] = T("F8_E5M2FNUZ", 8),
	[ST_I16] = T("I16", 16),        [ST_U16] = T("U16", 16),
	[ST_F16] = T("F16", 16),        [ST_BF16] = T("BF16", 16),
	[ST_I32] = T("I32", 32),        [ST_U32] = T("U32", 32),
	[ST_F32] = T("F32", 32),        [ST_I64] = T("I64", 64),
	[ST_U64] = T("U64", 64),        [ST_F64] = T("F64", 64),
	[ST_C64] = T("C64", 64),
};
#undef T

int sc_st_dtype_from_name(const char *s, size_t len)
{
	/* called once per tensor: compare lengths before bytes */
	for (int i = 0; i < ST_DTYPE_COUNT; i++)
		if (st_types[i].len == len && s[0] == st_types[i].name[0] && memcmp(st_types[i].name, s, len) == 0)
			return i;
	return -1;
}

const char *sc_st_dtype_name(enum st_dtype t)
{
	return (unsigned)t < ST_DTYPE_COUNT ? st_types[t].name : "?";
}

unsigned sc_st_dtype_bits(enum st_dtype t)
{
	return (unsigned)t < ST_DTYPE_COUNT ? st_types[t].bits : 0;
}

static const struct {
	const char *name;
	uint32_t bytes, values;
} ggml_types[GGML_TYPE_COUNT] = {
	[0] = { "F32", 4, 1 },       [1] = { "F16", 2, 1 },
	[2] = { "Q4_0", 18, 32 },    [3] = { "Q4_1", 20, 32 },
	[6] = { "Q5_0", 22, 32 },    [7] = { "Q5_1", 24, 32 },
	[8] = { "Q8_0", 34, 32 },    [9] = { "Q8_1", 36, 32 },
	[10] = { "Q2_K", 84, 256 },  [11] = { "Q3_K", 110, 256 },
	[12] = { "Q4_K", 144, 256 }, [13] = { "Q5_K", 176, 256 },
	[14] = { "Q6_K", 210, 256 }, [15] = { "Q8_K", 292, 256 },
	[16] = { "IQ2_XXS", 66, 256 }, [17] = { "IQ2_XS", 74, 256 },
	[18] = { "IQ3_XXS", 98, 256 }, [19] = { "IQ1_S", 50, 256 },
	[20] = { "IQ4_NL", 18, 32 },   [21] = { "IQ3_S", 110, 256 },
	[22] = { "IQ2_S", 82, 256 },   [23] = { "IQ4_XS", 136, 256 },
	[24] = { "I8", 1, 1 },       [25] = { "I16", 2, 1 },
	[26] = { "I32", 4, 1 },      [27] = { "I64", 8, 1 },
	[28] = { "F64", 8, 1 },      [29] = { "IQ1_M", 56, 256 },
	[30] = { "BF16", 2, 1 },     [34] = { "TQ1_0", 54, 256 },
	[35] = { "TQ2_0", 66, 256 }, [39] = { "MXFP4", 17, 32 },
};

const char *sc_ggml_type_name(uint32_t type)
{
	return type < GGML_TYPE_COUNT ? ggml_types[type].name : NULL;
}

int sc_ggml_type_block(uint32_t type, uint32_t *bytes, uint32_t *values)
{
	if (type >= GGML_TYPE_COUNT || !ggml_types[type].name)
		return -1;
	*bytes = ggml_types[type].bytes;
	*values = ggml_types[type].values;
	return 0;
}

static const char *const file_types[] = {
	[0] = "F32", [1] = "F16", [2] = "Q4_0", [3] = "Q4_1", [7] = "Q8_0",
	[8] = "Q5_0", [9] = "Q5_1", [10] = "Q2_K", [11] = "Q3_K_S",
	[12] = "Q3_K_M", [13] = "Q3_K_L", [14] = "Q4_K_S", [15] = "Q4_K_M",
	[16] = "Q5_K_S", [17] = "Q5_K_M", [18] = "Q6_K", [19] = "IQ2_XXS",
	[20] = "IQ2_XS", [21] = "Q2_K_S", [22] = "IQ3_XS", [23] = "IQ3_XXS",
	[24] = "IQ1_S", [25] = "IQ4_NL", [26] = "IQ3_S", [27] = "IQ3_M",
	[28] = "IQ2_S", [29] = "IQ2_M", [30] = "IQ4_XS", [31] = "IQ1_M",
	[32] = "BF16", [36] = "TQ1_0", [37] = "TQ2_0", [38] = "MXFP4_MOE",
};

const char *sc_gguf_file_type_name(uint32_t ft)
{
	return ft < sizeof file_types / sizeof file_types[0] ? file_types[ft] : NULL;
}

const char *sc_gguf_file_type_from_ggml(uint32_t type)
{
	/* The K-quant types have no single file type; the plain ones do. */
	switch (type) {
	case 0: return "F32";
	case 1: return "F16";
	case 30: return "BF16";
	case 2: return "Q4_0";
	case 3: return "Q4_1";
	case 6: return "Q5_0";
	case 7: return "Q5_1";
	case 8: return "Q8_0";
	case 10: return "Q2_K";
	case 11: return "Q3_K_M";
	case 12: return "Q4_K_M";
	case 13: return "Q5_K_M";
	case 14: return "Q6_K";
	case 39: return "MXFP4_MOE";
	default: return sc_ggml_type_name(type);
	}
}
