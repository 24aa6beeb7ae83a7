#include "atomicfile.h"
#include "util.h"

#include <fcntl.h>
#include <libgen.h>
#include <sys/stat.h>

/* The file a path names: through symlinks, so that an --output that is a
 * link updates what it points at and stays a link. */
static char *final_target(const char *path)
{
	char *p = strdup(path);
	for (int hops = 0; p && hops < 40; hops++) {
		struct stat st;
		if (lstat(p, &st) < 0 || !S_ISLNK(st.st_mode))
			return p;
		char target[4096];
		ssize_t n = readlink(p, target, sizeof target - 1);
		if (n < 0) {
			free(p);
			return NULL;
		}
		target[n] = '\0';
		char *next;
		if (target[0] == '/')
			next = strdup(target);
		else {
			_cleanup_free_ char *dcopy = strdup(p);
			next = dcopy ? sc_path_join(dirname(dcopy), target) : NULL;
		}
		free(p);
		p = next;
	}
	free(p);
	errno = ELOOP;
	return NULL;
}

int sc_write_atomic(const char *path, const void *data, size_t len, sc_err *e)
{
	_cleanup_free_ char *target = final_target(path);
	if (!target)
		return sc_error(e, -errno, "%s: %s", path, strerror(errno));
	size_t n = strlen(target);
	_cleanup_free_ char *tmp = malloc(n + 16), *dircopy = strdup(target);
	if (!tmp || !dircopy)
		return sc_error(e, -ENOMEM, "out of memory");
	/* the mode of the file replaced, else what a new file gets: 0666 less
	 * the umask (a user's 077 keeps an inventory private) */
	struct stat st;
	mode_t mode;
	/* renamed over a device or a FIFO, the temporary file would replace
	 * it: as root, --output /dev/null would leave /dev/null a file */
	if (stat(target, &st) == 0 && !S_ISREG(st.st_mode))
		return sc_error(e, S_ISDIR(st.st_mode) ? -EISDIR : SC_ENOTREG,
				"%s: %s: give the path of a file (or leave the option out for standard output)", path,
				S_ISDIR(st.st_mode) ? "a folder" : "not a regular file (a device, FIFO or socket)");
	if (stat(target, &st) == 0)
		mode = st.st_mode & 07777;
	else {
		mode_t um = umask(0);
		umask(um);
		mode = 0666 & ~um;
	}
	snprintf(tmp, n + 16, "%s.tmpXXXXXX", target);
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
	if (r == 0 && fchmod(fd, mode) < 0)
		r = -errno;
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, target) < 0)
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
