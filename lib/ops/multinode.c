#include "multinode.h"
#include "inspect.h"
#include "../base/time.h"
#include "../base/util.h"
#include "../engine/proc.h"
#include "../engine/remote.h"
#include "../engine/sysmem.h"
#include "../format/vocab.h"
#include "serve.h"

#include <jansson.h>
#include <unistd.h>

#define DEFAULT_DIST_PORT 29500  /* torch.distributed's usual port */
#define DEFAULT_RAY_PORT 6379    /* ray start --head's default */

enum kind { K_SGLANG, K_VLLM, K_VLLM_RAY };

/* Which runtime the command starts: SGLang's launch_server or vllm serve. */
static int kind_of(const struct launch *l, enum kind *k)
{
	for (size_t i = 0; i < l->argc; i++) {
		if (strstr(l->argv[i], "sglang.launch_server")) {
			*k = K_SGLANG;
			return 0;
		}
		if (i + 1 < l->argc && strstr(l->argv[i], "vllm") && streq(l->argv[i + 1], "serve")) {
			*k = K_VLLM;
			return 0;
		}
	}
	return -1;
}

static const struct reg_node *node(const struct registry *reg, const struct reg_model *rm, size_t rank)
{
	return sc_registry_node(reg, rm->nodes[rank]);
}

/* The flags of one rank, as the engines name them:
 *  SGLang (python/sglang/srt/server_args.py): --tp-size, --pp-size,
 *    --nnodes, --node-rank, --dist-init-addr HEAD:PORT; ranks >= 1 serve a
 *    dummy /health only.
 *  vLLM (vllm/engine/arg_utils.py, v0.11+): --tensor-parallel-size,
 *    --pipeline-parallel-size, --nnodes, --node-rank, --master-addr,
 *    --master-port, and --headless on every node but the head. */
static int rank_flags(const struct registry *reg, const struct reg_model *rm, enum kind k, size_t rank, char ***v,
		      size_t *n)
{
	const struct reg_node *head = node(reg, rm, 0);
	long tp = rm->tp ? rm->tp : (long)rm->n_nodes, pp = rm->pp ? rm->pp : 1;
	int port = rm->dist_port ? rm->dist_port : DEFAULT_DIST_PORT;
	int r = 0;
	if (k == K_VLLM_RAY) {
		/* the Ray cluster places the workers: vllm/executor/ray_utils.py */
		r |= sc_strv_appendf(v, n, "--tensor-parallel-size") | sc_strv_appendf(v, n, "%ld", tp);
		if (pp > 1)
			r |= sc_strv_appendf(v, n, "--pipeline-parallel-size") | sc_strv_appendf(v, n, "%ld", pp);
		r |= sc_strv_appendf(v, n, "--distributed-executor-backend") | sc_strv_appendf(v, n, "ray");
	} else if (k == K_SGLANG) {
		r |= sc_strv_appendf(v, n, "--tp-size") | sc_strv_appendf(v, n, "%ld", tp);
		if (pp > 1)
			r |= sc_strv_appendf(v, n, "--pp-size") | sc_strv_appendf(v, n, "%ld", pp);
		r |= sc_strv_appendf(v, n, "--nnodes") | sc_strv_appendf(v, n, "%zu", rm->n_nodes);
		r |= sc_strv_appendf(v, n, "--node-rank") | sc_strv_appendf(v, n, "%zu", rank);
		r |= sc_strv_appendf(v, n, "--dist-init-addr") |
		     sc_strv_appendf(v, n, strchr(head->addr, ':') ? "[%s]:%d" : "%s:%d", head->addr, port);
	} else {
		r |= sc_strv_appendf(v, n, "--tensor-parallel-size") | sc_strv_appendf(v, n, "%ld", tp);
		if (pp > 1)
			r |= sc_strv_appendf(v, n, "--pipeline-parallel-size") | sc_strv_appendf(v, n, "%ld", pp);
		r |= sc_strv_appendf(v, n, "--nnodes") | sc_strv_appendf(v, n, "%zu", rm->n_nodes);
		r |= sc_strv_appendf(v, n, "--node-rank") | sc_strv_appendf(v, n, "%zu", rank);
		r |= sc_strv_appendf(v, n, "--master-addr") | sc_strv_appendf(v, n, "%s", head->addr);
		r |= sc_strv_appendf(v, n, "--master-port") | sc_strv_appendf(v, n, "%d", port);
		if (rank > 0)
			r |= sc_strv_appendf(v, n, "--headless");
	}
	return r ? -ENOMEM : 0;
}

