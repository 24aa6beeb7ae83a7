/* sparkctl stop: stop models: the whole process group (or container). */
#include "common.h"
#include "../lib/base/time.h"
#include "../lib/engine/proc.h"
#include "../lib/ops/serve.h"
#include "../lib/engine/state.h"
#include "../lib/base/util.h"

enum { OPT_ALL = 'a', OPT_JSON = 256 };

static const struct sc_option options[] = {
	{ "all", OPT_ALL, no_argument, NULL, "stop every model sparkctl started", NULL },
	{ "json", OPT_JSON, no_argument, NULL, "print the result as JSON", NULL },
	{ 0 },
};

struct opts {
	bool all, json;
};

static int set(void *ud, int id, const char *arg)
{
	struct opts *o = ud;
	if (id == OPT_ALL)
		o->all = true;
	else
		o->json = true;
	return 0;
}

static const char *outcome(enum sc_stop_outcome how)
{
	switch (how) {
	case SC_STOP_NOT_RUNNING: return "was not running";
	case SC_STOP_STALE: return "was not running (its stale state file was removed)";
	case SC_STOP_TERMINATED: return "stopped";
	case SC_STOP_KILLED: return "stopped";
	case SC_STOP_NOT_SIGNALLED: return "not signalled";
	}
	return "?";
}

static int stop_one(const struct registry *reg, const char *name, bool json, json_t *reports)
{
	enum sc_stop_outcome how;
	pid_t pid;
	sc_err e;
	long long t0 = (long long)sc_now_ms();
	int r = sc_stop(reg, name, &how, &pid, &e);
	const struct reg_model *m = sc_registry_model(reg, name);
	/* a state file of a model no longer registered is still stopped */
	if (r == 0 && how == SC_STOP_NOT_RUNNING && !m)
		r = sc_registry_no_model(reg, name, &e);
	struct action_report a = { .name = name, .ok = r >= 0, .action = r > 0 ? "stopped" : "none",
				   .elapsed_ms = (long long)sc_now_ms() - t0, .health = r > 0 ? "dead" : NULL,
				   .error = r < 0 ? e.msg : NULL, .port = m ? m->port : 0 };
	if (r < 0)
		cli_fail(1, "stop: %s", e.msg);
	else if (how == SC_STOP_KILLED)
		cli_warn("%s ignored SIGTERM for its stop-timeout and was killed with SIGKILL", name);
	else if (how == SC_STOP_NOT_SIGNALLED)
		cli_warn("%s: its state file names pid %d without a start time that matches: that PID may be another "
			 "process now, so nothing was signalled and the state file was removed; check 'ps -p %d'",
			 name, (int)pid, (int)pid);
	if (r >= 0 && !json)
		printf("%s: %s\n", cli_safe(name), outcome(how));
	if (reports)
		json_array_append_new(reports, cli_report_json(&a));
	else if (json)
		return cli_report(&a, true);
	return a.ok ? 0 : 1;
}

static int run(void *opts, int argc, char **argv, struct sc_ctx *ctx)
{
	struct opts *o = opts;
	int r;
	if (o->all == (argc > 0))
		return cli_fail(2, "stop: name models or give --all (see 'sparkctl stop --help')");
	struct registry *reg = &ctx->reg;
	char **names = argv;
	size_t n = (size_t)argc;
	char **all = NULL;
	sc_err e;
	if (o->all) {
		if (sc_state_list(reg->state_dir, &all, &n, &e) < 0) {
			return cli_fail(1, "stop: %s", e.msg);
		}
		names = all;
	}
	r = 0;
	/* one model: one object; several or --all: an array */
	json_t *reports = o->json && (o->all || n > 1) ? json_array() : NULL;
	for (size_t i = 0; i < n; i++)
		if (stop_one(reg, names[i], o->json, reports))
			r = 1;
	if (reports && cli_print_json(reports))
		r = 1;
	sc_strv_free(all, o->all ? n : 0);
	return r;
}

const struct sc_command cmd_stop = {
	.name = "stop",
	.summary = "Stop models: the whole process group, or the container",
	.usage = "stop [--json] NAME...|--all",
	.options = options,
	.operands = "model",
	.run = run,
	.set = set,
	.opts_size = sizeof(struct opts),
	.min_args = 0,
	.max_args = -1,
	.flags = CMD_REGISTRY,
};
