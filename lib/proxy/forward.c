/* The upstream side: a request goes to its engine on a kept-alive
 * connection; an answer with a length is sent whole, a stream (SSE, or no
 * length) is passed on chunk by chunk as it arrives. An engine that fails
 * mid-stream ends the client's stream with an SSE error event; a client
 * that hangs up closes its upstream request at once. */
#include "px.h"
#include "../base/time.h"
#include "../base/util.h"

#include <strings.h>

/* kept-alive upstream connections a model keeps; more are made on demand */
#define POOL_IDLE_MAX 256

/* A client slower than its stream: past this much unsent, its engine's
 * connection is not read until the client has taken all of it, as nginx
 * does with proxy_buffering off. The engine's socket fills and it waits;
 * the proxy's memory does not grow with a client that stopped reading. */
#define STREAM_PAUSE_AT (1u << 20)

/* Headers that belong to one hop, or carry the client's secret: never
 * passed to an engine (RFC 9110 7.6.1; the token stays at the door). */
static bool hop_header(const char *k)
{
	static const char *const drop[] = { "connection", "keep-alive", "proxy-connection", "te", "trailer",
					    "transfer-encoding", "upgrade", "proxy-authorization", "authorization",
					    "x-api-key", "host", "content-length", "expect" };
	size_t n = strlen(k);
	/* by length first: every header of every request passes here */
	for (size_t i = 0; i < ARRAY_SIZE(drop); i++)
		if (strlen(drop[i]) == n && strcasecmp(k, drop[i]) == 0)
			return true;
	return false;
}

/* RFC 9110 5.6.2: a field name is a token. */
static bool tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* What evhttp lets through but a request or an answer must not have, as
 * the reason to refuse it; NULL: none. A name that is no token
 * ("Transfer-Encoding :") is not a header evhttp frames by, yet an
 * engine's parser may trim it and frame by it: the two would read
 * different requests from one connection (RFC 9112 5.1, 6.3). Two
 * Content-Lengths or two credentials leave the same doubt about which
 * one counts. */
const char *sc_px_bad_headers(struct evkeyvalq *h)
{
	static const char *const once[] = { "content-length", "transfer-encoding", "host", "authorization",
					    "x-api-key" };
	unsigned seen[ARRAY_SIZE(once)] = { 0 };
	for (struct evkeyval *kv = h->tqh_first; kv; kv = kv->next.tqe_next) {
		const unsigned char *c = (const unsigned char *)kv->key;
		if (!*c)
			return "a header has an empty name";
		for (; *c; c++)
			if (!tchar(*c))
				return "a header name has a space or a character a name cannot have";
		size_t n = (size_t)(c - (const unsigned char *)kv->key);
		for (c = (const unsigned char *)kv->value; *c; c++)
			if ((*c < 0x20 && *c != '\t') || *c == 0x7f)
				return "a header value has a control character";
		/* by length first, as hop_header: every header of every request passes here */
		for (size_t i = 0; i < ARRAY_SIZE(once); i++)
			if (strlen(once[i]) == n && strcasecmp(kv->key, once[i]) == 0 && ++seen[i] > 1)
				return "a header that may appear once appears twice (Content-Length, Transfer-Encoding, "
				       "Host, Authorization or x-api-key)";
	}
	return NULL;
}

/* What evhttp queued on a connection goes out now, in this turn of the
 * loop: evhttp would arm EPOLLOUT and write in the next turn, three system
 * calls (epoll_ctl in, the wakeup, epoll_ctl out) where one does, and an
 * SSE event a turn late. The callback libevent runs after its own write
 * runs the same way (bufferevent_trigger: a request ends, a response is
 * awaited). A write that fails or leaves bytes changes nothing: libevent
 * goes on as without us. Call it last: the callback may end the request
 * or free the connection. */
