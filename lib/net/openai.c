#include "openai.h"
#include "../base/json.h"
#include "../base/time.h"
#include "curl_api.h"
#include "http.h"
#include "../base/util.h"

#include <jansson.h>

#define MAX_BODY (4u << 20)
/* A stream is bounded too: an engine that never stops (or a hostile one)
 * is cut at this many bytes, or at far more chunks than max_tokens. */
#define MAX_STREAM_BYTES (8u << 20)
#define MAX_CHUNKS(max_tokens) (4L * (max_tokens) + 64)

void sc_sse_state_done(struct sse_state *s)
{
	if (s) {
		free(s->content);
		s->content = NULL;
	}
}

static void malformed(struct sse_state *s, const char *line, size_t len)
{
	if (!s->malformed) {
		s->malformed = true;
		snprintf(s->bad, sizeof s->bad, "%.*s", (int)(len > 100 ? 100 : len), line);
	}
}

int sc_sse_line(struct sse_state *s, const char *line, size_t len, double now_ms)
{
	if (len && line[len - 1] == '\r')
		len--;
	if (len == 0 || line[0] == ':')
		return 0;  /* the end of an event, or a comment */
	const char *colon = memchr(line, ':', len);
	if (!colon) {
		malformed(s, line, len);
		return 0;
	}
	size_t fl = (size_t)(colon - line);
	const char *v = colon + 1;
	size_t vl = len - fl - 1;
	if (vl && *v == ' ') {
		v++;
		vl--;
	}
	if (fl == 5 && memcmp(line, "event", 5) == 0)
		return 0;
	if ((fl == 2 && memcmp(line, "id", 2) == 0) || (fl == 5 && memcmp(line, "retry", 5) == 0))
		return 0;
	if (fl != 4 || memcmp(line, "data", 4) != 0) {
		malformed(s, line, len);
		return 0;
	}
	if (vl == 6 && memcmp(v, "[DONE]", 6) == 0) {
		s->done = true;
		return 0;
	}
	json_error_t je;
	json_t *j = json_loadb(v, vl, 0, &je);
	if (!json_is_object(j)) {
		json_decref(j);
		malformed(s, line, len);
		return 0;
	}
	/* llama-server ends a failed stream with data: {"error": {...}} */
	json_t *err = json_object_get(j, "error");
	if (err && !s->engine_error[0]) {
		const char *msg = json_is_string(err) ? json_string_value(err)
						      : json_string_value(json_object_get(err, "message"));
		snprintf(s->engine_error, sizeof s->engine_error, "%s", msg && *msg ? msg : "(no message)");
	}
	json_t *usage = json_object_get(j, "usage");
	json_t *ct = json_object_get(usage, "completion_tokens");
	if (json_is_integer(ct))
		s->usage_tokens = json_integer_value(ct);
	size_t i;
	json_t *ch;
	json_array_foreach(json_object_get(j, "choices"), i, ch) {
		json_t *delta = json_object_get(ch, "delta");
		json_t *c = json_object_get(delta, "content");
		if (!json_is_string(c))
			c = json_object_get(delta, "reasoning_content");
		if (json_is_string(c) && json_string_length(c)) {
			size_t n = json_string_length(c);
			char *nc = realloc(s->content, s->content_len + n + 1);
			if (!nc) {
				json_decref(j);
				return -ENOMEM;
			}
			memcpy(nc + s->content_len, json_string_value(c), n);
			s->content = nc;
			s->content_len += n;
			nc[s->content_len] = '\0';
			s->chunks++;
			if (s->first_ms < 0)
				s->first_ms = now_ms;
		}
		json_t *fr = json_object_get(ch, "finish_reason");
		if (json_is_string(fr))
			snprintf(s->finish, sizeof s->finish, "%s", json_string_value(fr));
	}
	json_decref(j);
	return 0;
}

void sc_smoke_result_done(struct smoke_result *r)
{
	if (!r)
		return;
	free(r->model);
	sc_strv_free(r->served, r->n_served);
	free(r->answer);
	free(r->finish_reason);
	memset(r, 0, sizeof *r);
}

/* One request; the body is kept (at most MAX_BODY) unless stream is set,
 * in which case the lines go to the SSE parser as they arrive. */
