/* The door: the token first (but for /health), then one of the few
 * endpoints a client needs. Nothing else reaches an engine: SGLang's and
 * vLLM's admin endpoints (weight updates, cache flushes, shutdown) stay
 * behind the proxy. Errors are in OpenAI's shape, which every client
 * shows. */
#include "px.h"
#include "body.h"
#include "../base/json.h"
#include "../base/time.h"
#include "../base/util.h"
#include "../engine/state.h"
#include "../ops/serve.h"

#include <jansson.h>
#include <stdarg.h>
#include <strings.h>

/* The routes whose body names the model (OpenAI's API). */
static const char *const model_routes[] = { "/v1/chat/completions", "/v1/completions", "/v1/embeddings",
					    "/v1/responses" };

struct px_model *sc_px_model_find(struct px *px, const char *name)
{
	for (size_t i = 0; i < px->n_models; i++)
		if (streq(px->models[i]->name, name))
			return px->models[i];
	return NULL;
}

static void req_free(struct px_req *rq)
{
	if (rq->comment_ev)
		rq->px->ev->event_free(rq->comment_ev);
	sc_px_buf_free(&rq->body);
	sc_px_buf_free(&rq->fwd);
	sc_px_buf_free(&rq->reply_hdrs);
	free(rq->uri);
	free(rq);
}

/* The client has its answer (or is gone): log it, count it, let go. */
void sc_px_req_finish(struct px_req *rq, int status)
{
	struct px *px = rq->px;
	struct px_model *m = rq->m;
	sc_px_unqueue(rq);
	sc_px_up_release(rq, false);
	if (rq->conn)
		sc_px_conn_request_done(rq->conn);
	/* the path only: a client may have put its token in the query */
	sc_px_log(px, "%s %.*s model=%s client=%s status=%d ms=%lld", rq->method,
	       (int)strcspn(rq->uri, "?#"), rq->uri, m ? m->name : "-", rq->label ? rq->label : rq->client, status,
	       (long long)(sc_now_ms() - rq->t0_ms));
	bool ended = false;
	if (m) {
		sc_px_count(m, status);
		if (rq->inflight) {
			m->inflight--;
			ended = true;
		}
	}
	req_free(rq);
	if (ended)
		sc_px_request_ended(px, m);
}

/* The client went away before its answer: drop the upstream request
 * (the engine sees the connection close and stops generating). */
void sc_px_req_abort(struct px_req *rq)
{
	rq->conn = NULL;
	sc_px_up_release(rq, true);
	sc_px_req_finish(rq, 499);  /* nginx's code for "client closed request" */
}

/* text NULL (out of memory on the way): an empty body */
static void text_reply(struct px_req *rq, int code, const char *ctype, const char *text)
{
	sc_px_reply_header(rq, "Content-Type", ctype);
	sc_px_reply_all(rq, code, text ? text : "", text ? strlen(text) : 0);
	sc_px_req_finish(rq, code);
}

static void vreply_json(struct px_req *rq, int code, const char *type, const char *code_name, const char *fmt,
			va_list ap)
{
	char msg[2048];
	vsnprintf(msg, sizeof msg, fmt, ap);
	json_t *j = json_pack("{s:{s:s,s:s,s:n,s:s}}", "error", "message", msg, "type", type, "param", "code",
			      code_name);
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	text_reply(rq, code, "application/json", text);
	free(text);
}

void sc_px_reply_json(struct px_req *rq, int code, const char *type, const char *code_name, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreply_json(rq, code, type, code_name, fmt, ap);
	va_end(ap);
}

/* OpenAI's clients raise on an SSE "error" event */
static void error_event(struct px_req *rq, int code, const char *msg)
{
	json_t *j = json_pack("{s:{s:s,s:s,s:i}}", "error", "message", msg, "type", "server_error", "code", code);
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	struct px_buf b = { 0 };
	if (sc_px_buf_printf(&b, "event: error\ndata: %s\n\n", text ? text : "{}") == 0)
		sc_px_reply_chunk(rq, sc_px_buf_data(&b), sc_px_buf_size(&b));
	sc_px_reply_end(rq);
	sc_px_buf_free(&b);
	free(text);
	sc_px_req_finish(rq, code);
}

void sc_px_reply_failure(struct px_req *rq, int code, const char *code_name, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (rq->started)
		error_event(rq, code, msg);
	else
		sc_px_reply_json(rq, code, "server_error", code_name, "%s", msg);
}

/* The token of the request: Authorization: Bearer T, or x-api-key: T
 * (Anthropic-style clients). -1: none matches. */
static long authorize(struct px *px, const struct px_hdrs *h)
{
	const char *a = sc_px_hdrs_find(h, "Authorization"), *t = NULL;
	if (a && strncasecmp(a, "Bearer ", 7) == 0)
		for (t = a + 7; *t == ' '; t++)
			;
	if (!t)
		t = sc_px_hdrs_find(h, "x-api-key");
	if (!t || !*t)
		return -1;
	return sc_tokens_match(px->reg->tokens, px->reg->n_tokens, t, strlen(t));
}

static void list_models(struct px *px, struct px_req *rq)
{
	const struct registry *reg = &px->reg->r;
	json_t *data = json_array();
	for (size_t i = 0; data && i < reg->n_models; i++) {
		struct run_state st;
		bool loaded = sc_run_quick(reg, reg->models[i].name, &st) == 1;
		if (loaded)
			sc_run_state_done(&st);
		json_array_append_new(data, json_pack("{s:s,s:s,s:i,s:s,s:b}", "id", reg->models[i].name, "object", "model",
						      "created", 0, "owned_by", "sparkctl", "loaded", loaded));
	}
	json_t *j = json_pack("{s:s,s:o}", "object", "list", "data", data ? data : json_array());
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	text_reply(rq, 200, "application/json", text);
	free(text);
}

