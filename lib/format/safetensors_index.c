/* model.safetensors.index.json: the shard files of weight_map, read with
 * the streaming scanner since MoE indexes hold 100,000+ entries. */
#include "jscan.h"
#include "safetensors.h"
#include "../base/strset.h"
#include "../base/util.h"

void sc_st_index_done(struct st_index *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < x->n_shards; i++)
		free(x->shards[i]);
	free(x->shards);
	memset(x, 0, sizeof *x);
}

/* weight_map names each shard many times: a hash set keeps an index of
 * 100,000 shards linear (a list was quadratic: 47 s). */
static int index_add_shard(struct sc_strset *set, const char *s, size_t n, sc_err *e)
{
	return sc_strset_add(set, s, n) < 0 ? sc_error(e, -ENOMEM, "out of memory") : 0;
}

static int index_object(struct jp *j, struct st_index *x, struct sc_strset *set, int kind)
{
	const uint8_t *s, *last = NULL;
	size_t n, last_n = 0;
	int esc, r;
	js_skip_ws(j);
	if (j->p >= j->end || *j->p != '{')
		return sc_js_wrong_kind(j, "%s is not an object", kind ? "weight_map" : "metadata");
	if ((r = sc_js_begin(j, '{', '}')) <= 0)
		return r;
	do {
		if ((r = sc_js_scan_string(j, &s, &n, &esc)) < 0 || (r = js_expect(j, ':')) < 0)
			return r;
		if (kind == 1) {
			const uint8_t *v;
			size_t vn;
			char tmp[4096];
			js_skip_ws(j);
			if (j->p >= j->end || *j->p != '"')
				return sc_js_wrong_kind(j, "weight_map value is not a file name");
			if ((r = sc_js_scan_string(j, &v, &vn, &esc)) < 0)
				return r;
			x->n_entries++;
			/* weight_map names the same shard in long runs */
			if (last && vn == last_n && memcmp(last, v, vn) == 0)
				continue;
			last = v;
			last_n = vn;
			if (vn >= sizeof tmp)
				return sc_error(j->e, SC_ENOTOBJ, "weight_map file name too long");
			if ((r = sc_js_decode_string(j, v, vn, esc, tmp, &vn)) < 0 ||
			    (r = index_add_shard(set, tmp, vn, j->e)) < 0)
				return r;
		} else if (!esc && n == 10 && memcmp(s, "total_size", 10) == 0) {
			js_skip_ws(j);
			const uint8_t *start = j->p;
			if (sc_js_parse_u64(j, &x->total_size) < 0) {
				/* some writers store total_size as a float */
				j->p = start;
				if ((r = sc_js_skip_value(j, 1)) < 0)
					return r;
			} else
				x->has_total_size = 1;
		} else if ((r = sc_js_skip_value(j, 1)) < 0)
			return r;
	} while ((r = js_next_member(j, '}')) > 0);
	return r;
}

int sc_st_index_parse(const uint8_t *buf, size_t len, struct st_index *ret, sc_err *e)
{
	*ret = (struct st_index){ 0 };
	struct st_index x = { 0 };
	struct sc_strset set = { 0 };
	const uint8_t *s;
	size_t n;
	int esc, r = 0, have_map = 0;
	struct jp j = { .start = buf, .p = buf, .end = buf + len, .e = e };
	js_skip_ws(&j);
	if (j.p >= j.end || *j.p != '{')
		return sc_error(e, j.p < j.end && *j.p == '[' ? SC_ENOTOBJ : SC_ENOTJSON, "index is not a JSON object");
	if ((r = sc_js_begin(&j, '{', '}')) < 0)
		goto fail;
	while (r > 0) {
		if ((r = sc_js_scan_string(&j, &s, &n, &esc)) < 0 || (r = js_expect(&j, ':')) < 0)
			goto fail;
		if (!esc && n == 10 && memcmp(s, "weight_map", 10) == 0) {
			if ((r = index_object(&j, &x, &set, 1)) < 0)
				goto fail;
			have_map = 1;
		} else if (!esc && n == 8 && memcmp(s, "metadata", 8) == 0) {
			js_skip_ws(&j);
			if (j.p < j.end && *j.p == 'n')
				r = sc_js_skip_literal(&j, "null");
			else
				r = index_object(&j, &x, &set, 0);
			if (r < 0)
				goto fail;
		} else if ((r = sc_js_skip_value(&j, 1)) < 0)
			goto fail;
		if ((r = js_next_member(&j, '}')) < 0)
			goto fail;
	}
	js_skip_ws(&j);
	if (j.p != j.end) {
		r = sc_error(e, SC_ENOTJSON, "trailing bytes after the index JSON");
		goto fail;
	}
	if (!have_map) {
		r = sc_error(e, SC_ENOTOBJ, "index has no weight_map");
		goto fail;
	}
	x.shards = sc_strset_steal(&set, &x.n_shards);
	*ret = x;
	return 0;
fail:
	sc_strset_done(&set);
	sc_st_index_done(&x);
	return r;
}
