#include "scan.h"
#include "../base/pool.h"
#include "../base/util.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#define MAX_DEPTH 8

struct finder {
	char **dirs;  /* relative paths of model folders */
	size_t n, cap;
	struct { dev_t dev; ino_t ino; } *seen;
	size_t n_seen, cap_seen;
	struct scan_result *res;
};


/* proc, sysfs, cgroup and devtmpfs hold no models, and walking them (a
 * models root with a link to /) costs minutes and reads live state. */
static bool pseudo_fs(const char *path, const struct stat *st)
{
	static const long magic[] = { PROC_SUPER_MAGIC, SYSFS_MAGIC, CGROUP_SUPER_MAGIC, CGROUP2_SUPER_MAGIC,
				      DEVPTS_SUPER_MAGIC, DEBUGFS_MAGIC, TRACEFS_MAGIC, SECURITYFS_MAGIC, BPF_FS_MAGIC };
	struct statfs sf;
	struct stat dev;
	if (statfs(path, &sf) == 0)
		for (size_t i = 0; i < ARRAY_SIZE(magic); i++)
			if ((long)sf.f_type == magic[i])
				return true;
	/* devtmpfs says it is tmpfs: know it as the file system of /dev */
	return stat("/dev", &dev) == 0 && dev.st_dev == st->st_dev && st->st_dev != (dev_t)0 &&
	       statfs("/dev", &sf) == 0 && (long)sf.f_type == TMPFS_MAGIC;
}

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
	if (rel[0] && pseudo_fs(abs, &st))
		return sc_strv_appendf(&f->res->warnings, &f->res->n_warnings,
				       "%s: a kernel file system (proc, sysfs, devtmpfs, cgroup): not walked", abs);
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

const char *sc_registry_name_for_dir(const struct registry *reg, const char *dir)
{
	char want[PATH_MAX], have[PATH_MAX];
	if (!reg || !realpath(dir, want))
		return NULL;
	for (size_t i = 0; i < reg->n_models; i++) {
		_cleanup_free_ char *p = sc_registry_model_dir(reg, &reg->models[i]);
		if (p && realpath(p, have) && streq(have, want))
			return reg->models[i].name;
	}
	return NULL;
}

struct loading {
	struct scan_result *res;
	char **dirs;
	struct { size_t model, file; } *tasks;  /* file 0: the index, k: weight k - 1 */
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
	int r = f == 0 ? sc_model_read_index(m) : sc_model_read_weight(m, f - 1);
	return r < 0 ? sc_error(e, r, "out of memory") : 0;
}

/* Models and their files are independent: the files of all models are read
 * by one pool, so one huge checkpoint does not hold the others up. */
static int load_all(struct scan_result *res, struct finder *f, const struct registry *reg, sc_err *e)
{
	struct loading l = { .res = res, .dirs = f->dirs };
	size_t n_tasks = 0;
	int r = sc_pool_run(f->n, open_one, &l, e);
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
	r = sc_pool_run(n_tasks, read_one, &l, e);
	free(l.tasks);
	for (size_t i = 0; r >= 0 && i < f->n; i++) {
		struct sc_model *m = &res->models[i];
		const char *name = sc_registry_name_for_dir(reg, m->dir);
		if ((r = sc_model_finish(m, e)) >= 0 && name && !(m->name = strdup(name)))
			r = sc_error(e, -ENOMEM, "out of memory");
	}
	return r;
}

/* A GGUF of a multi-quant folder stands alone: not a part of a split
 * ("-00001-of-00003.gguf") nor a vision projector (mmproj*). */
static bool standalone_gguf(const struct sc_wfile *w)
{
	const char *base = strrchr(w->rel, '/') ? strrchr(w->rel, '/') + 1 : w->rel;
	return w->kind == FK_GGUF && !strstr(base, "-of-") && !startswith(base, "mmproj");
}

/* A folder holding several quantizations of one model (Q4_K_M, Q8_0, ...)
 * is several models, not one of their summed size: each GGUF is listed on
 * its own, as "folder/file.gguf". */
static int split_quant_folders(struct scan_result *res, const struct registry *reg, sc_err *e)
{
	for (size_t i = 0; i < res->n_models; i++) {
		struct sc_model *m = &res->models[i];
		size_t n = 0;
		for (size_t k = 0; m->format == FMT_GGUF && k < m->n_weights; k++)
			n += standalone_gguf(&m->weights[k]);
		if (n < 2)
			continue;
		struct sc_model *v = calloc(n, sizeof *v);
		if (!v)
			return sc_error(e, -ENOMEM, "out of memory");
		size_t got = 0;
		int r = 0;
		for (size_t k = 0; r >= 0 && k < m->n_weights; k++) {
			if (!standalone_gguf(&m->weights[k]))
				continue;
			_cleanup_free_ char *path = sc_path_join(m->dir, m->weights[k].rel);
			char *rel = NULL;
			if (!path || asprintf(&rel, "%s/%s", m->rel, m->weights[k].rel) < 0)
				r = sc_error(e, -ENOMEM, "out of memory");
			else if ((r = sc_model_load_file(path, &v[got], e)) >= 0) {
				const char *name = sc_registry_name_for_dir(reg, path);
				free(v[got].rel);
				v[got].rel = rel, rel = NULL;
				if (name && !(v[got].name = strdup(name)))
					r = sc_error(e, -ENOMEM, "out of memory");
				got++;
			}
			free(rel);
		}
		size_t grown = res->n_models - 1 + got;
		struct sc_model *all = r < 0 ? NULL : realloc(res->models, grown * sizeof *all);
		if (!all) {
			for (size_t k = 0; k < got; k++)
				sc_model_done(&v[k]);
			free(v);
			return r < 0 ? r : sc_error(e, -ENOMEM, "out of memory");
		}
		/* the folder's entry gives way to its files, in place */
		sc_model_done(&all[i]);
		memmove(&all[i + got], &all[i + 1], (res->n_models - i - 1) * sizeof *all);
		memcpy(&all[i], v, got * sizeof *all);
		free(v);
		res->models = all;
		res->n_models = grown;
		i += got - 1;
	}
	return 0;
}

void sc_scan_result_done(struct scan_result *s)
{
	if (!s)
		return;
	free(s->root);
	for (size_t i = 0; i < s->n_models; i++)
		sc_model_done(&s->models[i]);
	free(s->models);
	sc_strv_free(s->warnings, s->n_warnings);
	memset(s, 0, sizeof *s);
}

int sc_scan(const char *root, const struct registry *reg, struct scan_result *ret, sc_err *e)
{
	*ret = (struct scan_result){ 0 };
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
	if ((r = load_all(&res, &f, reg, e)) < 0 || (r = split_quant_folders(&res, reg, e)) < 0)
		goto out;
	r = 0;
out:
	sc_strv_free(f.dirs, f.n);
	free(f.seen);
	if (r < 0) {
		sc_scan_result_done(&res);
		return r;
	}
	*ret = res;
	return 0;
}
