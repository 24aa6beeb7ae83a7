/* Serving: start a registered model and wait until it is healthy, stop it
 * (the whole process group, or its container), and tell how it is. */
#ifndef SC_SERVE_H
#define SC_SERVE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../base/err.h"
#include "../base/registry.h"
#include "../engine/state.h"

/* What a start may take of MemAvailable: the rest stays for the system,
 * since exhausting memory on a GB10 can hang the box. */
#define SC_MEMORY_RESERVE (4ULL << 30)

struct serve_opts {
	bool force;        /* skip the status, engine and memory checks */
	bool no_wait;
	int timeout_s;     /* 0: the engine's ready-timeout */
	void (*progress)(void *ud, int64_t elapsed_ms, const char *last_log_line);
	void *ud;
	/* run once healthy (switch --test): <0 fails the start like a crash,
	 * with the reason in e */
	int (*verify)(void *ud, const char *name, const char *host, int port, sc_err *e);
	void *verify_ud;
};

struct serve_result {
	pid_t pid;
	char *container;
	int port;
	const char *health;  /* "ok", or "loading" with no_wait */
	int64_t elapsed_ms;
	bool already;        /* it was running and healthy already: nothing done */
	int exit_status;     /* it exited while starting: its status, else -1 */
	char *log_tail;      /* when it failed: the last 20 lines of its log */
	char **warnings;     /* what works but is not as it should be (a link's MTU) */
	size_t n_warnings;
};

/* The serve script of model name (serve --dry-run): the same command,
 * with the same flags from the same plan, that sc_serve runs. */
int sc_serve_script(const struct registry *reg, const char *name, char **ret, sc_err *e);

/* Holds the lock <state-dir>/lock (as switch and stop do) for the whole
 * start. Refuses while another member of the model's group runs. On
 * failure ret is filled as well: the exit status and log tail say why. */
int sc_serve(const struct registry *reg, const char *name, const struct serve_opts *o, struct serve_result *ret,
	     sc_err *e);
void sc_serve_result_done(struct serve_result *r);

enum sc_stop_outcome {
	SC_STOP_NOT_RUNNING,   /* no state file */
	SC_STOP_STALE,         /* a state file of an engine already gone: removed */
	SC_STOP_TERMINATED,    /* stopped by SIGTERM (or docker stop) */
	SC_STOP_KILLED,        /* it ignored SIGTERM for its stop-timeout: SIGKILL */
	SC_STOP_NOT_SIGNALLED, /* its PID names another process now, or the record has
				* no start time to tell: nothing was signalled, the
				* record was removed */
};

/* Stop a model, holding the lock that serve and switch take: 1 when it
 * was running and is now gone, 0 when nothing was stopped (*how says why),
 * <0 on failure. *pid: the PID the state file named. A state file is
 * removed only while it still names the process that was stopped. */
int sc_stop(const struct registry *reg, const char *name, enum sc_stop_outcome *how, pid_t *pid, sc_err *e);

struct switch_result {
	struct serve_result serve;
	char **stopped;     /* the models stopped to make room */
	size_t n_stopped;
	bool killed;        /* one of them needed SIGKILL */
	char *rolled_back;  /* with rollback: the model started again */
};

/* Do a and b exclude each other: one port, or one group (models.ini(5)). */
bool sc_models_share(const struct reg_model *a, const struct reg_model *b);

/* Exclusive (flock on <state-dir>/lock; a second switch waits): stop every
 * running model that shares NAME's group or port, serve NAME and wait until
 * healthy. Already running and healthy: nothing is done. When NAME fails,
 * nothing is left on its port, and with rollback the first model stopped
 * is served again. ret is filled on failure too. */
int sc_switch(const struct registry *reg, const char *name, const struct serve_opts *o, bool rollback,
	      struct switch_result *ret, sc_err *e);
void sc_switch_result_done(struct switch_result *r);

struct run_status {
	struct run_state st;
	bool alive;
	const char *health;  /* ok, loading, unhealthy, dead */
	uint64_t rss_bytes;
	bool rss_known;
	int64_t uptime_s;
};

/* The status of a model with a state file; -ENOENT when it has none. A
 * state file whose process is gone is reported dead, not removed. */
int sc_run_status(const struct registry *reg, const char *name, struct run_status *ret, sc_err *e);
void sc_run_status_done(struct run_status *s);

/* For every request of the proxy, so cheap (a file and /proc, no HTTP):
 * 1 when name has a state file whose engine lives, with st filled (free
 * it); 0 when not. A container is taken on its record's word (docker
 * inspect costs a process): sc_run_status asks docker. */
int sc_run_quick(const struct registry *reg, const char *name, struct run_state *st);

/* Health of an engine at host:port: ok (200), loading (503 or no answer
 * yet while alive), unhealthy, dead. */
const char *sc_probe_health(const char *host, int port, const char *path, bool alive);

/* Served ids of /v1/models at host:port, as a NULL-terminated array. */
int sc_served_ids(const char *host, int port, const char *bearer, char ***ret, size_t *n, sc_err *e);

/* The last n lines of a file, whatever its size ("" when unreadable). */
char *sc_file_tail(const char *path, unsigned n);

/* The last n lines of a model's log (file, or docker logs). */
char *sc_log_tail(const struct run_state *st, unsigned n);

#endif
