/* The client side: a connection reads one request at a time with
 * http-parser, hands it to route.c whole, and writes the reply the moment
 * it is made. Each socket is registered once, edge-triggered, for reading
 * and writing: a request costs no epoll_ctl, and an answer goes out in the
 * loop turn it arrives (a write that does not fit waits for the socket's
 * next writable edge). Closing is only ever done here, in the connection's
 * own callback, the sweep, or at the end, never under a caller that still
 * holds the request. */
#include "px.h"
#include "../base/time.h"
#include "../base/util.h"

#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Bytes read past a request while it runs (a pipelined request, kept for
 * later): beyond this the client is not read until its request ends. */
#define HOLD_MAX (64u << 10)
/* How long a refused body is read and dropped before the close */
#define LINGER_MS 2000
/* An output buffer larger than this, once sent, is let go */
#define STREAM_KEEP_MAX (256u << 10)
/* read() size, and the least room kept for one */
#define READ_CHUNK (16u << 10)

static struct px_conn *conn_of(http_parser *p)
{
	return PX_OWNER(p, struct px_conn);
}

static int on_message_begin(http_parser *p)
{
	struct px_conn *c = conn_of(p);
	sc_px_buf_reset(&c->url);
	sc_px_buf_reset(&c->body);
	sc_px_hdrs_reset(&c->msg.hdrs);
	c->msg.done = c->too_big = false;
	return 0;
}

static int on_url(http_parser *p, const char *at, size_t n)
{
	struct px_conn *c = conn_of(p);
	return sc_px_buf_size(&c->url) + n > PX_HEADERS_MAX || sc_px_buf_add(&c->url, at, n) < 0 ? -1 : 0;
}

static void conn_write(struct px_conn *c);

static int on_headers_complete(http_parser *p)
{
	struct px_conn *c = conn_of(p);
	if (sc_px_buf_add(&c->url, "", 1) < 0 || sc_px_hdrs_end(&c->msg.hdrs) < 0)
		return -1;
	c->keep = c->px->hp->should_keep_alive(p);
	/* a length past body-max is refused before its body is read */
	if (p->content_length != ULLONG_MAX && p->content_length > c->px->reg->r.proxy.body_max) {
		c->too_big = true;
		c->px->hp->pause(p, 1);
		return 0;
	}
	/* curl sends large bodies only when asked for them (RFC 9110 10.1.1) */
	const char *x = sc_px_hdrs_find(&c->msg.hdrs, "Expect");
	if (x && strcasecmp(x, "100-continue") == 0 && p->http_minor >= 1 &&
	    sc_px_buf_add(&c->out, "HTTP/1.1 100 Continue\r\n\r\n", 25) == 0)
		conn_write(c);
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
	struct px_conn *c = conn_of(p);
	if (sc_px_buf_size(&c->body) + n > c->px->reg->r.proxy.body_max) {
		c->too_big = true;  /* a chunked body that grew past it */
		c->px->hp->pause(p, 1);
		return 0;
	}
	c->deadline = sc_now_ms() + c->px->reg->r.proxy.timeout * 1000;
	return sc_px_buf_add(&c->body, at, n) < 0 ? -1 : 0;
}

static const http_parser_settings request_settings = {
	.on_message_begin = on_message_begin,
	.on_url = on_url,
	.on_header_field = sc_px_on_header_field,
	.on_header_value = sc_px_on_header_value,
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_message_complete = sc_px_on_message_complete,
};

/* The socket is edge-triggered: a callback of our own comes back through
 * the loop (a close, a pipelined request, bytes left unread). */
static void conn_poke(struct px_conn *c)
{
	c->px->ev->event_active(c->ev, EV_READ, 0);
}

