#include "common.h"
#include "../lib/base/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OPT_HELP 'h'
#define OPT_COMPLETION 0x7fff

/* One line on stderr: whatever a message quotes (a file name, a server's
 * answer) cannot move the cursor or end the line. */
static void message(const char *prefix, const char *fmt, va_list ap)
{
	char *text = NULL;
	if (vasprintf(&text, fmt, ap) < 0) {
		fprintf(stderr, "%s(out of memory)\n", prefix);
		return;
	}
	fprintf(stderr, "%s%s\n", prefix, cli_safe(text));
	free(text);
}

int cli_fail(int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	message("sparkctl: ", fmt, ap);
	va_end(ap);
	return status;
}

void cli_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	message("sparkctl: warning: ", fmt, ap);
	va_end(ap);
}

bool cli_color(FILE *f)
{
	const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");
	if (nc && nc[0])
		return false;
	if (term && streq(term, "dumb"))
		return false;
	return isatty(fileno(f));
}

int cli_load_registry(const struct sc_ctx *ctx, struct registry *reg)
{
	sc_err e;
	if (sc_registry_load(ctx->config, reg, &e) < 0)
		return cli_fail(1, "%s", e.msg);
	for (size_t i = 0; i < reg->n_warnings; i++)
		cli_warn("%s", reg->warnings[i]);
	return 0;
}

int cli_number(const char *opt, const char *arg, long min, long max, long *ret)
{
	char *end;
	errno = 0;
	long v = strtol(arg, &end, 10);
	if (end == arg || *end || errno || v < min || v > max)
		return cli_fail(-2, "--%s: \"%s\" is not a number from %ld to %ld", opt, arg, min, max);
	*ret = v;
	return 0;
}

/* text at column `indent`, words wrapped so no line passes 80 columns;
 * the first line starts at column `at` */
void cli_wrap(FILE *f, const char *text, size_t at, size_t indent)
{
	size_t col = at;
	for (const char *p = text; *p;) {
		size_t n = strcspn(p, " ");
		if (col > indent && col + 1 + n > 80) {
			fprintf(f, "\n%*s", (int)indent, "");
			col = indent;
		} else if (col > at || (col == at && p != text))
			fputc(' ', f), col++;
		fprintf(f, "%.*s", (int)n, p);
		col += n;
		p += n;
		while (*p == ' ')
			p++;
	}
	fputc('\n', f);
}