void sc_px_flush(struct px *px, struct evhttp_connection *evcon)
{
	const struct event_api *ev = px->ev;
	struct bufferevent *bev = evcon ? ev->conn_get_bufferevent(evcon) : NULL;
	struct evbuffer *out = bev ? ev->bev_get_output(bev) : NULL;
	int fd = bev ? ev->bev_getfd(bev) : -1;
	if (fd < 0 || ev->buf_length(out) == 0)
		return;
	/* the socket bufferevent keeps its output's front frozen but while it
	 * writes (bufferevent_sock.c, bufferevent_writecb): so do we */
	ev->buf_unfreeze(out, 1);
	int r = ev->buf_write(out, fd);
	ev->buf_freeze(out, 1);
	if (r < 0 || ev->buf_length(out) > 0)
		return;
	ev->bev_disable(bev, EV_WRITE);
	ev->bev_trigger(bev, EV_WRITE, 0);
}

static struct px_up *up_take(struct px *px, struct px_model *m, const char *host, int port)
{
	/* an idle one to the same place (a reload may move a model) */
	for (struct px_up **p = &m->idle; *p; p = &(*p)->next) {
		struct px_up *u = *p;
		if (u->port == port && streq(u->host, host)) {
			*p = u->next;
			u->next = NULL;
			m->n_idle--;
			return u;
		}
	}
	struct px_up *u = calloc(1, sizeof *u);
	if (!u)
		return NULL;
	u->px = px;
	u->port = port;
	snprintf(u->host, sizeof u->host, "%s", host);
	if (!(u->evcon = px->ev->conn_new(px->base, NULL, host, (ev_uint16_t)port))) {
		free(u);
		return NULL;
	}
	px->ev->conn_set_timeout(u->evcon, (int)px->reg->r.proxy.upstream_timeout);
	px->ev->conn_set_retries(u->evcon, 0);
	px->ev->conn_set_max_headers_size(u->evcon, PX_HEADERS_MAX);
	return u;
}

static void up_free(struct px *px, struct px_up *u)
{
	if (u->evcon)
		px->ev->conn_free(u->evcon);
	if (u->held)
		px->ev->buf_free(u->held);
	free(u);
}

static void up_resume(struct px *px, struct px_up *u)
{
	if (!u->paused)
		return;
	u->paused = false;
	px->ev->bev_enable(px->ev->conn_get_bufferevent(u->evcon), EV_READ);
}

/* send_reply_chunk_with_cb: the client's connection has sent all it was
 * given. Its record outlives every write callback (freed when evhttp
 * closes the connection). */
static void client_drained(struct evhttp_connection *evcon, void *arg)
{
	struct px_conn *c = arg;
	(void)evcon;
	if (c->rq && c->rq->up)
		up_resume(c->px, c->rq->up);
}

static void up_put(struct px *px, struct px_model *m, struct px_up *u)
{
	up_resume(px, u);
	u->paused_once = false;
	u->rq = NULL;
	u->streaming = u->to_error = u->failed = false;
	if (u->held)
		px->ev->buf_drain(u->held, px->ev->buf_length(u->held));
	/* bytes past the end of the answer would be read as the next answer:
	 * an engine that sent them is not trusted with another request */
	struct bufferevent *bev = u->evcon ? px->ev->conn_get_bufferevent(u->evcon) : NULL;
	if (m->n_idle >= POOL_IDLE_MAX || !bev || px->ev->buf_length(px->ev->bev_get_input(bev)) > 0) {
		up_free(px, u);
		return;
	}
	u->next = m->idle;
	m->idle = u;
	m->n_idle++;
}

void sc_px_pool_done(struct px *px, struct px_model *m)
{
	while (m->idle) {
		struct px_up *u = m->idle;
		m->idle = u->next;
		up_free(px, u);
	}
	m->n_idle = 0;
}

/* The request no longer needs its upstream: back to the pool, or (cancel)
 * its request dropped, which closes the connection the engine sees. */
void sc_px_up_release(struct px_req *rq, bool cancel)
{
	struct px_up *u = rq->up;
	if (!u)
		return;
	rq->up = NULL;
	u->rq = NULL;
	if (cancel) {
		/* the ureq callbacks hold u; cancelling frees the request and
		 * resets the connection, so the engine stops generating */
		struct evhttp_connection *c = u->evcon;
		u->evcon = NULL;
		if (c)
			rq->px->ev->conn_free(c);
		up_free(rq->px, u);
		return;
	}
	up_put(rq->px, rq->m, u);
}

