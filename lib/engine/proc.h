/* Child processes and /proc: spawning with an argv vector (never a shell),
 * liveness that knows zombies and reused PIDs, process groups. */
#ifndef SC_PROC_H
#define SC_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../base/err.h"
#include "../base/time.h"

struct spawn_opts {
	char *const *argv;       /* argv[0] is looked up in PATH */
	char *const *env_add;    /* KEY=VALUE, overriding the environment; may be NULL */
	const char *log;         /* stdout and stderr go here (appended); NULL: /dev/null */
	bool new_session;        /* setsid: the child leads its own process group */
	pid_t join_pgid;         /* else, when set: the child joins this group */
};

/* Fork and exec; the exec failing is reported as exit status 127 with the
 * reason in the log. */
int sc_spawn(const struct spawn_opts *o, pid_t *ret, sc_err *e);

/* Is prog an executable, as execvp would find it (a path, or on $PATH)? */
bool sc_find_program(const char *prog);

/* Run argv to completion, capturing up to cap bytes of its stdout and
 * stderr into out (NUL terminated; may be NULL). Returns the exit status
 * (>= 0) or <0. timeout_ms 0: none. */
int sc_run(char *const *argv, char *out, size_t cap, int timeout_ms, sc_err *e);

struct proc_stat {
	char state;            /* R, S, D, Z, T, ... */
	pid_t ppid, pgid;
	uint64_t start_time;   /* field 22, clock ticks since boot */
	uint64_t rss_bytes;
};

/* Read /proc/PID/stat; -ENOENT when there is no such process. */
int sc_proc_stat(pid_t pid, struct proc_stat *ret);

/* Parse the text of /proc/PID/stat (the command may hold spaces and ')'). */
int sc_proc_stat_parse(const char *text, struct proc_stat *ret);

/* Alive: exists, is not a zombie, and (start_time != 0) started when we
 * think it did, so a reused PID never counts. */
bool sc_proc_alive(pid_t pid, uint64_t start_time);

/* Live members of process group pgid started at or after start_time:
 * count, and their summed RSS. */
int sc_pgrp_members(pid_t pgid, uint64_t start_time, uint64_t *rss_bytes);

/* SIGTERM to the group, wait up to timeout_ms for every member to be gone,
 * then SIGKILL and wait again. *killed tells whether SIGKILL was needed.
 * Never signals a group none of whose live members started at or after
 * start_time (the PGID was reused). */
int sc_pgrp_stop(pid_t pgid, uint64_t start_time, int timeout_ms, bool *killed, sc_err *e);


#endif
