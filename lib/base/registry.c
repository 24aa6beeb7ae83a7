#include "registry.h"
#include "words.h"
#include "atomicfile.h"
#include "ini.h"
#include "util.h"

#include <ctype.h>
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
	sc_strv_free(m->env, m->n_env);
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

char *sc_registry_model_dir(const struct registry *r, const struct reg_model *m)
{
	if (m->path[0] == '/')
		return strdup(m->path);
	return sc_path_join(r->models_root, m->path);
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

#define BAD(what) sc_error(e, SC_ECONFIG, "%s:%u: %s: %s", file, en->line, en->key, what)

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

static int defaults_key(struct registry *r, const struct ini_entry *en, const char *file, sc_err *e)
{
	const char *k = en->key, *v = en->value;
	int x = need_value(en, file, e);
	if (x < 0)
		return x;
	if (streq(k, "models-root"))
		x = set_str(&r->models_root, v, true);
	else if (streq(k, "memory")) {
		if (!size_has_unit(v) || sc_parse_size(v, &r->memory) < 0 || r->memory == 0)
			return BAD("not a size with a unit (e.g. 120GiB; a bare number would be bytes)");
	} else if (streq(k, "mem-fraction")) {
		if (parse_fraction(v, &r->mem_fraction) < 0)
			return BAD("not a fraction between 0 and 1");
	} else if (streq(k, "host") || streq(k, "proxy-host")) {
		if (!host_ok(v))
			return BAD("not a host name or address");
		x = set_str(streq(k, "host") ? &r->host : &r->proxy_host, v, false);
	}
	else if (streq(k, "token-file"))
		x = set_str(&r->token_file, v, true);
	else if (streq(k, "state-dir"))
		x = set_str(&r->state_dir, v, true);
	else if (streq(k, "engine"))
		x = set_str(&r->engine, v, false);
	else
		x = sc_strv_appendf(&r->warnings, &r->n_warnings, "%s:%u: unknown key \"%s\" in [defaults]", file, en->line, k);
	return x == -ENOMEM ? sc_error(e, x, "out of memory") : 0;
}

static int engine_key(struct registry *r, struct reg_engine *g, const struct ini_entry *en, const char *file, sc_err *e)
{
	const char *k = en->key, *v = en->value;
	int x = need_value(en, file, e);
	if (x < 0)
		return x;
	if (streq(k, "command"))
		x = set_str(&g->command, v, false);
	else if (streq(k, "image"))
		x = set_str(&g->image, v, false);
	else if (streq(k, "docker-args"))
		x = set_str(&g->docker_args, v, false);
	else if (streq(k, "health"))
		x = v[0] == '/' ? set_str(&g->health, v, false) : BAD("must begin with '/'");
	else if (streq(k, "ready-timeout")) {
		if (parse_long(v, 1, 86400, &g->ready_timeout) < 0)
			return BAD("not a number of seconds");
	} else if (streq(k, "stop-timeout")) {
		if (parse_long(v, 0, 86400, &g->stop_timeout) < 0)
			return BAD("not a number of seconds");
	} else if (streq(k, "unsupported")) {
		char **w;
		size_t n;
		sc_err se;
		/* comma- or space-separated */
		_cleanup_free_ char *copy = strdup(v);
		if (!copy)
			return sc_error(e, -ENOMEM, "out of memory");
		for (char *p = copy; *p; p++)
			if (*p == ',')
				*p = ' ';
		if ((x = sc_split_words(copy, &w, &n, &se)) < 0)
			return sc_error(e, SC_ECONFIG, "%s:%u: unsupported: %s", file, en->line, se.msg);
		sc_strv_free(g->unsupported, g->n_unsupported);
		g->unsupported = w;
		g->n_unsupported = n;
		g->unsupported_line = en->line;
	} else if (streq(k, "env"))
		return add_env(&g->env, &g->n_env, file, en->line, v, e);
	else
		x = sc_strv_appendf(&r->warnings, &r->n_warnings, "%s:%u: unknown key \"%s\" in [engine \"%s\"]", file, en->line, k, g->name);
	return x == -ENOMEM ? sc_error(e, x, "out of memory") : x;
}

static int model_key(struct registry *r, struct reg_model *m, const struct ini_entry *en, const char *file, sc_err *e)
{
	const char *k = en->key, *v = en->value;
	long l;
	int x = need_value(en, file, e);
	if (x < 0)
		return x;
	if (streq(k, "path"))
		x = set_str(&m->path, v, true);
	else if (streq(k, "engine"))
		x = set_str(&m->engine, v, false);
	else if (streq(k, "group"))
		x = set_str(&m->group, v, false);
	else if (streq(k, "args"))
		x = set_str(&m->args, v, false);
	else if (streq(k, "image"))
		x = set_str(&m->image, v, false);
	else if (streq(k, "script"))
		x = set_str(&m->script, v, true);
	else if (streq(k, "port") || streq(k, "proxy-port")) {
		if (parse_long(v, 1, 65535, &l) < 0)
			return BAD("not a port number (1-65535)");
		*(streq(k, "port") ? &m->port : &m->proxy_port) = (int)l;
	} else if (streq(k, "context")) {
		if (parse_long(v, 1, SC_MAX_CONTEXT, &m->context) < 0)
			return BAD("not a number of tokens from 1 to 1073741824");
	} else if (streq(k, "memory")) {
		if (!size_has_unit(v) || sc_parse_size(v, &m->memory) < 0 || m->memory == 0)
			return BAD("not a size with a unit (e.g. 120GiB; a bare number would be bytes)");
	} else if (streq(k, "mem-fraction")) {
		if (parse_fraction(v, &m->mem_fraction) < 0)
			return BAD("not a fraction between 0 and 1");
	} else if (streq(k, "env"))
		return add_env(&m->env, &m->n_env, file, en->line, v, e);
	else
		x = sc_strv_appendf(&r->warnings, &r->n_warnings, "%s:%u: unknown key \"%s\" in [model \"%s\"]", file, en->line, k, m->name);
	return x == -ENOMEM ? sc_error(e, x, "out of memory") : x;
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

/* Defaults for everything a file may leave out. */
int sc_registry_fill_defaults(struct registry *r)
{
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

static int validate(struct registry *r, const char *file, sc_err *e)
{
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
		if (streq(s->section, "engine") || streq(s->section, "model")) {
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
		} else if (!streq(s->section, "defaults") && sc_strv_appendf(&r.warnings, &r.n_warnings, "%s:%u: unknown section [%s]", file, s->line, s->section) < 0) {
			x = sc_error(e, -ENOMEM, "out of memory");
			goto out;
		}
	}
	for (size_t i = 0; i < ini.n; i++) {
		const struct ini_entry *en = &ini.entries[i];
		if (streq(en->section, "defaults"))
			x = defaults_key(&r, en, file, e);
		else if (streq(en->section, "engine"))
			x = engine_key(&r, (struct reg_engine *)sc_registry_engine(&r, en->subsection), en, file, e);
		else if (streq(en->section, "model"))
			x = model_key(&r, (struct reg_model *)sc_registry_model(&r, en->subsection), en, file, e);
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



