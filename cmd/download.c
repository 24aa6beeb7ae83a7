/* sparkctl download: Hub repositories into model folders, verified and
 * resumable; plain files and archives from a URL. */
#include "common.h"
#include "../lib/base/json.h"
#include "../lib/base/text.h"
#include "../lib/net/curl_api.h"
#include "../lib/ops/download.h"
#include "../lib/net/hub.h"
#include "../lib/format/model.h"
#include "../lib/net/unpack.h"
#include "../lib/base/util.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

enum { OPT_REVISION = 'r', OPT_INCLUDE = 'i', OPT_EXCLUDE = 'x', OPT_TO = 't', OPT_JOBS = 'j', OPT_QUIET = 'q',
       OPT_REGISTER = 256, OPT_DRY_RUN, OPT_JSON, OPT_ENGINE };

static const struct sc_option options[] = {
	{ "revision", OPT_REVISION, required_argument, "R", "branch, tag or commit (default main; or REPO@R)", "word" },
	{ "include", OPT_INCLUDE, required_argument, "GLOB", "only files matching GLOB (repeatable)", "word" },
	{ "exclude", OPT_EXCLUDE, required_argument, "GLOB", "not files matching GLOB (repeatable)", "word" },
	{ "to", OPT_TO, required_argument, "DIR", "the target folder (default: <models-root>/<org>/<name>)", "dir" },
	{ "jobs", OPT_JOBS, required_argument, "N", "files at once (default 8)", "word" },
	{ "register", OPT_REGISTER, required_argument, "NAME", "add [model \"NAME\"] for the folder to models.ini", "word" },
	{ "engine", OPT_ENGINE, required_argument, "E", "the engine of the registered model (default: [defaults] engine)", "engine" },
	{ "dry-run", OPT_DRY_RUN, no_argument, NULL, "list what would be fetched, fetch nothing", NULL },
	{ "quiet", OPT_QUIET, no_argument, NULL, "print only errors", NULL },
	{ "json", OPT_JSON, no_argument, NULL, "print the result as JSON", NULL },
	{ 0 },
};

struct opts {
	const char *rev, *to, *register_name, *engine;
	char **include, **exclude;
	size_t n_include, n_exclude;
	long jobs;
	bool dry_run, quiet, json;
};

static int set(void *ud, int id, const char *arg)
{
	struct opts *o = ud;
	switch (id) {
	case OPT_REVISION: o->rev = arg; break;
	case OPT_TO: o->to = arg; break;
	case OPT_REGISTER: o->register_name = arg; break;
	case OPT_ENGINE: o->engine = arg; break;
	case OPT_DRY_RUN: o->dry_run = true; break;
	case OPT_QUIET: o->quiet = true; break;
	case OPT_JSON: o->json = true; break;
	case OPT_JOBS: return cli_number("jobs", arg, 1, 64, &o->jobs);
	case OPT_INCLUDE: return sc_strv_appendf(&o->include, &o->n_include, "%s", arg) < 0 ? -1 : 0;
	case OPT_EXCLUDE: return sc_strv_appendf(&o->exclude, &o->n_exclude, "%s", arg) < 0 ? -1 : 0;
	}
	return 0;
}

struct view {
	bool tty, quiet, json;
	bool show_url;  /* a URL download: its internal path means nothing to the user */
	int lines;  /* lines drawn by the last live update */
};

static void on_progress(void *ud, const struct fetch_progress *p)
{
	struct view *v = ud;
	char a[16], b[16], r[16];
	if (!v->tty || v->quiet || v->json)
		return;
	for (int i = 0; i < v->lines; i++)
		fputs("\033[1A\033[2K", stderr);
	v->lines = 0;
	for (size_t i = 0; i < p->active; i++) {
		sc_format_bytes(p->have[i], a, sizeof a);
		sc_format_bytes(p->items[i]->size, b, sizeof b);
		fprintf(stderr, "  %-60.60s %7s / %-7s\n", cli_safe(p->items[i]->rel), a, b);
		v->lines++;
	}
	if (p->waiting) {
		fprintf(stderr, "  retry %d/%d of %.40s in %lld s: %.60s\n", p->waiting->attempts, FETCH_MAX_ATTEMPTS,
			cli_safe(p->waiting->rel), (long long)(p->wait_ms + 999) / 1000, cli_safe(p->waiting->retry_why));
		v->lines++;
	}
	sc_format_bytes(p->done_bytes, a, sizeof a);
	sc_format_bytes(p->total_bytes, b, sizeof b);
	sc_format_bytes((uint64_t)p->rate, r, sizeof r);
	double eta = p->rate > 0 ? (double)(p->total_bytes - p->done_bytes) / p->rate : 0;
	fprintf(stderr, "total %s / %s, %s/s, ETA %.0f s\n", a, b, r, eta);
	v->lines++;
}

