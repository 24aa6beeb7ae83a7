/* What sparkctl started: one JSON file per running model in
 * <state-dir>/run/<name>.json, logs in <state-dir>/logs/, and the lock that
 * makes switches exclusive. No daemon: everything else is worked out anew
 * from these files, /proc, docker and the ports. */
#ifndef SC_STATE_H
#define SC_STATE_H

#include <stdint.h>
#include <sys/types.h>

#include "../base/err.h"

/* A rank of a multi-node model on another node (rank 0 is the state's own
 * pid): its node, and how to find it there. */
struct run_rank {
	char *node, *log;
	pid_t pid;
	uint64_t start_time;
	int rank;
};

struct run_state {
	char *name, *engine, *mode;  /* mode: host, docker or script */
	char *container;             /* docker mode */
	char *host, *log, *started_at;
	pid_t pid, pgid;
	uint64_t start_time;         /* field 22 of /proc/PID/stat */
	int port;
	int64_t started_unix;
	struct run_rank *ranks;      /* the other ranks of a multi-node model */
	size_t n_ranks;
	pid_t watcher;               /* the process that watches them (in the head's group) */
};

int sc_state_write(const char *state_dir, const struct run_state *s, sc_err *e);
/* -ENOENT when the model has no state file. */
int sc_state_read(const char *state_dir, const char *name, struct run_state *ret, sc_err *e);
int sc_state_remove(const char *state_dir, const char *name);
/* Names with a state file, sorted. */
int sc_state_list(const char *state_dir, char ***ret, size_t *n, sc_err *e);
void sc_run_state_done(struct run_state *s);

/* <state-dir>/logs/<name>.log, creating the folder. */
char *sc_state_log_path(const char *state_dir, const char *name, sc_err *e);

/* Take the exclusive lock <state-dir>/lock, waiting for another holder.
 * Returns the fd to close to release it. */
int sc_state_lock(const char *state_dir, sc_err *e);

#endif
