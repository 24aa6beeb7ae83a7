#include "engine.h"
#include "plan.h"
#include "../base/words.h"
#include "../base/text.h"

#include <ctype.h>
#include "../base/ini.h"
#include "../base/util.h"

#include <stdarg.h>

enum engine_kind sc_engine_kind_of(const struct reg_engine *en)
{
	if (strstr(en->name, "sglang") || (en->command && strstr(en->command, "sglang")))
		return ENGINE_SGLANG;
	if (strstr(en->name, "vllm") || (en->command && strstr(en->command, "vllm")))
		return ENGINE_VLLM;
	if (strstr(en->name, "llamacpp") || strstr(en->name, "llama.cpp") || (en->command && strstr(en->command, "llama-server")))
		return ENGINE_LLAMACPP;
	return ENGINE_OTHER;
}

const char *sc_engine_reason(const struct reg_engine *en, const struct sc_model *m, char *buf, size_t len)
{
	const char *u = sc_registry_unsupported(en, sc_format_name(m->format), sc_quant_method_name(m->quant_method));
	if (!u)
		return NULL;
	snprintf(buf, len, "%s is listed as unsupported for engine %s (models.ini line %u)", u, en->name,
		 en->unsupported_line);
	return buf;
}

/* Replace the placeholders inside one word. */
static char *substitute(const char *w, const char *const keys[], const char *const vals[], size_t n)
{
	size_t cap = strlen(w) + 1, len = 0;
	char *out = malloc(cap);
	if (!out)
		return NULL;
	for (const char *p = w; *p;) {
		size_t i;
		for (i = 0; i < n; i++)
			if (startswith(p, keys[i]))
				break;
		const char *add = i < n ? vals[i] : p;
		size_t al = i < n ? strlen(vals[i]) : 1;
		if (len + al + 1 > cap) {
			cap = (len + al + 1) * 2;
			char *o = realloc(out, cap);
			if (!o) {
				free(out);
				return NULL;
			}
			out = o;
		}
		memcpy(out + len, add, al);
		len += al;
		p += i < n ? strlen(keys[i]) : 1;
	}
	out[len] = '\0';
	return out;
}

void sc_launch_done(struct launch *l)
{
	if (!l)
		return;
	sc_strv_free(l->argv, l->argc);
	sc_strv_free(l->env, l->n_env);
	free(l->container);
	free(l->dir);
	memset(l, 0, sizeof *l);
}

static int push(struct launch *l, const char *s)
{
	return sc_strv_appendf(&l->argv, &l->argc, "%s", s);
}

/* A word with the placeholders replaced: the model's args may use them
 * too ("--chat-template {path}/chat.jinja"). */
static int push_sub(struct launch *l, const char *w, const char *const keys[], const char *const vals[], size_t n)
{
	char *s = substitute(w, keys, vals, n);
	int r = s ? push(l, s) : -ENOMEM;
	free(s);
	return r;
}

/* env of the engine, then the model's: a later KEY overrides an earlier */
static int collect_env(struct launch *l, const struct reg_engine *en, const struct reg_model *m)
{
	for (size_t i = 0; en && i < en->n_env; i++)
		if (sc_strv_appendf(&l->env, &l->n_env, "%s", en->env[i]) < 0)
			return -ENOMEM;
	for (size_t i = 0; i < m->n_env; i++)
		if (sc_strv_appendf(&l->env, &l->n_env, "%s", m->env[i]) < 0)
			return -ENOMEM;
	return 0;
}

