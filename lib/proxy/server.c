/* The proxy's loop: listeners, client connections (capped, timed out,
 * watched for hang-ups), signals (SIGHUP reloads, SIGTERM drains), and
 * sc_proxy_run that ties them together. */
#include "px.h"
#include "../base/time.h"
#include "../base/util.h"
#include "../ops/serve.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- client connections ---- */

/* Client connections open now: sockets whose local port is one we listen
 * on, not the listeners. evhttp tells of a connection's start (bevcb) but
 * not of the end of one that never sent a request, so the running count
 * is set right from here once a second and whenever it reaches the cap. */
static size_t count_clients(struct px *px)
{
	size_t n = 0;
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	if (!d)
		return px->n_conns;
	while ((de = readdir(d))) {
		int fd = atoi(de->d_name), listening = 0;
		struct sockaddr_storage ss;
		socklen_t sl = sizeof ss, il = sizeof listening;
		if (de->d_name[0] < '0' || de->d_name[0] > '9' || fd == dirfd(d) ||
		    getsockname(fd, (struct sockaddr *)&ss, &sl) < 0 ||
		    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6) ||
		    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &il) < 0 || listening)
			continue;
		int port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
							   : ((struct sockaddr_in6 *)&ss)->sin6_port);
		for (size_t i = 0; i < px->n_ports; i++)
			if (px->ports[i] == port) {
				n++;
				break;
			}
	}
	closedir(d);
	return n;
}

static void pause_accepting(struct px *px)
{
	if (px->accepting_paused)
		return;
	for (size_t i = 0; i < px->n_bound; i++)
		px->ev->listener_disable(px->ev->bound_socket_get_listener(px->bound[i]));
	px->accepting_paused = true;
	px->accept_pauses++;
	sc_px_log(px, "%zu connections open (connections = %ld): new ones wait until one ends", px->n_conns,
	       px->reg->r.proxy.connections);
}

static void resume_accepting(struct px *px)
{
	if (!px->accepting_paused || px->shutting_down || px->n_conns >= (size_t)px->reg->r.proxy.connections)
		return;
	for (size_t i = 0; i < px->n_bound; i++)
		px->ev->listener_enable(px->ev->bound_socket_get_listener(px->bound[i]));
	px->accepting_paused = false;
}

/* evhttp_set_bevcb: called for every accepted connection. At the cap the
 * listeners pause (new clients wait in the kernel's backlog, as with
 * nginx's worker_connections) instead of the proxy running out of files. */
static struct bufferevent *new_conn(struct event_base *base, void *arg)
{
	struct px *px = arg;
	if (++px->n_conns >= (size_t)px->reg->r.proxy.connections) {
		px->n_conns = count_clients(px);
		if (px->n_conns >= (size_t)px->reg->r.proxy.connections)
			pause_accepting(px);
	}
	return NULL;  /* evhttp makes its own */
}

static void conn_free(struct px *px, struct px_conn *c)
{
	if (c->watch)
		px->ev->event_free(c->watch);
	if (c->arm)
		px->ev->event_free(c->arm);
	if ((size_t)c->fd < px->cap_conns && px->conns[c->fd] == c)
		px->conns[c->fd] = NULL;
	free(c);
}

/* evhttp closes a connection: its request, if one runs, lost its client. */
static void conn_closed(struct evhttp_connection *evcon, void *arg)
{
	struct px_conn *c = arg;
	struct px *px = c->px;
	if (c->rq) {
		struct px_req *rq = c->rq;
		struct evhttp_request *req = rq->req;
		c->rq = NULL;
		rq->conn = NULL;
		sc_px_req_abort(rq);
		/* a write that failed before we finished the reply: evhttp has
		 * handed the request back to us (its connection is NULL) and
		 * frees it only when the reply is ended */
		if (req && !px->ev->req_connection(req))
			px->ev->send_reply_end(req);
	}
	conn_free(px, c);
	if (px->n_conns)
		px->n_conns--;
	resume_accepting(px);
}

static void hangup_cb(evutil_socket_t fd, short what, void *arg)
{
	struct px_conn *c = arg;
	char b;
	ssize_t n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n > 0)
		return;  /* the client sent more (a pipelined request): it is there */
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		c->px->ev->event_add(c->watch, NULL);
		return;
	}
	/* EOF or reset: evhttp reads nothing while a request runs, so it
	 * would only notice at its next write. Our side is let go at once
	 * (the upstream request dropped, so the engine stops generating),
	 * then the reply is ended the ordinary way: its write fails and
	 * evhttp frees the request and the connection itself. */
	struct px_req *rq = c->rq;
	if (!rq)
		return;
	struct evhttp_request *req = rq->req;
	bool started = rq->started;
	const struct event_api *ev = c->px->ev;
	sc_px_req_abort(rq);
	if (!req)
		return;
	if (started) {
		ev->send_reply_end(req);
	} else {
		ev->add_header(ev->req_output_headers(req), "Connection", "close");
		ev->send_reply(req, 503, NULL, NULL);
	}
}

