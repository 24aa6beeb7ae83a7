/* Output shared by serve, switch and stop: the action report (human or
 * JSON) and the one-line progress shown on a terminal while waiting. */
#include "common.h"
#include "../lib/base/json.h"
#include "../lib/base/text.h"
#include "../lib/base/util.h"

#include <jansson.h>
#include <unistd.h>

void cli_progress(void *ud, int64_t elapsed_ms, const char *last_line)
{
	const char *name = ud;
	char line[512];
	int n = snprintf(line, sizeof line, "[%4llds] %s: starting", (long long)(elapsed_ms / 1000), name);
	if (last_line && *last_line && n > 0 && (size_t)n < sizeof line)
		snprintf(line + n, sizeof line - (size_t)n, " | %s", last_line);
	/* one line, never wrapping: 100 columns */
	fprintf(stderr, "\r\033[K%.100s", line);
	fflush(stderr);
}

void cli_progress_done(void)
{
	fputs("\r\033[K", stderr);
}

json_t *cli_report_json(const struct action_report *a)
{
	json_t *stopped = json_array();
	for (size_t i = 0; stopped && i < a->n_stopped; i++)
		json_array_append_new(stopped, sc_json_text(a->stopped[i]));
	return json_pack("{s:o,s:b,s:s,s:o,s:o,s:o,s:I,s:o,s:o}", "name", sc_json_text(a->name), "ok", a->ok, "action", a->action,
			 "pid", a->pid > 0 ? json_integer(a->pid) : json_null(), "port",
			 a->port ? json_integer(a->port) : json_null(), "health",
			 a->health ? json_string(a->health) : json_null(), "elapsed_ms", (json_int_t)a->elapsed_ms,
			 "stopped", stopped ? stopped : json_array(), "error", sc_json_text(a->error));
}

int cli_print_json(json_t *o)
{
	if (!o)
		return cli_fail(1, "out of memory");
	json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	putchar('\n');
	json_decref(o);
	return 0;
}

int cli_report(const struct action_report *a, bool json)
{
	if (json && cli_print_json(cli_report_json(a)))
		return 1;
	return a->ok ? 0 : 1;
}

/* A few printf arguments at once each get their own copy; the oldest is
 * reused after RING calls. */
#define RING 16
const char *cli_safe(const char *s)
{
	static char *ring[RING];
	static unsigned next;
	if (!s)
		return "-";
	char *t = sc_term_escape(s, false);
	if (!t)
		return "?";
	free(ring[next % RING]);
	ring[next++ % RING] = t;
	return t;
}
