/* sparkctl probe: measure refusal and over-refusal with XSTest, so that
 * "uncensored" and "safe" are measured facts, not words in a name. */
#include "common.h"
#include "table.h"
#include "../lib/base/atomicfile.h"
#include "../lib/base/json.h"
#include "../lib/base/token.h"
#include "../lib/base/util.h"
#include "../lib/format/model.h"
#include "../lib/format/vocab.h"
#include "../lib/probe/history.h"

#include <jansson.h>
#include <sys/stat.h>
#include <time.h>

enum { OPT_URL = 'u', OPT_PROXY = 'p', OPT_SET = 's', OPT_CONCURRENCY = 'c', OPT_OUTPUT = 'o',
       OPT_TOKEN_FILE = 256, OPT_MAX_TOKENS, OPT_TIMEOUT, OPT_SYSTEM, OPT_JUDGE, OPT_HISTORY, OPT_JSON };

static const struct sc_option options[] = {
	{ "url", OPT_URL, required_argument, "BASE", "probe any OpenAI-compatible server at BASE", "word" },
	{ "proxy", OPT_PROXY, no_argument, NULL, "go through the token proxy (proxy-host, proxy-port)", NULL },
	{ "set", OPT_SET, required_argument, "SET", "the prompts: xstest (built in, the default) or a CSV file", "xstest" },
	{ "concurrency", OPT_CONCURRENCY, required_argument, "N", "requests in flight (default 8)", "word" },
	{ "max-tokens", OPT_MAX_TOKENS, required_argument, "N", "max_tokens of each answer (default 512)", "word" },
	{ "timeout", OPT_TIMEOUT, required_argument, "S", "seconds each answer may take (default 300)", "word" },
	{ "system", OPT_SYSTEM, required_argument, "TEXT", "a system prompt (default: none)", "word" },
	{ "judge", OPT_JUDGE, required_argument, "J", "rules (default) or prefix, the XSTest paper's baseline", "rules prefix" },
	{ "token-file", OPT_TOKEN_FILE, required_argument, "F", "the bearer token (default: $SPARKCTL_TOKEN, then token-file of models.ini)", "file" },
	{ "history", OPT_HISTORY, no_argument, NULL, "list the kept runs (of the names given, else all)", NULL },
	{ "json", OPT_JSON, no_argument, NULL, "print JSON: the summary and every verdict", NULL },
	{ "output", OPT_OUTPUT, required_argument, "FILE", "write the report to FILE atomically instead of standard output", "file" },
	{ 0 },
};

struct opts {
	const char *url, *set, *system, *token_file, *output;
	bool proxy, prefix, history, json;
	long concurrency, max_tokens, timeout;
};

static int set(void *ud, int id, const char *arg)
{
	struct opts *o = ud;
	switch (id) {
	case OPT_URL: o->url = arg; break;
	case OPT_PROXY: o->proxy = true; break;
	case OPT_SET: o->set = arg; break;
	case OPT_SYSTEM: o->system = arg; break;
	case OPT_TOKEN_FILE: o->token_file = arg; break;
	case OPT_OUTPUT: o->output = arg; break;
	case OPT_HISTORY: o->history = true; break;
	case OPT_JSON: o->json = true; break;
	case OPT_CONCURRENCY: return cli_number("concurrency", arg, 1, 256, &o->concurrency);
	case OPT_MAX_TOKENS: return cli_number("max-tokens", arg, 1, 1000000, &o->max_tokens);
	case OPT_TIMEOUT: return cli_number("timeout", arg, 1, 86400, &o->timeout);
	case OPT_JUDGE:
		if (!streq(arg, "rules") && !streq(arg, "prefix"))
			return cli_fail(-1, "probe: --judge must be rules or prefix, not \"%s\"", arg);
		o->prefix = streq(arg, "prefix");
		break;
	}
	return 0;
}

static void progress(void *ud, size_t done, size_t total, double ms)
{
	const char *name = ud;
	double rate = ms > 0 ? (double)done * 1000.0 / ms : 0;
	char eta[32] = "-";
	if (rate > 0 && done < total)
		sc_format_duration((int64_t)((double)(total - done) / rate + 0.5), eta, sizeof eta);
	fprintf(stderr, "\r\033[Kprobe %s: %zu/%zu, %.1f/s, ETA %s", cli_safe(name), done, total, rate,
		done < total ? eta : "0 s");
	if (done == total)
		fputc('\n', stderr);
	fflush(stderr);
}

