#include "event_api.h"
#include "../base/dlib.h"

static struct event_api api;
#define S(f, n) SC_DLIB_SYM(struct event_api, f, n)
static const struct sc_dlib_sym syms[] = {
	S(base_new, "event_base_new"),
	S(base_free, "event_base_free"),
	S(base_dispatch, "event_base_dispatch"),
	S(base_loopbreak, "event_base_loopbreak"),
	S(event_new, "event_new"),
	S(event_free, "event_free"),
	S(event_add, "event_add"),
	S(event_del, "event_del"),
	S(event_active, "event_active"),
	{ 0 },
};
#undef S

/* Debian 12 ships libevent 2.1; the loop is all of it the proxy uses, so
 * libevent_core will do */
static const char *const sonames[] = { "libevent_core-2.1.so.7", "libevent-2.1.so.7", NULL };
static struct sc_dlib lib = { .what = "libevent", .sonames = sonames, .syms = syms, .api = &api,
			      .once = PTHREAD_ONCE_INIT };

const struct event_api *sc_event(sc_err *e)
{
	return sc_dlib_get(&lib, e);
}
