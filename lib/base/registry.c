#include "registry.h"
#include "words.h"
#include "atomicfile.h"
#include "ini.h"
#include "util.h"

#include <ctype.h>
#include <stddef.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <strings.h>
#include <sys/stat.h>



static void engine_free(struct reg_engine *en)
{
	free(en->name);
	free(en->command);
	free(en->image);
	free(en->docker_args);
	free(en->health);
	sc_strv_free(en->unsupported, en->n_unsupported);
	sc_strv_free(en->env, en->n_env);
}

static void model_free(struct reg_model *m)
{
	free(m->name);
	free(m->path);
	free(m->engine);
	free(m->group);
	free(m->args);
	free(m->image);
	free(m->script);
	free(m->file);
	sc_strv_free(m->env, m->n_env);
	sc_strv_free(m->nodes, m->n_nodes);
}

static void node_free(struct reg_node *n)
{
	free(n->name);
	free(n->ssh);
	free(n->addr);
	free(n->ifname);
	free(n->ib_hca);
	free(n->models_root);
	free(n->state_dir);
	free(n->sparkctl);
}

void sc_registry_done(struct registry *r)
{
	if (!r)
		return;
	free(r->file);
	free(r->models_root);
	free(r->host);
	free(r->proxy_host);
	free(r->token_file);
	free(r->state_dir);
	free(r->engine);
	for (size_t i = 0; i < r->n_engines; i++)
		engine_free(&r->engines[i]);
	free(r->engines);
	for (size_t i = 0; i < r->n_models; i++)
		model_free(&r->models[i]);
	free(r->models);
	for (size_t i = 0; i < r->n_nodes; i++)
		node_free(&r->nodes[i]);
	free(r->nodes);
	sc_strv_free(r->proxy.listen, r->proxy.n_listen);
	sc_strv_free(r->warnings, r->n_warnings);
	memset(r, 0, sizeof *r);
}

const struct reg_model *sc_registry_model(const struct registry *r, const char *name)
{
	for (size_t i = 0; i < r->n_models; i++)
		if (streq(r->models[i].name, name))
			return &r->models[i];
	return NULL;
}

size_t sc_registry_suggest(const struct registry *r, const char *name, char *buf, size_t len)
{
	const char **names = calloc(r->n_models ? r->n_models : 1, sizeof *names);
	if (!names) {
		if (len)
			buf[0] = '\0';
		return 0;
	}
	for (size_t i = 0; i < r->n_models; i++)
		names[i] = r->models[i].name;
	size_t k = sc_suggest(name, names, r->n_models, buf, len);
	free(names);
	return k;
}

int sc_registry_no_model(const struct registry *r, const char *name, sc_err *e)
{
	char list[384];
	if (!r->file) {
		_cleanup_free_ char *looked = sc_registry_where();
		return sc_error(e, SC_ENOTFOUND, "%s: no models.ini was found (looked in %s): see 'man 5 models.ini'",
				name, looked ? looked : "the usual places");
	}
	if (sc_registry_suggest(r, name, list, sizeof list))
		return sc_error(e, SC_ENOTFOUND, "%s: no such [model] in %s; did you mean: %s?", name, r->file, list);
	return sc_error(e, SC_ENOTFOUND, "%s: no such [model] in %s (see 'sparkctl list')", name, r->file);
}

const struct reg_engine *sc_registry_engine(const struct registry *r, const char *name)
{
	for (size_t i = 0; i < r->n_engines; i++)
		if (streq(r->engines[i].name, name))
			return &r->engines[i];
	return NULL;
}

const struct reg_node *sc_registry_node(const struct registry *r, const char *name)
{
	for (size_t i = 0; i < r->n_nodes; i++)
		if (streq(r->nodes[i].name, name))
			return &r->nodes[i];
	return NULL;
}

char *sc_registry_model_dir(const struct registry *r, const struct reg_model *m)
{
	_cleanup_free_ char *dir = m->path[0] == '/' ? strdup(m->path) : sc_path_join(r->models_root, m->path);
	if (!dir || !m->file)
		return dir ? strdup(dir) : NULL;
	return sc_path_join(dir, m->file);
}