static json_t *tally_json(const struct sc_tally *t)
{
	json_t *o = json_pack("{s:I,s:o,s:o}", "valid", (json_int_t)sc_tally_valid(t), "refusal_rate",
			      sc_probe_rate_json(sc_tally_refused(t)), "partial_rate", sc_probe_rate_json(sc_tally_partial(t)));
	if (t->type)
		json_object_set_new(o, "type", sc_json_text(t->type));
	if (t->type)
		json_object_set_new(o, "label", json_string(t->unsafe ? "unsafe" : "safe"));
	for (int v = 0; o && v < SC_VERDICT_COUNT; v++)
		json_object_set_new(o, sc_verdict_name(v), json_integer((json_int_t)t->count[v]));
	return o;
}

static json_t *run_json(const char *name, const char *base, const struct sc_probe_run *run,
			const struct sc_probe_summary *s, const char *verdict, const char *saved)
{
	json_t *types = json_array(), *answers = json_array();
	for (size_t i = 0; types && i < s->n_types; i++)
		json_array_append_new(types, tally_json(&s->types[i]));
	for (size_t i = 0; answers && i < run->n; i++) {
		const struct sc_probe_answer *a = &run->a[i];
		json_array_append_new(answers, json_pack("{s:o,s:o,s:s,s:s,s:o,s:o,s:o,s:f,s:o}", "id",
							 sc_json_text(a->prompt->id), "type", sc_json_text(a->prompt->type),
							 "label", a->prompt->unsafe ? "unsafe" : "safe", "verdict",
							 sc_verdict_name(a->judgement.verdict), "rule",
							 sc_json_text(a->judgement.rule), "answer",
							 a->answer ? sc_json_text(a->answer) : json_null(), "reasoning",
							 a->reasoning ? sc_json_text(a->reasoning) : json_null(), "ms", a->ms,
							 "error", a->error[0] ? sc_json_text(a->error) : json_null()));
	}
	return json_pack("{s:o,s:o,s:o,s:f,s:I,s:s,s:{s:o,s:o,s:I,s:o},s:o,s:o}", "name", name ? sc_json_text(name) : json_null(),
			 "model", sc_json_text(run->model), "url", sc_json_text(base), "elapsed_ms", run->elapsed_ms,
			 "max_in_flight", (json_int_t)run->max_in_flight, "verdict", verdict, "summary", "unsafe",
			 tally_json(&s->label[SC_UNSAFE]), "safe", tally_json(&s->label[SC_SAFE]), "bad",
			 (json_int_t)s->bad, "by_type", types ? types : json_array(), "saved",
			 saved ? sc_json_text(saved) : json_null(), "answers", answers ? answers : json_array());
}

static int tally_row(struct table *t, const char *what, const struct sc_tally *x)
{
	char n[16], ref[48], part[16], comp[16], bad[16];
	struct sc_rate pr = sc_tally_partial(x), cr = sc_rate_wilson(x->count[SC_COMPLIANCE], sc_tally_valid(x));
	snprintf(n, sizeof n, "%zu", sc_tally_valid(x));
	sc_probe_rate_text(sc_tally_refused(x), ref, sizeof ref);
	snprintf(part, sizeof part, "-");
	snprintf(comp, sizeof comp, "-");
	if (pr.n)
		sc_probe_percent(pr.p, part, sizeof part);
	if (cr.n)
		sc_probe_percent(cr.p, comp, sizeof comp);
	snprintf(bad, sizeof bad, "%zu", x->count[SC_BAD]);
	const char *row[] = { what, x->unsafe ? "unsafe" : "safe", n, ref, part, comp, bad };
	return table_add(t, row);
}

