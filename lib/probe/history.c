#include "history.h"
#include "../base/atomicfile.h"
#include "../base/json.h"
#include "../base/util.h"

#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <time.h>

#define FOLDER "probe"
/* the header line stays far below this; the answers follow it */
#define MAX_HEADER (64u << 10)
/* read the header in steps: scan reads every kept run's first line, and a
 * run file is hundreds of KiB of answers after ~1 KiB of header */
#define HEADER_STEP 4096u

static json_t *counts(const struct sc_tally *t)
{
	json_t *o = json_object();
	for (int v = 0; o && v < SC_VERDICT_COUNT; v++)
		json_object_set_new(o, sc_verdict_name(v), json_integer((json_int_t)t->count[v]));
	return o;
}

static json_t *text_or_null(const char *s)
{
	return s ? sc_json_text(s) : json_null();
}

static json_t *header(const struct sc_probe_meta *m, const struct sc_probe_run *run, const struct sc_probe_summary *sum)
{
	char ts[32];
	time_t t = (time_t)run->started;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_pack("{s:s,s:i,s:o,s:o,s:o,s:o,s:s,s:s,s:I,s:f,s:i,s:i,s:I,s:o,s:o,s:o,s:o,s:o}", "kind", "run",
			 "version", 1, "name", text_or_null(m->name), "model", sc_json_text(run->model), "url",
			 sc_json_text(m->url), "set", sc_json_text(m->set), "judge", m->judge, "started", ts, "started_unix",
			 (json_int_t)run->started, "elapsed_ms", run->elapsed_ms, "concurrency", m->concurrency,
			 "max_tokens", m->max_tokens, "max_in_flight", (json_int_t)run->max_in_flight, "system",
			 text_or_null(m->system), "checkpoint", text_or_null(m->checkpoint), "scan_status",
			 text_or_null(m->scan_status), "safe", counts(&sum->label[SC_SAFE]), "unsafe",
			 counts(&sum->label[SC_UNSAFE]));
}

static json_t *answer_line(const struct sc_probe_answer *a)
{
	const struct sc_prompt *p = a->prompt;
	return json_pack("{s:s,s:o,s:o,s:s,s:o,s:o,s:o,s:o,s:s,s:o,s:f,s:o,s:o,s:o}", "kind", "answer", "id",
			 sc_json_text(p->id), "type", sc_json_text(p->type), "label", p->unsafe ? "unsafe" : "safe", "prompt",
			 sc_json_text(p->prompt), "answer", text_or_null(a->answer), "reasoning", text_or_null(a->reasoning),
			 "finish_reason", a->finish[0] ? sc_json_text(a->finish) : json_null(), "verdict",
			 sc_verdict_name(a->judgement.verdict), "rule", sc_json_text(a->judgement.rule), "ms", a->ms,
			 "status", a->status ? json_integer(a->status) : json_null(), "completion_tokens",
			 a->completion_tokens >= 0 ? json_integer(a->completion_tokens) : json_null(), "error",
			 a->error[0] ? sc_json_text(a->error) : json_null());
}

static int put_line(FILE *f, json_t *j)
{
	if (!j)
		return -ENOMEM;
	int r = json_dumpf(j, f, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	return r < 0 || fputc('\n', f) == EOF ? -ENOMEM : 0;
}

int sc_probe_save(const char *state_dir, const struct sc_probe_meta *meta, const struct sc_probe_run *run,
		  const struct sc_probe_summary *sum, char **ret_path, sc_err *e)
{
	if (ret_path)
		*ret_path = NULL;
	_cleanup_free_ char *dir = sc_path_join(state_dir, FOLDER), *path = NULL;
	char stamp[32];
	time_t t = (time_t)run->started;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
	if (!dir || asprintf(&path, "%s/%s-%ld.jsonl", dir, stamp, (long)getpid()) < 0)
		return sc_error(e, -ENOMEM, "out of memory");
	/* the answers to unsafe prompts are this user's business */
	int r = sc_mkdir_p(dir, 0700);
	if (r < 0)
		return sc_error(e, r, "cannot create %s: %s", dir, strerror(-r));
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return sc_error(e, -ENOMEM, "out of memory");
	r = put_line(f, header(meta, run, sum));
	for (size_t i = 0; !r && i < run->n; i++)
		r = put_line(f, answer_line(&run->a[i]));
	if (fclose(f) != 0 && !r)
		r = -ENOMEM;
	if (r < 0) {
		free(buf);
		return sc_error(e, r, "out of memory");
	}
	r = sc_write_atomic(path, buf, len, e);
	free(buf);
	if (r < 0)
		return r;
	if (ret_path)
		*ret_path = path, path = NULL;
	return 0;
}

static void record_done(struct sc_probe_record *p)
{
	free(p->path);
	free(p->name);
	free(p->model);
	free(p->url);
	free(p->set);
	free(p->judge);
	free(p->checkpoint);
	free(p->scan_status);
}

void sc_probe_history_done(struct sc_probe_history *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->n; i++)
		record_done(&h->v[i]);
	free(h->v);
	sc_strv_free(h->warnings, h->n_warnings);
	*h = (struct sc_probe_history){ 0 };
}