const char *sc_registry_unsupported(const struct reg_engine *en, const char *format, const char *quant_method)
{
	for (size_t i = 0; i < en->n_unsupported; i++) {
		const char *u = en->unsupported[i];
		if (sc_name_eq(u, quant_method) || sc_name_eq(u, format))
			return u;
	}
	return NULL;
}

/* ---- setting values ---- */

static int set_str(char **dst, const char *v, bool path)
{
	char *s = path ? sc_expand_home(v) : strdup(v);
	if (!s)
		return -ENOMEM;
	free(*dst);
	*dst = s;
	return 0;
}

static int add_env(char ***env, size_t *n, const char *file, unsigned line, const char *v, sc_err *e)
{
	char **words;
	size_t nw;
	sc_err se;
	int r = sc_split_words(v, &words, &nw, &se);
	if (r < 0)
		return sc_error(e, r == -ENOMEM ? r : SC_ECONFIG, "%s:%u: env: %s", file, line, se.msg);
	for (size_t i = 0; i < nw; i++) {
		const char *eq = strchr(words[i], '=');
		if (!eq || eq == words[i]) {
			r = sc_error(e, SC_ECONFIG, "%s:%u: env: \"%s\" is not KEY=VALUE", file, line, words[i]);
			sc_strv_free(words, nw);
			return r;
		}
	}
	char **nv = realloc(*env, (*n + nw + 1) * sizeof *nv);
	if (!nv) {
		sc_strv_free(words, nw);
		return sc_error(e, -ENOMEM, "out of memory");
	}
	memcpy(nv + *n, words, nw * sizeof *words);
	*n += nw;
	nv[*n] = NULL;
	*env = nv;
	free(words);
	return 0;
}

static int parse_long(const char *v, long min, long max, long *ret)
{
	char *end;
	errno = 0;
	long x = strtol(v, &end, 10);
	if (end == v || *end || errno || x < min || x > max)
		return -EINVAL;
	*ret = x;
	return 0;
}

static int parse_fraction(const char *v, double *ret)
{
	char *end;
	errno = 0;
	double x = strtod(v, &end);
	if (end == v || *end || errno || !(x > 0 && x <= 1))
		return -EINVAL;
	*ret = x;
	return 0;
}

static int need_value(const struct ini_entry *en, const char *file, sc_err *e)
{
	if (!en->value)
		return sc_error(e, SC_ECONFIG, "%s:%u: %s needs a value", file, en->line, en->key);
	return 0;
}

/* "128" in models.ini meant 128 bytes: a memory size needs its unit. */
static bool size_has_unit(const char *v)
{
	size_t n = strlen(v);
	return n && !isdigit((unsigned char)v[n - 1]) && v[n - 1] != '.';
}

/* A host goes into URLs, engine flags and scripts: a name or an address,
 * nothing else. */
static bool host_ok(const char *v)
{
	if (!*v || strlen(v) > 253 || v[0] == '-')
		return false;
	for (const char *p = v; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr(".-:[]_", *p))
			return false;
	return true;
}

static bool ssh_dest_ok(const char *v)
{
	if (!*v || v[0] == '-' || strlen(v) > 255)
		return false;
	for (const char *p = v; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr(".-_@:/[]", *p))
			return false;
	return true;
}

static bool ifname_ok(const char *v)
{
	size_t run = 0;
	if (!*v || v[0] == '-')
		return false;
	for (const char *p = v; *p; p++) {
		if (*p == ',') {
			if (!run)
				return false;
			run = 0;
			continue;
		}
		if ((!isalnum((unsigned char)*p) && !strchr("._-:", *p)) || ++run > 15)
			return false;
	}
	return run > 0;
}

/* The schema of models.ini: one table a section, one setter a kind of
 * value (man 5 models.ini documents the same keys). */
enum key_kind { K_STR, K_PATH, K_HOST, K_HEALTH, K_SIZE, K_FRACTION, K_PORT, K_SECONDS, K_CONTEXT, K_ENV, K_LIST,
		K_LISTEN, K_COUNT, K_BOOL, K_SSH, K_IFNAME, K_DIST };

struct key {
	const char *name;
	enum key_kind kind;
	size_t off, off_n, off_line;  /* the field; for K_ENV/K_LIST its count (and line) */
};