struct req {
	const struct curl_api *cu;
	char *body;
	size_t len;
	bool stream, is_sse;
	struct sse_state sse;
	char line[65536];
	size_t line_len;
	double t0;
	CURL *c;
	bool oom;
	long max_tokens;  /* of the request: the stream is cut far past it */
	size_t stream_bytes;
	bool over;   /* cut: past MAX_STREAM_BYTES or MAX_CHUNKS(max_tokens) */
};

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
	struct req *r = ud;
	size_t len = size * n;
	long status = 0;
	if (r->stream && !r->is_sse) {
		char *ctype = NULL;
		r->cu->easy_getinfo(r->c, CURLINFO_RESPONSE_CODE, &status);
		r->cu->easy_getinfo(r->c, CURLINFO_CONTENT_TYPE, &ctype);
		r->is_sse = status == 200 && ctype && strstr(ctype, "text/event-stream");
	}
	if (r->is_sse) {
		double now = sc_now_msf() - r->t0;
		r->stream_bytes += len;
		if (r->stream_bytes > MAX_STREAM_BYTES || r->sse.chunks > MAX_CHUNKS(r->max_tokens) || r->sse.engine_error[0]) {
			r->over = !r->sse.engine_error[0];
			return 0;
		}
		for (size_t i = 0; i < len; i++) {
			if (p[i] == '\n') {
				if (sc_sse_line(&r->sse, r->line, r->line_len, now) < 0) {
					r->oom = true;
					return 0;
				}
				r->line_len = 0;
			} else if (r->line_len < sizeof r->line - 1)
				r->line[r->line_len++] = p[i];
		}
		return len;
	}
	return sc_http_append(&r->body, &r->len, p, len, MAX_BODY) < 0 ? 0 : len;
}

void sc_openai_http_error(const struct sc_openai_target *t, long status, const char *body, size_t len, char *buf,
			  size_t buflen)
{
	const char *msg = NULL;
	json_t *j = body ? json_loadb(body, len, 0, NULL) : NULL;
	json_t *err = json_object_get(j, "error");
	if (json_is_string(err))
		msg = json_string_value(err);
	else if (json_is_string(json_object_get(err, "message")))
		msg = json_string_value(json_object_get(err, "message"));
	else if (json_is_string(json_object_get(j, "detail")))
		msg = json_string_value(json_object_get(j, "detail"));
	if (status == 401 || status == 403)
		snprintf(buf, buflen, "HTTP %ld: %s (%s)", status,
			 t->token ? "the token was refused" : "a token is needed and none was sent",
			 t->token ? t->token_source : "give --token-file, $SPARKCTL_TOKEN or token-file in models.ini");
	else if (t->via_proxy && (status == 502 || status == 503 || status == 504))
		snprintf(buf, buflen, "HTTP %ld: the proxy at %s answered, the engine behind it did not "
			 "(is the model running? see 'sparkctl ps')%s%.200s", status, t->base, msg ? ": " : "", msg ? msg : "");
	else
		snprintf(buf, buflen, "HTTP %ld%s%.200s", status, msg ? ": " : "", msg ? msg : "");
	json_decref(j);
}

static int request(const struct curl_api *cu, const struct smoke_opts *o, const char *path, const char *post,
		   struct smoke_check *chk, struct req *r)
{
	char url[1024];
	struct curl_slist *hdr = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	snprintf(url, sizeof url, "%s%s", o->target.base, path);
	r->cu = cu;
	r->c = sc_curl_easy(cu);
	if (!r->c)
		return -ENOMEM;
	r->sse.first_ms = -1;
	r->sse.usage_tokens = -1;
	if (o->target.token) {
		/* built in memory, handed to libcurl, never printed or logged */
		_cleanup_free_ char *h = NULL;
		if (asprintf(&h, "Authorization: Bearer %s", o->target.token) < 0 || !(hdr = cu->slist_append(hdr, h)))
			goto oom;
	}
	if (post && (!(hdr = cu->slist_append(hdr, "Content-Type: application/json")) ||
		     !(hdr = cu->slist_append(hdr, "Accept: text/event-stream"))))
		goto oom;
	cu->easy_setopt(r->c, CURLOPT_URL, url);
	cu->easy_setopt(r->c, CURLOPT_HTTPHEADER, hdr);
	cu->easy_setopt(r->c, CURLOPT_WRITEFUNCTION, on_data);
	cu->easy_setopt(r->c, CURLOPT_WRITEDATA, r);
	cu->easy_setopt(r->c, CURLOPT_TIMEOUT_MS, (long)o->timeout_ms);
	cu->easy_setopt(r->c, CURLOPT_NOSIGNAL, 1L);
	cu->easy_setopt(r->c, CURLOPT_ERRORBUFFER, errbuf);
	cu->easy_setopt(r->c, CURLOPT_PROXY, "");  /* the target itself, never an http_proxy */
	cu->easy_setopt(r->c, CURLOPT_FOLLOWLOCATION, 0L);  /* the token goes to the target only */
	if (post)
		cu->easy_setopt(r->c, CURLOPT_POSTFIELDS, post);
	r->stream = post != NULL;
	r->t0 = sc_now_msf();
	CURLcode cc = cu->easy_perform(r->c);
	chk->ran = true;
	chk->ms = sc_now_msf() - r->t0;
	cu->easy_getinfo(r->c, CURLINFO_RESPONSE_CODE, &chk->status);
	if (r->oom)
		goto oom;
	if (cc == CURLE_COULDNT_CONNECT)
		snprintf(chk->error, sizeof chk->error, "connection refused: nothing listens at %s (see 'sparkctl ps')", o->target.base);
	else if (cc == CURLE_OPERATION_TIMEDOUT)
		snprintf(chk->error, sizeof chk->error, "no answer within %d ms", o->timeout_ms);
	else if (r->over || r->sse.engine_error[0])
		;  /* check_chat says it */
	else if (r->is_sse && (cc == CURLE_PARTIAL_FILE || cc == CURLE_RECV_ERROR))
		/* a chunked stream (uvicorn's) cut short: the same words as a
		 * stream that ends without its end */
		snprintf(chk->error, sizeof chk->error, "the connection closed mid-stream after %ld chunks (%s)",
			 r->sse.chunks, errbuf[0] ? errbuf : cu->easy_strerror(cc));
	else if (cc == CURLE_PARTIAL_FILE || cc == CURLE_RECV_ERROR || (cc != CURLE_OK && r->is_sse))
		snprintf(chk->error, sizeof chk->error, "the connection closed mid-answer: %s",
			 errbuf[0] ? errbuf : cu->easy_strerror(cc));
	else if (cc != CURLE_OK)
		snprintf(chk->error, sizeof chk->error, "%s", errbuf[0] ? errbuf : cu->easy_strerror(cc));
	else if (chk->status < 200 || chk->status > 299)
		sc_openai_http_error(&o->target, chk->status, r->body, r->len, chk->error, sizeof chk->error);
	cu->slist_free_all(hdr);
	cu->easy_cleanup(r->c);
	return 0;
oom:
	cu->slist_free_all(hdr);
	cu->easy_cleanup(r->c);
	return -ENOMEM;
}

