#include "model_json.h"
#include "../engine/engine.h"
#include "../base/json.h"
#include "../base/text.h"
#include "../base/util.h"

#include <stdio.h>



json_t *sc_model_engines_json(const struct sc_model *m, const struct registry *reg)
{
	json_t *o = json_object();
	for (size_t i = 0; o && reg && i < reg->n_engines; i++) {
		char buf[256];
		const char *why = sc_engine_reason(&reg->engines[i], m, buf, sizeof buf);
		json_object_set_new(o, reg->engines[i].name,
				    json_pack("{s:b,s:o}", "compatible", !why, "reason", sc_json_text(why)));
	}
	return o;
}

json_t *sc_model_to_json(const struct sc_model *m, const struct registry *reg)
{
	json_t *problems = json_array();
	for (size_t i = 0; problems && i < m->problems.n; i++)
		json_array_append_new(problems, json_pack("{s:s,s:o,s:o}", "code", m->problems.v[i].code, "file",
							  sc_json_text(m->problems.v[i].file), "message",
							  sc_json_text(m->problems.v[i].message)));
	return json_pack("{s:o,s:o,s:s,s:s,s:o,s:o,s:s,s:o,s:I,s:I,s:I,s:I,s:o,s:o,s:o}",
			 "path", sc_json_text(m->rel),
			 "name", sc_json_text(m->name),
			 "format", sc_format_name(m->format),
			 "quant_method", sc_quant_method_name(m->quant_method),
			 "gguf_type", sc_json_text(m->gguf_type),
			 "kv_cache_dtype", sc_json_text(sc_kv_dtype_name(m->kv)),
			 "status", sc_status_name(m->status),
			 "problems", problems ? problems : json_array(),
			 "apparent_bytes", (json_int_t)m->apparent_bytes,
			 "disk_bytes", (json_int_t)m->disk_bytes,
			 "weight_files", (json_int_t)m->n_weights,
			 "tensors", (json_int_t)m->tensors,
			 "params", m->params_known ? json_integer((json_int_t)m->params.total) : json_null(),
			 "architecture", sc_json_text(m->architecture),
			 "engines", sc_model_engines_json(m, reg));
}
