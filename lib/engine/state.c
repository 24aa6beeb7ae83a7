#include "state.h"
#include "../base/json.h"
#include "../base/text.h"
#include "../base/atomicfile.h"
#include "../base/util.h"

#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <sys/file.h>
#include <sys/stat.h>

static char *sub(const char *state_dir, const char *folder, const char *name, const char *ext, sc_err *e)
{
	char *dir, *p = NULL;
	if (asprintf(&dir, "%s/%s", state_dir, folder) < 0)
		return sc_error(e, -ENOMEM, "out of memory"), NULL;
	int r = sc_mkdir_p(dir, 0700);  /* state holds PIDs and logs of this user */
	if (r < 0)
		sc_error(e, r, "%s: %s", dir, sc_strerror(r));
	else if (name && asprintf(&p, "%s/%s%s", dir, name, ext) < 0) {
		sc_error(e, -ENOMEM, "out of memory");
		p = NULL;
	} else if (!name)
		p = TAKE_PTR(dir);
	free(dir);
	return p;
}

char *sc_state_log_path(const char *state_dir, const char *name, sc_err *e)
{
	return sub(state_dir, "logs", name, ".log", e);
}

static json_t *str_or_null(const char *s)
{
	return sc_json_text(s);
}

int sc_state_write(const char *state_dir, const struct run_state *s, sc_err *e)
{
	_cleanup_free_ char *path = sub(state_dir, "run", s->name, ".json", e), *text = NULL;
	if (!path)
		return -EIO;
	json_t *j = json_pack("{s:o,s:o,s:s,s:I,s:I,s:I,s:o,s:o,s:i,s:o,s:o,s:I}", "name", str_or_null(s->name), "engine",
			      str_or_null(s->engine), "mode", s->mode, "pid", (json_int_t)s->pid, "pgid",
			      (json_int_t)s->pgid, "start_time", (json_int_t)s->start_time, "container",
			      str_or_null(s->container), "host", str_or_null(s->host), "port", s->port, "log",
			      str_or_null(s->log), "started_at", str_or_null(s->started_at), "started_unix",
			      (json_int_t)s->started_unix);
	if (j && s->n_ranks) {
		json_t *ranks = json_array();
		for (size_t i = 0; ranks && i < s->n_ranks; i++)
			json_array_append_new(ranks, json_pack("{s:i,s:o,s:I,s:I,s:o}", "rank", s->ranks[i].rank, "node",
							       str_or_null(s->ranks[i].node), "pid", (json_int_t)s->ranks[i].pid,
							       "start_time", (json_int_t)s->ranks[i].start_time, "log",
							       str_or_null(s->ranks[i].log)));
		json_object_set_new(j, "ranks", ranks ? ranks : json_array());
		json_object_set_new(j, "watcher", json_integer(s->watcher));
	}
	if (!j || !(text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER))) {
		json_decref(j);
		return sc_error(e, -ENOMEM, "out of memory");
	}
	json_decref(j);
	return sc_write_atomic(path, text, strlen(text), e);
}

static char *dup_str(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_string(v) ? strdup(json_string_value(v)) : NULL;
}

