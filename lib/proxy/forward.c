/* The upstream side: a request goes to its engine on a kept-alive
 * connection, written at once; the answer is parsed by http-parser as it
 * comes. One with a length is sent whole, a stream (SSE, or no length) is
 * passed on chunk by chunk as it arrives. An engine that fails mid-stream
 * ends the client's stream with an SSE error event; a client that hangs
 * up closes its upstream request at once. */
#include "px.h"
#include "../base/time.h"
#include "../base/util.h"

#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

/* kept-alive upstream connections a model keeps; more are made on demand */
#define POOL_IDLE_MAX 256

/* An answer with a length past this is passed on as it comes, not held */
#define HELD_MAX (1u << 20)

/* A client slower than its stream: past this much unsent, its engine's
 * connection is not read until the client has taken all of it, as nginx
 * does with proxy_buffering off. The engine's socket fills and it waits;
 * the proxy's memory does not grow with a client that stopped reading. */
#define STREAM_PAUSE_AT (1u << 20)

/* Where the header name k (n bytes) is in names, or -1. By length first:
 * every header of every request and answer passes here. */
static int name_index(const char *k, size_t n, const char *const *names, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (strlen(names[i]) == n && strcasecmp(k, names[i]) == 0)
			return (int)i;
	return -1;
}

/* Headers that belong to one hop, or carry the client's secret: never
 * passed to an engine (RFC 9110 7.6.1; the token stays at the door). */
bool sc_px_hop_header(const char *k)
{
	static const char *const drop[] = { "connection", "keep-alive", "proxy-connection", "te", "trailer",
					    "transfer-encoding", "upgrade", "proxy-authorization", "authorization",
					    "x-api-key", "host", "content-length", "expect" };
	return name_index(k, strlen(k), drop, ARRAY_SIZE(drop)) >= 0;
}

/* RFC 9110 5.6.2: a field name is a token. */
static bool tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* What http-parser lets through but a request or an answer must not
 * have, as the reason to refuse it; NULL: none. A name that is no token
 * ("Transfer-Encoding :", which http-parser reads as a name with a space)
 * is not a header the proxy frames by, yet an engine's parser may trim it
 * and frame by it: the two would read different requests from one
 * connection (RFC 9112 5.1, 6.3). Two credentials, or two Hosts, leave the
 * same doubt about which one counts. */
const char *sc_px_bad_headers(const struct px_hdrs *h)
{
	static const char *const once[] = { "content-length", "transfer-encoding", "host", "authorization",
					    "x-api-key" };
	unsigned seen[ARRAY_SIZE(once)] = { 0 };
	for (size_t i = 0; i < h->n; i++) {
		const char *key = sc_px_hdr_name(h, i);
		const unsigned char *c = (const unsigned char *)key;
		if (!*c)
			return "a header has an empty name";
		for (; *c; c++)
			if (!tchar(*c))
				return "a header name has a space or a character a name cannot have";
		size_t n = (size_t)(c - (const unsigned char *)key);
		for (c = (const unsigned char *)sc_px_hdr_value(h, i); *c; c++)
			if ((*c < 0x20 && *c != '\t') || *c == 0x7f)
				return "a header value has a control character";
		int k = name_index(key, n, once, ARRAY_SIZE(once));
		if (k >= 0 && ++seen[k] > 1)
			return "a header that may appear once appears twice (Content-Length, Transfer-Encoding, "
			       "Host, Authorization or x-api-key)";
	}
	return NULL;
}

/* ---- the answer, parsed ---- */

static struct px_up *up_of(http_parser *p)
{
	return PX_OWNER(p, struct px_up);
}

