#include "serve.h"
#include "status.h"
#include "../base/time.h"
#include "../engine/engine.h"
#include "../net/http.h"
#include "../net/openai.h"
#include "inspect.h"
#include "../engine/ports.h"
#include "../engine/proc.h"
#include "../engine/sysmem.h"
#include "../base/util.h"
#include "multinode.h"

#include <jansson.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

/* poll fast at first (small models are up in a fraction of a second), then
 * settle at POLL_MAX_MS */
#define POLL_MIN_MS 10
#define POLL_MAX_MS 100

void sc_serve_result_done(struct serve_result *r)
{
	if (!r)
		return;
	free(r->container);
	free(r->log_tail);
	sc_strv_free(r->warnings, r->n_warnings);
	memset(r, 0, sizeof *r);
}

/* Stop what st describes: 1 stopped, 0 not signalled (its PID now names
 * another process, or the record has no start time to tell). */
static int stop_state(const struct registry *reg, const struct run_state *st, bool *killed, sc_err *e)
{
	const struct reg_engine *en = st->engine ? sc_registry_engine(reg, st->engine) : NULL;
	long timeout = en ? en->stop_timeout : 60;
	*killed = false;
	if (st->container) {
		char t[16], out[4096];
		snprintf(t, sizeof t, "%ld", timeout);
		char *stop[] = { "docker", "stop", "-t", t, st->container, NULL };
		char *rm[] = { "docker", "rm", "-f", st->container, NULL };
		sc_run(stop, out, sizeof out, (int)(timeout + 30) * 1000, e);
		int r = sc_run(rm, out, sizeof out, 60000, e);
		int code;
		if (sc_container_running(st->container, &code))
			return sc_error(e, -EBUSY, "container %s still runs after docker stop and rm: %s", st->container,
					r < 0 ? e->msg : out);
		return 1;
	}
	struct proc_stat ps;
	/* the other nodes' ranks first: they would hang without the head */
	int rr = st->n_ranks ? sc_multinode_stop(reg, st, e) : 0;
	if (!st->start_time || (sc_proc_stat(st->pid, &ps) == 0 && ps.state != 'Z' && ps.start_time != st->start_time))
		return rr < 0 ? rr : 0;  /* the PID may be another process now: never signalled */
	sc_err le;
	int r = sc_pgrp_stop(st->pgid, st->start_time, (int)timeout * 1000, killed, rr < 0 ? &le : e);
	return rr < 0 ? rr : r < 0 ? r : 1;
}

/* The same engine: a state file written by another start names another
 * process (or container), whatever its model name. */
static bool same_run(const struct run_state *a, const struct run_state *b)
{
	if (a->container || b->container)
		return a->container && b->container && streq(a->container, b->container);
	return a->pid == b->pid && a->start_time == b->start_time;
}

/* Remove the state file of name only while it still describes st: a
 * serve that raced in (an older sparkctl without the lock) keeps its
 * record, so its engine stays stoppable. */
static void remove_state_of(const struct registry *reg, const char *name, const struct run_state *st)
{
	struct run_state now;
	if (sc_state_read(reg->state_dir, name, &now, NULL) < 0)
		return;
	if (same_run(&now, st))
		sc_state_remove(reg->state_dir, name);
	sc_run_state_done(&now);
}

/* sc_stop with the lock held. */
static int stop_locked(const struct registry *reg, const char *name, enum sc_stop_outcome *how, pid_t *pid,
		       sc_err *e)
{
	struct run_state st;
	*how = SC_STOP_NOT_RUNNING;
	*pid = 0;
	int r = sc_state_read(reg->state_dir, name, &st, e);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	bool was = sc_state_alive(&st), killed = false;
	r = was ? stop_state(reg, &st, &killed, e) : 0;
	if (r >= 0) {
		remove_state_of(reg, name, &st);
		*how = !was ? SC_STOP_STALE : !r ? SC_STOP_NOT_SIGNALLED : killed ? SC_STOP_KILLED : SC_STOP_TERMINATED;
		*pid = st.pid;
	}
	sc_run_state_done(&st);
	return r < 0 ? r : was && r ? 1 : 0;
}

