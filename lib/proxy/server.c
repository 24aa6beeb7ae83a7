/* The proxy's loop: listeners (paused at the connection cap), signals
 * (SIGHUP reloads, SIGTERM drains), the once-a-second sweep, and
 * sc_proxy_run that ties them together. */
#include "px.h"
#include "../base/time.h"
#include "../base/util.h"
#include "../ops/serve.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- listeners ---- */

/* At the connection cap the listeners pause (new clients wait in the
 * kernel's backlog, as with nginx's worker_connections) instead of the
 * proxy running out of files. */
static void pause_accepting(struct px *px, const char *why)
{
	if (px->accepting_paused)
		return;
	for (size_t i = 0; i < px->n_bound; i++)
		px->ev->event_del(px->bound[i].ev);
	px->accepting_paused = true;
	px->accept_pauses++;
	sc_px_log(px, "%zu connections open (%s): new ones wait until one ends", px->n_conns, why);
}

void sc_px_accept_resume(struct px *px)
{
	if (!px->accepting_paused || px->shutting_down || px->n_conns >= (size_t)px->reg->r.proxy.connections)
		return;
	for (size_t i = 0; i < px->n_bound; i++)
		px->ev->event_add(px->bound[i].ev, NULL);
	px->accepting_paused = false;
}

static void accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct px *px = arg;
	while (!px->accepting_paused) {
		if (px->n_conns >= (size_t)px->reg->r.proxy.connections) {
			char why[64];
			snprintf(why, sizeof why, "connections = %ld", px->reg->r.proxy.connections);
			pause_accepting(px, why);
			return;
		}
		struct sockaddr_storage ss;
		socklen_t sl = sizeof ss;
		int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
				pause_accepting(px, "out of file descriptors or memory");  /* the sweep tries again */
			return;  /* EAGAIN, or a connection reset before it was taken */
		}
		char peer[INET6_ADDRSTRLEN] = "?";
		if (ss.ss_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, peer, sizeof peer);
		else if (ss.ss_family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, peer, sizeof peer);
		sc_px_accept(px, fd, peer);
	}
}

static void close_listeners(struct px *px)
{
	for (size_t i = 0; i < px->n_bound; i++) {
		px->ev->event_free(px->bound[i].ev);
		close(px->bound[i].fd);
	}
	px->n_bound = 0;
}

static int listen_on(struct px *px, const char *host, int port, sc_err *e, const char *word)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE }, *ai;
	char ps[16];
	snprintf(ps, sizeof ps, "%d", port);
	int g = getaddrinfo(*host ? host : NULL, ps, &hints, &ai);
	if (g)
		return sc_error(e, -EINVAL, "cannot listen on %s: %s", word, gai_strerror(g));
	int one = 1, fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 511) < 0) {
		int err = errno;
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return sc_error(e, -EADDRINUSE, "cannot listen on %s: %s (is nginx or another proxy still on it?)", word,
				strerror(err));
	}
	freeaddrinfo(ai);
	struct px_listener *l = &px->bound[px->n_bound];
	if (!(l->ev = px->ev->event_new(px->base, fd, EV_READ | EV_PERSIST, accept_cb, px)) ||
	    px->ev->event_add(l->ev, NULL) < 0) {
		if (l->ev)
			px->ev->event_free(l->ev);
		close(fd);
		return sc_error(e, -ENOMEM, "out of memory");
	}
	l->fd = fd;
	px->n_bound++;
	return 0;
}

/* ---- signals and shutdown ---- */

bool sc_px_idle(const struct px *px)
{
	for (size_t i = 0; i < px->n_models; i++)
		if (px->models[i]->inflight || px->models[i]->qhead)
			return false;
	return true;
}

static void shutdown_tick(evutil_socket_t fd, short what, void *arg)
{
	struct px *px = arg;
	if (sc_px_idle(px) || sc_now_ms() >= px->shutdown_deadline) {
		if (!sc_px_idle(px))
			sc_px_log(px, "shutdown-timeout reached: cutting what still runs");
		px->ev->base_loopbreak(px->base);
		return;
	}
	struct timeval tv = { 0, 50000 };
	px->ev->event_add(px->shutdown_ev, &tv);
}