static void conn_write(struct px_conn *c)
{
	struct px *px = c->px;
	bool wrote = false;
	while (sc_px_buf_size(&c->out)) {
		ssize_t n = send(c->fd, c->out.p + c->out.off, sc_px_buf_size(&c->out), MSG_NOSIGNAL);
		if (n > 0) {
			c->out.off += (size_t)n;
			wrote = true;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN) {
			c->broken = true;
			conn_poke(c);
		}
		break;
	}
	if (wrote)
		c->deadline = sc_now_ms() + px->reg->r.proxy.timeout * 1000;
	sc_px_want_write(px, c->wev, &c->wev_on, sc_px_buf_size(&c->out) && !c->broken);
	if (sc_px_buf_size(&c->out))
		return;
	/* a slow client's backlog is not kept for the life of its connection */
	if (c->out.cap > STREAM_KEEP_MAX)
		sc_px_buf_free(&c->out);
	else
		sc_px_buf_reset(&c->out);
	if (c->rq && c->rq->up && c->rq->up->paused)
		sc_px_up_resume(c->rq->up);
	if (c->closing)
		conn_poke(c);
}

/* ---- replies ---- */

/* Date, made once a second (RFC 9110 6.6.1) */
static const char *http_date(void)
{
	static char buf[40];
	static time_t made;
	time_t now = time(NULL);
	if (now != made) {
		struct tm tm;
		gmtime_r(&now, &tm);
		strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
		made = now;
	}
	return buf;
}

void sc_px_reply_header(struct px_req *rq, const char *name, const char *value)
{
	struct px_buf *b = &rq->reply_hdrs;
	sc_px_buf_adds(b, name);
	sc_px_buf_add(b, ": ", 2);
	sc_px_buf_adds(b, value);
	sc_px_buf_add(b, "\r\n", 2);
}

/* the status line and the headers; len < 0: a body in chunks (HTTP/1.1)
 * or until the connection closes (HTTP/1.0) */
static void head(struct px_req *rq, int code, long long len)
{
	struct px_conn *c = rq->conn;
	const char *reason = rq->px->hp->status_str((enum http_status)code);
	rq->status = code;
	rq->chunked = len < 0 && c->hp.http_minor >= 1;
	if (len < 0 && !rq->chunked)
		c->keep = false;
	struct px_buf *o = &c->out;
	sc_px_buf_add(o, "HTTP/1.1 ", 9);
	sc_px_buf_addu(o, (unsigned)code);
	sc_px_buf_add(o, " ", 1);
	sc_px_buf_adds(o, reason ? reason : "Unknown");
	sc_px_buf_add(o, "\r\nDate: ", 8);
	sc_px_buf_adds(o, http_date());
	sc_px_buf_add(o, "\r\n", 2);
	sc_px_buf_add(o, sc_px_buf_data(&rq->reply_hdrs), sc_px_buf_size(&rq->reply_hdrs));
	if (len >= 0) {
		sc_px_buf_add(o, "Content-Length: ", 16);
		sc_px_buf_addu(o, (unsigned long long)len);
		sc_px_buf_add(o, "\r\n", 2);
	} else if (rq->chunked) {
		sc_px_buf_add(o, "Transfer-Encoding: chunked\r\n", 28);
	}
	if (!c->keep)
		sc_px_buf_add(o, "Connection: close\r\n", 19);
	sc_px_buf_add(o, "\r\n", 2);
}

void sc_px_reply_all(struct px_req *rq, int code, const char *body, size_t len)
{
	rq->status = code;
	if (!rq->conn)
		return;
	head(rq, code, (long long)len);
	if (!rq->head)
		sc_px_buf_add(&rq->conn->out, body, len);
	conn_write(rq->conn);
}

void sc_px_reply_start(struct px_req *rq, int code)
{
	rq->status = code;
	rq->started = true;
	if (!rq->conn)
		return;
	head(rq, code, -1);
	conn_write(rq->conn);
}

void sc_px_reply_chunk(struct px_req *rq, const char *p, size_t n)
{
	struct px_conn *c = rq->conn;
	if (!c || !n)
		return;
	if (rq->chunked)
		sc_px_buf_printf(&c->out, "%zx\r\n", n);
	sc_px_buf_add(&c->out, p, n);
	if (rq->chunked)
		sc_px_buf_add(&c->out, "\r\n", 2);
	conn_write(c);
}

