/* sparkctl inspect: one model in depth; its tensors with --tensors. */
#include "common.h"
#include "table.h"
#include "../lib/base/json.h"

#include <errno.h>
#include "../lib/base/text.h"
#include "../lib/ops/inspect.h"
#include "../lib/engine/sysmem.h"
#include "../lib/base/util.h"

#include <inttypes.h>
#include <jansson.h>

enum { OPT_CONTEXT = 'c', OPT_ENGINE = 'e', OPT_TENSORS = 't', OPT_JSON = 256, OPT_NODES };

static const struct sc_option options[] = {
	{ "context", OPT_CONTEXT, required_argument, "N", "the context length in tokens (default: the model's maximum)", "word" },
	{ "engine", OPT_ENGINE, required_argument, "E", "show the flags of this engine only", "engine" },
	{ "tensors", OPT_TENSORS, no_argument, NULL, "list every tensor: name, dtype, shape, bytes, file", NULL },
	{ "json", OPT_JSON, no_argument, NULL, "print JSON (with --tensors: one object a line)", NULL },
	{ "nodes", OPT_NODES, required_argument, "N",
	  "each node's share over N nodes (default: the model's nodes in models.ini)", "word" },
	{ 0 },
};

struct opts {
	long context, nodes;
	const char *engine;
	bool tensors, json;
};

static int set(void *ud, int id, const char *arg)
{
	struct opts *o = ud;
	switch (id) {
	case OPT_CONTEXT:
		return cli_number("context", arg, 1, SC_MAX_CONTEXT, &o->context);
	case OPT_ENGINE: o->engine = arg; break;
	case OPT_NODES:
		return cli_number("nodes", arg, 1, 64, &o->nodes);
	case OPT_TENSORS: o->tensors = true; break;
	case OPT_JSON: o->json = true; break;
	}
	return 0;
}

/* "8.03 B", "512.3 M" */
static void fmt_count(uint64_t n, char *buf, size_t len)
{
	if (n >= 1000000000ULL)
		snprintf(buf, len, "%.2f B", (double)n / 1e9);
	else if (n >= 1000000ULL)
		snprintf(buf, len, "%.1f M", (double)n / 1e6);
	else
		snprintf(buf, len, "%" PRIu64, n);
}

static void num(FILE *f, const char *label, int64_t v)
{
	if (v >= 0)
		fprintf(f, "  %-26s %" PRId64 "\n", label, v);
	else
		fprintf(f, "  %-26s -\n", label);
}

/* Over n nodes each holds 1/n of weights, KV cache and overhead (tensor
 * and pipeline parallelism split all three): what its memory must hold. */
static uint64_t node_share(const struct sc_inspection *x, long nodes)
{
	return nodes > 1 ? x->memory.total_bytes / (uint64_t)nodes : x->memory.total_bytes;
}

static long nodes_of(const struct sc_inspection *x, long asked)
{
	return asked ? asked : x->entry && x->entry->n_nodes ? (long)x->entry->n_nodes : 1;
}

