/* The proxy's insides, shared by its files: server.c (listeners,
 * connections, signals), route.c (auth and endpoints), sched.c (queues,
 * swaps, TTL, the worker thread), forward.c (the upstream side), notes.c
 * (log, metrics, the state file ps reads). Everything but the worker
 * thread runs on the one event loop. */
#ifndef SC_PX_H
#define SC_PX_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../base/registry.h"
#include "../base/token.h"
#include "../engine/state.h"
#include "../net/event_api.h"
#include "proxy.h"

struct px;
struct px_req;

/* The headers of a request, and of an engine's answer, together */
#define PX_HEADERS_MAX (64 << 10)

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

/* One client connection that sent a request, found by its fd (evhttp
 * hands out no other key); it lives until evhttp closes it. */
struct px_conn {
	struct px *px;
	int fd;
	struct evhttp_connection *evcon;
	struct px_req *rq;                 /* the request in progress */
	struct event *watch;               /* readable: the client hung up */
	struct event *arm;                 /* adds watch once a request runs 20 ms */
};

struct px_up {
	struct px *px;
	struct evhttp_connection *evcon;
	int port;
	char host[256];
	struct px_up *next;          /* in its model's idle list */
	struct px_req *rq;           /* in use by */
	struct evbuffer *held;       /* a non-streamed answer, sent whole at its end */
	bool streaming, to_error;    /* to_error: a non-200 answer after the SSE reply began */
	bool paused;                 /* not read until its client took what it was sent */
	bool paused_once;            /* said so in the log */
	enum evhttp_request_error err;
	bool failed;
};

struct px_req {
	struct px *px;
	struct px_conn *conn;
	struct evhttp_request *req;
	struct px_model *m;
	struct px_req *next;          /* in the queue */
	const char *label;            /* the client's name in the log (from the token file) */
	char client[40];
	enum evhttp_cmd_type cmd;
	char *uri;
	const char *route;             /* the endpoint forwarded: the path alone, no query (it may hold a token) */
	struct evbuffer *body;
	int64_t t0_ms;
	bool stream;                  /* "stream": true */
	bool started;                 /* the reply to the client has begun */
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

struct px {
	const struct event_api *ev;
	struct event_base *base;
	struct evhttp *http;
	struct evhttp_bound_socket **bound;
	int *ports;                   /* of the listeners */
	size_t n_bound, n_ports;
	char **listen;
	size_t n_listen;
	const struct sc_proxy_opts *o;
	struct px_reg *reg;
	struct px_model **models;       /* pointers: requests and timers hold them across a reload */
	size_t n_models, cap_models;
	struct px_conn **conns;       /* by fd */
	size_t cap_conns;
	size_t n_conns;               /* client connections open (see count_clients) */
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
void sc_px_conn_watch(struct px *px, struct px_req *rq);
void sc_px_conn_unwatch(struct px_conn *c);
bool sc_px_idle(const struct px *px);  /* nothing in flight or waiting */

/* route.c */
void sc_px_handle(struct evhttp_request *req, void *arg);
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
const char *sc_px_bad_headers(struct evkeyvalq *h);  /* why a request or answer is refused; NULL: fine */
void sc_px_flush(struct px *px, struct evhttp_connection *evcon);
void sc_px_up_release(struct px_req *rq, bool cancel);
void sc_px_pool_done(struct px *px, struct px_model *m);

/* notes.c */
void sc_px_log(struct px *px, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sc_px_count(struct px_model *m, int code);
void sc_px_metrics(struct px *px, struct evbuffer *out);
void sc_px_notes_write(struct px *px);
void sc_px_notes_remove(struct px *px);
void sc_px_notify(const char *state);

#endif