/* The link variables of a node: NCCL, Gloo, TensorPipe and UCX on the
 * CX-7 interface, the RoCE devices, and SGLang's host address (its
 * cross-node queue picks the wrong interface without it). */
static int link_env(const struct reg_node *n, char ***v, size_t *c)
{
	int r = sc_strv_appendf(v, c, "NCCL_SOCKET_IFNAME=%s", n->ifname) |
		sc_strv_appendf(v, c, "GLOO_SOCKET_IFNAME=%s", n->ifname) |
		sc_strv_appendf(v, c, "TP_SOCKET_IFNAME=%s", n->ifname) |
		sc_strv_appendf(v, c, "UCX_NET_DEVICES=%s", n->ifname) | sc_strv_appendf(v, c, "SGLANG_HOST_IP=%s", n->addr);
	if (n->ib_hca)
		r |= sc_strv_appendf(v, c, "NCCL_IB_HCA=%s", n->ib_hca);
	return r ? -ENOMEM : 0;
}

/* The model's folder on node n: under its own models-root when it has one. */
static char *dir_on(const struct registry *reg, const struct reg_model *rm, const struct reg_node *n)
{
	if (n->models_root && rm->path[0] != '/')
		return sc_path_join(n->models_root, rm->path);
	return sc_registry_model_dir(reg, rm);
}

static const char *state_dir_of(const struct registry *reg, const struct reg_node *n)
{
	return n->state_dir ? n->state_dir : reg->state_dir;
}

/* ---- preflight ---- */

/* $1 the model folder, $2 the interface, $3 sparkctl on the node: memory,
 * MTU, addresses, the files and sizes, and the scan verdict. */
static const char FACTS[] =
	"dir=$1 ifname=$2 sparkctl=$3; "
	"echo \"mem $(sed -n 's/^MemAvailable: *\\([0-9]*\\) kB$/\\1/p' /proc/meminfo)\"; "
	"echo \"mtu $(cat \"/sys/class/net/$ifname/mtu\" 2>/dev/null || echo none)\"; "
	"echo \"state $(cat \"/sys/class/net/$ifname/operstate\" 2>/dev/null || echo none)\"; "
	"for a in $(ip -o addr show dev \"$ifname\" 2>/dev/null | awk '{print $4}'); do echo \"addr ${a%/*}\"; done; "
	"if [ -d \"$dir\" ]; then (cd \"$dir\" && find . -maxdepth 2 -type f ! -name '.*' -printf 'file %P %s\\n' | "
	"LC_ALL=C sort); else echo nodir; fi; "
	"v=$(\"$sparkctl\" inspect --json -- \"$dir\" 2>/dev/null | sed -n 's/^  \"status\": \"\\([a-z-]*\\)\",$/\\1/p'); "
	"echo \"verdict ${v:-none}\"";

struct facts {
	uint64_t mem;
	long mtu;
	char state[32];  /* operstate: up, down, lowerlayerdown, none */
	bool has_addr, nodir;
	char verdict[32];
	char *files;  /* "file NAME SIZE" lines */
};

