/* Engines: which engine a registry entry is, and the flags that load a
 * checkpoint with it (doc/FACTS.md "Engines"). */
#ifndef SC_ENGINE_H
#define SC_ENGINE_H

#include <stdint.h>

#include "../format/model.h"
#include "../base/registry.h"

enum engine_kind { ENGINE_OTHER, ENGINE_SGLANG, ENGINE_VLLM, ENGINE_LLAMACPP };

/* By the engine's name, else by its command. */
enum engine_kind sc_engine_kind_of(const struct reg_engine *en);

/* How a registered model is started. */
struct launch {
	char **argv;      /* NULL-terminated */
	size_t argc;
	char **env;       /* KEY=VALUE additions (host and script modes), NULL-terminated */
	size_t n_env;
	const char *mode; /* "host", "docker" or "script" */
	char *container;  /* docker: sparkctl-<name> */
	char *dir;        /* the model folder */
};

/* Render the command of model m: the engine's command (or the model's
 * script) split with shell-like quoting first, then {name} {path} {host}
 * {port} {context} {args} substituted inside the words ({args} as a word
 * of its own becomes the plan's flags, then the model's args split
 * likewise), so no value from models.ini ever reaches a shell. plan
 * (plan.h; NULL: none) gives the flags, the context and the GGUF file for
 * {path}. Docker mode wraps it in docker run. */
struct sc_plan;
int sc_engine_launch(const struct registry *reg, const struct reg_model *m, const struct sc_plan *plan,
		     struct launch *ret, sc_err *e);
void sc_launch_done(struct launch *l);

/* The launch as a ready, shell-quoted serve script (the owner's pattern:
 * stable name, port and flags, documented). */
char *sc_launch_script(const struct launch *l, const struct reg_model *m, const char *host);

/* Quote a word for a POSIX shell. */
char *sc_shell_quote(const char *s);

/* The reason engine en cannot load m (its unsupported list names the
 * format or the method), written into buf, or NULL. */
const char *sc_engine_reason(const struct reg_engine *en, const struct sc_model *m, char *buf, size_t len);

#endif
