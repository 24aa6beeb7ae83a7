/* Which request goes to an engine now, which waits, and when a model of
 * a group gives way to another (sparkctl-proxy(1), "Switching"):
 *  - a request for a model that is up is forwarded at once;
 *  - others wait in their model's FIFO queue (queue-size, then 503);
 *  - the model whose oldest waiter is oldest is started next, one start
 *    at a time, by the worker thread with sc_switch (the same lock,
 *    group rules, memory checks and health wait as `sparkctl switch`);
 *  - a loaded model of the same group keeps taking requests for up to
 *    drain-timeout after another model was asked for (so A B A C is served
 *    as A A B C: one swap per batch), then takes no new ones, and is
 *    stopped once its requests in flight are done, or after another
 *    drain-timeout at the latest. */
#include "px.h"
#include "../base/time.h"
#include "../base/util.h"
#include "../engine/state.h"
#include "../ops/serve.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

void sc_px_reg_put(struct px_reg *r)
{
	if (r && --r->refs == 0) {
		sc_registry_done(&r->r);
		sc_tokens_free(r->tokens, r->n_tokens);
		free(r);
	}
}

static void job_free(struct px_job *j)
{
	if (!j)
		return;
	sc_px_reg_put(j->reg);
	sc_strv_free(j->stopped, j->n_stopped);
	free(j);
}

/* ---- the worker thread: the blocking switch and stop ---- */

static void run_job(struct px_job *j)
{
	const struct registry *reg = &j->reg->r;
	const char *name = j->m->name;
	sc_err e = { 0 };
	int64_t t0 = sc_now_ms();
	if (j->kind == JOB_STOP) {
		enum sc_stop_outcome how;
		pid_t pid;
		j->r = sc_stop(reg, name, &how, &pid, &e);
	} else {
		struct serve_opts so = { 0 };
		struct switch_result res;
		j->r = sc_switch(reg, name, &so, false, &res, &e);
		if (j->r < 0 && res.serve.log_tail && res.serve.log_tail[0]) {
			/* the engine's own last words say why */
			char *t = res.serve.log_tail, *end = t + strlen(t);
			while (end > t && end[-1] == '\n')
				*--end = '\0';
			char *last = strrchr(t, '\n');
			snprintf(e.msg + strlen(e.msg), sizeof e.msg - strlen(e.msg), ": %s", last ? last + 1 : t);
		}
		j->stopped = res.stopped;
		j->n_stopped = res.n_stopped;
		res.stopped = NULL;
		res.n_stopped = 0;
		sc_switch_result_done(&res);
		struct run_state st;
		if (j->r >= 0 && sc_run_quick(reg, name, &st) == 1) {
			sc_px_ident(&st, j->ident, sizeof j->ident);
			sc_run_state_done(&st);
		}
	}
	if (j->r < 0)
		snprintf(j->msg, sizeof j->msg, "%s", e.msg);
	j->ms = sc_now_ms() - t0;
}

static void *worker(void *arg)
{
	struct px *px = arg;
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);  /* signals are the loop's */
	pthread_mutex_lock(&px->mu);
	for (;;) {
		while (!px->quit && (!px->job || px->job_done))
			pthread_cond_wait(&px->cv, &px->mu);
		if (px->quit)
			break;
		struct px_job *j = px->job;
		pthread_mutex_unlock(&px->mu);
		run_job(j);
		pthread_mutex_lock(&px->mu);
		px->job_done = true;
		char c = 1;
		while (write(px->job_pipe[1], &c, 1) < 0 && errno == EINTR)
			;
	}
	pthread_mutex_unlock(&px->mu);
	return NULL;
}

static void start_job(struct px *px, enum px_job_kind kind, struct px_model *m)
{
	struct px_job *j = calloc(1, sizeof *j);
	if (!j) {
		sc_px_log(px, "out of memory: cannot %s %s", kind == JOB_STOP ? "stop" : "start", m->name);
		return;
	}
	j->kind = kind;
	j->m = m;
	j->reg = px->reg;
	px->reg->refs++;
	m->busy = true;
	if (kind == JOB_ENSURE)
		sc_px_log(px, "%s: starting (%zu waiting)", m->name, m->qlen);
	else
		sc_px_log(px, "%s: idle for its ttl, stopping", m->name);
	pthread_mutex_lock(&px->mu);
	px->job = j;
	px->job_done = false;
	pthread_cond_signal(&px->cv);
	pthread_mutex_unlock(&px->mu);
	px->notes_dirty = true;
}