#define KEY(s, name, kind, f) { name, kind, offsetof(s, f), 0, 0 }
static const struct key defaults_keys[] = {
	KEY(struct registry, "models-root", K_PATH, models_root),
	KEY(struct registry, "memory", K_SIZE, memory),
	KEY(struct registry, "mem-fraction", K_FRACTION, mem_fraction),
	KEY(struct registry, "overhead", K_SIZE, overhead),
	KEY(struct registry, "host", K_HOST, host),
	KEY(struct registry, "proxy-host", K_HOST, proxy_host),
	KEY(struct registry, "token-file", K_PATH, token_file),
	KEY(struct registry, "state-dir", K_PATH, state_dir),
	KEY(struct registry, "engine", K_STR, engine),
	{ 0 },
};
static const struct key engine_keys[] = {
	KEY(struct reg_engine, "command", K_STR, command),
	KEY(struct reg_engine, "image", K_STR, image),
	KEY(struct reg_engine, "docker-args", K_STR, docker_args),
	KEY(struct reg_engine, "health", K_HEALTH, health),
	KEY(struct reg_engine, "ready-timeout", K_SECONDS, ready_timeout),
	KEY(struct reg_engine, "stop-timeout", K_SECONDS, stop_timeout),
	{ "unsupported", K_LIST, offsetof(struct reg_engine, unsupported), offsetof(struct reg_engine, n_unsupported),
	  offsetof(struct reg_engine, unsupported_line) },
	{ "env", K_ENV, offsetof(struct reg_engine, env), offsetof(struct reg_engine, n_env), 0 },
	KEY(struct reg_engine, "distributed", K_DIST, ray),
	{ 0 },
};
static const struct key model_keys[] = {
	KEY(struct reg_model, "path", K_PATH, path),
	KEY(struct reg_model, "engine", K_STR, engine),
	KEY(struct reg_model, "group", K_STR, group),
	KEY(struct reg_model, "args", K_STR, args),
	KEY(struct reg_model, "image", K_STR, image),
	KEY(struct reg_model, "script", K_PATH, script),
	KEY(struct reg_model, "file", K_STR, file),
	KEY(struct reg_model, "port", K_PORT, port),
	KEY(struct reg_model, "proxy-port", K_PORT, proxy_port),
	KEY(struct reg_model, "context", K_CONTEXT, context),
	KEY(struct reg_model, "memory", K_SIZE, memory),
	KEY(struct reg_model, "mem-fraction", K_FRACTION, mem_fraction),
	KEY(struct reg_model, "overhead", K_SIZE, overhead),
	KEY(struct reg_model, "ttl", K_SECONDS, ttl),
	{ "nodes", K_LIST, offsetof(struct reg_model, nodes), offsetof(struct reg_model, n_nodes),
	  offsetof(struct reg_model, nodes_line) },
	KEY(struct reg_model, "tp", K_COUNT, tp),
	KEY(struct reg_model, "pp", K_COUNT, pp),
	KEY(struct reg_model, "dist-port", K_PORT, dist_port),
	{ "env", K_ENV, offsetof(struct reg_model, env), offsetof(struct reg_model, n_env), 0 },
	{ 0 },
};
static const struct key node_keys[] = {
	KEY(struct reg_node, "ssh", K_SSH, ssh),
	KEY(struct reg_node, "addr", K_HOST, addr),
	KEY(struct reg_node, "ifname", K_IFNAME, ifname),
	KEY(struct reg_node, "ib-hca", K_IFNAME, ib_hca),
	KEY(struct reg_node, "models-root", K_PATH, models_root),
	KEY(struct reg_node, "state-dir", K_PATH, state_dir),
	KEY(struct reg_node, "sparkctl", K_PATH, sparkctl),
	KEY(struct reg_node, "local", K_BOOL, local),
	{ 0 },
};
static const struct key proxy_keys[] = {
	{ "listen", K_LISTEN, offsetof(struct registry, proxy.listen), offsetof(struct registry, proxy.n_listen),
	  offsetof(struct registry, proxy.listen_line) },
	KEY(struct registry, "queue-size", K_COUNT, proxy.queue_size),
	KEY(struct registry, "connections", K_COUNT, proxy.connections),
	KEY(struct registry, "drain-timeout", K_SECONDS, proxy.drain_timeout),
	KEY(struct registry, "timeout", K_SECONDS, proxy.timeout),
	KEY(struct registry, "upstream-timeout", K_SECONDS, proxy.upstream_timeout),
	KEY(struct registry, "keepalive", K_SECONDS, proxy.keepalive),
	KEY(struct registry, "shutdown-timeout", K_SECONDS, proxy.shutdown_timeout),
	KEY(struct registry, "body-max", K_SIZE, proxy.body_max),
	KEY(struct registry, "log-max", K_SIZE, proxy.log_max),
	{ 0 },
};
#undef KEY