int sc_stop(const struct registry *reg, const char *name, enum sc_stop_outcome *how, pid_t *pid, sc_err *e)
{
	*how = SC_STOP_NOT_RUNNING;
	*pid = 0;
	int lock = sc_state_lock(reg->state_dir, e);
	if (lock < 0)
		return lock;
	int r = stop_locked(reg, name, how, pid, e);
	close(lock);
	return r;
}

/* ---- starting ---- */

/* The plan of the model's engine: the flags serve runs and --dry-run
 * writes, and the memory the estimate is for. NULL in script mode. */
static const struct sc_plan *plan_of(const struct sc_inspection *x, const struct reg_model *rm)
{
	for (size_t i = 0; rm->engine && !rm->script && i < x->n_engines; i++)
		if (streq(x->engines[i].engine, rm->engine))
			return &x->engines[i].plan;
	return NULL;
}

/* Inspect the model as it will run; x is filled (free it) even on error. */
static int plan_model(const struct registry *reg, const struct reg_model *rm, struct sc_inspection *x, uint64_t *avail,
		      sc_err *e)
{
	struct sc_inspect_opts io = { 0 };
	*x = (struct sc_inspection){ 0 };
	int r = sc_meminfo(&io.mem_total, &io.mem_avail, e);
	if (r < 0)
		return r;
	*avail = io.mem_avail;
	return sc_inspect(rm->name, reg, &io, x, e);
}

int sc_serve_script(const struct registry *reg, const char *name, char **ret, sc_err *e)
{
	const struct reg_model *rm = sc_registry_model(reg, name);
	*ret = NULL;
	if (!rm)
		return sc_registry_no_model(reg, name, e);
	struct sc_inspection x;
	struct launch l;
	uint64_t avail;
	int r = plan_model(reg, rm, &x, &avail, e);
	const struct sc_plan *p = r < 0 ? NULL : plan_of(&x, rm);
	if (r >= 0 && (r = sc_engine_launch(reg, rm, p, &l, e)) >= 0) {
		if (!(*ret = sc_launch_script(&l, rm, reg->host)))
			r = sc_error(e, -ENOMEM, "out of memory");
		sc_launch_done(&l);
	}
	sc_inspection_done(&x);
	return r;
}

/* What the model needs: the estimate, or weights and a fifth when the KV
 * cache is unknown. */
static uint64_t model_need(const struct sc_memory *m)
{
	return m->kv_known ? m->total_bytes : m->weights_bytes + m->weights_bytes / 5;
}

