#include "unpack.h"
#include "../base/archive_api.h"
#include "../base/util.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>

/* Why a walk of openat() calls and not path strings: mkdir()/open() on a
 * path follow every link already extracted in its parent folders, so an
 * archive holding `s -> .` and then `s/s/.../x` (or a link replaced by a
 * folder) writes wherever the links lead. Every component here is opened
 * relative to the folder before it with O_NOFOLLOW, so a link anywhere in
 * an entry's parent path is an error, never a way out. Symlinks are made
 * only after every regular file, and never written through. */

int sc_is_archive_name(const char *n)
{
	static const char *const ext[] = { ".tar", ".tar.gz", ".tgz", ".tar.zst", ".tzst", ".tar.xz", ".txz",
					   ".tar.bz2", ".tbz2", ".zip" };
	for (size_t i = 0; i < ARRAY_SIZE(ext); i++)
		if (sc_endswith(n, ext[i]))
			return 1;
	return 0;
}

/* The next component of *p (skipping "" and "."), its length in *n. */
static const char *next_comp(const char **p, size_t *n)
{
	for (;;) {
		while (**p == '/')
			(*p)++;
		if (!**p)
			return NULL;
		const char *s = *p;
		*n = strcspn(s, "/");
		*p += *n;
		if (!(*n == 1 && s[0] == '.'))
			return s;
	}
}

static bool is_dotdot(const char *s, size_t n)
{
	return n == 2 && s[0] == '.' && s[1] == '.';
}

int sc_unpack_check_path(const char *p)
{
	size_t n, k = 0;
	if (!p || *p == '/')
		return -EPERM;
	for (const char *s = p, *c; (c = next_comp(&s, &n)); k++)
		if (is_dotdot(c, n) || n > 255)
			return -EPERM;
	return k ? 0 : -ENOENT;  /* -ENOENT: "." or "", nothing to create */
}

int sc_unpack_check_link(const char *rel, const char *target)
{
	size_t n, depth = 0, up = 0;
	bool named = false;
	if (sc_unpack_check_path(rel) < 0 || !target || !*target || *target == '/')
		return -EPERM;
	/* the folders above the link */
	for (const char *s = rel, *c; (c = next_comp(&s, &n));)
		depth++;
	depth--;
	/* leading ".."s then names: a ".." after a name would climb out of
	 * whatever that name is a link to */
	for (const char *s = target;;) {
		while (*s == '/')
			s++;
		if (!*s)
			break;
		n = strcspn(s, "/");
		if ((n == 1 && s[0] == '.') || (is_dotdot(s, n) && named) || n > 255)
			return -EPERM;
		if (is_dotdot(s, n))
			up++;
		else
			named = true;
		s += n;
	}
	return named && up <= depth ? 0 : -EPERM;
}

/* Open the folder that holds the last component of rel (a copy the
 * caller owns), below root, creating missing folders when create is set;
 * never through a link. *leaf points into rel at the last component. */
static int open_parent(int root, char *rel, bool create, char **leaf)
{
	int fd = dup(root);
	char *p = rel;
	if (fd < 0)
		return -errno;
	for (;;) {
		while (*p == '/')
			p++;
		char *end = p + strcspn(p, "/"), *rest = end;
		while (*rest == '/')
			rest++;
		*end = '\0';
		if (!*rest) {
			*leaf = p;
			return fd;
		}
		if (!streq(p, ".")) {
			int sub = openat(fd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0 && errno == ENOENT && create && (mkdirat(fd, p, 0755) == 0 || errno == EEXIST))
				sub = openat(fd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			int r = sub < 0 ? (errno == ELOOP || errno == ENOTDIR ? -ELOOP : -errno) : 0;
			close(fd);
			if (r < 0)
				return r;
			fd = sub;
		}
		p = rest;
	}
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path) < 0 ? -1 : 0;
}

static void rm_tree(const char *path)
{
	nftw(path, rm_entry, 32, FTW_DEPTH | FTW_PHYS);
}

struct pending_link {
	char *rel, *target;
};

struct extraction {
	const struct archive_api *la;
	struct archive *a;
	int root;
	uint64_t budget, files, bytes;
	struct pending_link *links;
	size_t n_links, cap_links;
};

static int refuse_path_error(sc_err *e, const char *name, int r)
{
	if (r == -ELOOP)
		return sc_error(e, -EPERM, "refused: \"%s\" goes through a link or a file in its parent path", name);
	return sc_error(e, r, "%s: %s", name, sc_strerror(r));
}

