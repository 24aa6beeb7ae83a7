/* sparkctl logs: the log of a model sparkctl started. */
#include "common.h"
#include "../lib/base/time.h"
#include "../lib/engine/proc.h"
#include "../lib/ops/serve.h"
#include "../lib/base/util.h"
#include "../lib/engine/remote.h"

#include <fcntl.h>
#include <sys/stat.h>

enum { OPT_LINES = 'n', OPT_FOLLOW = 'f', OPT_NODE = 256 };

static const struct sc_option options[] = {
	{ "lines", OPT_LINES, required_argument, "N", "the last N lines (default 50)", "word" },
	{ "follow", OPT_FOLLOW, no_argument, NULL, "keep printing what is written, like tail -f", NULL },
	{ "node", OPT_NODE, required_argument, "NODE", "the log of the model's rank on that node (multi-node models)", "word" },
	{ 0 },
};

struct opts {
	long lines;
	bool follow;
	const char *node;
};

static int set(void *ud, int id, const char *arg)
{
	struct opts *o = ud;
	if (id == OPT_FOLLOW) {
		o->follow = true;
		return 0;
	}
	if (id == OPT_NODE) {
		o->node = arg;
		return 0;
	}
	return cli_number("lines", arg, 0, 1000000, &o->lines);
}

/* Print what is appended to path, until interrupted; a log replaced by a
 * new start is followed from its beginning. */
static int follow(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st, now;
	if (fd < 0 || fstat(fd, &st) < 0)
		return cli_fail(1, "logs: %s: %s", path, strerror(errno));
	lseek(fd, 0, SEEK_END);
	for (;;) {
		char buf[65536];
		ssize_t n = read(fd, buf, sizeof buf);
		if (n > 0) {
			if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n || fflush(stdout) != 0)
				break;
			continue;
		}
		if (stat(path, &now) == 0 && (now.st_ino != st.st_ino || now.st_size < lseek(fd, 0, SEEK_CUR))) {
			close(fd);
			if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0)
				return cli_fail(1, "logs: %s: %s", path, strerror(errno));
			continue;
		}
		sc_sleep_ms(200);
	}
	close(fd);
	return 1;
}

/* logs --node: the rank's log on its node, over SSH (ranks are numbered
 * in the order of the model's nodes). */
static int node_log(const struct registry *reg, const char *name, const struct opts *o)
{
	const struct reg_model *rm = sc_registry_model(reg, name);
	const struct reg_node *n = sc_registry_node(reg, o->node);
	size_t rank = 0;
	while (rm && rank < rm->n_nodes && !streq(rm->nodes[rank], o->node))
		rank++;
	if (!rm || !n || rank == rm->n_nodes)
		return cli_fail(1, "logs: %s has no rank on a node \"%s\"%s", name, o->node,
				rm && rm->n_nodes ? "" : " (it is no multi-node model)");
	if (o->follow)
		return cli_fail(1, "logs: --follow reads local logs only; on %s: ssh %s tail -f LOG", n->name,
				n->ssh ? n->ssh : "localhost");
	struct run_state st;
	char *log = NULL;
	if (sc_state_read(reg->state_dir, name, &st, NULL) == 0) {
		for (size_t i = 0; i < st.n_ranks && !log; i++)
			if (streq(st.ranks[i].node, n->name))
				log = st.ranks[i].log ? strdup(st.ranks[i].log) : NULL;
		sc_run_state_done(&st);
	}
	if (!log && asprintf(&log, "%s/logs/%s.rank%zu.log", n->state_dir ? n->state_dir : reg->state_dir, name, rank) < 0)
		return cli_fail(1, "out of memory");
	char *tail = rank ? sc_node_tail(n, log, o->lines ? (unsigned)o->lines : 50) : NULL;
	free(log);
	if (!rank)
		return cli_fail(1, "logs: %s is the head of %s: sparkctl logs %s", n->name, name, name);
	fputs(tail ? tail : "", stdout);
	free(tail);
	return 0;
}

static int run(void *opts, int argc, char **argv, struct sc_ctx *ctx)
{
	struct opts *o = opts;
	int r;
	const char *name = argv[0];
	struct registry *reg = &ctx->reg;
	struct run_state st = { 0 };
	sc_err e;
	if (o->node)
		return node_log(reg, name, o);
	if (sc_state_read(reg->state_dir, name, &st, &e) < 0) {
		/* not running: the log of its last run, if there is one; "proxy"
		 * is the proxy's own log unless a model has that name */
		if (!sc_registry_model(reg, name) && !streq(name, "proxy")) {
			sc_registry_no_model(reg, name, &e);
			return cli_fail(1, "logs: %s", e.msg);
		}
		st.log = sc_state_log_path(reg->state_dir, name, &e);
		if (!st.log || access(st.log, R_OK) < 0) {
			sc_run_state_done(&st);
			return cli_fail(1, "logs: %s has no log yet", name);
		}
	}
	if (st.container && o->follow) {
		char *dargv[] = { "docker", "logs", "-f", st.container, NULL };
		fflush(stdout);
		execvp(dargv[0], dargv);
		r = cli_fail(1, "logs: docker: %s", strerror(errno));
	} else {
		char *tail = o->lines ? sc_log_tail(&st, (unsigned)o->lines) : strdup("");
		if (tail)
			fputs(tail, stdout);
		free(tail);
		r = o->follow ? follow(st.log) : 0;
	}
	sc_run_state_done(&st);
	return r;
}

const struct sc_command cmd_logs = {
	.name = "logs",
	.summary = "The log of a model: the last lines, or follow it",
	.usage = "logs [-n N] [-f] [--node NODE] NAME",
	.options = options,
	.operands = "model",
	.run = run,
	.set = set,
	.opts_size = sizeof(struct opts),
	.opts_init = &(const struct opts){ .lines = 50 },
	.min_args = 1,
	.max_args = 1,
	.args_help = "name one model",
	.flags = CMD_REGISTRY,
};