void cli_help(const struct sc_command *cmd, FILE *f)
{
	/* help that fits 80 columns: the usage wraps under itself, as git's */
	fputs("usage: sparkctl ", f);
	cli_wrap(f, cmd->usage, 16, 16);
	fputc('\n', f);
	cli_wrap(f, cmd->summary, 0, 0);
	fputs("\nOptions:\n", f);
	for (const struct sc_option *o = cmd->options; o->name; o++) {
		char left[64];
		if (o->id < 256)
			snprintf(left, sizeof left, "-%c, --%s%s%s", o->id, o->name, o->arg ? " " : "", o->arg ? o->arg : "");
		else
			snprintf(left, sizeof left, "    --%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
		fprintf(f, "  %-24s ", left);
		cli_wrap(f, o->help, strlen(left) > 24 ? 3 + strlen(left) : 27, 27);
	}
	fprintf(f, "  %-24s %s\n", "-h, --help", "show this help");
}

/* One line per option for the completion scripts: "--name\tkind\thelp". */
static void completion_helper(const struct sc_command *cmd)
{
	for (const struct sc_option *o = cmd->options; o->name; o++)
		printf("--%s\t%s\t%s\n", o->name, o->has_arg ? (o->complete ? o->complete : "word") : "", o->help);
	printf("--help\t\tshow this help\n");
	if (cmd->operands)
		printf("@operands\t%s\toperands\n", cmd->operands);
}

int cli_parse(const struct sc_command *cmd, int argc, char **argv,
	      int (*set)(void *ud, int id, const char *arg), void *ud, int *ret_optind)
{
	struct option longs[64];
	char shorts[128] = ":h";
	size_t n = 0, s = 2;
	for (const struct sc_option *o = cmd->options; o->name && n < ARRAY_SIZE(longs) - 3; o++) {
		longs[n++] = (struct option){ o->name, o->has_arg, NULL, o->id };
		if (o->id < 256 && s + 3 < sizeof shorts) {
			shorts[s++] = (char)o->id;
			if (o->has_arg == required_argument)
				shorts[s++] = ':';
		}
	}
	shorts[s] = '\0';
	longs[n++] = (struct option){ "help", no_argument, NULL, OPT_HELP };
	longs[n++] = (struct option){ "completion-helper", no_argument, NULL, OPT_COMPLETION };
	longs[n] = (struct option){ 0 };
	optind = 0;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
		if (c == OPT_HELP) {
			cli_help(cmd, stdout);
			return 0;
		}
		if (c == OPT_COMPLETION) {
			completion_helper(cmd);
			return 0;
		}
		if (c == ':') {
			cli_fail(0, "%s: option '%s' needs a value (see 'sparkctl %s --help')", cmd->name,
				 argv[optind - 1], cmd->name);
			return -2;
		}
		if (c == '?') {
			if (optopt)
				cli_fail(0, "%s: unknown option '-%c' (see 'sparkctl %s --help')", cmd->name, optopt, cmd->name);
			else if (startswith(argv[optind - 1], "--config")) {
				cli_fail(0, "%s: --config goes before the command: sparkctl --config FILE %s ...", cmd->name,
					 cmd->name);
			} else {
				cli_fail(0, "%s: unknown option '%s' (see 'sparkctl %s --help')", cmd->name,
					 argv[optind - 1], cmd->name);
				const char *names[64];
				char buf[64][40];
				size_t k = 0;
				for (const struct sc_option *o = cmd->options; o->name && k < ARRAY_SIZE(names); o++, k++) {
					snprintf(buf[k], sizeof buf[k], "--%s", o->name);
					names[k] = buf[k];
				}
				char typed[64];
				snprintf(typed, sizeof typed, "%.*s", (int)strcspn(argv[optind - 1], "="), argv[optind - 1]);
				cli_suggest("option", typed, names, k);
			}
			return -2;
		}
		if (set(ud, c, optarg) < 0)
			return -2;
	}
	*ret_optind = optind;
	return 1;
}

void cli_suggest(const char *what, const char *typed, const char *const *names, size_t n)
{
	char list[512];
	size_t k = sc_suggest(typed, names, n, list, sizeof list);
	if (!k)
		return;
	fprintf(stderr, "\nThe most similar %s%s\n", what, k > 1 ? "s are" : " is");
	for (char *p = strtok(list, ","); p; p = strtok(NULL, ","))
		fprintf(stderr, "\t%s\n", p + (*p == ' '));
}

int cli_dispatch(const struct sc_command *cmd, int argc, char **argv, struct sc_ctx *ctx)
{
	_cleanup_free_ void *opts = calloc(1, cmd->opts_size ? cmd->opts_size : 1);
	int optind_;
	if (!opts)
		return cli_fail(1, "out of memory");
	if (cmd->opts_init)
		memcpy(opts, cmd->opts_init, cmd->opts_size);
	int r = cli_parse(cmd, argc, argv, cmd->set, opts, &optind_);
	if (r <= 0)
		return r < 0 ? 2 : 0;
	int n = argc - optind_;
	if (n < cmd->min_args || (cmd->max_args >= 0 && n > cmd->max_args)) {
		if (cmd->max_args == 0 || (cmd->max_args >= 0 && n > cmd->max_args && !cmd->args_help))
			return cli_fail(2, "%s: unexpected argument '%s' (see 'sparkctl %s --help')", cmd->name,
					argv[optind_ + (cmd->max_args > 0 ? cmd->max_args : 0)], cmd->name);
		return cli_fail(2, "%s: %s (see 'sparkctl %s --help')", cmd->name, cmd->args_help, cmd->name);
	}
	if ((cmd->flags & CMD_REGISTRY) && cli_load_registry(ctx, &ctx->reg))
		return 1;
	r = cmd->run(opts, n, argv + optind_, ctx);
	if (cmd->flags & CMD_REGISTRY)
		sc_registry_done(&ctx->reg);
	return r;
}
