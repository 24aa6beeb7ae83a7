/* The SSE side of bench-proxy.py, in C on epoll so that measuring costs
 * next to nothing: the Python peer it replaces used most of a core on each
 * side at 25,600 events/s, so on this 2-core machine its own queueing was
 * the largest part of every latency it measured.
 *
 *   sse-peer upstream PORT EVENTS GAP_MS
 *       an engine-like server: every POST gets EVENTS chunked SSE events,
 *       one each GAP_MS, each stamped with the CLOCK_MONOTONIC time it was
 *       sent (ns); GET /health and /v1/models answer at once
 *   sse-peer client HOST PORT STREAMS TOKEN
 *       STREAMS streams at once; prints the p50 and p99 of (received - sent)
 *       over every event, in ms, and how many events arrived, as JSON
 *
 * A bench peer, not product code: it reads only the requests and answers it
 * sends itself, and gives up (exit 1) on anything else, or after 300 s. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define DEADLINE_NS (300LL * 1000000000LL)

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "sse-peer: %s: %s\n", what, errno ? strerror(errno) : "unexpected input");
	exit(1);
}

/* The whole buffer or exit: every write here is far smaller than the
 * socket's send buffer, so a short write means the peer stopped reading. */
static void send_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("send");
		buf += n;
		len -= (size_t)n;
	}
}

struct conn {
	int fd;
	char buf[8192];
	size_t len;
	int streaming;   /* upstream: events sent so far + 1; 0 = reading a request */
	int64_t due;     /* upstream: when the next event goes out */
	int done;        /* client: [DONE] seen */
};

/* ---- upstream ---- */

static int events_per_stream;
static int64_t gap_ns;

static void send_event(struct conn *c)
{
	char data[96], frame[128];
	int i = c->streaming - 1;
	int dn = i < events_per_stream
			 ? snprintf(data, sizeof data, "data: {\"i\":%d,\"t\":%lld}\n\n", i, (long long)now_ns())
			 : snprintf(data, sizeof data, "data: [DONE]\n\n");
	int fn = snprintf(frame, sizeof frame, "%x\r\n%s\r\n%s", dn, data, i < events_per_stream ? "" : "0\r\n\r\n");
	send_all(c->fd, frame, (size_t)fn);
	c->streaming = i < events_per_stream ? c->streaming + 1 : 0;
	c->due += gap_ns;
}

/* One complete request in c->buf: answer it, and drop it from the buffer. */
static int take_request(struct conn *c)
{
	char *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
	if (!end)
		return 0;
	size_t head = (size_t)(end - c->buf) + 4, body = 0;
	char *cl = memmem(c->buf, head, "Content-Length:", 15);
	if (!cl)
		cl = memmem(c->buf, head, "content-length:", 15);
	if (cl)
		body = strtoul(cl + 15, NULL, 10);
	if (head + body > sizeof c->buf)
		die("request too large");
	if (c->len < head + body)
		return 0;
	if (strncmp(c->buf, "GET ", 4) == 0) {
		static const char json[] = "{\"object\":\"list\",\"data\":[{\"id\":\"sse\",\"object\":\"model\"}]}";
		char reply[256];
		int n = snprintf(reply, sizeof reply,
				 "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
				 sizeof json - 1, json);
		send_all(c->fd, reply, (size_t)n);
	} else {
		static const char start[] =
			"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
		send_all(c->fd, start, sizeof start - 1);
		c->streaming = 1;
		c->due = now_ns();
		send_event(c);
	}
	memmove(c->buf, c->buf + head + body, c->len - head - body);
	c->len -= head + body;
	return 1;
}

static struct conn *conns[65536];
static int maxfd;

static void close_conn(int ep, struct conn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	conns[c->fd] = NULL;
	free(c);
}

