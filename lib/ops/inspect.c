#include "inspect.h"
#include "../base/json.h"
#include "../base/text.h"
#include "../format/dtype.h"
#include "../engine/engine.h"
#include "../format/estimate.h"
#include "model_json.h"
#include "scan.h"
#include "../base/util.h"

#include <sys/stat.h>

/* "did you mean": registry names close to the target. */
static int not_found(const char *target, const struct registry *reg, sc_err *e)
{
	char list[384];
	if (sc_registry_suggest(reg, target, list, sizeof list))
		return sc_error(e, SC_ENOTFOUND, "%s: not a registered model nor a path; did you mean: %s?", target, list);
	return sc_error(e, SC_ENOTFOUND, "%s: not a registered model nor a path (see 'sparkctl scan' for the folders)",
			target);
}

static int load_target(const char *target, const struct registry *reg, struct sc_inspection *x, sc_err *e)
{
	const struct reg_model *rm = sc_registry_model(reg, target);
	struct stat st;
	if (rm) {
		_cleanup_free_ char *dir = sc_registry_model_dir(reg, rm);
		if (!dir)
			return sc_error(e, -ENOMEM, "out of memory");
		if (stat(dir, &st) < 0)
			return sc_error(e, -errno, "%s: its %s %s: %s", target, rm->file ? "file" : "folder", dir, strerror(errno));
		x->entry = rm;
		/* path (or file) may name one checkpoint file */
		int r = S_ISDIR(st.st_mode) ? sc_model_load(dir, rm->path, &x->model, e) : sc_model_load_file(dir, &x->model, e);
		if (r >= 0 && !(x->model.name = strdup(rm->name)))
			return sc_error(e, -ENOMEM, "out of memory");
		return r;
	}
	if (stat(target, &st) < 0)
		return not_found(target, reg, e);
	int r = S_ISDIR(st.st_mode) ? sc_model_load(target, target, &x->model, e) : sc_model_load_file(target, &x->model, e);
	if (r < 0)
		return r;
	const char *name = sc_registry_name_for_dir(reg, x->model.single_file ? x->model.dir : target);
	if (name) {
		x->entry = sc_registry_model(reg, name);
		if (!x->model.single_file && !(x->model.name = strdup(name)))
			return sc_error(e, -ENOMEM, "out of memory");
	}
	return 0;
}

static int load_config(struct sc_inspection *x)
{
	struct sc_model *m = &x->model;
	if (m->gguf) {
		int r = sc_hf_config_from_gguf(m->gguf, &x->config);
		x->have_config = r >= 0;
		return r;
	}
	if (!m->has_config)
		return 0;
	/* the model kept its own copy; take the facts over */
	x->config = m->config;
	memset(&m->config, 0, sizeof m->config);
	x->have_config = true;
	return 0;
}

/* The memory section: the plan of the engine the model is served with. */
static void memory_of(struct sc_inspection *x, const struct sc_plan *p)
{
	struct sc_memory *mem = &x->memory;
	snprintf(mem->kv_dtype, sizeof mem->kv_dtype, "%s", p->kv_dtype);
	mem->weights_bytes = p->weights;
	mem->overhead_bytes = p->overhead;
	mem->budget_bytes = p->budget;
	mem->context = p->context;
	mem->kv_known = p->kv.known && p->context > 0;
	mem->kv_bytes_per_token = p->kv.per_token;
	mem->kv_fixed_bytes = sc_kv_fixed_bytes(&p->kv);
	mem->kv_bytes = p->kv_bytes;
	mem->total_bytes = p->need;
	mem->fits = p->fits;
	mem->max_context = p->max_context_fit;
}

static char *joined(char **v, size_t n)
{
	size_t len = 1;
	for (size_t i = 0; i < n; i++)
		len += strlen(v[i]) + 1;
	char *s = malloc(len), *o = s;
	if (!s)
		return NULL;
	*o = '\0';
	for (size_t i = 0; i < n; i++)
		o += sprintf(o, "%s%s", i ? " " : "", v[i]);
	return s;
}