static void human(FILE *f, const struct sc_inspection *x, long nodes)
{
	const struct sc_model *m = &x->model;
	const struct hf_config *c = &x->config;
	const struct sc_memory *mem = &x->memory;
	char a[32], b[32], d[32];
	fprintf(f, "%s\n", cli_safe(m->name ? m->name : m->rel));
	fprintf(f, "  %-26s %s\n", "path", cli_safe(m->single_file ? m->single_file : m->dir));
	fprintf(f, "  %-26s %s\n", "status", sc_status_name(m->status));
	/* "gguf (gguf)" says nothing twice: the method only where it adds */
	bool same = streq(sc_format_name(m->format), sc_quant_method_name(m->quant_method));
	fprintf(f, "  %-26s %s%s%s%s%s%s%s%s\n", "format", sc_format_name(m->format), same ? "" : " (",
		same ? "" : sc_quant_method_name(m->quant_method), same ? "" : ")", m->gguf_type ? ", " : "",
		m->gguf_type ? m->gguf_type : "", m->kv ? ", KV cache " : "", m->kv ? sc_kv_dtype_name(m->kv) : "");
	fprintf(f, "  %-26s %s\n", "architecture", cli_safe(m->architecture));
	sc_format_bytes(m->apparent_bytes, a, sizeof a);
	sc_format_bytes(m->disk_bytes, d, sizeof d);
	fprintf(f, "  %-26s %zu weight file%s, %" PRIu64 " tensor%s, %s", "files", m->n_weights, m->n_weights == 1 ? "" : "s",
		m->tensors, m->tensors == 1 ? "" : "s", a);
	/* a sparse file (the demo tree) or one still being written holds
	 * less on disk than its size: say so, and why it matters not */
	if (m->disk_bytes < m->apparent_bytes / 2)
		fprintf(f, " (sparse: %s on disk)", d);
	fputc('\n', f);
	if (m->params_known) {
		fmt_count(m->params.total, a, sizeof a);
		fprintf(f, "  %-26s %s (%" PRIu64 ")", "params", a, m->params.total);
		if (x->active_known) {
			fmt_count(x->active_params, b, sizeof b);
			fprintf(f, ", %s active per token", b);
		}
		fputc('\n', f);
	} else
		fprintf(f, "  %-26s unknown (not every weight file could be read)\n", "params");

	fputs("\nconfig\n", f);
	if (!x->have_config)
		fputs("  no config.json\n", f);
	else {
		fprintf(f, "  %-26s %s\n", "model_type", cli_safe(c->model_type));
		num(f, "layers", c->num_layers);
		num(f, "hidden size", c->hidden_size);
		num(f, "attention heads", c->num_attention_heads);
		num(f, "KV heads", c->num_kv_heads);
		num(f, "head_dim", c->head_dim);
		num(f, "vocab size", c->vocab_size);
		num(f, "max position embeddings", c->max_position_embeddings);
		fprintf(f, "  %-26s %s\n", "rope scaling", cli_safe(c->rope_scaling));
		if (c->sliding_window > 0)
			fprintf(f, "  %-26s %" PRId64 " tokens, on %s layers\n", "sliding window", c->sliding_window,
				c->sliding_layers >= 0 ? (snprintf(d, sizeof d, "%" PRId64, c->sliding_layers), d) : "unknown");
		else
			fprintf(f, "  %-26s -\n", "sliding window");
		if (c->num_experts > 0)
			fprintf(f, "  %-26s %" PRId64 " experts, %" PRId64 " per token\n", "mixture of experts", c->num_experts,
				c->experts_per_token);
		else
			fprintf(f, "  %-26s -\n", "mixture of experts");
		fprintf(f, "  %-26s %s\n", "tied embeddings",
			c->tie_word_embeddings < 0 ? "-" : c->tie_word_embeddings ? "yes" : "no");
	}

	fputs("\ndtypes\n", f);
	struct sc_dtype_row rows[64];
	size_t n = sc_inspection_dtypes(x, rows, 64);
	fprintf(f, "  %-12s %10s %12s %16s\n", "DTYPE", "TENSORS", "BYTES", "PARAMS");
	for (size_t i = 0; i < n; i++) {
		sc_format_bytes(rows[i].bytes, a, sizeof a);
		fprintf(f, "  %-12s %10" PRIu64 " %12s %16" PRIu64 "\n", rows[i].name, rows[i].tensors, a, rows[i].params);
	}

	fprintf(f, "\nmemory%s%s%s\n", x->memory_engine ? " (as " : "", x->memory_engine ? cli_safe(x->memory_engine) : "",
		x->memory_engine ? " runs it)" : "");
	sc_format_bytes(mem->weights_bytes, a, sizeof a);
	fprintf(f, "  %-26s %s (%" PRIu64 " bytes)\n", "weights", a, mem->weights_bytes);
	if (mem->kv_known) {
		sc_format_bytes(mem->kv_bytes, a, sizeof a);
		sc_format_bytes(mem->kv_bytes_per_token, b, sizeof b);
		fprintf(f, "  %-26s %s at %" PRIu64 " tokens (%s per token, %s)\n", "KV cache", a, mem->context, b, mem->kv_dtype);
		if (mem->kv_fixed_bytes) {
			sc_format_bytes(mem->kv_fixed_bytes, a, sizeof a);
			fprintf(f, "  %-26s %s held by the sliding-window layers whatever the context\n", "", a);
		}
		sc_format_bytes(mem->overhead_bytes, a, sizeof a);
		fprintf(f, "  %-26s %s (activations, CUDA graphs: overhead in models.ini)\n", "overhead", a);
		sc_format_bytes(mem->total_bytes, a, sizeof a);
		sc_format_bytes(mem->budget_bytes, b, sizeof b);
		fprintf(f, "  %-26s %s of a %s budget: %s\n", "total", a, b, mem->fits ? "fits" : "DOES NOT FIT");
		if (nodes > 1) {
			sc_format_bytes(node_share(x, nodes), a, sizeof a);
			fprintf(f, "  %-26s %s on each of %ld nodes: %s\n", "per node", a, nodes,
				node_share(x, nodes) <= mem->budget_bytes ? "fits" : "DOES NOT FIT");
		}
		fprintf(f, "  %-26s %" PRIu64 " tokens\n", "longest context that fits", mem->max_context);
	} else
		fprintf(f, "  %-26s unknown (the config lacks layers, heads or head_dim)\n", "KV cache");

	fputs("\nengines\n", f);
	if (!x->n_engines)
		fputs("  none in the registry\n", f);
	int ew = 8;
	for (size_t i = 0; i < x->n_engines; i++)
		ew = (int)strlen(x->engines[i].engine) > ew ? (int)strlen(x->engines[i].engine) : ew;
	for (size_t i = 0; i < x->n_engines; i++) {
		const struct sc_engine_flags *en = &x->engines[i];
		const struct sc_plan *p = &en->plan;
		fprintf(f, "  %-*s  %s\n", ew, cli_safe(en->engine),
			en->args ? (en->args[0] ? en->args : "(no flags needed)") : en->reason);
		if (en->reason)
			continue;
		char kv[32] = "?", need[32], budget[32], maxc[64] = "unknown";
		if (p->kv.known)
			sc_format_bytes(p->kv.per_token, kv, sizeof kv);
		sc_format_bytes(p->need, need, sizeof need);
		sc_format_bytes(p->budget, budget, sizeof budget);
		if (p->engine_max)
			snprintf(maxc, sizeof maxc, "%" PRIu64 " (%s)", p->engine_max, p->engine_max_key);
		fprintf(f, "  %-*s  KV %s/token %s; context %" PRIu64 ", at most %s; needs %s of %s (%s): %s\n", ew, "", kv,
			p->kv_dtype, p->context, maxc, need, budget, p->budget_basis, p->fits ? "fits" : "DOES NOT FIT");
		for (size_t k = 0; k < p->n_notes; k++)
			fprintf(f, "  %-*s  note: %s\n", ew, "", cli_safe(p->notes[k]));
	}
	if (m->problems.n) {
		fputs("\nproblems\n", f);
		for (size_t i = 0; i < m->problems.n; i++) {
			const struct sc_problem *p = &m->problems.v[i];
			fprintf(f, "  %-16s %s%s%s\n", p->code, p->file ? cli_safe(p->file) : "", p->file ? ": " : "",
				cli_safe(p->message));
		}
	}
}