static int preflight(const struct registry *reg, const struct reg_model *rm, const struct serve_opts *o,
		     const struct sc_inspection *x, uint64_t avail, sc_err *e)
{
	char comm[64];
	if (sc_port_listening(reg->host, rm->port)) {
		pid_t owner = sc_port_owner(rm->port, comm, sizeof comm);
		if (owner)
			return sc_error(e, -EADDRINUSE, "%s: port %d is taken by process %d (%s), which sparkctl did not start",
					rm->name, rm->port, (int)owner, comm);
		return sc_error(e, -EADDRINUSE, "%s: port %d is taken by a process sparkctl did not start", rm->name,
				rm->port);
	}
	if (o->force)
		return 0;
	const struct sc_memory *m = &x->memory;
	const struct sc_plan *p = plan_of(x, rm);
	uint64_t need = model_need(m);
	char a[32], b[32];
	/* a multi-node model: each node holds its share (weights and KV cache
	 * split by tensor and pipeline parallelism) */
	if (rm->n_nodes)
		need /= rm->n_nodes;
	sc_format_bytes(need, a, sizeof a);
	if (p && p->reason)
		return sc_error(e, -ENOTSUP, "%s: %s (--force starts it anyway)", rm->name, p->reason);
	if (x->model.status != ST_OK)
		return sc_error(e, -EINVAL, "%s: the checkpoint is %s: %s%s%s (--force starts it anyway)", rm->name,
				sc_status_name(x->model.status), x->model.problems.v[0].file ? x->model.problems.v[0].file : "",
				x->model.problems.v[0].file ? ": " : "", x->model.problems.v[0].message);
	char **running = NULL;
	size_t n_running = 0;
	int r = 0;
	sc_state_list(reg->state_dir, &running, &n_running, NULL);
	/* "stop another model first" only where sparkctl runs one */
	const char *hint = n_running ? "stop another model first: " : "sparkctl runs no model: other programs hold the memory";
	if (p && p->start_free && p->start_free > avail) {
		sc_format_bytes(p->start_free, a, sizeof a);
		sc_format_bytes(avail, b, sizeof b);
		r = sc_error(e, -ENOMEM, "%s: vLLM starts only with %s free (%s) and %s is (MemAvailable); %s%s", rm->name,
			     a, p->budget_basis, b, hint, n_running ? running[0] : "");
	} else if (need > m->budget_bytes) {
		sc_format_bytes(m->budget_bytes, b, sizeof b);
		/* SGLang's budget is a share of what is free: others' memory counts */
		bool avail_based = p && p->kind == ENGINE_SGLANG;
		r = sc_error(e, -ENOMEM, "%s: needs %s (weights, KV cache at %llu tokens, overhead), %s will have %s: %s%s%s%s",
			     rm->name, a, (unsigned long long)m->context, p ? p->engine : "the engine", b,
			     p ? p->budget_basis : "memory x mem-fraction in models.ini", avail_based ? "; " : "",
			     avail_based ? hint : "", avail_based && n_running ? running[0] : "");
	} else if ((!p || p->kind != ENGINE_SGLANG) && need + SC_MEMORY_RESERVE > avail) {
		sc_format_bytes(avail > SC_MEMORY_RESERVE ? avail - SC_MEMORY_RESERVE : 0, b, sizeof b);
		r = sc_error(e, -ENOMEM, "%s: needs %s, only %s is free (MemAvailable less a %llu GiB reserve); %s%s",
			     rm->name, a, b, SC_MEMORY_RESERVE >> 30, hint, n_running ? running[0] : "");
	}
	sc_strv_free(running, n_running);
	return r;
}

/* The watcher of a multi-node model: `sparkctl serve --watch NAME` in the
 * head's process group (stopping the head stops it), writing to the head's
 * log. It stops every rank when one dies. */
static int start_watcher(const struct registry *reg, struct run_state *st, sc_err *e)
{
	char exe[4096];
	ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (k <= 0 || !reg->file)
		return sc_error(e, -ENOENT, "%s: cannot start the watcher of its ranks (no /proc/self/exe or models.ini)",
				st->name);
	exe[k] = '\0';
	char *argv[] = { exe, "--config", reg->file, "serve", "--watch", st->name, NULL };
	struct spawn_opts so = { .argv = argv, .log = st->log, .join_pgid = st->pgid };
	int r = sc_spawn(&so, &st->watcher, e);
	return r < 0 ? r : sc_state_write(reg->state_dir, st, e);
}

