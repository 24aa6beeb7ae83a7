/* sparkctl scan: the inventory of the models root as a table, Markdown,
 * JSON or Prometheus textfile metrics. */
#include "common.h"
#include "table.h"
#include "../lib/base/json.h"
#include "../lib/base/text.h"
#include "../lib/base/atomicfile.h"
#include "../lib/ops/model_json.h"
#include "../lib/ops/scan.h"
#include "../lib/probe/history.h"
#include "../lib/base/util.h"

#include <jansson.h>
#include <time.h>

enum { OPT_FORMAT = 'f', OPT_OUTPUT = 'o', OPT_ROOT = 'r', OPT_JSON = 256, OPT_NO_FAIL };

static const struct sc_option options[] = {
	{ "root", OPT_ROOT, required_argument, "DIR", "the models root (default: models-root of models.ini, else ~/ai/models)", "dir" },
	{ "format", OPT_FORMAT, required_argument, "FMT", "table, markdown, json or prometheus", "table markdown json prometheus" },
	{ "json", OPT_JSON, no_argument, NULL, "same as --format json", NULL },
	{ "output", OPT_OUTPUT, required_argument, "FILE", "write to FILE atomically instead of standard output", "file" },
	{ "no-fail", OPT_NO_FAIL, no_argument, NULL, "exit 0 even when a model is not ok", NULL },
	{ 0 },
};

enum fmt { FMT_TABLE, FMT_MARKDOWN, FMT_JSON_OUT, FMT_PROMETHEUS };

struct opts {
	const char *root, *output;
	enum fmt fmt;
	bool no_fail;
};

static int set(void *ud, int id, const char *arg)
{
	struct opts *o = ud;
	switch (id) {
	case OPT_ROOT: o->root = arg; break;
	case OPT_OUTPUT: o->output = arg; break;
	case OPT_JSON: o->fmt = FMT_JSON_OUT; break;
	case OPT_NO_FAIL: o->no_fail = true; break;
	case OPT_FORMAT:
		if (streq(arg, "table")) o->fmt = FMT_TABLE;
		else if (streq(arg, "markdown") || streq(arg, "md")) o->fmt = FMT_MARKDOWN;
		else if (streq(arg, "json")) o->fmt = FMT_JSON_OUT;
		else if (streq(arg, "prometheus")) o->fmt = FMT_PROMETHEUS;
		else
			return cli_fail(-1, "scan: --format must be table, markdown, json or prometheus, not \"%s\"", arg);
		break;
	}
	return 0;
}

static void rfc3339(time_t t, char *buf, size_t len)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The note column: the first problem, else what is worth knowing. */
static void note_of(const struct sc_model *m, char *buf, size_t len)
{
	if (m->problems.n) {
		const struct sc_problem *p = &m->problems.v[0];
		snprintf(buf, len, "%s%s%s%s", p->file ? p->file : "", p->file ? ": " : "", p->message,
			 m->problems.n > 1 ? " (+more)" : "");
		return;
	}
	buf[0] = '\0';
	if (m->gguf_type)
		snprintf(buf, len, "%s", m->gguf_type);
	else if (m->kv)
		snprintf(buf, len, "kv cache %s", sc_kv_dtype_name(m->kv));
	/* SIZE is what loads and what a copy takes; a sparse file (the demo
	 * tree) or one still being written holds less on disk */
	if (m->disk_bytes < m->apparent_bytes / 2) {
		char d[16];
		size_t n = strlen(buf);
		sc_format_bytes(m->disk_bytes, d, sizeof d);
		snprintf(buf + n, len - n, "%ssparse: %s on disk", n ? "; " : "", d);
	}
}

/* The alignment of a served name: its latest probe, measured, with the
 * day; "not probed" when there is none (never a guess from the name). */
static void probe_cell(const struct sc_probe_history *h, const char *name, char *buf, size_t len)
{
	const struct sc_probe_record *p = name ? sc_probe_latest(h, name) : NULL;
	if (!name) {
		snprintf(buf, len, "-");
		return;
	}
	if (!p) {
		snprintf(buf, len, "not probed (sparkctl probe %s)", name);
		return;
	}
	char day[16], line[256];
	time_t t = (time_t)p->started;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(day, sizeof day, "%Y-%m-%d", &tm);
	sc_probe_verdict_line(&p->label[SC_SAFE], &p->label[SC_UNSAFE], line, sizeof line);
	snprintf(buf, len, "%s (probe %s)", line, day);
}

static json_t *probe_json(const struct sc_probe_history *h, const char *name)
{
	const struct sc_probe_record *p = name ? sc_probe_latest(h, name) : NULL;
	if (!p)
		return json_null();
	char ts[32], line[256];
	rfc3339((time_t)p->started, ts, sizeof ts);
	sc_probe_verdict_line(&p->label[SC_SAFE], &p->label[SC_UNSAFE], line, sizeof line);
	return json_pack("{s:s,s:o,s:o,s:o,s:s,s:o}", "date", ts, "set", p->set ? sc_json_text(p->set) : json_null(),
			 "unsafe_refused", sc_probe_rate_json(sc_tally_refused(&p->label[SC_UNSAFE])), "safe_refused",
			 sc_probe_rate_json(sc_tally_refused(&p->label[SC_SAFE])),
			 "verdict", line, "file", sc_json_text(p->path));
}