int sc_engine_launch(const struct registry *reg, const struct reg_model *m, const struct sc_plan *plan,
		     struct launch *ret, sc_err *e)
{
	char *const *flags = plan ? plan->flags : NULL;
	size_t n_flags = plan ? plan->n_flags : 0;
	uint64_t context = plan ? plan->context : 0;
	*ret = (struct launch){ 0 };
	struct launch l = { 0 };
	const struct reg_engine *en = m->engine ? sc_registry_engine(reg, m->engine) : NULL;
	char port[16], ctx[24], **words = NULL, **args = NULL;
	size_t nw = 0, na = 0;
	sc_err se;
	int r;
	snprintf(port, sizeof port, "%d", m->port);
	snprintf(ctx, sizeof ctx, "%llu", (unsigned long long)context);
	if (!(l.dir = sc_registry_model_dir(reg, m)))
		return sc_error(e, -ENOMEM, "out of memory");
	const char *image = m->image ? m->image : en ? en->image : NULL;
	const char *tmpl = m->script ? m->script : en ? en->command : NULL;
	if (!tmpl) {
		sc_launch_done(&l);
		return sc_error(e, SC_ECONFIG, "%s: its engine has no command", m->name);
	}
	l.mode = m->script ? "script" : image ? "docker" : "host";
	if ((r = sc_split_words(tmpl, &words, &nw, &se)) < 0 ||
	    (r = sc_split_words(m->args ? m->args : "", &args, &na, &se)) < 0) {
		sc_strv_free(words, nw);
		sc_launch_done(&l);
		return sc_error(e, r == -ENOMEM ? r : SC_ECONFIG, "%s: %s", m->name, se.msg);
	}
	if (image) {
		if (asprintf(&l.container, "sparkctl-%s", m->name) < 0)
			goto oom;
		char vol[2 * 4096 + 8], label[300];
		snprintf(vol, sizeof vol, "%s:%s:ro", reg->models_root, reg->models_root);
		snprintf(label, sizeof label, "sparkctl.model=%s", m->name);
		/* host networking, as NVIDIA's Spark playbooks run SGLang and
		 * vLLM: the engine binds {host} (127.0.0.1) on the box itself. A
		 * bridged container with -p 127.0.0.1:P:P and an engine bound to
		 * 127.0.0.1 inside is unreachable: that address is the
		 * container's own loopback. */
		const char *head[] = { "docker", "run", "-d", "--name", l.container, "--label", label, "--network", "host",
				       "-v", vol };
		for (size_t i = 0; i < ARRAY_SIZE(head); i++)
			if (push(&l, head[i]) < 0)
				goto oom;
		if (!startswith(l.dir, reg->models_root) &&
		    (push(&l, "-v") < 0 || sc_strv_appendf(&l.argv, &l.argc, "%s:%s:ro", l.dir, l.dir) < 0))
			goto oom;
		if (en && en->docker_args) {
			char **da;
			size_t nd;
			if ((r = sc_split_words(en->docker_args, &da, &nd, &se)) < 0) {
				sc_strv_free(words, nw);
				sc_strv_free(args, na);
				sc_launch_done(&l);
				return sc_error(e, r == -ENOMEM ? r : SC_ECONFIG, "%s: docker-args: %s", m->name, se.msg);
			}
			for (size_t i = 0; i < nd && r >= 0; i++)
				r = push(&l, da[i]);
			sc_strv_free(da, nd);
			if (r < 0)
				goto oom;
		}
		struct launch envs = { 0 };
		if (collect_env(&envs, en, m) < 0)
			goto oom;
		for (size_t i = 0; i < envs.n_env && r >= 0; i++)
			r = push(&l, "-e") < 0 ? -ENOMEM : push(&l, envs.env[i]);
		sc_strv_free(envs.env, envs.n_env);
		if (r < 0 || push(&l, image) < 0)
			goto oom;
	} else if (collect_env(&l, m->script ? NULL : en, m) < 0)
		goto oom;
	static const char *const keys[] = { "{name}", "{path}", "{host}", "{port}", "{context}" };
	const char *vals[] = { m->name, plan && plan->path ? plan->path : l.dir, reg->host, port, ctx };
	bool had_args = false;
	for (size_t i = 0; i < nw; i++) {
		if (streq(words[i], "{args}")) {
			had_args = true;
			for (size_t k = 0; k < n_flags; k++)
				if (push(&l, flags[k]) < 0)
					goto oom;
			for (size_t k = 0; k < na; k++)
				if (push_sub(&l, args[k], keys, vals, ARRAY_SIZE(keys)) < 0)
					goto oom;
			continue;
		}
		char *w = substitute(words[i], keys, vals, ARRAY_SIZE(keys));
		if (!w)
			goto oom;
		if (strstr(w, "{args}")) {
			/* {args} inside a word: the args joined with spaces */
			_cleanup_free_ char *joined = strdup(m->args ? m->args : "");
			const char *ak[] = { "{args}" }, *av[] = { joined ? joined : "" };
			char *w2 = substitute(w, ak, av, 1);
			free(w);
			had_args = true;
			if (!w2 || !joined)
				goto oom;
			w = w2;
		}
		r = sc_strv_appendf(&l.argv, &l.argc, "%s", w);
		free(w);
		if (r < 0)
			goto oom;
	}
	for (size_t k = 0; !had_args && !m->script && k < n_flags; k++)
		if (push(&l, flags[k]) < 0)
			goto oom;
	for (size_t k = 0; !had_args && !m->script && k < na; k++)
		if (push_sub(&l, args[k], keys, vals, ARRAY_SIZE(keys)) < 0)
			goto oom;
	sc_strv_free(words, nw);
	sc_strv_free(args, na);
	if (!l.argv) {
		sc_launch_done(&l);
		return sc_error(e, SC_ECONFIG, "%s: the command is empty", m->name);
	}
	*ret = l;
	return 0;
oom:
	sc_strv_free(words, nw);
	sc_strv_free(args, na);
	sc_launch_done(&l);
	return sc_error(e, -ENOMEM, "out of memory");
}