static int on_headers_complete(http_parser *p)
{
	struct px_up *u = up_of(p);
	struct px_req *rq = u->rq;
	int code = p->status_code;
	if (sc_px_hdrs_end(&u->msg.hdrs) < 0)
		return -1;
	/* no engine sends a 1xx here; taken for the answer, it would end it */
	if (code < 200 || code > 599 || sc_px_bad_headers(&u->msg.hdrs)) {
		u->why = "its answer was not valid HTTP";
		return -1;
	}
	const char *ctype = sc_px_hdrs_find(&u->msg.hdrs, "Content-Type");
	bool sse = ctype && strncasecmp(ctype, "text/event-stream", 17) == 0;
	/* one with a length is held and sent whole, up to a size: what an
	 * engine says it sends does not decide what the proxy keeps */
	u->streaming = sse || !sc_px_hdrs_find(&u->msg.hdrs, "Content-Length") || p->content_length > HELD_MAX;
	rq->status = code;
	if (rq->started) {
		/* the client has an SSE reply (loading comments) already: a
		 * refusal can only become an error event */
		u->to_error = code != 200;
		u->streaming = !u->to_error;
		return 0;
	}
	for (size_t i = 0; i < u->msg.hdrs.n; i++)
		if (!sc_px_hop_header(sc_px_hdr_name(&u->msg.hdrs, i)))
			sc_px_reply_header(rq, sc_px_hdr_name(&u->msg.hdrs, i), sc_px_hdr_value(&u->msg.hdrs, i));
	if (!u->streaming)
		return 0;
	/* any proxy in front (nginx, a tunnel) must not buffer a stream */
	sc_px_reply_header(rq, "X-Accel-Buffering", "no");
	if (sse && !sc_px_hdrs_find(&u->msg.hdrs, "Cache-Control"))
		sc_px_reply_header(rq, "Cache-Control", "no-cache");
	sc_px_reply_start(rq, code);
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
	struct px_up *u = up_of(p);
	struct px_req *rq = u->rq;
	if (u->to_error)  /* the start of a refusal is all its error event tells */
		return sc_px_buf_size(&u->held) > 4096 || sc_px_buf_add(&u->held, at, n) == 0 ? 0 : -1;
	if (!u->streaming)
		return sc_px_buf_add(&u->held, at, n) < 0 ? -1 : 0;
	sc_px_reply_chunk(rq, at, n);
	if (sc_px_reply_unsent(rq) > STREAM_PAUSE_AT && !u->paused) {
		u->paused = true;
		if (!u->paused_once)
			sc_px_log(u->px, "%s: client=%s reads slower than the stream: the engine waits for it", rq->m->name,
				  rq->label ? rq->label : rq->client);
		u->paused_once = true;
	}
	return 0;
}

static const http_parser_settings answer_settings = {
	.on_header_field = sc_px_on_header_field,
	.on_header_value = sc_px_on_header_value,
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_message_complete = sc_px_on_message_complete,
};

/* ---- connections ---- */

static void up_cb(evutil_socket_t fd, short what, void *arg);

static void up_free(struct px *px, struct px_up *u)
{
	if (u->ev)
		px->ev->event_free(u->ev);
	if (u->wev)
		px->ev->event_free(u->wev);
	if (u->fd >= 0)
		close(u->fd);
	sc_px_buf_free(&u->out);
	sc_px_buf_free(&u->held);
	sc_px_hdrs_free(&u->msg.hdrs);
	free(u);
}

/* A socket to the engine, connecting; -1 with errno when it cannot be made */
static int up_connect(struct px_up *u)
{
	struct px *px = u->px;
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV }, *ai;
	char ps[16];
	int one = 1;
	snprintf(ps, sizeof ps, "%d", u->port);
	if (getaddrinfo(u->host, ps, &hints, &ai)) {
		errno = EHOSTUNREACH;
		return -1;
	}
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		freeaddrinfo(ai);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	int r = connect(fd, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	if (r < 0 && errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	u->wev_on = false;
	if (!(u->ev = px->ev->event_new(px->base, fd, EV_READ | EV_CLOSED | EV_ET | EV_PERSIST, up_cb, u)) ||
	    !(u->wev = px->ev->event_new(px->base, fd, EV_WRITE | EV_ET | EV_PERSIST, up_cb, u)) ||
	    px->ev->event_add(u->ev, NULL) < 0) {
		if (u->ev)
			px->ev->event_free(u->ev);
		if (u->wev)
			px->ev->event_free(u->wev);
		u->ev = u->wev = NULL;
		close(fd);
		errno = ENOMEM;
		return -1;
	}
	u->fd = fd;
	u->connected = r == 0;
	/* the end of a connect is a writable edge */
	sc_px_want_write(px, u->wev, &u->wev_on, !u->connected);
	return 0;
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
			u->reused = true;
			return u;
		}
	}
	struct px_up *u = calloc(1, sizeof *u);
	if (!u)
		return NULL;
	u->px = u->msg.px = px;
	u->m = m;
	u->fd = -1;
	u->port = port;
	snprintf(u->host, sizeof u->host, "%s", host);
	if (up_connect(u) < 0) {
		up_free(px, u);
		return NULL;
	}
	return u;
}

/* Back to its model's pool, or closed: an answer not read whole, one the
 * engine ended by closing, or bytes past its end (they would be read as
 * the next answer: an engine that sent them is not trusted again). */