static int node_facts(const struct registry *reg, const struct reg_model *rm, const struct reg_node *n, struct facts *f,
		      sc_err *e)
{
	static char out[1 << 16];
	_cleanup_free_ char *dir = dir_on(reg, rm, n);
	char exe[4096] = "sparkctl";
	*f = (struct facts){ .mtu = -1 };
	if (!dir)
		return sc_error(e, -ENOMEM, "out of memory");
	if (n->local) {
		/* this box: the running sparkctl itself */
		ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
		exe[k > 0 ? k : 0] = '\0';
		if (k <= 0)
			snprintf(exe, sizeof exe, "sparkctl");
	}
	char *args[] = { dir, n->ifname, n->local ? exe : n->sparkctl ? n->sparkctl : (char *)"sparkctl" };
	int r = sc_node_sh(n, FACTS, args, 3, out, sizeof out, 60000, e);
	if (r < 0)
		return r;
	if (r == 255)
		return sc_error(e, -EHOSTUNREACH, "%s (%s) is not reachable over SSH: %s", n->name, n->ssh,
				out[0] ? out : "no answer");
	if (r != 0)
		return sc_error(e, -EIO, "%s: the checks failed (exit %d): %s", n->name, r, out);
	size_t cap = 0, len = 0;
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
		unsigned long long v;
		if (sscanf(line, "mem %llu", &v) == 1)
			f->mem = v * 1024;
		else if (sscanf(line, "mtu %llu", &v) == 1)
			f->mtu = (long)v;
		else if (strncmp(line, "state ", 6) == 0)
			snprintf(f->state, sizeof f->state, "%s", line + 6);
		else if (strncmp(line, "addr ", 5) == 0)
			f->has_addr |= streq(line + 5, n->addr);
		else if (streq(line, "nodir"))
			f->nodir = true;
		else if (strncmp(line, "verdict ", 8) == 0)
			snprintf(f->verdict, sizeof f->verdict, "%s", line + 8);
		else if (strncmp(line, "file ", 5) == 0) {
			size_t l = strlen(line);
			if (sc_grow(&f->files, &cap, len + l + 2, 1) < 0)
				return sc_error(e, -ENOMEM, "out of memory");
			memcpy(f->files + len, line, l);
			len += l;
			f->files[len++] = '\n';
			f->files[len] = '\0';
		}
	}
	return 0;
}

int sc_multinode_preflight(const struct registry *reg, const struct reg_model *rm, uint64_t need_per_node,
			   char ***warnings, size_t *n_warnings, sc_err *e)
{
	struct facts head = { 0 };
	int r = 0;
	for (size_t i = 0; i < rm->n_nodes && r >= 0; i++) {
		const struct reg_node *n = node(reg, rm, i);
		struct facts f;
		if ((r = node_facts(reg, rm, n, &f, e)) < 0)
			break;
		_cleanup_free_ char *dir = dir_on(reg, rm, n);
		if (f.nodir)
			r = sc_error(e, -ENOENT, "%s: the checkpoint is not there (%s)", n->name, dir ? dir : rm->path);
		else if (streq(f.state, "none"))
			r = sc_error(e, -ENODEV, "%s: there is no interface %s (ip link)", n->name, n->ifname);
		else if (!streq(f.state, "up") && !streq(f.state, "unknown"))
			r = sc_error(e, -ENETDOWN, "%s: interface %s is %s (ip link set %s up)", n->name, n->ifname, f.state,
				     n->ifname);
		else if (!f.has_addr)
			r = sc_error(e, -EADDRNOTAVAIL, "%s: interface %s does not have the address %s (ip addr show dev %s)",
				     n->name, n->ifname, n->addr, n->ifname);
		else if (i > 0 && !streq(f.files ? f.files : "", head.files ? head.files : ""))
			r = sc_error(e, -ESTALE, "%s: the checkpoint differs from %s's (files or sizes): copy it again "
				     "(rsync -a) before serving it on both", n->name, node(reg, rm, 0)->name);
		else if (i > 0 && !streq(f.verdict, head.verdict))
			r = sc_error(e, -ESTALE, "%s: its scan says %s where %s's says %s%s", n->name, f.verdict,
				     node(reg, rm, 0)->name, head.verdict,
				     streq(f.verdict, "none") ? " (is sparkctl installed there?)" : "");
		else if (need_per_node && f.mem < need_per_node) {
			char have[32], need[32];
			sc_format_bytes(f.mem, have, sizeof have);
			sc_format_bytes(need_per_node, need, sizeof need);
			r = sc_error(e, -ENOMEM, "%s: %s available, its share of the model needs %s", n->name, have, need);
		}
		/* NVIDIA's playbooks set the CX-7 link to MTU 9000; 1500 works at a
		 * fraction of the speed */
		if (r >= 0 && f.mtu > 0 && f.mtu < 9000 &&
		    sc_strv_appendf(warnings, n_warnings, "%s: %s has MTU %ld; 9000 is recommended for the link between the "
				    "nodes (ip link set %s mtu 9000)", n->name, n->ifname, f.mtu, n->ifname) < 0)
			r = sc_error(e, -ENOMEM, "out of memory");
		if (i == 0) {
			head = f;
			continue;
		}
		free(f.files);
	}
	free(head.files);
	return r;
}

/* ---- start and stop ---- */

