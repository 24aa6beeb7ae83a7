/* Commands on the nodes of a multi-node model: over OpenSSH for the other
 * boxes, directly for this one. A remote command is built from words and
 * quoted for the remote shell exactly once; the scripts are constants that
 * take every value as a positional argument, so nothing from models.ini
 * can become shell syntax on a node. */
#ifndef SC_REMOTE_H
#define SC_REMOTE_H

#include <stdint.h>
#include <sys/types.h>

#include "../base/err.h"
#include "../base/registry.h"

/* words joined, each quoted (sc_shell_quote): one string that a POSIX
 * shell splits back into exactly these words. NULL when out of memory. */
char *sc_shell_join(char *const *words, size_t n);

/* Run a constant script (sh -c SCRIPT sparkctl ARGS...) on node n:
 * through `$SPARKCTL_SSH` (default "ssh") with BatchMode and a connect
 * timeout, or directly when the node is local. Output in out (up to cap);
 * returns the exit status, 255 when ssh could not reach the node, <0 on a
 * local failure. */
int sc_node_sh(const struct reg_node *n, const char *script, char *const *args, size_t n_args, char *out, size_t cap,
	       int timeout_ms, sc_err *e);

/* A rank, started detached in its own session on its node, output to log:
 * pid and start time (field 22 of /proc/PID/stat) of the leader. env are
 * KEY=VALUE words set for it. */
int sc_node_spawn(const struct reg_node *n, char *const *argv, size_t argc, char *const *env, size_t n_env,
		  const char *log, pid_t *pid, uint64_t *start_time, sc_err *e);

/* 1 alive, 0 gone (or its PID now names another process), <0 unreachable. */
int sc_node_alive(const struct reg_node *n, pid_t pid, uint64_t start_time, sc_err *e);

/* SIGTERM to the rank's process group, SIGKILL after timeout_s; never a
 * group whose leader started at another time. 0 stopped or gone, <0 not
 * reached (e says why). */
int sc_node_stop(const struct reg_node *n, pid_t pid, uint64_t start_time, int timeout_s, sc_err *e);

/* The last lines of a log on the node ("" when it cannot be read). */
char *sc_node_tail(const struct reg_node *n, const char *log, unsigned lines);

#endif
