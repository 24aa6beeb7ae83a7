#include "model.h"
#include "../base/json.h"
#include "dtype.h"
#include "pickle.h"
#include "../base/pool.h"
#include "safetensors.h"
#include "../base/util.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>

#define LFS_SIGNATURE "version https://git-lfs.github.com/spec/v1"
#define LFS_MAX_POINTER 1024

enum sc_fkind sc_file_kind(const char *name)
{
	if (sc_endswith(name, ".safetensors"))
		return FK_SAFETENSORS;
	if (sc_endswith(name, ".safetensors.index.json"))
		return FK_INDEX;
	if (sc_endswith(name, ".gguf"))
		return FK_GGUF;
	if (sc_endswith(name, ".incomplete") || sc_endswith(name, ".part") || sc_endswith(name, ".aria2"))
		return FK_PARTIAL;
	if (streq(name, "config.json"))
		return FK_CONFIG;
	if (sc_endswith(name, ".bin") || sc_endswith(name, ".pt") || sc_endswith(name, ".pth")) {
		/* trainer state saved next to the weights is not a checkpoint */
		if (streq(name, "training_args.bin") || startswith(name, "optimizer.") ||
		    startswith(name, "scheduler.") || startswith(name, "rng_state"))
			return FK_OTHER;
		return FK_PICKLE;
	}
	return FK_OTHER;
}

bool sc_problem_is_warning(const char *code)
{
	return streq(code, "dtype-mismatch") || streq(code, "pickle");
}

static int add_problem(struct sc_problems *l, const char *code, const char *file, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int add_problem(struct sc_problems *l, const char *code, const char *file, const char *fmt, ...)
{
	char buf[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (sc_grow(&l->v, &l->cap, l->n + 1, sizeof *l->v) < 0)
		return -ENOMEM;
	struct sc_problem *p = &l->v[l->n];
	p->code = code;
	p->file = file ? strdup(file) : NULL;
	p->message = strdup(buf);
	if ((file && !p->file) || !p->message) {
		free(p->file);
		free(p->message);
		return -ENOMEM;
	}
	l->n++;
	return 0;
}

/* Move every problem of src to the end of dst. */
static int move_problems(struct sc_problems *dst, struct sc_problems *src)
{
	if (sc_grow(&dst->v, &dst->cap, dst->n + src->n, sizeof *dst->v) < 0)
		return -ENOMEM;
	if (src->n)
		memcpy(dst->v + dst->n, src->v, src->n * sizeof *src->v);
	dst->n += src->n;
	free(src->v);
	*src = (struct sc_problems){ 0 };
	return 0;
}

static void problems_free(struct sc_problems *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].file);
		free(l->v[i].message);
	}
	free(l->v);
	*l = (struct sc_problems){ 0 };
}

bool sc_is_model_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	bool yes = false;
	if (!d)
		return false;
	while (!yes && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (de->d_type != DT_REG && de->d_type != DT_LNK && de->d_type != DT_UNKNOWN)
			continue;
		enum sc_fkind k = sc_file_kind(de->d_name);
		yes = k != FK_OTHER;
	}
	closedir(d);
	return yes;
}

/* ---- the walk over the folder ---- */

struct dirid {
	dev_t dev;
	ino_t ino;
};

struct walk {
	struct sc_model *m;
	struct dirid *seen;
	size_t n_seen, cap_seen;
	struct sc_wfile *sub;  /* weight files below the top, used when the top has none */
	size_t n_sub, cap_sub;
	char **partials;
	size_t n_partials, cap_partials;
};

static int add_wfile(struct sc_wfile **arr, size_t *n, size_t *cap, const char *rel, enum sc_fkind k, uint64_t size)
{
	if (sc_grow(arr, cap, *n + 1, sizeof **arr) < 0)
		return -ENOMEM;
	struct sc_wfile *w = &(*arr)[*n];
	*w = (struct sc_wfile){ .rel = strdup(rel), .kind = k, .size = size };
	if (!w->rel)
		return -ENOMEM;
	(*n)++;
	return 0;
}

/* Takes dfd: it is closed on every path, the early returns included (the
 * symlink-loop one leaked it). */