int sc_multinode_stop(const struct registry *reg, const struct run_state *st, sc_err *e)
{
	const struct reg_engine *en = st->engine ? sc_registry_engine(reg, st->engine) : NULL;
	int timeout = en ? (int)en->stop_timeout : 60, r = 0;
	char failed[1024] = "";
	for (size_t i = 0; i < st->n_ranks; i++) {
		const struct run_rank *k = &st->ranks[i];
		const struct reg_node *n = sc_registry_node(reg, k->node);
		sc_err se = { "" };
		int x = -ENOENT;
		if (!n) {
			snprintf(se.msg, sizeof se.msg, "%s is no [node] of %s any more", k->node, reg->file ? reg->file : "models.ini");
		} else {
			/* a node that does not answer is tried again before it is reported */
			for (int t = 0; t < 3 && (x = sc_node_stop(n, k->pid, k->start_time, timeout, &se)) == -EHOSTUNREACH; t++)
				sc_sleep_ms(500 << t);
		}
		if (x < 0) {
			r = x;
			snprintf(failed + strlen(failed), sizeof failed - strlen(failed), "%srank %d on %s (pid %d): %s",
				 failed[0] ? "; " : "", k->rank, k->node, (int)k->pid, se.msg);
		}
	}
	return r < 0 ? sc_error(e, r, "not every rank could be stopped: %s", failed) : 0;
}

/* One process of a multi-node model on node n, recorded in st as rank. */
static int spawn_on(const struct registry *reg, const struct reg_model *rm, const struct reg_node *n, int rank,
		    const char *what, char **argv, size_t argc, const struct launch *l, struct run_state *st, sc_err *e)
{
	char **env = NULL, *log = NULL;
	size_t n_env = 0;
	int r = 0;
	for (size_t i = 0; r >= 0 && i < l->n_env; i++)
		r = sc_strv_appendf(&env, &n_env, "%s", l->env[i]);
	if (r >= 0)
		r = link_env(n, &env, &n_env);
	if (r >= 0 && asprintf(&log, "%s/logs/%s.%s%d.log", state_dir_of(reg, n), rm->name, what, rank) < 0)
		r = -ENOMEM;
	if (r < 0) {
		sc_strv_free(env, n_env);
		return sc_error(e, -ENOMEM, "out of memory");
	}
	struct run_rank *rk = &st->ranks[st->n_ranks];
	if ((r = sc_node_spawn(n, argv, argc, env, n_env, log, &rk->pid, &rk->start_time, e)) >= 0) {
		rk->rank = rank;
		rk->node = strdup(n->name);
		rk->log = TAKE_PTR(log);
		st->n_ranks++;
		if (!rk->node)
			r = sc_error(e, -ENOMEM, "out of memory");
	}
	free(log);
	sc_strv_free(env, n_env);
	return r;
}

/* distributed = ray (NVIDIA's two-Spark playbook): `ray start --head` here,
 * `ray start --address HEAD:PORT` on the others, each kept in the
 * foreground (--block) so that it is a process sparkctl stops; vllm serve
 * then places its workers on that cluster (RAY_ADDRESS). */
static int ray_cluster(const struct registry *reg, const struct reg_model *rm, const struct launch *l,
		       struct run_state *st, sc_err *e)
{
	const struct reg_node *head = node(reg, rm, 0);
	int port = rm->dist_port ? rm->dist_port : DEFAULT_RAY_PORT, r = 0;
	char p[16], hp[300];
	snprintf(p, sizeof p, "%d", port);
	snprintf(hp, sizeof hp, strchr(head->addr, ':') ? "[%s]:%d" : "%s:%d", head->addr, port);
	for (size_t i = 0; i < rm->n_nodes && r >= 0; i++) {
		const struct reg_node *n = node(reg, rm, i);
		char *head_argv[] = { "ray", "start", "--head", "--port", p, "--node-ip-address", n->addr, "--block" };
		char *worker_argv[] = { "ray", "start", "--address", hp, "--node-ip-address", n->addr, "--block" };
		r = i == 0 ? spawn_on(reg, rm, n, 0, "ray", head_argv, ARRAY_SIZE(head_argv), l, st, e)
			   : spawn_on(reg, rm, n, (int)i, "ray", worker_argv, ARRAY_SIZE(worker_argv), l, st, e);
	}
	return r;
}

