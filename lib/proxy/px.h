/* The proxy's insides, shared by its files: server.c (listeners, signals,
 * sc_proxy_run), client.c (client connections and the replies written to
 * them), route.c (auth and endpoints), sched.c (queues, swaps, TTL, the
 * worker thread), forward.c (the upstream side), notes.c (log, metrics,
 * the state file ps reads), bytes.c (buffers, header lists). Everything
 * but the worker thread runs on the one event loop: libevent's, with each
 * socket registered once, edge-triggered, and HTTP parsed by http-parser
 * on both sides. */
#ifndef SC_PX_H
#define SC_PX_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../base/registry.h"
#include "../base/token.h"
#include "../engine/state.h"
#include "../net/event_api.h"
#include "../net/hparse_api.h"
#include "proxy.h"

struct px;
struct px_req;

/* The headers of a request, and of an engine's answer, together */
#define PX_HEADERS_MAX (64 << 10)

/* Bytes p[off, len): what was read and not yet used, or what is to be
 * written and not yet sent. */
struct px_buf {
	char *p;
	size_t off, len, cap;
};

struct px_hdr {
	uint32_t name, value;  /* offsets into txt of NUL-terminated strings */
};

struct px_hdrs {
	struct px_buf txt;
	struct px_hdr *h;
	size_t n, cap;
	bool in_value;
};

/* A registry with the users that still hold it: a reload must not free
 * what the worker thread is switching with. */
struct px_reg {
	struct registry r;
	struct sc_token *tokens;
	size_t n_tokens;
	int refs;  /* touched on the loop thread only */
};

struct px_code {
	int code;
	uint64_t n;
};

struct px_model {
	struct px *px;
	char *name;
	struct px_req *qhead, *qtail;  /* waiting, FIFO */
	size_t qlen;
	unsigned inflight;             /* forwarded, not yet answered */
	bool closing;                  /* a swap away from it (or its TTL stop) is decided: new requests wait */
	bool busy;                     /* the worker is starting or stopping it */
	char ident[96];                /* the run last seen healthy ("pid:start" or the container); "" none */
	/* watch.c: whether it is up, kept until inotify or its pidfd says otherwise */
	bool known, up;
	char host[256];
	int port, pidfd;
	struct event *pid_ev;
	struct event *ttl_ev;
	struct px_up *idle;            /* kept-alive upstream connections */
	size_t n_idle;
	/* metrics */
	struct px_code codes[16];
	uint64_t starts, start_failures, ttl_stops;
	double start_seconds;
};

/* What http-parser's callbacks fill (bytes.c), on either side: hp.data
 * points here, inside a px_conn or a px_up. */
struct px_msg {
	struct px *px;
	struct px_hdrs hdrs;
	bool done;                      /* whole: the parser is paused at its end */
};

#define PX_OWNER(p, type) ((type *)((char *)(p)->data - offsetof(type, msg)))

/* One client connection. It reads a request while none runs; while one
 * runs it reads on only to see a hang-up (and keeps a pipelined request
 * for later). */
struct px_conn {
	struct px *px;
	int fd;
	struct event *ev, *wev;         /* reading, edge-triggered, for its whole life; writing (see sc_px_want_write) */
	bool wev_on;
	struct px_conn *prev, *next;    /* px->conns */
	char peer[48];
	http_parser hp;
	struct px_buf in, out;
	/* the request being read */
	struct px_msg msg;
	struct px_buf url, body;
	bool too_big;
	struct px_req *rq;              /* read whole and not yet answered */
	bool keep;                      /* the request lets the connection live on */
	bool broken;                    /* a write failed or the client hung up: closed at the next callback */
	bool closing;                   /* closed once out is sent */
	bool lingering;                 /* a refused body is being read and dropped */
	int64_t deadline;               /* idle, header or write timeout (the 1 s sweep) */
};

struct px_up {
	struct px *px;
	struct px_model *m;
	int fd;
	struct event *ev, *wev;      /* reading, edge-triggered; writing, while the request waits for room */
	bool wev_on;
	int port;
	char host[256];
	struct px_up *next;          /* in its model's idle list */
	struct px_req *rq;           /* in use by */
	http_parser hp;
	struct px_msg msg;           /* the answer's headers, and whether it is whole */
	struct px_buf out;           /* the request; kept whole until the answer begins (a retry sends it again) */
	struct px_buf held;          /* a non-streamed answer, sent whole at its end */
	bool connected, reused, retried;
	bool answered;               /* a byte of the answer came: no retry */
	bool eof, leftover;          /* the engine closed; it sent more than the answer */
	bool streaming, to_error;    /* to_error: a non-200 answer after the SSE reply began */
	bool paused;                 /* not read until its client took what it was sent */
	bool paused_once;            /* said so in the log */
	const char *why;             /* the answer refused: the reason */
	int64_t deadline;            /* upstream-timeout, from the last byte read */
};

