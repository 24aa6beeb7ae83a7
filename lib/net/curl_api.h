/* libcurl, loaded the first time sparkctl speaks HTTP. Linked normally it
 * brings ~30 libraries (LDAP, GSSAPI, SSH, RTMP, ...) into every start:
 * 7.8 ms instead of 1.2 ms, paid on every Tab of shell completion. */
#ifndef SC_CURL_API_H
#define SC_CURL_API_H

#include <curl/curl.h>
#include <stdbool.h>

#include "../base/err.h"

struct curl_api {
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	void (*easy_cleanup)(CURL *);
	const char *(*easy_strerror)(CURLcode);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
	CURLcode (*global_init)(long);
	CURLM *(*multi_init)(void);
	CURLMcode (*multi_add_handle)(CURLM *, CURL *);
	CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
	CURLMcode (*multi_perform)(CURLM *, int *);
	CURLMcode (*multi_poll)(CURLM *, struct curl_waitfd *, unsigned int, int, int *);
	CURLMsg *(*multi_info_read)(CURLM *, int *);
	CURLMcode (*multi_cleanup)(CURLM *);
	char *(*easy_escape)(CURL *, const char *, int);
	void (*free)(void *);
};

/* The loaded library (once, thread-safe); NULL with e filled when it
 * cannot be loaded. */
const struct curl_api *sc_curl(sc_err *e);

/* A new easy handle that speaks http and https only, in the URL given and
 * in any redirect: every handle sparkctl makes comes from here, so a
 * Location: gopher://, file:// or dict:// from a hostile server never
 * reaches another protocol. NULL when out of memory. */
CURL *sc_curl_easy(const struct curl_api *cu);

/* Is url http:// or https:// (case-insensitive)? */
bool sc_url_is_http(const char *url);

#endif
