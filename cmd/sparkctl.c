/* sparkctl: global options, the command table, help and dispatch. */
#include "common.h"
#include "../lib/base/util.h"

#include <errno.h>
#include <locale.h>
#include <signal.h>
#include <string.h>

#ifndef SPARKCTL_VERSION
#define SPARKCTL_VERSION "0.0.0"
#endif

static const struct sc_command *const commands[] = {
	&cmd_scan,
	&cmd_inspect,
	&cmd_list,
	&cmd_serve,
	&cmd_switch,
	&cmd_stop,
	&cmd_ps,
	&cmd_logs,
	&cmd_test,
	&cmd_probe,
	&cmd_proxy,
	&cmd_download,
};

static void usage(FILE *f)
{
	fputs("usage: sparkctl [--config FILE] [--version] [--help] <command> [<args>]\n\n"
	      "Runs a private LLM inference box: the true inventory of its checkpoints,\n"
	      "what fits in memory, and how to serve them.\n\nCommands:\n", f);
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		fprintf(f, "  %-10s ", commands[i]->name);
		cli_wrap(f, commands[i]->summary, 13, 13);
	}
	fputs("\nGlobal options:\n"
	      "  --config FILE   the registry (default: $SPARKCTL_CONFIG, then\n"
	      "                  $XDG_CONFIG_HOME/sparkctl/models.ini, then\n"
	      "                  /etc/sparkctl/models.ini)\n"
	      "  --version       print the version\n"
	      "  --help          this text; 'sparkctl help COMMAND' for one command\n", f);
}

static const struct sc_command *find_command(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (streq(commands[i]->name, name))
			return commands[i];
	return NULL;
}

static int unknown_command(const char *name)
{
	const char *names[ARRAY_SIZE(commands)];
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		names[i] = commands[i]->name;
	cli_fail(0, "'%s' is not a sparkctl command. See 'sparkctl --help'.", name);
	cli_suggest("command", name, names, ARRAY_SIZE(commands));
	return 2;
}

/* stdout carries the data: a full disk or a closed pipe must not pass as
 * success. */
static int finish_stdout(int status)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (errno == EPIPE)
			return CLI_EXIT_PIPE;
		return cli_fail(status ? status : 1, "error writing to standard output: %s", strerror(errno));
	}
	return status;
}

int main(int argc, char **argv)
{
	struct sc_ctx ctx = { 0 };
	int i = 1;
	setlocale(LC_ALL, "");
	signal(SIGPIPE, SIG_IGN);
	sc_malloc_keep_freed();
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		if (streq(a, "--version")) {
			printf("sparkctl %s\n", SPARKCTL_VERSION);
			return finish_stdout(0);
		} else if (streq(a, "--help") || streq(a, "-h")) {
			usage(stdout);
			return finish_stdout(0);
		} else if (streq(a, "--config")) {
			if (++i >= argc)
				return cli_fail(2, "--config needs a file");
			ctx.config = argv[i];
		} else if (startswith(a, "--config=")) {
			ctx.config = a + 9;
		} else if (streq(a, "--list-cmds") || streq(a, "--list-cmds=summary")) {
			/* the completions ask the binary, as git-completion asks
			 * git --list-cmds: no shell keeps a list of its own */
			bool summary = streq(a, "--list-cmds=summary");
			for (size_t k = 0; k < ARRAY_SIZE(commands); k++)
				printf(summary ? "%s\t%s\n" : "%s\n", commands[k]->name, commands[k]->summary);
			if (summary)
				printf("help\tShow the help of a command\n");
			return finish_stdout(0);
		} else {
			cli_fail(0, "unknown option '%s'", a);
			usage(stderr);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	const char *name = argv[i];
	if (streq(name, "help")) {
		if (i + 1 >= argc) {
			usage(stdout);
			return finish_stdout(0);
		}
		const struct sc_command *c = find_command(argv[i + 1]);
		if (!c)
			return unknown_command(argv[i + 1]);
		cli_help(c, stdout);
		return finish_stdout(0);
	}
	const struct sc_command *c = find_command(name);
	if (!c)
		return unknown_command(name);
	return finish_stdout(cli_dispatch(c, argc - i, argv + i, &ctx));
}