static int write_file(struct extraction *x, const char *name, int dir, const char *leaf, sc_err *e)
{
	const struct archive_api *la = x->la;
	_cleanup_close_ int fd = openat(dir, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return errno == EEXIST ? sc_error(e, -EPERM, "refused: \"%s\" appears twice in the archive", name)
				       : sc_error(e, -errno, "%s: %s", name, strerror(errno));
	const void *buf;
	size_t len;
	la_int64_t off;
	int k;
	while ((k = (int)la->data_block(x->a, &buf, &len, &off)) == ARCHIVE_OK) {
		x->bytes += len;
		if (x->bytes > x->budget)
			return sc_error(e, -ENOSPC, "refused: the archive needs more than the %llu bytes free",
					(unsigned long long)x->budget);
		if (off < 0 || pwrite(fd, buf, len, (off_t)off) != (ssize_t)len)
			return sc_error(e, -EIO, "%s: %s", name, off < 0 ? "bad offset" : strerror(errno));
	}
	if (k != ARCHIVE_EOF)
		return sc_error(e, -EIO, "%s: %s", name, la->error_string(x->a));
	x->files++;
	return 0;
}

static int hard_link(struct extraction *x, const char *name, int dir, const char *leaf, const char *target, sc_err *e)
{
	_cleanup_free_ char *t = strdup(target);
	char *tleaf;
	struct stat st;
	if (!t)
		return sc_error(e, -ENOMEM, "out of memory");
	if (sc_unpack_check_path(target) < 0)
		return sc_error(e, -EPERM, "refused: the hard link \"%s\" points outside the folder (%s)", name, target);
	int tdir = open_parent(x->root, t, false, &tleaf);
	if (tdir < 0 || fstatat(tdir, tleaf, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode)) {
		if (tdir >= 0)
			close(tdir);
		return sc_error(e, -EPERM, "refused: the hard link \"%s\" does not point at a file extracted before it (%s)",
				name, target);
	}
	int r = linkat(tdir, tleaf, dir, leaf, 0) < 0 ? -errno : 0;
	close(tdir);
	if (r == -EEXIST)
		return sc_error(e, -EPERM, "refused: \"%s\" appears twice in the archive", name);
	return r < 0 ? sc_error(e, r, "%s: %s", name, sc_strerror(r)) : 0;
}

static int defer_link(struct extraction *x, const char *name, const char *target, sc_err *e)
{
	if (sc_unpack_check_link(name, target) < 0)
		return sc_error(e, -EPERM, "refused: the link \"%s\" points outside the folder (%s)", name,
				target ? target : "");
	if (sc_grow(&x->links, &x->cap_links, x->n_links + 1, sizeof *x->links) < 0)
		return sc_error(e, -ENOMEM, "out of memory");
	struct pending_link *l = &x->links[x->n_links];
	l->rel = strdup(name);
	l->target = strdup(target);
	if (!l->rel || !l->target) {
		free(l->rel);
		free(l->target);
		return sc_error(e, -ENOMEM, "out of memory");
	}
	x->n_links++;
	return 0;
}

/* Every folder the target of the link at rel passes through is a real
 * folder (or absent), never another link: only then does its lexical
 * check say where it really points. */
static int verify_link(int root, const char *rel, const char *target)
{
	_cleanup_free_ char *path = NULL, *dir = strdup(rel);
	if (!dir)
		return -ENOMEM;
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	if (asprintf(&path, "%s/%s", slash ? dir : ".", target) < 0)
		return -ENOMEM;
	/* resolve the leading ".."s lexically (the check allowed no more than
	 * the depth of the link's folder, which is a real folder) */
	char *parts[4096];
	size_t k = 0;
	char *save;
	for (char *c = strtok_r(path, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (streq(c, "."))
			continue;
		if (streq(c, "..")) {
			if (!k)
				return -EPERM;
			k--;
			continue;
		}
		if (k == ARRAY_SIZE(parts))
			return -EPERM;
		parts[k++] = c;
	}
	int fd = dup(root);
	for (size_t i = 0; fd >= 0 && i + 1 < k; i++) {
		int sub = openat(fd, parts[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int err = errno;
		close(fd);
		if (sub < 0)
			return err == ENOENT ? 0 : -EPERM;  /* dangling is harmless */
		fd = sub;
	}
	if (fd >= 0)
		close(fd);
	return 0;
}

static int make_links(struct extraction *x, sc_err *e)
{
	for (size_t i = 0; i < x->n_links; i++) {
		struct pending_link *l = &x->links[i];
		_cleanup_free_ char *rel = strdup(l->rel);
		char *leaf;
		if (!rel)
			return sc_error(e, -ENOMEM, "out of memory");
		int dir = open_parent(x->root, rel, true, &leaf);
		if (dir < 0)
			return refuse_path_error(e, l->rel, dir);
		int r = symlinkat(l->target, dir, leaf) < 0 ? -errno : 0;
		close(dir);
		if (r == -EEXIST)
			return sc_error(e, -EPERM, "refused: \"%s\" appears twice in the archive", l->rel);
		if (r < 0)
			return sc_error(e, r, "%s: %s", l->rel, sc_strerror(r));
	}
	for (size_t i = 0; i < x->n_links; i++)
		if (verify_link(x->root, x->links[i].rel, x->links[i].target) < 0)
			return sc_error(e, -EPERM, "refused: the link \"%s\" points outside the folder through another link (%s)",
					x->links[i].rel, x->links[i].target);
	return 0;
}

static int extract_entry(struct extraction *x, struct archive_entry *ent, sc_err *e)
{
	const struct archive_api *la = x->la;
	const char *name = la->entry_pathname(ent);
	mode_t type = la->entry_filetype(ent);
	const char *hard = la->entry_hardlink(ent);
	int r = sc_unpack_check_path(name);
	if (r == -ENOENT && type == AE_IFDIR)
		return 0;  /* "./" */
	if (r < 0)
		return sc_error(e, -EPERM, "refused: the entry \"%s\" is absolute or leaves the folder with ..",
				name ? name : "");
	if (type == AE_IFLNK && !hard)
		return defer_link(x, name, la->entry_symlink(ent), e);
	if (!hard && type != AE_IFDIR && type != AE_IFREG)
		return sc_error(e, -EPERM, "refused: \"%s\" is a device, FIFO or socket", name);
	if (type == AE_IFREG && !hard) {
		int64_t size = la->entry_size(ent);
		if (size > 0 && x->bytes + (uint64_t)size > x->budget)
			return sc_error(e, -ENOSPC, "refused: the archive needs more than the %llu bytes free",
					(unsigned long long)x->budget);
	}
	_cleanup_free_ char *rel = strdup(name);
	char *leaf;
	if (!rel)
		return sc_error(e, -ENOMEM, "out of memory");
	_cleanup_close_ int dir = open_parent(x->root, rel, true, &leaf);
	if (dir < 0)
		return refuse_path_error(e, name, dir);
	if (hard)
		return hard_link(x, name, dir, leaf, hard, e);
	if (type == AE_IFDIR) {
		if (mkdirat(dir, leaf, 0755) < 0 && errno != EEXIST)
			return sc_error(e, -errno, "%s: %s", name, strerror(errno));
		_cleanup_close_ int d = openat(dir, leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		return d < 0 ? sc_error(e, -EPERM, "refused: \"%s\" is a folder and a file in the archive", name) : 0;
	}
	return write_file(x, name, dir, leaf, e);
}

static int extract(struct extraction *x, sc_err *e)
{
	struct archive_entry *ent;
	int r;
	while ((r = x->la->next_header(x->a, &ent)) == ARCHIVE_OK) {
		int k = extract_entry(x, ent, e);
		if (k < 0)
			return k;
	}
	if (r != ARCHIVE_EOF)
		return sc_error(e, -EIO, "%s", x->la->error_string(x->a));
	return make_links(x, e);
}

/* All passed: move the top-level entries into place, refusing to replace
 * what is there. */
static int place(const char *tmp, const char *dest, sc_err *e)
{
	DIR *d = opendir(tmp);
	struct dirent *de;
	int r = d ? 0 : sc_error(e, -errno, "%s: %s", tmp, strerror(errno));
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
	return r;
}

int sc_unpack(const char *archive, const char *dest, uint64_t *files, uint64_t *bytes, sc_err *e)
{
	const struct archive_api *la = sc_archive(e);
	struct extraction x = { .la = la, .root = -1 };
	char *tmp = NULL;
	int r;
	*files = *bytes = 0;
	if (!la)
		return -ENOSYS;
	if ((r = sc_free_bytes(dest, &x.budget)) < 0)
		return sc_error(e, r, "%s: %s", dest, sc_strerror(r));
	_cleanup_free_ char *meta = sc_path_join(dest, ".sparkctl");
	if (!meta || sc_mkdir_p(meta, 0755) < 0 || asprintf(&tmp, "%s/unpack.XXXXXX", meta) < 0 || !mkdtemp(tmp)) {
		free(tmp);
		return sc_error(e, -errno, "%s: cannot make a temporary folder", dest);
	}
	x.root = open(tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	x.a = la->read_new();
	if (x.root < 0 || !x.a) {
		r = sc_error(e, -errno, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	la->support_filter_all(x.a);
	la->support_format_all(x.a);
	if (la->open_filename(x.a, archive, 1 << 16) != ARCHIVE_OK)
		r = sc_error(e, -EIO, "%s: %s", archive, la->error_string(x.a));
	else
		r = extract(&x, e);
	*files = x.files;
	*bytes = x.bytes;
	if (r >= 0)
		r = place(tmp, dest, e);
out:
	if (x.a)
		la->read_free(x.a);
	if (x.root >= 0)
		close(x.root);
	for (size_t i = 0; i < x.n_links; i++) {
		free(x.links[i].rel);
		free(x.links[i].target);
	}
	free(x.links);
	rm_tree(tmp);
	free(tmp);
	return r;
}