#define BAD(what) sc_error(e, SC_ECONFIG, "%s:%u: %s: %s", file, en->line, en->key, what)

static int set_value(const struct key *k, void *obj, const struct ini_entry *en, const char *file, sc_err *e)
{
	const char *v = en->value;
	char *field = (char *)obj + k->off;
	long l;
	int x = 0;
	switch (k->kind) {
	case K_STR:
	case K_PATH:
		x = set_str((char **)field, v, k->kind == K_PATH);
		break;
	case K_HOST:
		if (!host_ok(v))
			return BAD("not a host name or address");
		x = set_str((char **)field, v, false);
		break;
	case K_HEALTH:
		if (v[0] != '/')
			return BAD("must begin with '/'");
		x = set_str((char **)field, v, false);
		break;
	case K_SIZE:
		if (!size_has_unit(v) || sc_parse_size(v, (uint64_t *)field) < 0 || !*(uint64_t *)field)
			return BAD("not a size with a unit (e.g. 120GiB; a bare number would be bytes)");
		break;
	case K_FRACTION:
		if (parse_fraction(v, (double *)field) < 0)
			return BAD("not a fraction between 0 and 1");
		break;
	case K_PORT:
		if (parse_long(v, 1, 65535, &l) < 0)
			return BAD("not a port number (1-65535)");
		*(int *)field = (int)l;
		break;
	case K_SECONDS:
		/* a stop-timeout of 0 kills at once; a ttl of 0 never stops */
		if (parse_long(v, streq(k->name, "stop-timeout") || streq(k->name, "ttl") ? 0 : 1, 86400, (long *)field) < 0)
			return BAD("not a number of seconds");
		break;
	case K_COUNT:
		if (parse_long(v, 1, 1000000, (long *)field) < 0)
			return BAD("not a number from 1 to 1000000");
		break;
	case K_BOOL:
		if (!streq(v, "true") && !streq(v, "false") && !streq(v, "yes") && !streq(v, "no"))
			return BAD("not true or false");
		*(bool *)field = streq(v, "true") || streq(v, "yes");
		break;
	case K_DIST:
		/* how vLLM's ranks meet across nodes: its own processes, or Ray */
		if (!streq(v, "mp") && !streq(v, "ray"))
			return BAD("not mp or ray");
		*(bool *)field = streq(v, "ray");
		break;
	case K_SSH:
		/* handed to ssh as its destination: never an option (-oProxyCommand=...) */
		if (!ssh_dest_ok(v))
			return BAD("not an OpenSSH destination (user@host, host, ssh://user@host:port)");
		x = set_str((char **)field, v, false);
		break;
	case K_IFNAME:
		/* a Linux interface (or RoCE device) name, comma-separated for ib-hca */
		if (!ifname_ok(v))
			return BAD("not an interface name (letters, digits, . _ - : and , at most 15 each)");
		x = set_str((char **)field, v, false);
		break;
	case K_CONTEXT:
		if (parse_long(v, 1, SC_MAX_CONTEXT, (long *)field) < 0)
			return BAD("not a number of tokens from 1 to 1073741824");
		break;
	case K_ENV:
		return add_env((char ***)field, (size_t *)((char *)obj + k->off_n), file, en->line, v, e);
	case K_LISTEN:
	case K_LIST: {
		/* comma- or space-separated */
		char **w;
		size_t n;
		sc_err se;
		_cleanup_free_ char *copy = strdup(v);
		if (!copy)
			return sc_error(e, -ENOMEM, "out of memory");
		for (char *p = copy; *p; p++)
			if (*p == ',')
				*p = ' ';
		if ((x = sc_split_words(copy, &w, &n, &se)) < 0)
			return sc_error(e, SC_ECONFIG, "%s:%u: %s: %s", file, en->line, en->key, se.msg);
		for (size_t i = 0; k->kind == K_LISTEN && i < n; i++) {
			char h[256];
			int port;
			if (sc_listen_split(w[i], h, sizeof h, &port) < 0) {
				sc_strv_free(w, n);
				return BAD("not HOST:PORT (127.0.0.1:31000, [::1]:31000)");
			}
		}
		sc_strv_free(*(char ***)field, *(size_t *)((char *)obj + k->off_n));
		*(char ***)field = w;
		*(size_t *)((char *)obj + k->off_n) = n;
		*(unsigned *)((char *)obj + k->off_line) = en->line;
		break;
	}
	}
	return x == -ENOMEM ? sc_error(e, x, "out of memory") : x;
}