static void up_put(struct px *px, struct px_up *u)
{
	struct px_model *m = u->m;
	bool keep = u->msg.done && !u->eof && !u->leftover && !u->why && px->hp->should_keep_alive(&u->hp);
	u->rq = NULL;
	if (!keep || m->n_idle >= POOL_IDLE_MAX) {
		up_free(px, u);
		return;
	}
	u->paused = u->paused_once = u->streaming = u->to_error = false;
	u->answered = u->msg.done = u->retried = false;
	sc_px_buf_reset(&u->out);
	sc_px_buf_reset(&u->held);
	sc_px_hdrs_reset(&u->msg.hdrs);
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
 * closed, so the engine sees its request dropped and stops generating. */
void sc_px_up_release(struct px_req *rq, bool cancel)
{
	struct px_up *u = rq->up;
	if (!u)
		return;
	rq->up = NULL;
	u->rq = NULL;
	if (cancel)
		up_free(rq->px, u);
	else
		up_put(rq->px, u);
}

void sc_px_up_resume(struct px_up *u)
{
	u->paused = false;
	u->px->ev->event_active(u->ev, EV_READ, 0);
}

/* The engine failed this request: 502 (or an SSE error event), and the
 * connection closed. */
static void up_fail(struct px_up *u, const char *why)
{
	struct px *px = u->px;
	struct px_req *rq = u->rq;
	px->upstream_errors++;
	sc_px_log(px, "%s: upstream %s:%d: %s", rq->m->name, u->host, u->port, why);
	sc_px_watch_forget(rq->m);  /* the engine may be gone: ask the truth again */
	sc_px_up_release(rq, true);
	sc_px_reply_failure(rq, 502, "upstream_error", "the engine of %s failed: %s", rq->m->name, why);
}

/* A kept-alive connection the engine closed just as the request went out
 * (its idle timeout): the request never reached it, and goes again once
 * on a new connection. */
static bool up_retry(struct px_up *u)
{
	struct px *px = u->px;
	if (!u->reused || u->retried || u->answered)
		return false;
	px->ev->event_free(u->ev);
	px->ev->event_free(u->wev);
	u->ev = u->wev = NULL;
	close(u->fd);
	u->fd = -1;
	u->retried = true;
	u->reused = false;
	u->out.off = 0;
	px->hp->init(&u->hp, HTTP_RESPONSE);
	u->msg.done = false;
	u->hp.data = &u->msg;
	return up_connect(u) == 0;
}

/* The answer is whole: to the client, and the connection back to the pool. */
static void up_finish(struct px_up *u)
{
	struct px_req *rq = u->rq;
	if (u->to_error) {
		size_t n = sc_px_buf_size(&u->held);
		_cleanup_free_ char *copy = n ? strndup(sc_px_buf_data(&u->held), n > 400 ? 400 : n) : NULL;
		int code = rq->status;
		sc_px_up_release(rq, false);
		sc_px_reply_failure(rq, code, "upstream_error", "the engine of %s answered %d: %s", rq->m->name, code,
				     copy ? copy : "(no body)");
		return;
	}
	if (u->streaming) {
		sc_px_up_release(rq, false);
		sc_px_reply_end(rq);
		sc_px_req_finish(rq, rq->status);
		return;
	}
	struct px_buf held = u->held;
	u->held = (struct px_buf){ 0 };
	sc_px_up_release(rq, false);
	sc_px_reply_all(rq, rq->status, sc_px_buf_data(&held), sc_px_buf_size(&held));
	sc_px_buf_free(&held);
	sc_px_req_finish(rq, rq->status);
}

static void pool_drop(struct px *px, struct px_up *u)
{
	struct px_model *m = u->m;
	for (struct px_up **p = &m->idle; *p; p = &(*p)->next)
		if (*p == u) {
			*p = u->next;
			m->n_idle--;
			break;
		}
	up_free(px, u);
}

/* The request, as much as the socket takes now; -1: the connection failed */
static int up_send(struct px_up *u)
{
	int r = 0;
	while (sc_px_buf_size(&u->out)) {
		ssize_t n = send(u->fd, u->out.p + u->out.off, sc_px_buf_size(&u->out), MSG_NOSIGNAL);
		if (n > 0)
			u->out.off += (size_t)n;
		else if (n < 0 && errno == EAGAIN)
			break;
		else if (!(n < 0 && errno == EINTR)) {
			r = -1;
			break;
		}
	}
	sc_px_want_write(u->px, u->wev, &u->wev_on, r == 0 && sc_px_buf_size(&u->out));
	return r;
}

/* Every return below is the last use of u: finishing or failing may
 * free it, or hand it to another request. */
static void up_cb(evutil_socket_t fd, short what, void *arg)
{
	struct px_up *u = arg;
	struct px *px = u->px;
	if (!u->rq) {
		/* idle: the engine closed it (or sent what no one asked for) */
		char b;
		if (recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) < 0 && errno == EAGAIN)
			return;
		pool_drop(px, u);
		return;
	}
	if (!u->connected) {
		int err = 0;
		socklen_t l = sizeof err;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l) < 0)
			err = errno;
		if (err) {
			up_fail(u, "it is not reachable");
			return;
		}
		if (!(what & EV_WRITE))
			return;
		u->connected = true;
	}
	if (up_send(u) < 0) {
		if (!up_retry(u))
			up_fail(u, "the connection failed");
		return;
	}
	while (!u->paused && !u->msg.done) {
		char buf[64 << 10];
		bool more;
		ssize_t n = sc_px_read(fd, buf, sizeof buf, what, &more);
		if (n > 0) {
			u->answered = true;
			u->deadline = sc_now_ms() + px->reg->r.proxy.upstream_timeout * 1000;
			size_t k = px->hp->execute(&u->hp, &answer_settings, buf, (size_t)n);
			enum http_errno err = HTTP_PARSER_ERRNO(&u->hp);
			if (err == HPE_PAUSED && u->msg.done) {
				u->leftover = k < (size_t)n;
				break;
			}
			if (err != HPE_OK) {
				up_fail(u, u->why ? u->why : "its answer was not valid HTTP");
				return;
			}
			if (!more)
				return;
			continue;
		}
		if (n == -EAGAIN)
			return;
		if (up_retry(u))
			return;
		if (n == 0) {
			/* an answer without a length ends here; any other is cut */
			u->eof = true;
			px->hp->execute(&u->hp, &answer_settings, NULL, 0);
			if (u->msg.done)
				break;
		}
		up_fail(u, n == 0 ? "it closed the connection before the answer was complete" : "the connection failed");
		return;
	}
	if (u->msg.done)
		up_finish(u);
}

