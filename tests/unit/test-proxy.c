/* The proxy's own part of reading HTTP: the header lists http-parser's
 * callbacks fill piece by piece (a read may end anywhere), the checks on
 * the headers it lets through, and the buffers. */
#include "unit.h"
#include "../../lib/base/util.h"
#include "../../lib/proxy/px.h"

static struct px px;

/* req parsed in two reads split at cut; the message's headers in m */
static void parse_split(const char *req, size_t cut, struct px_msg *m)
{
	http_parser hp;
	size_t len = strlen(req);
	px.hp->init(&hp, HTTP_REQUEST);
	hp.data = m;
	size_t a = px.hp->execute(&hp, sc_px_head_settings(), req, cut);
	assert_int_equal(a, cut);
	px.hp->execute(&hp, sc_px_head_settings(), req + cut, len - cut);
	assert_int_equal(HTTP_PARSER_ERRNO(&hp), HPE_PAUSED);
}

static void headers_in_any_pieces(void **state)
{
	static const char req[] = "POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\nX-Empty:\r\n"
				  "Authorization: Bearer t\r\nContent-Length: 2\r\n\r\n{}";
	for (size_t cut = 0; cut <= strlen(req); cut++) {
		struct px_msg m = { .px = &px };
		parse_split(req, cut, &m);
		assert_true(m.done);
		assert_int_equal(m.hdrs.n, 4);
		assert_string_equal(sc_px_hdr_name(&m.hdrs, 0), "Host");
		assert_string_equal(sc_px_hdr_value(&m.hdrs, 0), "a");
		assert_string_equal(sc_px_hdr_name(&m.hdrs, 1), "X-Empty");
		assert_string_equal(sc_px_hdr_value(&m.hdrs, 1), "");
		assert_string_equal(sc_px_hdrs_find(&m.hdrs, "authorization"), "Bearer t");
		assert_string_equal(sc_px_hdrs_find(&m.hdrs, "Content-Length"), "2");
		assert_null(sc_px_hdrs_find(&m.hdrs, "Host2"));
		assert_null(sc_px_bad_headers(&m.hdrs));
		sc_px_hdrs_free(&m.hdrs);
	}
}

/* What the proxy refuses whatever its parser let through: http-parser
 * reads "Transfer-Encoding : chunked" as a chunked body and lets two Hosts
 * pass; a lenient build may pass the rest. */
static void headers_read_two_ways_are_refused(void **state)
{
	static const struct {
		const char *name, *value, *name2, *value2;
		bool bad;
	} cases[] = {
		{ "Host", "a", "X-Note", "fine\tstill", false },
		{ "Transfer-Encoding ", "chunked", NULL, NULL, true },
		{ "X-Note", "a\001b", NULL, NULL, true },
		{ "X-Note", "a\177", NULL, NULL, true },
		{ "", "a", NULL, NULL, true },
		{ "X(y)", "1", NULL, NULL, true },
		{ "Authorization", "Bearer a", "authorization", "Bearer b", true },
		{ "Host", "a", "HOST", "b", true },
		{ "x-api-key", "a", "X-API-KEY", "b", true },
		{ "Content-Length", "1", "content-length", "1", true },
		{ "Authorization", "Bearer a", "x-api-key", "b", false },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct px_hdrs hs = { 0 };
		sc_px_hdrs_name(&hs, cases[i].name, strlen(cases[i].name));
		sc_px_hdrs_value(&hs, cases[i].value, strlen(cases[i].value));
		if (cases[i].name2) {
			sc_px_hdrs_name(&hs, cases[i].name2, strlen(cases[i].name2));
			sc_px_hdrs_value(&hs, cases[i].value2, strlen(cases[i].value2));
		}
		assert_int_equal(sc_px_hdrs_end(&hs), 0);
		if (cases[i].bad)
			assert_non_null(sc_px_bad_headers(&hs));
		else
			assert_null(sc_px_bad_headers(&hs));
		sc_px_hdrs_free(&hs);
	}
	/* through the parser: it passes both, the proxy does not */
	struct px_msg m = { .px = &px };
	parse_split("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 20, &m);
	assert_non_null(sc_px_bad_headers(&m.hdrs));
	sc_px_hdrs_free(&m.hdrs);
}

/* headers past 64 KiB stop in the callbacks, not in an unbounded copy */
static void headers_are_capped(void **state)
{
	struct px_hdrs hs = { 0 };
	char big[4096];
	memset(big, 'a', sizeof big);
	assert_int_equal(sc_px_hdrs_name(&hs, "X-Big", 5), 0);
	int r = 0;
	for (size_t i = 0; i < 20 && r == 0; i++)
		r = sc_px_hdrs_value(&hs, big, sizeof big);
	assert_int_equal(r, -E2BIG);
	assert_true(hs.txt.len <= PX_HEADERS_MAX);
	sc_px_hdrs_free(&hs);
}

static void buffers_keep_order_across_growth(void **state)
{
	struct px_buf b = { 0 };
	assert_string_equal(sc_px_buf_data(&b), "");
	assert_int_equal(sc_px_buf_adds(&b, "HTTP/1.1 "), 0);
	assert_int_equal(sc_px_buf_addu(&b, 200), 0);
	assert_int_equal(sc_px_buf_addu(&b, 0), 0);
	assert_int_equal(sc_px_buf_addu(&b, 18446744073709551615ull), 0);
	assert_int_equal(sc_px_buf_size(&b), 9 + 3 + 1 + 20);
	assert_memory_equal(sc_px_buf_data(&b), "HTTP/1.1 200018446744073709551615", sc_px_buf_size(&b));
	b.off = 9;  /* consumed: the room is made by moving the rest to the front */
	for (int i = 0; i < 1000; i++)
		assert_int_equal(sc_px_buf_printf(&b, "%04d", i), 0);
	assert_int_equal(sc_px_buf_size(&b), 24 + 4000);
	assert_memory_equal(sc_px_buf_data(&b), "200018446744073709551615000000010002", 36);
	assert_memory_equal(sc_px_buf_data(&b) + sc_px_buf_size(&b) - 4, "0999", 4);
	sc_px_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(headers_in_any_pieces),
		cmocka_unit_test(headers_read_two_ways_are_refused),
		cmocka_unit_test(headers_are_capped),
		cmocka_unit_test(buffers_keep_order_across_growth),
	};
	sc_err e;
	if (!(px.hp = sc_hparse(&e))) {
		fprintf(stderr, "%s\n", e.msg);
		return 1;
	}
	return RUN(tests);
}
