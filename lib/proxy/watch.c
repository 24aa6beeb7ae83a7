/* Is a model up? Asked for every request, so answered from memory, but
 * memory that the truth invalidates the moment it changes: inotify on
 * <state-dir>/run (every serve, switch and stop writes or removes a state
 * file there, sparkctl's own or the CLI's) and a pidfd of the engine (it
 * becomes readable when the process ends). Nothing is assumed between
 * those events; without inotify every request reads the state file. */
#include "px.h"
#include "../base/util.h"
#include "../engine/state.h"
#include "../ops/serve.h"

#include <sys/inotify.h>
#include <sys/syscall.h>
#include <unistd.h>

void sc_px_watch_forget(struct px_model *m)
{
	m->known = false;
	if (m->pid_ev) {
		m->px->ev->event_free(m->pid_ev);
		m->pid_ev = NULL;
	}
	if (m->pidfd >= 0) {
		close(m->pidfd);
		m->pidfd = -1;
	}
}

static void exited(evutil_socket_t fd, short what, void *arg)
{
	sc_px_watch_forget(arg);  /* the engine ended: ask the state file again */
}

static void forget_all(struct px *px)
{
	for (size_t i = 0; i < px->n_models; i++)
		sc_px_watch_forget(px->models[i]);
}

static void changed(evutil_socket_t fd, short what, void *arg)
{
	struct px *px = arg;
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;
	while ((n = read(fd, buf, sizeof buf)) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			p += sizeof *ev + ev->len;
			if (ev->mask & (IN_Q_OVERFLOW | IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) {
				forget_all(px);
				continue;
			}
			size_t len = ev->len ? strlen(ev->name) : 0;
			if (len > 5 && streq(ev->name + len - 5, ".json")) {
				char name[256];
				snprintf(name, sizeof name, "%.*s", (int)(len - 5), ev->name);
				struct px_model *m = sc_px_model_find(px, name);
				if (m)
					sc_px_watch_forget(m);
			}
		}
	}
}

static void ident_of(const struct run_state *st, char *buf, size_t len)
{
	if (st->container)
		snprintf(buf, len, "%s", st->container);
	else
		snprintf(buf, len, "%d:%llu", (int)st->pid, (unsigned long long)st->start_time);
}

void sc_px_ident(const struct run_state *st, char *buf, size_t len)
{
	ident_of(st, buf, len);
}

bool sc_px_model_up(struct px *px, struct px_model *m, char *host, size_t host_len, int *port)
{
	if (!m->ident[0])
		return false;
	if (!m->known || !px->watching) {
		struct run_state st;
		char id[96];
		sc_px_watch_forget(m);
		m->up = false;
		if (sc_run_quick(&px->reg->r, m->name, &st) == 1) {
			ident_of(&st, id, sizeof id);
			m->up = streq(id, m->ident);
			snprintf(m->host, sizeof m->host, "%s", st.host ? st.host : px->reg->r.host);
			m->port = st.port;
			if (m->up && !st.container && px->watching) {
				m->pidfd = (int)syscall(SYS_pidfd_open, st.pid, 0);
				/* no pidfd (an old kernel): not cached, read each time */
				if (m->pidfd < 0 ||
				    !(m->pid_ev = px->ev->event_new(px->base, m->pidfd, EV_READ, exited, m)) ||
				    px->ev->event_add(m->pid_ev, NULL) < 0) {
					sc_px_watch_forget(m);
					sc_run_state_done(&st);
					goto answer;
				}
			}
			sc_run_state_done(&st);
		}
		m->known = px->watching;
	}
answer:
	if (m->up) {
		snprintf(host, host_len, "%s", m->host);
		*port = m->port;
	}
	return m->up;
}

int sc_px_watch_init(struct px *px, sc_err *e)
{
	char *run = sc_path_join(px->reg->r.state_dir, "run");
	px->inotify_fd = -1;
	if (!run)
		return sc_error(e, -ENOMEM, "out of memory");
	sc_mkdir_p(run, 0700);
	px->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (px->inotify_fd >= 0 &&
	    inotify_add_watch(px->inotify_fd, run, IN_CREATE | IN_CLOSE_WRITE | IN_DELETE | IN_MOVED_FROM |
						      IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF) >= 0 &&
	    (px->inotify_ev = px->ev->event_new(px->base, px->inotify_fd, EV_READ | EV_PERSIST, changed, px)) &&
	    px->ev->event_add(px->inotify_ev, NULL) == 0)
		px->watching = true;
	free(run);
	return 0;
}

void sc_px_watch_done(struct px *px)
{
	forget_all(px);
	if (px->inotify_ev)
		px->ev->event_free(px->inotify_ev);
	if (px->inotify_fd >= 0)
		close(px->inotify_fd);
}