static void req_free(struct req *r)
{
	free(r->body);
	sc_sse_state_done(&r->sse);
}

bool sc_models_lists(const char *model, char *const *ids, size_t n, char *buf, size_t len)
{
	char list[256] = "";
	for (size_t k = 0; k < n; k++)
		if (streq(ids[k], model))
			return true;
	for (size_t k = 0; k < n; k++)
		snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", k ? ", " : "", ids[k]);
	snprintf(buf, len, "%s is not served here; the server lists %s", model, n ? list : "no model");
	return false;
}

int sc_models_parse(const char *body, size_t len, const char *model, char ***ids, size_t *n, int64_t *max_model_len,
		    sc_err *e)
{
	json_error_t je;
	*ids = NULL;
	*n = 0;
	*max_model_len = -1;
	_cleanup_json_ json_t *j = json_loadb(body ? body : "", len, 0, &je);
	if (!json_is_object(j) || !json_is_array(json_object_get(j, "data")))
		return sc_error(e, SC_ENOTOBJ, "the answer is not the JSON of a model list: %.60s", body ? body : "");
	size_t i;
	json_t *m;
	json_array_foreach(json_object_get(j, "data"), i, m) {
		json_t *id = json_object_get(m, "id"), *ml = json_object_get(m, "max_model_len");
		/* llama-server gives its context as meta.n_ctx */
		if (!json_is_integer(ml))
			ml = json_object_get(json_object_get(m, "meta"), "n_ctx");
		if (!json_is_string(id))
			continue;
		if (sc_strv_appendf(ids, n, "%s", json_string_value(id)) < 0) {
			sc_strv_free(*ids, *n);
			*ids = NULL;
			*n = 0;
			return sc_error(e, -ENOMEM, "out of memory");
		}
		if (json_is_integer(ml) && (model ? streq(model, json_string_value(id)) : *n == 1))
			*max_model_len = json_integer_value(ml);
	}
	if (!*ids && !(*ids = calloc(1, sizeof **ids)))
		return sc_error(e, -ENOMEM, "out of memory");
	return 0;
}

static void check_models(const struct smoke_opts *o, struct smoke_result *res, const struct req *r)
{
	struct smoke_check *c = &res->checks[CHECK_MODELS];
	sc_err e;
	if (sc_models_parse(r->body, r->len, o->model, &res->served, &res->n_served, &res->max_model_len, &e) < 0) {
		snprintf(c->error, sizeof c->error, "%s", e.msg);
		return;
	}
	if (!o->model) {
		if (!res->n_served) {
			snprintf(c->error, sizeof c->error, "the server lists no model");
			return;
		}
		res->model = strdup(res->served[0]);
		c->ok = res->model != NULL;
		return;
	}
	res->model = strdup(o->model);
	c->ok = sc_models_lists(o->model, res->served, res->n_served, c->error, sizeof c->error);
}

