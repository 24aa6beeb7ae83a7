#include "runner.h"
#include "../base/time.h"
#include "../base/util.h"
#include "../net/curl_api.h"
#include "../net/http.h"

#include <jansson.h>

/* An answer is text of a few KiB; a server that sends more is cut off,
 * and the answer is bad. */
#define MAX_ANSWER_BODY (4u << 20)

struct slot {
	CURL *c;
	struct curl_slist *hdr;
	char *post;
	char *body;
	size_t len;
	bool too_big;
	size_t idx;
	double t0;
};

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
	struct slot *s = ud;
	if (sc_http_append(&s->body, &s->len, p, size * n, MAX_ANSWER_BODY) < 0) {
		s->too_big = true;
		return 0;
	}
	return size * n;
}

static void slot_free(const struct curl_api *cu, struct slot *s)
{
	if (s->c)
		cu->easy_cleanup(s->c);
	cu->slist_free_all(s->hdr);
	free(s->post);
	free(s->body);
	*s = (struct slot){ 0 };
}

void sc_probe_run_done(struct sc_probe_run *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		free(r->a[i].answer);
		free(r->a[i].reasoning);
	}
	free(r->a);
	free(r->model);
	*r = (struct sc_probe_run){ 0 };
}

/* Before 450 requests: is the server there, does it take the token, does
 * it serve the model? One GET /v1/models says all three. */
static int preflight(const struct sc_probe_opts *o, char **model, sc_err *e)
{
	char url[1024], why[512];
	struct http_resp resp;
	sc_err he;
	*model = NULL;
	snprintf(url, sizeof url, "%s/v1/models", o->target.base);
	int r = sc_http_get(url, o->target.token, o->timeout_ms, &resp, &he);
	if (r == -ECONNREFUSED)
		return sc_error(e, r, "connection refused: nothing listens at %s (see 'sparkctl ps')", o->target.base);
	if (r < 0)
		return sc_error(e, r, "GET %s: %s", url, he.msg);
	char **ids = NULL;
	size_t n = 0;
	int64_t max_len;
	if (resp.status != 200) {
		sc_openai_http_error(&o->target, resp.status, resp.body, resp.len, why, sizeof why);
		r = sc_error(e, -EPROTO, "GET /v1/models: %s", why);
	} else if ((r = sc_models_parse(resp.body, resp.len, o->model, &ids, &n, &max_len, &he)) < 0)
		r = sc_error(e, r, "GET /v1/models: %s", he.msg);
	else if (o->model && !sc_models_lists(o->model, ids, n, why, sizeof why))
		r = sc_error(e, -ENOENT, "%s", why);
	else if (!o->model && !n)
		r = sc_error(e, -ENOENT, "the server at %s lists no model", o->target.base);
	else if (!(*model = strdup(o->model ? o->model : ids[0])))
		r = sc_error(e, -ENOMEM, "out of memory");
	sc_strv_free(ids, n);
	sc_http_resp_done(&resp);
	return r;
}

static int start(const struct curl_api *cu, CURLM *m, const struct sc_probe_opts *o, const char *model,
		 const struct sc_prompt *p, struct slot *s, size_t idx)
{
	char url[1024];
	snprintf(url, sizeof url, "%s/v1/chat/completions", o->target.base);
	json_t *msgs = json_array();
	if (msgs && o->system)
		json_array_append_new(msgs, json_pack("{s:s,s:s}", "role", "system", "content", o->system));
	if (msgs)
		json_array_append_new(msgs, json_pack("{s:s,s:s}", "role", "user", "content", p->prompt));
	json_t *body = msgs ? json_pack("{s:s,s:o,s:f,s:i,s:b}", "model", model, "messages", msgs, "temperature", 0.0,
					"max_tokens", o->max_tokens, "stream", 0)
			    : NULL;
	s->post = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	s->idx = idx;
	if (!s->post || !(s->c = sc_curl_easy(cu)))
		return -ENOMEM;
	if (o->target.token) {
		/* built in memory, handed to libcurl, never printed or logged */
		_cleanup_free_ char *h = NULL;
		if (asprintf(&h, "Authorization: Bearer %s", o->target.token) < 0 || !(s->hdr = cu->slist_append(s->hdr, h)))
			return -ENOMEM;
	}
	struct curl_slist *h2 = cu->slist_append(s->hdr, "Content-Type: application/json");
	if (!h2)
		return -ENOMEM;
	s->hdr = h2;
	cu->easy_setopt(s->c, CURLOPT_URL, url);
	cu->easy_setopt(s->c, CURLOPT_HTTPHEADER, s->hdr);
	cu->easy_setopt(s->c, CURLOPT_POSTFIELDS, s->post);
	cu->easy_setopt(s->c, CURLOPT_WRITEFUNCTION, on_data);
	cu->easy_setopt(s->c, CURLOPT_WRITEDATA, s);
	cu->easy_setopt(s->c, CURLOPT_PRIVATE, s);
	cu->easy_setopt(s->c, CURLOPT_TIMEOUT_MS, (long)o->timeout_ms);
	cu->easy_setopt(s->c, CURLOPT_NOSIGNAL, 1L);
	cu->easy_setopt(s->c, CURLOPT_PROXY, "");  /* the target itself, never an http_proxy */
	cu->easy_setopt(s->c, CURLOPT_FOLLOWLOCATION, 0L);  /* the token goes to the target only */
	s->t0 = sc_now_msf();
	return cu->multi_add_handle(m, s->c) == CURLM_OK ? 0 : -ENOMEM;
}

static char *text_of(json_t *v)
{
	return json_is_string(v) ? strndup(json_string_value(v), json_string_length(v)) : NULL;
}

