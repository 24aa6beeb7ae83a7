#include "hub.h"
#include "../base/json.h"
#include "curl_api.h"
#include "http.h"
#include "../base/token.h"
#include "../base/util.h"

#include <ctype.h>
#include <fnmatch.h>
#include <strings.h>
#include <jansson.h>

#define API_TIMEOUT_MS 60000
/* A listing page of the Hub holds at most 1,000 entries (well under 1 MiB);
 * this is far past any real one, and says so when a server sends more. */
#define MAX_PAGE_BYTES (64u << 20)
#define MAX_PAGES 100000

void sc_hub_done(struct hub *h)
{
	if (!h)
		return;
	free(h->endpoint);
	sc_secret_free(h->token);
	memset(h, 0, sizeof *h);
}

int sc_hub_init(struct hub *ret, sc_err *e)
{
	*ret = (struct hub){ 0 };
	struct hub h = { 0 };
	const char *ep = getenv("HF_ENDPOINT"), *off = getenv("HF_HUB_OFFLINE");
	h.endpoint = strdup(ep && ep[0] ? ep : "https://huggingface.co");
	if (!h.endpoint)
		return sc_error(e, -ENOMEM, "out of memory");
	for (size_t n = strlen(h.endpoint); n && h.endpoint[n - 1] == '/'; n--)
		h.endpoint[n - 1] = '\0';
	h.offline = off && (streq(off, "1") || strcasecmp(off, "true") == 0 || strcasecmp(off, "yes") == 0);
	static const char *const envs[] = { "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN" };
	for (size_t i = 0; i < ARRAY_SIZE(envs) && !h.token; i++) {
		const char *t = getenv(envs[i]);
		if (t && t[0] && !sc_token_ok(t)) {
			sc_hub_done(&h);
			return sc_error(e, -EINVAL, "$%s holds a control character: it cannot be sent", envs[i]);
		}
		if (t && t[0]) {
			if (!(h.token = strdup(t)))
				goto oom;
			snprintf(h.token_source, sizeof h.token_source, "$%s", envs[i]);
		}
	}
	if (!h.token) {
		_cleanup_free_ char *path = NULL;
		const char *tp = getenv("HF_TOKEN_PATH"), *home = getenv("HF_HOME");
		if (tp && tp[0])
			path = strdup(tp);
		else if (home && home[0])
			path = sc_path_join(home, "token");
		else
			path = sc_expand_home("~/.cache/huggingface/token");
		bool loose;
		sc_err te;
		if (path && access(path, F_OK) == 0) {
			if (sc_token_read(path, &h.token, &loose, &te) < 0) {
				sc_hub_done(&h);
				return sc_error(e, -EINVAL, "%s", te.msg);
			}
			if (h.token)
				snprintf(h.token_source, sizeof h.token_source, "the file %s", path);
		}
	}
	*ret = h;
	return 0;
oom:
	sc_hub_done(&h);
	return sc_error(e, -ENOMEM, "out of memory");
}

