#include "util.h"

#include <malloc.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include "err.h"

#include <math.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>

#include <ctype.h>
#include <stdarg.h>
#include <fcntl.h>
#include <sys/stat.h>

bool sc_endswith(const char *s, const char *suffix)
{
	return sc_endswith_n(s, strlen(s), suffix);
}

int sc_grow(void *arr, size_t *cap, size_t need, size_t sz)
{
	void **a = arr;
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap : 16;
	while (n < need) {
		if (n > SIZE_MAX / 2 / sz)
			return -ENOMEM;
		n *= 2;
	}
	void *p = realloc(*a, n * sz);
	if (!p)
		return -ENOMEM;
	*a = p;
	*cap = n;
	return 0;
}

int sc_pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	uint8_t *p = buf;
	while (len > 0) {
		ssize_t n = pread(fd, p, len, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

int sc_open_regular(int dirfd, const char *path, struct stat *ret)
{
	struct stat st;
	int fd = openat(dirfd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	bool devnull = S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 && minor(st.st_rdev) == 3;
	if (!S_ISREG(st.st_mode) && !devnull) {
		close(fd);
		return S_ISDIR(st.st_mode) ? -EISDIR : SC_ENOTREG;
	}
	/* regular files never block: reads go on as usual */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	if (ret)
		*ret = st;
	return fd;
}

#define HUGE_PAGE (2u << 20)

static size_t huge_round(size_t n)
{
	return (n + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
}

/* Inside a pool each thread keeps its last big buffer for its next file:
 * a fresh page costs the kernel a zeroing, and a scan reads header after
 * header (a third of its time went to zeroing pages it then overwrote). */
static __thread struct {
	uint8_t *p;
	size_t len;
	unsigned depth;
} kept;

static void unmap_kept(void)
{
	if (kept.p)
		munmap(kept.p, kept.len);
	kept.p = NULL;
	kept.len = 0;
}

void sc_big_keep(bool on)
{
	if (on)
		kept.depth++;
	else if (kept.depth && --kept.depth == 0)
		unmap_kept();
}

void *sc_big_alloc(size_t n)
{
	if (n < HUGE_PAGE)
		return malloc(n ? n : 1);
	size_t len = huge_round(n), span = len + HUGE_PAGE;
	if (len < n)
		return NULL;
	if (kept.p && kept.len >= len) {
		/* the mapping must end where sc_big_free will think it does */
		uint8_t *p = kept.p;
		if (kept.len > len)
			munmap(p + len, kept.len - len);
		kept.p = NULL;
		kept.len = 0;
		return p;
	}
	uint8_t *m = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	/* keep the 2 MiB-aligned part: only aligned ranges become huge pages */
	uintptr_t a = ((uintptr_t)m + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
	uint8_t *p = (uint8_t *)a;
	if (p > m)
		munmap(m, (size_t)(p - m));
	if (m + span > p + len)
		munmap(p + len, (size_t)(m + span - (p + len)));
	madvise(p, len, MADV_HUGEPAGE);
	return p;
}

void sc_big_free(void *p, size_t n)
{
	if (!p)
		return;
	if (n < HUGE_PAGE) {
		free(p);
		return;
	}
	size_t len = huge_round(n);
	if (kept.depth && len > kept.len) {
		unmap_kept();
		kept.p = p;
		kept.len = len;
	} else
		munmap(p, len);
}

void sc_malloc_keep_freed(void)
{
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
}

int sc_fd_limit(void)
{
	struct rlimit rl;
	return getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (1u << 20) ? (int)rl.rlim_cur : 1 << 20;
}

int sc_read_file_big(const char *path, size_t max, uint8_t **ret, size_t *ret_len)
{
	struct stat st;
	*ret = NULL;
	*ret_len = 0;
	_cleanup_close_ int fd = sc_open_regular(AT_FDCWD, path, &st);
	if (fd < 0)
		return fd;
	if ((uint64_t)st.st_size > max)
		return -EFBIG;
	size_t n = (size_t)st.st_size;
	uint8_t *buf = sc_big_alloc(n);
	if (!buf)
		return -ENOMEM;
	int r = n ? sc_pread_full(fd, buf, n, 0) : 0;
	if (r < 0) {
		sc_big_free(buf, n);
		return r;
	}
	*ret = buf;
	*ret_len = n;
	return 0;
}

int sc_read_file(const char *path, size_t max, char **ret, size_t *ret_len)
{
	*ret = NULL;
	if (ret_len)
		*ret_len = 0;
	struct stat st;
	_cleanup_close_ int fd = sc_open_regular(AT_FDCWD, path, &st);
	if (fd < 0)
		return fd;
	if ((uint64_t)st.st_size > max)
		return -EFBIG;
	/* read to the end: /proc files say size 0 */
	size_t cap = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : 4096, len = 0;
	_cleanup_free_ char *buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (len + 1 >= cap) {
			if (cap > max)
				return -EFBIG;
			char *nb = realloc(buf, cap * 2);
			if (!nb)
				return -ENOMEM;
			buf = nb;
			cap *= 2;
		}
		ssize_t n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > max)
		return -EFBIG;
	buf[len] = '\0';
	*ret = TAKE_PTR(buf);
	if (ret_len)
		*ret_len = len;
	return 0;
}

char *sc_expand_home(const char *path)
{
	const char *home = getenv("HOME");
	if (path[0] == '~' && (path[1] == '/' || path[1] == '\0') && home) {
		size_t hl = strlen(home), pl = strlen(path + 1);
		char *r = malloc(hl + pl + 1);
		if (!r)
			return NULL;
		memcpy(r, home, hl);
		memcpy(r + hl, path + 1, pl + 1);
		return r;
	}
	return strdup(path);
}

char *sc_path_join(const char *a, const char *b)
{
	size_t al = strlen(a), bl = strlen(b);
	bool slash = al > 0 && a[al - 1] != '/';
	char *r = malloc(al + slash + bl + 1);
	if (!r)
		return NULL;
	memcpy(r, a, al);
	if (slash)
		r[al] = '/';
	memcpy(r + al + slash, b, bl + 1);
	return r;
}

void sc_format_bytes(uint64_t n, char *buf, size_t len)
{
	/* binary units with their names (GiB, as CUDA and free -h count), never
	 * a bare G: the man pages say so */
	static const char units[] = "BKMGTPE";
	double v = (double)n;
	size_t u = 0;
	while (v >= 1024.0 && u < sizeof units - 2) {
		v /= 1024.0;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%llu B", (unsigned long long)n);
	else
		snprintf(buf, len, v < 10 ? "%.1f %ciB" : "%.0f %ciB", v, units[u]);
}

bool sc_name_eq(const char *a, const char *b)
{
	for (;; a++, b++) {
		char x = (char)tolower((unsigned char)*a), y = (char)tolower((unsigned char)*b);
		if (x == '_')
			x = '-';
		if (y == '_')
			y = '-';
		if (x != y)
			return false;
		if (!x)
			return true;
	}
}

size_t sc_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 64 || lb > 64)
		return SIZE_MAX;
	size_t row[65];
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t prev = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cur = row[j];
			size_t sub = prev + (a[i - 1] != b[j - 1]);
			size_t del = row[j] + 1, ins = row[j - 1] + 1;
			row[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
			prev = cur;
		}
	}
	return row[lb];
}

void sc_strv_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

int sc_strv_appendf(char ***v, size_t *n, const char *fmt, ...)
{
	char *s;
	va_list ap;
	va_start(ap, fmt);
	int r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	char **nv = realloc(*v, (*n + 2) * sizeof *nv);
	if (!nv) {
		free(s);
		return -ENOMEM;
	}
	nv[(*n)++] = s;
	nv[*n] = NULL;
	*v = nv;
	return 0;
}

int sc_mkdir_parents(const char *path, mode_t mode)
{
	_cleanup_free_ char *p = strdup(path);
	if (!p)
		return -ENOMEM;
	for (char *s = p + 1; *s; s++)
		if (*s == '/') {
			*s = '\0';
			if (mkdir(p, mode) < 0 && errno != EEXIST)
				return -errno;
			*s = '/';
		}
	return 0;
}

int sc_mkdir_p(const char *path, mode_t mode)
{
	int r = sc_mkdir_parents(path, mode);
	if (r < 0)
		return r;
	return mkdir(path, mode) < 0 && errno != EEXIST ? -errno : 0;
}

size_t sc_suggest(const char *target, const char *const *names, size_t n, char *buf, size_t len)
{
	size_t k = 0;
	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (!names[i])
			continue;
		/* a short target is close to every short name: fewer edits */
		size_t d = sc_edit_distance(target, names[i]), tl = strlen(target);
		if (!(d <= (tl < 4 ? 1 : tl < 8 ? 2 : 3) || (tl >= 3 && strstr(names[i], target))))
			continue;
		size_t used = strlen(buf);
		snprintf(buf + used, len - used, "%s%s", k++ ? ", " : "", names[i]);
	}
	return k;
}

int sc_free_bytes(const char *dir, uint64_t *ret)
{
	*ret = 0;
	struct statvfs sv;
	if (statvfs(dir, &sv) < 0)
		return -errno;
	*ret = (uint64_t)sv.f_bavail * sv.f_frsize;
	return 0;
}

int sc_parse_size(const char *s, uint64_t *ret)
{
	*ret = 0;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || errno || v < 0 || !isfinite(v))
		return -EINVAL;
	uint64_t mul = 1;
	switch (toupper((unsigned char)*end)) {
	case 'K': mul = 1ULL << 10; end++; break;
	case 'M': mul = 1ULL << 20; end++; break;
	case 'G': mul = 1ULL << 30; end++; break;
	case 'T': mul = 1ULL << 40; end++; break;
	case '\0': break;
	default: return -EINVAL;
	}
	if (*end == 'i' || *end == 'I')
		end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end || v * (double)mul >= 1.8e19)
		return -EINVAL;
	*ret = (uint64_t)(v * (double)mul);
	return 0;
}

void sc_format_duration(int64_t s, char *buf, size_t len)
{
	if (s < 60)
		snprintf(buf, len, "%lld s", (long long)(s < 0 ? 0 : s));
	else if (s < 3600)
		snprintf(buf, len, "%lld min", (long long)(s / 60));
	else if (s < 86400)
		snprintf(buf, len, "%lld h %lld min", (long long)(s / 3600), (long long)(s / 60 % 60));
	else
		snprintf(buf, len, "%lld d %lld h", (long long)(s / 86400), (long long)(s / 3600 % 24));
}
