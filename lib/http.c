#include "http.h"
#include "util.h"

#include "curl_api.h"

#define MAX_BODY (16u << 20)

static size_t collect(char *p, size_t size, size_t n, void *ud)
{
	struct http_resp *r = ud;
	size_t len = size * n;
	if (r->len + len > MAX_BODY)
		return 0;
	char *b = realloc(r->body, r->len + len + 1);
	if (!b)
		return 0;
	memcpy(b + r->len, p, len);
	r->body = b;
	r->len += len;
	b[r->len] = '\0';
	return len;
}

void http_resp_free(struct http_resp *r)
{
	if (r) {
		free(r->body);
		r->body = NULL;
		r->len = 0;
	}
}

int sc_http_get(const char *url, const char *bearer, int timeout_ms, struct http_resp *ret, sc_err *e)
{
	const struct curl_api *cu = sc_curl(e);
	if (!cu)
		return -ENOSYS;
	CURL *c = cu->easy_init();
	struct curl_slist *hdr = NULL;
	struct http_resp r = { 0 };
	char errbuf[CURL_ERROR_SIZE] = "";
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
	cu->easy_setopt(c, CURLOPT_WRITEDATA, &r);
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
		http_resp_free(&r);
		if (cc == CURLE_COULDNT_CONNECT)
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
