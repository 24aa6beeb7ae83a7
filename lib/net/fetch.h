/* The download engine: up to `jobs` files at once on one libcurl multi
 * handle; each written to a temporary file and hashed as it is written,
 * resumed with Range from the bytes on disk, retried with backoff, and
 * renamed into place only when its size and hash are right. */
#ifndef SC_FETCH_H
#define SC_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/err.h"

struct fetch_item {
	char *rel;            /* path inside the target folder */
	char *url;            /* where to ask (again before every resume) */
	uint64_t size;        /* expected; 0: unknown */
	char sha256[65];      /* expected SHA-256, or "" */
	char blob_sha1[41];   /* expected git blob id, or "" */
	/* outcome */
	bool done, failed;
	char error[512];
	uint64_t fetched;     /* bytes that came over the network */
	uint64_t resumed_at;  /* bytes already on disk when it started */
	int attempts;         /* failed attempts in a row so far */
	char retry_why[256];  /* why the last one failed */
};

struct fetch_progress {
	uint64_t done_bytes, total_bytes;
	double rate;          /* bytes/s over the run */
	size_t active;
	const struct fetch_item *items[16];  /* the active files */
	uint64_t have[16];
	const struct fetch_item *waiting;  /* a file waiting to be retried */
	int64_t wait_ms;                   /* ... in this many ms */
};

#define FETCH_MAX_ATTEMPTS 5

struct fetch_opts {
	const char *dir;      /* the target folder */
	const char *token;    /* sent to `origin` only */
	const char *origin;   /* scheme://host:port that may see the token */
	int jobs;
	void (*progress)(void *ud, const struct fetch_progress *p);
	void (*finished)(void *ud, const struct fetch_item *it);
	void *ud;
};

/* The temporary file of rel: <dir>/.sparkctl/partial/<rel>.part */
char *sc_fetch_partial_path(const char *dir, const char *rel);

/* Fetch every item. 0 when all are in place; <0 when any failed (each
 * says why) or the run had to stop (a write error: the partial data is
 * kept for a resume). */
int sc_fetch(struct fetch_item *items, size_t n, const struct fetch_opts *o, sc_err *e);

#endif