/* One key of a section by its schema; an unknown key is a warning naming
 * its line. */
static int section_key(struct registry *r, const struct key *schema, void *obj, const char *what,
		       const struct ini_entry *en, const char *file, sc_err *e)
{
	int x = need_value(en, file, e);
	if (x < 0)
		return x;
	for (const struct key *k = schema; k->name; k++)
		if (streq(k->name, en->key))
			return set_value(k, obj, en, file, e);
	x = sc_strv_appendf(&r->warnings, &r->n_warnings, "%s:%u: unknown key \"%s\" in %s", file, en->line, en->key,
			    what);
	return x == -ENOMEM ? sc_error(e, x, "out of memory") : 0;
}
#undef BAD

static const struct {
	const char *name, *command;
} builtin[] = {
	{ "sglang", "python3 -m sglang.launch_server --model-path {path} --served-model-name {name} "
		    "--host {host} --port {port} {args}" },
	{ "vllm", "vllm serve {path} --served-model-name {name} --host {host} --port {port} {args}" },
};

const char *sc_registry_builtin_command(const char *engine)
{
	for (size_t i = 0; i < ARRAY_SIZE(builtin); i++)
		if (streq(builtin[i].name, engine))
			return builtin[i].command;
	return NULL;
}

int sc_registry_builtin_engines(struct registry *r)
{
	const __typeof__(builtin[0]) *b = builtin;
	r->engines = calloc(ARRAY_SIZE(builtin), sizeof *r->engines);
	if (!r->engines)
		return -ENOMEM;
	for (size_t i = 0; i < ARRAY_SIZE(builtin); i++) {
		struct reg_engine *g = &r->engines[r->n_engines++];
		if (!(g->name = strdup(b[i].name)) || !(g->command = strdup(b[i].command)))
			return -ENOMEM;
	}
	return 0;
}

int sc_listen_split(const char *word, char *host, size_t host_len, int *port)
{
	const char *colon = strrchr(word, ':');
	const char *h = word, *he = colon;
	long l;
	if (!colon || parse_long(colon + 1, 1, 65535, &l) < 0)
		return -EINVAL;
	if (word[0] == '[') {
		if (colon == word || colon[-1] != ']')
			return -EINVAL;
		h++;
		he--;
	} else if (memchr(word, ':', (size_t)(colon - word)))
		return -EINVAL;  /* an IPv6 address needs brackets */
	if (he <= h || (size_t)(he - h) >= host_len)
		return -EINVAL;
	memcpy(host, h, (size_t)(he - h));
	host[he - h] = '\0';
	if (!host_ok(host))
		return -EINVAL;
	*port = (int)l;
	return 0;
}

/* The proxy's defaults (sparkctl-proxy(1) says why each). */
static int proxy_defaults(struct reg_proxy *p)
{
	if (!p->n_listen && sc_strv_appendf(&p->listen, &p->n_listen, "127.0.0.1:31000") < 0)
		return -ENOMEM;
	if (!p->queue_size)
		p->queue_size = 256;
	if (!p->connections)
		p->connections = 1024;
	if (!p->drain_timeout)
		p->drain_timeout = 30;
	if (!p->timeout)
		p->timeout = 60;
	if (!p->upstream_timeout)
		p->upstream_timeout = 600;
	if (!p->keepalive)
		p->keepalive = 5;
	if (!p->shutdown_timeout)
		p->shutdown_timeout = 30;
	if (!p->body_max)
		p->body_max = 32ULL << 20;
	if (!p->log_max)
		p->log_max = 64ULL << 20;
	return 0;
}

