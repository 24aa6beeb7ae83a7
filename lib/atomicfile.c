#include "atomicfile.h"
#include "util.h"

#include <fcntl.h>
#include <libgen.h>
#include <sys/stat.h>

int sc_write_atomic(const char *path, const void *data, size_t len, sc_err *e)
{
	size_t n = strlen(path);
	_cleanup_free_ char *tmp = malloc(n + 16), *dircopy = strdup(path);
	if (!tmp || !dircopy)
		return sc_error(e, -ENOMEM, "out of memory");
	snprintf(tmp, n + 16, "%s.tmpXXXXXX", path);
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return sc_error(e, -errno, "%s: cannot create a temporary file: %s", path, strerror(errno));
	const char *p = data;
	size_t left = len;
	int r = 0;
	while (left > 0) {
		ssize_t w = write(fd, p, left);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			r = -errno;
			break;
		}
		p += w;
		left -= (size_t)w;
	}
	/* readers of a cron-written inventory expect the usual 0644 */
	if (r == 0 && fchmod(fd, 0644) < 0)
		r = -errno;
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		return sc_error(e, r, "%s: %s", path, sc_strerror(r));
	}
	int dfd = open(dirname(dircopy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}