struct px_req {
	struct px *px;
	struct px_conn *conn;         /* NULL once the client is gone */
	struct px_model *m;
	struct px_req *next;          /* in the queue */
	const char *label;            /* the client's name in the log (from the token file) */
	char client[48];
	const char *method;           /* http-parser's name of it: "GET", "POST" */
	bool head;                    /* HEAD: a reply without its body */
	char *uri;
	const char *route;             /* the endpoint forwarded: the path alone, no query (it may hold a token) */
	struct px_buf body;
	struct px_buf fwd;             /* the request's headers an engine gets ("Name: value\r\n") */
	struct px_buf reply_hdrs;      /* the reply's own headers, added before it starts */
	int64_t t0_ms;
	bool stream;                  /* "stream": true */
	bool started;                 /* the reply to the client has begun */
	bool chunked;                 /* and is sent in chunks (HTTP/1.1) */
	bool queued, inflight;
	int status;
	struct event *comment_ev;     /* SSE comments while it waits */
	struct px_up *up;
};

enum px_job_kind { JOB_ENSURE, JOB_STOP };

struct px_job {
	enum px_job_kind kind;
	struct px_model *m;
	struct px_reg *reg;
	/* results */
	int r;
	char msg[1024];
	char ident[96];
	char **stopped;
	size_t n_stopped;
	int64_t ms;
};

struct px_listener {
	int fd;
	struct event *ev;
};

struct px {
	const struct event_api *ev;
	const struct hparse_api *hp;
	struct event_base *base;
	struct px_listener *bound;
	size_t n_bound;
	char **listen;
	size_t n_listen;
	const struct sc_proxy_opts *o;
	struct px_reg *reg;
	struct px_model **models;       /* pointers: requests and timers hold them across a reload */
	size_t n_models, cap_models;
	struct px_conn *conns;        /* client connections open */
	size_t n_conns;
	bool accepting_paused, shutting_down;
	struct event *sched_ev, *sig_term, *sig_int, *sig_hup, *notes_ev, *job_ev, *shutdown_ev, *flush_ev;
	int64_t sched_at;             /* when sched_ev fires; 0: not armed */
	int64_t shutdown_deadline;
	/* the worker */
	pthread_t worker;
	bool worker_started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct px_job *job;           /* handed to the worker; NULL when it is idle */
	bool job_done, quit;
	int job_pipe[2];
	/* metrics */
	uint64_t unauthorized, accept_pauses, queue_full, upstream_errors, swaps;
	int64_t started_ms;
	bool notes_dirty, notes_written;
	/* watch.c */
	int inotify_fd;
	struct event *inotify_ev;
	bool watching;
};

/* server.c */
bool sc_px_idle(const struct px *px);  /* nothing in flight or waiting */
void sc_px_accept_resume(struct px *px);

/* client.c */
void sc_px_accept(struct px *px, int fd, const char *peer);
void sc_px_conn_close(struct px_conn *c);
void sc_px_conns_sweep(struct px *px, int64_t now);  /* timeouts, once a second */
/* The reply to rq, written at once (what the socket does not take now
 * goes when it can): headers first, then either all of it, or a start,
 * chunks and an end. Nothing happens once the client is gone. */
void sc_px_reply_header(struct px_req *rq, const char *name, const char *value);
void sc_px_reply_all(struct px_req *rq, int code, const char *body, size_t len);
void sc_px_reply_start(struct px_req *rq, int code);
void sc_px_reply_chunk(struct px_req *rq, const char *p, size_t n);
void sc_px_reply_end(struct px_req *rq);
size_t sc_px_reply_unsent(const struct px_req *rq);
void sc_px_conn_request_done(struct px_conn *c);  /* rq finished: the connection goes on */

/* route.c */
void sc_px_handle(struct px_req *rq, const struct px_hdrs *h);
/* A request refused before it could be read whole (bad framing, too big):
 * code and the reason in OpenAI's shape, then the connection closes. */