/* Defaults for everything a file may leave out. */
int sc_registry_fill_defaults(struct registry *r)
{
	if (proxy_defaults(&r->proxy) < 0)
		return -ENOMEM;
	if (!r->models_root && !(r->models_root = sc_expand_home("~/ai/models")))
		return -ENOMEM;
	if (!r->mem_fraction)
		r->mem_fraction = 0.85;
	if (!r->host && !(r->host = strdup("127.0.0.1")))
		return -ENOMEM;
	if (!r->proxy_host && !(r->proxy_host = strdup(r->host)))
		return -ENOMEM;
	if (!r->state_dir) {
		const char *x = getenv("XDG_STATE_HOME");
		char *base = x && x[0] == '/' ? strdup(x) : sc_expand_home("~/.local/state");
		if (!base)
			return -ENOMEM;
		r->state_dir = sc_path_join(base, "sparkctl");
		free(base);
		if (!r->state_dir)
			return -ENOMEM;
	}
	for (size_t i = 0; i < r->n_engines; i++) {
		struct reg_engine *g = &r->engines[i];
		if (!g->health && !(g->health = strdup("/health")))
			return -ENOMEM;
		if (!g->ready_timeout)
			g->ready_timeout = 900;
		if (!g->stop_timeout && !g->line)
			g->stop_timeout = 60;
	}
	return 0;
}

/* A relative models-root is relative to the file's folder, not to wherever
 * the command happens to run. */
static int relative_root(struct registry *r, const char *file)
{
	const char *slash = strrchr(file, '/');
	if (!r->models_root || r->models_root[0] == '/' || !slash)
		return 0;
	_cleanup_free_ char *dir = strndup(file, (size_t)(slash - file));
	char *p = dir ? sc_path_join(dir, r->models_root) : NULL;
	if (!p)
		return -ENOMEM;
	free(r->models_root);
	r->models_root = p;
	return 0;
}

/* A multi-node model: its nodes exist and can hold a rank, the head is
 * this box, and tp splits over them as the engines require (SGLang:
 * python/sglang/srt/server_args.py, tp_size % nnodes == 0). */
static int validate_nodes(const struct registry *r, const struct reg_model *m, const char *file, sc_err *e)
{
	unsigned line = m->nodes_line;
	if (m->n_nodes < 2)
		return sc_error(e, SC_ECONFIG, "%s:%u: [model \"%s\"] nodes: name two or more nodes, the head first", file,
				line, m->name);
	for (size_t i = 0; i < m->n_nodes; i++) {
		const struct reg_node *n = sc_registry_node(r, m->nodes[i]);
		if (!n)
			return sc_error(e, SC_ECONFIG, "%s:%u: [model \"%s\"] nodes: no [node \"%s\"] in the file", file, line,
					m->name, m->nodes[i]);
		for (size_t k = 0; k < i; k++)
			if (streq(m->nodes[k], m->nodes[i]))
				return sc_error(e, SC_ECONFIG, "%s:%u: [model \"%s\"] nodes: %s twice", file, line, m->name,
						m->nodes[i]);
		if (i == 0 && !n->local)
			return sc_error(e, SC_ECONFIG, "%s:%u: [model \"%s\"]: its head, %s, must be this box "
					"([node \"%s\"] local = true): rank 0 runs where sparkctl does", file, line,
					m->name, n->name, n->name);
		if (i > 0 && !n->ssh)
			return sc_error(e, SC_ECONFIG, "%s:%u: [node \"%s\"] has no ssh (the destination its ranks are "
					"started through)", file, n->line, n->name);
		if (!n->addr || !n->ifname)
			return sc_error(e, SC_ECONFIG, "%s:%u: [node \"%s\"] needs addr and ifname (the link the ranks use)",
					file, n->line, n->name);
	}
	long tp = m->tp ? m->tp : (long)m->n_nodes, pp = m->pp ? m->pp : 1;
	if ((tp * pp) % (long)m->n_nodes)
		return sc_error(e, SC_ECONFIG, "%s:%u: [model \"%s\"]: tp %ld x pp %ld does not split over %zu nodes", file,
				line, m->name, tp, pp, m->n_nodes);
	if (m->script)
		return sc_error(e, SC_ECONFIG, "%s:%u: [model \"%s\"]: a serve script cannot be started on several nodes",
				file, line, m->name);
	const struct reg_engine *en = m->engine ? sc_registry_engine(r, m->engine) : NULL;
	if (m->image || (en && en->image))
		return sc_error(e, SC_ECONFIG, "%s:%u: [model \"%s\"]: Docker mode is not started over several nodes; "
				"give it an engine without image (SGLang or vLLM on the host)", file, line, m->name);
	return 0;
}

