/* How a started model is: its state file, its process or container, its
 * health and its log; what ps, logs and the proxy read, and what serve
 * and stop decide by. */
#include "status.h"
#include "../base/util.h"
#include "../engine/proc.h"
#include "../net/http.h"
#include "../net/openai.h"

#include <sys/stat.h>
#include <time.h>

void sc_run_status_done(struct run_status *s)
{
	if (s)
		sc_run_state_done(&s->st);
}

/* The last n lines, read backwards from the end in blocks: a log of any
 * size (a chatty engine writes gigabytes) costs only what is shown. */
char *sc_file_tail(const char *path, unsigned n)
{
	struct stat st;
	_cleanup_close_ int fd = path ? sc_open_regular(AT_FDCWD, path, &st) : -1;
	if (fd < 0 || !n)
		return strdup("");
	uint64_t size = (uint64_t)st.st_size, start = size;
	size_t cap = 0, newlines = 0;
	char *buf = NULL;  /* holds [start, size) */
	bool trailing = false;
	/* n lines begin after the (n+1)-th newline from the end, not counting
	 * the one that ends the file */
	while (start > 0 && newlines < (size_t)n + trailing) {
		size_t block = start < 65536 ? (size_t)start : 65536, have = (size_t)(size - start);
		if (sc_grow(&buf, &cap, have + block + 1, 1) < 0) {
			free(buf);
			return NULL;
		}
		memmove(buf + block, buf, have);
		if (sc_pread_full(fd, buf, block, start - block) < 0) {
			free(buf);
			return strdup("");
		}
		if (start == size)
			trailing = buf[block - 1] == '\n';
		start -= block;
		for (size_t i = 0; i < block; i++)
			newlines += buf[i] == '\n';
	}
	size_t len = (size_t)(size - start), i = len;
	if (!buf)
		return strdup("");
	buf[len] = '\0';
	if (i && buf[i - 1] == '\n')
		i--;
	for (unsigned k = 0; i > 0; i--)
		if (buf[i - 1] == '\n' && ++k == n)
			break;
	memmove(buf, buf + i, len - i + 1);
	return buf;
}

char *sc_log_tail(const struct run_state *st, unsigned n)
{
	if (st->container) {
		char lines[16], out[65536];
		sc_err e;
		snprintf(lines, sizeof lines, "%u", n);
		char *argv[] = { "docker", "logs", "--tail", lines, st->container, NULL };
		if (sc_run(argv, out, sizeof out, 10000, &e) >= 0)
			return strdup(out);
	}
	return sc_file_tail(st->log, n);
}

const char *sc_probe_health(const char *host, int port, const char *path, bool alive)
{
	char url[512];
	struct http_resp r;
	sc_err e;
	if (!alive)
		return "dead";
	snprintf(url, sizeof url, "http://%s:%d%s", host, port, path);
	int x = sc_http_get(url, NULL, HEALTH_TIMEOUT_MS, &r, &e);
	if (x == -ECONNREFUSED)
		return "loading";
	if (x < 0)
		return "unhealthy";
	long status = r.status;
	sc_http_resp_done(&r);
	return status == 200 ? "ok" : status == 503 ? "loading" : "unhealthy";
}

int sc_served_ids(const char *host, int port, const char *bearer, char ***ret, size_t *n, sc_err *e)
{
	char url[512];
	struct http_resp r;
	int64_t max_len;
	*ret = NULL;
	*n = 0;
	snprintf(url, sizeof url, "http://%s:%d/v1/models", host, port);
	int x = sc_http_get(url, bearer, HEALTH_TIMEOUT_MS, &r, e);
	if (x < 0)
		return x;
	sc_err pe;
	if (r.status != 200)
		x = sc_error(e, SC_ENOTJSON, "%s: HTTP %ld", url, r.status);
	else if ((x = sc_models_parse(r.body, r.len, NULL, ret, n, &max_len, &pe)) < 0)
		sc_error(e, x, "%s: %s", url, pe.msg);
	sc_http_resp_done(&r);
	return x;
}

/* docker inspect: is the container running, and how did it exit */
bool sc_container_running(const char *name, int *exit_code)
{
	char out[256];
	sc_err e;
	char *argv[] = { "docker", "inspect", "-f", "{{.State.Running}} {{.State.ExitCode}}", (char *)name, NULL };
	*exit_code = -1;
	if (sc_run(argv, out, sizeof out, 10000, &e) != 0)
		return false;
	char running[16] = "";
	if (sscanf(out, "%15s %d", running, exit_code) < 1)
		return false;
	return streq(running, "true");
}

bool sc_state_alive(const struct run_state *st)
{
	int code;
	if (st->container)
		return sc_container_running(st->container, &code);
	if (sc_proc_alive(st->pid, st->start_time))
		return true;
	/* the leader is gone; children of its group may still hold the GPU */
	struct proc_stat ps;
	bool reused = sc_proc_stat(st->pid, &ps) == 0 && ps.state != 'Z' && ps.start_time != st->start_time;
	return !reused && sc_pgrp_members(st->pgid, st->start_time, NULL) > 0;
}

int sc_run_quick(const struct registry *reg, const char *name, struct run_state *st)
{
	if (sc_state_read(reg->state_dir, name, st, NULL) < 0)
		return 0;
	if (st->container || sc_proc_alive(st->pid, st->start_time))
		return 1;
	sc_run_state_done(st);
	return 0;
}

const char *sc_health_path(const struct registry *reg, const char *engine)
{
	const struct reg_engine *en = engine ? sc_registry_engine(reg, engine) : NULL;
	return en && en->health ? en->health : "/health";
}

int sc_run_status(const struct registry *reg, const char *name, struct run_status *ret, sc_err *e)
{
	*ret = (struct run_status){ 0 };
	struct run_status s = { 0 };
	int r = sc_state_read(reg->state_dir, name, &s.st, e);
	if (r < 0)
		return r;
	s.alive = sc_state_alive(&s.st);
	s.health = sc_probe_health(s.st.host ? s.st.host : reg->host, s.st.port, sc_health_path(reg, s.st.engine), s.alive);
	if (s.alive && !s.st.container) {
		sc_pgrp_members(s.st.pgid, s.st.start_time, &s.rss_bytes);
		s.rss_known = true;
	}
	s.uptime_s = s.alive ? (int64_t)time(NULL) - s.st.started_unix : 0;
	*ret = s;
	return 0;
}