void sc_url_origin(const char *url, char *out, size_t len)
{
	const char *s = strstr(url, "://");
	const char *host = s ? s + 3 : url;
	size_t hl = strcspn(host, "/?#");
	char scheme[16] = "http";
	if (s)
		snprintf(scheme, sizeof scheme, "%.*s", (int)(s - url), url);
	for (char *p = scheme; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	/* the port is part of the origin: make the default one explicit */
	bool has_port = memchr(host, ':', hl) && host[0] != '[';
	snprintf(out, len, "%s://%.*s%s", scheme, (int)hl, host,
		 has_port ? "" : streq(scheme, "https") ? ":443" : ":80");
	for (char *p = out + strlen(scheme) + 3; *p; p++)
		*p = (char)tolower((unsigned char)*p);
}

int sc_hub_error(const struct hub *h, const char *what, const struct http_resp *r, sc_err *e)
{
	char code[128] = "", msg[512] = "", retry[32];
	sc_http_header(r, "X-Error-Code", code, sizeof code);
	sc_http_header(r, "X-Error-Message", msg, sizeof msg);
	if (!msg[0] && r->body) {
		json_t *j = json_loadb(r->body, r->len, 0, NULL);
		json_t *err = json_object_get(j, "error");
		if (json_is_string(err))
			snprintf(msg, sizeof msg, "%s", json_string_value(err));
		json_decref(j);
	}
	const char *hint = "";
	char hintbuf[300];
	if (r->status == 401 || r->status == 403 || streq(code, "GatedRepo")) {
		snprintf(hintbuf, sizeof hintbuf, h->token ? " (the token from %s was not accepted for it)"
							   : " (no token was sent: set HF_TOKEN, or log in so that %s exists)",
			 h->token ? h->token_source : "~/.cache/huggingface/token");
		hint = hintbuf;
	} else if (r->status == 429) {
		snprintf(hintbuf, sizeof hintbuf, " (rate limited; Retry-After: %s)",
			 sc_http_header(r, "Retry-After", retry, sizeof retry) ? retry : "not given");
		hint = hintbuf;
	}
	return sc_error(e, r->status == 404 ? SC_ENOTFOUND : -EIO, "%s: HTTP %ld%s%s%s%s%s", what, r->status,
			code[0] ? " " : "", code, msg[0] ? ": " : "", msg, hint);
}

static int get_json(const struct hub *h, const char *url, const char *what, struct http_resp *r, json_t **ret,
		    sc_err *e)
{
	int x = sc_http_get_max(url, h->token, API_TIMEOUT_MS, MAX_PAGE_BYTES, r, e);
	if (x < 0)
		return x;
	if (r->status != 200)
		return sc_hub_error(h, what, r, e);
	json_error_t je;
	if (!(*ret = json_loadb(r->body, r->len, 0, &je)))
		return sc_error(e, SC_ENOTJSON, "%s: the answer is not JSON: %s", what, je.text);
	return 0;
}

/* A path segment, or a path with '/' kept, percent-encoded. */
static char *escape(const char *s, bool keep_slash)
{
	size_t n = 0;
	char *out = malloc(strlen(s) * 3 + 1);
	if (!out)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (isalnum(*p) || strchr("-._~", *p) || (keep_slash && *p == '/'))
			out[n++] = (char)*p;
		else
			n += (size_t)sprintf(out + n, "%%%02X", *p);
	}
	out[n] = '\0';
	return out;
}

char *sc_hub_resolve_url(const struct hub *h, const char *repo, const char *commit, const char *path)
{
	_cleanup_free_ char *p = escape(path, true);
	char *url;
	if (!p || asprintf(&url, "%s/%s/resolve/%s/%s", h->endpoint, repo, commit, p) < 0)
		return NULL;
	return url;
}

static bool is_commit(const char *rev)
{
	if (strlen(rev) != 40)
		return false;
	for (const char *p = rev; *p; p++)
		if (!isxdigit((unsigned char)*p) || isupper((unsigned char)*p))
			return false;
	return true;
}

/* Link: <url>; rel="next" */
static char *next_link(const struct http_resp *r)
{
	char link[2048];
	if (!sc_http_header(r, "Link", link, sizeof link))
		return NULL;
	for (char *p = link; (p = strchr(p, '<'));) {
		char *end = strchr(p, '>');
		if (!end)
			break;
		if (strstr(end, "rel=\"next\"") || strstr(end, "rel=next"))
			return strndup(p + 1, (size_t)(end - p - 1));
		p = end;
	}
	return NULL;
}

void sc_hub_listing_done(struct hub_listing *l)
{
	if (!l)
		return;
	free(l->commit);
	for (size_t i = 0; i < l->n; i++)
		free(l->files[i].path);
	free(l->files);
	sc_strset_done(&l->paths);
	memset(l, 0, sizeof *l);
}

bool sc_repo_id_valid(const char *id)
{
	/* huggingface_hub's validate_repo_id: [A-Za-z0-9._-], no "--" or
	 * "..", not starting or ending with '-' or '.', at most 96 a part */
	const char *slash = id ? strchr(id, '/') : NULL;
	if (!slash || strchr(slash + 1, '/'))
		return false;
	for (const char *p = id; p;) {
		size_t n = strcspn(p, "/");
		if (!n || n > 96 || p[0] == '-' || p[0] == '.' || p[n - 1] == '-' || p[n - 1] == '.')
			return false;
		for (size_t i = 0; i < n; i++)
			if (!isalnum((unsigned char)p[i]) && !strchr("._-", p[i]))
				return false;
		if (memmem(p, n, "--", 2) || memmem(p, n, "..", 2))
			return false;
		p = p[n] ? p + n + 1 : NULL;
	}
	return true;
}