struct tensor_out {
	FILE *f;
	bool json;
};

static int print_tensor(void *ud, const struct sc_tensor_row *t)
{
	struct tensor_out *o = ud;
	char shape[256];
	size_t n = 0;
	shape[0] = '\0';
	for (unsigned i = 0; i < t->ndim && n < sizeof shape - 24; i++)
		n += (size_t)snprintf(shape + n, sizeof shape - n, "%s%" PRIu64, i ? (o->json ? "," : ", ") : "", t->dims[i]);
	if (o->json) {
		json_t *j = json_pack("{s:o,s:s,s:o,s:I,s:o}", "name", sc_json_text(t->name), "dtype", t->dtype, "shape",
				      json_null(), "bytes", (json_int_t)t->bytes, "file", sc_json_text(t->file));
		json_t *dims = json_array();
		for (unsigned i = 0; dims && i < t->ndim; i++)
			json_array_append_new(dims, json_integer((json_int_t)t->dims[i]));
		if (!j || !dims) {
			json_decref(j);
			json_decref(dims);
			return -ENOMEM;
		}
		json_object_set_new(j, "shape", dims);
		json_dumpf(j, o->f, JSON_COMPACT | JSON_PRESERVE_ORDER);
		fputc('\n', o->f);
		json_decref(j);
	} else
		fprintf(o->f, "%s\t%s\t[%s]\t%" PRIu64 "\t%s\n", cli_safe(t->name), t->dtype, shape, t->bytes, cli_safe(t->file));
	/* a reader that went away (| head) ends the walk quietly */
	return ferror(o->f) ? (errno == EPIPE ? -EPIPE : -EIO) : 0;
}

