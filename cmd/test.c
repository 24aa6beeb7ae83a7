/* sparkctl test: the three-request smoke test of a model, on its internal
 * port or through the token proxy, with figures. */
#include "common.h"
#include "../lib/base/json.h"
#include "../lib/base/text.h"
#include "../lib/net/openai.h"
#include "../lib/engine/state.h"
#include "../lib/base/token.h"
#include "../lib/base/util.h"

#include <langinfo.h>

enum { OPT_ALL = 'a', OPT_URL = 'u', OPT_PROXY = 'p', OPT_TOKEN_FILE = 256, OPT_PROMPT, OPT_MAX_TOKENS, OPT_TIMEOUT,
       OPT_JSON };

static const struct sc_option options[] = {
	{ "all", OPT_ALL, no_argument, NULL, "test every running model", NULL },
	{ "url", OPT_URL, required_argument, "BASE", "test any OpenAI-compatible server at BASE", "word" },
	{ "proxy", OPT_PROXY, no_argument, NULL, "go through the token proxy (proxy-host, proxy-port)", NULL },
	{ "token-file", OPT_TOKEN_FILE, required_argument, "F", "the bearer token (default: $SPARKCTL_TOKEN, then token-file of models.ini)", "file" },
	{ "prompt", OPT_PROMPT, required_argument, "TEXT", "the chat prompt", "word" },
	{ "max-tokens", OPT_MAX_TOKENS, required_argument, "N", "max_tokens of the chat request (default 32)", "word" },
	{ "timeout", OPT_TIMEOUT, required_argument, "S", "seconds each request may take (default 60)", "word" },
	{ "json", OPT_JSON, no_argument, NULL, "print JSON (an array for several targets)", NULL },
	{ 0 },
};

#define DEFAULT_PROMPT "Answer with one word: what is the capital of France?"

struct opts {
	bool all, proxy, json;
	const char *url, *token_file, *prompt;
	long max_tokens, timeout;
};

static int set(void *ud, int id, const char *arg)
{
	struct opts *o = ud;
	switch (id) {
	case OPT_ALL: o->all = true; break;
	case OPT_PROXY: o->proxy = true; break;
	case OPT_JSON: o->json = true; break;
	case OPT_URL: o->url = arg; break;
	case OPT_TOKEN_FILE: o->token_file = arg; break;
	case OPT_PROMPT: o->prompt = arg; break;
	case OPT_MAX_TOKENS: return cli_number("max-tokens", arg, 1, 1000000, &o->max_tokens);
	case OPT_TIMEOUT: return cli_number("timeout", arg, 1, 86400, &o->timeout);
	}
	return 0;
}

static bool utf8(void)
{
	const char *cs = nl_langinfo(CODESET);
	return cs && streq(cs, "UTF-8");
}

static json_t *result_json(const char *name, const char *url, const struct smoke_result *r)
{
	json_t *checks = json_array(), *served = json_array();
	for (int i = 0; checks && i < CHECK_COUNT; i++) {
		const struct smoke_check *c = &r->checks[i];
		json_array_append_new(checks, json_pack("{s:s,s:b,s:o,s:o,s:o}", "name", c->name, "ok", c->ok, "status",
							c->status ? json_integer(c->status) : json_null(), "ms",
							c->ran ? json_real(c->ms) : json_null(), "error",
							c->error[0] ? sc_json_text(c->error) : json_null()));
	}
	for (size_t i = 0; served && i < r->n_served; i++)
		json_array_append_new(served, sc_json_text(r->served[i]));
	return json_pack("{s:o,s:o,s:b,s:o,s:o,s:o,s:o,s:o,s:o}", "name", sc_json_text(name ? name : r->model),
			 "url", sc_json_text(url), "ok", r->ok, "checks", checks ? checks : json_array(), "ttft_ms",
			 r->ttft_ms >= 0 ? json_real(r->ttft_ms) : json_null(), "completion_tokens",
			 r->completion_tokens >= 0 ? json_integer(r->completion_tokens) : json_null(), "tokens_per_s",
			 r->tokens_per_s >= 0 ? json_real(r->tokens_per_s) : json_null(), "max_model_len",
			 r->max_model_len >= 0 ? json_integer(r->max_model_len) : json_null(), "served",
			 served ? served : json_array());
}

