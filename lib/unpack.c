#include "unpack.h"
#include "archive_api.h"
#include "download.h"
#include "util.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>

int sc_is_archive_name(const char *n)
{
	static const char *const ext[] = { ".tar", ".tar.gz", ".tgz", ".tar.zst", ".tzst", ".tar.xz", ".txz",
					   ".tar.bz2", ".tbz2", ".zip" };
	for (size_t i = 0; i < ARRAY_SIZE(ext); i++)
		if (endswith(n, ext[i]))
			return 1;
	return 0;
}

/* A relative path with no empty, "." or ".." component. */
static int safe_rel(const char *p)
{
	if (!p || !*p || *p == '/')
		return 0;
	for (const char *s = p; *s;) {
		size_t n = strcspn(s, "/");
		if ((n == 2 && s[0] == '.' && s[1] == '.'))
			return 0;
		s += n;
		while (*s == '/')
			s++;
	}
	return 1;
}

/* Does a symlink at rel with this target stay inside the tree? */
static int link_inside(const char *rel, const char *target)
{
	if (!target || !*target || *target == '/')
		return 0;
	int depth = 0;
	/* the folder holding the link */
	for (const char *s = rel; *s; s++)
		if (*s == '/')
			depth++;
	for (const char *s = target; *s;) {
		size_t n = strcspn(s, "/");
		if (n == 2 && s[0] == '.' && s[1] == '.')
			depth--;
		else if (n && !(n == 1 && s[0] == '.'))
			depth++;
		if (depth < 0)
			return 0;
		s += n;
		while (*s == '/')
			s++;
	}
	return 1;
}

static int mkdirs(const char *base, const char *rel)
{
	_cleanup_free_ char *p = sc_path_join(base, rel);
	return p ? sc_mkdir_p(p, 0755) : -ENOMEM;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path) < 0 ? -1 : 0;
}

static void rm_tree(const char *path)
{
	nftw(path, rm_entry, 32, FTW_DEPTH | FTW_PHYS);
}

static int extract(const struct archive_api *la, struct archive *a, const char *tmp, uint64_t budget, uint64_t *files,
		   uint64_t *bytes, sc_err *e)
{
	struct archive_entry *ent;
	int r;
	while ((r = la->next_header(a, &ent)) == ARCHIVE_OK) {
		const char *name = la->entry_pathname(ent);
		mode_t type = la->entry_filetype(ent);
		const char *hard = la->entry_hardlink(ent);
		if (!safe_rel(name))
			return sc_error(e, -EPERM, "refused: the entry \"%s\" is absolute or leaves the folder with ..",
					name ? name : "");
		_cleanup_free_ char *path = sc_path_join(tmp, name), *parent = strdup(name);
		if (!path || !parent)
			return sc_error(e, -ENOMEM, "out of memory");
		char *slash = strrchr(parent, '/');
		if (slash) {
			*slash = '\0';
			int k = mkdirs(tmp, parent);
			if (k < 0)
				return sc_error(e, k, "%s: %s", name, strerror(-k));
		}
		if (hard) {
			if (!safe_rel(hard))
				return sc_error(e, -EPERM, "refused: the hard link \"%s\" points outside the folder (%s)", name, hard);
			_cleanup_free_ char *src = sc_path_join(tmp, hard);
			if (!src || link(src, path) < 0)
				return sc_error(e, -errno, "%s: %s", name, strerror(errno));
			continue;
		}
		switch (type) {
		case AE_IFDIR:
			if ((r = mkdirs(tmp, name)) < 0)
				return sc_error(e, r, "%s: %s", name, strerror(-r));
			break;
		case AE_IFLNK: {
			const char *target = la->entry_symlink(ent);
			if (!link_inside(name, target))
				return sc_error(e, -EPERM, "refused: the link \"%s\" points outside the folder (%s)", name,
						target ? target : "");
			if (symlink(target, path) < 0)
				return sc_error(e, -errno, "%s: %s", name, strerror(errno));
			break;
		}
		case AE_IFREG: {
			int64_t size = la->entry_size(ent);
			if (size > 0 && *bytes + (uint64_t)size > budget)
				return sc_error(e, -ENOSPC, "refused: the archive needs more than the %llu bytes free",
						(unsigned long long)budget);
			int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
			if (fd < 0)
				return sc_error(e, -errno, "%s: %s", name, strerror(errno));
			const void *buf;
			size_t len;
			la_int64_t off;
			int k;
			while ((k = (int)la->data_block(a, &buf, &len, &off)) == ARCHIVE_OK) {
				*bytes += len;
				if (*bytes > budget) {
					close(fd);
					return sc_error(e, -ENOSPC, "refused: the archive needs more than the %llu bytes free",
							(unsigned long long)budget);
				}
				if (pwrite(fd, buf, len, (off_t)off) != (ssize_t)len) {
					int err = errno;
					close(fd);
					return sc_error(e, -err, "%s: %s", name, strerror(err));
				}
			}
			close(fd);
			if (k != ARCHIVE_EOF)
				return sc_error(e, -EIO, "%s: %s", name, la->error_string(a));
			(*files)++;
			break;
		}
		default:
			return sc_error(e, -EPERM, "refused: \"%s\" is a device, FIFO or socket", name);
		}
	}
	if (r != ARCHIVE_EOF)
		return sc_error(e, -EIO, "%s", la->error_string(a));
	return 0;
}