static int run(void *opts, int argc, char **argv, struct sc_ctx *ctx)
{
	struct opts *o = opts;
	int r;
	struct registry *reg = &ctx->reg;
	struct sc_inspect_opts io = { .context = (uint64_t)o->context, .engine = o->engine };
	sc_err e;
	if (sc_meminfo(&io.mem_total, &io.mem_avail, &e) < 0)
		cli_warn("%s; set memory in models.ini", e.msg);
	struct sc_inspection x;
	if (sc_inspect(argv[0], reg, &io, &x, &e) < 0) {
		return cli_fail(1, "inspect: %s", e.msg);
	}
	r = 0;
	if (o->tensors) {
		struct tensor_out to = { stdout, o->json };
		if (!o->json)
			printf("NAME\tDTYPE\tSHAPE\tBYTES\tFILE\n");
		int k = sc_model_foreach_tensor(&x.model, print_tensor, &to, &e);
		if (k == -EPIPE)
			r = CLI_EXIT_PIPE;
		else if (k < 0)
			r = cli_fail(1, "inspect: %s", e.msg);
	} else if (o->json) {
		json_t *j = sc_inspection_to_json(&x, reg);
		long n = nodes_of(&x, o->nodes);
		if (j && n > 1 && x.memory.kv_known)
			json_object_set_new(j, "per_node", json_pack("{s:i,s:I,s:b}", "nodes", (int)n, "bytes",
								     (json_int_t)node_share(&x, n), "fits",
								     node_share(&x, n) <= x.memory.budget_bytes));
		if (!j)
			r = cli_fail(1, "inspect: out of memory");
		else {
			json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
			putchar('\n');
			json_decref(j);
		}
	} else {
		/* on a terminal every line fits its width (cut with "…");
		 * piped, the values stay whole */
		size_t width = table_width();
		char *text = NULL;
		size_t len = 0;
		FILE *mf = width ? open_memstream(&text, &len) : NULL;
		human(mf ? mf : stdout, &x, nodes_of(&x, o->nodes));
		if (mf) {
			fclose(mf);
			for (char *line = text, *nl; line && *line; line = nl ? nl + 1 : NULL) {
				nl = strchr(line, '\n');
				size_t n = nl ? (size_t)(nl - line) : strlen(line), cols = 0, keep = 0;
				for (size_t i = 0; i < n; i++)
					cols += ((unsigned char)line[i] & 0xc0) != 0x80;
				if (cols <= width) {
					printf("%.*s\n", (int)n, line);
					continue;
				}
				/* width - 1 characters, then the ellipsis */
				for (size_t c2 = 0; keep < n && c2 < width - 1; c2++)
					for (keep++; keep < n && ((unsigned char)line[keep] & 0xc0) == 0x80; keep++)
						;
				printf("%.*s…\n", (int)keep, line);
			}
			free(text);
		}
	}
	if (!r && x.model.status != ST_OK) {
		fflush(stdout);
		r = cli_fail(1, "inspect: %s is %s: %s", x.model.rel, sc_status_name(x.model.status),
			     x.model.problems.n ? x.model.problems.v[0].message : "see above");
	}
	sc_inspection_done(&x);
	return r;
}

const struct sc_command cmd_inspect = {
	.name = "inspect",
	.summary = "One model in depth: parameters, memory fit, the flags to serve it",
	.usage = "inspect [--json] [--context N] [--tensors] [--engine E] NAME|PATH",
	.options = options,
	.operands = "model file",
	.run = run,
	.set = set,
	.opts_size = sizeof(struct opts),
	.min_args = 1,
	.max_args = 1,
	.args_help = "name one model (NAME or PATH)",
	.flags = CMD_REGISTRY,
};
