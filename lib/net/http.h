/* HTTP with libcurl: small requests to engines on this machine. */
#ifndef SC_HTTP_H
#define SC_HTTP_H

#include <stddef.h>

#include "../base/err.h"

struct http_resp {
	long status;
	char *body;   /* NUL-terminated, at most 16 MiB */
	size_t len;
	char *headers;  /* the raw header lines of the answer */
	size_t hlen;
};

/* Append n bytes to a NUL-terminated buffer of *len bytes, refusing to
 * grow past max; <0 when it would (or memory is out). */
int sc_http_append(char **buf, size_t *len, const void *p, size_t n, size_t max);

/* The value of header name (case-insensitive) into buf; NULL if absent. */
const char *sc_http_header(const struct http_resp *r, const char *name, char *buf, size_t len);

/* GET url. 0 on any HTTP answer (check status); <0 on a transport error:
 * -ECONNREFUSED, -ETIMEDOUT, or -EIO with libcurl's message in e. bearer,
 * when set, is sent as Authorization: Bearer and never appears in e. */
int sc_http_get(const char *url, const char *bearer, int timeout_ms, struct http_resp *ret, sc_err *e);
/* The same with another cap on the body: -EFBIG past it. */
int sc_http_get_max(const char *url, const char *bearer, int timeout_ms, size_t max_body, struct http_resp *ret,
		    sc_err *e);
void sc_http_resp_done(struct http_resp *r);

#endif
