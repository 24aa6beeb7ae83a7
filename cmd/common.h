/* What the commands share: the option tables (which also render --help and
 * feed shell completion), the command table entry, and printing helpers. */
#ifndef SC_COMMON_H
#define SC_COMMON_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "../lib/base/registry.h"

struct sc_ctx {
	const char *config;  /* --config FILE */
	struct registry reg; /* loaded by the dispatcher for CMD_REGISTRY */
};

struct sc_option {
	const char *name;    /* long name */
	int id;              /* short letter, or a value >= 256 */
	int has_arg;         /* no_argument / required_argument */
	const char *arg;     /* name of the argument in --help */
	const char *help;
	const char *complete;/* completion of the argument: "file", "dir", "model", or "a b c" */
};

enum { CMD_REGISTRY = 1 << 0 };  /* the dispatcher loads models.ini into ctx->reg */

/* A command as data (systemd's verbs[] and dispatch_verb): the dispatcher
 * parses the options into a zeroed opts struct (from opts_init), checks the
 * number of operands, loads the registry, then calls run with the operands
 * only. Every command opens the same way and says the same things. */
struct sc_command {
	const char *name;
	const char *summary;  /* one line: --help, sparkctl --help, the completions */
	const char *usage;    /* the SYNOPSIS line, without "sparkctl " */
	const struct sc_option *options;  /* ends with { 0 } */
	const char *operands;  /* completion of the operands: "model", "model file", or NULL */
	int min_args, max_args;  /* operands; max -1: any number */
	const char *args_help;   /* what the operands are, for a wrong count ("name one model") */
	unsigned flags;          /* CMD_REGISTRY */
	size_t opts_size;
	const void *opts_init;   /* the defaults, opts_size bytes; NULL: zero */
	int (*set)(void *opts, int id, const char *arg);
	int (*run)(void *opts, int argc, char **argv, struct sc_ctx *ctx);
};

/* Run cmd with argv (argv[0] is its name): the one opening of every
 * command. Returns the exit status. */
int cli_dispatch(const struct sc_command *cmd, int argc, char **argv, struct sc_ctx *ctx);

/* Parse argv with the command's options. set() is called for each option
 * and returns <0 for a bad value. Returns <0 usage error (message printed),
 * 0 when the command must exit 0 now (--help, --completion-helper), >0 to
 * continue; *ret_optind is where the operands begin. */
int cli_parse(const struct sc_command *cmd, int argc, char **argv,
	      int (*set)(void *ud, int id, const char *arg), void *ud, int *ret_optind);

void cli_help(const struct sc_command *cmd, FILE *f);

/* text from column `at`, wrapped under column `indent` so that no line
 * passes 80 columns */
void cli_wrap(FILE *f, const char *text, size_t at, size_t indent);

/* The exit status when the reader of stdout went away: quiet, as git's
 * death by SIGPIPE (128 + 13). */
#define CLI_EXIT_PIPE 141

/* "sparkctl: <fmt>" on stderr, returns the exit status given. */
int cli_fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Load models.ini by the lookup order, printing warnings; prints and
 * returns 1 on error. */
int cli_load_registry(const struct sc_ctx *ctx, struct registry *reg);

/* "Did you mean": the one helper for commands, options and names. Prints
 * "\nThe most similar <what> is|are\n\t..." on stderr when any is close. */
void cli_suggest(const char *what, const char *typed, const char *const *names, size_t n);

/* s for a terminal or a text report: control characters escaped ("\e",
 * "\xNN"), invalid UTF-8 as U+FFFD; "-" for NULL. The copy lives for the
 * next 15 calls: enough for the arguments of one printf. */
const char *cli_safe(const char *s);

/* Colour on this stream? (a terminal, NO_COLOR unset, TERM not dumb) */
bool cli_color(FILE *f);

/* Parse a non-negative number for an option; prints a usage error. */
int cli_number(const char *opt, const char *arg, long min, long max, long *ret);

/* The result of serve, switch and stop, for --json. */
struct action_report {
	const char *name, *action;  /* action: started, switched, stopped, none */
	bool ok;
	int pid, port;
	const char *health, *error;
	long long elapsed_ms;
	char **stopped;
	size_t n_stopped;
};
int cli_report(const struct action_report *a, bool json);
json_t *cli_report_json(const struct action_report *a);
/* Print and release a JSON document (NULL: out of memory, exit 1). */
int cli_print_json(json_t *o);

/* Progress while a model starts (on a terminal only); ud is the name. */
void cli_progress(void *ud, int64_t elapsed_ms, const char *last_line);
void cli_progress_done(void);

struct serve_result;
/* The log tail of a failed start, on stderr. */
void cli_print_tail(const char *name, const struct serve_result *r);
void cli_print_warnings(const struct serve_result *r);

extern const struct sc_command cmd_scan, cmd_inspect, cmd_list, cmd_serve, cmd_switch, cmd_stop, cmd_ps, cmd_logs, cmd_test, cmd_probe, cmd_download, cmd_proxy;

/* The base URL of a target: url itself (without trailing slashes), else
 * the model's port on host, or its proxy-port on proxy-host. Prints why
 * not and returns 1 when the model is unknown or has no such port. */
int cli_target_base(const struct registry *reg, const char *cmd, const char *url, const char *name, bool proxy,
		    char *base, size_t len);

/* The bearer token for an engine or proxy and its source, for messages. */
int cli_token(const char *cmd, const char *explicit_file, const struct registry *reg, char **token, char *source, size_t len);

#endif