/* POST with a body naming the model: queued or forwarded. */
static void route_model(struct px *px, struct px_req *rq, const struct px_hdrs *h)
{
	size_t len = sc_px_buf_size(&rq->body);
	const char *body = sc_px_buf_data(&rq->body);
	char model[256];
	sc_err e;
	if (sc_px_body_fields(body, len, model, sizeof model, &rq->stream, &e) < 0) {
		sc_px_reply_json(rq, 400, "invalid_request_error", "invalid_json", "%s", e.msg);
		return;
	}
	if (!model[0]) {
		sc_px_reply_json(rq, 400, "invalid_request_error", "missing_model", "the body names no \"model\"");
		return;
	}
	struct px_model *m = sc_registry_model(&px->reg->r, model) ? sc_px_model_find(px, model) : NULL;
	if (!m) {
		char close_names[512];
		size_t n = sc_registry_suggest(&px->reg->r, model, close_names, sizeof close_names);
		sc_px_reply_json(rq, 404, "invalid_request_error", "model_not_found",
			      "The model `%.200s` does not exist here%s%s", model, n ? "; did you mean: " : "",
			      n ? close_names : "");
		return;
	}
	rq->m = m;
	/* what the engine gets of the headers, kept: the request may wait in
	 * a queue past its connection's next read */
	int k = 0;
	for (size_t i = 0; i < h->n; i++)
		if (!sc_px_hop_header(sc_px_hdr_name(h, i)))
			k |= sc_px_buf_adds(&rq->fwd, sc_px_hdr_name(h, i)) | sc_px_buf_add(&rq->fwd, ": ", 2) |
			     sc_px_buf_adds(&rq->fwd, sc_px_hdr_value(h, i)) | sc_px_buf_add(&rq->fwd, "\r\n", 2);
	if (k < 0) {
		sc_px_reply_json(rq, 503, "server_error", "proxy_error", "out of memory");
		return;
	}
	if (px->shutting_down) {
		sc_px_reply_json(rq, 503, "server_error", "shutting_down", "the proxy is shutting down");
		return;
	}
	sc_px_submit(px, rq);
}

void sc_px_refuse(struct px_req *rq, int code, const char *code_name, const char *why)
{
	if (rq->conn)
		rq->conn->keep = false;
	sc_px_reply_json(rq, code, "invalid_request_error", code_name, "%s", why);
}

void sc_px_handle(struct px_req *rq, const struct px_hdrs *h)
{
	struct px *px = rq->px;
	const char *bad = sc_px_bad_headers(h);
	if (bad) {
		/* and the connection closes: what was read after it is in doubt too */
		sc_px_refuse(rq, 400, "bad_header", bad);
		return;
	}
	bool get = streq(rq->method, "GET"), post = streq(rq->method, "POST");
	if (!get && !post) {
		/* the routes take no other (HEAD gets the refusal without its body) */
		sc_px_reply_header(rq, "Allow", "GET, POST");
		sc_px_reply_json(rq, 405, "invalid_request_error", "method_not_allowed", "%.20s: the proxy takes GET and POST",
				 rq->method);
		return;
	}
	/* the path without its query */
	char path[256];
	size_t pl = strcspn(rq->uri, "?#");
	snprintf(path, sizeof path, "%.*s", (int)(pl < sizeof path ? pl : sizeof path - 1), rq->uri);
	if (streq(path, "/health")) {
		text_reply(rq, 200, "application/json", px->shutting_down ? "{\"status\":\"stopping\"}" : "{\"status\":\"ok\"}");
		return;
	}
	long who = authorize(px, h);
	if (who < 0) {
		px->unauthorized++;
		sc_px_reply_header(rq, "WWW-Authenticate", "Bearer");
		sc_px_reply_json(rq, 401, "invalid_request_error", "invalid_api_key",
			      "a valid token is needed: Authorization: Bearer TOKEN (or x-api-key: TOKEN)");
		return;
	}
	rq->label = px->reg->tokens[who].label;
	if (!rq->label)
		snprintf(rq->client, sizeof rq->client, "token#%ld", who + 1);
	if (streq(path, "/v1/models") && get) {
		list_models(px, rq);
		return;
	}
	if (streq(path, "/metrics") && get) {
		struct px_buf b = { 0 };
		sc_px_metrics(px, &b);
		sc_px_reply_header(rq, "Content-Type", "text/plain; version=0.0.4");
		sc_px_reply_all(rq, 200, sc_px_buf_data(&b), sc_px_buf_size(&b));
		sc_px_buf_free(&b);
		sc_px_req_finish(rq, 200);
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(model_routes); i++)
		if (streq(path, model_routes[i])) {
			if (!post) {
				sc_px_reply_header(rq, "Allow", "POST");
				sc_px_reply_json(rq, 405, "invalid_request_error", "method_not_allowed", "%s takes POST", path);
				return;
			}
			rq->route = model_routes[i];
			route_model(px, rq, h);
			return;
		}
	sc_px_reply_json(rq, 404, "invalid_request_error", "not_found",
		      "no such endpoint here: the proxy passes /v1/chat/completions, /v1/completions, /v1/embeddings, "
		      "/v1/responses and /v1/models");
}
