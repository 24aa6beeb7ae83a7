/* sparkctl proxy: the front door (lib/proxy): runs in the foreground
 * until SIGTERM; its log goes to stderr (journald) and to
 * <state-dir>/logs/proxy.log (sparkctl logs proxy). */
#include "common.h"
#include "../lib/base/util.h"
#include "../lib/engine/state.h"
#include "../lib/proxy/proxy.h"

#include <fcntl.h>
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

struct log_sink {
	int fd;
	bool stamp;
};

static void log_line(void *ud, const char *line)
{
	struct log_sink *s = ud;
	char when[40];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	/* lines come from the network (model names, paths): shown safe */
	const char *safe = cli_safe(line);
	if (s->stamp)
		fprintf(stderr, "%s %s\n", when, safe);
	else
		fprintf(stderr, "%s\n", safe);
	if (s->fd >= 0)
		dprintf(s->fd, "%s %s\n", when, safe);
}

static int run(void *opts, int argc, char **argv, struct sc_ctx *ctx)
{
	struct opts *o = opts;
	sc_err e;
	struct log_sink sink = { .fd = -1, .stamp = o->stamp };
	_cleanup_free_ char *path = sc_state_log_path(ctx->reg.state_dir, "proxy", &e);
	if (!path)
		return cli_fail(1, "proxy: %s", e.msg);
	if ((sink.fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
		return cli_fail(1, "proxy: %s: %s", path, strerror(errno));
	setvbuf(stderr, NULL, _IOLBF, 0);
	struct sc_proxy_opts po = { .config = ctx->config, .listen = o->listen, .n_listen = o->n_listen,
				    .stop_engines = o->stop_engines, .log = log_line, .ud = &sink };
	int r = sc_proxy_run(&po, &e);
	if (r < 0)
		cli_fail(1, "proxy: %s", e.msg);
	close(sink.fd);
	sc_strv_free(o->listen, o->n_listen);
	return r < 0 ? 1 : 0;
}

const struct sc_command cmd_proxy = {
	.name = "proxy",
	.summary = "The front door: token auth, and models switched on demand by the request's model field",
	.usage = "proxy [--listen HOST:PORT]... [--stop-engines] [--foreground-log]",
	.options = options,
	.run = run,
	.set = set,
	.opts_size = sizeof(struct opts),
	.min_args = 0,
	.max_args = 0,
	.flags = CMD_REGISTRY,
};
