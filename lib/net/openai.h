/* The three-request smoke test of an OpenAI-compatible server: GET /health,
 * GET /v1/models (the served name must be listed), and a streamed
 * POST /v1/chat/completions with its time to first token and tokens/s. */
#ifndef SC_OPENAI_H
#define SC_OPENAI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/err.h"

/* Where requests go, and with which token. */
struct sc_openai_target {
	const char *base;          /* http://host:port, no trailing slash */
	const char *token;         /* sent as Authorization: Bearer to base only; may be NULL */
	const char *token_source;  /* where the token came from, for 401/403 messages */
	bool via_proxy;            /* base is a proxy: a 502/504 is the engine behind it */
};

/* What an answer that is not 2xx means, in one line: the server's own
 * message, a token refused or missing (and where it came from), a proxy
 * whose engine is down. Never contains the token. */
void sc_openai_http_error(const struct sc_openai_target *t, long status, const char *body, size_t len, char *buf,
			  size_t buflen);

struct smoke_opts {
	struct sc_openai_target target;
	const char *model;         /* the served name; NULL: the first id of /v1/models */
	const char *prompt;
	int max_tokens;
	int timeout_ms;            /* for each request */
};

enum { CHECK_HEALTH, CHECK_MODELS, CHECK_CHAT, CHECK_COUNT };

struct smoke_check {
	const char *name;  /* "GET /health", ... */
	bool ok, ran;
	long status;       /* 0: no HTTP answer */
	double ms;
	char error[512];
};

struct smoke_result {
	bool ok;
	struct smoke_check checks[CHECK_COUNT];
	char *model;       /* the name used in the chat request */
	char **served;     /* ids of /v1/models */
	size_t n_served;
	int64_t max_model_len;      /* -1: not given */
	double ttft_ms;             /* -1: no token arrived */
	int64_t completion_tokens;  /* -1: unknown */
	double tokens_per_s;        /* -1: unknown */
	char *answer;
	char *finish_reason;
};

/* The ids of a /v1/models answer ({"data": [{"id": ...}, ...]}, OpenAI's
 * shape) into a NULL-terminated array, and the max_model_len of model (of
 * the first id when model is NULL) or -1. The one parser of that answer:
 * serve's health wait and the smoke test both use it. */
int sc_models_parse(const char *body, size_t len, const char *model, char ***ids, size_t *n, int64_t *max_model_len,
		    sc_err *e);

/* Is model among ids? If not, buf says so with the ids that are. */
bool sc_models_lists(const char *model, char *const *ids, size_t n, char *buf, size_t len);

/* Always fills ret (the checks say what failed); <0 only when the test
 * could not be run at all (libcurl missing, memory). */
int sc_smoke_test(const struct smoke_opts *o, struct smoke_result *ret, sc_err *e);
void sc_smoke_result_done(struct smoke_result *r);

/* Parse one server-sent-events line of a chat completion stream into the
 * stream state; exposed for the tests and the fuzzer. */
struct sse_state {
	bool done;           /* data: [DONE] seen */
	bool malformed;
	char bad[128];       /* the offending line */
	long chunks;         /* chunks with content */
	int64_t usage_tokens;
	char engine_error[256];  /* an SSE "error" event: the engine's message */
	char *content;
	size_t content_len;
	char finish[32];
	double first_ms;     /* when the first content arrived, -1 before */
};
int sc_sse_line(struct sse_state *s, const char *line, size_t len, double now_ms);
void sc_sse_state_done(struct sse_state *s);

#endif
