/* The registry: models.ini (man 5 models.ini), its lookup order and
 * its checks. Errors name file:line; oddities that do not stop the tool are
 * collected as warnings for the caller to print. */
#ifndef SC_REGISTRY_H
#define SC_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct reg_engine {
	char *name;
	char *command, *image, *docker_args, *health;
	long ready_timeout, stop_timeout;
	char **unsupported;  /* quant methods or formats this engine cannot load */
	size_t n_unsupported;
	unsigned unsupported_line;
	char **env;  /* KEY=VALUE words, in order */
	size_t n_env;
	bool ray;    /* distributed = ray: vLLM over a Ray cluster across nodes */
	unsigned line;
};

struct reg_model {
	char *name;
	char *path;  /* as written, '~' expanded */
	char *engine, *group, *args, *image, *script;
	char *file;            /* one checkpoint file inside path (a GGUF of a multi-quant folder) */
	int port, proxy_port;  /* 0: not set */
	long context;          /* 0: not set */
	uint64_t memory;       /* 0: not set */
	double mem_fraction;   /* 0: not set */
	uint64_t overhead;     /* 0: not set */
	long ttl;              /* seconds idle before the proxy stops it; 0: never */
	char **nodes;          /* [node] names in rank order, the head first; none: this box */
	size_t n_nodes;
	unsigned nodes_line;
	long tp, pp;           /* tensor and pipeline parallel sizes; 0: not set */
	int dist_port;         /* where the ranks meet at the head; 0: 29500 */
	char **env;
	size_t n_env;
	unsigned line;
};

/* [node "NAME"]: a box that ranks of a multi-node model run on. */
struct reg_node {
	char *name;
	char *ssh;          /* OpenSSH destination (user@host); NULL for the local node */
	char *addr;         /* the address the ranks use (the CX-7 link) */
	char *ifname;       /* its interface */
	char *ib_hca;       /* RoCE devices for NCCL_IB_HCA; NULL: none */
	char *models_root;  /* NULL: the registry's */
	char *state_dir;    /* NULL: the registry's */
	char *sparkctl;     /* sparkctl on that node (default: on its PATH) */
	bool local;
	unsigned line;
};

/* [proxy]: the front door (sparkctl-proxy(1)); defaults filled in. */
struct reg_proxy {
	char **listen;  /* HOST:PORT words, [::1]:PORT for IPv6 */
	size_t n_listen;
	unsigned listen_line;
	long queue_size, connections;
	long drain_timeout, timeout, upstream_timeout, keepalive, shutdown_timeout;  /* seconds */
	uint64_t body_max;
	uint64_t log_max;  /* the proxy's log file rotates past it */
};

struct registry {
	char *file;  /* NULL: no file, built-in defaults */
	char *models_root;
	uint64_t memory;  /* 0: MemTotal */
	double mem_fraction;
	uint64_t overhead;  /* activations and CUDA graphs beside weights and KV; 0: the default */
	char *host, *proxy_host, *token_file, *state_dir, *engine;
	struct reg_engine *engines;
	size_t n_engines;
	struct reg_model *models;
	size_t n_models;
	struct reg_node *nodes;
	size_t n_nodes;
	struct reg_proxy proxy;
	char **warnings;
	size_t n_warnings;
};

/* Find and load the registry: explicit (--config), else $SPARKCTL_CONFIG,
 * else $XDG_CONFIG_HOME/sparkctl/models.ini (~/.config/...), else
 * /etc/sparkctl/models.ini; with none, built-in defaults. */
int sc_registry_load(const char *explicit_path, struct registry *ret, sc_err *e);
int sc_registry_parse(const char *file, const char *buf, size_t len, struct registry *ret, sc_err *e);
void sc_registry_done(struct registry *r);

const struct reg_model *sc_registry_model(const struct registry *r, const char *name);

/* A model name becomes a file name (state, log): [A-Za-z0-9._:+-], not
 * starting with '-' or '.', at most 128 long. */
bool sc_model_name_valid(const char *name);

/* The longest context sparkctl accepts (models.ini, --context): 2^30
 * tokens, a hundred times the longest any model offers (10M, Llama-4
 * Scout); past it the KV arithmetic of a hostile value proves nothing. */
#define SC_MAX_CONTEXT (1L << 30)
#define SC_MODEL_NAME_RULE "a model name is letters, digits and . _ : + - (at most 128), not starting with - or ."
const struct reg_engine *sc_registry_engine(const struct registry *r, const char *name);
const struct reg_node *sc_registry_node(const struct registry *r, const char *name);

/* SC_ENOTFOUND with "NAME: no such [model] in FILE", and the registered
 * names close to it ("did you mean"). */
int sc_registry_no_model(const struct registry *r, const char *name, sc_err *e);
/* The registered names close to name, joined by ", " into buf. */
size_t sc_registry_suggest(const struct registry *r, const char *name, char *buf, size_t len);

/* Absolute folder of a model: path if absolute, else models-root/path. */
/* Where model m is: its folder, or its checkpoint file where path names a
 * file or file is set. */
char *sc_registry_model_dir(const struct registry *r, const struct reg_model *m);

/* Is format or quant method in the engine's unsupported list? Returns the
 * matching entry or NULL. */
const char *sc_registry_unsupported(const struct reg_engine *en, const char *format, const char *quant_method);

/* Append [model "NAME"] with path (and engine, if the file has it) to the
 * user's models.ini, keeping everything else in it as it was; the file is
 * created if missing. A name that exists is an error. */
int sc_registry_append_model(const char *file, const char *name, const char *path, const char *engine, sc_err *e);

/* The file --register writes: the one the lookup would read, never the
 * system-wide one. */
char *sc_registry_user_file(const char *explicit_path);


/* Where models.ini is looked for, in words ("A and B"), for messages when
 * none was found. */
char *sc_registry_where(void);

/* Split HOST:PORT ([V6]:PORT) into host (brackets removed) and port;
 * <0 when it is not one. */
int sc_listen_split(const char *word, char *host, size_t host_len, int *port);

/* For registry_file.c: the engines sparkctl knows without a file, and the
 * defaults of everything a file may leave out. */
int sc_registry_builtin_engines(struct registry *r);
int sc_registry_fill_defaults(struct registry *r);
/* The command of a built-in engine, or NULL. */
const char *sc_registry_builtin_command(const char *engine);

#endif