/* $1 a node's state-dir: "NAME PID START" for each model its own sparkctl
 * started there (the state files' "name", "pid" and "start_time"). */
static const char RUNNING[] =
	"for f in \"$1\"/run/*.json; do [ -f \"$f\" ] || continue; "
	"n=$(sed -n 's/^  \"name\": \"\\(.*\\)\",$/\\1/p' \"$f\"); "
	"p=$(sed -n 's/^  \"pid\": \\([0-9]*\\),$/\\1/p' \"$f\"); "
	"t=$(sed -n 's/^  \"start_time\": \\([0-9]*\\),$/\\1/p' \"$f\"); "
	"echo \"$n $p $t\"; done";

/* The group rule on every node: a model of rm's group that the node's own
 * sparkctl started there (a one-node model on spark-b) holds its memory;
 * it is stopped before the ranks start. */
static int stop_rivals_on(const struct registry *reg, const struct reg_model *rm, const struct reg_node *n, sc_err *e)
{
	static char out[1 << 14];
	const struct reg_engine *en = rm->engine ? sc_registry_engine(reg, rm->engine) : NULL;
	char *dir = (char *)state_dir_of(reg, n);
	int r = sc_node_sh(n, RUNNING, &dir, 1, out, sizeof out, 30000, e);
	if (r < 0)
		return r;
	if (r != 0)
		return sc_error(e, -EHOSTUNREACH, "%s: its running models could not be read: %s", n->name, out);
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
		char name[256];
		long long pid = 0;
		unsigned long long start = 0;
		if (sscanf(line, "%255s %lld %llu", name, &pid, &start) != 3 || pid <= 0)
			continue;
		const struct reg_model *other = sc_registry_model(reg, name);
		if (!other || other == rm || !sc_models_share(rm, other))
			continue;
		if ((r = sc_node_stop(n, (pid_t)pid, start, en ? (int)en->stop_timeout : 60, e)) < 0)
			return r;
	}
	return 0;
}

int sc_multinode_start(const struct registry *reg, const struct reg_model *rm, struct launch *l, struct run_state *st,
		       sc_err *e)
{
	enum kind k;
	if (kind_of(l, &k) < 0)
		return sc_error(e, -EINVAL, "%s: only SGLang (sglang.launch_server) and vLLM (vllm serve) run one model "
				"over several nodes; its command is neither", rm->name);
	if (!(st->ranks = calloc(rm->n_nodes + 1, sizeof *st->ranks)))
		return sc_error(e, -ENOMEM, "out of memory");
	const struct reg_engine *en = sc_registry_engine(reg, rm->engine);
	if (k == K_VLLM && en && en->ray)
		k = K_VLLM_RAY;
	_cleanup_free_ char *local_dir = sc_registry_model_dir(reg, rm);
	int r = 0;
	for (size_t i = 1; i < rm->n_nodes && r >= 0; i++)
		r = stop_rivals_on(reg, rm, node(reg, rm, i), e);
	if (r >= 0 && k == K_VLLM_RAY)
		r = ray_cluster(reg, rm, l, st, e);
	/* ranks >= 1 first: the head waits for them at its dist port */
	for (size_t rank = 1; k != K_VLLM_RAY && rank < rm->n_nodes && r >= 0; rank++) {
		const struct reg_node *n = node(reg, rm, rank);
		char **argv = NULL, *dir = dir_on(reg, rm, n);
		size_t argc = 0;
		r = dir && local_dir ? 0 : -ENOMEM;
		for (size_t i = 0; r >= 0 && i < l->argc; i++) {
			/* the model's folder is where this node keeps it */
			const char *w = l->argv[i];
			size_t ll = strlen(local_dir);
			if (strncmp(w, local_dir, ll) == 0 && (w[ll] == '\0' || w[ll] == '/'))
				r = sc_strv_appendf(&argv, &argc, "%s%s", dir, w + ll);
			else
				r = sc_strv_appendf(&argv, &argc, "%s", w);
		}
		if (r >= 0)
			r = rank_flags(reg, rm, k, rank, &argv, &argc);
		if (r == -ENOMEM)
			r = sc_error(e, r, "out of memory");
		if (r >= 0)
			r = spawn_on(reg, rm, n, (int)rank, "rank", argv, argc, l, st, e);
		free(dir);
		sc_strv_free(argv, argc);
	}
	if (r >= 0)
		r = rank_flags(reg, rm, k, 0, &l->argv, &l->argc);
	if (r >= 0)
		r = link_env(node(reg, rm, 0), &l->env, &l->n_env);
	if (r >= 0 && k == K_VLLM_RAY) {
		const struct reg_node *head = node(reg, rm, 0);
		r = sc_strv_appendf(&l->env, &l->n_env, strchr(head->addr, ':') ? "RAY_ADDRESS=[%s]:%d" : "RAY_ADDRESS=%s:%d",
				    head->addr, rm->dist_port ? rm->dist_port : DEFAULT_RAY_PORT);
	}
	if (r == -ENOMEM)
		r = sc_error(e, r, "out of memory");
	if (r < 0) {
		sc_err se;
		sc_multinode_stop(reg, st, &se);
	}
	return r;
}