static void dispatch(struct px *px, struct px_model *m)
{
	char host[256];
	int port;
	if (!m->qhead || !sc_px_model_up(px, m, host, sizeof host, &port))
		return;
	while (m->qhead) {
		struct px_req *rq = m->qhead;
		sc_px_unqueue(rq);
		sc_px_forward(px, rq, host, port);
	}
}

void sc_px_fail_waiters(struct px_model *m, const char *code_name, const char *why)
{
	while (m->qhead) {
		struct px_req *rq = m->qhead;
		sc_px_unqueue(rq);
		sc_px_reply_failure(rq, 503, code_name, "%s", why);
	}
}

static void job_finished(evutil_socket_t fd, short what, void *arg)
{
	struct px *px = arg;
	char buf[16];
	while (read(fd, buf, sizeof buf) < 0 && errno == EINTR)
		;
	pthread_mutex_lock(&px->mu);
	struct px_job *j = px->job_done ? px->job : NULL;
	if (j)
		px->job = NULL;
	pthread_mutex_unlock(&px->mu);
	if (!j)
		return;
	struct px_model *m = j->m;
	m->busy = false;
	sc_px_watch_forget(m);  /* another run now, or none */
	/* the models that gave way are stopped now (or the start failed and
	 * they may be asked for again) */
	for (size_t i = 0; i < px->n_models; i++)
		px->models[i]->closing = false;
	if (j->kind == JOB_STOP) {
		m->ident[0] = '\0';
		if (j->r < 0)
			sc_px_log(px, "%s: stop failed: %s", m->name, j->msg);
		else
			m->ttl_stops++;
	} else if (j->r < 0) {
		m->ident[0] = '\0';
		m->start_failures++;
		sc_px_log(px, "%s: start failed after %.1f s: %s", m->name, (double)j->ms / 1000, j->msg);
		char why[1200];
		snprintf(why, sizeof why, "%s could not be started: %s", m->name, j->msg);
		sc_px_fail_waiters(m, "model_unavailable", why);
	} else {
		snprintf(m->ident, sizeof m->ident, "%s", j->ident);
		m->starts++;
		m->start_seconds += (double)j->ms / 1000;
		px->swaps += j->n_stopped > 0;
		char stopped[512] = "";
		for (size_t i = 0; i < j->n_stopped; i++)
			snprintf(stopped + strlen(stopped), sizeof stopped - strlen(stopped), "%s%s", i ? ", " : "; stopped ",
				 j->stopped[i]);
		sc_px_log(px, "%s: ready in %.1f s%s", m->name, (double)j->ms / 1000, stopped);
		dispatch(px, m);
	}
	job_free(j);
	px->notes_dirty = true;
	sc_px_schedule(px);
}

/* ---- queues ---- */

void sc_px_unqueue(struct px_req *rq)
{
	struct px_model *m = rq->m;
	if (!rq->queued)
		return;
	struct px_req **p = &m->qhead, *prev = NULL;
	while (*p && *p != rq) {
		prev = *p;
		p = &(*p)->next;
	}
	if (*p) {
		*p = rq->next;
		if (m->qtail == rq)
			m->qtail = prev;
		m->qlen--;
	}
	rq->next = NULL;
	rq->queued = false;
	if (rq->comment_ev)
		rq->px->ev->event_del(rq->comment_ev);
	rq->px->notes_dirty = true;
}

static void comment_cb(evutil_socket_t fd, short what, void *arg)
{
	struct px_req *rq = arg;
	struct px *px = rq->px;
	if (!rq->conn)
		return;
	if (!rq->started) {
		sc_px_reply_header(rq, "Content-Type", "text/event-stream");
		sc_px_reply_header(rq, "Cache-Control", "no-cache");
		sc_px_reply_header(rq, "X-Accel-Buffering", "no");
		sc_px_reply_start(rq, 200);
	}
	/* an SSE comment: clients ignore it, their idle timers do not */
	char b[400];
	int n = snprintf(b, sizeof b, ": %s %s, %lld s\n\n", rq->m->busy ? "loading" : "waiting for", rq->m->name,
			 (long long)((sc_now_ms() - rq->t0_ms + 500) / 1000));
	sc_px_reply_chunk(rq, b, n < (int)sizeof b ? (size_t)n : sizeof b - 1);
	struct timeval tv = { px->reg->r.proxy.keepalive, 0 };
	px->ev->event_add(rq->comment_ev, &tv);
}

