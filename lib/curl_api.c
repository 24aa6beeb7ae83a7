#include "curl_api.h"

#include <dlfcn.h>
#include <pthread.h>
#include <strings.h>

static struct curl_api api;
static const char *load_error;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
	void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		load_error = dlerror();
		return;
	}
	struct curl_api a;
#define SYM(field, name) *(void **)&a.field = dlsym(h, name)
	SYM(easy_init, "curl_easy_init");
	SYM(easy_setopt, "curl_easy_setopt");
	SYM(easy_perform, "curl_easy_perform");
	SYM(easy_getinfo, "curl_easy_getinfo");
	SYM(easy_cleanup, "curl_easy_cleanup");
	SYM(easy_strerror, "curl_easy_strerror");
	SYM(slist_append, "curl_slist_append");
	SYM(slist_free_all, "curl_slist_free_all");
	SYM(global_init, "curl_global_init");
	SYM(multi_init, "curl_multi_init");
	SYM(multi_add_handle, "curl_multi_add_handle");
	SYM(multi_remove_handle, "curl_multi_remove_handle");
	SYM(multi_perform, "curl_multi_perform");
	SYM(multi_poll, "curl_multi_poll");
	SYM(multi_info_read, "curl_multi_info_read");
	SYM(multi_cleanup, "curl_multi_cleanup");
	SYM(easy_escape, "curl_easy_escape");
	SYM(free, "curl_free");
#undef SYM
	if (!a.easy_init || !a.easy_setopt || !a.easy_perform || !a.easy_getinfo || !a.easy_cleanup ||
	    !a.easy_strerror || !a.slist_append || !a.slist_free_all || !a.global_init || !a.multi_init || !a.multi_add_handle ||
	    !a.multi_remove_handle || !a.multi_perform || !a.multi_poll || !a.multi_info_read || !a.multi_cleanup ||
	    !a.easy_escape || !a.free) {
		load_error = "libcurl.so.4 lacks a function sparkctl needs";
		return;
	}
	if (a.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		load_error = "curl_global_init failed";
		return;
	}
	api = a;
}

const struct curl_api *sc_curl(sc_err *e)
{
	pthread_once(&once, load);
	if (!api.easy_init) {
		sc_error(e, -ENOSYS, "cannot load libcurl: %s", load_error ? load_error : "unknown error");
		return NULL;
	}
	return &api;
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