static void print_human(const char *name, const char *url, const struct smoke_result *r)
{
	bool u = utf8();
	printf("%s  %s\n", cli_safe(name ? name : r->model ? r->model : "?"), cli_safe(url));
	for (int i = 0; i < CHECK_COUNT; i++) {
		const struct smoke_check *c = &r->checks[i];
		char detail[600] = "";
		if (c->error[0])
			snprintf(detail, sizeof detail, "%s", c->error);
		else if (i == CHECK_MODELS && r->max_model_len >= 0)
			snprintf(detail, sizeof detail, "%s (max_model_len %lld)", r->model, (long long)r->max_model_len);
		else if (i == CHECK_MODELS)
			snprintf(detail, sizeof detail, "%s", r->model);
		else if (i == CHECK_CHAT)
			snprintf(detail, sizeof detail, "\"%.60s\" (finish_reason %s)", r->answer ? r->answer : "",
				 r->finish_reason ? r->finish_reason : "-");
		char st[8] = "-", ms[16] = "-";
		if (c->status)
			snprintf(st, sizeof st, "%ld", c->status);
		if (c->ran)
			snprintf(ms, sizeof ms, c->ms < 10 ? "%.1f ms" : "%.0f ms", c->ms);
		printf("  %s %-27s %3s %8s  %s\n", c->ok ? (u ? "\u2713" : "ok  ") : (u ? "\u2717" : "FAIL"), c->name, st, ms,
		       cli_safe(detail));
	}
	if (r->ttft_ms >= 0)
		printf("  TTFT %.1f ms, %lld completion token%s, %.1f tokens/s\n", r->ttft_ms, (long long)r->completion_tokens,
		       r->completion_tokens == 1 ? "" : "s",
		       r->tokens_per_s >= 0 ? r->tokens_per_s : 0.0);
}

static int run(void *opts, int argc, char **argv, struct sc_ctx *ctx)
{
	struct opts *o = opts;
	int r;
	int given = (argc > 0) + o->all + (o->url != NULL);
	if (given != 1)
		return cli_fail(2, "test: give model names, --all or --url (see 'sparkctl test --help')");
	if (o->url && o->proxy)
		return cli_fail(2, "test: --proxy goes with model names, not --url");
	struct registry *reg = &ctx->reg;
	char *token, source[512];
	if (cli_token("test", o->token_file, reg, &token, source, sizeof source) < 0) {
		return 1;
	}
	char **names = argv, **running = NULL;
	size_t n = (size_t)argc;
	sc_err e;
	r = 0;
	if (o->url)
		n = 1;
	else if (o->all) {
		if (sc_state_list(reg->state_dir, &running, &n, &e) < 0)
			r = cli_fail(1, "test: %s", e.msg);
		names = running;
		if (!r && !n)
			r = cli_fail(1, "test: no model runs (see 'sparkctl ps')");
	}
	json_t *arr = o->json && n > 1 ? json_array() : NULL;
	bool failed = false;
	/* every target is tested, whatever the ones before did */
	for (size_t i = 0; !r && i < n; i++) {
		char base[600];
		const char *name = o->url ? NULL : names[i];
		if ((r = cli_target_base(reg, "test", o->url, name, o->proxy, base, sizeof base)))
			break;
		struct smoke_opts so = { .target = { .base = base, .token = token, .token_source = source, .via_proxy = o->proxy },
					 .model = name,
					 .prompt = o->prompt, .max_tokens = (int)o->max_tokens, .timeout_ms = (int)o->timeout * 1000 };
		struct smoke_result res;
		if (sc_smoke_test(&so, &res, &e) < 0) {
			r = cli_fail(1, "test: %s", e.msg);
			break;
		}
		if (!res.ok) {
			failed = true;
			for (int k = 0; k < CHECK_COUNT; k++)
				if (res.checks[k].error[0] && !startswith(res.checks[k].error, "not run"))
					cli_fail(0, "test: %s: %s: %s", name ? name : base, res.checks[k].name, res.checks[k].error);
		}
		if (arr)
			json_array_append_new(arr, result_json(name, base, &res));
		else if (o->json)
			cli_print_json(result_json(name, base, &res));
		else
			print_human(name, base, &res);
		sc_smoke_result_done(&res);
	}
	if (arr && cli_print_json(arr))
		r = 1;
	if (failed)
		r = 1;
	sc_strv_free(running, o->all ? n : 0);
	sc_secret_free(token);
	return r;
}

const struct sc_command cmd_test = {
	.name = "test",
	.summary = "The three-request smoke test: /health, /v1/models, a streamed chat completion",
	.usage = "test [NAME...|--all|--url BASE] [--proxy] [--token-file F] [--prompt TEXT] [--max-tokens N] [--timeout S] [--json]",
	.options = options,
	.operands = "model",
	.run = run,
	.set = set,
	.opts_size = sizeof(struct opts),
	.opts_init = &(const struct opts){ .prompt = DEFAULT_PROMPT, .max_tokens = 32, .timeout = 60 },
	.min_args = 0,
	.max_args = -1,
	.flags = CMD_REGISTRY,
};