/* ---- watching ---- */

int sc_multinode_dead_rank(const struct registry *reg, const struct run_state *st, char *why, size_t len)
{
	for (size_t i = 0; i < st->n_ranks; i++) {
		const struct run_rank *k = &st->ranks[i];
		const struct reg_node *n = sc_registry_node(reg, k->node);
		sc_err e;
		if (n && sc_node_alive(n, k->pid, k->start_time, &e) == 0) {
			snprintf(why, len, "rank %d on %s (pid %d) is gone", k->rank, k->node, (int)k->pid);
			return (int)i;
		}
	}
	return -1;
}

char *sc_multinode_tails(const struct registry *reg, const struct run_state *st, unsigned lines)
{
	char *all = NULL;
	size_t len = 0, cap = 0;
	for (size_t i = 0; i < st->n_ranks; i++) {
		const struct reg_node *n = sc_registry_node(reg, st->ranks[i].node);
		_cleanup_free_ char *t = n ? sc_node_tail(n, st->ranks[i].log, lines) : NULL;
		char head[300];
		int hl = snprintf(head, sizeof head, "--- rank %d on %s (%s)\n", st->ranks[i].rank, st->ranks[i].node,
				  st->ranks[i].log ? st->ranks[i].log : "no log");
		size_t tl = t ? strlen(t) : 0;
		if (sc_grow(&all, &cap, len + (size_t)hl + tl + 2, 1) < 0)
			break;
		memcpy(all + len, head, (size_t)hl);
		len += (size_t)hl;
		if (tl)
			memcpy(all + len, t, tl);
		len += tl;
		all[len] = '\0';
	}
	return all ? all : strdup("");
}

int sc_multinode_watch(const struct registry *reg, const char *name, int interval_ms, char *why, size_t len, sc_err *e)
{
	int unreachable = 0;
	for (;;) {
		struct run_state st;
		if (sc_state_read(reg->state_dir, name, &st, NULL) < 0)
			return 0;  /* stopped meanwhile */
		int dead = -1;
		if (!sc_proc_alive(st.pid, st.start_time)) {
			snprintf(why, len, "rank 0 (pid %d) is gone", (int)st.pid);
			dead = 0;
		} else {
			dead = sc_multinode_dead_rank(reg, &st, why, len) >= 0 ? 1 : -1;
		}
		if (dead < 0) {
			/* a node that cannot be reached three times in a row is as
			 * good as dead: NCCL waits on it forever */
			for (size_t i = 0; i < st.n_ranks; i++) {
				const struct reg_node *n = sc_registry_node(reg, st.ranks[i].node);
				sc_err ae;
				if (n && sc_node_alive(n, st.ranks[i].pid, st.ranks[i].start_time, &ae) < 0) {
					if (++unreachable >= 3) {
						snprintf(why, len, "%s", ae.msg);
						dead = 1;
					}
					break;
				}
				unreachable = 0;
			}
		}
		if (dead >= 0) {
			sc_err se;
			int r = sc_multinode_stop(reg, &st, &se);
			bool killed;
			/* out of the head's group first, or stopping it would stop us */
			if (getpgrp() == st.pgid)
				setpgid(0, 0);
			sc_pgrp_stop(st.pgid, st.start_time, 10000, &killed, &se);
			sc_run_state_done(&st);
			if (r < 0)
				return sc_error(e, r, "%s; %s", why, se.msg);
			return 1;
		}
		sc_run_state_done(&st);
		sc_sleep_ms(interval_ms);
	}
}