void sc_px_submit(struct px *px, struct px_req *rq)
{
	struct px_model *m = rq->m;
	char host[256];
	int port;
	if (!m->qhead && !m->closing && !m->busy && sc_px_model_up(px, m, host, sizeof host, &port)) {
		sc_px_forward(px, rq, host, port);
		return;
	}
	if ((long)m->qlen >= px->reg->r.proxy.queue_size) {
		px->queue_full++;
		sc_px_reply_json(rq, 503, "server_error", "queue_full",
			      "%zu requests already wait for %s (queue-size): try again later", m->qlen, m->name);
		return;
	}
	rq->queued = true;
	rq->next = NULL;
	if (m->qtail)
		m->qtail->next = rq;
	else
		m->qhead = rq;
	m->qtail = rq;
	m->qlen++;
	px->notes_dirty = true;
	if (rq->stream) {
		if (!rq->comment_ev)
			rq->comment_ev = px->ev->event_new(px->base, -1, 0, comment_cb, rq);
		struct timeval tv = { px->reg->r.proxy.keepalive, 0 };
		if (rq->comment_ev)
			px->ev->event_add(rq->comment_ev, &tv);
	}
	sc_px_schedule(px);
}

/* ---- deciding ---- */

static void arm(struct px *px, int64_t at)
{
	if (px->sched_at && px->sched_at <= at)
		return;
	int64_t d = at - sc_now_ms();
	if (d < 0)
		d = 0;
	struct timeval tv = { (time_t)(d / 1000), (suseconds_t)(d % 1000) * 1000 };
	px->sched_at = at;
	px->ev->event_add(px->sched_ev, &tv);
}

static void sched_cb(evutil_socket_t fd, short what, void *arg)
{
	struct px *px = arg;
	px->sched_at = 0;
	sc_px_schedule(px);
}

static bool job_running(struct px *px)
{
	pthread_mutex_lock(&px->mu);
	bool busy = px->job != NULL;
	pthread_mutex_unlock(&px->mu);
	return busy;
}

/* May m start now? Its loaded rivals (same group or port) must have
 * finished what they took, within the drain timeouts. */
static bool rivals_drained(struct px *px, struct px_model *m)
{
	const struct registry *reg = &px->reg->r;
	const struct reg_model *rm = sc_registry_model(reg, m->name);
	int64_t waited = sc_now_ms() - m->qhead->t0_ms, drain = reg->proxy.drain_timeout * 1000;
	bool ready = true;
	for (size_t i = 0; rm && i < reg->n_models; i++) {
		const struct reg_model *o = &reg->models[i];
		struct px_model *l = sc_px_model_find(px, o->name);
		if (o == rm || !l || !sc_models_share(rm, o) || !l->inflight)
			continue;
		if (waited < drain) {
			arm(px, m->qhead->t0_ms + drain);  /* it still takes requests: one batch */
			return false;
		}
		if (!l->closing)
			sc_px_log(px, "%s: takes no new requests: %s has waited drain-timeout; %u in flight", l->name, m->name,
			       l->inflight);
		l->closing = true;
		if (waited < 2 * drain) {
			arm(px, m->qhead->t0_ms + 2 * drain);
			ready = false;
		}
	}
	if (!ready)
		return false;
	/* no new request may reach a rival between now and its stop */
	for (size_t i = 0; rm && i < reg->n_models; i++) {
		const struct reg_model *o = &reg->models[i];
		struct px_model *l = sc_px_model_find(px, o->name);
		if (o != rm && l && sc_models_share(rm, o))
			l->closing = true;
	}
	return true;
}

void sc_px_schedule(struct px *px)
{
	if (job_running(px))
		return;  /* job_finished schedules again */
	for (;;) {
		struct px_model *next = NULL;
		for (size_t i = 0; i < px->n_models; i++) {
			struct px_model *m = px->models[i];
			if (m->qhead && (!next || m->qhead->t0_ms < next->qhead->t0_ms))
				next = m;
		}
		if (!next)
			return;
		char host[256];
		int port;
		if (!next->closing && sc_px_model_up(px, next, host, sizeof host, &port)) {
			dispatch(px, next);
			continue;
		}
		if (px->shutting_down || !rivals_drained(px, next))
			return;
		start_job(px, JOB_ENSURE, next);
		return;
	}
}

