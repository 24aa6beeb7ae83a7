#include "scan.h"
#include "util.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <sys/stat.h>

#define MAX_DEPTH 8

struct finder {
	char **dirs;  /* relative paths of model folders */
	size_t n, cap;
	struct { dev_t dev; ino_t ino; } *seen;
	size_t n_seen, cap_seen;
	struct scan_result *res;
};


static int find(struct finder *f, const char *root, const char *rel, int depth)
{
	_cleanup_free_ char *abs = rel[0] ? sc_path_join(root, rel) : strdup(root);
	struct stat st;
	int r = 0;
	if (!abs)
		return -ENOMEM;
	if (stat(abs, &st) < 0)
		return sc_strv_appendf(&f->res->warnings, &f->res->n_warnings, "%s: %s", abs, strerror(errno));
	for (size_t i = 0; i < f->n_seen; i++)
		if (f->seen[i].dev == st.st_dev && f->seen[i].ino == st.st_ino)
			return sc_strv_appendf(&f->res->warnings, &f->res->n_warnings, "%s: symlink loop or folder seen twice, skipped", abs);
	if (sc_grow(&f->seen, &f->cap_seen, f->n_seen + 1, sizeof *f->seen) < 0)
		return -ENOMEM;
	f->seen[f->n_seen].dev = st.st_dev;
	f->seen[f->n_seen].ino = st.st_ino;
	f->n_seen++;
	if (rel[0] && sc_is_model_dir(abs)) {
		if (sc_grow(&f->dirs, &f->cap, f->n + 1, sizeof *f->dirs) < 0 || !(f->dirs[f->n] = strdup(rel)))
			return -ENOMEM;
		f->n++;
		return 0;
	}
	if (depth >= MAX_DEPTH)
		return 0;
	DIR *d = opendir(abs);
	if (!d)
		return sc_strv_appendf(&f->res->warnings, &f->res->n_warnings, "%s: cannot read folder: %s", abs, strerror(errno));
	struct dirent *de;
	while (r >= 0 && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (de->d_type != DT_DIR && de->d_type != DT_LNK && de->d_type != DT_UNKNOWN)
			continue;
		char sub[PATH_MAX];
		if ((size_t)snprintf(sub, sizeof sub, "%s%s%s", rel, rel[0] ? "/" : "", de->d_name) >= sizeof sub)
			continue;
		if (de->d_type != DT_DIR) {
			_cleanup_free_ char *p = sc_path_join(root, sub);
			if (!p) {
				r = -ENOMEM;
				break;
			}
			if (stat(p, &st) < 0) {
				if (lstat(p, &st) == 0 && S_ISLNK(st.st_mode))
					r = sc_strv_appendf(&f->res->warnings, &f->res->n_warnings, "%s: dangling or looping symlink: %s", p, strerror(errno));
				continue;
			}
			if (!S_ISDIR(st.st_mode))
				continue;
		}
		r = find(f, root, sub, depth + 1);
	}
	closedir(d);
	return r;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

const char *registry_name_for_dir(const struct registry *reg, const char *dir)
{
	char want[PATH_MAX], have[PATH_MAX];
	if (!reg || !realpath(dir, want))
		return NULL;
	for (size_t i = 0; i < reg->n_models; i++) {
		_cleanup_free_ char *p = registry_model_dir(reg, &reg->models[i]);
		if (p && realpath(p, have) && streq(have, want))
			return reg->models[i].name;
	}
	return NULL;
}

/* A pool over n independent tasks on every core (at most 8), the calling
 * thread included; the first failure stops the rest. */
struct pool {
	size_t n, next;
	int (*fn)(void *ud, size_t i, sc_err *e);
	void *ud;
	int err;
	sc_err e;
	pthread_mutex_t lock;
};

static void *pool_worker(void *arg)
{
	struct pool *p = arg;
	for (;;) {
		pthread_mutex_lock(&p->lock);
		size_t i = p->next++;
		bool stop = p->err < 0 || i >= p->n;
		pthread_mutex_unlock(&p->lock);
		if (stop)
			return NULL;
		sc_err e;
		int r = p->fn(p->ud, i, &e);
		if (r < 0) {
			pthread_mutex_lock(&p->lock);
			if (p->err >= 0) {
				p->err = r;
				p->e = e;
			}
			pthread_mutex_unlock(&p->lock);
		}
	}
}

static int pool_run(size_t n, int (*fn)(void *ud, size_t i, sc_err *e), void *ud, sc_err *e)
{
	struct pool p = { .n = n, .fn = fn, .ud = ud };
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t threads = cpus < 1 ? 1 : cpus > 8 ? 8 : (size_t)cpus, started = 0;
	pthread_t th[8];
	if (threads > n)
		threads = n;
	pthread_mutex_init(&p.lock, NULL);
	for (size_t i = 1; i < threads; i++)
		if (pthread_create(&th[started], NULL, pool_worker, &p) == 0)
			started++;
	pool_worker(&p);
	for (size_t i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	pthread_mutex_destroy(&p.lock);
	if (p.err < 0)
		return sc_error(e, p.err, "%s", p.e.msg);
	return 0;
}

struct loading {
	struct scan_result *res;
	char **dirs;
	struct { size_t model, file; } *tasks;  /* file == n_weights: the index */
};

static int open_one(void *ud, size_t i, sc_err *e)
{
	struct loading *l = ud;
	_cleanup_free_ char *dir = sc_path_join(l->res->root, l->dirs[i]);
	if (!dir)
		return sc_error(e, -ENOMEM, "out of memory");
	return sc_model_open(dir, l->dirs[i], &l->res->models[i], e);
}

static int read_one(void *ud, size_t i, sc_err *e)
{
	struct loading *l = ud;
	struct sc_model *m = &l->res->models[l->tasks[i].model];
	size_t f = l->tasks[i].file;
	int r = f < m->n_weights ? sc_model_read_weight(m, f) : sc_model_read_index(m);
	return r < 0 ? sc_error(e, r, "out of memory") : 0;
}

/* Models and their files are independent: the files of all models are read
 * by one pool, so one huge checkpoint does not hold the others up. */
static int load_all(struct scan_result *res, struct finder *f, const struct registry *reg, sc_err *e)
{
	struct loading l = { .res = res, .dirs = f->dirs };
	size_t n_tasks = 0;
	int r = pool_run(f->n, open_one, &l, e);
	/* a failed open leaves a zeroed model that frees cleanly */
	res->n_models = f->n;
	if (r < 0)
		return r;
	for (size_t i = 0; i < f->n; i++)
		n_tasks += res->models[i].n_weights + 1;
	if (n_tasks && !(l.tasks = calloc(n_tasks, sizeof *l.tasks)))
		return sc_error(e, -ENOMEM, "out of memory");
	n_tasks = 0;
	for (size_t i = 0; i < f->n; i++)
		for (size_t k = 0; k <= res->models[i].n_weights; k++) {
			l.tasks[n_tasks].model = i;
			l.tasks[n_tasks++].file = k;
		}
	r = pool_run(n_tasks, read_one, &l, e);
	free(l.tasks);
	for (size_t i = 0; r >= 0 && i < f->n; i++) {
		struct sc_model *m = &res->models[i];
		const char *name = registry_name_for_dir(reg, m->dir);
		if ((r = sc_model_finish(m, e)) >= 0 && name && !(m->name = strdup(name)))
			r = sc_error(e, -ENOMEM, "out of memory");
	}
	return r;
}

void scan_result_free(struct scan_result *s)
{
	if (!s)
		return;
	free(s->root);
	for (size_t i = 0; i < s->n_models; i++)
		sc_model_free(&s->models[i]);
	free(s->models);
	sc_strv_free(s->warnings, s->n_warnings);
	memset(s, 0, sizeof *s);
}

int sc_scan(const char *root, const struct registry *reg, struct scan_result *ret, sc_err *e)
{
	struct scan_result res = { 0 };
	struct finder f = { .res = &res };
	struct stat st;
	char abs[PATH_MAX];
	int r;
	if (stat(root, &st) < 0)
		return sc_error(e, -errno, "%s: %s", root, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return sc_error(e, -ENOTDIR, "%s: not a folder", root);
	if (!realpath(root, abs) || !(res.root = strdup(abs)))
		return sc_error(e, -errno ? -errno : -ENOMEM, "%s: %s", root, strerror(errno));
	if ((r = find(&f, res.root, "", 0)) < 0) {
		r = sc_error(e, r, "out of memory");
		goto out;
	}
	if (f.n > 1)
		qsort(f.dirs, f.n, sizeof *f.dirs, cmp_str);
	if (f.n && !(res.models = calloc(f.n, sizeof *res.models))) {
		r = sc_error(e, -ENOMEM, "out of memory");
		goto out;
	}
	if ((r = load_all(&res, &f, reg, e)) < 0)
		goto out;
	r = 0;
out:
	sc_strv_free(f.dirs, f.n);
	free(f.seen);
	if (r < 0) {
		scan_result_free(&res);
		return r;
	}
	*ret = res;
	return 0;
}