static int start(const struct registry *reg, const struct reg_model *rm, const struct sc_plan *p, struct run_state *st,
		 struct serve_result *res, sc_err *e)
{
	struct launch l;
	int r = sc_engine_launch(reg, rm, p, &l, e);
	if (r < 0)
		return r;
	/* found before the start, not as status 127 after it */
	if (l.argc && !sc_find_program(l.argv[0])) {
		r = sc_error(e, -ENOENT, "%s: the %s command \"%s\" is not %s (PATH=%s)", rm->name,
			     l.container ? "container" : "engine", l.argv[0],
			     strchr(l.argv[0], '/') ? "an executable file" : "on PATH", getenv("PATH") ? getenv("PATH") : "");
		sc_launch_done(&l);
		return r;
	}
	time_t now = time(NULL);
	char when[32];
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	*st = (struct run_state){ .name = strdup(rm->name), .engine = rm->engine ? strdup(rm->engine) : NULL,
				  .mode = strdup(l.mode), .host = strdup(reg->host), .started_at = strdup(when),
				  .port = rm->port, .started_unix = now };
	if (!st->name || !st->mode || !st->host || !st->started_at || !(st->log = sc_state_log_path(reg->state_dir, rm->name, e))) {
		sc_launch_done(&l);
		return st->log ? sc_error(e, -ENOMEM, "out of memory") : -EIO;
	}
	if (l.container) {
		char out[4096];
		char *rm_argv[] = { "docker", "rm", "-f", l.container, NULL };
		sc_run(rm_argv, out, sizeof out, 60000, e);  /* a leftover of an earlier run */
		r = sc_run(l.argv, out, sizeof out, 600000, e);
		if (r != 0) {
			sc_launch_done(&l);
			return r < 0 ? r : sc_error(e, -EIO, "docker run failed (exit %d): %s", r, out);
		}
		st->container = l.container;
		l.container = NULL;
		res->container = strdup(st->container);
	} else {
		/* keep the previous log as .1 */
		_cleanup_free_ char *old = NULL;
		if (asprintf(&old, "%s.1", st->log) >= 0)
			rename(st->log, old);
		if (rm->n_nodes && (r = sc_multinode_start(reg, rm, &l, st, e)) < 0) {
			sc_launch_done(&l);
			return r;
		}
		struct spawn_opts so = { .argv = l.argv, .env_add = l.env, .log = st->log, .new_session = true };
		pid_t pid;
		if ((r = sc_spawn(&so, &pid, e)) < 0) {
			sc_err se;
			if (st->n_ranks)
				sc_multinode_stop(reg, st, &se);
			sc_launch_done(&l);
			return r;
		}
		struct proc_stat ps;
		st->pid = st->pgid = pid;
		if (sc_proc_stat(pid, &ps) == 0)
			st->start_time = ps.start_time;
		res->pid = pid;
	}
	sc_launch_done(&l);
	if ((r = sc_state_write(reg->state_dir, st, e)) < 0 || !st->n_ranks)
		return r;
	return start_watcher(reg, st, e);
}

static char *last_line(const struct run_state *st)
{
	char *t = sc_log_tail(st, 1);
	if (t)
		t[strcspn(t, "\n")] = '\0';
	return t;
}

/* A multi-node head can answer /health while its ranks are wedged (SGLang's
 * and vLLM's health do not reach across nodes): one real one-token
 * generation proves the model serves. */
static int generates(const struct run_state *st, int64_t deadline, struct serve_result *res, sc_err *e)
{
	char base[300];
	snprintf(base, sizeof base, "http://%s:%d", st->host, st->port);
	int64_t left = deadline - sc_now_ms();
	struct smoke_opts so = { .target = { .base = base }, .model = st->name, .prompt = "Say OK.", .max_tokens = 1,
				 .timeout_ms = (int)(left > 60000 ? 60000 : left < 1000 ? 1000 : left) };
	struct smoke_result sr;
	int r = sc_smoke_test(&so, &sr, e);
	if (r >= 0 && !sr.ok) {
		const struct smoke_check *c = &sr.checks[CHECK_CHAT];
		r = sc_error(e, -ETIMEDOUT, "%s answers /health but not a one-token generation (%s): its ranks may be "
			     "wedged (a link down, NCCL waiting)", st->name, c->error[0] ? c->error : "no answer");
		(void)res;
	}
	sc_smoke_result_done(&sr);
	return r;
}