static void on_finished(void *ud, const struct fetch_item *it)
{
	struct view *v = ud;
	char a[16];
	if (v->tty && v->lines) {
		for (int i = 0; i < v->lines; i++)
			fputs("\033[1A\033[2K", stderr);
		v->lines = 0;
	}
	if (!it->done) {
		/* errors are printed even with --quiet */
		cli_fail(0, "download: %s: %s", v->show_url ? it->url : it->rel, it->error);
		return;
	}
	if (v->quiet || v->json)
		return;
	sc_format_bytes(it->size, a, sizeof a);
	printf("fetched %s (%s%s)\n", cli_safe(it->rel), a, it->resumed_at ? ", resumed" : "");
	fflush(stdout);
}

/* The scan reader's one-line verdict on the folder. */
static void verdict(const char *dir, bool quiet, json_t *j)
{
	struct sc_model m;
	sc_err e;
	if (!sc_is_model_dir(dir) || sc_model_load(dir, dir, &m, &e) < 0) {
		if (!quiet && !j)
			printf("%s: not a model folder (no config.json and no weights)\n", dir);
		return;
	}
	if (j) {
		json_object_set_new(j, "format", json_string(sc_format_name(m.format)));
		json_object_set_new(j, "status", json_string(sc_status_name(m.status)));
	} else if (!quiet || m.status != ST_OK)
		printf("%s: %s (%s), %s%s%s\n", cli_safe(dir), sc_format_name(m.format), sc_quant_method_name(m.quant_method),
		       sc_status_name(m.status), m.problems.n ? ": " : "", m.problems.n ? cli_safe(m.problems.v[0].message) : "");
	sc_model_done(&m);
}

/* --register: the folder, relative to models-root where it is inside */
static int register_model(const struct sc_ctx *ctx, const struct registry *reg, const char *name, const char *engine,
			  const char *dir)
{
	_cleanup_free_ char *file = sc_registry_user_file(ctx->config), *abs = realpath(dir, NULL);
	_cleanup_free_ char *root = realpath(reg->models_root, NULL);
	sc_err e;
	if (!file || !abs)
		return cli_fail(1, "download: --register: %s", strerror(errno));
	size_t rl = root ? strlen(root) : 0;
	const char *path = root && strncmp(abs, root, rl) == 0 && abs[rl] == '/' ? abs + rl + 1 : abs;
	if (sc_registry_append_model(file, name, path, engine, &e) < 0)
		return cli_fail(1, "download: --register: %s", e.msg);
	printf("registered [model \"%s\"] in %s\n", name, file);
	return 0;
}

static int url_download(const struct sc_ctx *ctx, const char *url, const struct opts *o)
{
	_cleanup_free_ char *dir = strdup(o->to ? o->to : "."), *name = NULL, *rel = NULL;
	const char *base = strrchr(url, '/');
	size_t n = base ? strcspn(base + 1, "?#") : 0;
	if (!sc_url_is_http(url))
		return cli_fail(2, "download: %s: only http:// and https:// URLs are fetched", url);
	if (!dir || !base || !n)
		return cli_fail(2, "download: %s: no file name in the URL", url);
	name = strndup(base + 1, n);
	if (name && (streq(name, ".") || streq(name, "..")))
		return cli_fail(2, "download: %s: the URL ends in \"%s\", not a file name", url, name);
	bool archive = name && sc_is_archive_name(name);
	if (!name || asprintf(&rel, "%s%s", archive ? ".sparkctl/archives/" : "", name) < 0)
		return cli_fail(1, "out of memory");
	mkdir(dir, 0755);
	struct fetch_item it = { .rel = rel, .url = (char *)url };
	struct view v = { .tty = isatty(2), .quiet = o->quiet, .json = o->json, .show_url = true };
	struct fetch_opts fo = { .dir = dir, .jobs = 1, .progress = on_progress, .finished = on_finished, .ud = &v };
	sc_err e;
	if (sc_fetch(&it, 1, &fo, &e) < 0)
		return it.failed ? 1 : cli_fail(1, "download: %s", e.msg);  /* a failed file was reported */
	if (!archive)
		return 0;
	_cleanup_free_ char *path = sc_path_join(dir, rel);
	uint64_t files, bytes;
	int r = sc_unpack(path, dir, &files, &bytes, &e);
	unlink(path);
	if (r < 0)
		return cli_fail(1, "download: %s: %s (nothing was extracted)", name, e.msg);
	if (!o->quiet)
		printf("extracted %s: %llu files, %llu bytes into %s\n", name, (unsigned long long)files,
		       (unsigned long long)bytes, dir);
	(void)ctx;
	return 0;
}