static int up_header(struct evhttp_request *ureq, void *arg)
{
	struct px_up *u = arg;
	struct px_req *rq = u->rq;
	const struct event_api *ev = u->px->ev;
	if (!rq || !rq->req)
		return -1;
	int code = ev->req_response_code(ureq);
	/* evhttp takes a 1xx for the answer; no engine sends one here */
	if (code < 200 || code > 599 || sc_px_bad_headers(ev->req_input_headers(ureq))) {
		u->failed = true;
		u->err = EVREQ_HTTP_INVALID_HEADER;
		return -1;
	}
	struct evkeyvalq *in = ev->req_input_headers(ureq);
	const char *ctype = ev->find_header(in, "Content-Type");
	bool sse = ctype && strncasecmp(ctype, "text/event-stream", 17) == 0;
	u->streaming = sse || !ev->find_header(in, "Content-Length");
	if (rq->started) {
		/* the client has an SSE reply (loading comments) already: a
		 * refusal can only become an error event */
		u->to_error = code != 200;
		u->streaming = !u->to_error;
		rq->status = code;
		return 0;
	}
	rq->status = code;
	struct evkeyvalq *out = ev->req_output_headers(rq->req);
	for (struct evkeyval *h = in->tqh_first; h; h = h->next.tqe_next)
		if (!hop_header(h->key))
			ev->add_header(out, h->key, h->value);
	if (!u->streaming)
		return 0;
	/* any proxy in front (nginx, a tunnel) must not buffer a stream */
	ev->add_header(out, "X-Accel-Buffering", "no");
	if (sse && !ev->find_header(out, "Cache-Control"))
		ev->add_header(out, "Cache-Control", "no-cache");
	ev->send_reply_start(rq->req, code, NULL);
	rq->started = true;
	return 0;
}

static void up_chunk(struct evhttp_request *ureq, void *arg)
{
	struct px_up *u = arg;
	struct px_req *rq = u->rq;
	const struct event_api *ev = u->px->ev;
	struct evbuffer *in = ev->req_input_buffer(ureq);
	if (!rq || !rq->req) {
		ev->buf_drain(in, ev->buf_length(in));
		return;
	}
	if (u->streaming && rq->started) {
		struct evhttp_connection *client = ev->req_connection(rq->req);
		if (!rq->conn) {
			ev->send_reply_chunk(rq->req, in);
			sc_px_flush(u->px, client);
			return;
		}
		ev->send_reply_chunk_with_cb(rq->req, in, client_drained, rq->conn);
		sc_px_flush(u->px, client);  /* a chunk's callback ends nothing */
		if (ev->buf_length(ev->bev_get_output(ev->conn_get_bufferevent(client))) > STREAM_PAUSE_AT && !u->paused) {
			u->paused = true;
			ev->bev_disable(ev->conn_get_bufferevent(u->evcon), EV_READ);
			if (!u->paused_once)
				sc_px_log(u->px, "%s: client=%s reads slower than the stream: the engine waits for it", rq->m->name,
					  rq->label ? rq->label : rq->client);
			u->paused_once = true;
		}
		return;
	}
	if (!u->held && !(u->held = ev->buf_new()))
		return;
	ev->buf_add_buffer(u->held, in);
}

static void up_error(enum evhttp_request_error err, void *arg)
{
	struct px_up *u = arg;
	if (u->failed)
		return;  /* up_header said why already */
	u->failed = true;
	u->err = err;
}

static const char *up_error_name(enum evhttp_request_error err)
{
	switch (err) {
	case EVREQ_HTTP_TIMEOUT:
		return "it did not answer within upstream-timeout";
	case EVREQ_HTTP_EOF:
		return "it closed the connection before the answer was complete";
	case EVREQ_HTTP_INVALID_HEADER:
		return "its answer was not valid HTTP";
	case EVREQ_HTTP_BUFFER_ERROR:
		return "the connection failed";
	default:
		return "the request failed";
	}
}