/* Poll until healthy, the deadline, or the engine's death. */
static int wait_ready(const struct registry *reg, const struct run_state *st, const struct serve_opts *o,
		      int64_t t0, int timeout_s, struct serve_result *res, sc_err *e)
{
	const char *hp = sc_health_path(reg, st->engine);
	int64_t deadline = t0 + (int64_t)timeout_s * 1000, last_progress = 0, last_ranks = 0;
	int poll_ms = POLL_MIN_MS;
	char url[512];
	snprintf(url, sizeof url, "http://%s:%d%s", st->host, st->port, hp);
	for (;;) {
		int status, code;
		bool dead = false;
		if (st->container)
			dead = !sc_container_running(st->container, &code);
		else if (waitpid(st->pid, &status, WNOHANG) == st->pid) {
			dead = true;
			code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		}
		if (dead) {
			res->exit_status = code;
			res->log_tail = sc_log_tail(st, 20);
			return sc_error(e, -ECHILD, "%s exited with status %d while starting", st->name, code);
		}
		int64_t left = deadline - sc_now_ms();
		if (left <= 0)
			return sc_error(e, -ETIMEDOUT, "%s was not healthy within %d s", st->name, timeout_s);
		struct http_resp r;
		sc_err he;
		int x = sc_http_get(url, NULL, (int)(left < HEALTH_TIMEOUT_MS ? left : HEALTH_TIMEOUT_MS), &r, &he);
		long hs = x == 0 ? r.status : 0;
		if (x == 0)
			sc_http_resp_done(&r);
		if (hs == 200) {
			char **ids;
			size_t n;
			int k = sc_served_ids(st->host, st->port, NULL, &ids, &n, e);
			if (k < 0)
				return k;
			bool found = false;
			for (size_t i = 0; i < n; i++)
				found |= streq(ids[i], st->name);
			if (!found) {
				char list[256] = "";
				for (size_t i = 0; i < n; i++)
					snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", ids[i]);
				/* an engine told no served name lists its model path
				 * (llama-server without --alias: the file) */
				bool a_path = n && strchr(ids[0], '/');
				sc_strv_free(ids, n);
				if (a_path)
					return sc_error(e, -EPROTO, "port %d answers, but the engine serves the model as \"%s\", not as %s: "
							"give it the served name in the engine's command (llama-server --alias {name}, "
							"SGLang and vLLM --served-model-name {name})", st->port, list, st->name);
				return sc_error(e, -EADDRINUSE, "port %d answers, but /v1/models lists %s, not %s: "
						"another model answers on this port", st->port, n ? list : "nothing", st->name);
			}
			sc_strv_free(ids, n);
			return st->n_ranks ? generates(st, deadline, res, e) : 0;
		}
		if (st->n_ranks && sc_now_ms() - last_ranks >= 1000) {
			char why[256];
			last_ranks = sc_now_ms();
			if (sc_multinode_dead_rank(reg, st, why, sizeof why) >= 0) {
				res->log_tail = sc_multinode_tails(reg, st, 10);
				return sc_error(e, -ECHILD, "%s: %s while starting", st->name, why);
			}
		}
		if (o->progress && sc_now_ms() - last_progress >= 250) {
			_cleanup_free_ char *line = last_line(st);
			o->progress(o->ud, sc_now_ms() - t0, line ? line : "");
			last_progress = sc_now_ms();
		}
		sc_sleep_ms(poll_ms);
		poll_ms = poll_ms * 2 > POLL_MAX_MS ? POLL_MAX_MS : poll_ms * 2;
	}
}

bool sc_models_share(const struct reg_model *a, const struct reg_model *b)
{
	return a->port == b->port || (a->group && b->group && streq(a->group, b->group));
}

/* models.ini(5): "models of one group exclude each other". */
static int group_check(const struct registry *reg, const struct reg_model *rm, sc_err *e)
{
	char **running = NULL;
	size_t n = 0;
	int r = rm->group ? sc_state_list(reg->state_dir, &running, &n, e) : 0;
	for (size_t i = 0; i < n && r >= 0; i++) {
		const struct reg_model *other = sc_registry_model(reg, running[i]);
		struct run_state st;
		if (!other || other == rm || !other->group || !streq(other->group, rm->group) ||
		    sc_state_read(reg->state_dir, running[i], &st, NULL) < 0)
			continue;
		if (sc_state_alive(&st))
			r = sc_error(e, -EBUSY, "%s: %s of the same group \"%s\" runs; models of one group exclude each "
				     "other: 'sparkctl switch %s' stops it first", rm->name, running[i], rm->group, rm->name);
		sc_run_state_done(&st);
	}
	sc_strv_free(running, n);
	return r;
}

