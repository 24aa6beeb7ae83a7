/* libevent (its event loop and evhttp, both sides of HTTP), loaded the
 * first time the proxy runs: the other commands never pay for it. */
#ifndef SC_EVENT_API_H
#define SC_EVENT_API_H

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include "../base/err.h"

struct event_api {
	struct event_config *(*config_new)(void);
	int (*config_set_flag)(struct event_config *, int);
	void (*config_free)(struct event_config *);
	struct event_base *(*base_new_with_config)(const struct event_config *);
	void (*base_free)(struct event_base *);
	int (*base_dispatch)(struct event_base *);
	int (*base_loopbreak)(struct event_base *);
	struct event *(*event_new)(struct event_base *, evutil_socket_t, short, event_callback_fn, void *);
	void (*event_free)(struct event *);
	int (*event_add)(struct event *, const struct timeval *);
	int (*event_del)(struct event *);
	void (*event_active)(struct event *, int, short);

	struct evhttp *(*http_new)(struct event_base *);
	void (*http_free)(struct evhttp *);
	struct evhttp_bound_socket *(*bind_socket_with_handle)(struct evhttp *, const char *, ev_uint16_t);
	struct evconnlistener *(*bound_socket_get_listener)(struct evhttp_bound_socket *);
	void (*del_accept_socket)(struct evhttp *, struct evhttp_bound_socket *);
	void (*set_gencb)(struct evhttp *, void (*)(struct evhttp_request *, void *), void *);
	void (*set_bevcb)(struct evhttp *, struct bufferevent *(*)(struct event_base *, void *), void *);
	void (*set_max_body_size)(struct evhttp *, ev_ssize_t);
	void (*set_max_headers_size)(struct evhttp *, ev_ssize_t);
	void (*set_timeout)(struct evhttp *, int);
	void (*set_allowed_methods)(struct evhttp *, ev_uint16_t);

	void (*send_reply)(struct evhttp_request *, int, const char *, struct evbuffer *);
	void (*send_reply_start)(struct evhttp_request *, int, const char *);
	void (*send_reply_chunk)(struct evhttp_request *, struct evbuffer *);
	void (*send_reply_chunk_with_cb)(struct evhttp_request *, struct evbuffer *,
					 void (*)(struct evhttp_connection *, void *), void *);
	void (*send_reply_end)(struct evhttp_request *);

	enum evhttp_cmd_type (*req_command)(const struct evhttp_request *);
	const char *(*req_uri)(const struct evhttp_request *);
	struct evkeyvalq *(*req_input_headers)(struct evhttp_request *);
	struct evkeyvalq *(*req_output_headers)(struct evhttp_request *);
	struct evbuffer *(*req_input_buffer)(struct evhttp_request *);
	struct evbuffer *(*req_output_buffer)(struct evhttp_request *);
	struct evhttp_connection *(*req_connection)(struct evhttp_request *);
	int (*req_response_code)(const struct evhttp_request *);
	struct evhttp_request *(*req_new)(void (*)(struct evhttp_request *, void *), void *);
	void (*req_set_chunked_cb)(struct evhttp_request *, void (*)(struct evhttp_request *, void *));
	void (*req_set_header_cb)(struct evhttp_request *, int (*)(struct evhttp_request *, void *));
	void (*req_set_error_cb)(struct evhttp_request *, void (*)(enum evhttp_request_error, void *));
	void (*req_set_on_complete_cb)(struct evhttp_request *, void (*)(struct evhttp_request *, void *), void *);
	int (*make_request)(struct evhttp_connection *, struct evhttp_request *, enum evhttp_cmd_type, const char *);
	void (*cancel_request)(struct evhttp_request *);

	struct evhttp_connection *(*conn_new)(struct event_base *, struct evdns_base *, const char *, ev_uint16_t);
	void (*conn_free)(struct evhttp_connection *);
	void (*conn_set_closecb)(struct evhttp_connection *, void (*)(struct evhttp_connection *, void *), void *);
	void (*conn_set_timeout)(struct evhttp_connection *, int);
	void (*conn_set_max_headers_size)(struct evhttp_connection *, ev_ssize_t);
	void (*conn_set_retries)(struct evhttp_connection *, int);
	void (*conn_get_peer)(struct evhttp_connection *, char **, ev_uint16_t *);
	struct bufferevent *(*conn_get_bufferevent)(struct evhttp_connection *);

	const char *(*find_header)(const struct evkeyvalq *, const char *);
	int (*add_header)(struct evkeyvalq *, const char *, const char *);
	int (*remove_header)(struct evkeyvalq *, const char *);

	struct evbuffer *(*buf_new)(void);
	void (*buf_free)(struct evbuffer *);
	int (*buf_add)(struct evbuffer *, const void *, size_t);
	int (*buf_add_printf)(struct evbuffer *, const char *, ...);
	size_t (*buf_length)(const struct evbuffer *);
	unsigned char *(*buf_pullup)(struct evbuffer *, ev_ssize_t);
	int (*buf_add_buffer)(struct evbuffer *, struct evbuffer *);
	int (*buf_drain)(struct evbuffer *, size_t);
	ev_ssize_t (*buf_copyout_from)(struct evbuffer *, const struct evbuffer_ptr *, void *, size_t);
	int (*buf_ptr_set)(struct evbuffer *, struct evbuffer_ptr *, size_t, enum evbuffer_ptr_how);

	int (*listener_enable)(struct evconnlistener *);
	int (*listener_disable)(struct evconnlistener *);
	evutil_socket_t (*listener_get_fd)(struct evconnlistener *);
	struct bufferevent *(*bev_socket_new)(struct event_base *, evutil_socket_t, int);
	evutil_socket_t (*bev_getfd)(struct bufferevent *);
	struct evbuffer *(*bev_get_output)(struct bufferevent *);
	struct evbuffer *(*bev_get_input)(struct bufferevent *);
	int (*bev_enable)(struct bufferevent *, short);
	int (*bev_disable)(struct bufferevent *, short);
	void (*bev_trigger)(struct bufferevent *, short, int);
	int (*buf_write)(struct evbuffer *, evutil_socket_t);
	int (*buf_freeze)(struct evbuffer *, int);
	int (*buf_unfreeze)(struct evbuffer *, int);
};

/* The loaded library (once, thread-safe); NULL with e filled when it
 * cannot be loaded. */
const struct event_api *sc_event(sc_err *e);

#endif
