/* sparkctl ps: what runs, worked out anew from the state files, /proc,
 * docker and the registered ports; plus engines on registered ports that
 * sparkctl did not start. */
#include "common.h"
#include "table.h"
#include "../lib/base/json.h"
#include "../lib/base/text.h"
#include "../lib/engine/ports.h"
#include "../lib/ops/serve.h"
#include "../lib/base/util.h"
#include "../lib/proxy/proxy.h"

#include <jansson.h>

enum { OPT_JSON = 256 };

static const struct sc_option options[] = {
	{ "json", OPT_JSON, no_argument, NULL, "print JSON", NULL },
	{ 0 },
};

static int set(void *ud, int id, const char *arg)
{
	*(bool *)ud = true;
	return 0;
}

struct row {
	char name[256], engine[64], mode[16], container[128], log[1024], health[16];
	int pid, pgid, port, proxy_port;
	long long uptime;
	long long rss;  /* -1: unknown */
	bool managed;
	json_t *ranks;  /* a multi-node model's other ranks: [{rank, node, pid, log}] */
};

static void from_status(const struct registry *reg, const struct run_status *s, struct row *r)
{
	const struct reg_model *m = sc_registry_model(reg, s->st.name);
	snprintf(r->name, sizeof r->name, "%s", s->st.name);
	snprintf(r->engine, sizeof r->engine, "%s", s->st.engine ? s->st.engine : "-");
	snprintf(r->mode, sizeof r->mode, "%s", s->st.mode);
	snprintf(r->container, sizeof r->container, "%s", s->st.container ? s->st.container : "");
	snprintf(r->log, sizeof r->log, "%s", s->st.log ? s->st.log : "");
	snprintf(r->health, sizeof r->health, "%s", s->health);
	r->pid = s->st.pid;
	r->pgid = s->st.pgid;
	r->port = s->st.port;
	r->proxy_port = m ? m->proxy_port : 0;
	r->uptime = s->uptime_s;
	r->rss = s->rss_known ? (long long)s->rss_bytes : -1;
	r->managed = true;
	r->ranks = s->st.n_ranks ? json_array() : NULL;
	for (size_t i = 0; r->ranks && i < s->st.n_ranks; i++)
		json_array_append_new(r->ranks, json_pack("{s:i,s:o,s:I,s:o}", "rank", s->st.ranks[i].rank, "node",
							  sc_json_text(s->st.ranks[i].node), "pid",
							  (json_int_t)s->st.ranks[i].pid, "log", sc_json_text(s->st.ranks[i].log)));
}

static json_t *row_json(const struct row *r)
{
	json_t *o = json_pack("{s:o,s:o,s:s,s:o,s:o,s:o,s:i,s:o,s:I,s:s,s:o,s:o,s:b}", "name", sc_json_text(r->name), "engine",
			 sc_json_text(r->engine),
			 "mode", r->mode, "pid", r->pid ? json_integer(r->pid) : json_null(), "pgid",
			 r->pgid ? json_integer(r->pgid) : json_null(), "container",
			 r->container[0] ? sc_json_text(r->container) : json_null(), "port", r->port, "proxy_port",
			 r->proxy_port ? json_integer(r->proxy_port) : json_null(), "uptime_s", (json_int_t)r->uptime,
			 "health", r->health, "rss_bytes", r->rss >= 0 ? json_integer(r->rss) : json_null(), "log",
			 r->log[0] ? sc_json_text(r->log) : json_null(), "managed", r->managed);
	if (o)
		json_object_set(o, "ranks", r->ranks ? r->ranks : json_null());
	return o;
}

static json_t *proxy_json(const struct sc_proxy_status *p)
{
	if (!p->pid)
		return json_null();
	json_t *listen = json_array(), *queues = json_object();
	for (size_t i = 0; listen && i < p->n_listen; i++)
		json_array_append_new(listen, sc_json_text(p->listen[i]));
	for (size_t i = 0; queues && i < p->n_queues; i++)
		json_object_set_new(queues, p->queues[i].model,
				    json_pack("{s:I,s:I,s:b}", "queue", (json_int_t)p->queues[i].queue, "inflight",
					      (json_int_t)p->queues[i].inflight, "starting", p->queues[i].starting));
	return json_pack("{s:i,s:o,s:o,s:I}", "pid", p->pid, "listen", listen ? listen : json_array(), "models",
			 queues ? queues : json_object(), "connections", (json_int_t)p->connections);
}

/* "proxy: pid N, listening on A, B; a: 3 waiting (starting), 1 in flight" */
static void proxy_text(const struct sc_proxy_status *p)
{
	if (!p->pid)
		return;
	printf("proxy: pid %d, listening on ", p->pid);
	for (size_t i = 0; i < p->n_listen; i++)
		printf("%s%s", i ? ", " : "", cli_safe(p->listen[i]));
	printf("; %ld connection%s", p->connections, p->connections == 1 ? "" : "s");
	for (size_t i = 0; i < p->n_queues; i++)
		printf("; %s: %ld waiting%s, %ld in flight", cli_safe(p->queues[i].model), p->queues[i].queue,
		       p->queues[i].starting ? " (starting)" : "", p->queues[i].inflight);
	putchar('\n');
}