static bool is_hex(const char *s, size_t n)
{
	if (!s || strlen(s) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* A path the files may go to: relative, no segment "." or "..", nothing
 * under .sparkctl/ (the records of what is up to date live there). */
static const char *unsafe_path(const char *path)
{
	if (!path || !*path || path[0] == '/')
		return "not a relative path";
	for (const char *p = path; *p;) {
		size_t n = strcspn(p, "/");
		if (!n || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return "a path with an empty, . or .. segment";
		if (p == path && n == 9 && memcmp(p, ".sparkctl", 9) == 0)
			return "a path under .sparkctl/, where sparkctl keeps its records";
		if (memchr(p, '\\', n))
			return "a path with a backslash";
		p += n;
		if (*p)
			p++;
	}
	return NULL;
}

int sc_hub_listing_add_page(struct hub_listing *l, const char *body, size_t len, sc_err *e)
{
	json_error_t je;
	_cleanup_json_ json_t *arr = json_loadb(body, len, 0, &je);
	size_t i, cap = l->n;
	json_t *it;
	if (!arr)
		return sc_error(e, SC_ENOTJSON, "the file listing is not JSON: %s", je.text);
	if (!json_is_array(arr))
		return sc_error(e, SC_ENOTOBJ, "the file listing is not a JSON array");
	json_array_foreach(arr, i, it) {
		const char *type = json_string_value(json_object_get(it, "type"));
		const char *path = json_string_value(json_object_get(it, "path"));
		const char *why;
		if (!type || !streq(type, "file"))
			continue;
		if ((why = unsafe_path(path)))
			return sc_error(e, SC_ENOTOBJ, "refused: the listing names an unsafe path \"%s\" (%s)", path ? path : "(none)",
					why);
		int k = sc_strset_add(&l->paths, path, strlen(path));
		if (k < 0)
			return sc_error(e, -ENOMEM, "out of memory");
		if (!k)
			return sc_error(e, SC_ENOTOBJ, "refused: the listing names \"%s\" twice", path);
		if (sc_grow(&l->files, &cap, l->n + 1, sizeof *l->files) < 0)
			return sc_error(e, -ENOMEM, "out of memory");
		struct hub_file *f = &l->files[l->n];
		memset(f, 0, sizeof *f);
		json_t *lfs = json_object_get(it, "lfs");
		const char *oid = json_string_value(json_object_get(it, "oid"));
		json_t *size = json_object_get(it, "size");
		if (json_is_object(lfs)) {
			const char *sha = json_string_value(json_object_get(lfs, "oid"));
			f->lfs = true;
			if (!is_hex(sha, 64))
				return sc_error(e, SC_ENOTOBJ, "refused: \"%s\" has no SHA-256 in the listing: cannot verify it", path);
			snprintf(f->sha256, sizeof f->sha256, "%s", sha);
			if (json_is_integer(json_object_get(lfs, "size")))
				size = json_object_get(lfs, "size");
		} else if (!is_hex(oid, 40))
			return sc_error(e, SC_ENOTOBJ, "refused: \"%s\" has no git blob id in the listing: cannot verify it", path);
		snprintf(f->oid, sizeof f->oid, "%s", oid ? oid : "");
		if (!json_is_integer(size) || json_integer_value(size) < 0)
			return sc_error(e, SC_ENOTOBJ, "refused: \"%s\" has no size in the listing", path);
		f->size = (uint64_t)json_integer_value(size);
		if (!(f->path = strdup(path)))
			return sc_error(e, -ENOMEM, "out of memory");
		l->n++;
	}
	return 0;
}

int sc_hub_list(const struct hub *h, const char *repo, const char *rev, struct hub_listing *ret, sc_err *e)
{
	*ret = (struct hub_listing){ 0 };
	struct hub_listing l = { 0 };
	int r;
	char what[512];
	if (h->offline)
		return sc_error(e, -ENETUNREACH, "HF_HUB_OFFLINE is set: no network (unset it to download)");
	if (is_commit(rev))
		l.commit = strdup(rev);
	else {
		_cleanup_free_ char *erev = escape(rev, false), *url = NULL;
		struct http_resp resp = { 0 };
		json_t *j = NULL;
		if (!erev || asprintf(&url, "%s/api/models/%s/revision/%s", h->endpoint, repo, erev) < 0)
			return sc_error(e, -ENOMEM, "out of memory");
		snprintf(what, sizeof what, "%s@%s", repo, rev);
		r = get_json(h, url, what, &resp, &j, e);
		l.requests++;
		sc_http_resp_done(&resp);
		if (r < 0)
			return r;
		const char *sha = json_string_value(json_object_get(j, "sha"));
		if (!sha || !is_commit(sha)) {
			json_decref(j);
			return sc_error(e, SC_ENOTOBJ, "%s: the revision answer has no commit sha", what);
		}
		l.commit = strdup(sha);
		json_decref(j);
	}
	if (!l.commit)
		return sc_error(e, -ENOMEM, "out of memory");
	char *url;
	if (asprintf(&url, "%s/api/models/%s/tree/%s?recursive=true", h->endpoint, repo, l.commit) < 0) {
		sc_hub_listing_done(&l);
		return sc_error(e, -ENOMEM, "out of memory");
	}
	snprintf(what, sizeof what, "%s: the file listing", repo);
	struct sc_strset pages = { 0 };
	for (unsigned page = 0; url; page++) {
		struct http_resp resp = { 0 };
		char origin_ep[256], origin_next[256];
		sc_err pe;
		r = sc_strset_add(&pages, url, strlen(url)) < 0 ? sc_error(e, -ENOMEM, "out of memory") : 0;
		if (r >= 0)
			r = sc_http_get_max(url, h->token, API_TIMEOUT_MS, MAX_PAGE_BYTES, &resp, e);
		l.requests++;
		free(url);
		url = NULL;
		if (r >= 0 && resp.status != 200)
			r = sc_hub_error(h, what, &resp, e);
		if (r >= 0 && (r = sc_hub_listing_add_page(&l, resp.body ? resp.body : "", resp.len, &pe)) < 0)
			sc_error(e, r, "%s: %s", what, pe.msg);
		if (r >= 0 && (url = next_link(&resp))) {
			/* a next page on another origin would get the token: refuse */
			sc_url_origin(h->endpoint, origin_ep, sizeof origin_ep);
			sc_url_origin(url, origin_next, sizeof origin_next);
			if (!streq(origin_ep, origin_next))
				r = sc_error(e, -EPERM, "%s: the next page is on another origin (%s)", what, origin_next);
			else if (sc_strset_has(&pages, url, strlen(url)))
				r = sc_error(e, -ELOOP, "%s: the next page is one already read (%s): the listing loops", what,
					     url);
			else if (page + 1 >= MAX_PAGES)
				r = sc_error(e, -ELOOP, "%s: more than %d pages", what, MAX_PAGES);
		}
		sc_http_resp_done(&resp);
		if (r < 0) {
			free(url);
			sc_strset_done(&pages);
			sc_hub_listing_done(&l);
			return r;
		}
	}
	sc_strset_done(&pages);
	*ret = l;
	return 0;
}

bool sc_hub_glob_match(const char *pattern, const char *path)
{
	size_t n = strlen(pattern);
	if (n && pattern[n - 1] == '/') {
		_cleanup_free_ char *p = malloc(n + 2);
		if (!p)
			return false;
		memcpy(p, pattern, n);
		memcpy(p + n, "*", 2);
		return fnmatch(p, path, 0) == 0;
	}
	return fnmatch(pattern, path, 0) == 0;
}

bool sc_hub_keep(const char *path, char *const *include, size_t n_inc, char *const *exclude, size_t n_exc)
{
	bool in = n_inc == 0;
	for (size_t i = 0; i < n_inc && !in; i++)
		in = sc_hub_glob_match(include[i], path);
	for (size_t i = 0; i < n_exc && in; i++)
		in = !sc_hub_glob_match(exclude[i], path);
	return in;
}
