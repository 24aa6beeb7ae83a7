#include "token.h"
#include "util.h"

#include <ctype.h>
#include <sys/stat.h>

bool sc_token_ok(const char *t)
{
	/* CR or LF would end the Authorization header and start another */
	for (const unsigned char *p = (const unsigned char *)t; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

void sc_secret_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/* A file of secrets, whole, and whether others may read it. */
static int read_secret(const char *path, size_t max, char **buf, size_t *len, bool *others_can_read, sc_err *e)
{
	struct stat st;
	*buf = NULL;
	if (stat(path, &st) < 0)
		return sc_error(e, -errno, "%s: %s", path, strerror(errno));
	int r = sc_read_file(path, max, buf, len);
	if (r < 0)
		return sc_error(e, r, "%s: %s", path, sc_strerror(r));
	*others_can_read = (st.st_mode & 0077) != 0;
	return 0;
}

int sc_token_read(const char *path, char **ret, bool *others_can_read, sc_err *e)
{
	*ret = NULL;
	char *buf;
	size_t len;
	int r = read_secret(path, 64 << 10, &buf, &len, others_can_read, e);
	if (r < 0)
		return r;
	size_t a = 0, b = len;
	while (a < b && isspace((unsigned char)buf[a]))
		a++;
	while (b > a && isspace((unsigned char)buf[b - 1]))
		b--;
	memmove(buf, buf + a, b - a);
	buf[b - a] = '\0';
	explicit_bzero(buf + (b - a), len - (b - a));
	if (!sc_token_ok(buf)) {
		sc_secret_free(buf);
		/* the file is named, the token never */
		return sc_error(e, -EINVAL, "%s: the token holds a control character or a second line; a token file "
				"holds one token", path);
	}
	if (!buf[0]) {
		free(buf);
		buf = NULL;
	}
	*ret = buf;
	return 0;
}

void sc_tokens_free(struct sc_token *t, size_t n)
{
	for (size_t i = 0; t && i < n; i++) {
		free(t[i].label);
		sc_secret_free(t[i].token);
	}
	free(t);
}

static bool blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

int sc_tokens_parse(const char *path, const char *buf, size_t len, struct sc_token **ret, size_t *n, sc_err *e)
{
	struct sc_token *t = NULL;
	size_t cnt = 0, cap = 0;
	unsigned line = 0;
	*ret = NULL;
	*n = 0;
	for (size_t i = 0; i < len; line++) {
		const char *a = buf + i, *nl = memchr(a, '\n', len - i), *b = nl ? nl : buf + len;
		i = (size_t)(b - buf) + (nl != NULL);
		while (a < b && blank(*a))
			a++;
		while (b > a && blank(b[-1]))
			b--;
		if (a == b || *a == '#')
			continue;
		const char *colon = memchr(a, ':', (size_t)(b - a)), *tok = a;
		size_t label_len = 0;
		if (colon && colon + 1 < b && blank(colon[1])) {
			label_len = (size_t)(colon - a);
			for (tok = colon + 1; tok < b && blank(*tok); tok++)
				;
		}
		bool ok = tok < b && !(colon && colon + 1 == b);  /* "LABEL:" alone is no token */
		for (const char *p = tok; ok && p < b; p++)
			ok = (unsigned char)*p > 0x20 && *p != 0x7f;
		for (const char *p = a; ok && p < a + label_len; p++)
			ok = (unsigned char)*p >= 0x20 && *p != 0x7f;
		if (!ok) {
			sc_tokens_free(t, cnt);
			/* the line is named, its token never */
			return sc_error(e, -EINVAL, "%s:%u: not a token (a token a line, or LABEL: TOKEN; no spaces or "
					"control characters in a token)", path, line + 1);
		}
		if (sc_grow(&t, &cap, cnt + 1, sizeof *t) < 0)
			goto oom;
		t[cnt] = (struct sc_token){ 0 };
		if (!(t[cnt].token = strndup(tok, (size_t)(b - tok))) ||
		    (label_len && !(t[cnt].label = strndup(a, label_len)))) {
			cnt++;
			goto oom;
		}
		cnt++;
	}
	*ret = t;
	*n = cnt;
	return 0;
oom:
	sc_tokens_free(t, cnt);
	return sc_error(e, -ENOMEM, "out of memory");
}

int sc_tokens_read(const char *path, struct sc_token **ret, size_t *n, bool *others_can_read, sc_err *e)
{
	char *buf;
	size_t len;
	*ret = NULL;
	*n = 0;
	int r = read_secret(path, 1 << 20, &buf, &len, others_can_read, e);
	if (r < 0)
		return r;
	r = sc_tokens_parse(path, buf, len, ret, n, e);
	explicit_bzero(buf, len);
	free(buf);
	return r;
}

long sc_tokens_match(const struct sc_token *t, size_t n, const char *cand, size_t cand_len)
{
	long found = -1;
	/* every token is compared in full: no early exit on a match or a
	 * mismatch, and a length difference is one more bit of the sum */
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(t[i].token);
		unsigned char diff = len != cand_len;
		for (size_t k = 0; k < len; k++)
			diff |= (unsigned char)t[i].token[k] ^ (unsigned char)(cand_len ? cand[k % cand_len] : 0);
		if (!diff && found < 0)
			found = (long)i;
	}
	return found;
}
