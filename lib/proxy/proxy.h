/* sparkctl proxy: the box's front door. One event loop (libevent's, with
 * http-parser for HTTP, both loaded on first use) takes the clients'
 * requests, checks their token,
 * and routes each by its "model" field to the engine that serves it,
 * starting it on demand with the switch logic in a worker thread. The
 * state files and the lock stay the truth: the proxy caches nothing that
 * a `sparkctl switch` or `stop` beside it could change. */
#ifndef SC_PROXY_H
#define SC_PROXY_H

#include <stdbool.h>
#include <stddef.h>

#include "../base/err.h"

struct sc_proxy_opts {
	const char *config;      /* models.ini as --config named it (NULL: the lookup), read again on SIGHUP */
	char **listen;           /* HOST:PORT: replaces [proxy] listen when given */
	size_t n_listen;
	bool stop_engines;       /* on SIGTERM, stop the engines too */
	/* every log line (no newline); the token is never in one. flush is
	 * called every 100 ms and at the end: log may buffer. */
	void (*log)(void *ud, const char *line);
	void (*flush)(void *ud);
	void *ud;
};

/* Runs until SIGTERM or SIGINT (then drains) and returns 0; <0 when it
 * cannot start (a port taken, no token file, a library missing). */
int sc_proxy_run(const struct sc_proxy_opts *o, sc_err *e);

/* A running proxy as its <state-dir>/proxy.json tells (for ps). */
struct sc_proxy_queue {
	char *model;
	long queue, inflight;
	bool starting;
};

struct sc_proxy_status {
	int pid;
	char **listen;
	size_t n_listen;
	struct sc_proxy_queue *queues;  /* models with a queue, a request in flight, or a start */
	size_t n_queues;
	long connections;
};

/* 1 with ret filled when a proxy runs; 0 when none does (a file left by a
 * proxy that died is ignored); <0 when the file cannot be read. */
int sc_proxy_status(const char *state_dir, struct sc_proxy_status *ret, sc_err *e);
void sc_proxy_status_done(struct sc_proxy_status *s);

#endif