int sc_state_read(const char *state_dir, const char *name, struct run_state *ret, sc_err *e)
{
	*ret = (struct run_state){ 0 };
	_cleanup_free_ char *path = NULL;
	if (asprintf(&path, "%s/run/%s.json", state_dir, name) < 0)
		return sc_error(e, -ENOMEM, "out of memory");
	if (access(path, F_OK) < 0)
		return sc_error(e, -ENOENT, "%s is not running (no %s)", name, path);
	_cleanup_json_ json_t *j = NULL;
	int r = sc_json_load(path, 1 << 20, &j, e);
	if (r < 0)
		return r;
	struct run_state s = {
		.name = dup_str(j, "name"), .engine = dup_str(j, "engine"), .mode = dup_str(j, "mode"),
		.container = dup_str(j, "container"), .host = dup_str(j, "host"), .log = dup_str(j, "log"),
		.started_at = dup_str(j, "started_at"),
		.pid = (pid_t)json_integer_value(json_object_get(j, "pid")),
		.pgid = (pid_t)json_integer_value(json_object_get(j, "pgid")),
		.start_time = (uint64_t)json_integer_value(json_object_get(j, "start_time")),
		.port = (int)json_integer_value(json_object_get(j, "port")),
		.started_unix = json_integer_value(json_object_get(j, "started_unix")),
	};
	json_t *ranks = json_object_get(j, "ranks"), *v;
	size_t i;
	s.watcher = (pid_t)json_integer_value(json_object_get(j, "watcher"));
	if (json_array_size(ranks) && !(s.ranks = calloc(json_array_size(ranks), sizeof *s.ranks))) {
		sc_run_state_done(&s);
		return sc_error(e, -ENOMEM, "out of memory");
	}
	json_array_foreach(ranks, i, v) {
		struct run_rank *k = &s.ranks[s.n_ranks++];
		k->rank = (int)json_integer_value(json_object_get(v, "rank"));
		k->node = dup_str(v, "node");
		k->log = dup_str(v, "log");
		k->pid = (pid_t)json_integer_value(json_object_get(v, "pid"));
		k->start_time = (uint64_t)json_integer_value(json_object_get(v, "start_time"));
		if (!k->node || k->pid <= 0) {
			sc_run_state_done(&s);
			return sc_error(e, SC_ENOTOBJ, "%s: rank %zu has no node or pid", path, i + 1);
		}
	}
	if (!s.name || !s.mode) {
		sc_run_state_done(&s);
		return sc_error(e, SC_ENOTOBJ, "%s: not a sparkctl state file", path);
	}
	*ret = s;
	return 0;
}

int sc_state_remove(const char *state_dir, const char *name)
{
	_cleanup_free_ char *path = NULL;
	if (asprintf(&path, "%s/run/%s.json", state_dir, name) < 0)
		return -ENOMEM;
	return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int sc_state_list(const char *state_dir, char ***ret, size_t *n, sc_err *e)
{
	*ret = NULL;
	*n = 0;
	_cleanup_free_ char *dir = NULL;
	char **v = NULL;
	size_t k = 0;
	if (asprintf(&dir, "%s/run", state_dir) < 0)
		return sc_error(e, -ENOMEM, "out of memory");
	DIR *d = opendir(dir);
	if (!d && errno != ENOENT)
		return sc_error(e, -errno, "%s: %s", dir, strerror(errno));
	struct dirent *de;
	while (d && (de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (de->d_name[0] == '.' || !sc_endswith(de->d_name, ".json"))
			continue;
		if (sc_strv_appendf(&v, &k, "%.*s", (int)(l - 5), de->d_name) < 0) {
			closedir(d);
			sc_strv_free(v, k);
			return sc_error(e, -ENOMEM, "out of memory");
		}
	}
	if (d)
		closedir(d);
	if (k > 1)
		qsort(v, k, sizeof *v, cmp_str);
	*ret = v;
	*n = k;
	return 0;
}

void sc_run_state_done(struct run_state *s)
{
	if (!s)
		return;
	free(s->name);
	free(s->engine);
	free(s->mode);
	free(s->container);
	free(s->host);
	free(s->log);
	free(s->started_at);
	for (size_t i = 0; i < s->n_ranks; i++) {
		free(s->ranks[i].node);
		free(s->ranks[i].log);
	}
	free(s->ranks);
	memset(s, 0, sizeof *s);
}

int sc_state_lock(const char *state_dir, sc_err *e)
{
	_cleanup_free_ char *dir = sub(state_dir, ".", NULL, NULL, e), *path = NULL;
	if (!dir)
		return -EIO;
	if (asprintf(&path, "%s/lock", state_dir) < 0)
		return sc_error(e, -ENOMEM, "out of memory");
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return sc_error(e, -errno, "%s: %s", path, strerror(errno));
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR) {
			int r = -errno;
			close(fd);
			return sc_error(e, r, "%s: %s", path, sc_strerror(r));
		}
	return fd;
}
