/* sparkctl proxy: the front door (lib/proxy): runs in the foreground
 * until SIGTERM; its log goes to stderr (journald) and to
 * <state-dir>/logs/proxy.log (sparkctl logs proxy). */
#include "common.h"
#include "../lib/base/util.h"
#include "../lib/engine/state.h"
#include "../lib/proxy/proxy.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { OPT_LISTEN = 256, OPT_STOP_ENGINES, OPT_FOREGROUND_LOG };

static const struct sc_option options[] = {
	{ "listen", OPT_LISTEN, required_argument, "HOST:PORT",
	  "listen here instead of [proxy] listen (repeatable; the proxy-ports of the models are added)", NULL },
	{ "stop-engines", OPT_STOP_ENGINES, no_argument, NULL, "on SIGTERM, stop the engines too", NULL },
	{ "foreground-log", OPT_FOREGROUND_LOG, no_argument, NULL,
	  "stamp the log lines on stderr with the time (journald stamps them itself)", NULL },
	{ 0 },
};

struct opts {
	char **listen;
	size_t n_listen;
	bool stop_engines, stamp;
};

static int set(void *ud, int id, const char *arg)
{
	struct opts *o = ud;
	char host[256];
	int port;
	if (id == OPT_LISTEN) {
		if (sc_listen_split(arg, host, sizeof host, &port) < 0)
			return cli_fail(-1, "proxy: --listen %s: not HOST:PORT (127.0.0.1:31000, [::1]:31000)", arg);
		return sc_strv_appendf(&o->listen, &o->n_listen, "%s", arg) < 0 ? cli_fail(-1, "out of memory") : 0;
	}
	if (id == OPT_STOP_ENGINES)
		o->stop_engines = true;
	else
		o->stamp = true;
	return 0;
}

/* Lines gather in a buffer each for stderr and the file and go out in one
 * write at flush (every 100 ms) or when 64 KiB are waiting. */
struct log_out {
	int fd;
	const char *path;  /* the file's; NULL for stderr */
	uint64_t max;      /* the file about to pass it becomes PATH.1 and a new one starts */
	uint64_t written;  /* to this file so far */
	size_t len;
	char buf[1 << 16];
};

struct log_sink {
	struct log_out err, file;
	bool stamp;
	time_t at;  /* when is for this second */
	char when[40];
};

/* The file about to pass log-max: it becomes PATH.1 (the one before
 * goes) and a new file starts, so that a flood of requests, even refused
 * ones, takes at most about twice log-max of the disk the models are on. */
static void rotate(struct log_out *o)
{
	_cleanup_free_ char *old = NULL;
	/* ENOENT: the file was removed, or a new one could not be opened last
	 * time; either way a new one starts now */
	if (asprintf(&old, "%s.1", o->path) < 0 || (rename(o->path, old) < 0 && errno != ENOENT))
		return;  /* not now: the next flush tries again */
	if (o->fd >= 0)
		close(o->fd);
	/* -1 (descriptors run out in a flood): lines are lost, not piled onto
	 * the old file, until a later flush can open one */
	o->fd = open(o->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	o->written = 0;
}

static void out_flush(struct log_out *o)
{
	/* before a write, never after: the file always ends with the last lines */
	if (o->path && o->len && (o->fd < 0 || (o->written && o->written + o->len > o->max)))
		rotate(o);
	size_t done = 0;
	while (done < o->len) {
		ssize_t n = write(o->fd, o->buf + done, o->len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;  /* a full disk loses log lines, never the proxy */
		done += (size_t)n;
	}
	o->written += done;
	o->len = 0;
}

/* copied, not printed: a line a request, at tens of thousands a second */
static void out_line(struct log_out *o, const char *when, const char *line)
{
	size_t wl = when ? strlen(when) : 0, ll = strlen(line), need = (when ? wl + 1 : 0) + ll + 1;
	if (o->len + need > sizeof o->buf)
		out_flush(o);
	if (need > sizeof o->buf)
		return;
	char *p = o->buf + o->len;
	if (when) {
		memcpy(p, when, wl);
		p[wl] = ' ';
		p += wl + 1;
	}
	memcpy(p, line, ll);
	p[ll] = '\n';
	o->len += need;
}

static void log_line(void *ud, const char *line)
{
	struct log_sink *s = ud;
	time_t now = time(NULL);
	if (now != s->at) {
		struct tm tm;
		gmtime_r(&now, &tm);
		strftime(s->when, sizeof s->when, "%Y-%m-%dT%H:%M:%SZ", &tm);
		s->at = now;
	}
	/* lines come from the network (model names, paths): shown safe */
	const char *safe = cli_safe(line);
	out_line(&s->err, s->stamp ? s->when : NULL, safe);
	out_line(&s->file, s->when, safe);
}

static void log_flush(void *ud)
{
	struct log_sink *s = ud;
	out_flush(&s->err);
	out_flush(&s->file);
}

static int run(void *opts, int argc, char **argv, struct sc_ctx *ctx)
{
	struct opts *o = opts;
	sc_err e;
	static struct log_sink sink;
	sink.stamp = o->stamp;
	sink.err.fd = STDERR_FILENO;
	_cleanup_free_ char *path = sc_state_log_path(ctx->reg.state_dir, "proxy", &e);
	if (!path)
		return cli_fail(1, "proxy: %s", e.msg);
	struct stat st;
	if ((sink.file.fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
		return cli_fail(1, "proxy: %s: %s", path, strerror(errno));
	if (fstat(sink.file.fd, &st) < 0) {
		int err = errno;
		close(sink.file.fd);
		return cli_fail(1, "proxy: %s: %s", path, strerror(err));
	}
	sink.file.path = path;
	sink.file.written = (uint64_t)st.st_size;
	sink.file.max = ctx->reg.proxy.log_max;
	struct sc_proxy_opts po = { .config = ctx->config, .listen = o->listen, .n_listen = o->n_listen,
				    .stop_engines = o->stop_engines, .log = log_line, .flush = log_flush, .ud = &sink };
	int r = sc_proxy_run(&po, &e);
	log_flush(&sink);
	if (r < 0)
		cli_fail(1, "proxy: %s", e.msg);
	if (sink.file.fd >= 0)
		close(sink.file.fd);
	sc_strv_free(o->listen, o->n_listen);
	return r < 0 ? 1 : 0;
}

const struct sc_command cmd_proxy = {
	.name = "proxy",
	.summary = "The front door: token auth, models switched on demand",
	.usage = "proxy [--listen HOST:PORT]... [--stop-engines] [--foreground-log]",
	.options = options,
	.run = run,
	.set = set,
	.opts_size = sizeof(struct opts),
	.min_args = 0,
	.max_args = 0,
	.flags = CMD_REGISTRY,
};