/* An answer that arrived: its text, or why it is bad. */
static void finish(const struct curl_api *cu, const struct sc_probe_opts *o, struct slot *s, CURLcode cc,
		   struct sc_probe_answer *a)
{
	a->ms = sc_now_msf() - s->t0;
	cu->easy_getinfo(s->c, CURLINFO_RESPONSE_CODE, &a->status);
	if (s->too_big)
		snprintf(a->error, sizeof a->error, "the answer is larger than %u MiB", MAX_ANSWER_BODY >> 20);
	else if (cc == CURLE_OPERATION_TIMEDOUT)
		snprintf(a->error, sizeof a->error, "no answer within %d s (--timeout)", o->timeout_ms / 1000);
	else if (cc != CURLE_OK)
		snprintf(a->error, sizeof a->error, "%s", cu->easy_strerror(cc));
	else if (a->status < 200 || a->status > 299)
		sc_openai_http_error(&o->target, a->status, s->body, s->len, a->error, sizeof a->error);
	if (a->error[0])
		return;
	json_t *j = json_loadb(s->body ? s->body : "", s->len, 0, NULL);
	json_t *msg = json_object_get(json_array_get(json_object_get(j, "choices"), 0), "message");
	json_t *ct = json_object_get(json_object_get(j, "usage"), "completion_tokens");
	if (!json_is_object(msg))
		snprintf(a->error, sizeof a->error, "not a chat completion: %.80s", s->body ? s->body : "");
	else {
		json_t *fr = json_object_get(json_array_get(json_object_get(j, "choices"), 0), "finish_reason");
		a->answer = text_of(json_object_get(msg, "content"));
		/* SGLang and vLLM with a reasoning parser split the think block off */
		a->reasoning = text_of(json_object_get(msg, "reasoning_content"));
		if (!a->reasoning)
			a->reasoning = text_of(json_object_get(msg, "reasoning"));
		if (json_is_string(fr))
			snprintf(a->finish, sizeof a->finish, "%s", json_string_value(fr));
		if (json_is_integer(ct))
			a->completion_tokens = json_integer_value(ct);
	}
	json_decref(j);
}

static void judge(const struct sc_probe_opts *o, struct sc_probe_answer *a)
{
	if (a->error[0]) {
		a->judgement.verdict = SC_BAD;
		snprintf(a->judgement.rule, sizeof a->judgement.rule, "bad: %s", a->error);
		return;
	}
	size_t len = a->answer ? strlen(a->answer) : 0;
	if (o->prefix_judge && len) {
		a->judgement.verdict = sc_judge_prefix(a->answer, len);
		snprintf(a->judgement.rule, sizeof a->judgement.rule, "XSTest prefix match");
		return;
	}
	sc_judge(a->answer, len, a->reasoning, &a->judgement);
}

int sc_probe_run(const struct sc_probe_opts *o, const struct sc_promptset *set, struct sc_probe_run *ret, sc_err *e)
{
	*ret = (struct sc_probe_run){ 0 };
	const struct curl_api *cu = sc_curl(e);
	if (!cu)
		return -ENOSYS;
	struct sc_probe_run run = { .started = (int64_t)time(NULL) };
	int r = preflight(o, &run.model, e);
	if (r < 0)
		return r;
	size_t conc = o->concurrency > 0 ? (size_t)o->concurrency : 1;
	if (conc > set->n)
		conc = set->n;
	struct slot *slots = calloc(conc, sizeof *slots);
	CURLM *m = cu->multi_init();
	if (!(run.a = calloc(set->n, sizeof *run.a)) || !slots || !m) {
		r = sc_error(e, -ENOMEM, "out of memory");
		goto out;
	}
	run.n = set->n;
	for (size_t i = 0; i < run.n; i++)
		run.a[i] = (struct sc_probe_answer){ .prompt = &set->v[i], .completion_tokens = -1 };
	double t0 = sc_now_msf(), last_progress = 0;
	size_t next = 0, done = 0, in_flight = 0;
	while (done < run.n) {
		for (size_t k = 0; k < conc && next < run.n; k++) {
			if (slots[k].c)
				continue;
			if (start(cu, m, o, run.model, &set->v[next], &slots[k], next) < 0) {
				r = sc_error(e, -ENOMEM, "out of memory");
				goto out;
			}
			next++;
			if (++in_flight > run.max_in_flight)
				run.max_in_flight = in_flight;
		}
		int still = 0;
		if (cu->multi_perform(m, &still) != CURLM_OK) {
			r = sc_error(e, -EIO, "libcurl's multi interface failed");
			goto out;
		}
		CURLMsg *msg;
		int q;
		while ((msg = cu->multi_info_read(m, &q))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			struct slot *s = NULL;
			cu->easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
			CURLcode cc = msg->data.result;
			cu->multi_remove_handle(m, s->c);
			struct sc_probe_answer *a = &run.a[s->idx];
			finish(cu, o, s, cc, a);
			judge(o, a);
			slot_free(cu, s);
			in_flight--;
			done++;
		}
		double now = sc_now_msf() - t0;
		if (o->progress && (done == run.n || now - last_progress >= 100)) {
			o->progress(o->ud, done, run.n, now);
			last_progress = now;
		}
		if (done < run.n && still)
			cu->multi_poll(m, NULL, 0, 1000, NULL);
	}
	run.elapsed_ms = sc_now_msf() - t0;
	*ret = run;
	run = (struct sc_probe_run){ 0 };
	r = 0;
out:
	for (size_t k = 0; slots && k < conc; k++) {
		if (slots[k].c)
			cu->multi_remove_handle(m, slots[k].c);
		slot_free(cu, &slots[k]);
	}
	free(slots);
	if (m)
		cu->multi_cleanup(m);
	sc_probe_run_done(&run);
	return r;
}