static void print_run(FILE *out, const char *name, const char *base, const char *set_name,
		      const struct sc_probe_run *run, const struct sc_probe_summary *s, const char *verdict,
		      const char *saved, long concurrency)
{
	static const char *const heads[] = { "PROMPTS", "LABEL", "N", "REFUSED [95% CI]", "PARTIAL", "ANSWERED", "BAD" };
	static const unsigned flags[] = { COL_FLEX(1), 0, COL_RIGHT, 0, COL_RIGHT, COL_RIGHT, COL_RIGHT };
	char secs[32];
	snprintf(secs, sizeof secs, "%.1f s", run->elapsed_ms / 1000);
	fprintf(out, "%s  %s  %s, %zu prompts in %s, %ld at a time\n", cli_safe(name ? name : run->model), cli_safe(base),
		cli_safe(set_name), run->n, secs, concurrency);
	fprintf(out, "  %s\n", verdict);
	struct table t;
	table_init(&t, 7, heads, flags);
	tally_row(&t, "all unsafe (should be refused)", &s->label[SC_UNSAFE]);
	tally_row(&t, "all safe (should be answered)", &s->label[SC_SAFE]);
	for (size_t i = 0; i < s->n_types; i++)
		tally_row(&t, s->types[i].type, &s->types[i]);
	table_print(&t, out, out == stdout ? table_width() : 0, false);
	table_done(&t);
	if (s->bad)
		fprintf(out, "  %zu bad answer%s (empty, cut, errors) are counted apart: see the run file\n", s->bad,
			s->bad == 1 ? "" : "s");
	if (saved)
		fprintf(out, "  kept: %s\n", cli_safe(saved));
}

/* The scan verdict of the model's checkpoint, for the run file. */
static const char *scan_status(const struct registry *reg, const struct reg_model *m, char **dir)
{
	struct sc_model cm;
	struct stat st;
	sc_err e;
	*dir = sc_registry_model_dir(reg, m);
	if (!*dir || stat(*dir, &st) < 0)
		return NULL;
	int r = S_ISDIR(st.st_mode) ? sc_model_load(*dir, m->name, &cm, &e) : sc_model_load_file(*dir, &cm, &e);
	const char *s = r < 0 ? NULL : sc_status_name(cm.status);
	sc_model_done(&cm);
	return s;
}

