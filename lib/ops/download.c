#include "download.h"
#include "../base/json.h"
#include "../base/atomicfile.h"
#include "../format/hfconfig.h"
#include "../net/hub.h"
#include "../base/util.h"

#include <jansson.h>
#include <sys/stat.h>


void sc_download_result_done(struct download_result *r)
{
	if (!r)
		return;
	free(r->commit);
	for (size_t i = 0; i < r->n_items; i++) {
		free(r->items[i].rel);
		free(r->items[i].url);
	}
	free(r->items);
	memset(r, 0, sizeof *r);
}

static char *meta_path(const char *dir, const char *rel)
{
	char *p;
	return asprintf(&p, "%s/.sparkctl/meta/%s.json", dir, rel) < 0 ? NULL : p;
}

static const char *etag_of(const struct hub_file *f)
{
	return f->lfs ? f->sha256 : f->oid;
}

/* In place and recorded as this commit's (or with the same etag)? */
static bool up_to_date(const char *dir, const struct hub_file *f, const char *commit)
{
	_cleanup_free_ char *final = sc_path_join(dir, f->path), *meta = meta_path(dir, f->path);
	_cleanup_json_ json_t *j = NULL;
	struct stat st;
	if (!final || !meta || stat(final, &st) < 0 || (uint64_t)st.st_size != f->size)
		return false;
	if (sc_json_load(meta, 1 << 20, &j, NULL) < 0)
		return false;
	const char *c = json_string_value(json_object_get(j, "commit"));
	const char *t = json_string_value(json_object_get(j, "etag"));
	return (c && streq(c, commit)) || (t && etag_of(f)[0] && streq(t, etag_of(f)));
}

static int record(const char *dir, const struct hub_file *f, const char *commit, sc_err *e)
{
	_cleanup_free_ char *meta = meta_path(dir, f->path), *text = NULL;
	if (!meta)
		return sc_error(e, -ENOMEM, "out of memory");
	int r = sc_mkdir_parents(meta, 0755);
	if (r < 0)
		return sc_error(e, r, "%s: %s", meta, sc_strerror(r));
	json_t *j = json_pack("{s:s,s:s,s:s,s:I}", "commit", commit, "path", f->path, "etag", etag_of(f), "size",
			      (json_int_t)f->size);
	if (!j || !(text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER))) {
		json_decref(j);
		return sc_error(e, -ENOMEM, "out of memory");
	}
	json_decref(j);
	return sc_write_atomic(meta, text, strlen(text), e);
}

int sc_download_repo(const struct download_opts *o, struct download_result *ret, sc_err *e)
{
	struct download_result res = { 0 };
	struct hub h;
	struct hub_listing l = { 0 };
	int r = sc_hub_init(&h, e);
	*ret = res;
	if (r < 0)
		return r;
	if ((r = sc_hub_list(&h, o->repo, o->rev ? o->rev : "main", &l, e)) < 0)
		goto out;
	res.api_requests = l.requests;
	if (!(res.commit = strdup(l.commit))) {
		r = sc_error(e, -ENOMEM, "out of memory");
		goto out;
	}
	if (!o->dry_run && (r = sc_mkdir_p(o->dir, 0755)) < 0) {
		r = sc_error(e, r, "%s: %s", o->dir, sc_strerror(r));
		goto out;
	}
	size_t cap = 0;
	for (size_t i = 0; i < l.n; i++) {
		const struct hub_file *f = &l.files[i];
		if (!sc_hub_keep(f->path, o->include, o->n_include, o->exclude, o->n_exclude))
			continue;
		res.n_selected++;
		if (up_to_date(o->dir, f, l.commit)) {
			res.n_up_to_date++;
			continue;
		}
		if (sc_grow(&res.items, &cap, res.n_items + 1, sizeof *res.items) < 0) {
			r = sc_error(e, -ENOMEM, "out of memory");
			goto out;
		}
		struct fetch_item *it = &res.items[res.n_items];
		memset(it, 0, sizeof *it);
		it->rel = strdup(f->path);
		it->url = sc_hub_resolve_url(&h, o->repo, l.commit, f->path);
		it->size = f->size;
		if (f->lfs)
			snprintf(it->sha256, sizeof it->sha256, "%s", f->sha256);
		else
			snprintf(it->blob_sha1, sizeof it->blob_sha1, "%s", f->oid);
		res.n_items++;
		if (!it->rel || !it->url) {
			r = sc_error(e, -ENOMEM, "out of memory");
			goto out;
		}
		/* what is on disk of a partial download still counts as had */
		_cleanup_free_ char *part = sc_fetch_partial_path(o->dir, f->path);
		struct stat st;
		uint64_t have = part && stat(part, &st) == 0 && (uint64_t)st.st_size <= f->size ? (uint64_t)st.st_size : 0;
		res.bytes_missing += f->size - have;
	}
	if (!res.n_selected) {
		r = sc_error(e, SC_ENOTFOUND, "%s@%s: no file matches the include and exclude patterns", o->repo,
			     o->rev ? o->rev : "main");
		goto out;
	}
	if (o->dry_run || !res.n_items)
		goto out;
	uint64_t avail;
	if ((r = sc_free_bytes(o->dir, &avail)) < 0) {
		r = sc_error(e, r, "%s: %s", o->dir, sc_strerror(r));
		goto out;
	}
	if (res.bytes_missing > avail) {
		char a[32], b[32];
		sc_format_bytes(res.bytes_missing, a, sizeof a);
		sc_format_bytes(avail, b, sizeof b);
		r = sc_error(e, -ENOSPC, "%s needs %s more (%llu bytes), %s has %s free (%llu bytes)", o->repo, a,
			     (unsigned long long)res.bytes_missing, o->dir, b, (unsigned long long)avail);
		goto out;
	}
	char origin[256];
	sc_url_origin(h.endpoint, origin, sizeof origin);
	struct fetch_opts fo = { .dir = o->dir, .token = h.token, .origin = origin, .jobs = o->jobs,
				 .progress = o->progress, .finished = o->finished, .ud = o->ud };
	r = sc_fetch(res.items, res.n_items, &fo, e);
	for (size_t i = 0; i < res.n_items; i++) {
		res.bytes_fetched += res.items[i].fetched;
		if (!res.items[i].done)
			continue;
		for (size_t k = 0; k < l.n; k++)
			if (streq(l.files[k].path, res.items[i].rel)) {
				sc_err me;
				int x = record(o->dir, &l.files[k], l.commit, &me);
				if (x < 0 && r >= 0)
					r = sc_error(e, x, "%s", me.msg);
			}
	}
out:
	sc_hub_listing_done(&l);
	sc_hub_done(&h);
	*ret = res;
	return r;
}