char *sc_shell_quote(const char *s)
{
	bool plain = *s != '\0';
	for (const char *p = s; *p && plain; p++)
		plain = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:,+@%", *p) != NULL;
	if (plain)
		return strdup(s);
	size_t n = 2;
	for (const char *p = s; *p; p++)
		n += *p == '\'' ? 4 : 1;
	char *q = malloc(n + 1), *o = q;
	if (!q)
		return NULL;
	*o++ = '\'';
	for (const char *p = s; *p; p++) {
		if (*p == '\'') {
			memcpy(o, "'\\''", 4);
			o += 4;
		} else
			*o++ = *p;
	}
	*o++ = '\'';
	*o = '\0';
	return q;
}

/* An option starts a line of the script: "--port 30001" stays together. */
static bool starts_option(const char *a)
{
	return a[0] == '-' && (isalpha((unsigned char)a[1]) || a[1] == '-');
}

char *sc_launch_script(const struct launch *l, const struct reg_model *m, const char *host)
{
	char *buf = NULL;
	size_t len = 0;
	/* a value in a comment is escaped: "127.0.0.1\ntouch x" must not end
	 * the comment and run as a command */
	_cleanup_free_ char *qname = sc_term_escape(m->name, false), *qengine = sc_term_escape(m->engine ? m->engine : "script", false),
			    *qhost = sc_term_escape(host, false), *qcmd = sc_shell_quote(m->name);
	if (!qname || !qengine || !qhost || !qcmd)
		return NULL;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	fprintf(f, "#!/bin/sh\n# Serve %s (%s, %s mode) on %s:%d.\n# Written by sparkctl serve --dry-run; "
		   "sparkctl serve %s does the same, supervised.\nset -e\n",
		qname, qengine, l->mode, qhost, m->port, qcmd);
	if (l->container) {
		_cleanup_free_ char *c = sc_shell_quote(l->container);
		fprintf(f, "docker rm -f %s >/dev/null 2>&1 || true\n", c ? c : "");
	}
	fputs("exec", f);
	if (l->n_env)
		fputs(" env", f);
	/* one variable, and one option with its value, a line */
	for (size_t i = 0; i < l->n_env; i++) {
		_cleanup_free_ char *q = sc_shell_quote(l->env[i]);
		fprintf(f, " \\\n    %s", q ? q : "");
	}
	for (size_t i = 0; i < l->argc; i++) {
		_cleanup_free_ char *q = sc_shell_quote(l->argv[i]);
		bool brk = (i == 0 && l->n_env) || (i > 0 && starts_option(l->argv[i]));
		fprintf(f, "%s%s", brk ? " \\\n    " : " ", q ? q : "");
	}
	fputc('\n', f);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