static int print_history(const struct opts *o, FILE *out, int argc, char **argv, const struct registry *reg)
{
	struct sc_probe_history h;
	sc_err e;
	if (sc_probe_history_load(reg->state_dir, argc == 1 ? argv[0] : NULL, &h, &e) < 0)
		return cli_fail(1, "probe: %s", e.msg);
	for (size_t i = 0; i < h.n_warnings; i++)
		cli_warn("%s", h.warnings[i]);
	static const char *const heads[] = { "DATE", "NAME", "SET", "JUDGE", "UNSAFE REFUSED", "SAFE REFUSED", "BAD", "FILE" };
	static const unsigned flags[] = { 0, COL_FLEX(3), COL_FLEX(2), 0, 0, 0, COL_RIGHT, COL_FLEX(1) | COL_DROP };
	json_t *arr = o->json ? json_array() : NULL;
	struct table t;
	table_init(&t, 8, heads, flags);
	for (size_t i = 0; i < h.n; i++) {
		const struct sc_probe_record *p = &h.v[i];
		bool wanted = argc == 0;
		for (int k = 0; k < argc && !wanted; k++)
			wanted = p->name && streq(p->name, argv[k]);
		if (!wanted)
			continue;
		char date[32], un[48], sa[48], bad[16];
		time_t ts = (time_t)p->started;
		struct tm tm;
		gmtime_r(&ts, &tm);
		strftime(date, sizeof date, "%Y-%m-%d %H:%M", &tm);
		sc_probe_rate_text(sc_tally_refused(&p->label[SC_UNSAFE]), un, sizeof un);
		sc_probe_rate_text(sc_tally_refused(&p->label[SC_SAFE]), sa, sizeof sa);
		snprintf(bad, sizeof bad, "%zu", p->label[0].count[SC_BAD] + p->label[1].count[SC_BAD]);
		if (arr) {
			json_array_append_new(arr, json_pack("{s:o,s:o,s:I,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "name",
							     p->name ? sc_json_text(p->name) : json_null(), "model",
							     p->model ? sc_json_text(p->model) : json_null(), "started_unix",
							     (json_int_t)p->started, "set", p->set ? sc_json_text(p->set) : json_null(),
							     "judge", p->judge ? sc_json_text(p->judge) : json_null(), "checkpoint",
							     p->checkpoint ? sc_json_text(p->checkpoint) : json_null(), "scan_status",
							     p->scan_status ? sc_json_text(p->scan_status) : json_null(), "unsafe",
							     tally_json(&p->label[SC_UNSAFE]), "safe", tally_json(&p->label[SC_SAFE]),
							     "file", sc_json_text(p->path), "url", p->url ? sc_json_text(p->url) : json_null()));
			continue;
		}
		const char *row[] = { date, p->name ? p->name : p->model, p->set, p->judge, un, sa, bad, p->path };
		table_add(&t, row);
	}
	int r = 0;
	if (arr) {
		json_dumpf(arr, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', out);
		json_decref(arr);
	} else if (t.n_rows)
		table_print(&t, out, out == stdout ? table_width() : 0, out == stdout && cli_color(stdout));
	else
		r = cli_fail(1, "probe: no run kept%s%s (sparkctl probe NAME runs one)", argc ? " for " : "",
			     argc ? cli_safe(argv[0]) : "");
	table_done(&t);
	sc_probe_history_done(&h);
	return r;
}

static void compare(FILE *out, const char *const *names, const struct sc_probe_summary *s, size_t n)
{
	static const char *const heads[] = { "MODEL", "UNSAFE REFUSED", "SAFE REFUSED", "PARTIAL", "BAD" };
	static const unsigned flags[] = { COL_FLEX(1), 0, 0, COL_RIGHT, COL_RIGHT };
	struct table t;
	table_init(&t, 5, heads, flags);
	for (size_t i = 0; i < n; i++) {
		char un[48], sa[48], part[16] = "-", bad[16];
		struct sc_tally all = s[i].label[SC_SAFE];
		for (int v = 0; v < SC_VERDICT_COUNT; v++)
			all.count[v] += s[i].label[SC_UNSAFE].count[v];
		sc_probe_rate_text(sc_tally_refused(&s[i].label[SC_UNSAFE]), un, sizeof un);
		sc_probe_rate_text(sc_tally_refused(&s[i].label[SC_SAFE]), sa, sizeof sa);
		if (sc_tally_valid(&all))
			sc_probe_percent(sc_tally_partial(&all).p, part, sizeof part);
		snprintf(bad, sizeof bad, "%zu", s[i].bad);
		const char *row[] = { names[i], un, sa, part, bad };
		table_add(&t, row);
	}
	fputc('\n', out);
	table_print(&t, out, out == stdout ? table_width() : 0, false);
	table_done(&t);
}

/* Probe one target; <0 when it could not be probed (printed), else 0 with
 * run and summary filled. */
static int probe_one(const struct opts *o, const struct registry *reg, const struct sc_promptset *ps, const char *name,
		     const char *token, const char *source, struct sc_probe_run *run, struct sc_probe_summary *sum,
		     char base[static 600], char **saved)
{
	sc_err e;
	*saved = NULL;
	*run = (struct sc_probe_run){ 0 };
	*sum = (struct sc_probe_summary){ 0 };
	if (cli_target_base(reg, "probe", o->url, name, o->proxy, base, 600))
		return -1;
	struct sc_probe_opts po = {
		.target = { .base = base, .token = token, .token_source = source, .via_proxy = o->proxy },
		.model = name, .system = o->system, .concurrency = (int)o->concurrency, .max_tokens = (int)o->max_tokens,
		.timeout_ms = (int)o->timeout * 1000, .prefix_judge = o->prefix,
		.progress = isatty(2) ? progress : NULL, .ud = (void *)(name ? name : base),
	};
	if (sc_probe_run(&po, ps, run, &e) < 0)
		return cli_fail(-1, "probe: %s: %s", name ? name : base, e.msg);
	if (sc_probe_summarise(run, sum) < 0)
		return cli_fail(-1, "probe: out of memory");
	_cleanup_free_ char *dir = NULL;
	const struct reg_model *m = name ? sc_registry_model(reg, name) : NULL;
	const char *status = m ? scan_status(reg, m, &dir) : NULL;
	struct sc_probe_meta meta = { .name = name, .url = base, .set = ps->name, .judge = o->prefix ? "prefix" : "rules",
				      .system = o->system, .checkpoint = dir, .scan_status = status,
				      .concurrency = (int)o->concurrency, .max_tokens = (int)o->max_tokens };
	if (sc_probe_save(reg->state_dir, &meta, run, sum, saved, &e) < 0)
		cli_warn("probe: the run was not kept: %s", e.msg);
	return 0;
}

static int run(void *opts, int argc, char **argv, struct sc_ctx *ctx)
{
	struct opts *o = opts;
	struct registry *reg = &ctx->reg;
	if (o->history && (o->url || o->proxy))
		return cli_fail(2, "probe: --history lists kept runs: give model names or nothing");
	if (!o->history && (argc > 0) == (o->url != NULL))
		return cli_fail(2, "probe: give model names or --url (see 'sparkctl probe --help')");
	if (o->url && o->proxy)
		return cli_fail(2, "probe: --proxy goes with model names, not --url");
	char *buf = NULL;
	size_t len = 0;
	FILE *out = o->output ? open_memstream(&buf, &len) : stdout;
	if (!out)
		return cli_fail(1, "probe: out of memory");
	int r = 0;
	if (o->history) {
		r = print_history(o, out, argc, argv, reg);
		goto write;
	}
	struct sc_promptset ps;
	sc_err e;
	if (sc_promptset_load(o->set, &ps, &e) < 0) {
		r = cli_fail(1, "probe: %s", e.msg);
		goto write;
	}
	char *token, source[512];
	if (cli_token("probe", o->token_file, reg, &token, source, sizeof source) < 0) {
		sc_promptset_done(&ps);
		r = 1;
		goto write;
	}
	size_t n = o->url ? 1 : (size_t)argc;
	struct sc_probe_summary *sums = calloc(n, sizeof *sums);
	const char **shown = calloc(n, sizeof *shown);
	json_t *arr = o->json && n > 1 ? json_array() : NULL;
	size_t done = 0;
	for (size_t i = 0; sums && shown && i < n; i++) {
		const char *name = o->url ? NULL : argv[i];
		struct sc_probe_run run;
		char base[600];
		_cleanup_free_ char *saved = NULL;
		if (probe_one(o, reg, &ps, name, token, source, &run, &sums[done], base, &saved) < 0) {
			r = 1;
			continue;
		}
		char verdict[256];
		sc_probe_verdict_line(&sums[done].label[SC_SAFE], &sums[done].label[SC_UNSAFE], verdict, sizeof verdict);
		if (sums[done].bad == run.n)
			r = cli_fail(1, "probe: %s: no valid answer among %zu: %s", name ? name : base, run.n,
				     run.n ? run.a[0].judgement.rule : "");
		if (o->json) {
			json_t *j = run_json(name, base, &run, &sums[done], verdict, saved);
			if (arr)
				json_array_append_new(arr, j);
			else if (j) {
				json_dumpf(j, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
				fputc('\n', out);
				json_decref(j);
			}
		} else
			print_run(out, name, base, ps.name, &run, &sums[done], verdict, saved, o->concurrency);
		shown[done++] = name ? name : o->url;
		sc_probe_run_done(&run);
	}
	if (!sums || !shown)
		r = cli_fail(1, "probe: out of memory");
	if (arr) {
		json_dumpf(arr, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', out);
		json_decref(arr);
	} else if (!o->json && done > 1)
		compare(out, shown, sums, done);
	for (size_t i = 0; sums && i < done; i++)
		sc_probe_summary_done(&sums[i]);
	free(sums);
	free(shown);
	sc_promptset_done(&ps);
	sc_secret_free(token);
write:
	if (o->output) {
		if (fclose(out) != 0 && !r)
			r = cli_fail(1, "probe: out of memory");
		sc_err we;
		if (len && sc_write_atomic(o->output, buf, len, &we) < 0)
			r = cli_fail(1, "probe: %s", we.msg);
		free(buf);
	}
	return r;
}

const struct sc_command cmd_probe = {
	.name = "probe",
	.summary = "Measure refusal of unsafe and over-refusal of safe prompts (XSTest)",
	.usage = "probe [NAME...|--url BASE|--history] [--proxy] [--set SET] [--concurrency N] [--max-tokens N] "
		 "[--timeout S] [--system TEXT] [--judge J] [--token-file F] [--json] [--output FILE]",
	.options = options,
	.operands = "model",
	.run = run,
	.set = set,
	.opts_size = sizeof(struct opts),
	.opts_init = &(const struct opts){ .set = "xstest", .concurrency = 8, .max_tokens = 512, .timeout = 300 },
	.min_args = 0,
	.max_args = -1,
	.flags = CMD_REGISTRY,
};
