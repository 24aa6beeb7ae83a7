#include "event_api.h"
#include "../base/dlib.h"

static struct event_api api;
#define S(f, n) SC_DLIB_SYM(struct event_api, f, n)
static const struct sc_dlib_sym syms[] = {
	S(config_new, "event_config_new"),
	S(config_set_flag, "event_config_set_flag"),
	S(config_free, "event_config_free"),
	S(base_new_with_config, "event_base_new_with_config"),
	S(base_free, "event_base_free"),
	S(base_dispatch, "event_base_dispatch"),
	S(base_loopbreak, "event_base_loopbreak"),
	S(event_new, "event_new"),
	S(event_free, "event_free"),
	S(event_add, "event_add"),
	S(event_del, "event_del"),
	S(event_active, "event_active"),
	S(http_new, "evhttp_new"),
	S(http_free, "evhttp_free"),
	S(bind_socket_with_handle, "evhttp_bind_socket_with_handle"),
	S(bound_socket_get_listener, "evhttp_bound_socket_get_listener"),
	S(del_accept_socket, "evhttp_del_accept_socket"),
	S(set_gencb, "evhttp_set_gencb"),
	S(set_bevcb, "evhttp_set_bevcb"),
	S(set_max_body_size, "evhttp_set_max_body_size"),
	S(set_max_headers_size, "evhttp_set_max_headers_size"),
	S(set_timeout, "evhttp_set_timeout"),
	S(set_allowed_methods, "evhttp_set_allowed_methods"),
	S(send_reply, "evhttp_send_reply"),
	S(send_reply_start, "evhttp_send_reply_start"),
	S(send_reply_chunk, "evhttp_send_reply_chunk"),
	S(send_reply_end, "evhttp_send_reply_end"),
	S(req_command, "evhttp_request_get_command"),
	S(req_uri, "evhttp_request_get_uri"),
	S(req_input_headers, "evhttp_request_get_input_headers"),
	S(req_output_headers, "evhttp_request_get_output_headers"),
	S(req_input_buffer, "evhttp_request_get_input_buffer"),
	S(req_output_buffer, "evhttp_request_get_output_buffer"),
	S(req_connection, "evhttp_request_get_connection"),
	S(req_response_code, "evhttp_request_get_response_code"),
	S(req_new, "evhttp_request_new"),
	S(req_set_chunked_cb, "evhttp_request_set_chunked_cb"),
	S(req_set_header_cb, "evhttp_request_set_header_cb"),
	S(req_set_error_cb, "evhttp_request_set_error_cb"),
	S(req_set_on_complete_cb, "evhttp_request_set_on_complete_cb"),
	S(make_request, "evhttp_make_request"),
	S(cancel_request, "evhttp_cancel_request"),
	S(conn_new, "evhttp_connection_base_new"),
	S(conn_free, "evhttp_connection_free"),
	S(conn_set_closecb, "evhttp_connection_set_closecb"),
	S(conn_set_timeout, "evhttp_connection_set_timeout"),
	S(conn_set_retries, "evhttp_connection_set_retries"),
	S(conn_get_peer, "evhttp_connection_get_peer"),
	S(conn_get_bufferevent, "evhttp_connection_get_bufferevent"),
	S(find_header, "evhttp_find_header"),
	S(add_header, "evhttp_add_header"),
	S(remove_header, "evhttp_remove_header"),
	S(buf_new, "evbuffer_new"),
	S(buf_free, "evbuffer_free"),
	S(buf_add, "evbuffer_add"),
	S(buf_add_printf, "evbuffer_add_printf"),
	S(buf_length, "evbuffer_get_length"),
	S(buf_pullup, "evbuffer_pullup"),
	S(buf_add_buffer, "evbuffer_add_buffer"),
	S(buf_drain, "evbuffer_drain"),
	S(buf_copyout_from, "evbuffer_copyout_from"),
	S(buf_ptr_set, "evbuffer_ptr_set"),
	S(listener_enable, "evconnlistener_enable"),
	S(listener_disable, "evconnlistener_disable"),
	S(listener_get_fd, "evconnlistener_get_fd"),
	S(bev_socket_new, "bufferevent_socket_new"),
	S(bev_getfd, "bufferevent_getfd"),
	S(bev_get_output, "bufferevent_get_output"),
	S(bev_disable, "bufferevent_disable"),
	S(bev_trigger, "bufferevent_trigger"),
	S(buf_write, "evbuffer_write"),
	S(buf_freeze, "evbuffer_freeze"),
	S(buf_unfreeze, "evbuffer_unfreeze"),
	{ 0 },
};
#undef S

/* Debian 12 ships libevent 2.1 (evhttp is in the full library, not in
 * libevent_core) */
static const char *const sonames[] = { "libevent-2.1.so.7", NULL };
static struct sc_dlib lib = { .what = "libevent", .sonames = sonames, .syms = syms, .api = &api,
			      .once = PTHREAD_ONCE_INIT };

const struct event_api *sc_event(sc_err *e)
{
	return sc_dlib_get(&lib, e);
}