/* ---- TTL ---- */

static void ttl_cb(evutil_socket_t fd, short what, void *arg)
{
	struct px_model *m = arg;
	struct px *px = m->px;
	const struct reg_model *rm = sc_registry_model(&px->reg->r, m->name);
	char host[256];
	int port;
	/* busy again: the end of its next request arms the timer anew */
	if (!rm || rm->ttl <= 0 || m->inflight || m->qhead || m->busy || px->shutting_down)
		return;
	if (job_running(px)) {
		struct timeval tv = { 1, 0 };
		px->ev->event_add(m->ttl_ev, &tv);
		return;
	}
	if (!sc_px_model_up(px, m, host, sizeof host, &port))
		return;  /* stopped already (sparkctl stop, a swap) */
	m->closing = true;
	start_job(px, JOB_STOP, m);
}

int sc_px_models_sync(struct px *px, sc_err *e)
{
	const struct registry *reg = &px->reg->r;
	for (size_t i = 0; i < reg->n_models; i++) {
		if (sc_px_model_find(px, reg->models[i].name))
			continue;
		struct px_model *m = calloc(1, sizeof *m);
		if (!m || sc_grow(&px->models, &px->cap_models, px->n_models + 1, sizeof *px->models) < 0 ||
		    !(m->name = strdup(reg->models[i].name)) ||
		    !(m->ttl_ev = px->ev->event_new(px->base, -1, 0, ttl_cb, m))) {
			if (m)
				free(m->name);
			free(m);
			return sc_error(e, -ENOMEM, "out of memory");
		}
		m->px = px;
		m->pidfd = -1;
		px->models[px->n_models++] = m;
	}
	return 0;
}

void sc_px_request_ended(struct px *px, struct px_model *m)
{
	px->notes_dirty = true;
	const struct reg_model *rm = sc_registry_model(&px->reg->r, m->name);
	if (!m->inflight && !m->qhead && rm && rm->ttl > 0 && m->ttl_ev) {
		struct timeval tv = { rm->ttl, 0 };
		px->ev->event_add(m->ttl_ev, &tv);
	}
	sc_px_schedule(px);
}

int sc_px_sched_init(struct px *px, sc_err *e)
{
	const struct event_api *ev = px->ev;
	if (pipe2(px->job_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return sc_error(e, -errno, "pipe: %s", strerror(errno));
	pthread_mutex_init(&px->mu, NULL);
	pthread_cond_init(&px->cv, NULL);
	if (!(px->job_ev = ev->event_new(px->base, px->job_pipe[0], EV_READ | EV_PERSIST, job_finished, px)) ||
	    !(px->sched_ev = ev->event_new(px->base, -1, 0, sched_cb, px)) || ev->event_add(px->job_ev, NULL) < 0)
		return sc_error(e, -ENOMEM, "out of memory");
	int r = pthread_create(&px->worker, NULL, worker, px);
	if (r)
		return sc_error(e, -r, "cannot start the worker thread: %s", strerror(r));
	px->worker_started = true;
	return 0;
}

void sc_px_sched_done(struct px *px)
{
	const struct event_api *ev = px->ev;
	if (px->worker_started) {
		pthread_mutex_lock(&px->mu);
		px->quit = true;
		bool running = px->job && !px->job_done;
		pthread_cond_signal(&px->cv);
		pthread_mutex_unlock(&px->mu);
		if (running) {
			/* a start cannot be interrupted; the engine it starts has its
			 * state file and is stopped like any other. The worker still
			 * writes to its pipe when done: the pipe stays open. */
			pthread_detach(px->worker);
			px->job_pipe[0] = px->job_pipe[1] = -1;
		} else {
			pthread_join(px->worker, NULL);
			job_free(px->job);
		}
		px->job = NULL;
	}
	for (size_t i = 0; i < px->n_models; i++) {
		struct px_model *m = px->models[i];
		sc_px_pool_done(px, m);
		if (m->ttl_ev)
			ev->event_free(m->ttl_ev);
		free(m->name);
		free(m);
	}
	free(px->models);
	px->models = NULL;
	px->n_models = 0;
	if (px->job_ev)
		ev->event_free(px->job_ev);
	if (px->sched_ev)
		ev->event_free(px->sched_ev);
	for (int i = 0; i < 2; i++)
		if (px->job_pipe[i] >= 0)
			close(px->job_pipe[i]);
}
