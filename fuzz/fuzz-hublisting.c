/* libFuzzer target: a page of the Hub's file listing, as a hostile server
 * could send it. Invariants: every accepted path is relative, has no empty,
 * "." or ".." segment and is not under .sparkctl/; no path comes twice;
 * every file has a hash to verify it with. */
#include <stdint.h>
#include <stddef.h>
#include <string.h>

#include "../lib/net/hub.h"

static void check_path(const char *p)
{
	if (!*p || *p == '/' || strncmp(p, ".sparkctl/", 10) == 0)
		__builtin_trap();
	for (const char *s = p; *s;) {
		size_t n = strcspn(s, "/");
		if (!n || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
			__builtin_trap();
		s += n;
		if (*s)
			s++;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hub_listing l = { 0 };
	sc_err e;
	/* pages split at NUL bytes: a later one may repeat what one before
	 * named */
	for (size_t start = 0; start <= size;) {
		const uint8_t *nul = memchr(data + start, 0, size - start);
		size_t end = nul ? (size_t)(nul - data) : size;
		if (sc_hub_listing_add_page(&l, (const char *)data + start, end - start, &e) < 0)
			break;
		start = end + 1;
	}
	for (size_t i = 0; i < l.n; i++) {
		check_path(l.files[i].path);
		if (l.files[i].lfs ? strlen(l.files[i].sha256) != 64 : strlen(l.files[i].oid) != 40)
			__builtin_trap();
		for (size_t k = 0; k < i && l.n < 64; k++)
			if (strcmp(l.files[k].path, l.files[i].path) == 0)
				__builtin_trap();
	}
	sc_hub_listing_done(&l);
	return 0;
}