static int engine_plans(struct sc_inspection *x, const struct registry *reg, const struct sc_inspect_opts *o, sc_err *e)
{
	if (!(x->engines = calloc(reg->n_engines ? reg->n_engines : 1, sizeof *x->engines)))
		return sc_error(e, -ENOMEM, "out of memory");
	const char *want = x->entry && x->entry->engine ? x->entry->engine : o->engine ? o->engine : reg->engine;
	struct sc_plan_in in = { .reg = reg, .entry = x->entry, .m = &x->model, .c = x->have_config ? &x->config : NULL,
				 .context = o->context, .mem_total = o->mem_total, .mem_avail = o->mem_avail };
	const struct sc_plan *mem = NULL;
	for (size_t i = 0; i < reg->n_engines; i++) {
		const struct reg_engine *en = &reg->engines[i];
		if (o->engine && !streq(o->engine, en->name))
			continue;
		struct sc_engine_flags *f = &x->engines[x->n_engines++];
		f->engine = en->name;
		in.en = en;
		int r = sc_plan_make(&in, &f->plan, e);
		if (r < 0)
			return r;
		f->reason = f->plan.reason;
		if (!f->reason && !(f->args = joined(f->plan.flags, f->plan.n_flags)))
			return sc_error(e, -ENOMEM, "out of memory");
		if (!mem || (want && streq(want, en->name)))
			mem = &f->plan;
	}
	if (mem) {
		memory_of(x, mem);
		x->memory_engine = mem->engine;
	} else {
		/* no engine in the registry: weights alone, the budget of any */
		static const struct reg_engine none = { .name = (char *)"" };
		struct sc_plan p;
		in.en = &none;
		int r = sc_plan_make(&in, &p, e);
		if (r < 0)
			return r;
		memory_of(x, &p);
		sc_plan_done(&p);
	}
	return 0;
}

int sc_inspect(const char *target, const struct registry *reg, const struct sc_inspect_opts *o,
	       struct sc_inspection *ret, sc_err *e)
{
	*ret = (struct sc_inspection){ 0 };
	struct sc_inspection x = { 0 };
	int r;
	if (o->engine && !sc_registry_engine(reg, o->engine))
		return sc_error(e, SC_ENOTFOUND, "no engine \"%s\" in the registry", o->engine);
	if ((r = load_target(target, reg, &x, e)) < 0)
		goto fail;
	if (load_config(&x) < 0) {
		r = sc_error(e, -ENOMEM, "out of memory");
		goto fail;
	}
	const struct hf_config *c = &x.config;
	const struct param_count *p = &x.model.params;
	if (c->num_experts > 0 && c->experts_per_token > 0 && x.model.params_known) {
		x.active_params = p->total - p->expert + p->expert * (uint64_t)c->experts_per_token / (uint64_t)c->num_experts;
		x.active_known = true;
	}
	if ((r = engine_plans(&x, reg, o, e)) < 0)
		goto fail;
	*ret = x;
	return 0;
fail:
	sc_inspection_done(&x);
	return r;
}

void sc_inspection_done(struct sc_inspection *x)
{
	if (!x)
		return;
	sc_model_done(&x->model);
	sc_hf_config_done(&x->config);
	for (size_t i = 0; i < x->n_engines; i++) {
		free(x->engines[i].args);
		sc_plan_done(&x->engines[i].plan);
	}
	free(x->engines);
	memset(x, 0, sizeof *x);
}

size_t sc_inspection_dtypes(const struct sc_inspection *x, struct sc_dtype_row *rows, size_t max)
{
	const struct tstats *s = x->model.stats;
	size_t n = 0;
	for (int d = 0; d < ST_DTYPE_COUNT && n < max; d++)
		if (s->dtype_tensors[d])
			rows[n++] = (struct sc_dtype_row){ sc_st_dtype_name((enum st_dtype)d), s->dtype_tensors[d],
							   s->dtype_bytes[d], x->model.params.by_dtype[d] };
	for (uint32_t t = 0; t < GGML_TYPE_COUNT && n < max; t++)
		if (s->ggml_tensors[t])
			rows[n++] = (struct sc_dtype_row){ sc_ggml_type_name(t), s->ggml_tensors[t], s->ggml_bytes[t],
							   s->ggml_elems[t] };
	return n;
}

static json_t *int_or_null(int64_t v)
{
	return v >= 0 ? json_integer(v) : json_null();
}

static json_t *strv_json(char **v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, sc_json_text(v[i]));
	return a ? a : json_null();
}

/* One engine's plan: its flags, what the estimate assumed, and why. */
static json_t *plan_json(const struct sc_plan *p)
{
	if (p->reason)
		return json_pack("{s:o}", "reason", sc_json_text(p->reason));
	return json_pack("{s:o,s:I,s:o,s:o,s:f,s:s,s:o,s:I,s:I,s:I,s:I,s:s,s:o,s:b,s:I,s:o}", "flags",
			 strv_json(p->flags, p->n_flags), "context", (json_int_t)p->context, "max_context",
			 p->engine_max ? json_integer((json_int_t)p->engine_max) : json_null(), "max_context_key",
			 p->engine_max_key ? json_string(p->engine_max_key) : json_null(), "fraction", p->fraction, "kv_dtype",
			 p->kv_dtype, "kv_bytes_per_token", p->kv.known ? json_integer((json_int_t)p->kv.per_token) : json_null(),
			 "kv_bytes", (json_int_t)p->kv_bytes, "overhead_bytes", (json_int_t)p->overhead, "need_bytes",
			 (json_int_t)p->need, "budget_bytes", (json_int_t)p->budget, "budget_basis", p->budget_basis,
			 "start_free_bytes", p->start_free ? json_integer((json_int_t)p->start_free) : json_null(), "fits",
			 p->fits, "max_context_fit", (json_int_t)p->max_context_fit, "notes", strv_json(p->notes, p->n_notes));
}