void sc_px_reply_end(struct px_req *rq)
{
	struct px_conn *c = rq->conn;
	if (!c)
		return;
	if (rq->chunked)
		sc_px_buf_add(&c->out, "0\r\n\r\n", 5);
	conn_write(c);
}

size_t sc_px_reply_unsent(const struct px_req *rq)
{
	return rq->conn ? sc_px_buf_size(&rq->conn->out) : 0;
}

void sc_px_conn_request_done(struct px_conn *c)
{
	c->rq = NULL;
	c->deadline = sc_now_ms() + c->px->reg->r.proxy.timeout * 1000;
	if (!c->keep)
		c->closing = true;
	/* a pipelined request waits, or the close once the reply is out */
	if (sc_px_buf_size(&c->in) || (c->closing && !sc_px_buf_size(&c->out)))
		conn_poke(c);
}

/* ---- reading ---- */

static struct px_req *req_new(struct px_conn *c)
{
	struct px *px = c->px;
	struct px_req *rq = calloc(1, sizeof *rq);
	/* a request refused before its headers ended has a URL without its
	 * NUL, or none (then no method either) */
	size_t ul = sc_px_buf_size(&c->url);
	if (!rq || !(rq->uri = ul ? strndup(sc_px_buf_data(&c->url), ul) : strdup("-"))) {
		free(rq);
		return NULL;
	}
	rq->px = px;
	rq->conn = c;
	rq->method = ul ? px->hp->method_str((enum http_method)c->hp.method) : "-";
	rq->head = ul && c->hp.method == HTTP_HEAD;
	rq->t0_ms = sc_now_ms();
	snprintf(rq->client, sizeof rq->client, "%s", c->peer);
	/* the body moves to the request: it may wait in a queue */
	rq->body = c->body;
	c->body = (struct px_buf){ 0 };
	c->rq = rq;
	return rq;
}

/* What is in c->in, parsed: a request read whole goes to route.c; one
 * that cannot be read is refused and the connection closes. */
static void parse(struct px_conn *c)
{
	struct px *px = c->px;
	while (!c->rq && !c->closing && !c->broken && sc_px_buf_size(&c->in)) {
		size_t avail = sc_px_buf_size(&c->in);
		size_t n = px->hp->execute(&c->hp, &request_settings, c->in.p + c->in.off, avail);
		enum http_errno err = HTTP_PARSER_ERRNO(&c->hp);
		c->in.off += n;
		if (err == HPE_OK)
			return;  /* all taken, the request not yet whole */
		if (err == HPE_PAUSED && c->msg.done && !c->too_big) {
			px->hp->pause(&c->hp, 0);
			c->msg.done = false;
			struct px_req *rq = req_new(c);
			if (!rq) {
				c->broken = true;
				return;
			}
			sc_px_handle(rq, &c->msg.hdrs);
			continue;
		}
		c->keep = false;
		struct px_req *rq = req_new(c);
		if (!rq) {
			c->broken = true;
			return;
		}
		if (c->too_big)
			sc_px_refuse(rq, 413, "body_too_large", "the request body is larger than body-max");
		else if (err == HPE_HEADER_OVERFLOW || err == HPE_CB_header_field || err == HPE_CB_header_value ||
			 err == HPE_CB_url)
			sc_px_refuse(rq, 431, "headers_too_large", "the request's headers pass 64 KiB");
		else
			sc_px_refuse(rq, 400, "bad_request", px->hp->errno_description(err));
		return;
	}
}

/* A body refused as too big is still coming: closed with it unread, the
 * socket would send a reset, and the client could lose the 413 before it
 * read it. So the proxy stops sending, reads and drops what comes for up
 * to LINGER_MS (the sweep ends it), and closes at the client's end, as
 * nginx's lingering_close. true: the client has closed. */
static bool lingered(struct px_conn *c)
{
	if (!c->lingering) {
		c->lingering = true;
		shutdown(c->fd, SHUT_WR);
		c->deadline = sc_now_ms() + LINGER_MS;
	}
	char drop[16384];
	for (;;) {
		ssize_t n = read(c->fd, drop, sizeof drop);
		if (n > 0 || (n < 0 && errno == EINTR))
			continue;
		return !(n < 0 && errno == EAGAIN);
	}
}