int sc_unpack(const char *archive, const char *dest, uint64_t *files, uint64_t *bytes, sc_err *e)
{
	const struct archive_api *la = sc_archive(e);
	char *tmp = NULL;
	uint64_t budget;
	int r;
	*files = *bytes = 0;
	if (!la)
		return -ENOSYS;
	if ((r = sc_free_bytes(dest, &budget)) < 0)
		return sc_error(e, r, "%s: %s", dest, strerror(-r));
	if (asprintf(&tmp, "%s/.sparkctl/unpack.XXXXXX", dest) < 0 || mkdirs(dest, ".sparkctl") < 0 || !mkdtemp(tmp)) {
		free(tmp);
		return sc_error(e, -errno, "%s: cannot make a temporary folder", dest);
	}
	struct archive *a = la->read_new();
	if (!a) {
		r = sc_error(e, -ENOMEM, "out of memory");
		goto out;
	}
	la->support_filter_all(a);
	la->support_format_all(a);
	if (la->open_filename(a, archive, 1 << 16) != ARCHIVE_OK)
		r = sc_error(e, -EIO, "%s: %s", archive, la->error_string(a));
	else
		r = extract(la, a, tmp, budget, files, bytes, e);
	la->read_free(a);
	if (r < 0)
		goto out;
	/* all passed: move the top-level entries into place, refusing to
	 * replace what is there */
	DIR *d = opendir(tmp);
	struct dirent *de;
	while (d && r >= 0 && (de = readdir(d))) {
		if (streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		_cleanup_free_ char *to = sc_path_join(dest, de->d_name);
		struct stat st;
		if (!to)
			r = sc_error(e, -ENOMEM, "out of memory");
		else if (lstat(to, &st) == 0)
			r = sc_error(e, -EEXIST, "%s already exists: not replaced", to);
	}
	if (d)
		rewinddir(d);
	while (d && r >= 0 && (de = readdir(d))) {
		if (streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		_cleanup_free_ char *from = sc_path_join(tmp, de->d_name), *to = sc_path_join(dest, de->d_name);
		if (!from || !to || rename(from, to) < 0)
			r = sc_error(e, -errno, "%s: %s", to ? to : de->d_name, strerror(errno));
	}
	if (d)
		closedir(d);
out:
	rm_tree(tmp);
	free(tmp);
	return r;
}
