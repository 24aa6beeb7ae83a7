/* What test and probe share: where the target is, and the token for it. */
#include "common.h"
#include "../lib/base/token.h"
#include "../lib/base/util.h"

/* The token and where it came from: --token-file, $SPARKCTL_TOKEN, then
 * models.ini token-file (where it exists). <0: an explicit file failed. */
int cli_token(const char *cmd, const char *explicit_file, const struct registry *reg, char **token, char *source, size_t len)
{
	const char *env = getenv("SPARKCTL_TOKEN");
	const char *file = explicit_file ? explicit_file : reg->token_file;
	bool loose;
	sc_err e;
	*token = NULL;
	snprintf(source, len, "no token");
	if (!explicit_file && env && env[0]) {
		snprintf(source, len, "the token from $SPARKCTL_TOKEN");
		if (!sc_token_ok(env))
			return cli_fail(-1, "%s: $SPARKCTL_TOKEN holds a control character: it cannot be sent", cmd);
		return (*token = strdup(env)) ? 0 : cli_fail(-1, "out of memory");
	}
	if (!file || (!explicit_file && access(file, F_OK) < 0))
		return 0;
	/* a proxy's token file may hold several (LABEL: TOKEN): the first is ours */
	struct sc_token *t;
	size_t n;
	if (sc_tokens_read(file, &t, &n, &loose, &e) < 0)
		return cli_fail(-1, "%s: token: %s", cmd, e.msg);
	if (n && !(*token = strdup(t[0].token))) {
		sc_tokens_free(t, n);
		return cli_fail(-1, "out of memory");
	}
	sc_tokens_free(t, n);
	if (!*token && explicit_file)
		return cli_fail(-1, "%s: --token-file %s holds no token", cmd, file);
	if (loose)
		cli_warn("the token file %s is readable by others (chmod 600 %s)", file, file);
	snprintf(source, len, "the token from %s%s", explicit_file ? "--token-file " : "models.ini token-file ", file);
	return 0;
}

int cli_target_base(const struct registry *reg, const char *cmd, const char *url, const char *name, bool proxy,
		    char *base, size_t len)
{
	if (url)
		snprintf(base, len, "%s", url);
	else {
		const struct reg_model *m = sc_registry_model(reg, name);
		int port = m ? (proxy ? m->proxy_port : m->port) : 0;
		if (!m) {
			sc_err ne;
			return cli_fail(1, "%s: %s", cmd, (sc_registry_no_model(reg, name, &ne), ne.msg));
		}
		if (!port)
			return cli_fail(1, "%s: %s: %s", cmd, name, proxy ? "the model has no proxy-port" : "the model has no port");
		snprintf(base, len, "http://%s:%d", proxy ? reg->proxy_host : reg->host, port);
	}
	size_t bl = strlen(base);
	while (bl && base[bl - 1] == '/')
		base[--bl] = '\0';
	return 0;
}
