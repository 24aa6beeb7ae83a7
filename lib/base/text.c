#include "text.h"
#include "util.h"

size_t sc_utf8_seq(const unsigned char *s, size_t n)
{
	if (!n)
		return 0;
	unsigned char c = s[0];
	if (c < 0x80)
		return 1;
	size_t len;
	uint32_t cp, min;
	if ((c & 0xe0) == 0xc0) {
		len = 2, cp = c & 0x1f, min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		len = 3, cp = c & 0x0f, min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		len = 4, cp = c & 0x07, min = 0x10000;
	} else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates and past U+10FFFF are invalid */
	if (cp < min || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

bool sc_utf8_valid(const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t k = sc_utf8_seq((const unsigned char *)s + i, n - i);
		if (!k)
			return false;
		i += k;
	}
	return true;
}

char *sc_utf8_dup(const char *s)
{
	size_t n = strlen(s);
	/* each bad byte becomes 3 */
	char *out = malloc(n * 3 + 1), *o = out;
	if (!out)
		return NULL;
	for (size_t i = 0; i < n;) {
		size_t k = sc_utf8_seq((const unsigned char *)s + i, n - i);
		if (k) {
			memcpy(o, s + i, k);
			o += k, i += k;
		} else {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3, i++;
		}
	}
	*o = '\0';
	return out;
}


char *sc_term_escape(const char *s, bool keep_tab)
{
	size_t n = strlen(s);
	char *out = malloc(n * 4 + 1), *o = out;  /* "\xNN" is the longest */
	if (!out)
		return NULL;
	for (size_t i = 0; i < n;) {
		const unsigned char *p = (const unsigned char *)s + i;
		size_t k = sc_utf8_seq(p, n - i);
		if (!k) {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3, i++;
		} else if (k == 1 && (p[0] < 0x20 || p[0] == 0x7f) && !(keep_tab && p[0] == '\t')) {
			o += p[0] == 0x1b ? sprintf(o, "\\e") : sprintf(o, "\\x%02x", p[0]);
			i++;
		} else if (k == 2 && p[0] == 0xc2 && p[1] < 0xa0) {
			o += sprintf(o, "\\x%02x", p[1]);  /* C1 controls, U+0080..U+009F */
			i += 2;
		} else {
			memcpy(o, p, k);
			o += k, i += k;
		}
	}
	*o = '\0';
	return out;
}

size_t sc_utf8_trim(const char *s, size_t n)
{
	/* back off over continuation bytes to the start of the last sequence */
	size_t i = n;
	while (i > 0 && ((unsigned char)s[i - 1] & 0xc0) == 0x80 && n - i < 3)
		i--;
	if (i > 0 && (unsigned char)s[i - 1] >= 0xc0) {
		if (sc_utf8_seq((const unsigned char *)s + i - 1, n - i + 1))
			return n;
		return i - 1;
	}
	return n;
}
