#include "curl_api.h"
#include "../base/dlib.h"

#include <pthread.h>
#include <strings.h>

static struct curl_api api;
#define S(f, n) SC_DLIB_SYM(struct curl_api, f, n)
static const struct sc_dlib_sym syms[] = {
	S(easy_init, "curl_easy_init"),
	S(easy_setopt, "curl_easy_setopt"),
	S(easy_perform, "curl_easy_perform"),
	S(easy_getinfo, "curl_easy_getinfo"),
	S(easy_cleanup, "curl_easy_cleanup"),
	S(easy_strerror, "curl_easy_strerror"),
	S(slist_append, "curl_slist_append"),
	S(slist_free_all, "curl_slist_free_all"),
	S(global_init, "curl_global_init"),
	S(multi_init, "curl_multi_init"),
	S(multi_add_handle, "curl_multi_add_handle"),
	S(multi_remove_handle, "curl_multi_remove_handle"),
	S(multi_perform, "curl_multi_perform"),
	S(multi_poll, "curl_multi_poll"),
	S(multi_info_read, "curl_multi_info_read"),
	S(multi_cleanup, "curl_multi_cleanup"),
	S(easy_escape, "curl_easy_escape"),
	S(free, "curl_free"),
	{ 0 },
};
#undef S

static int init(void *p)
{
	const struct curl_api *a = p;
	return a->global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

static const char *const sonames[] = { "libcurl.so.4", NULL };
static struct sc_dlib lib = { .what = "libcurl", .sonames = sonames, .syms = syms, .api = &api, .init = init,
			      .once = PTHREAD_ONCE_INIT };

const struct curl_api *sc_curl(sc_err *e)
{
	return sc_dlib_get(&lib, e);
}

/* CURLOPT_PROTOCOLS_STR came with libcurl 7.85; the bitmask options are
 * what older ones know (and newer ones still honour). */
#ifndef CURLOPT_PROTOCOLS_STR
#define CURLOPT_PROTOCOLS_STR 10318
#define CURLOPT_REDIR_PROTOCOLS_STR 10319
#endif

CURL *sc_curl_easy(const struct curl_api *cu)
{
	CURL *c = cu->easy_init();
	if (!c)
		return NULL;
	if (cu->easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
	    cu->easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") != CURLE_OK) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
		if (cu->easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS)) != CURLE_OK ||
		    cu->easy_setopt(c, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS)) != CURLE_OK) {
#pragma GCC diagnostic pop
			cu->easy_cleanup(c);
			return NULL;
		}
	}
	return c;
}

bool sc_url_is_http(const char *url)
{
	return url && (strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0);
}
