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

int sc_token_read(const char *path, char **ret, bool *others_can_read, sc_err *e)
{
	*ret = NULL;
	struct stat st;
	char *buf = NULL;
	size_t len;
	if (stat(path, &st) < 0)
		return sc_error(e, -errno, "%s: %s", path, strerror(errno));
	int r = sc_read_file(path, 64 << 10, &buf, &len);
	if (r < 0)
		return sc_error(e, r, "%s: %s", path, sc_strerror(r));
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
	*others_can_read = (st.st_mode & 0077) != 0;
	if (!buf[0]) {
		free(buf);
		buf = NULL;
	}
	*ret = buf;
	return 0;
}
