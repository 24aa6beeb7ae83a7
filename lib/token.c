#include "token.h"
#include "util.h"

#include <ctype.h>
#include <sys/stat.h>

void sc_secret_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

int sc_token_read(const char *path, char **ret, bool *others_can_read, sc_err *e)
{
	struct stat st;
	char *buf = NULL;
	size_t len;
	if (stat(path, &st) < 0)
		return sc_error(e, -errno, "%s: %s", path, strerror(errno));
	int r = sc_read_file(path, 64 << 10, &buf, &len);
	if (r < 0)
		return sc_error(e, r, "%s: %s", path, strerror(-r));
	size_t a = 0, b = len;
	while (a < b && isspace((unsigned char)buf[a]))
		a++;
	while (b > a && isspace((unsigned char)buf[b - 1]))
		b--;
	memmove(buf, buf + a, b - a);
	buf[b - a] = '\0';
	explicit_bzero(buf + (b - a), len - (b - a));
	*others_can_read = (st.st_mode & 0077) != 0;
	if (!buf[0]) {
		free(buf);
		buf = NULL;
	}
	*ret = buf;
	return 0;
}
