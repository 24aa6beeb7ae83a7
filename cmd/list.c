/* sparkctl list: the registry, with what is on disk. --names is for shell
 * completion, which runs it on every Tab: it reads models.ini and nothing
 * else. */
#include "common.h"
#include "table.h"
#include "../lib/base/json.h"
#include "../lib/base/text.h"
#include "../lib/format/model.h"
#include "../lib/base/util.h"

#include <jansson.h>
#include <sys/stat.h>

enum { OPT_NAMES = 256, OPT_JSON, OPT_ENGINES };

static const struct sc_option options[] = {
	{ "names", OPT_NAMES, no_argument, NULL, "print the model names alone, one a line", NULL },
	{ "engines", OPT_ENGINES, no_argument, NULL, "print the engine names alone, one a line", NULL },
	{ "json", OPT_JSON, no_argument, NULL, "print JSON", NULL },
	{ 0 },
};

struct opts {
	bool names, json, engines;
};

static int set(void *ud, int id, const char *arg)
{
	struct opts *o = ud;
	if (id == OPT_NAMES)
		o->names = true;
	else if (id == OPT_ENGINES)
		o->engines = true;
	else
		o->json = true;
	return 0;
}

struct row {
	char *dir;
	bool on_disk;
	enum sc_format format;
};

static int collect(const struct registry *reg, struct row *rows)
{
	for (size_t i = 0; i < reg->n_models; i++) {
		struct stat st;
		struct sc_model m;
		sc_err e;
		rows[i].dir = sc_registry_model_dir(reg, &reg->models[i]);
		if (!rows[i].dir)
			return cli_fail(1, "list: out of memory");
		rows[i].on_disk = stat(rows[i].dir, &st) == 0;
		rows[i].format = FMT_UNKNOWN;
		if (!rows[i].on_disk)
			continue;
		int r = S_ISDIR(st.st_mode) ? sc_model_load(rows[i].dir, reg->models[i].path, &m, &e)
					    : sc_model_load_file(rows[i].dir, &m, &e);
		if (r < 0)
			return cli_fail(1, "list: %s", e.msg);
		rows[i].format = m.format;
		sc_model_done(&m);
	}
	return 0;
}

static json_t *port_or_null(int port)
{
	return port ? json_integer(port) : json_null();
}

static int print_json(const struct registry *reg, const struct row *rows)
{
	json_t *models = json_array();
	for (size_t i = 0; models && i < reg->n_models; i++) {
		const struct reg_model *m = &reg->models[i];
		json_t *o = json_pack("{s:s,s:o,s:b,s:s,s:o,s:o,s:o,s:o}", "name", m->name, "path", sc_json_text(rows[i].dir), "on_disk",
				      rows[i].on_disk, "format", sc_format_name(rows[i].format), "engine",
				      sc_json_text(m->engine), "port", port_or_null(m->port),
				      "proxy_port", port_or_null(m->proxy_port), "group", sc_json_text(m->group));
		if (!o || json_array_append_new(models, o) < 0) {
			json_decref(models);
			return cli_fail(1, "list: out of memory");
		}
	}
	json_t *doc = models ? json_pack("{s:o}", "models", models) : NULL;
	if (!doc)
		return cli_fail(1, "list: out of memory");
	json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	putchar('\n');
	json_decref(doc);
	return 0;
}

static void print_table(const struct registry *reg, const struct row *rows)
{
	static const char *const heads[] = { "NAME", "ENGINE", "FORMAT", "ON DISK", "PORT", "PROXY", "GROUP", "PATH" };
	static const unsigned flags[] = { COL_FLEX(3), 0, 0, 0, COL_RIGHT, COL_RIGHT | COL_OPTIONAL,
					  COL_OPTIONAL | COL_FLEX(2), COL_FLEX(1) };
	struct table t;
	table_init(&t, 8, heads, flags);
	for (size_t i = 0; i < reg->n_models; i++) {
		const struct reg_model *m = &reg->models[i];
		char port[8] = "-", proxy[8] = "-";
		if (m->port)
			snprintf(port, sizeof port, "%d", m->port);
		if (m->proxy_port)
			snprintf(proxy, sizeof proxy, "%d", m->proxy_port);
		const char *row[] = { m->name, m->engine, rows[i].on_disk ? sc_format_name(rows[i].format) : "-",
				      rows[i].on_disk ? "yes" : "NO", port, proxy, m->group, rows[i].dir };
		if (table_add(&t, row) < 0)
			break;
	}
	table_print(&t, stdout, table_width(), false);
	table_done(&t);
	printf("%zu model%s\n", reg->n_models, reg->n_models == 1 ? "" : "s");
}

static int run(void *opts, int argc, char **argv, struct sc_ctx *ctx)
{
	struct opts *o = opts;
	int r;
	struct registry *reg = &ctx->reg;
	if (o->engines) {
		for (size_t i = 0; i < reg->n_engines; i++)
			puts(reg->engines[i].name);
		return 0;
	}
	if (!reg->file && !o->names && !o->json) {
		_cleanup_free_ char *looked = sc_registry_where();
		return cli_fail(1, "list: no models.ini was found (looked in %s): copy the example to "
				"~/.config/sparkctl/models.ini (man 5 models.ini)", looked ? looked : "?");
	}
	if (o->names) {
		for (size_t i = 0; i < reg->n_models; i++)
			puts(reg->models[i].name);
		return 0;
	}
	struct row *rows = calloc(reg->n_models ? reg->n_models : 1, sizeof *rows);
	r = rows ? collect(reg, rows) : cli_fail(1, "list: out of memory");
	if (!r && o->json)
		r = print_json(reg, rows);
	else if (!r)
		print_table(reg, rows);
	for (size_t i = 0; rows && i < reg->n_models; i++)
		free(rows[i].dir);
	free(rows);
	return r;
}

const struct sc_command cmd_list = {
	.name = "list",
	.summary = "The registry: every model of models.ini, with what is on disk",
	.usage = "list [--names|--engines] [--json]",
	.options = options,
	.run = run,
	.set = set,
	.opts_size = sizeof(struct opts),
	.min_args = 0,
	.max_args = 0,
	.flags = CMD_REGISTRY,
};
