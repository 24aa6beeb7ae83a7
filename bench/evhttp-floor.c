/* The floor under sparkctl proxy's throughput: the smallest token proxy
 * that libevent's evhttp allows, with none of sparkctl's work (no routing
 * by model, no queue, no log, no metrics). bench-proxy.py runs it next to
 * sparkctl and nginx; what sparkctl costs beyond it is sparkctl's, the rest
 * is the library's.
 *
 *   evhttp-floor PORT UPSTREAM_PORT TOKEN
 *
 * It checks the bearer token, drops it and the hop-by-hop headers, and
 * sends the request over one of 64 kept-alive upstream connections (in
 * turn; evhttp queues on a busy one), like nginx's proxy_pass with
 * keepalive. */
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define UPSTREAMS 64

static struct evhttp_connection *up[UPSTREAMS];
static unsigned next_up;
static char bearer[512];

static int hop(const char *k)
{
	return !strcasecmp(k, "Connection") || !strcasecmp(k, "Keep-Alive") || !strcasecmp(k, "Transfer-Encoding") ||
	       !strcasecmp(k, "Content-Length") || !strcasecmp(k, "Authorization");
}

static void copy_headers(struct evkeyvalq *from, struct evkeyvalq *to)
{
	for (struct evkeyval *kv = from->tqh_first; kv; kv = kv->next.tqe_next)
		if (!hop(kv->key))
			evhttp_add_header(to, kv->key, kv->value);
}

static void answered(struct evhttp_request *ur, void *arg)
{
	struct evhttp_request *cr = arg;
	if (!ur || !evhttp_request_get_response_code(ur)) {
		evhttp_send_error(cr, 502, NULL);
		return;
	}
	copy_headers(evhttp_request_get_input_headers(ur), evhttp_request_get_output_headers(cr));
	evhttp_send_reply(cr, evhttp_request_get_response_code(ur), evhttp_request_get_response_code_line(ur),
			  evhttp_request_get_input_buffer(ur));
}

static void handle(struct evhttp_request *cr, void *arg)
{
	const char *auth = evhttp_find_header(evhttp_request_get_input_headers(cr), "Authorization");
	if (!auth || strcmp(auth, bearer)) {
		evhttp_send_error(cr, 401, NULL);
		return;
	}
	struct evhttp_request *ur = evhttp_request_new(answered, cr);
	copy_headers(evhttp_request_get_input_headers(cr), evhttp_request_get_output_headers(ur));
	evbuffer_add_buffer(evhttp_request_get_output_buffer(ur), evhttp_request_get_input_buffer(cr));
	if (evhttp_make_request(up[next_up++ % UPSTREAMS], ur, evhttp_request_get_command(cr),
				evhttp_request_get_uri(cr)) < 0)
		evhttp_send_error(cr, 502, NULL);
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: evhttp-floor PORT UPSTREAM_PORT TOKEN\n");
		return 2;
	}
	snprintf(bearer, sizeof bearer, "Bearer %s", argv[3]);
	/* the event base flags sparkctl proxy uses (lib/proxy/server.c) */
	struct event_config *cfg = event_config_new();
	event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	struct event_base *base = event_base_new_with_config(cfg);
	struct evhttp *http = base ? evhttp_new(base) : NULL;
	if (!http || evhttp_bind_socket(http, "127.0.0.1", (ev_uint16_t)atoi(argv[1])) < 0) {
		fprintf(stderr, "evhttp-floor: cannot listen on 127.0.0.1:%s\n", argv[1]);
		return 1;
	}
	for (int i = 0; i < UPSTREAMS; i++)
		up[i] = evhttp_connection_base_new(base, NULL, "127.0.0.1", (ev_uint16_t)atoi(argv[2]));
	evhttp_set_gencb(http, handle, NULL);
	printf("ready\n");
	fflush(stdout);
	return event_base_dispatch(base) < 0;
}