static void check_chat(struct smoke_result *res, struct req *r)
{
	struct smoke_check *c = &res->checks[CHECK_CHAT];
	struct sse_state *s = &r->sse;
	if (c->error[0])
		return;
	if (!r->is_sse) {
		snprintf(c->error, sizeof c->error, "the answer is not an event stream: %.60s", r->body ? r->body : "");
		return;
	}
	if (r->line_len && !r->over)
		sc_sse_line(s, r->line, r->line_len, sc_now_msf() - r->t0);
	if (s->engine_error[0]) {
		snprintf(c->error, sizeof c->error, "the engine reported an error mid-stream: %s", s->engine_error);
		return;  /* a failed stream has no figures */
	}
	if (r->over) {
		snprintf(c->error, sizeof c->error, "the stream did not end: cut after %ld chunks and %zu bytes "
			 "(max_tokens was %ld)", s->chunks, r->stream_bytes, r->max_tokens);
		return;
	}
	res->ttft_ms = s->first_ms;
	res->completion_tokens = s->usage_tokens >= 0 ? s->usage_tokens : s->chunks;
	double gen_ms = c->ms - (s->first_ms > 0 ? s->first_ms : 0);
	if (res->completion_tokens > 1 && gen_ms > 0)
		res->tokens_per_s = (double)(res->completion_tokens - 1) * 1000.0 / gen_ms;
	else if (res->completion_tokens > 0 && c->ms > 0)
		res->tokens_per_s = (double)res->completion_tokens * 1000.0 / c->ms;
	res->answer = strdup(s->content ? s->content : "");
	res->finish_reason = s->finish[0] ? strdup(s->finish) : NULL;
	if (s->malformed)
		snprintf(c->error, sizeof c->error, "malformed event stream: \"%s\"", s->bad);
	else if (!s->done && !s->finish[0])
		snprintf(c->error, sizeof c->error, "the connection closed mid-stream after %ld chunks", s->chunks);
	else if (!s->content_len)
		snprintf(c->error, sizeof c->error, "the answer is empty");
	else if (!s->finish[0])
		snprintf(c->error, sizeof c->error, "the answer has no finish_reason");
	else
		c->ok = true;
	if (!c->ok)  /* the figures of a failed stream would mislead */
		res->ttft_ms = res->tokens_per_s = -1, res->completion_tokens = -1;
}

int sc_smoke_test(const struct smoke_opts *o, struct smoke_result *ret, sc_err *e)
{
	*ret = (struct smoke_result){ 0 };
	struct smoke_result res = { .max_model_len = -1, .ttft_ms = -1, .completion_tokens = -1, .tokens_per_s = -1 };
	static const char *const names[] = { "GET /health", "GET /v1/models", "POST /v1/chat/completions" };
	for (int i = 0; i < CHECK_COUNT; i++)
		res.checks[i].name = names[i];
	*ret = res;
	const struct curl_api *cu = sc_curl(e);
	if (!cu)
		return -ENOSYS;
	struct req r = { 0 };
	int x = request(cu, o, "/health", NULL, &res.checks[CHECK_HEALTH], &r);
	if (x < 0)
		goto oom;
	res.checks[CHECK_HEALTH].ok = !res.checks[CHECK_HEALTH].error[0] && res.checks[CHECK_HEALTH].status == 200;
	req_free(&r);
	bool refused = strstr(res.checks[CHECK_HEALTH].error, "connection refused") != NULL;
	if (!refused) {
		r = (struct req){ 0 };
		if (request(cu, o, "/v1/models", NULL, &res.checks[CHECK_MODELS], &r) < 0)
			goto oom;
		if (!res.checks[CHECK_MODELS].error[0])
			check_models(o, &res, &r);
		req_free(&r);
	}
	if (!refused && (res.model || o->model)) {
		json_t *body = json_pack("{s:s,s:[{s:s,s:s}],s:i,s:b,s:{s:b}}", "model", res.model ? res.model : o->model,
					 "messages", "role", "user", "content", o->prompt, "max_tokens", o->max_tokens,
					 "stream", 1, "stream_options", "include_usage", 1);
		char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
		json_decref(body);
		if (!text)
			goto oom;
		r = (struct req){ .max_tokens = o->max_tokens };
		x = request(cu, o, "/v1/chat/completions", text, &res.checks[CHECK_CHAT], &r);
		free(text);
		if (x < 0)
			goto oom;
		check_chat(&res, &r);
		req_free(&r);
	}
	for (int i = 0; i < CHECK_COUNT; i++)
		if (!res.checks[i].ran)
			snprintf(res.checks[i].error, sizeof res.checks[i].error, "not run: %s",
				 refused ? "nothing listens" : "no model to ask");
	res.ok = res.checks[0].ok && res.checks[1].ok && res.checks[2].ok;
	*ret = res;
	return 0;
oom:
	req_free(&r);
	sc_smoke_result_done(&res);
	return sc_error(e, -ENOMEM, "out of memory");
}
