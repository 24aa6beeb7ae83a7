/* What ps reads of a running proxy: <state-dir>/proxy.json, written by
 * notes.c once a second when something changed. */
#include "proxy.h"
#include "../base/util.h"
#include "../engine/proc.h"

#include <jansson.h>

void sc_proxy_status_done(struct sc_proxy_status *s)
{
	if (!s)
		return;
	sc_strv_free(s->listen, s->n_listen);
	for (size_t i = 0; i < s->n_queues; i++)
		free(s->queues[i].model);
	free(s->queues);
	memset(s, 0, sizeof *s);
}

int sc_proxy_status(const char *state_dir, struct sc_proxy_status *ret, sc_err *e)
{
	*ret = (struct sc_proxy_status){ 0 };
	_cleanup_free_ char *path = sc_path_join(state_dir, "proxy.json");
	char *buf = NULL;
	size_t len;
	if (!path)
		return sc_error(e, -ENOMEM, "out of memory");
	int r = sc_read_file(path, 1 << 20, &buf, &len);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return sc_error(e, r, "%s: %s", path, sc_strerror(r));
	json_error_t je;
	json_t *j = json_loadb(buf, len, 0, &je), *v;
	free(buf);
	json_int_t pid = json_integer_value(json_object_get(j, "pid"));
	json_int_t start = json_integer_value(json_object_get(j, "start_time"));
	if (!json_is_object(j) || pid <= 0 || pid > INT32_MAX) {
		json_decref(j);
		return sc_error(e, SC_ENOTOBJ, "%s: not a proxy's record", path);
	}
	/* a proxy killed with -9 leaves its file: only a live one counts */
	if (!sc_proc_alive((pid_t)pid, (uint64_t)start)) {
		json_decref(j);
		return 0;
	}
	struct sc_proxy_status s = { .pid = (int)pid,
				     .connections = (long)json_integer_value(json_object_get(j, "connections")) };
	size_t i;
	const char *key;
	json_array_foreach(json_object_get(j, "listen"), i, v)
		if (json_is_string(v) && sc_strv_appendf(&s.listen, &s.n_listen, "%s", json_string_value(v)) < 0)
			goto oom;
	json_t *models = json_object_get(j, "models");
	if (json_is_object(models) && !(s.queues = calloc(json_object_size(models) + 1, sizeof *s.queues)))
		goto oom;
	json_object_foreach(models, key, v) {
		struct sc_proxy_queue *q = &s.queues[s.n_queues];
		if (!(q->model = strdup(key)))
			goto oom;
		s.n_queues++;
		q->queue = (long)json_integer_value(json_object_get(v, "queue"));
		q->inflight = (long)json_integer_value(json_object_get(v, "inflight"));
		q->starting = json_is_true(json_object_get(v, "starting"));
	}
	json_decref(j);
	*ret = s;
	return 1;
oom:
	json_decref(j);
	sc_proxy_status_done(&s);
	return sc_error(e, -ENOMEM, "out of memory");
}
