/* models.ini as a file: where it is looked for, loading it, and adding a
 * [model] to it without touching anything else in it. */
#include "registry.h"
#include "atomicfile.h"
#include "util.h"

static char *config_path(const char *explicit_path, bool *must_exist)
{
	const char *env = getenv("SPARKCTL_CONFIG");
	/* a file named by --config or $SPARKCTL_CONFIG must exist; the user's
	 * file may be absent, and then the system-wide one is looked at */
	*must_exist = explicit_path || (env && env[0]);
	char *p = sc_registry_user_file(explicit_path);
	if (!p || *must_exist || access(p, F_OK) == 0)
		return p;
	free(p);
	return strdup("/etc/sparkctl/models.ini");
}

int sc_registry_load(const char *explicit_path, struct registry *ret, sc_err *e)
{
	*ret = (struct registry){ 0 };
	bool must;
	_cleanup_free_ char *path = config_path(explicit_path, &must), *buf = NULL;
	size_t len;
	if (!path)
		return sc_error(e, -ENOMEM, "out of memory");
	int x = sc_read_file(path, 4u << 20, &buf, &len);
	if (x == -ENOENT && !must) {
		struct registry r = { 0 };
		if ((x = sc_registry_builtin_engines(&r)) < 0 || (x = sc_registry_fill_defaults(&r)) < 0) {
			sc_registry_done(&r);
			return sc_error(e, x, "out of memory");
		}
		*ret = r;
		return 0;
	}
	if (x < 0)
		return sc_error(e, x, "%s: %s", path, x == -EFBIG ? "file too large" : sc_strerror(x));
	return sc_registry_parse(path, buf, len, ret, e);
}

/* A value as models.ini(5) reads it back: in double quotes, with \" \\
 * \n \t escaped; NULL for other control characters. */
static char *ini_quote(const char *v)
{
	char *out = malloc(strlen(v) * 2 + 3), *o = out;
	if (!out)
		return NULL;
	*o++ = '"';
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		if (*p == '"' || *p == '\\')
			*o++ = '\\', *o++ = (char)*p;
		else if (*p == '\n')
			*o++ = '\\', *o++ = 'n';
		else if (*p == '\t')
			*o++ = '\\', *o++ = 't';
		else if (*p < 0x20 || *p == 0x7f) {
			free(out);
			return NULL;
		} else
			*o++ = (char)*p;
	}
	*o++ = '"';
	*o = '\0';
	return out;
}

int sc_registry_append_model(const char *file, const char *name, const char *path, const char *engine, sc_err *e)
{
	_cleanup_free_ char *buf = NULL, *text = NULL;
	size_t len = 0;
	int x = sc_read_file(file, 4u << 20, &buf, &len);
	if (x < 0 && x != -ENOENT)
		return sc_error(e, x, "%s: %s", file, sc_strerror(x));
	if (x == -ENOENT) {
		buf = strdup("");
		len = 0;
		if (!buf)
			return sc_error(e, -ENOMEM, "out of memory");
	}
	if (!sc_model_name_valid(name))
		return sc_error(e, -EINVAL, "\"%s\": %s", name, SC_MODEL_NAME_RULE);
	struct registry r;
	if ((x = sc_registry_parse(file, buf, len, &r, e)) < 0)
		return x;
	bool exists = sc_registry_model(&r, name) != NULL;
	const char *chosen = engine ? engine : r.engine;
	bool known_engine = chosen && sc_registry_engine(&r, chosen);
	_cleanup_free_ char *eng = chosen ? strdup(chosen) : NULL;
	sc_registry_done(&r);
	if (exists)
		return sc_error(e, -EEXIST, "%s: [model \"%s\"] exists already", file, name);
	if (!chosen)
		return sc_error(e, -EINVAL, "%s has no [defaults] engine: name the engine with --engine (sglang, vllm, "
				"llamacpp or an [engine] of the file)", file);
	if (!eng)
		return sc_error(e, -ENOMEM, "out of memory");
	/* an engine sparkctl knows but the file does not define goes in too */
	const char *command = known_engine ? NULL : sc_registry_builtin_command(chosen);
	if (!known_engine && !command)
		return sc_error(e, -EINVAL, "%s has no [engine \"%s\"] (built in: sglang, vllm)", file, chosen);
	_cleanup_free_ char *qpath = ini_quote(path);
	if (!qpath)
		return sc_error(e, -EINVAL, "the path %s holds a control character: it cannot go into models.ini", path);
	/* appended as text: every comment and line of the file stays as it was */
	if (asprintf(&text, "%s%s%s%s%s%s\n[model \"%s\"]\npath = %s\nengine = %s\n", buf,
		     len && buf[len - 1] != '\n' ? "\n" : "", command ? "\n[engine \"" : "", command ? eng : "",
		     command ? "\"]\ncommand = " : "", command ? command : "", name, qpath, eng) < 0)
		return sc_error(e, -ENOMEM, "out of memory");
	/* what goes in must load: never leave a registry every command rejects */
	if ((x = sc_registry_parse(file, text, strlen(text), &r, e)) < 0)
		return x;
	sc_registry_done(&r);
	if ((x = sc_mkdir_parents(file, 0755)) < 0)
		return sc_error(e, x, "%s: %s", file, sc_strerror(x));
	return sc_write_atomic(file, text, strlen(text), e);
}

char *sc_registry_user_file(const char *explicit_path)
{
	const char *env = getenv("SPARKCTL_CONFIG");
	if (explicit_path)
		return strdup(explicit_path);
	if (env && env[0])
		return strdup(env);
	const char *xdg = getenv("XDG_CONFIG_HOME");
	_cleanup_free_ char *base = xdg && xdg[0] == '/' ? strdup(xdg) : sc_expand_home("~/.config");
	return base ? sc_path_join(base, "sparkctl/models.ini") : NULL;
}

char *sc_registry_where(void)
{
	const char *env = getenv("SPARKCTL_CONFIG");
	_cleanup_free_ char *user = sc_registry_user_file(NULL);
	char *out;
	if (env && env[0])
		return asprintf(&out, "$SPARKCTL_CONFIG (%s)", env) < 0 ? NULL : out;
	return asprintf(&out, "%s and /etc/sparkctl/models.ini", user ? user : "~/.config/sparkctl/models.ini") < 0 ? NULL
														       : out;
}
