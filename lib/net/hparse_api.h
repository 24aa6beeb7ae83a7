/* http-parser (Node's HTTP parser before llhttp; Debian's libhttp-parser,
 * kept with security fixes), loaded the first time the proxy runs: the
 * other commands never pay for it. It parses both sides of the proxy,
 * requests and answers, over (buf, len) pieces as they arrive, chunked
 * bodies included, and refuses two Content-Lengths or one beside
 * Transfer-Encoding (request smuggling, RFC 9112 6.3). */
#ifndef SC_HPARSE_API_H
#define SC_HPARSE_API_H

#include <http_parser.h>

#include "../base/err.h"

struct hparse_api {
	void (*init)(http_parser *, enum http_parser_type);
	size_t (*execute)(http_parser *, const http_parser_settings *, const char *, size_t);
	void (*pause)(http_parser *, int);
	int (*should_keep_alive)(const http_parser *);
	void (*set_max_header_size)(uint32_t);
	const char *(*status_str)(enum http_status);
	const char *(*errno_description)(enum http_errno);
	const char *(*method_str)(enum http_method);
};

/* The loaded library (once, thread-safe); NULL with e filled when it
 * cannot be loaded. */
const struct hparse_api *sc_hparse(sc_err *e);

#endif
