/* The proxy's byte buffers (what a socket gave and what goes out to one),
 * the header lists http-parser's callbacks fill piece by piece, and the
 * callbacks both sides share. */
#include "px.h"
#include "../base/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <strings.h>
#include <unistd.h>

/* room for n more bytes after the data; the consumed front goes first */
static int buf_room(struct px_buf *b, size_t n)
{
	if (b->off && b->off == b->len)
		b->off = b->len = 0;
	if (b->cap - b->len >= n)
		return 0;
	if (b->off) {
		memmove(b->p, b->p + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
		if (b->cap - b->len >= n)
			return 0;
	}
	size_t need;
	if (__builtin_add_overflow(b->len, n, &need))
		return -ENOMEM;
	return sc_grow(&b->p, &b->cap, need, 1);
}

char *sc_px_buf_space(struct px_buf *b, size_t n)
{
	return buf_room(b, n) < 0 ? NULL : b->p + b->len;
}

int sc_px_buf_add(struct px_buf *b, const void *p, size_t n)
{
	if (!n)
		return 0;
	if (buf_room(b, n) < 0)
		return -ENOMEM;
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

int sc_px_buf_adds(struct px_buf *b, const char *s)
{
	return sc_px_buf_add(b, s, strlen(s));
}

int sc_px_buf_addu(struct px_buf *b, unsigned long long v)
{
	char d[24], *p = d + sizeof d;
	do
		*--p = (char)('0' + v % 10);
	while (v /= 10);
	return sc_px_buf_add(b, p, (size_t)(d + sizeof d - p));
}

int sc_px_buf_printf(struct px_buf *b, const char *fmt, ...)
{
	va_list ap;
	char small[256];
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n < sizeof small)
		return sc_px_buf_add(b, small, (size_t)n);
	if (buf_room(b, (size_t)n + 1) < 0)
		return -ENOMEM;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void sc_px_buf_reset(struct px_buf *b)
{
	b->off = b->len = 0;
}

void sc_px_buf_free(struct px_buf *b)
{
	free(b->p);
	*b = (struct px_buf){ 0 };
}

/* http-parser hands a name or a value in pieces when it spans two reads:
 * a piece of a name after a value starts the next header. Each is kept
 * NUL-terminated in txt; the offsets stay valid as txt grows. */
static int hdrs_piece(struct px_hdrs *hs, const char *p, size_t n, bool value)
{
	if (hs->txt.len + n > PX_HEADERS_MAX)
		return -E2BIG;  /* http-parser stops at the same size; this keeps our copy within it too */
	if (!value && (!hs->n || hs->in_value)) {
		if (hs->n && sc_px_buf_add(&hs->txt, "", 1) < 0)
			return -ENOMEM;
		if (sc_grow(&hs->h, &hs->cap, hs->n + 1, sizeof *hs->h) < 0)
			return -ENOMEM;
		hs->h[hs->n++] = (struct px_hdr){ .name = (uint32_t)hs->txt.len, .value = UINT32_MAX };
		hs->in_value = false;
	} else if (value && !hs->in_value) {
		if (!hs->n || sc_px_buf_add(&hs->txt, "", 1) < 0)
			return -ENOMEM;
		hs->h[hs->n - 1].value = (uint32_t)hs->txt.len;
		hs->in_value = true;
	}
	return sc_px_buf_add(&hs->txt, p, n);
}

int sc_px_hdrs_name(struct px_hdrs *hs, const char *p, size_t n)
{
	return hdrs_piece(hs, p, n, false);
}

int sc_px_hdrs_value(struct px_hdrs *hs, const char *p, size_t n)
{
	return hdrs_piece(hs, p, n, true);
}

/* the headers are complete: the last value ends (one without any piece
 * is "") */
int sc_px_hdrs_end(struct px_hdrs *hs)
{
	if (hs->n && hs->h[hs->n - 1].value == UINT32_MAX) {
		if (sc_px_buf_add(&hs->txt, "", 1) < 0)
			return -ENOMEM;
		hs->h[hs->n - 1].value = (uint32_t)hs->txt.len;
	}
	if (sc_px_buf_add(&hs->txt, "", 1) < 0)
		return -ENOMEM;
	hs->in_value = false;
	return 0;
}

void sc_px_hdrs_reset(struct px_hdrs *hs)
{
	sc_px_buf_reset(&hs->txt);
	hs->n = 0;
	hs->in_value = false;
}

void sc_px_hdrs_free(struct px_hdrs *hs)
{
	sc_px_buf_free(&hs->txt);
	free(hs->h);
	*hs = (struct px_hdrs){ 0 };
}

const char *sc_px_hdr_name(const struct px_hdrs *hs, size_t i)
{
	return hs->txt.p + hs->h[i].name;
}

const char *sc_px_hdr_value(const struct px_hdrs *hs, size_t i)
{
	return hs->txt.p + hs->h[i].value;
}

const char *sc_px_hdrs_find(const struct px_hdrs *hs, const char *name)
{
	for (size_t i = 0; i < hs->n; i++)
		if (strcasecmp(sc_px_hdr_name(hs, i), name) == 0)
			return sc_px_hdr_value(hs, i);
	return NULL;
}

static struct px_msg *msg_of(http_parser *p)
{
	return p->data;
}

int sc_px_on_header_field(http_parser *p, const char *at, size_t n)
{
	return sc_px_hdrs_name(&msg_of(p)->hdrs, at, n) < 0 ? -1 : 0;
}

int sc_px_on_header_value(http_parser *p, const char *at, size_t n)
{
	return sc_px_hdrs_value(&msg_of(p)->hdrs, at, n) < 0 ? -1 : 0;
}

/* The message is whole: the parser stops here, so that what comes after
 * it (a pipelined request; bytes an engine should not have sent) stays
 * unparsed until this one is dealt with. */
int sc_px_on_message_complete(http_parser *p)
{
	struct px_msg *m = msg_of(p);
	m->done = true;
	m->px->hp->pause(p, 1);
	return 0;
}

ssize_t sc_px_read(int fd, char *buf, size_t len, short what, bool *more)
{
	for (;;) {
		ssize_t n = read(fd, buf, len);
		if (n > 0) {
			/* A read short of len emptied the socket: what comes later
			 * is a new edge, so no read just to see EAGAIN (as nginx
			 * does). The peer's FIN may have come on the same edge as
			 * the bytes: EV_CLOSED (EPOLLRDHUP) says so, and then the
			 * reads go on to see it. */
			*more = (size_t)n == len || (what & EV_CLOSED);
			return n;
		}
		if (n == 0)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
}

void sc_px_want_write(struct px *px, struct event *wev, bool *on, bool want)
{
	if (want == *on)
		return;
	if (want ? px->ev->event_add(wev, NULL) : px->ev->event_del(wev))
		return;
	*on = want;
}

static int head_end(http_parser *p)
{
	return sc_px_hdrs_end(&msg_of(p)->hdrs) < 0 ? -1 : 0;
}

/* A request's head into a px_msg, nothing else (the tests and the fuzz
 * target read heads with it). A function, not an exported table: the
 * library exports functions only (ASan would add a non-sc_ symbol). */
const http_parser_settings *sc_px_head_settings(void)
{
	static const http_parser_settings s = {
		.on_header_field = sc_px_on_header_field,
		.on_header_value = sc_px_on_header_value,
		.on_headers_complete = head_end,
		.on_message_complete = sc_px_on_message_complete,
	};
	return &s;
}