static _Noreturn void upstream(int port)
{
	int one = 1, ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 2048) < 0)
		die("listen");
	int ep = epoll_create1(EPOLL_CLOEXEC), tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = ls};
	epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
	ev.data.fd = tfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		/* the timer fires at the earliest due event of all streams */
		int64_t next = 0, t = now_ns();
		for (int fd = 0; fd <= maxfd; fd++) {
			struct conn *c = conns[fd];
			while (c && c->streaming && c->due <= t)
				send_event(c);
			if (c && c->streaming && (!next || c->due < next))
				next = c->due;
		}
		struct itimerspec its = {0};
		if (next) {
			its.it_value.tv_sec = next / 1000000000LL;
			its.it_value.tv_nsec = next % 1000000000LL;
		}
		timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
		struct epoll_event evs[64];
		int n = epoll_wait(ep, evs, 64, -1);
		for (int k = 0; k < n; k++) {
			int fd = evs[k].data.fd;
			if (fd == tfd) {
				uint64_t ticks;
				(void)!read(tfd, &ticks, sizeof ticks);
			} else if (fd == ls) {
				int cfd;
				while ((cfd = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
					if (cfd >= 65536)
						die("too many connections");
					setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
					conns[cfd] = calloc(1, sizeof(struct conn));
					if (!conns[cfd])
						die("calloc");
					conns[cfd]->fd = cfd;
					if (cfd > maxfd)
						maxfd = cfd;
					struct epoll_event cev = {.events = EPOLLIN, .data.fd = cfd};
					epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &cev);
				}
			} else if (conns[fd]) {
				struct conn *c = conns[fd];
				ssize_t r = recv(fd, c->buf + c->len, sizeof c->buf - c->len, 0);
				if (r <= 0) {
					if (r < 0 && errno == EAGAIN)
						continue;
					close_conn(ep, c);
					continue;
				}
				c->len += (size_t)r;
				while (!c->streaming && take_request(c))
					;
			}
		}
	}
}

/* ---- client ---- */

static double *lat;
static size_t nlat, caplat;

/* Every complete "t":NS} stamp in c->buf becomes a latency; the unread
 * tail stays for the next read. */
static void scan_stamps(struct conn *c, int64_t t)
{
	size_t pos = 0;
	for (;;) {
		char *s = memmem(c->buf + pos, c->len - pos, "\"t\":", 4);
		if (!s)
			break;
		char *e = memchr(s, '}', (size_t)(c->buf + c->len - s));
		if (!e)
			break;
		if (nlat == caplat)
			die("more events than expected");
		lat[nlat++] = (double)(t - strtoll(s + 4, NULL, 10)) / 1e6;
		pos = (size_t)(e + 1 - c->buf);
	}
	if (memmem(c->buf, c->len, "[DONE]", 6))
		c->done = 1;
	/* keep at most the last 64 bytes unscanned: enough for a split stamp */
	size_t keep = c->len - pos > 64 ? 64 : c->len - pos;
	memmove(c->buf, c->buf + c->len - keep, keep);
	c->len = keep;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static int client(const char *host, int port, int streams, const char *token)
{
	int ep = epoll_create1(EPOLL_CLOEXEC), open_streams = streams;
	caplat = (size_t)streams * 100000;
	lat = malloc(caplat * sizeof *lat);
	if (!lat)
		die("malloc");
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	if (inet_pton(AF_INET, host, &a.sin_addr) != 1)
		die("host");
	static const char body[] = "{\"model\":\"sse\",\"stream\":true,\"messages\":[]}";
	char req[512];
	int rn = snprintf(req, sizeof req,
			  "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
			  "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
			  token, sizeof body - 1, body);
	for (int i = 0; i < streams; i++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || fd >= 65536 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0)
			die("connect");
		send_all(fd, req, (size_t)rn);
		conns[fd] = calloc(1, sizeof(struct conn));
		if (!conns[fd])
			die("calloc");
		conns[fd]->fd = fd;
		struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
		epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	}
	int64_t end = now_ns() + DEADLINE_NS;
	while (open_streams) {
		struct epoll_event evs[64];
		int n = epoll_wait(ep, evs, 64, 1000);
		if (now_ns() > end)
			die("streams still open after 300 s");
		for (int k = 0; k < n; k++) {
			struct conn *c = conns[evs[k].data.fd];
			ssize_t r = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
			int64_t t = now_ns();
			if (r > 0) {
				c->len += (size_t)r;
				scan_stamps(c, t);
			}
			if (r == 0 || c->done) {
				close_conn(ep, c);
				open_streams--;
			} else if (r < 0 && errno != EINTR) {
				die("recv");
			}
		}
	}
	qsort(lat, nlat, sizeof *lat, cmp);
	if (nlat)
		printf("{\"events\": %zu, \"p50_ms\": %.4f, \"p99_ms\": %.4f}\n", nlat, lat[nlat / 2],
		       lat[(size_t)((double)nlat * 0.99)]);
	else
		printf("{\"events\": 0, \"p50_ms\": null, \"p99_ms\": null}\n");
	free(lat);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "upstream") == 0) {
		events_per_stream = atoi(argv[3]);
		gap_ns = (int64_t)(atof(argv[4]) * 1e6);
		upstream(atoi(argv[2]));
	}
	if (argc == 6 && strcmp(argv[1], "client") == 0)
		return client(argv[2], atoi(argv[3]), atoi(argv[4]), argv[5]);
	fprintf(stderr, "usage: sse-peer upstream PORT EVENTS GAP_MS | client HOST PORT STREAMS TOKEN\n");
	return 2;
}