static int run(void *opts, int argc, char **argv, struct sc_ctx *ctx)
{
	bool json = *(bool *)opts;
	int r;
	struct registry *reg = &ctx->reg;
	char **names;
	size_t n;
	sc_err e;
	if (sc_state_list(reg->state_dir, &names, &n, &e) < 0) {
		return cli_fail(1, "ps: %s", e.msg);
	}
	struct row *rows = calloc(n + reg->n_models + 1, sizeof *rows);
	size_t k = 0;
	if (!rows) {
		sc_strv_free(names, n);
		return cli_fail(1, "ps: out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		struct run_status s;
		if (sc_run_status(reg, names[i], &s, &e) < 0) {
			cli_warn("%s", e.msg);
			continue;
		}
		from_status(reg, &s, &rows[k++]);
		sc_run_status_done(&s);
	}
	/* registered ports that answer although sparkctl started nothing there */
	for (size_t i = 0; i < reg->n_models; i++) {
		const struct reg_model *m = &reg->models[i];
		bool seen = !m->port;
		for (size_t j = 0; j < k && !seen; j++)
			seen = rows[j].port == m->port;
		if (seen || !sc_port_listening(reg->host, m->port))
			continue;
		struct row *u = &rows[k++];
		char comm[64], **ids = NULL;
		size_t nid = 0;
		const struct reg_engine *en = m->engine ? sc_registry_engine(reg, m->engine) : NULL;
		/* name it by what it serves, else by the registry */
		bool named = sc_served_ids(reg->host, m->port, NULL, &ids, &nid, &e) == 0 && nid;
		snprintf(u->name, sizeof u->name, "%s", named ? ids[0] : m->name);
		sc_strv_free(ids, nid);
		snprintf(u->engine, sizeof u->engine, "%s", m->engine ? m->engine : "-");
		snprintf(u->mode, sizeof u->mode, "unmanaged");
		u->pid = sc_port_owner(m->port, comm, sizeof comm);
		u->port = m->port;
		u->proxy_port = m->proxy_port;
		u->rss = -1;
		snprintf(u->health, sizeof u->health, "%s",
			 sc_probe_health(reg->host, m->port, en && en->health ? en->health : "/health", true));
	}
	r = 0;
	struct sc_proxy_status px;
	if (sc_proxy_status(reg->state_dir, &px, &e) < 0)
		cli_warn("%s", e.msg);
	if (json) {
		json_t *arr = json_array();
		for (size_t i = 0; arr && i < k; i++)
			json_array_append_new(arr, row_json(&rows[i]));
		r = cli_print_json(arr ? json_pack("{s:o,s:o}", "models", arr, "proxy", proxy_json(&px)) : NULL);
	} else {
		static const char *const heads[] = { "NAME", "ENGINE", "MODE", "PID", "PORT", "PROXY", "UPTIME", "HEALTH", "RSS", "LOG" };
		static const unsigned flags[] = { COL_FLEX(3), COL_FLEX(2), 0, COL_RIGHT, COL_RIGHT, COL_RIGHT | COL_OPTIONAL,
						  COL_RIGHT, 0, COL_RIGHT, COL_FLEX(1) };
		struct table t;
		table_init(&t, 10, heads, flags);
		for (size_t i = 0; i < k; i++) {
			const struct row *x = &rows[i];
			char pid[16] = "-", port[8], proxy[8] = "-", up[32], rss[16] = "-";
			if (x->pid)
				snprintf(pid, sizeof pid, "%d", x->pid);
			snprintf(port, sizeof port, "%d", x->port);
			if (x->proxy_port)
				snprintf(proxy, sizeof proxy, "%d", x->proxy_port);
			sc_format_duration(x->uptime, up, sizeof up);
			if (x->rss >= 0)
				sc_format_bytes((uint64_t)x->rss, rss, sizeof rss);
			const char *row[] = { x->name, x->engine, x->mode, x->container[0] ? x->container : pid, port, proxy,
					      x->managed ? up : "-", x->health, rss, x->log[0] ? x->log : "-" };
			if (table_add(&t, row) < 0)
				break;
		}
		table_print(&t, stdout, table_width(), false);
		table_done(&t);
		for (size_t i = 0; i < k; i++) {
			size_t ri;
			json_t *v;
			json_array_foreach(rows[i].ranks, ri, v)
				printf("%s: rank %d on %s (pid %d)\n", cli_safe(rows[i].name),
				       (int)json_integer_value(json_object_get(v, "rank")),
				       cli_safe(json_string_value(json_object_get(v, "node"))),
				       (int)json_integer_value(json_object_get(v, "pid")));
		}
		proxy_text(&px);
	}
	sc_proxy_status_done(&px);
	for (size_t i = 0; i < k; i++)
		json_decref(rows[i].ranks);
	free(rows);
	sc_strv_free(names, n);
	return r;
}

const struct sc_command cmd_ps = {
	.name = "ps",
	.summary = "What runs: health, memory, uptime; also engines sparkctl did not start",
	.usage = "ps [--json]",
	.options = options,
	.run = run,
	.set = set,
	.opts_size = sizeof(bool),
	.min_args = 0,
	.max_args = 0,
	.flags = CMD_REGISTRY,
};
