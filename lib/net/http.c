#include "http.h"
#include "../base/util.h"

#include <strings.h>

#include "curl_api.h"

#define MAX_BODY (16u << 20)

struct collector {
	struct http_resp *r;
	size_t max;
	bool over;
};

/* The buffer holds len + 1 bytes rounded up to a power of two (at least
 * 64): growing it geometrically keeps a 64 MiB answer linear, where a
 * realloc per 16 KiB chunk copied it thousands of times. */
static size_t capacity_for(size_t n)
{
	size_t c = 64;
	while (c < n)
		c <<= 1;
	return c;
}

int sc_http_append(char **buf, size_t *len, const void *p, size_t n, size_t max)
{
	if (*len + n > max)
		return -EFBIG;
	char *b = *buf;
	if (!b || *len + n + 1 > capacity_for(*len + 1))
		b = realloc(*buf, capacity_for(*len + n + 1));
	if (!b)
		return -ENOMEM;
	memcpy(b + *len, p, n);
	*buf = b;
	*len += n;
	b[*len] = '\0';
	return 0;
}

static size_t collect(char *p, size_t size, size_t n, void *ud)
{
	struct collector *c = ud;
	if (c->r->len + size * n > c->max) {
		c->over = true;
		return 0;
	}
	return sc_http_append(&c->r->body, &c->r->len, p, size * n, c->max) < 0 ? 0 : size * n;
}

static size_t collect_header(char *p, size_t size, size_t n, void *ud)
{
	struct http_resp *r = ud;
	size_t len = size * n;
	/* a new status line (after a 100 Continue) starts the headers anew */
	if (len > 5 && memcmp(p, "HTTP/", 5) == 0)
		r->hlen = 0;
	return sc_http_append(&r->headers, &r->hlen, p, len, 256 * 1024) < 0 ? 0 : len;
}

const char *sc_http_header(const struct http_resp *r, const char *name, char *buf, size_t len)
{
	size_t nl = strlen(name);
	for (const char *p = r->headers; p && *p;) {
		const char *eol = strchr(p, '\n');
		size_t ll = eol ? (size_t)(eol - p) : strlen(p);
		if (ll > nl && p[nl] == ':' && strncasecmp(p, name, nl) == 0) {
			const char *v = p + nl + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			size_t vl = (size_t)(p + ll - v);
			while (vl && (v[vl - 1] == '\r' || v[vl - 1] == ' '))
				vl--;
			snprintf(buf, len, "%.*s", (int)vl, v);
			return buf;
		}
		p = eol ? eol + 1 : p + ll;
	}
	return NULL;
}

void sc_http_resp_done(struct http_resp *r)
{
	if (r) {
		free(r->body);
		free(r->headers);
		r->body = r->headers = NULL;
		r->len = r->hlen = 0;
	}
}

int sc_http_get(const char *url, const char *bearer, int timeout_ms, struct http_resp *ret, sc_err *e)
{
	*ret = (struct http_resp){ 0 };
	return sc_http_get_max(url, bearer, timeout_ms, MAX_BODY, ret, e);
}

int sc_http_get_max(const char *url, const char *bearer, int timeout_ms, size_t max_body, struct http_resp *ret,
		    sc_err *e)
{
	*ret = (struct http_resp){ 0 };
	const struct curl_api *cu = sc_curl(e);
	if (!cu)
		return -ENOSYS;
	CURL *c = sc_curl_easy(cu);
	struct curl_slist *hdr = NULL;
	struct http_resp r = { 0 };
	struct collector col = { .r = &r, .max = max_body };
	char errbuf[CURL_ERROR_SIZE] = "";
	*ret = (struct http_resp){ 0 };
	if (!c)
		return sc_error(e, -ENOMEM, "out of memory");
	if (bearer) {
		_cleanup_free_ char *h = NULL;
		if (asprintf(&h, "Authorization: Bearer %s", bearer) < 0 || !(hdr = cu->slist_append(NULL, h))) {
			cu->easy_cleanup(c);
			return sc_error(e, -ENOMEM, "out of memory");
		}
	}
	cu->easy_setopt(c, CURLOPT_URL, url);
	cu->easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	cu->easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	cu->easy_setopt(c, CURLOPT_WRITEDATA, &col);
	cu->easy_setopt(c, CURLOPT_HEADERFUNCTION, collect_header);
	cu->easy_setopt(c, CURLOPT_HEADERDATA, &r);
	cu->easy_setopt(c, CURLOPT_USERAGENT, "sparkctl/" SPARKCTL_VERSION);
	cu->easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	cu->easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	cu->easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	cu->easy_setopt(c, CURLOPT_PROXY, "");  /* engines are local: never through http_proxy */
	CURLcode cc = cu->easy_perform(c);
	int rv = 0;
	if (cc == CURLE_OK) {
		cu->easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
		*ret = r;
	} else {
		sc_http_resp_done(&r);
		if (col.over)
			rv = sc_error(e, -EFBIG, "%s: the answer is larger than %zu MiB; sparkctl reads no more of it", url,
				      max_body >> 20);
		else if (cc == CURLE_COULDNT_CONNECT)
			rv = sc_error(e, -ECONNREFUSED, "%s: connection refused", url);
		else if (cc == CURLE_OPERATION_TIMEDOUT)
			rv = sc_error(e, -ETIMEDOUT, "%s: no answer within %d ms", url, timeout_ms);
		else
			rv = sc_error(e, -EIO, "%s: %s", url, errbuf[0] ? errbuf : cu->easy_strerror(cc));
	}
	cu->slist_free_all(hdr);
	cu->easy_cleanup(c);
	return rv;
}