static int validate(struct registry *r, const char *file, sc_err *e)
{
	int x;
	for (size_t i = 0; i < r->n_engines; i++)
		if (!r->engines[i].command && !r->engines[i].image)
			return sc_error(e, SC_ECONFIG, "%s:%u: [engine \"%s\"] has no command", file,
					r->engines[i].line, r->engines[i].name);
	for (size_t i = 0; i < r->n_models; i++) {
		struct reg_model *m = &r->models[i];
		if (!m->path)
			return sc_error(e, SC_ECONFIG, "%s:%u: [model \"%s\"] has no path", file, m->line, m->name);
		if (!m->engine && r->engine && !(m->engine = strdup(r->engine)))
			return sc_error(e, -ENOMEM, "out of memory");
		if (!m->engine && !m->script) {
			/* "engnie = sglang": name the key that was meant */
			char tail[64];
			snprintf(tail, sizeof tail, "in [model \"%.40s\"]", m->name);
			for (size_t k = 0; k < r->n_warnings; k++)
				if (sc_endswith(r->warnings[k], tail) && strstr(r->warnings[k], "unknown key"))
					return sc_error(e, SC_ECONFIG, "%s:%u: [model \"%s\"] has no engine; %.*s: is it a misspelt key?",
							file, m->line, m->name,
							(int)(strlen(r->warnings[k]) - strlen(tail) - 1), r->warnings[k]);
			return sc_error(e, SC_ECONFIG, "%s:%u: [model \"%s\"] has no engine (engine = NAME, or [defaults] engine)",
					file, m->line, m->name);
		}
		if (m->engine && !sc_registry_engine(r, m->engine))
			return sc_error(e, SC_ECONFIG, "%s:%u: [model \"%s\"]: unknown engine \"%s\"", file, m->line,
					m->name, m->engine);
		if (m->n_nodes && (x = validate_nodes(r, m, file, e)) < 0)
			return x;
		for (size_t j = 0; j < i; j++) {
			const struct reg_model *o = &r->models[j];
			if (o->port && o->port == m->port &&
			    !(o->group && m->group && streq(o->group, m->group)) &&
			    sc_strv_appendf(&r->warnings, &r->n_warnings, "%s:%u: [model \"%s\"] shares port %d with \"%s\" but not its group", file,
				 m->line, m->name, m->port, o->name) < 0)
				return sc_error(e, -ENOMEM, "out of memory");
		}
	}
	return 0;
}