static int walk_dir(struct walk *w, int owned_dfd, const char *relpath, int depth)
{
	struct sc_model *m = w->m;
	struct stat st;
	_cleanup_close_ int dfd = owned_dfd;
	int r = 0;
	if (fstat(dfd, &st) < 0)
		return add_problem(&m->problems, "unreadable", relpath[0] ? relpath : ".", "cannot stat: %s", strerror(errno));
	for (size_t i = 0; i < w->n_seen; i++)
		if (w->seen[i].dev == st.st_dev && w->seen[i].ino == st.st_ino)
			return add_problem(&m->problems, "unreadable", relpath, "symlink loop: this folder was already visited");
	if (sc_grow(&w->seen, &w->cap_seen, w->n_seen + 1, sizeof *w->seen) < 0)
		return -ENOMEM;
	w->seen[w->n_seen++] = (struct dirid){ st.st_dev, st.st_ino };

	DIR *d = fdopendir(dfd);
	if (!d)
		return add_problem(&m->problems, "unreadable", relpath[0] ? relpath : ".", "cannot read folder: %s", strerror(errno));
	TAKE_FD(dfd);
	struct dirent *de;
	while (r >= 0 && (de = readdir(d))) {
		const char *n = de->d_name;
		if (streq(n, ".") || streq(n, ".."))
			continue;
		char rel[4096];
		if ((size_t)snprintf(rel, sizeof rel, "%s%s%s", relpath, relpath[0] ? "/" : "", n) >= sizeof rel)
			continue;
		if (fstatat(dirfd(d), n, &st, 0) < 0) {
			r = add_problem(&m->problems, "unreadable", rel, "cannot stat: %s", strerror(errno));
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			if (depth >= 16)
				continue;
			int sub = openat(dirfd(d), n, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (sub < 0) {
				r = add_problem(&m->problems, "unreadable", rel, "cannot open folder: %s", strerror(errno));
				continue;
			}
			r = walk_dir(w, sub, rel, depth + 1);
			continue;
		}
		if (!S_ISREG(st.st_mode)) {
			/* a FIFO or device where a checkpoint file belongs is a
			 * problem of that file; it is never opened */
			enum sc_fkind fk = sc_file_kind(n);
			if (depth == 0 && fk != FK_OTHER && fk != FK_PARTIAL && fk != FK_CONFIG)
				r = add_problem(&m->problems, "unreadable", rel, "%s", sc_strerror(SC_ENOTREG));
			continue;
		}
		m->apparent_bytes += (uint64_t)st.st_size;
		m->disk_bytes += (uint64_t)st.st_blocks * 512;
		enum sc_fkind k = sc_file_kind(n);
		/* weights in hidden folders (download caches) are not the model's */
		bool hidden = rel[0] == '.' || strstr(rel, "/.");
		switch (k) {
		case FK_PARTIAL:
			if (sc_grow(&w->partials, &w->cap_partials, w->n_partials + 1, sizeof *w->partials) < 0 ||
			    !(w->partials[w->n_partials] = strdup(rel)))
				r = -ENOMEM;
			else
				w->n_partials++;
			break;
		case FK_SAFETENSORS: case FK_GGUF: case FK_PICKLE:
			if (hidden)
				break;
			if (depth == 0)
				r = add_wfile(&m->weights, &m->n_weights, &m->cap_weights, rel, k, (uint64_t)st.st_size);
			else
				r = add_wfile(&w->sub, &w->n_sub, &w->cap_sub, rel, k, (uint64_t)st.st_size);
			break;
		case FK_INDEX:
			if (depth == 0 && sc_strv_appendf(&m->index_files, &m->n_index_files, "%s", n) < 0)
				r = -ENOMEM;
			break;
		case FK_CONFIG:
			if (depth == 0)
				m->has_config = true;
			break;
		default:
			break;
		}
	}
	closedir(d);
	return r;
}

static int cmp_wfile(const void *a, const void *b)
{
	return strcmp(((const struct sc_wfile *)a)->rel, ((const struct sc_wfile *)b)->rel);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ---- reading headers ---- */

static bool is_lfs_pointer(int fd, uint64_t size)
{
	char buf[sizeof LFS_SIGNATURE - 1];
	if (size > LFS_MAX_POINTER || size < sizeof buf)
		return false;
	return sc_pread_full(fd, buf, sizeof buf, 0) == 0 && memcmp(buf, LFS_SIGNATURE, sizeof buf) == 0;
}

static int read_safetensors(struct sc_wfile *wf, int fd)
{
	struct sc_problems *pl = &wf->problems;
	sc_err e;
	struct st_header h;
	uint64_t nread;
	int r = sc_st_read_fd(fd, wf->size, &h, &nread, &e);
	if (r == -ENOMEM)
		return r;
	if (r == SC_ESHORT || r == SC_EPASTEOF)
		return add_problem(pl, "truncated", wf->rel, "%s", e.msg);
	if (r < 0 && !sc_is_format_error(r))
		return add_problem(pl, "unreadable", wf->rel, "%s", e.msg);
	if (r < 0)
		return add_problem(pl, "bad-header", wf->rel, "%s", e.msg);
	uint64_t prefix = 8 + h.header_len;
	uint64_t expect = prefix + h.data_len;
	if (wf->size < expect)
		r = add_problem(pl, "truncated", wf->rel, "file is %llu bytes, its header says %llu",
				(unsigned long long)wf->size, (unsigned long long)expect);
	else if (wf->size > expect)
		r = add_problem(pl, "oversized", wf->rel, "file is %llu bytes, its header says %llu",
				(unsigned long long)wf->size, (unsigned long long)expect);
	for (size_t i = 0; i < h.n_tensors; i++) {
		const struct st_tensor *t = &h.tensors[i];
		sc_tstats_add(wf->stats, st_tensor_name(&h, t), t->name_len, (enum st_dtype)t->dtype,
			   sc_st_tensor_elements(&h, t), t->end - t->begin);
	}
	wf->tensors = h.n_tensors;
	wf->parsed = true;
	sc_st_header_done(&h);
	return r;
}

static const char *gguf_type_of(const struct gguf_file *g)
{
	uint64_t ft;
	if (sc_gguf_get_uint(g, "general.file_type", &ft) && sc_gguf_file_type_name((uint32_t)ft))
		return sc_gguf_file_type_name((uint32_t)ft);
	/* no file type: the ggml type holding the most weight bytes */
	uint64_t bytes[GGML_TYPE_COUNT] = { 0 };
	for (uint64_t i = 0; i < g->n_tensors; i++)
		if (g->tensors[i].n_dims >= 2 && g->tensors[i].type < GGML_TYPE_COUNT)
			bytes[g->tensors[i].type] += g->tensors[i].bytes;
	int best = -1;
	for (int t = 0; t < GGML_TYPE_COUNT; t++)
		if (bytes[t] && (best < 0 || bytes[t] > bytes[best]))
			best = t;
	return best < 0 ? NULL : sc_gguf_file_type_from_ggml((uint32_t)best);
}

static int read_gguf(struct sc_wfile *wf, int fd)
{
	struct gguf_file g;
	uint64_t nread = 0;
	sc_err e;
	int r = sc_gguf_read_fd(fd, wf->size, &g, &nread, &e);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return add_problem(&wf->problems, "bad-header", wf->rel, "%s", e.msg);
	if (wf->size < g.data_end)
		r = add_problem(&wf->problems, "truncated", wf->rel, "file is %llu bytes, its tensors end at %llu",
				(unsigned long long)wf->size, (unsigned long long)g.data_end);
	for (uint64_t i = 0; i < g.n_tensors; i++) {
		const struct gguf_tensor *t = &g.tensors[i];
		sc_tstats_add_ggml(wf->stats, gguf_str(&g, t->name), t->type, sc_gguf_tensor_elements(t), t->bytes);
	}
	wf->tensors = g.n_tensors;
	wf->parsed = true;
	wf->gguf_type = gguf_type_of(&g);
	if (!(wf->gguf = malloc(sizeof *wf->gguf))) {
		sc_gguf_file_done(&g);
		return -ENOMEM;
	}
	*wf->gguf = g;
	return r;
}

static int read_pickle(struct sc_wfile *wf, const char *path)
{
	struct pickle_info p;
	sc_err e;
	if (sc_pickle_inspect(path, &p, &e) < 0)
		return add_problem(&wf->problems, "bad-header", wf->rel, "%s", e.msg);
	if (p.zip)
		return add_problem(&wf->problems, "pickle", wf->rel,
				   "PyTorch pickle (zip of %llu members, %llu storages): not read, prefer safetensors",
				   (unsigned long long)p.members, (unsigned long long)p.storages);
	return add_problem(&wf->problems, "pickle", wf->rel, "legacy PyTorch pickle: not read, prefer safetensors");
}

int sc_model_read_weight(struct sc_model *m, size_t i)
{
	struct sc_wfile *wf = &m->weights[i];
	_cleanup_free_ char *path = m->single_file ? strdup(m->single_file) : sc_path_join(m->dir, wf->rel);
	if (!path || !(wf->stats = calloc(1, sizeof *wf->stats)))
		return -ENOMEM;
	_cleanup_close_ int fd = sc_open_regular(AT_FDCWD, path, NULL);
	if (fd < 0)
		return add_problem(&wf->problems, "unreadable", wf->rel, "cannot open: %s", sc_strerror(fd));
	if (is_lfs_pointer(fd, wf->size)) {
		wf->lfs = true;
		return add_problem(&wf->problems, "lfs-pointer", wf->rel, "a Git LFS pointer of %llu bytes, not the weights",
				   (unsigned long long)wf->size);
	}
	switch (wf->kind) {
	case FK_SAFETENSORS:
		return read_safetensors(wf, fd);
	case FK_GGUF:
		return read_gguf(wf, fd);
	default:
		return read_pickle(wf, path);
	}
}

/* ---- shard completeness ---- */

static bool have_weight(const struct sc_model *m, const char *rel)
{
	for (size_t i = 0; i < m->n_weights; i++)
		if (streq(m->weights[i].rel, rel))
			return true;
	return false;
}

static int check_index(struct sc_model *m, const char *file)
{
	struct sc_problems *pl = &m->index_problems;
	_cleanup_free_ char *path = sc_path_join(m->dir, file);
	uint8_t *buf = NULL;
	size_t len;
	struct st_index x;
	sc_err e;
	if (!path)
		return -ENOMEM;
	/* a big index (7 MB for Qwen3-Coder-30B-A3B) is read into huge pages */
	int r = sc_read_file_big(path, 256u << 20, &buf, &len);
	if (r < 0)
		return add_problem(pl, "unreadable", file, "cannot read: %s", r == -EFBIG ? "larger than 256 MiB" : sc_strerror(r));
	r = sc_st_index_parse(buf, len, &x, &e);
	sc_big_free(buf, len);
	if (r < 0)
		return r == -ENOMEM ? r : add_problem(pl, "bad-header", file, "%s", e.msg);
	r = 0;
	for (size_t i = 0; r >= 0 && i < x.n_shards; i++)
		if (!have_weight(m, x.shards[i]))
			r = add_problem(pl, "missing-shard", x.shards[i], "named in %s but not on disk", file);
	sc_st_index_done(&x);
	return r;
}

int sc_model_read_index(struct sc_model *m)
{
	int r = 0;
	for (size_t i = 0; r >= 0 && i < m->n_index_files; i++)
		r = check_index(m, m->index_files[i]);
	return r;
}

/* "<base>-00002-of-00005.<ext>": every part from 1 to the count must exist */
static int check_split_names(struct sc_model *m)
{
	int r = 0;
	for (size_t i = 0; r >= 0 && i < m->n_weights; i++) {
		const char *rel = m->weights[i].rel, *p = strstr(rel, "-of-");
		unsigned part, count;
		int pre, post;
		if (!p || p - rel < 6 || sscanf(p - 5, "%5u%n-of-%5u%n", &part, &pre, &count, &post) != 2 ||
		    pre != 5 || post != 14 || count > 9999)
			continue;
		if (part != 1)
			continue;  /* check each group once, from its first part */
		for (unsigned k = 2; r >= 0 && k <= count; k++) {
			char name[4096];
			snprintf(name, sizeof name, "%.*s%05u%s", (int)(p - 5 - rel), rel, k, p);
			if (!have_weight(m, name))
				r = add_problem(&m->problems, "missing-shard", name, "part %u of %u is not on disk", k, count);
		}
	}
	return r;
}

static bool has_problem(const struct sc_model *m, const char *code)
{
	for (size_t i = 0; i < m->problems.n; i++)
		if (streq(m->problems.v[i].code, code))
			return true;
	return false;
}

static void set_status(struct sc_model *m, size_t lfs)
{
	if (has_problem(m, "bad-header") || has_problem(m, "oversized"))
		m->status = ST_CORRUPT;
	else if (has_problem(m, "missing-shard") || has_problem(m, "truncated") || has_problem(m, "partial-download"))
		m->status = ST_INCOMPLETE;
	else if (m->n_weights == 0 || lfs == m->n_weights)
		m->status = ST_STUB;
	else if (has_problem(m, "unreadable") || has_problem(m, "lfs-pointer"))
		m->status = ST_INCOMPLETE;
	else
		m->status = ST_OK;
}

static int load_config(struct sc_model *m, const char *dir, sc_err *e)
{
	_cleanup_free_ char *path = sc_path_join(dir, "config.json");
	_cleanup_json_ json_t *j = NULL;
	sc_err pe;
	int r;
	if (!path)
		return sc_error(e, -ENOMEM, "out of memory");
	if (m->has_config || access(path, F_OK) == 0) {
		m->has_config = true;
		if ((r = sc_json_load(path, 16u << 20, &j, &pe)) < 0)
			r = add_problem(&m->problems, "bad-header", "config.json", "%s", pe.msg);
		else if ((r = sc_hf_config_from_json(j, &m->config, &pe)) < 0)
			r = add_problem(&m->problems, "bad-header", "config.json", "%s", pe.msg);
		if (r == -ENOMEM)
			return sc_error(e, r, "out of memory");
		if (m->config.architecture)
			m->architecture = strdup(m->config.architecture);
	}
	if ((r = sc_quant_decl_find(dir, j, &m->decl, &pe)) < 0) {
		if (r == -ENOMEM)
			return sc_error(e, r, "out of memory");
		m->decl.present = false;
		if (add_problem(&m->problems, "bad-header", NULL, "quantization declaration: %s", pe.msg) < 0)
			return sc_error(e, -ENOMEM, "out of memory");
	}
	return 0;
}

int sc_model_finish(struct sc_model *m, sc_err *e)
{
	bool any_parsed = false, all_parsed = m->n_weights > 0, gguf = false;
	size_t lfs = 0;
	/* merge in file order, so the result does not depend on threads */
	for (size_t i = 0; i < m->n_weights; i++) {
		struct sc_wfile *wf = &m->weights[i];
		any_parsed |= wf->parsed;
		all_parsed &= wf->parsed;
		gguf |= wf->kind == FK_GGUF && wf->parsed;
		lfs += wf->lfs;
		if (wf->stats)
			sc_tstats_merge(m->stats, wf->stats);
		if (move_problems(&m->problems, &wf->problems) < 0)
			return sc_error(e, -ENOMEM, "out of memory");
		if (wf->gguf_type && !m->gguf_type && !(m->gguf_type = strdup(wf->gguf_type)))
			return sc_error(e, -ENOMEM, "out of memory");
		else if (wf->gguf_type && !strstr(m->gguf_type, wf->gguf_type)) {
			/* several quantizations side by side in one folder */
			char *s;
			if (asprintf(&s, "%s,%s", m->gguf_type, wf->gguf_type) < 0)
				return sc_error(e, -ENOMEM, "out of memory");
			free(m->gguf_type);
			m->gguf_type = s;
		}
		if (wf->gguf && !m->gguf) {
			const char *arch = sc_gguf_get_str(wf->gguf, "general.architecture");
			if (arch && !m->architecture && !(m->architecture = strdup(arch)))
				return sc_error(e, -ENOMEM, "out of memory");
			m->gguf = TAKE_PTR(wf->gguf);
		}
	}
	if (move_problems(&m->problems, &m->index_problems) < 0 || check_split_names(m) < 0)
		return sc_error(e, -ENOMEM, "out of memory");
	if (m->n_weights == 0 && add_problem(&m->problems, "no-weights", NULL, "no weight files: only %s",
					     m->has_config ? "configuration" : "other files") < 0)
		return sc_error(e, -ENOMEM, "out of memory");
	struct classify_in in = {
		.decl = &m->decl,
		.torch_dtype = m->config.torch_dtype,
		.stats = m->stats,
		.have_tensors = any_parsed,
		.gguf = gguf,
		.gguf_type = m->gguf_type,
	};
	struct classify_out out;
	sc_classify(&in, &out);
	m->format = out.format;
	m->quant_method = out.quant_method;
	m->kv = out.kv;
	m->packed_is_4bit = out.packed_is_4bit;
	if (out.mismatch[0] && add_problem(&m->problems, "dtype-mismatch", NULL, "%s", out.mismatch) < 0)
		return sc_error(e, -ENOMEM, "out of memory");
	m->tensors = m->stats->tensors;
	sc_tstats_params(m->stats, m->packed_is_4bit, m->decl.bits, &m->params);
	m->params_known = all_parsed;
	set_status(m, lfs);
	return 0;
}

static void wfile_free(struct sc_wfile *wf)
{
	free(wf->rel);
	free(wf->stats);
	problems_free(&wf->problems);
	if (wf->gguf) {
		sc_gguf_file_done(wf->gguf);
		free(wf->gguf);
	}
}

void sc_model_done(struct sc_model *m)
{
	if (!m)
		return;
	free(m->dir);
	free(m->rel);
	free(m->name);
	free(m->single_file);
	free(m->gguf_type);
	free(m->architecture);
	problems_free(&m->problems);
	problems_free(&m->index_problems);
	sc_strv_free(m->index_files, m->n_index_files);
	for (size_t i = 0; i < m->n_weights; i++)
		wfile_free(&m->weights[i]);
	free(m->weights);
	sc_hf_config_done(&m->config);
	free(m->stats);
	if (m->gguf) {
		sc_gguf_file_done(m->gguf);
		free(m->gguf);
	}
	memset(m, 0, sizeof *m);
}

static void walk_free(struct walk *w)
{
	free(w->seen);
	for (size_t i = 0; i < w->n_sub; i++)
		free(w->sub[i].rel);
	free(w->sub);
	for (size_t i = 0; i < w->n_partials; i++)
		free(w->partials[i]);
	free(w->partials);
}

int sc_model_open(const char *dir, const char *rel, struct sc_model *ret, sc_err *e)
{
	*ret = (struct sc_model){ 0 };
	struct sc_model m = { 0 };
	struct walk w = { .m = &m };
	int r;
	m.dir = strdup(dir);
	m.rel = strdup(rel);
	m.stats = calloc(1, sizeof *m.stats);
	if (!m.dir || !m.rel || !m.stats) {
		r = sc_error(e, -ENOMEM, "out of memory");
		goto fail;
	}
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		r = add_problem(&m.problems, "unreadable", ".", "cannot open folder: %s", strerror(errno));
	else
		r = walk_dir(&w, dfd, "", 0);
	if (r < 0) {
		r = sc_error(e, r, "out of memory");
		goto fail;
	}
	if (m.n_weights == 0 && w.n_sub > 0) {
		/* no weights at the top: those in subfolders are the model's */
		m.weights = TAKE_PTR(w.sub);
		m.n_weights = w.n_sub;
		m.cap_weights = w.cap_sub;
		w.n_sub = 0;
	}
	if (m.n_weights > 1)
		qsort(m.weights, m.n_weights, sizeof *m.weights, cmp_wfile);
	if (w.n_partials > 1)
		qsort(w.partials, w.n_partials, sizeof *w.partials, cmp_str);
	if (m.n_index_files > 1)
		qsort(m.index_files, m.n_index_files, sizeof *m.index_files, cmp_str);
	for (size_t i = 0; i < w.n_partials; i++)
		if (add_problem(&m.problems, "partial-download", w.partials[i], "an unfinished download") < 0) {
			r = sc_error(e, -ENOMEM, "out of memory");
			goto fail;
		}
	if ((r = load_config(&m, dir, e)) < 0)
		goto fail;
	walk_free(&w);
	*ret = m;
	return 0;
fail:
	walk_free(&w);
	sc_model_done(&m);
	return r;
}

static int read_task(void *ud, size_t i, sc_err *e)
{
	struct sc_model *m = ud;
	/* the index first: it is often the largest document */
	int r = i == 0 ? sc_model_read_index(m) : sc_model_read_weight(m, i - 1);
	return r < 0 ? sc_error(e, r, "out of memory") : 0;
}

/* The index and the files, on every core, then the merge. */
static int read_all(struct sc_model *m, sc_err *e)
{
	int r = sc_pool_run(m->n_weights + 1, read_task, m, e);
	return r < 0 ? r : sc_model_finish(m, e);
}

int sc_model_load(const char *dir, const char *rel, struct sc_model *ret, sc_err *e)
{
	*ret = (struct sc_model){ 0 };
	struct sc_model m;
	int r = sc_model_open(dir, rel, &m, e);
	if (r < 0)
		return r;
	if ((r = read_all(&m, e)) < 0) {
		sc_model_done(&m);
		return r;
	}
	*ret = m;
	return 0;
}

int sc_model_load_file(const char *path, struct sc_model *ret, sc_err *e)
{
	*ret = (struct sc_model){ 0 };
	struct sc_model m = { 0 };
	struct stat st;
	int r;
	if (stat(path, &st) < 0)
		return sc_error(e, -errno, "%s: %s", path, strerror(errno));
	enum sc_fkind k = sc_file_kind(path);
	if (k != FK_SAFETENSORS && k != FK_GGUF)
		return sc_error(e, -EINVAL, "%s: not a .safetensors or .gguf file", path);
	const char *slash = strrchr(path, '/');
	m.dir = slash ? strndup(path, (size_t)(slash - path)) : strdup(".");
	m.rel = strdup(slash ? slash + 1 : path);
	m.single_file = strdup(path);
	m.stats = calloc(1, sizeof *m.stats);
	if (!m.dir || !m.rel || !m.single_file || !m.stats ||
	    add_wfile(&m.weights, &m.n_weights, &m.cap_weights, m.rel, k, (uint64_t)st.st_size) < 0) {
		r = sc_error(e, -ENOMEM, "out of memory");
		goto fail;
	}
	m.apparent_bytes = (uint64_t)st.st_size;
	m.disk_bytes = (uint64_t)st.st_blocks * 512;
	if ((r = load_config(&m, m.dir, e)) < 0 || (r = read_all(&m, e)) < 0)
		goto fail;
	*ret = m;
	return 0;
fail:
	sc_model_done(&m);
	return r;
}

int sc_model_foreach_tensor(const struct sc_model *m, int (*cb)(void *ud, const struct sc_tensor_row *t), void *ud,
			    sc_err *e)
{
	for (size_t i = 0; i < m->n_weights; i++) {
		const struct sc_wfile *wf = &m->weights[i];
		if (!wf->parsed)
			continue;
		_cleanup_free_ char *path = m->single_file ? strdup(m->single_file) : sc_path_join(m->dir, wf->rel);
		if (!path)
			return sc_error(e, -ENOMEM, "out of memory");
		_cleanup_close_ int fd = sc_open_regular(AT_FDCWD, path, NULL);
		uint64_t nread;
		int r = 0;
		if (fd < 0)
			return sc_error(e, fd, "%s: %s", path, sc_strerror(fd));
		if (wf->kind == FK_SAFETENSORS) {
			struct st_header h;
			if ((r = sc_st_read_fd(fd, wf->size, &h, &nread, e)) < 0)
				return r;
			for (size_t k = 0; r >= 0 && k < h.n_tensors; k++) {
				const struct st_tensor *t = &h.tensors[k];
				struct sc_tensor_row row = { st_tensor_name(&h, t), sc_st_dtype_name((enum st_dtype)t->dtype),
							     t->ndim, h.dims + t->dims, t->end - t->begin, wf->rel };
				r = cb(ud, &row);
			}
			sc_st_header_done(&h);
		} else if (wf->kind == FK_GGUF) {
			struct gguf_file g;
			if ((r = sc_gguf_read_fd(fd, wf->size, &g, &nread, e)) < 0)
				return r;
			for (uint64_t k = 0; r >= 0 && k < g.n_tensors; k++) {
				const struct gguf_tensor *t = &g.tensors[k];
				struct sc_tensor_row row = { gguf_str(&g, t->name), sc_ggml_type_name(t->type), t->n_dims,
							     t->dims, t->bytes, wf->rel };
				r = cb(ud, &row);
			}
			sc_gguf_file_done(&g);
		}
		if (r < 0)
			return sc_error(e, r, "%s", sc_strerror(r));
	}
	return 0;
}