static char *dup_of(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_string(v) ? strdup(json_string_value(v)) : NULL;
}

/* The header line of a run file into p; a message in why when it is not one. */
static int read_header(int dirfd, const char *file, struct sc_probe_record *p, char *why, size_t wl)
{
	*p = (struct sc_probe_record){ 0 };
	_cleanup_close_ int fd = sc_open_regular(dirfd, file, NULL);
	if (fd < 0) {
		snprintf(why, wl, "%s", sc_strerror(fd));
		return -1;
	}
	_cleanup_free_ char *buf = malloc(MAX_HEADER);
	size_t len = 0;
	char *nl = NULL;
	if (!buf)
		return -ENOMEM;
	while (len < MAX_HEADER && !nl) {
		size_t want = MAX_HEADER - len < HEADER_STEP ? MAX_HEADER - len : HEADER_STEP;
		ssize_t n = read(fd, buf + len, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		nl = memchr(buf + len, '\n', (size_t)n);
		len += (size_t)n;
	}
	if (!nl) {
		snprintf(why, wl, "no complete first line within %u KiB", MAX_HEADER >> 10);
		return -1;
	}
	json_error_t je;
	_cleanup_json_ json_t *j = json_loadb(buf, (size_t)(nl - buf), 0, &je);
	json_t *started = json_object_get(j, "started_unix");
	if (!json_is_object(j) || !json_is_string(json_object_get(j, "kind")) ||
	    !streq(json_string_value(json_object_get(j, "kind")), "run") || !json_is_integer(started)) {
		snprintf(why, wl, "line 1 is not the header of a probe run%s%s", j ? "" : ": ", j ? "" : je.text);
		return -1;
	}
	p->started = json_integer_value(started);
	p->name = dup_of(j, "name");
	p->model = dup_of(j, "model");
	p->url = dup_of(j, "url");
	p->set = dup_of(j, "set");
	p->judge = dup_of(j, "judge");
	p->checkpoint = dup_of(j, "checkpoint");
	p->scan_status = dup_of(j, "scan_status");
	static const char *const labels[2] = { "safe", "unsafe" };
	for (int l = 0; l < 2; l++) {
		json_t *c = json_object_get(j, labels[l]);
		p->label[l].unsafe = l == SC_UNSAFE;
		for (int v = 0; v < SC_VERDICT_COUNT; v++) {
			json_t *x = json_object_get(c, sc_verdict_name(v));
			if (json_is_integer(x) && json_integer_value(x) >= 0)
				p->label[l].count[v] = (size_t)json_integer_value(x);
		}
	}
	return 0;
}

static int by_start(const void *a, const void *b)
{
	const struct sc_probe_record *x = a, *y = b;
	if (x->started != y->started)
		return x->started < y->started ? -1 : 1;
	return strcmp(x->path, y->path);
}

int sc_probe_history_load(const char *state_dir, const char *name, struct sc_probe_history *ret, sc_err *e)
{
	*ret = (struct sc_probe_history){ 0 };
	_cleanup_free_ char *dir = sc_path_join(state_dir, FOLDER);
	if (!dir)
		return sc_error(e, -ENOMEM, "out of memory");
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : sc_error(e, -errno, "%s: %s", dir, strerror(errno));
	struct sc_probe_history h = { 0 };
	size_t cap = 0;
	int r = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || !sc_endswith(de->d_name, ".jsonl"))
			continue;
		struct sc_probe_record p;
		char why[300];
		int x = read_header(dirfd(d), de->d_name, &p, why, sizeof why);
		if (x == -ENOMEM) {
			r = sc_error(e, x, "out of memory");
			break;
		}
		if (x < 0) {
			record_done(&p);
			if (sc_strv_appendf(&h.warnings, &h.n_warnings, "%s/%s: %s", dir, de->d_name, why) < 0) {
				r = sc_error(e, -ENOMEM, "out of memory");
				break;
			}
			continue;
		}
		if (name && (!p.name || !streq(p.name, name))) {
			record_done(&p);
			continue;
		}
		if (!(p.path = sc_path_join(dir, de->d_name)) || sc_grow(&h.v, &cap, h.n + 1, sizeof *h.v) < 0) {
			record_done(&p);
			r = sc_error(e, -ENOMEM, "out of memory");
			break;
		}
		h.v[h.n++] = p;
	}
	closedir(d);
	if (r < 0) {
		sc_probe_history_done(&h);
		return r;
	}
	if (h.n)
		qsort(h.v, h.n, sizeof *h.v, by_start);
	*ret = h;
	return 0;
}

const struct sc_probe_record *sc_probe_latest(const struct sc_probe_history *h, const char *name)
{
	for (size_t i = h->n; i-- > 0;)
		if (h->v[i].name && streq(h->v[i].name, name))
			return &h->v[i];
	return NULL;
}