/* What each node of a multi-node model holds: its share of weights, KV
 * cache and overhead. */
static uint64_t node_share(const struct sc_inspection *x, const struct reg_model *rm)
{
	return model_need(&x->memory) / rm->n_nodes;
}

static int serve_locked(const struct registry *reg, const struct reg_model *rm, const struct serve_opts *o,
			bool group_checked, struct serve_result *ret, sc_err *e)
{
	const char *name = rm->name;
	struct serve_result res = { .exit_status = -1, .health = "ok" };
	int64_t t0 = sc_now_ms();
	int r;
	if (!rm->port)
		return sc_error(e, SC_ECONFIG, "%s: the model has no port in models.ini", name);
	res.port = rm->port;
	struct run_status cur;
	if (sc_run_status(reg, name, &cur, e) == 0) {
		bool alive = cur.alive;
		const char *health = cur.health;
		res.pid = cur.st.pid;
		sc_run_status_done(&cur);
		if (alive && streq(health, "ok")) {
			res.already = true;
			*ret = res;
			return 0;
		}
		if (alive)
			return sc_error(e, -EBUSY, "%s already runs (pid %d) but is %s: stop it or switch to it", name,
					(int)res.pid, health);
		sc_state_remove(reg->state_dir, name);  /* stale: the engine is gone */
	}
	if (!group_checked && (r = group_check(reg, rm, e)) < 0)
		return r;
	struct sc_inspection x;
	uint64_t avail = 0;
	if ((r = plan_model(reg, rm, &x, &avail, e)) < 0 || (r = preflight(reg, rm, o, &x, avail, e)) < 0 ||
	    (rm->n_nodes && !o->force &&
	     (r = sc_multinode_preflight(reg, rm, node_share(&x, rm), &res.warnings, &res.n_warnings, e)) < 0)) {
		sc_inspection_done(&x);
		*ret = res;  /* the warnings say what else was found */
		return r;
	}
	struct run_state st = { 0 };
	r = start(reg, rm, plan_of(&x, rm), &st, &res, e);
	sc_inspection_done(&x);
	if (r < 0) {
		sc_run_state_done(&st);
		sc_serve_result_done(&res);
		return r;
	}
	if (o->no_wait) {
		res.health = "loading";
		res.elapsed_ms = sc_now_ms() - t0;
		sc_run_state_done(&st);
		*ret = res;
		return 0;
	}
	const struct reg_engine *en = rm->engine ? sc_registry_engine(reg, rm->engine) : NULL;
	int timeout = o->timeout_s ? o->timeout_s : en ? (int)en->ready_timeout : 900;
	r = wait_ready(reg, &st, o, t0, timeout, &res, e);
	if (r >= 0 && o->verify)
		r = o->verify(o->verify_ud, name, st.host, st.port, e);
	res.elapsed_ms = sc_now_ms() - t0;
	if (r < 0) {
		/* leave nothing behind on the port */
		sc_err se;
		bool killed;
		if (!res.log_tail)
			res.log_tail = sc_log_tail(&st, 20);
		stop_state(reg, &st, &killed, &se);
		remove_state_of(reg, name, &st);
		res.health = "dead";
		sc_run_state_done(&st);
		*ret = res;
		return r;
	}
	sc_run_state_done(&st);
	*ret = res;
	return 0;
}

int sc_serve(const struct registry *reg, const char *name, const struct serve_opts *o, struct serve_result *ret,
	     sc_err *e)
{
	const struct reg_model *rm = sc_registry_model(reg, name);
	*ret = (struct serve_result){ .exit_status = -1 };
	if (!rm)
		return sc_registry_no_model(reg, name, e);
	int lock = sc_state_lock(reg->state_dir, e);
	if (lock < 0)
		return lock;
	int r = serve_locked(reg, rm, o, false, ret, e);
	close(lock);
	return r;
}

