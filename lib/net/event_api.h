/* libevent's event loop, loaded the first time the proxy runs: the other
 * commands never pay for it. The proxy registers its sockets on it
 * (edge-triggered, once each) with its timers and signals; HTTP is
 * http-parser's (hparse_api.h). */
#ifndef SC_EVENT_API_H
#define SC_EVENT_API_H

#include <event2/event.h>

#include "../base/err.h"

struct event_api {
	struct event_base *(*base_new)(void);
	void (*base_free)(struct event_base *);
	int (*base_dispatch)(struct event_base *);
	int (*base_loopbreak)(struct event_base *);
	struct event *(*event_new)(struct event_base *, evutil_socket_t, short, event_callback_fn, void *);
	void (*event_free)(struct event *);
	int (*event_add)(struct event *, const struct timeval *);
	int (*event_del)(struct event *);
	void (*event_active)(struct event *, int, short);
};

/* The loaded library (once, thread-safe); NULL with e filled when it
 * cannot be loaded. */
const struct event_api *sc_event(sc_err *e);

#endif