static void on_term(evutil_socket_t sig, short what, void *arg)
{
	struct px *px = arg;
	if (px->shutting_down)
		return;
	px->shutting_down = true;
	sc_px_notify("STOPPING=1");
	sc_px_log(px, "%s: no new connections; waiting up to %ld s for requests in flight", sig == SIGINT ? "SIGINT" : "SIGTERM",
	       px->reg->r.proxy.shutdown_timeout);
	close_listeners(px);
	/* who waits for a start would wait past the deadline */
	for (size_t i = 0; i < px->n_models; i++)
		sc_px_fail_waiters(px->models[i], "shutting_down", "the proxy is shutting down");
	px->shutdown_deadline = sc_now_ms() + px->reg->r.proxy.shutdown_timeout * 1000;
	shutdown_tick(-1, 0, px);
}

static int load_registry(const struct sc_proxy_opts *o, struct px_reg **ret, sc_err *e)
{
	struct px_reg *r = calloc(1, sizeof *r);
	bool loose;
	*ret = NULL;
	if (!r)
		return sc_error(e, -ENOMEM, "out of memory");
	r->refs = 1;
	int x = sc_registry_load(o->config, &r->r, e);
	if (x < 0) {
		free(r);
		return x;
	}
	if (!r->r.token_file)
		x = sc_error(e, -EINVAL, "the proxy lets no one in without a token: name a token file in %s "
			     "([defaults] token-file = ~/.config/sparkctl/tokens)", r->r.file ? r->r.file : "models.ini");
	else if ((x = sc_tokens_read(r->r.token_file, &r->tokens, &r->n_tokens, &loose, e)) >= 0 && !r->n_tokens)
		x = sc_error(e, -EINVAL, "%s holds no token: the proxy would let no one in", r->r.token_file);
	else if (x >= 0 && loose)
		x = sc_error(e, -EPERM, "%s is readable by others: chmod 600 %s", r->r.token_file, r->r.token_file);
	if (x < 0) {
		sc_px_reg_put(r);
		return x;
	}
	*ret = r;
	return 0;
}

static void on_hup(evutil_socket_t sig, short what, void *arg)
{
	struct px *px = arg;
	struct px_reg *r;
	sc_err e;
	sc_px_notify("RELOADING=1");
	if (load_registry(px->o, &r, &e) < 0) {
		sc_px_log(px, "reload failed, the old configuration stays: %s", e.msg);
	} else {
		struct px_reg *old = px->reg;
		px->reg = r;
		if (sc_px_models_sync(px, &e) < 0)
			sc_px_log(px, "reload: %s", e.msg);
		sc_px_reg_put(old);
		sc_px_log(px, "reloaded %s: %zu models, %zu tokens", r->r.file ? r->r.file : "the built-in defaults",
		       r->r.n_models, r->n_tokens);
		sc_px_schedule(px);
	}
	sc_px_notify("READY=1");
}

/* ---- starting ---- */