json_t *sc_inspection_to_json(const struct sc_inspection *x, const struct registry *reg)
{
	const struct hf_config *c = &x->config;
	const struct sc_memory *m = &x->memory;
	json_t *o = sc_model_to_json(&x->model, reg);
	if (!o)
		return NULL;
	json_t *config = json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}",
				   "architecture", sc_json_text(c->architecture),
				   "model_type", sc_json_text(c->model_type),
				   "num_layers", int_or_null(c->num_layers),
				   "hidden_size", int_or_null(c->hidden_size),
				   "num_attention_heads", int_or_null(c->num_attention_heads),
				   "num_kv_heads", int_or_null(c->num_kv_heads),
				   "head_dim", int_or_null(c->head_dim),
				   "vocab_size", int_or_null(c->vocab_size),
				   "max_position_embeddings", int_or_null(c->max_position_embeddings),
				   "sliding_window", int_or_null(c->sliding_window),
				   "num_experts", int_or_null(c->num_experts),
				   "experts_per_token", int_or_null(c->experts_per_token),
				   "tie_word_embeddings", c->tie_word_embeddings < 0 ? json_null() : json_boolean(c->tie_word_embeddings),
				   "rope_scaling", c->rope_scaling ? json_loads(c->rope_scaling, 0, NULL) : json_null());
	json_t *dtypes = json_object();
	struct sc_dtype_row rows[ST_DTYPE_COUNT + GGML_TYPE_COUNT];
	size_t n = sc_inspection_dtypes(x, rows, ARRAY_SIZE(rows));
	for (size_t i = 0; dtypes && i < n; i++)
		json_object_set_new(dtypes, rows[i].name,
				    json_pack("{s:I,s:I,s:I}", "tensors", (json_int_t)rows[i].tensors, "bytes",
					      (json_int_t)rows[i].bytes, "params", (json_int_t)rows[i].params));
	json_t *memory = json_pack("{s:I,s:o,s:I,s:s,s:o,s:o,s:I,s:o,s:I,s:b,s:o,s:o}",
				   "weights_bytes", (json_int_t)m->weights_bytes,
				   "kv_bytes_per_token", m->kv_known ? json_integer((json_int_t)m->kv_bytes_per_token) : json_null(),
				   "kv_fixed_bytes", (json_int_t)m->kv_fixed_bytes,
				   "kv_dtype", m->kv_dtype,
				   "context", m->context ? json_integer((json_int_t)m->context) : json_null(),
				   "kv_bytes", m->kv_known ? json_integer((json_int_t)m->kv_bytes) : json_null(),
				   "overhead_bytes", (json_int_t)m->overhead_bytes,
				   "total_bytes", m->kv_known ? json_integer((json_int_t)m->total_bytes) : json_null(),
				   "budget_bytes", (json_int_t)m->budget_bytes,
				   "fits", m->fits,
				   "max_context", m->kv_known || m->max_context ? json_integer((json_int_t)m->max_context) : json_null(),
				   "engine", x->memory_engine ? sc_json_text(x->memory_engine) : json_null());
	json_t *args = json_object(), *reasons = json_object(), *plans = json_object();
	for (size_t i = 0; args && reasons && plans && i < x->n_engines; i++) {
		const struct sc_engine_flags *f = &x->engines[i];
		json_object_set_new(args, f->engine, sc_json_text(f->args));
		json_object_set_new(reasons, f->engine, sc_json_text(f->reason));
		json_object_set_new(plans, f->engine, plan_json(&f->plan));
	}
	if (!config || !dtypes || !memory || !args || !reasons || !plans) {
		json_decref(plans);
		json_decref(o);
		json_decref(config);
		json_decref(dtypes);
		json_decref(memory);
		json_decref(args);
		json_decref(reasons);
		return NULL;
	}
	json_object_set_new(o, "config", config);
	json_object_set_new(o, "dtypes", dtypes);
	json_object_set_new(o, "params", x->model.params_known ? json_integer((json_int_t)x->model.params.total) : json_null());
	json_object_set_new(o, "active_params", x->active_known ? json_integer((json_int_t)x->active_params) : json_null());
	json_object_set_new(o, "memory", memory);
	json_object_set_new(o, "engine_args", args);
	json_object_set_new(o, "engine_reasons", reasons);
	json_object_set_new(o, "engines", plans);
	return o;
}
