/* sparkctl switch: exclusive start: stop what shares the model's group or
 * port, then serve it. */
#include "common.h"
#include "../lib/net/openai.h"
#include "../lib/ops/serve.h"
#include "../lib/base/token.h"
#include "../lib/base/util.h"

#include <unistd.h>

enum { OPT_TIMEOUT = 256, OPT_ROLLBACK, OPT_FORCE, OPT_JSON, OPT_TEST };

static const struct sc_option options[] = {
	{ "timeout", OPT_TIMEOUT, required_argument, "S", "seconds to wait until healthy (default: ready-timeout)", "word" },
	{ "rollback", OPT_ROLLBACK, no_argument, NULL, "when the model fails, start the one that ran before", NULL },
	{ "test", OPT_TEST, no_argument, NULL, "once ready, run the smoke test of sparkctl test; its failure fails the switch", NULL },
	{ "force", OPT_FORCE, no_argument, NULL, "start even when the checkpoint, engine or memory checks refuse", NULL },
	{ "json", OPT_JSON, no_argument, NULL, "print the result as JSON", NULL },
	{ 0 },
};

struct opts {
	bool rollback, json, test;
	long timeout;
	struct serve_opts so;
};

static int set(void *ud, int id, const char *arg)
{
	struct opts *o = ud;
	switch (id) {
	case OPT_ROLLBACK: o->rollback = true; break;
	case OPT_TEST: o->test = true; break;
	case OPT_FORCE: o->so.force = true; break;
	case OPT_JSON: o->json = true; break;
	case OPT_TIMEOUT: return cli_number("timeout", arg, 1, 86400, &o->timeout);
	}
	return 0;
}

struct tester {
	char *token;
	char source[512];
	bool passed;
	double ttft_ms, tokens_per_s;
};

/* switch --test: the smoke test on the internal port, printed like
 * sparkctl test prints it */
static int smoke(void *ud, const char *name, const char *host, int port, sc_err *e)
{
	struct tester *t = ud;
	char base[300];
	snprintf(base, sizeof base, "http://%s:%d", host, port);
	struct smoke_opts so = { .target = { .base = base, .token = t->token, .token_source = t->source }, .model = name,
				 .prompt = "Answer with one word: what is the capital of France?", .max_tokens = 32,
				 .timeout_ms = 60000 };
	struct smoke_result res;
	int r = sc_smoke_test(&so, &res, e);
	if (r < 0)
		return r;
	for (int i = 0; !res.ok && i < CHECK_COUNT; i++)
		if (res.checks[i].error[0]) {
			r = sc_error(e, -EPROTO, "the smoke test failed: %s: %s", res.checks[i].name, res.checks[i].error);
			break;
		}
	if (!r) {
		t->passed = true;
		t->ttft_ms = res.ttft_ms;
		t->tokens_per_s = res.tokens_per_s;
	}
	sc_smoke_result_done(&res);
	return r;
}

static int run(void *opts, int argc, char **argv, struct sc_ctx *ctx)
{
	struct opts *o = opts;
	int r;
	const char *name = argv[0];
	struct registry *reg = &ctx->reg;
	struct switch_result res;
	struct tester t = { 0 };
	sc_err e;
	o->so.timeout_s = (int)o->timeout;
	if (o->test) {
		if (cli_token("switch", NULL, reg, &t.token, t.source, sizeof t.source) < 0) {
			return 1;
		}
		o->so.verify = smoke;
		o->so.verify_ud = &t;
	}
	if (!o->json && isatty(2)) {
		o->so.progress = cli_progress;
		o->so.ud = (void *)name;
	}
	r = sc_switch(reg, name, &o->so, o->rollback, &res, &e);
	if (o->so.progress)
		cli_progress_done();
	for (size_t i = 0; !o->json && i < res.n_stopped; i++)
		printf("%s: stopped\n", res.stopped[i]);
	if (res.killed)
		cli_warn("a model ignored SIGTERM and was killed with SIGKILL");
	struct action_report a = { .name = name, .ok = r >= 0, .pid = res.serve.pid, .port = res.serve.port,
				   .health = res.serve.health, .elapsed_ms = res.serve.elapsed_ms,
				   .stopped = res.stopped, .n_stopped = res.n_stopped,
				   .action = r < 0 || res.serve.already ? "none" : "switched", .error = r < 0 ? e.msg : NULL };
	cli_print_warnings(&res.serve);
	if (r < 0) {
		cli_fail(1, "switch: %s", e.msg);
		cli_print_tail(name, &res.serve);
		if (res.rolled_back)
			fprintf(stderr, "sparkctl: switch: rolled back: %s runs again\n", res.rolled_back);
		else if (o->rollback && res.n_stopped)
			fprintf(stderr, "sparkctl: switch: the rollback to %s failed too\n", res.stopped[0]);
	} else if (!o->json) {
		if (res.serve.already)
			printf("%s: already running and healthy on port %d\n", name, res.serve.port);
		else
			printf("%s: healthy on %s:%d after %.1f s\n", name, reg->host, res.serve.port,
			       (double)res.serve.elapsed_ms / 1000);
		if (t.passed)
			printf("%s: smoke test passed: TTFT %.1f ms, %.1f tokens/s\n", name, t.ttft_ms, t.tokens_per_s);
	}
	r = cli_report(&a, o->json);
	sc_switch_result_done(&res);
	sc_secret_free(t.token);
	return r;
}

const struct sc_command cmd_switch = {
	.name = "switch",
	.summary = "Stop what shares a model's group or port, then serve it",
	.usage = "switch [--timeout S] [--test] [--rollback] [--force] [--json] NAME",
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