static void conn_cb(evutil_socket_t fd, short what, void *arg)
{
	struct px_conn *c = arg;
	struct px *px = c->px;
	if (!c->broken && sc_px_buf_size(&c->out))
		conn_write(c);
	if (c->broken)
		goto close;
	if (c->closing && !sc_px_buf_size(&c->out)) {
		if (!c->too_big || lingered(c))
			goto close;
		return;
	}
	for (;;) {
		parse(c);
		if (c->broken)
			goto close;
		if (c->closing || (c->rq && sc_px_buf_size(&c->in) >= HOLD_MAX))
			return;
		char *space = sc_px_buf_space(&c->in, READ_CHUNK);
		if (!space)
			goto close;
		bool more;
		ssize_t n = sc_px_read(fd, space, c->in.cap - c->in.len, what, &more);
		if (n > 0) {
			c->in.len += (size_t)n;
			c->deadline = sc_now_ms() + px->reg->r.proxy.timeout * 1000;
			if (more)
				continue;
			parse(c);
			if (c->broken)
				goto close;
			return;
		}
		if (n == -EAGAIN)
			return;
		/* the client hung up (or its socket failed): a request of it
		 * that runs is dropped upstream at once, so the engine stops
		 * generating */
		break;
	}
close:
	sc_px_conn_close(c);
}

void sc_px_accept(struct px *px, int fd, const char *peer)
{
	struct px_conn *c = calloc(1, sizeof *c);
	int one = 1;
	if (!c || !(c->ev = px->ev->event_new(px->base, fd, EV_READ | EV_CLOSED | EV_ET | EV_PERSIST, conn_cb, c)) ||
	    !(c->wev = px->ev->event_new(px->base, fd, EV_WRITE | EV_ET | EV_PERSIST, conn_cb, c)) ||
	    px->ev->event_add(c->ev, NULL) < 0) {
		if (c && c->ev)
			px->ev->event_free(c->ev);
		if (c && c->wev)
			px->ev->event_free(c->wev);
		free(c);
		close(fd);
		return;
	}
	/* an SSE event is a small write that must not wait for the last one's ACK */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	c->px = px;
	c->fd = fd;
	snprintf(c->peer, sizeof c->peer, "%s", peer);
	px->hp->init(&c->hp, HTTP_REQUEST);
	c->msg.px = px;
	c->hp.data = &c->msg;
	c->deadline = sc_now_ms() + px->reg->r.proxy.timeout * 1000;
	c->next = px->conns;
	if (px->conns)
		px->conns->prev = c;
	px->conns = c;
	px->n_conns++;
}

void sc_px_conn_close(struct px_conn *c)
{
	struct px *px = c->px;
	if (c->rq) {
		struct px_req *rq = c->rq;
		c->rq = NULL;
		rq->conn = NULL;
		sc_px_req_abort(rq);
	}
	px->ev->event_free(c->ev);
	px->ev->event_free(c->wev);
	close(c->fd);
	sc_px_buf_free(&c->in);
	sc_px_buf_free(&c->out);
	sc_px_buf_free(&c->url);
	sc_px_buf_free(&c->body);
	sc_px_hdrs_free(&c->msg.hdrs);
	if (c->prev)
		c->prev->next = c->next;
	else
		px->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	px->n_conns--;
	free(c);
	sc_px_accept_resume(px);
}

/* Once a second: a client silent for timeout is let go (idle between
 * requests, slow within one, or not reading its reply); a request waiting
 * for its engine has upstream-timeout instead. */
void sc_px_conns_sweep(struct px *px, int64_t now)
{
	struct px_conn *next;
	for (struct px_conn *c = px->conns; c; c = next) {
		next = c->next;
		if (c->rq && !sc_px_buf_size(&c->out)) {
			sc_px_ups_sweep(px, c->rq, now);
			continue;
		}
		if (now > c->deadline)
			sc_px_conn_close(c);
	}
}