/* Once a second, for a request whose client waits: an engine silent for
 * upstream-timeout fails it (one held back by a slow client is not). */
void sc_px_ups_sweep(struct px *px, struct px_req *rq, int64_t now)
{
	struct px_up *u = rq->up;
	if (u && !u->paused && now > u->deadline)
		up_fail(u, "it did not answer within upstream-timeout");
}

void sc_px_forward(struct px *px, struct px_req *rq, const char *host, int port)
{
	struct px_model *m = rq->m;
	struct px_up *u = up_take(px, m, host, port);
	if (!u) {
		px->upstream_errors++;
		sc_px_log(px, "%s: upstream %s:%d: %s", m->name, host, port, strerror(errno));
		sc_px_watch_forget(m);
		sc_px_reply_json(rq, 502, "server_error", "upstream_error", "the engine of %s is not reachable", m->name);
		return;
	}
	u->rq = rq;
	rq->up = u;
	rq->inflight = true;
	m->inflight++;
	px->notes_dirty = true;
	px->hp->init(&u->hp, HTTP_RESPONSE);
	u->msg.done = false;
	u->hp.data = &u->msg;
	u->deadline = sc_now_ms() + px->reg->r.proxy.upstream_timeout * 1000;
	size_t blen = sc_px_buf_size(&rq->body);
	bool v6 = strchr(host, ':');
	struct px_buf *o = &u->out;
	if ((sc_px_buf_add(o, "POST ", 5) | sc_px_buf_adds(o, rq->route) | sc_px_buf_add(o, " HTTP/1.1\r\nHost: ", 17) |
	     sc_px_buf_adds(o, v6 ? "[" : "") | sc_px_buf_adds(o, host) | sc_px_buf_adds(o, v6 ? "]:" : ":") |
	     sc_px_buf_addu(o, (unsigned)port) | sc_px_buf_add(o, "\r\n", 2) |
	     sc_px_buf_add(o, sc_px_buf_data(&rq->fwd), sc_px_buf_size(&rq->fwd)) |
	     sc_px_buf_add(o, "Content-Length: ", 16) | sc_px_buf_addu(o, blen) | sc_px_buf_add(o, "\r\n\r\n", 4) |
	     sc_px_buf_add(o, sc_px_buf_data(&rq->body), blen)) < 0) {
		sc_px_up_release(rq, true);
		sc_px_reply_json(rq, 503, "server_error", "proxy_error", "out of memory");
		return;
	}
	/* written now if the connection is up; else at its first writable edge */
	if (u->connected && up_send(u) < 0 && !up_retry(u))
		up_fail(u, "the connection failed");
}
