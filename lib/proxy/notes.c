/* What the proxy tells: log lines (to the caller), Prometheus metrics,
 * <state-dir>/proxy.json for `sparkctl ps`, and systemd's readiness. */
#include "px.h"
#include "../base/atomicfile.h"
#include "../base/time.h"
#include "../base/util.h"
#include "../engine/proc.h"

#include <jansson.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

void sc_px_log(struct px *px, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (px->o->log)
		px->o->log(px->o->ud, line);
}

void sc_px_count(struct px_model *m, int code)
{
	size_t i = 0;
	while (i < ARRAY_SIZE(m->codes) && m->codes[i].n && m->codes[i].code != code)
		i++;
	if (i == ARRAY_SIZE(m->codes))
		i--;  /* more distinct codes than slots: the last one takes the rest */
	m->codes[i].code = m->codes[i].n ? m->codes[i].code : code;
	m->codes[i].n++;
}

void sc_px_metrics(struct px *px, struct px_buf *b)
{
	sc_px_buf_printf(b, "# HELP sparkctl_proxy_requests_total Requests answered, by model and status.\n"
			    "# TYPE sparkctl_proxy_requests_total counter\n");
	for (size_t i = 0; i < px->n_models; i++)
		for (size_t k = 0; k < ARRAY_SIZE(px->models[i]->codes) && px->models[i]->codes[k].n; k++)
			sc_px_buf_printf(b, "sparkctl_proxy_requests_total{model=\"%s\",code=\"%d\"} %llu\n",
					 px->models[i]->name, px->models[i]->codes[k].code,
					 (unsigned long long)px->models[i]->codes[k].n);
	/* model names are [A-Za-z0-9._:+-]: nothing to escape in a label */
	static const struct {
		const char *name, *type, *help;
	} g[] = {
		{ "sparkctl_proxy_inflight", "gauge", "Requests forwarded and not yet answered." },
		{ "sparkctl_proxy_queue", "gauge", "Requests waiting for their model." },
		{ "sparkctl_proxy_loaded", "gauge", "1 when the proxy has seen the model healthy and it still runs." },
		{ "sparkctl_proxy_starts_total", "counter", "Starts of the model by the proxy." },
		{ "sparkctl_proxy_start_failures_total", "counter", "Starts that failed." },
		{ "sparkctl_proxy_start_seconds_total", "counter", "Time spent starting the model." },
		{ "sparkctl_proxy_ttl_stops_total", "counter", "Stops after the model's ttl." },
	};
	for (size_t k = 0; k < ARRAY_SIZE(g); k++) {
		sc_px_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", g[k].name, g[k].help, g[k].name, g[k].type);
		for (size_t i = 0; i < px->n_models; i++) {
			struct px_model *m = px->models[i];
			char host[256];
			int port;
			double v = k == 0 ? m->inflight : k == 1 ? (double)m->qlen
				 : k == 2 ? sc_px_model_up(px, m, host, sizeof host, &port)
				 : k == 3 ? (double)m->starts : k == 4 ? (double)m->start_failures
				 : k == 5 ? m->start_seconds : (double)m->ttl_stops;
			sc_px_buf_printf(b, "%s{model=\"%s\"} %g\n", g[k].name, m->name, v);
		}
	}
	sc_px_buf_printf(b,
			 "# HELP sparkctl_proxy_swaps_total Starts that stopped another model of the group.\n"
			 "# TYPE sparkctl_proxy_swaps_total counter\nsparkctl_proxy_swaps_total %llu\n"
			 "# HELP sparkctl_proxy_unauthorized_total Requests without a valid token.\n"
			 "# TYPE sparkctl_proxy_unauthorized_total counter\nsparkctl_proxy_unauthorized_total %llu\n"
			 "# HELP sparkctl_proxy_queue_full_total Requests refused because their queue was full.\n"
			 "# TYPE sparkctl_proxy_queue_full_total counter\nsparkctl_proxy_queue_full_total %llu\n"
			 "# HELP sparkctl_proxy_upstream_errors_total Engine connections that failed.\n"
			 "# TYPE sparkctl_proxy_upstream_errors_total counter\nsparkctl_proxy_upstream_errors_total %llu\n"
			 "# HELP sparkctl_proxy_accept_pauses_total Times the connection cap paused accepting.\n"
			 "# TYPE sparkctl_proxy_accept_pauses_total counter\nsparkctl_proxy_accept_pauses_total %llu\n"
			 "# HELP sparkctl_proxy_connections Client connections open.\n"
			 "# TYPE sparkctl_proxy_connections gauge\nsparkctl_proxy_connections %zu\n"
			 "# HELP sparkctl_proxy_uptime_seconds Seconds since the proxy started.\n"
			 "# TYPE sparkctl_proxy_uptime_seconds gauge\nsparkctl_proxy_uptime_seconds %lld\n",
			 (unsigned long long)px->swaps, (unsigned long long)px->unauthorized,
			 (unsigned long long)px->queue_full, (unsigned long long)px->upstream_errors,
			 (unsigned long long)px->accept_pauses, px->n_conns,
			 (long long)((sc_now_ms() - px->started_ms) / 1000));
}

static char *notes_path(struct px *px)
{
	return sc_path_join(px->reg->r.state_dir, "proxy.json");
}

void sc_px_notes_write(struct px *px)
{
	struct proc_stat ps;
	json_t *listen = json_array(), *models = json_object();
	for (size_t i = 0; listen && i < px->n_listen; i++)
		json_array_append_new(listen, json_string(px->listen[i]));
	for (size_t i = 0; models && i < px->n_models; i++) {
		struct px_model *m = px->models[i];
		if (m->qlen || m->inflight || m->busy)
			json_object_set_new(models, m->name, json_pack("{s:i,s:i,s:b}", "queue", (int)m->qlen, "inflight",
								      (int)m->inflight, "starting", m->busy));
	}
	json_t *j = json_pack("{s:i,s:I,s:o,s:o,s:I}", "pid", (int)getpid(), "start_time",
			      (json_int_t)(sc_proc_stat(getpid(), &ps) == 0 ? ps.start_time : 0), "listen",
			      listen ? listen : json_array(), "models", models ? models : json_object(), "connections",
			      (json_int_t)px->n_conns);
	char *text = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
	_cleanup_free_ char *path = notes_path(px);
	json_decref(j);
	sc_err e;
	if (text && path && sc_mkdir_p(px->reg->r.state_dir, 0700) >= 0 &&
	    sc_write_atomic(path, text, strlen(text), &e) >= 0) {
		px->notes_dirty = false;
		px->notes_written = true;
	}
	free(text);
}

void sc_px_notes_remove(struct px *px)
{
	/* only our own: a second proxy that failed to bind leaves the first one's */
	_cleanup_free_ char *path = px->reg && px->notes_written ? notes_path(px) : NULL;
	if (path)
		unlink(path);
}

/* sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET. */
void sc_px_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = path ? strlen(path) : 0;
	if (!len || len >= sizeof sa.sun_path || (path[0] != '/' && path[0] != '@'))
		return;
	memcpy(sa.sun_path, path, len);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';  /* an abstract socket */
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa,
	       (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len));
	close(fd);
}
