#include "hparse_api.h"
#include "../base/dlib.h"

static struct hparse_api api;
#define S(f, n) SC_DLIB_SYM(struct hparse_api, f, n)
static const struct sc_dlib_sym syms[] = {
	S(init, "http_parser_init"),
	S(execute, "http_parser_execute"),
	S(pause, "http_parser_pause"),
	S(should_keep_alive, "http_should_keep_alive"),
	S(set_max_header_size, "http_parser_set_max_header_size"),
	S(status_str, "http_status_str"),
	S(errno_description, "http_errno_description"),
	S(method_str, "http_method_str"),
	{ 0 },
};
#undef S

/* Debian 12 ships 2.9 (http_parser_set_max_header_size and
 * http_status_str came with 2.9.0) */
static const char *const sonames[] = { "libhttp_parser.so.2.9", NULL };
static struct sc_dlib lib = { .what = "libhttp_parser", .sonames = sonames,
			      .syms = syms, .api = &api, .once = PTHREAD_ONCE_INIT };

const struct hparse_api *sc_hparse(sc_err *e)
{
	return sc_dlib_get(&lib, e);
}
