#include "remote.h"
#include "proc.h"
#include "engine.h"
#include "../base/util.h"
#include "../base/words.h"

#include <stdlib.h>

char *sc_shell_join(char *const *words, size_t n)
{
	char *out = NULL;
	size_t len = 0, cap = 0;
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *q = sc_shell_quote(words[i]);
		size_t ql = q ? strlen(q) : 0;
		if (!q || sc_grow(&out, &cap, len + ql + 2, 1) < 0) {
			free(out);
			return NULL;
		}
		if (i)
			out[len++] = ' ';
		memcpy(out + len, q, ql + 1);
		len += ql;
	}
	return out ? out : strdup("");
}

int sc_node_sh(const struct reg_node *n, const char *script, char *const *args, size_t n_args, char *out, size_t cap,
	       int timeout_ms, sc_err *e)
{
	char **words = NULL, **ssh = NULL, *remote = NULL;
	size_t nw = 0, ns = 0;
	int r;
	if (sc_strv_appendf(&words, &nw, "sh") < 0 || sc_strv_appendf(&words, &nw, "-c") < 0 ||
	    sc_strv_appendf(&words, &nw, "%s", script) < 0 || sc_strv_appendf(&words, &nw, "sparkctl") < 0)
		goto oom;
	for (size_t i = 0; i < n_args; i++)
		if (sc_strv_appendf(&words, &nw, "%s", args[i]) < 0)
			goto oom;
	if (n->local || !n->ssh) {
		r = sc_run(words, out, cap, timeout_ms, e);
		sc_strv_free(words, nw);
		return r;
	}
	/* like GIT_SSH_COMMAND: the ssh to use, as words */
	const char *cmd = getenv("SPARKCTL_SSH");
	if ((r = sc_split_words(cmd && *cmd ? cmd : "ssh", &ssh, &ns, e)) < 0) {
		sc_strv_free(words, nw);
		return r;
	}
	remote = sc_shell_join(words, nw);
	/* "--" ends ssh's options: the destination is never read as one */
	if (!remote || sc_strv_appendf(&ssh, &ns, "-o") < 0 || sc_strv_appendf(&ssh, &ns, "BatchMode=yes") < 0 ||
	    sc_strv_appendf(&ssh, &ns, "-o") < 0 || sc_strv_appendf(&ssh, &ns, "ConnectTimeout=5") < 0 ||
	    sc_strv_appendf(&ssh, &ns, "--") < 0 || sc_strv_appendf(&ssh, &ns, "%s", n->ssh) < 0 ||
	    sc_strv_appendf(&ssh, &ns, "%s", remote) < 0) {
		sc_strv_free(ssh, ns);
		goto oom;
	}
	r = sc_run(ssh, out, cap, timeout_ms, e);
	sc_strv_free(ssh, ns);
	sc_strv_free(words, nw);
	free(remote);
	return r;
oom:
	free(remote);
	sc_strv_free(words, nw);
	return sc_error(e, -ENOMEM, "out of memory");
}

/* $1 the log, then env words up to "--", then the command. setsid gives the
 * rank its own process group (its PID), so stopping it reaches its
 * children; field 22 of /proc/PID/stat tells a reused PID. */
static const char SPAWN[] =
	"log=$1; shift; mkdir -p \"${log%/*}\" || exit 1; "
	"setsid env \"$@\" >>\"$log\" 2>&1 </dev/null & "
	"pid=$!; echo \"$pid $(sed 's/.*) //' /proc/$pid/stat | cut -d' ' -f20)\"";

/* $1 pid, $2 start time: exit 0 while that process lives */
#define ALIVE_FN "alive() { s=$(sed 's/.*) //' /proc/$1/stat 2>/dev/null) || return 1; " \
		 "[ \"${s%% *}\" != Z ] && [ \"$(printf %s \"$s\" | cut -d' ' -f20)\" = \"$2\" ]; }; "
static const char ALIVE[] = ALIVE_FN "alive \"$1\" \"$2\"";

