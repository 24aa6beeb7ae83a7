/* Errors: library functions return 0 (or a count) on success and a negative
 * code on failure, and describe the failure in a caller-supplied sc_err.
 * Nothing in lib/ prints or exits.
 *
 * Results: a function that fills a result (struct *ret, char **ret, ...)
 * initialises it first, before anything can fail, to its empty state (zero,
 * NULL, or what its header documents). A caller may therefore always read
 * the result and always run its _free, success or not; nothing is ever
 * left uninitialised (switch with an unknown name crashed on exactly that). */
#ifndef SC_ERR_H
#define SC_ERR_H

#include <errno.h>

/* Project codes for format errors sit below every errno value. */
enum {
	SC_EBASE = -10000,
	SC_ESHORT,      /* fewer bytes than the fixed header needs */
	SC_ETOOBIG,     /* a declared length over the format's limit */
	SC_EPASTEOF,    /* a declared length reaches past the end of the file */
	SC_ENOTJSON,    /* JSON grammar error */
	SC_ENOTOBJ,     /* JSON is valid but not the expected shape */
	SC_EDTYPE,      /* unknown dtype or ggml type */
	SC_EOFFSETS,    /* data offsets with a hole, an overlap or not from 0 */
	SC_ESIZE,       /* shape x dtype does not match the byte range */
	SC_EMAGIC,      /* wrong magic */
	SC_EVERSION,    /* unsupported format version */
	SC_ELENGTH,     /* string/array length larger than the bytes left */
	SC_ETRUNC,      /* structure ends before it is complete */
	SC_EUTF8,       /* invalid UTF-8 */
	SC_ECONFIG,     /* models.ini error */
	SC_ENOTFOUND,   /* named thing does not exist */
	SC_ENOTREG,     /* not a regular file: a FIFO, device or socket */
};

/* A format error (one of the codes above), as opposed to -errno. */
static inline int sc_is_format_error(int code)
{
	return code > SC_EBASE && code < SC_EBASE + 1000;
}

typedef struct sc_err {
	char msg[512];
} sc_err;

/* Fill e (may be NULL) and return code, so callers can write
 * `return sc_error(e, -EINVAL, "bad %s", x);`. */
int sc_error(sc_err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A short name for a project code, for tests and diagnostics. */
const char *sc_strerror(int code);

#endif