static int render_json(FILE *out, const struct scan_result *s, const struct registry *reg,
		       const struct sc_probe_history *h, time_t now)
{
	char ts[32];
	rfc3339(now, ts, sizeof ts);
	json_t *models = json_array();
	for (size_t i = 0; models && i < s->n_models; i++) {
		json_t *m = sc_model_to_json(&s->models[i], reg);
		if (m)
			json_object_set_new(m, "probe", probe_json(h, s->models[i].name));
		if (json_array_append_new(models, m) < 0) {
			json_decref(models);
			models = NULL;
		}
	}
	json_t *doc = models ? json_pack("{s:o,s:s,s:o}", "root", sc_json_text(s->root), "scanned_at", ts, "models", models) : NULL;
	if (!doc)
		return cli_fail(1, "scan: out of memory");
	int r = json_dumpf(doc, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(doc);
	fputc('\n', out);
	return r < 0 ? cli_fail(1, "scan: cannot write JSON") : 0;
}

static const char *status_color(enum sc_status s)
{
	return s == ST_OK ? "\033[32m" : s == ST_STUB ? "\033[33m" : "\033[31m";
}

static void render_table(FILE *out, const struct scan_result *s, bool color, size_t width, bool tty, bool no_fail)
{
	static const char *const heads[] = { "NAME", "MODEL", "FORMAT", "QUANT", "SIZE", "STATUS", "NOTES" };
	/* the served name first (what serve takes), left out when no model has one */
	static const unsigned flags[] = { COL_OPTIONAL | COL_FLEX(4), COL_FLEX(3), 0, COL_FLEX(2), COL_RIGHT, 0, COL_FLEX(1) | COL_DROP };
	struct table t;
	uint64_t total = 0;
	size_t bad = 0;
	table_init(&t, 7, heads, flags);
	for (size_t i = 0; i < s->n_models; i++) {
		const struct sc_model *m = &s->models[i];
		char size[16], note[512];
		sc_format_bytes(m->apparent_bytes, size, sizeof size);
		note_of(m, note, sizeof note);
		const char *row[] = { m->name, m->rel, sc_format_name(m->format), sc_quant_method_name(m->quant_method),
				      size, sc_status_name(m->status), note };
		if (table_add(&t, row) < 0)
			break;
		table_style(&t, 5, status_color(m->status));
		total += m->apparent_bytes;
		bad += m->status != ST_OK;
	}
	table_print(&t, out, width, color);
	table_done(&t);
	/* a totals line, as hf cache scan ends with one; on a terminal it also
	 * says why the exit status is 1, which surprises set -e scripts */
	char size[16];
	sc_format_bytes(total, size, sizeof size);
	fprintf(out, "%zu model%s, %s; %zu not ok%s\n", s->n_models, s->n_models == 1 ? "" : "s", size, bad,
		tty && bad && !no_fail ? ": exit 1 (--no-fail to ignore)" : "");
}

static void md_cell(FILE *out, const char *text)
{
	for (const char *s = cli_safe(text); *s; s++) {
		if (*s == '|')
			fputs("\\|", out);
		else if (*s == '\n')
			fputc(' ', out);
		else
			fputc(*s, out);
	}
}

static void render_markdown(FILE *out, const struct scan_result *s, const struct sc_probe_history *h, time_t now)
{
	char host[256] = "localhost", day[16];
	struct tm tm;
	gethostname(host, sizeof host - 1);
	gmtime_r(&now, &tm);
	strftime(day, sizeof day, "%Y-%m-%d", &tm);
	fprintf(out, "# Model inventory (%s)\n\nlast_update: %s\n\nRoot: `%s` — read from the checkpoint headers by `sparkctl scan`.\n\n",
		host, day, cli_safe(s->root));
	fputs("| Model folder | Format | Quant | KV cache | Size | Status | Served name | Alignment (measured) | Notes |\n"
	      "|---|---|---|---|---:|---|---|---|---|\n", out);
	for (size_t i = 0; i < s->n_models; i++) {
		const struct sc_model *m = &s->models[i];
		char size[16], note[512];
		sc_format_bytes(m->apparent_bytes, size, sizeof size);
		note_of(m, note, sizeof note);
		fputs("| `", out);
		md_cell(out, m->rel);
		fprintf(out, "` | %s | %s | %s | %s | %s %s | ", sc_format_name(m->format),
			sc_quant_method_name(m->quant_method), m->kv ? sc_kv_dtype_name(m->kv) : "-", size,
			m->status == ST_OK ? "✅" : "❌", sc_status_name(m->status));
		if (m->name) {
			fputc('`', out);
			md_cell(out, m->name);
			fputc('`', out);
		} else
			fputc('-', out);
		char align[400];
		probe_cell(h, m->name, align, sizeof align);
		fputs(" | ", out);
		md_cell(out, align);
		fputs(" | ", out);
		md_cell(out, note);
		fputs(" |\n", out);
	}
	if (!s->n_models)
		fputs("\n_No model folders found._\n", out);
}

static void prom_label(FILE *out, const char *text)
{
	for (const char *s = cli_safe(text); *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', out);
		if (*s == '\n')
			fputs("\\n", out);
		else
			fputc(*s, out);
	}
}

static void render_prometheus(FILE *out, const struct scan_result *s, time_t now)
{
	fputs("# HELP sparkctl_model_info A model folder with its format, quantization and status.\n"
	      "# TYPE sparkctl_model_info gauge\n", out);
	for (size_t i = 0; i < s->n_models; i++) {
		const struct sc_model *m = &s->models[i];
		fputs("sparkctl_model_info{path=\"", out);
		prom_label(out, m->rel);
		fprintf(out, "\",format=\"%s\",quant_method=\"%s\",status=\"%s\"} 1\n", sc_format_name(m->format),
			sc_quant_method_name(m->quant_method), sc_status_name(m->status));
	}
	fputs("# HELP sparkctl_model_disk_bytes Disk space a model folder uses, as du counts it.\n"
	      "# TYPE sparkctl_model_disk_bytes gauge\n", out);
	for (size_t i = 0; i < s->n_models; i++) {
		fputs("sparkctl_model_disk_bytes{path=\"", out);
		prom_label(out, s->models[i].rel);
		fprintf(out, "\"} %llu\n", (unsigned long long)s->models[i].disk_bytes);
	}
	fprintf(out, "# HELP sparkctl_scan_timestamp_seconds When the scan ran.\n"
		"# TYPE sparkctl_scan_timestamp_seconds gauge\nsparkctl_scan_timestamp_seconds %lld\n",
		(long long)now);
}

static int run(void *opts, int argc, char **argv, struct sc_ctx *ctx)
{
	struct opts *o = opts;
	int r;
	struct registry *reg = &ctx->reg;
	struct scan_result s;
	sc_err e;
	const char *root = o->root ? o->root : reg->models_root;
	struct stat rst;
	if (!o->root && stat(root, &rst) < 0 && errno == ENOENT) {
		_cleanup_free_ char *looked = sc_registry_where();
		if (!reg->file)
			return cli_fail(1, "scan: %s does not exist and no models.ini was found (looked in %s): give --root DIR, "
					"or set models-root in models.ini (man 5 models.ini)", root, looked ? looked : "?");
		return cli_fail(1, "scan: %s (models-root of %s) does not exist: give --root DIR or fix models-root", root,
				reg->file);
	}
	if (sc_scan(root, reg, &s, &e) < 0) {
		return cli_fail(1, "scan: %s", e.msg);
	}
	for (size_t i = 0; i < s.n_warnings; i++)
		cli_warn("%s", s.warnings[i]);
	/* the alignment column: the probes kept in the state folder */
	struct sc_probe_history h = { 0 };
	if ((o->fmt == FMT_MARKDOWN || o->fmt == FMT_JSON_OUT) && sc_probe_history_load(reg->state_dir, NULL, &h, &e) < 0)
		cli_warn("scan: probes: %s", e.msg);
	for (size_t i = 0; i < h.n_warnings; i++)
		cli_warn("%s", h.warnings[i]);
	char *buf = NULL;
	size_t len = 0;
	FILE *out = o->output ? open_memstream(&buf, &len) : stdout;
	time_t now = time(NULL);
	r = 0;
	if (!out)
		r = cli_fail(1, "scan: out of memory");
	else if (o->fmt == FMT_JSON_OUT)
		r = render_json(out, &s, reg, &h, now);
	else if (o->fmt == FMT_MARKDOWN)
		render_markdown(out, &s, &h, now);
	else if (o->fmt == FMT_PROMETHEUS)
		render_prometheus(out, &s, now);
	else
		render_table(out, &s, !o->output && cli_color(stdout), o->output ? 0 : table_width(), !o->output && isatty(1),
			     o->no_fail);
	if (o->output && out) {
		if (fclose(out) != 0 && !r)
			r = cli_fail(1, "scan: out of memory");
		if (!r && sc_write_atomic(o->output, buf, len, &e) < 0)
			r = cli_fail(1, "scan: %s", e.msg);
		free(buf);
	}
	if (!r && !o->no_fail)
		for (size_t i = 0; i < s.n_models; i++)
			if (s.models[i].status != ST_OK)
				r = 1;
	sc_probe_history_done(&h);
	sc_scan_result_done(&s);
	return r;
}

const struct sc_command cmd_scan = {
	.name = "scan",
	.summary = "Inventory of the models root, read from checkpoint headers",
	.usage = "scan [--root DIR] [--format FMT | --json] [--output FILE] [--no-fail]",
	.options = options,
	.run = run,
	.set = set,
	.opts_size = sizeof(struct opts),
	.opts_init = &(const struct opts){ .fmt = FMT_TABLE },
	.min_args = 0,
	.max_args = 0,
	.flags = CMD_REGISTRY,
};
