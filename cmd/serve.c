/* sparkctl serve: start one registered model and wait until it is healthy;
 * --dry-run prints it as a serve script instead. */
#include "common.h"
#include "../lib/engine/engine.h"
#include "../lib/ops/serve.h"
#include "../lib/ops/multinode.h"
#include "../lib/base/util.h"

#include <unistd.h>

enum { OPT_DRY_RUN = 256, OPT_NO_WAIT, OPT_TIMEOUT, OPT_FORCE, OPT_JSON, OPT_WATCH };

static const struct sc_option options[] = {
	{ "dry-run", OPT_DRY_RUN, no_argument, NULL, "print the serve script and start nothing", NULL },
	{ "no-wait", OPT_NO_WAIT, no_argument, NULL, "return once started, without waiting until healthy", NULL },
	{ "timeout", OPT_TIMEOUT, required_argument, "S", "seconds to wait until healthy (default: ready-timeout)", "word" },
	{ "force", OPT_FORCE, no_argument, NULL, "start even when the checkpoint, engine or memory checks refuse", NULL },
	{ "json", OPT_JSON, no_argument, NULL, "print the result as JSON", NULL },
	{ "watch", OPT_WATCH, no_argument, NULL,
	  "watch the ranks of a running multi-node model; when one dies, stop them all (serve starts this itself)", NULL },
	{ 0 },
};

struct opts {
	bool dry_run, json, watch;
	long timeout;
	struct serve_opts so;
};

static int set(void *ud, int id, const char *arg)
{
	struct opts *o = ud;
	switch (id) {
	case OPT_DRY_RUN: o->dry_run = true; break;
	case OPT_NO_WAIT: o->so.no_wait = true; break;
	case OPT_FORCE: o->so.force = true; break;
	case OPT_JSON: o->json = true; break;
	case OPT_WATCH: o->watch = true; break;
	case OPT_TIMEOUT: return cli_number("timeout", arg, 1, 86400, &o->timeout);
	}
	return 0;
}

/* What the start found but did not refuse, on stderr. */
void cli_print_warnings(const struct serve_result *r)
{
	for (size_t i = 0; i < r->n_warnings; i++)
		cli_warn("%s", r->warnings[i]);
}

/* The log tail of a failed start, on stderr. */
void cli_print_tail(const char *name, const struct serve_result *r)
{
	if (r->log_tail && r->log_tail[0]) {
		fprintf(stderr, "--- the last lines of %s's log:\n%s", name, r->log_tail);
		if (r->log_tail[strlen(r->log_tail) - 1] != '\n')
			fputc('\n', stderr);
	}
}

/* serve --watch: runs in the head's process group, its output in the
 * head's log; the reason and every node's log tail when it stops them. */
static int watch(const struct registry *reg, const char *name)
{
	char why[512] = "";
	sc_err e;
	const struct reg_model *rm = sc_registry_model(reg, name);
	if (!rm || !rm->n_nodes)
		return cli_fail(1, "serve: --watch: %s is no multi-node model", name);
	int r = sc_multinode_watch(reg, name, 2000, why, sizeof why, &e);
	if (r == 0)
		return 0;
	fprintf(stderr, "sparkctl: %s: %s: every rank is stopped%s%s\n", name, cli_safe(why), r < 0 ? ", but " : "",
		r < 0 ? cli_safe(e.msg) : "");
	struct run_state st;
	if (sc_state_read(reg->state_dir, name, &st, &e) == 0) {
		char *tails = sc_multinode_tails(reg, &st, 10);
		fputs(tails ? tails : "", stderr);
		free(tails);
		sc_run_state_done(&st);
	}
	return 1;
}

static int dry_run(const struct registry *reg, const char *name)
{
	char *s;
	sc_err e;
	if (sc_serve_script(reg, name, &s, &e) < 0)
		return cli_fail(1, "serve: %s", e.msg);
	fputs(s, stdout);
	free(s);
	return 0;
}

static int run(void *opts, int argc, char **argv, struct sc_ctx *ctx)
{
	struct opts *o = opts;
	int r;
	const char *name = argv[0];
	struct registry *reg = &ctx->reg;
	if (o->dry_run) {
		r = dry_run(reg, name);
		return r;
	}
	if (o->watch)
		return watch(reg, name);
	struct serve_result res;
	sc_err e;
	o->so.timeout_s = (int)o->timeout;
	if (!o->json && isatty(2)) {
		o->so.progress = cli_progress;
		o->so.ud = (void *)name;
	}
	r = sc_serve(reg, name, &o->so, &res, &e);
	if (o->so.progress)
		cli_progress_done();
	const struct reg_model *rm = sc_registry_model(reg, name);
	struct action_report a = { .name = name, .ok = r >= 0, .pid = res.pid, .port = rm ? rm->port : 0,
				   .health = res.health, .elapsed_ms = res.elapsed_ms };
	a.action = r < 0 ? "none" : res.already ? "none" : "started";
	a.error = r < 0 ? e.msg : NULL;
	cli_print_warnings(&res);
	if (r < 0) {
		cli_fail(1, "serve: %s", e.msg);
		cli_print_tail(name, &res);
	} else if (!o->json) {
		if (res.already)
			printf("%s: already running and healthy on port %d\n", name, res.port);
		else
			printf("%s: %s on %s:%d (%s %d) after %.1f s\n", name, o->so.no_wait ? "started" : "healthy",
			       reg->host, res.port, res.container ? "container" : "pid",
			       res.container ? 0 : res.pid, (double)res.elapsed_ms / 1000);
	}
	r = cli_report(&a, o->json);
	if (r >= 0 && a.ok)
		r = 0;
	sc_serve_result_done(&res);
	return r;
}

const struct sc_command cmd_serve = {
	.name = "serve",
	.summary = "Start one registered model and wait until it is healthy",
	.usage = "serve [--dry-run] [--no-wait] [--timeout S] [--force] [--json] NAME",
	.options = options,
	.operands = "model",
	.run = run,
	.set = set,
	.opts_size = sizeof(struct opts),
	.min_args = 1,
	.max_args = 1,
	.args_help = "name one model",
	.flags = CMD_REGISTRY,
};