void sc_switch_result_done(struct switch_result *r)
{
	if (!r)
		return;
	sc_serve_result_done(&r->serve);
	sc_strv_free(r->stopped, r->n_stopped);
	free(r->rolled_back);
	memset(r, 0, sizeof *r);
}

int sc_switch(const struct registry *reg, const char *name, const struct serve_opts *o, bool rollback,
	      struct switch_result *ret, sc_err *e)
{
	struct switch_result res = { .serve = { .exit_status = -1 } };
	const struct reg_model *rm = sc_registry_model(reg, name);
	char **running = NULL;
	size_t n = 0;
	int r;
	*ret = res;
	if (!rm)
		return sc_registry_no_model(reg, name, e);
	int lock = sc_state_lock(reg->state_dir, e);
	if (lock < 0)
		return lock;
	struct run_status cur;
	if (sc_run_status(reg, name, &cur, e) == 0) {
		bool healthy = cur.alive && streq(cur.health, "ok");
		res.serve.pid = cur.st.pid;
		res.serve.port = rm->port;
		r = 0;
		if (cur.alive && streq(cur.health, "loading") && !o->no_wait) {
			/* another start (serve --no-wait, the proxy) is loading it:
			 * wait for that one rather than start it twice */
			const struct reg_engine *en = rm->engine ? sc_registry_engine(reg, rm->engine) : NULL;
			int timeout = o->timeout_s ? o->timeout_s : en ? (int)en->ready_timeout : 900;
			res.serve.exit_status = -1;
			r = wait_ready(reg, &cur.st, o, sc_now_ms(), timeout, &res.serve, e);
			healthy = r >= 0;
			if (r < 0 && !res.serve.log_tail)
				res.serve.log_tail = sc_log_tail(&cur.st, 20);
		}
		sc_run_status_done(&cur);
		if (r < 0) {
			res.serve.health = "dead";
			close(lock);
			*ret = res;
			return r;
		}
		if (healthy) {
			/* nothing to do; --test still checks it, and a failure
			 * leaves the model that served before as it is */
			res.serve.already = true;
			res.serve.health = "ok";
			r = o->verify ? o->verify(o->verify_ud, name, reg->host, rm->port, e) : 0;
			close(lock);
			*ret = res;
			return r;
		}
	}
	if ((r = sc_state_list(reg->state_dir, &running, &n, e)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const struct reg_model *other = sc_registry_model(reg, running[i]);
		bool same = streq(running[i], name);
		/* a state file of a model no longer registered still holds memory */
		if (!same && other && !sc_models_share(rm, other))
			continue;
		enum sc_stop_outcome how;
		pid_t pid;
		r = stop_locked(reg, running[i], &how, &pid, e);
		if (r < 0)
			goto out;
		res.killed |= how == SC_STOP_KILLED;
		if (r > 0 && !same && sc_strv_appendf(&res.stopped, &res.n_stopped, "%s", running[i]) < 0) {
			r = sc_error(e, -ENOMEM, "out of memory");
			goto out;
		}
	}
	r = serve_locked(reg, rm, o, true, &res.serve, e);
	if (r < 0 && rollback && res.n_stopped) {
		sc_err re;
		struct serve_result back;
		struct serve_opts bo = *o;
		bo.force = true;  /* it ran before */
		bo.progress = NULL;
		bo.verify = NULL;
		const struct reg_model *prev = sc_registry_model(reg, res.stopped[0]);
		back = (struct serve_result){ .exit_status = -1 };
		if (prev && serve_locked(reg, prev, &bo, true, &back, &re) == 0)
			res.rolled_back = strdup(res.stopped[0]);
		sc_serve_result_done(&back);
	}
out:
	sc_strv_free(running, n);
	close(lock);
	*ret = res;
	return r;
}