/* A request still running after 20 ms gets the hang-up watch: most are
 * answered before, and a timer costs no system call where the watch costs
 * two (epoll_ctl in and out). */
static void arm_cb(evutil_socket_t fd, short what, void *arg)
{
	struct px_conn *c = arg;
	if (c->rq)
		c->px->ev->event_add(c->watch, NULL);
}

/* The record of the connection of rq (made at its first request), and a
 * watch on it for the client hanging up. */
void sc_px_conn_watch(struct px *px, struct px_req *rq)
{
	const struct event_api *ev = px->ev;
	struct evhttp_connection *evcon = ev->req_connection(rq->req);
	int fd = ev->bev_getfd(ev->conn_get_bufferevent(evcon));
	if (fd < 0 || (size_t)fd >= px->cap_conns)
		return;
	struct px_conn *c = px->conns[fd];
	if (!c || c->evcon != evcon) {
		if (!(c = calloc(1, sizeof *c)))
			return;
		c->px = px;
		c->fd = fd;
		c->evcon = evcon;
		if (!(c->watch = ev->event_new(px->base, fd, EV_READ, hangup_cb, c)) ||
		    !(c->arm = ev->event_new(px->base, -1, 0, arm_cb, c))) {
			if (c->watch)
				ev->event_free(c->watch);
			free(c);
			return;
		}
		px->conns[fd] = c;
		ev->conn_set_closecb(evcon, conn_closed, c);
	}
	c->rq = rq;
	rq->conn = c;
	struct timeval soon = { 0, 20000 };
	ev->event_add(c->arm, &soon);
}

void sc_px_conn_unwatch(struct px_conn *c)
{
	c->px->ev->event_del(c->arm);
	c->px->ev->event_del(c->watch);
}

/* ---- signals and shutdown ---- */

static void finish_shutdown(struct px *px)
{
	px->ev->base_loopbreak(px->base);
}

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
		finish_shutdown(px);
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
	for (size_t i = 0; i < px->n_bound; i++)
		px->ev->del_accept_socket(px->http, px->bound[i]);
	px->n_bound = 0;
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
	if (!(px->bound = calloc(px->n_listen ? px->n_listen : 1, sizeof *px->bound)) ||
	    !(px->ports = calloc(px->n_listen ? px->n_listen : 1, sizeof *px->ports)))
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
		struct evhttp_bound_socket *b = px->ev->bind_socket_with_handle(px->http, host, (ev_uint16_t)port);
		if (!b)
			return sc_error(e, -EADDRINUSE, "cannot listen on %s: %s (is nginx or another proxy still on it?)",
					px->listen[i], strerror(errno));
		px->bound[px->n_bound++] = b;
		px->ports[px->n_ports++] = port;
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
	if (px->n_conns) {
		px->n_conns = count_clients(px);
		resume_accepting(px);
	}
	if (px->notes_dirty)
		sc_px_notes_write(px);
}

int sc_proxy_run(const struct sc_proxy_opts *o, sc_err *e)
{
	struct px px = { .o = o, .started_ms = sc_now_ms(), .job_pipe = { -1, -1 }, .inotify_fd = -1 };
	int r;
	if (!(px.ev = sc_event(e)))
		return -ENOSYS;
	const struct event_api *ev = px.ev;
	if ((r = load_registry(o, &px.reg, e)) < 0)
		return r;
	raise_fd_limit();
	px.cap_conns = (size_t)sc_fd_limit();
	signal(SIGPIPE, SIG_IGN);  /* a client gone mid-write is an error return, not a death */
	/* epoll's changes gathered and made once a loop turn: evhttp enables
	 * and disables reading and writing several times a request, ten
	 * epoll_ctl calls where one or two do */
	struct event_config *cfg = ev->config_new();
	if (cfg)
		ev->config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	px.base = cfg ? ev->base_new_with_config(cfg) : NULL;
	if (cfg)
		ev->config_free(cfg);
	if (!(px.conns = calloc(px.cap_conns, sizeof *px.conns)) || !px.base || !(px.http = ev->http_new(px.base))) {
		r = sc_error(e, -ENOMEM, "out of memory");
		goto out;
	}
	const struct reg_proxy *p = &px.reg->r.proxy;
	ev->set_max_body_size(px.http, (ev_ssize_t)p->body_max);
	ev->set_max_headers_size(px.http, PX_HEADERS_MAX);
	ev->set_timeout(px.http, (int)p->timeout);
	ev->set_allowed_methods(px.http, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
	ev->set_gencb(px.http, sc_px_handle, &px);
	ev->set_bevcb(px.http, new_conn, &px);
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
	if (px.http)
		ev->http_free(px.http);
	for (size_t fd = 0; px.conns && fd < px.cap_conns; fd++)
		if (px.conns[fd])
			conn_free(&px, px.conns[fd]);
	free(px.conns);
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
	free(px.ports);
	sc_strv_free(px.listen, px.n_listen);
	sc_px_reg_put(px.reg);
	return r;
}