void sc_px_refuse(struct px_req *rq, int code, const char *code_name, const char *why);
void sc_px_reply_json(struct px_req *rq, int code, const char *type, const char *code_name, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* A failure in the shape the client can still read: an SSE error event
 * once its stream has begun (loading comments, tokens), else OpenAI's JSON
 * error with code_name. */
void sc_px_reply_failure(struct px_req *rq, int code, const char *code_name, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void sc_px_req_finish(struct px_req *rq, int status);
void sc_px_req_abort(struct px_req *rq);
struct px_model *sc_px_model_find(struct px *px, const char *name);

/* sched.c */
int sc_px_sched_init(struct px *px, sc_err *e);
int sc_px_models_sync(struct px *px, sc_err *e);  /* a px_model for each registered name */
void sc_px_sched_done(struct px *px);
void sc_px_submit(struct px *px, struct px_req *rq);
void sc_px_schedule(struct px *px);
void sc_px_unqueue(struct px_req *rq);
void sc_px_fail_waiters(struct px_model *m, const char *code_name, const char *why);  /* 503 to each */
void sc_px_request_ended(struct px *px, struct px_model *m);
void sc_px_reg_put(struct px_reg *r);

/* watch.c */
int sc_px_watch_init(struct px *px, sc_err *e);
void sc_px_watch_done(struct px *px);
void sc_px_watch_forget(struct px_model *m);
bool sc_px_model_up(struct px *px, struct px_model *m, char *host, size_t host_len, int *port);
void sc_px_ident(const struct run_state *st, char *buf, size_t len);

/* forward.c */
void sc_px_forward(struct px *px, struct px_req *rq, const char *host, int port);
const char *sc_px_bad_headers(const struct px_hdrs *h);  /* why a request or answer is refused; NULL: fine */
bool sc_px_hop_header(const char *name);  /* one hop's, or the client's secret: never passed on */
void sc_px_up_release(struct px_req *rq, bool cancel);
void sc_px_up_resume(struct px_up *u);   /* its client took what it was sent */
void sc_px_ups_sweep(struct px *px, struct px_req *rq, int64_t now);  /* upstream-timeout */
void sc_px_pool_done(struct px *px, struct px_model *m);

/* bytes.c */
char *sc_px_buf_space(struct px_buf *b, size_t n);  /* room for n bytes at p + len; NULL: out of memory */
int sc_px_buf_add(struct px_buf *b, const void *p, size_t n);
int sc_px_buf_adds(struct px_buf *b, const char *s);
int sc_px_buf_addu(struct px_buf *b, unsigned long long v);  /* in decimal */
/* what goes out on every request is added, not printed (printf's cost
 * shows at tens of thousands a second); this is for the rest */
int sc_px_buf_printf(struct px_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sc_px_buf_reset(struct px_buf *b);
void sc_px_buf_free(struct px_buf *b);
static inline size_t sc_px_buf_size(const struct px_buf *b) { return b->len - b->off; }
static inline const char *sc_px_buf_data(const struct px_buf *b) { return b->p ? b->p + b->off : ""; }
int sc_px_hdrs_name(struct px_hdrs *hs, const char *p, size_t n);
int sc_px_hdrs_value(struct px_hdrs *hs, const char *p, size_t n);
int sc_px_hdrs_end(struct px_hdrs *hs);
void sc_px_hdrs_reset(struct px_hdrs *hs);
void sc_px_hdrs_free(struct px_hdrs *hs);
const char *sc_px_hdr_name(const struct px_hdrs *hs, size_t i);
const char *sc_px_hdr_value(const struct px_hdrs *hs, size_t i);
const char *sc_px_hdrs_find(const struct px_hdrs *hs, const char *name);
int sc_px_on_header_field(http_parser *p, const char *at, size_t n);
int sc_px_on_header_value(http_parser *p, const char *at, size_t n);
int sc_px_on_message_complete(http_parser *p);
const http_parser_settings *sc_px_head_settings(void);
/* One read of an edge-triggered socket: bytes (*more: read on, it may
 * hold more), 0 the peer closed, -EAGAIN nothing now, another -errno. */
ssize_t sc_px_read(int fd, char *buf, size_t len, short what, bool *more);
/* A socket's write event is registered only while output waits for room
 * (or a connect for its end): registered always, an edge-triggered
 * EPOLLOUT wakes the loop on every ACK that frees space, a third wakeup a
 * request. */
void sc_px_want_write(struct px *px, struct event *wev, bool *on, bool want);

/* notes.c */
void sc_px_log(struct px *px, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sc_px_count(struct px_model *m, int code);
void sc_px_metrics(struct px *px, struct px_buf *out);
void sc_px_notes_write(struct px *px);
void sc_px_notes_remove(struct px *px);
void sc_px_notify(const char *state);

#endif
