/* models.ini in memory: the sections, their lookups, the built-in
 * engines and defaults, and the checks across sections. */
#include "registry.h"
#include "registry_keys.h"
#include "ini.h"
#include "util.h"

#include <ctype.h>
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
		if ((x = sc_registry_entry(&r, &ini.entries[i], file, e)) < 0)
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