int sc_registry_parse(const char *file, const char *buf, size_t len, struct registry *ret, sc_err *e)
{
	*ret = (struct registry){ 0 };
	struct ini ini;
	struct registry r = { 0 };
	int x = sc_ini_parse(file, buf, len, &ini, e);
	if (x < 0)
		return x;
	if (!(r.file = strdup(file))) {
		x = sc_error(e, -ENOMEM, "out of memory");
		goto out;
	}
	/* sections first, so that empty ones exist too */
	for (size_t i = 0; i < ini.n_sections; i++) {
		const struct ini_section *s = &ini.sections[i];
		if (streq(s->section, "node")) {
			if (!s->subsection || !s->subsection[0] || !sc_model_name_valid(s->subsection)) {
				x = sc_error(e, SC_ECONFIG, "%s:%u: [node] needs a name: [node \"NAME\"] (%s)", file, s->line,
					     "letters, digits and . _ : + -");
				goto out;
			}
			if (sc_registry_node(&r, s->subsection)) {
				x = sc_error(e, SC_ECONFIG, "%s:%u: [node \"%s\"] is defined twice", file, s->line, s->subsection);
				goto out;
			}
			struct reg_node *nn = realloc(r.nodes, (r.n_nodes + 1) * sizeof *r.nodes);
			if (!nn) {
				x = sc_error(e, -ENOMEM, "out of memory");
				goto out;
			}
			r.nodes = nn;
			r.nodes[r.n_nodes] = (struct reg_node){ .name = strdup(s->subsection), .line = s->line };
			if (!r.nodes[r.n_nodes++].name) {
				x = sc_error(e, -ENOMEM, "out of memory");
				goto out;
			}
		} else if (streq(s->section, "engine") || streq(s->section, "model")) {
			bool eng = streq(s->section, "engine");
			if (!s->subsection || !s->subsection[0]) {
				x = sc_error(e, SC_ECONFIG, "%s:%u: [%s] needs a name: [%s \"NAME\"]", file, s->line,
					     s->section, s->section);
				goto out;
			}
			if (!eng && !sc_model_name_valid(s->subsection)) {
				x = sc_error(e, SC_ECONFIG, "%s:%u: [model \"%s\"]: %s", file, s->line, s->subsection,
					     SC_MODEL_NAME_RULE);
				goto out;
			}
			if (eng ? !!sc_registry_engine(&r, s->subsection) : !!sc_registry_model(&r, s->subsection)) {
				x = sc_error(e, SC_ECONFIG, "%s:%u: [%s \"%s\"] is defined twice", file, s->line,
					     s->section, s->subsection);
				goto out;
			}
			void *arr = eng ? (void *)r.engines : (void *)r.models;
			size_t n = eng ? r.n_engines : r.n_models, sz = eng ? sizeof *r.engines : sizeof *r.models;
			void *na = realloc(arr, (n + 1) * sz);
			if (!na) {
				x = sc_error(e, -ENOMEM, "out of memory");
				goto out;
			}
			memset((char *)na + n * sz, 0, sz);
			char *name = strdup(s->subsection);
			if (eng) {
				r.engines = na;
				r.engines[r.n_engines] = (struct reg_engine){ .name = name, .line = s->line, .stop_timeout = 60 };
				r.n_engines++;
			} else {
				r.models = na;
				r.models[r.n_models] = (struct reg_model){ .name = name, .line = s->line };
				r.n_models++;
			}
			if (!name) {
				x = sc_error(e, -ENOMEM, "out of memory");
				goto out;
			}
		} else if (!streq(s->section, "defaults") && !streq(s->section, "proxy") && sc_strv_appendf(&r.warnings, &r.n_warnings, "%s:%u: unknown section [%s]", file, s->line, s->section) < 0) {
			x = sc_error(e, -ENOMEM, "out of memory");
			goto out;
		}
	}
	for (size_t i = 0; i < ini.n; i++) {
		const struct ini_entry *en = &ini.entries[i];
		char what[300];
		snprintf(what, sizeof what, "[%s%s%s%s]", en->section, en->subsection ? " \"" : "",
			 en->subsection ? en->subsection : "", en->subsection ? "\"" : "");
		if (streq(en->section, "defaults"))
			x = section_key(&r, defaults_keys, &r, what, en, file, e);
		else if (streq(en->section, "engine"))
			x = section_key(&r, engine_keys, (void *)sc_registry_engine(&r, en->subsection), what, en, file, e);
		else if (streq(en->section, "proxy"))
			x = section_key(&r, proxy_keys, &r, what, en, file, e);
		else if (streq(en->section, "node"))
			x = section_key(&r, node_keys, (void *)sc_registry_node(&r, en->subsection), what, en, file, e);
		else if (streq(en->section, "model"))
			x = section_key(&r, model_keys, (void *)sc_registry_model(&r, en->subsection), what, en, file, e);
		if (x < 0)
			goto out;
	}
	if ((x = relative_root(&r, file)) < 0 || (x = sc_registry_fill_defaults(&r)) < 0) {
		x = sc_error(e, x, "out of memory");
		goto out;
	}
	x = validate(&r, file, e);
out:
	sc_ini_done(&ini);
	if (x < 0) {
		sc_registry_done(&r);
		return x;
	}
	*ret = r;
	return 0;
}



bool sc_model_name_valid(const char *name)
{
	size_t n = strlen(name);
	if (!n || n > 128 || name[0] == '-' || name[0] == '.')
		return false;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("._:+-", *p))
			return false;
	return true;
}