static void up_done(struct evhttp_request *ureq, void *arg)
{
	struct px_up *u = arg;
	struct px_req *rq = u->rq;
	struct px *px = u->px;
	const struct event_api *ev = px->ev;
	if (!rq) {
		/* its client went away and the request was let go: nothing waits */
		return;
	}
	/* an engine that closed without any answer leaves a code of 0 */
	if (ureq && !u->failed && !ev->req_response_code(ureq)) {
		u->failed = true;
		u->err = EVREQ_HTTP_EOF;
	}
	if (!ureq || u->failed) {
		px->upstream_errors++;
		/* no request and no error callback: the connection never came up */
		const char *why = u->failed ? up_error_name(u->err) : "it is not reachable";
		sc_px_log(px, "%s: upstream %s:%d: %s", rq->m->name, u->host, u->port, why);
		sc_px_watch_forget(rq->m);  /* the engine may be gone: ask the truth again */
		/* the connection is reset: the next request makes a new one */
		sc_px_up_release(rq, false);
		sc_px_reply_failure(rq, 502, "upstream_error", "the engine of %s failed: %s", rq->m->name, why);
		return;
	}
	if (u->to_error) {
		struct evbuffer *b = u->held;
		size_t n = b ? ev->buf_length(b) : 0;
		char *text = n ? (char *)ev->buf_pullup(b, -1) : NULL;
		int code = rq->status;
		_cleanup_free_ char *copy = text ? strndup(text, n > 400 ? 400 : n) : NULL;
		sc_px_up_release(rq, false);
		sc_px_reply_failure(rq, code, "upstream_error", "the engine of %s answered %d: %s", rq->m->name, code,
				     copy ? copy : "(no body)");
		return;
	}
	struct evhttp_connection *client = ev->req_connection(rq->req);
	if (u->streaming) {
		sc_px_up_release(rq, false);
		ev->send_reply_end(rq->req);
		sc_px_req_finish(rq, rq->status);
		sc_px_flush(px, client);
		return;
	}
	struct evbuffer *held = u->held;
	u->held = NULL;
	sc_px_up_release(rq, false);
	ev->send_reply(rq->req, rq->status, NULL, held);
	if (held)
		ev->buf_free(held);
	sc_px_req_finish(rq, rq->status);
	sc_px_flush(px, client);
}

void sc_px_forward(struct px *px, struct px_req *rq, const char *host, int port)
{
	const struct event_api *ev = px->ev;
	struct px_model *m = rq->m;
	struct px_up *u = up_take(px, m, host, port);
	struct evhttp_request *ureq = u ? ev->req_new(up_done, u) : NULL;
	if (!ureq) {
		if (u)
			up_put(px, m, u);
		sc_px_reply_json(rq, 503, "server_error", "proxy_error", "out of memory");
		return;
	}
	u->rq = rq;
	rq->up = u;
	rq->inflight = true;
	m->inflight++;
	px->notes_dirty = true;
	ev->req_set_header_cb(ureq, up_header);
	ev->req_set_chunked_cb(ureq, up_chunk);
	ev->req_set_error_cb(ureq, up_error);
	struct evkeyvalq *out = ev->req_output_headers(ureq), *in = ev->req_input_headers(rq->req);
	for (struct evkeyval *h = in->tqh_first; h; h = h->next.tqe_next)
		if (!hop_header(h->key))
			ev->add_header(out, h->key, h->value);
	char hp[300];
	snprintf(hp, sizeof hp, strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
	ev->add_header(out, "Host", hp);
	if (rq->body)
		ev->buf_add_buffer(ev->req_output_buffer(ureq), rq->body);
	if (ev->make_request(u->evcon, ureq, rq->cmd, rq->route) < 0) {
		/* make_request freed ureq */
		sc_px_up_release(rq, true);
		sc_px_reply_json(rq, 502, "server_error", "upstream_error", "the engine of %s is not reachable", m->name);
		return;
	}
	sc_px_flush(px, u->evcon);
}