/* $1 pid, $2 start time, $3 seconds: TERM to the group, KILL after $3 */
static const char STOP[] =
	ALIVE_FN
	"alive \"$1\" \"$2\" || exit 0; kill -TERM -$1 2>/dev/null; i=0; "
	"while alive \"$1\" \"$2\" && [ $i -lt $(($3 * 10)) ]; do sleep 0.1; i=$((i + 1)); done; "
	"alive \"$1\" \"$2\" && kill -KILL -$1 2>/dev/null; "
	"i=0; while alive \"$1\" \"$2\" && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done; ! alive \"$1\" \"$2\"";

int sc_node_spawn(const struct reg_node *n, char *const *argv, size_t argc, char *const *env, size_t n_env,
		  const char *log, pid_t *pid, uint64_t *start_time, sc_err *e)
{
	char **args = NULL, out[256] = "";
	size_t na = 0;
	int r = 0;
	*pid = 0;
	*start_time = 0;
	if (sc_strv_appendf(&args, &na, "%s", log) < 0)
		r = -ENOMEM;
	for (size_t i = 0; r == 0 && i < n_env; i++)
		if (sc_strv_appendf(&args, &na, "%s", env[i]) < 0)
			r = -ENOMEM;
	for (size_t i = 0; r == 0 && i < argc; i++)
		if (sc_strv_appendf(&args, &na, "%s", argv[i]) < 0)
			r = -ENOMEM;
	if (r < 0) {
		sc_strv_free(args, na);
		return sc_error(e, r, "out of memory");
	}
	r = sc_node_sh(n, SPAWN, args, na, out, sizeof out, 30000, e);
	sc_strv_free(args, na);
	if (r < 0)
		return r;
	long long p = 0;
	unsigned long long st = 0;
	if (r != 0 || sscanf(out, "%lld %llu", &p, &st) != 2 || p <= 0)
		return sc_error(e, -EHOSTUNREACH, "%s: the rank could not be started%s%s", n->name, r == 255 ? " (ssh: " : ": ",
				out[0] ? out : "no answer");
	*pid = (pid_t)p;
	*start_time = st;
	return 0;
}

int sc_node_alive(const struct reg_node *n, pid_t pid, uint64_t start_time, sc_err *e)
{
	char p[32], st[32], out[512];
	snprintf(p, sizeof p, "%d", (int)pid);
	snprintf(st, sizeof st, "%llu", (unsigned long long)start_time);
	char *args[] = { p, st };
	int r = sc_node_sh(n, ALIVE, args, 2, out, sizeof out, 15000, e);
	if (r < 0)
		return r;
	if (r == 255)
		return sc_error(e, -EHOSTUNREACH, "%s (%s) is not reachable: %s", n->name, n->ssh, out);
	return r == 0;
}

int sc_node_stop(const struct reg_node *n, pid_t pid, uint64_t start_time, int timeout_s, sc_err *e)
{
	char p[32], st[32], t[16], out[512];
	snprintf(p, sizeof p, "%d", (int)pid);
	snprintf(st, sizeof st, "%llu", (unsigned long long)start_time);
	snprintf(t, sizeof t, "%d", timeout_s);
	char *args[] = { p, st, t };
	int r = sc_node_sh(n, STOP, args, 3, out, sizeof out, (timeout_s + 30) * 1000, e);
	if (r < 0)
		return r;
	if (r == 255)
		return sc_error(e, -EHOSTUNREACH, "%s (%s) is not reachable: %s", n->name, n->ssh, out);
	if (r != 0)
		return sc_error(e, -EBUSY, "%s: rank %d still runs after SIGKILL", n->name, (int)pid);
	return 0;
}

char *sc_node_tail(const struct reg_node *n, const char *log, unsigned lines)
{
	char k[16], out[8192] = "";
	sc_err e;
	snprintf(k, sizeof k, "%u", lines);
	char *args[] = { k, (char *)log };
	sc_node_sh(n, "tail -n \"$1\" -- \"$2\" 2>/dev/null", args, 2, out, sizeof out, 15000, &e);
	return strdup(out);
}
