/* Small shared helpers: cleanup attributes, checked arithmetic, growable
 * arrays. */
#ifndef SC_UTIL_H
#define SC_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

static inline void sc_freep(void *p) { free(*(void **)p); }
static inline void sc_closep(int *fd) { if (*fd >= 0) close(*fd); }
static inline void sc_fclosep(FILE **f) { if (*f) fclose(*f); }

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(sc_freep)
#define _cleanup_close_ _cleanup_(sc_closep)
#define _cleanup_fclose_ _cleanup_(sc_fclosep)

/* Hand ownership out of a _cleanup_ variable. */
#define TAKE_PTR(p) ({ __typeof__(p) _t = (p); (p) = NULL; _t; })
#define TAKE_FD(fd) ({ int _t = (fd); (fd) = -1; _t; })

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static inline bool streq(const char *a, const char *b) { return strcmp(a, b) == 0; }
static inline bool startswith(const char *s, const char *p) { return strncmp(s, p, strlen(p)) == 0; }
bool sc_endswith(const char *s, const char *suffix);
/* inline: with a constant suffix the compiler compares in registers (the
 * scan classifies every tensor name with a dozen of these) */
static inline bool sc_endswith_n(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);
	return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

/* Grow *arr (element size sz) so it holds at least need elements. */
int sc_grow(void *arr, size_t *cap, size_t need, size_t sz);

/* Open a file to read it, relative to dirfd (AT_FDCWD), without ever
 * blocking: O_NONBLOCK, then fstat, and only a regular file (or /dev/null,
 * read as empty) is accepted: a FIFO named config.json would hang every
 * reader forever. SC_ENOTREG for anything else; st may be NULL. */
int sc_open_regular(int dirfd, const char *path, struct stat *st);

/* A large buffer read into once and thrown away (a safetensors header of
 * several MiB): from 2 MiB up it is mapped in 2 MiB-aligned huge pages
 * where the kernel offers them (transparent_hugepage "madvise"), so
 * reading into it costs one page fault per 2 MiB instead of one per 4 KiB.
 * Free with sc_big_free and the same n. Between sc_big_keep(true) and
 * (false) a thread keeps its largest freed buffer for its next sc_big_alloc
 * (the pool does this for its tasks). */
void *sc_big_alloc(size_t n);
void sc_big_free(void *p, size_t n);
void sc_big_keep(bool on);

/* A process that reads header after header (the CLI, the benches) keeps
 * the memory it frees: glibc's sliding thresholds handed every header's
 * arrays back to the kernel, which zeroed them again for the next file. */
void sc_malloc_keep_freed(void);

/* The descriptor limit (RLIMIT_NOFILE's soft value), at most 2^20: what a
 * table indexed by descriptor needs, and where closing them all ends. */
int sc_fd_limit(void);

/* A whole regular file (at most max bytes) into an sc_big_alloc buffer of
 * *ret_len bytes (sc_open_regular's rules); free with sc_big_free. */
int sc_read_file_big(const char *path, size_t max, uint8_t **ret, size_t *ret_len);

/* Read a whole small file (at most max bytes) into a NUL-terminated buffer
 * (sc_open_regular's rules). */
int sc_read_file(const char *path, size_t max, char **ret, size_t *ret_len);

/* pread exactly len bytes at off; -SC_ETRUNC style short reads become -EIO. */
int sc_pread_full(int fd, void *buf, size_t len, uint64_t off);

/* "~/x" -> "$HOME/x"; a copy otherwise. */
char *sc_expand_home(const char *path);

/* mkdir -p of the folders above path, or of path and those above it. */
int sc_mkdir_parents(const char *path, mode_t mode);
int sc_mkdir_p(const char *path, mode_t mode);

/* a + "/" + b, newly allocated. */
char *sc_path_join(const char *a, const char *b);

/* Human-readable byte count with binary units: "17.3 GiB", "512 B". */
void sc_format_bytes(uint64_t n, char *buf, size_t len);

/* A duration as people read it: "42 s", "3 min", "2 h 5 min", "3 d 4 h". */
void sc_format_duration(int64_t s, char *buf, size_t len);

/* Case-insensitive equality treating '_' and '-' alike. */
bool sc_name_eq(const char *a, const char *b);

/* Free an array of n strings (NULL-safe). */
void sc_strv_free(char **v, size_t n);

/* Append a formatted string to a NULL-terminated array of n strings. */
int sc_strv_appendf(char ***v, size_t *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* "128G" -> bytes (binary units K, M, G, T). */
int sc_parse_size(const char *s, uint64_t *ret);

/* Free bytes for an unprivileged writer of dir. */
int sc_free_bytes(const char *dir, uint64_t *ret);

/* Levenshtein distance, for "did you mean". */
size_t sc_edit_distance(const char *a, const char *b);

/* "Did you mean": the names within edit distance 3 of target, or that
 * contain it, joined by ", " into buf; returns how many. */
size_t sc_suggest(const char *target, const char *const *names, size_t n, char *buf, size_t len);

#endif