static int bind_all(struct px *px, sc_err *e)
{
	const struct registry *reg = &px->reg->r;
	const struct reg_proxy *p = &reg->proxy;
	char **words = px->o->n_listen ? px->o->listen : p->listen;
	size_t n = px->o->n_listen ? px->o->n_listen : p->n_listen;
	for (size_t i = 0; i < n; i++)
		if (sc_strv_appendf(&px->listen, &px->n_listen, "%s", words[i]) < 0)
			return sc_error(e, -ENOMEM, "out of memory");
	/* every proxy-port, so the clients set up for nginx keep working */
	for (size_t i = 0; i < reg->n_models; i++)
		if (reg->models[i].proxy_port &&
		    sc_strv_appendf(&px->listen, &px->n_listen, strchr(reg->proxy_host, ':') ? "[%s]:%d" : "%s:%d",
				    reg->proxy_host, reg->models[i].proxy_port) < 0)
			return sc_error(e, -ENOMEM, "out of memory");
	if (!(px->bound = calloc(px->n_listen ? px->n_listen : 1, sizeof *px->bound)))
		return sc_error(e, -ENOMEM, "out of memory");
	for (size_t i = 0; i < px->n_listen; i++) {
		char host[256];
		int port;
		bool dup = false;
		for (size_t k = 0; k < i; k++)
			dup |= streq(px->listen[k], px->listen[i]);
		if (dup)
			continue;
		if (sc_listen_split(px->listen[i], host, sizeof host, &port) < 0)
			return sc_error(e, -EINVAL, "--listen %s: not HOST:PORT", px->listen[i]);
		int r = listen_on(px, host, port, e, px->listen[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

static void raise_fd_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Log lines are written in batches (a write a line would cost a request
 * rate nginx reaches with its access log off); at most 100 ms late. */
static void flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct px *px = arg;
	if (px->o->flush)
		px->o->flush(px->o->ud);
}

static void notes_cb(evutil_socket_t fd, short what, void *arg)
{
	struct px *px = arg;
	sc_px_conns_sweep(px, sc_now_ms());
	sc_px_accept_resume(px);
	if (px->notes_dirty)
		sc_px_notes_write(px);
}

int sc_proxy_run(const struct sc_proxy_opts *o, sc_err *e)
{
	struct px px = { .o = o, .started_ms = sc_now_ms(), .job_pipe = { -1, -1 }, .inotify_fd = -1 };
	int r;
	if (!(px.ev = sc_event(e)) || !(px.hp = sc_hparse(e)))
		return -ENOSYS;
	const struct event_api *ev = px.ev;
	if ((r = load_registry(o, &px.reg, e)) < 0)
		return r;
	raise_fd_limit();
	signal(SIGPIPE, SIG_IGN);  /* a client gone mid-write is an error return, not a death */
	/* both sides of the proxy, requests and answers alike */
	px.hp->set_max_header_size(PX_HEADERS_MAX);
	if (!(px.base = ev->base_new())) {
		r = sc_error(e, -ENOMEM, "out of memory");
		goto out;
	}
	if ((r = sc_px_models_sync(&px, e)) < 0 || (r = sc_px_sched_init(&px, e)) < 0 || (r = bind_all(&px, e)) < 0 ||
	    (r = sc_px_watch_init(&px, e)) < 0)
		goto out;
	if (!(px.sig_term = ev->event_new(px.base, SIGTERM, EV_SIGNAL | EV_PERSIST, on_term, &px)) ||
	    !(px.sig_int = ev->event_new(px.base, SIGINT, EV_SIGNAL | EV_PERSIST, on_term, &px)) ||
	    !(px.sig_hup = ev->event_new(px.base, SIGHUP, EV_SIGNAL | EV_PERSIST, on_hup, &px)) ||
	    !(px.notes_ev = ev->event_new(px.base, -1, EV_PERSIST, notes_cb, &px)) ||
	    !(px.shutdown_ev = ev->event_new(px.base, -1, 0, shutdown_tick, &px)) ||
	    !(px.flush_ev = ev->event_new(px.base, -1, EV_PERSIST, flush_cb, &px))) {
		r = sc_error(e, -ENOMEM, "out of memory");
		goto out;
	}
	struct timeval second = { 1, 0 };
	ev->event_add(px.sig_term, NULL);
	ev->event_add(px.sig_int, NULL);
	ev->event_add(px.sig_hup, NULL);
	ev->event_add(px.notes_ev, &second);
	struct timeval tenth = { 0, 100000 };
	ev->event_add(px.flush_ev, &tenth);
	char all[1024] = "";
	for (size_t i = 0; i < px.n_listen; i++)
		snprintf(all + strlen(all), sizeof all - strlen(all), "%s%s", i ? ", " : "", px.listen[i]);
	sc_px_log(&px, "listening on %s; %zu models, %zu tokens, from %s", all, px.reg->r.n_models, px.reg->n_tokens,
	       px.reg->r.file ? px.reg->r.file : "the built-in defaults");
	sc_px_notes_write(&px);
	sc_px_notify("READY=1");
	ev->base_dispatch(px.base);
	if (o->stop_engines) {
		for (size_t i = 0; i < px.reg->r.n_models; i++) {
			enum sc_stop_outcome how;
			pid_t pid;
			sc_err se;
			const char *name = px.reg->r.models[i].name;
			int k = sc_stop(&px.reg->r, name, &how, &pid, &se);
			if (k > 0)
				sc_px_log(&px, "%s: stopped (--stop-engines)", name);
			else if (k < 0)
				sc_px_log(&px, "%s: stop failed: %s", name, se.msg);
		}
	}
	sc_px_log(&px, "stopped");
	r = 0;
out:
	sc_px_notes_remove(&px);
	/* connections first: closing them aborts their requests */
	px.shutting_down = true;  /* no listener comes back */
	while (px.conns)
		sc_px_conn_close(px.conns);
	close_listeners(&px);
	sc_px_watch_done(&px);
	sc_px_sched_done(&px);
	if (o->flush)
		o->flush(o->ud);
	struct event *evs[] = { px.sig_term, px.sig_int, px.sig_hup, px.notes_ev, px.shutdown_ev, px.flush_ev };
	for (size_t i = 0; i < ARRAY_SIZE(evs); i++)
		if (evs[i])
			ev->event_free(evs[i]);
	if (px.base)
		ev->base_free(px.base);
	free(px.bound);
	sc_strv_free(px.listen, px.n_listen);
	sc_px_reg_put(px.reg);
	return r;
}