static int repo(const struct sc_ctx *ctx, struct opts *o, const char *spec)
{
	_cleanup_free_ char *repo = strdup(spec), *dir = NULL;
	if (!repo)
		return cli_fail(1, "out of memory");
	char *at = strchr(repo, '@');
	if (at) {
		*at = '\0';
		if (o->rev)
			return cli_fail(2, "download: give the revision once: %s or --revision", spec);
		o->rev = at + 1;
	}
	if (!sc_repo_id_valid(repo))
		return cli_fail(2, "download: \"%s\" is not a Hub repository id: ORG/NAME of letters, digits, '.', '_' "
				"and '-', not starting or ending with '.' or '-'", repo);
	struct registry reg;
	if (cli_load_registry(ctx, &reg))
		return 1;
	dir = o->to ? strdup(o->to) : sc_path_join(reg.models_root, repo);
	struct view v = { .tty = isatty(2), .quiet = o->quiet, .json = o->json };
	struct download_opts d = { .repo = repo, .rev = o->rev, .dir = dir, .include = o->include,
				   .n_include = o->n_include, .exclude = o->exclude, .n_exclude = o->n_exclude,
				   .jobs = (int)o->jobs, .dry_run = o->dry_run, .progress = on_progress,
				   .finished = on_finished, .ud = &v };
	struct download_result res;
	sc_err e;
	int r = sc_download_repo(&d, &res, &e);
	json_t *j = NULL;
	if (o->json)
		j = json_pack("{s:s,s:o,s:o,s:b,s:i,s:i,s:i,s:I,s:I,s:o}", "repo", repo, "commit",
			      sc_json_text(res.commit), "dir", sc_json_text(dir), "ok", r >= 0, "files",
			      (int)res.n_selected, "up_to_date", (int)res.n_up_to_date, "fetched", (int)res.n_items,
			      "bytes_fetched", (json_int_t)res.bytes_fetched, "api_requests", (json_int_t)res.api_requests,
			      "error", r < 0 ? sc_json_text(e.msg) : json_null());
	const char *ep = getenv("HF_ENDPOINT");
	if (r < 0 && ep && *ep)
		cli_fail(1, "download: %s (HF_ENDPOINT is set: %s)", e.msg, ep);
	else if (r < 0)
		cli_fail(1, "download: %s", e.msg);
	else if (o->dry_run && !o->json) {
		for (size_t i = 0; i < res.n_items; i++) {
			char a[16];
			sc_format_bytes(res.items[i].size, a, sizeof a);
			printf("would fetch %s (%s)\n", cli_safe(res.items[i].rel), a);
		}
		printf("%s@%.12s: %zu files selected, %zu up to date, %zu to fetch\n", repo, res.commit, res.n_selected,
		       res.n_up_to_date, res.n_items);
	} else if (!o->quiet && !o->json) {
		char a[16];
		sc_format_bytes(res.bytes_fetched, a, sizeof a);
		if (!res.n_items)
			printf("%s@%.12s: up to date (%zu files)\n", repo, res.commit, res.n_selected);
		else
			printf("%s@%.12s: %zu files fetched (%s), %zu were up to date\n", repo, res.commit, res.n_items, a,
			       res.n_up_to_date);
	}
	if (r >= 0 && !o->dry_run) {
		verdict(dir, o->quiet, j);
		if (o->register_name && register_model(ctx, &reg, o->register_name, o->engine, dir))
			r = -1;
	}
	if (j)
		cli_print_json(j);
	sc_download_result_done(&res);
	sc_registry_done(&reg);
	return r < 0 ? 1 : 0;
}

static int run(void *opts, int argc, char **argv, struct sc_ctx *ctx)
{
	struct opts *o = opts;
	int r;
	if (o->register_name && !sc_model_name_valid(o->register_name)) {
		r = cli_fail(2, "download: --register \"%s\": %s", o->register_name, SC_MODEL_NAME_RULE);
		goto out;
	}
	if (o->engine && !o->register_name) {
		r = cli_fail(2, "download: --engine goes with --register");
		goto out;
	}
	/* a full disk or a file size limit must be a write error, not a signal */
	signal(SIGXFSZ, SIG_IGN);
	const char *what = argv[0];
	if (strstr(what, "://"))
		r = url_download(ctx, what, o);
	else
		r = repo(ctx, o, what);
out:
	sc_strv_free(o->include, o->n_include);
	sc_strv_free(o->exclude, o->n_exclude);
	return r;
}

const struct sc_command cmd_download = {
	.name = "download",
	.summary = "Hub downloads that resume and verify every byte; archive URLs",
	.usage = "download [--revision R] [--include GLOB]... [--exclude GLOB]... [--to DIR] [--jobs N] [--register NAME [--engine E]] [--dry-run] [--quiet] [--json] REPO|URL",
	.options = options,
	.run = run,
	.set = set,
	.opts_size = sizeof(struct opts),
	.opts_init = &(const struct opts){ .jobs = 8 },
	.min_args = 1,
	.max_args = 1,
	.args_help = "name one repository or URL",
};
