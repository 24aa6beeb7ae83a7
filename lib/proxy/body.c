/* The two fields of a request body the proxy routes by. Every request
 * that passes the token passes here first: the most exposed parser of
 * the proxy, fuzzed by fuzz/fuzz-proxybody.c. */
#include "body.h"
#include "../format/jscan.h"

#include <string.h>

int sc_px_body_fields(const char *body, size_t len, char *model, size_t model_len, bool *stream, sc_err *e)
{
	struct jp j = { (const uint8_t *)body, (const uint8_t *)body, (const uint8_t *)body + len, e };
	bool seen = false;
	int r = sc_js_begin(&j, '{', '}');
	*stream = false;
	model[0] = '\0';
	if (r < 0)
		return sc_error(e, SC_ENOTJSON, "the body is not a JSON object");
	while (r > 0) {
		const uint8_t *k, *v;
		size_t kn, vn;
		int kesc, vesc;
		if ((r = sc_js_scan_string(&j, &k, &kn, &kesc)) < 0 || (r = js_expect(&j, ':')) < 0)
			break;
		js_skip_ws(&j);
		/* the engine decodes "mod\u0065l" to model: so do we, or the two
		 * would each take a different one of two models */
		char key[64];  /* room for kn + 1: decoding never lengthens */
		if (kesc && kn < sizeof key) {
			if ((r = sc_js_decode_string(&j, k, kn, kesc, key, &kn)) < 0)
				break;
			k = (const uint8_t *)key;
			kesc = 0;
		}
		if (!kesc && kn == 5 && memcmp(k, "model", 5) == 0) {
			if (seen)
				return sc_error(e, SC_ENOTJSON, "the body names \"model\" twice");
			seen = true;
			if (j.p >= j.end || *j.p != '"')
				return sc_error(e, SC_ENOTOBJ, "\"model\" is not a string");
			if ((r = sc_js_scan_string(&j, &v, &vn, &vesc)) < 0)
				break;
			if (vn >= model_len)
				return sc_error(e, SC_ENOTOBJ, "\"model\" is longer than any model name");
			size_t out;
			if ((r = sc_js_decode_string(&j, v, vn, vesc, model, &out)) < 0)
				break;
			model[out] = '\0';
		} else if (!kesc && kn == 6 && memcmp(k, "stream", 6) == 0 && j.p < j.end && *j.p == 't') {
			if ((r = sc_js_skip_literal(&j, "true")) < 0)
				break;
			*stream = true;
		} else if ((r = sc_js_skip_value(&j, 1)) < 0) {
			break;
		}
		r = js_next_member(&j, '}');
	}
	js_skip_ws(&j);
	if (r < 0 || j.p != j.end)
		return sc_error(e, SC_ENOTJSON, "the body is not valid JSON (at byte %zu)", (size_t)(j.p - j.start));
	return 0;
}
