/* libFuzzer target: the proxy's side of reading a request's head with
 * http-parser (the header list filled in pieces, cut where a read may end:
 * the first byte of the input says where) and the checks on it. */
#include <stdint.h>
#include <stddef.h>
#include <string.h>

#include "../lib/proxy/px.h"

static struct px px;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sc_err e;
	if (!px.hp && !(px.hp = sc_hparse(&e)))
		__builtin_trap();
	if (!size)
		return 0;
	size_t cut = data[0] < size ? data[0] : size - 1;
	const char *req = (const char *)data + 1;
	size--;
	http_parser hp;
	struct px_msg m = { .px = &px };
	px.hp->init(&hp, HTTP_REQUEST);
	hp.data = &m;
	size_t a = px.hp->execute(&hp, sc_px_head_settings(), req, cut);
	if (HTTP_PARSER_ERRNO(&hp) == HPE_OK)
		px.hp->execute(&hp, sc_px_head_settings(), req + a, size - a);
	if (m.done) {
		/* every header whole and terminated, found by its name */
		for (size_t i = 0; i < m.hdrs.n; i++)
			if (m.hdrs.h[i].name >= m.hdrs.txt.len || m.hdrs.h[i].value >= m.hdrs.txt.len ||
			    !sc_px_hdrs_find(&m.hdrs, sc_px_hdr_name(&m.hdrs, i)))
				__builtin_trap();
		sc_px_bad_headers(&m.hdrs);
	}
	if (m.hdrs.txt.len > PX_HEADERS_MAX + 2)
		__builtin_trap();
	sc_px_hdrs_free(&m.hdrs);
	return 0;
}
