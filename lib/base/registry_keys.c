/* The schema of models.ini: which keys each section takes, and how each
 * kind of value is read and checked (man 5 models.ini documents the same
 * keys). registry.c makes the sections; this file fills them. */
#include "registry.h"
#include "registry_keys.h"
#include "words.h"
#include "ini.h"
#include "util.h"

#include <ctype.h>
#include <stddef.h>

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
int sc_registry_entry(struct registry *r, const struct ini_entry *en, const char *file, sc_err *e)
{
	char what[300];
	snprintf(what, sizeof what, "[%s%s%s%s]", en->section, en->subsection ? " \"" : "",
		 en->subsection ? en->subsection : "", en->subsection ? "\"" : "");
	if (streq(en->section, "defaults"))
		return section_key(r, defaults_keys, r, what, en, file, e);
	if (streq(en->section, "engine"))
		return section_key(r, engine_keys, (void *)sc_registry_engine(r, en->subsection), what, en, file, e);
	if (streq(en->section, "proxy"))
		return section_key(r, proxy_keys, r, what, en, file, e);
	if (streq(en->section, "node"))
		return section_key(r, node_keys, (void *)sc_registry_node(r, en->subsection), what, en, file, e);
	if (streq(en->section, "model"))
		return section_key(r, model_keys, (void *)sc_registry_model(r, en->subsection), what, en, file, e);
	return 0;  /* an unknown section: registry.c has warned of it */
}
