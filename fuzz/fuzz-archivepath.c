/* libFuzzer target: the path rules of archive extraction. The input is an
 * entry path, a NUL, and a link target. Invariants: an accepted entry has
 * no ".." segment and is relative; an accepted symlink, resolved lexically
 * from its folder, never climbs above the extraction folder. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/net/unpack.h"

/* depth of the folder holding rel, and where target leads from it */
static void check_link(const char *rel, const char *target)
{
	long depth = -1;
	for (const char *s = rel; *s;) {
		size_t n = strcspn(s, "/");
		if (n && !(n == 1 && s[0] == '.'))
			depth++;
		s += n;
		while (*s == '/')
			s++;
	}
	for (const char *s = target; *s;) {
		size_t n = strcspn(s, "/");
		if (n == 2 && s[0] == '.' && s[1] == '.')
			depth--;
		else if (n && !(n == 1 && s[0] == '.'))
			depth++;
		if (depth < 0)
			__builtin_trap();
		s += n;
		while (*s == '/')
			s++;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 2);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = buf[size + 1] = '\0';
	const char *rel = buf, *target = buf + strlen(buf) + 1;
	if (sc_unpack_check_path(rel) == 0) {
		if (rel[0] == '/')
			__builtin_trap();
		for (const char *s = rel; *s;) {
			size_t n = strcspn(s, "/");
			if (n == 2 && s[0] == '.' && s[1] == '.')
				__builtin_trap();
			s += n;
			while (*s == '/')
				s++;
		}
	}
	if (target <= buf + size && sc_unpack_check_link(rel, target) == 0) {
		if (target[0] == '/')
			__builtin_trap();
		check_link(rel, target);
	}
	free(buf);
	return 0;
}
