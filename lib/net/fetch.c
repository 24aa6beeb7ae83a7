#include "fetch.h"
#include "../base/time.h"
#include "curl_api.h"
#include "hash.h"
#include "hasher.h"
#include "http.h"
#include "hub.h"
#include "../base/util.h"

#include <fcntl.h>
#include <limits.h>
#include <jansson.h>
#include <strings.h>
#include <sys/stat.h>

#define MAX_ATTEMPTS FETCH_MAX_ATTEMPTS  /* failures in a row without a byte arriving */
#define MAX_REDIRECTS 10
/* a server's Retry-After is honoured up to this (a hostile one says
 * 2000000000) */
#define MAX_RETRY_AFTER_S 300
/* what an error answer may say: its message is in the first bytes */
#define MAX_ERROR_BODY (64u << 10)
/* libcurl hands over 16 KiB at a time: written in blocks of this size,
 * the syscalls drop 64-fold */
#define WBUF_SIZE (1u << 20)
#define WRITEBACK_EVERY (8u << 20)

static const int backoff_s[] = { 1, 2, 4, 8, 8 };  /* as huggingface_hub */

struct xfer {
	struct fetch_item *it;
	CURL *c;
	struct curl_slist *hdr;
	int fd;
	char *tmp;
	struct sc_hash *h;
	uint64_t have;   /* bytes received and hashed: on disk plus in wbuf */
	uint64_t disk;   /* bytes written to the file */
	uint8_t *bufs[2], *wbuf;  /* wbuf: the one being filled */
	size_t wlen;
	struct hasher hs;
	char *url;
	bool auth;
	int redirects, attempts;
	int64_t not_before;
	bool started, checked, sink;  /* sink: a body that is not the file */
	bool oversize;                /* more bytes came than the listing said */
	int write_err;
	struct http_resp resp;        /* headers, and the body of an error */
	char errbuf[CURL_ERROR_SIZE];
};

char *sc_fetch_partial_path(const char *dir, const char *rel)
{
	char *p;
	return asprintf(&p, "%s/.sparkctl/partial/%s.part", dir, rel) < 0 ? NULL : p;
}

static void fail(struct xfer *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct xfer *x, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(x->it->error, sizeof x->it->error, fmt, ap);
	va_end(ap);
	x->it->failed = true;
}

/* (Re)start the hash over the bytes already on disk. */
static int rehash(struct xfer *x, sc_err *e)
{
	if (x->hs.running)
		sc_hasher_wait(&x->hs);
	sc_hash_free(x->h);
	x->h = NULL;
	int r = x->it->sha256[0] || !x->it->blob_sha1[0] ? sc_hash_new(SC_SHA256, &x->h, e)
							 : sc_hash_git_blob(x->it->size, &x->h, e);
	if (r < 0)
		return r;
	return x->have ? sc_hash_file(x->h, x->fd, x->have) : 0;
}

/* A failed file with no byte kept leaves nothing: the empty partial and
 * the folders that only held it. */
static void remove_empty_partial(const char *dir, const char *tmp)
{
	_cleanup_free_ char *p = strdup(tmp), *top = sc_path_join(dir, ".sparkctl");
	if (!p || !top || unlink(p) < 0)
		return;
	for (char *slash; (slash = strrchr(p, '/')) && slash > p;) {
		*slash = '\0';
		if (strlen(p) < strlen(top) || rmdir(p) < 0)
			break;
	}
}

static int truncate_partial(struct xfer *x, sc_err *e)
{
	if (ftruncate(x->fd, 0) < 0)
		return sc_error(e, -errno, "%s: %s", x->tmp, strerror(errno));
	x->have = x->disk = 0;
	x->wlen = 0;
	return rehash(x, e);
}

static int prepare(struct xfer *x, const struct fetch_opts *o, sc_err *e)
{
	struct stat st;
	int r;
	if (!(x->tmp = sc_fetch_partial_path(o->dir, x->it->rel)) || !(x->url = strdup(x->it->url)))
		return sc_error(e, -ENOMEM, "out of memory");
	if ((r = sc_mkdir_parents(x->tmp, 0755)) < 0)
		return sc_error(e, r, "%s: %s", x->tmp, sc_strerror(r));
	x->fd = open(x->tmp, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (x->fd < 0 || fstat(x->fd, &st) < 0)
		return sc_error(e, -errno, "%s: %s", x->tmp, strerror(errno));
	if (!x->bufs[0] && (!(x->bufs[0] = malloc(WBUF_SIZE)) || !(x->bufs[1] = malloc(WBUF_SIZE))))
		return sc_error(e, -ENOMEM, "out of memory");
	x->wbuf = x->bufs[0];
	x->have = x->disk = (uint64_t)st.st_size;
	if (x->it->size && x->have > x->it->size && ftruncate(x->fd, 0) == 0)
		x->have = x->disk = 0;  /* longer than the file can be: start over */
	x->it->resumed_at = x->have;
	int k = rehash(x, e);
	if (k < 0)
		return k;
	if (!x->hs.running && sc_hasher_start(&x->hs, &x->h) < 0)
		return sc_error(e, -EAGAIN, "cannot start a hashing thread");
	return 0;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	struct xfer *x = ud;
	size_t len = size * n;
	if (len > 5 && memcmp(p, "HTTP/", 5) == 0)
		x->resp.hlen = 0;  /* the headers of the last answer only */
	return sc_http_append(&x->resp.headers, &x->resp.hlen, p, len, 256 * 1024) < 0 ? 0 : len;
}

/* The first bytes of a body: is it the file, from where we asked? */
static int check_status(struct xfer *x, const struct curl_api *cu)
{
	long status = 0;
	char cr[128];
	sc_err e;
	cu->easy_getinfo(x->c, CURLINFO_RESPONSE_CODE, &status);
	x->checked = true;
	if (status == 206) {
		unsigned long long a = 0;
		if (!sc_http_header(&x->resp, "Content-Range", cr, sizeof cr) || sscanf(cr, "bytes %llu-", &a) != 1 ||
		    a != x->have) {
			/* not the range we asked for: start this file over */
			if (truncate_partial(x, &e) < 0)
				return -1;
			x->sink = true;
		}
	} else if (status == 200) {
		/* a server that ignores Range sends everything: start over */
		if (x->have && truncate_partial(x, &e) < 0)
			return -1;
	} else
		x->sink = true;
	return 0;
}

static int write_at(struct xfer *x, const uint8_t *p, size_t len)
{
	for (size_t off = 0; off < len;) {
		ssize_t w = pwrite(x->fd, p + off, len - off, (off_t)(x->disk + off));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			x->write_err = w < 0 ? errno : ENOSPC;
			return -1;
		}
		off += (size_t)w;
	}
	x->disk += len;
	return 0;
}

/* What is buffered goes to the file, then to the hasher; filling goes on
 * in the other buffer. */
static int flush(struct xfer *x)
{
	if (!x->wlen)
		return x->write_err ? -1 : 0;
	if (write_at(x, x->wbuf, x->wlen) < 0)
		return -1;
	/* start writeback as we go: the fsync before the rename then has
	 * little left to wait for, and dirty pages do not pile up */
	if (x->disk % WRITEBACK_EVERY < x->wlen && x->disk >= WRITEBACK_EVERY)
		sync_file_range(x->fd, (off64_t)(x->disk - WRITEBACK_EVERY), WRITEBACK_EVERY, SYNC_FILE_RANGE_WRITE);
	sc_hasher_submit(&x->hs, x->wbuf, x->wlen);
	x->wbuf = x->wbuf == x->bufs[0] ? x->bufs[1] : x->bufs[0];
	x->wlen = 0;
	return 0;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct xfer *x = ud;
	size_t len = size * n;
	const struct curl_api *cu = sc_curl(NULL);
	if (!x->checked && check_status(x, cu) < 0)
		return 0;
	if (x->sink) {
		/* an error's body, kept for its message; an endless one is cut */
		if (x->resp.len + len > MAX_ERROR_BODY)
			return 0;
		return sc_http_append(&x->resp.body, &x->resp.len, p, len, MAX_ERROR_BODY) < 0 ? 0 : len;
	}
	/* past the listed size: stop now, whatever the server would send */
	if (x->it->size && x->have + len > x->it->size) {
		x->oversize = true;
		return 0;
	}
	if (x->wlen + len > WBUF_SIZE && flush(x) < 0)
		return 0;
	/* libcurl never hands over more than CURL_MAX_WRITE_SIZE (16 KiB) */
	if (len > WBUF_SIZE)
		return 0;
	memcpy(x->wbuf + x->wlen, p, len);
	x->wlen += len;
	x->have += len;
	x->it->fetched += len;
	x->attempts = 0;  /* bytes arrived: the retry count starts again */
	return len;
}

static int start(struct xfer *x, CURLM *m, const struct curl_api *cu, const struct fetch_opts *o, sc_err *e)
{
	char origin[256];
	sc_url_origin(x->url, origin, sizeof origin);
	x->auth = o->token && o->origin && streq(origin, o->origin);
	x->checked = x->sink = x->oversize = false;
	x->errbuf[0] = '\0';
	sc_http_resp_done(&x->resp);
	cu->slist_free_all(x->hdr);
	x->hdr = NULL;
	if (!(x->c = sc_curl_easy(cu)))
		return sc_error(e, -ENOMEM, "out of memory");
	char range[64];
	if (x->have) {
		snprintf(range, sizeof range, "Range: bytes=%llu-", (unsigned long long)x->have);
		if (!(x->hdr = cu->slist_append(x->hdr, range)))
			return sc_error(e, -ENOMEM, "out of memory");
	}
	if (x->auth) {
		_cleanup_free_ char *h = NULL;
		if (asprintf(&h, "Authorization: Bearer %s", o->token) < 0 || !(x->hdr = cu->slist_append(x->hdr, h)))
			return sc_error(e, -ENOMEM, "out of memory");
		explicit_bzero(h, strlen(h));
	}
	cu->easy_setopt(x->c, CURLOPT_URL, x->url);
	cu->easy_setopt(x->c, CURLOPT_HTTPHEADER, x->hdr);
	cu->easy_setopt(x->c, CURLOPT_WRITEFUNCTION, on_body);
	cu->easy_setopt(x->c, CURLOPT_WRITEDATA, x);
	cu->easy_setopt(x->c, CURLOPT_HEADERFUNCTION, on_header);
	cu->easy_setopt(x->c, CURLOPT_HEADERDATA, x);
	cu->easy_setopt(x->c, CURLOPT_PRIVATE, x);
	cu->easy_setopt(x->c, CURLOPT_ERRORBUFFER, x->errbuf);
	cu->easy_setopt(x->c, CURLOPT_NOSIGNAL, 1L);
	cu->easy_setopt(x->c, CURLOPT_FOLLOWLOCATION, 0L);  /* followed here, without the token elsewhere */
	cu->easy_setopt(x->c, CURLOPT_CONNECTTIMEOUT, 30L);
	/* a stalled transfer (under 1 KiB/s for 60 s) is retried */
	cu->easy_setopt(x->c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
	cu->easy_setopt(x->c, CURLOPT_LOW_SPEED_TIME, 60L);
	cu->easy_setopt(x->c, CURLOPT_USERAGENT, "sparkctl/" SPARKCTL_VERSION);
	cu->easy_setopt(x->c, CURLOPT_BUFFERSIZE, 512L * 1024);
	if (cu->multi_add_handle(m, x->c) != CURLM_OK)
		return sc_error(e, -EIO, "curl_multi_add_handle failed");
	x->started = true;
	return 0;
}

static void finish_handle(struct xfer *x, CURLM *m, const struct curl_api *cu)
{
	cu->multi_remove_handle(m, x->c);
	cu->easy_cleanup(x->c);
	x->c = NULL;
	x->started = false;
}

/* Retry later (or give up), asking the resolve URL again: signed CDN URLs
 * expire. */
static void retry(struct xfer *x, const char *why, int retry_after)
{
	if (++x->attempts > MAX_ATTEMPTS) {
		fail(x, "%s; gave up after %d attempts", why, MAX_ATTEMPTS);
		return;
	}
	int wait = retry_after > 0 ? (retry_after > MAX_RETRY_AFTER_S ? MAX_RETRY_AFTER_S : retry_after)
				   : backoff_s[x->attempts - 1];
	x->not_before = sc_now_ms() + (int64_t)wait * 1000;
	x->it->attempts = x->attempts;
	snprintf(x->it->retry_why, sizeof x->it->retry_why, "%s", why);
	free(x->url);
	x->url = strdup(x->it->url);
	x->redirects = 0;
}

static void verify_and_place(struct xfer *x, const struct fetch_opts *o)
{
	char got[65];
	const char *want = x->it->sha256[0] ? x->it->sha256 : x->it->blob_sha1;
	if (sc_hasher_wait(&x->hs) < 0 || sc_hash_final(x->h, got) < 0) {
		fail(x, "hashing failed");
		return;
	}
	if (want[0] && strcasecmp(got, want) != 0) {
		unlink(x->tmp);
		fail(x, "%s mismatch: expected %s, got %s; the bytes were discarded", x->it->sha256[0] ? "SHA-256" : "git blob id",
		     want, got);
		return;
	}
	_cleanup_free_ char *final = sc_path_join(o->dir, x->it->rel);
	int r = final ? sc_mkdir_parents(final, 0755) : -ENOMEM;
	if (r < 0 || fsync(x->fd) < 0 || rename(x->tmp, final) < 0) {
		fail(x, "cannot put %s in place: %s", x->it->rel, strerror(r < 0 ? -r : errno));
		return;
	}
	x->it->done = true;
}

/* A transfer ended: decide what comes next. Returns <0 to stop the run. */
static int ended(struct xfer *x, CURLcode cc, const struct fetch_opts *o, const struct curl_api *cu, sc_err *e)
{
	long status = 0;
	char buf[2048];
	cu->easy_getinfo(x->c, CURLINFO_RESPONSE_CODE, &status);
	flush(x);
	if (x->oversize) {
		unlink(x->tmp);
		x->have = x->disk = 0;
		fail(x, "refused: the server sent more than the %llu bytes the listing gives; the bytes were discarded",
		     (unsigned long long)x->it->size);
		return 0;
	}
	if (x->write_err) {
		fail(x, "cannot write %s: %s; the %llu bytes so far are kept: run again to resume", x->tmp,
		     strerror(x->write_err), (unsigned long long)x->disk);
		return sc_error(e, -x->write_err, "%s", x->it->error);
	}
	if (status >= 300 && status < 400) {
		char *loc = NULL;
		cu->easy_getinfo(x->c, CURLINFO_REDIRECT_URL, &loc);
		if (!loc || ++x->redirects > MAX_REDIRECTS) {
			fail(x, "HTTP %ld without a usable Location", status);
			return 0;
		}
		if (!sc_url_is_http(loc)) {
			fail(x, "refused: HTTP %ld redirects to %.*s, which is not http or https", status,
			     (int)strcspn(loc, ":"), loc);
			return 0;
		}
		char *u = strdup(loc);
		if (!u)
			return sc_error(e, -ENOMEM, "out of memory");
		free(x->url);
		x->url = u;
		x->not_before = 0;
		return 0;
	}
	if (cc == CURLE_UNSUPPORTED_PROTOCOL) {
		fail(x, "refused: %s is not an http or https URL", x->url);
		return 0;
	}
	if (cc != CURLE_OK && cc != CURLE_WRITE_ERROR) {
		snprintf(buf, sizeof buf, "%s", x->errbuf[0] ? x->errbuf : cu->easy_strerror(cc));
		retry(x, buf, 0);
		return 0;
	}
	if (status == 408 || status == 429 || status >= 500) {
		char ra[32];
		long after = sc_http_header(&x->resp, "Retry-After", ra, sizeof ra) ? strtol(ra, NULL, 10) : 0;
		snprintf(buf, sizeof buf, "HTTP %ld", status);
		retry(x, buf, after > INT_MAX ? INT_MAX : after < 0 ? 0 : (int)after);
		return 0;
	}
	if (status == 416 && x->it->size && x->have == x->it->size) {
		verify_and_place(x, o);
		return 0;
	}
	if (status == 416 || (x->sink && status == 206)) {
		if (truncate_partial(x, e) < 0)
			return -EIO;
		retry(x, "the server did not send the range asked for", 0);
		return 0;
	}
	if (status != 200 && status != 206) {
		char origin[256];
		sc_url_origin(x->url, origin, sizeof origin);
		if (o->origin && !streq(origin, o->origin)) {
			/* not the Hub: its token hints would mislead */
			fail(x, "HTTP %ld from %s", status, origin);
			return 0;
		}
		struct hub h = { .token = o->token ? (char *)"" : NULL, .token_source = "the Hub token" };
		sc_err he;
		x->resp.status = status;
		sc_hub_error(&h, "the server", &x->resp, &he);
		fail(x, "%s", he.msg);
		return 0;
	}
	if (x->it->size && x->have < x->it->size) {
		snprintf(buf, sizeof buf, "the connection closed after %llu of %llu bytes", (unsigned long long)x->have,
			 (unsigned long long)x->it->size);
		retry(x, buf, 0);
		return 0;
	}
	if (x->it->size && x->have > x->it->size) {
		unlink(x->tmp);
		fail(x, "%llu bytes arrived, %llu were expected; the bytes were discarded", (unsigned long long)x->have,
		     (unsigned long long)x->it->size);
		return 0;
	}
	verify_and_place(x, o);
	return 0;
}

static void xfer_free(struct xfer *x, const struct curl_api *cu)
{
	if (x->fd >= 0)
		close(x->fd);
	free(x->tmp);
	free(x->url);
	sc_hasher_stop(&x->hs);
	sc_hash_free(x->h);
	free(x->bufs[0]);
	free(x->bufs[1]);
	sc_http_resp_done(&x->resp);
	if (cu)
		cu->slist_free_all(x->hdr);
}

int sc_fetch(struct fetch_item *items, size_t n, const struct fetch_opts *o, sc_err *e)
{
	const struct curl_api *cu = sc_curl(e);
	if (!cu)
		return -ENOSYS;
	struct xfer *xs = calloc(n ? n : 1, sizeof *xs);
	CURLM *m = cu->multi_init();
	int r = 0;
	size_t active = 0, failed = 0;
	int64_t t0 = sc_now_ms(), last = 0;
	uint64_t total = 0, base = 0;
	if (!xs || !m) {
		free(xs);
		return sc_error(e, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		xs[i].it = &items[i];
		xs[i].fd = -1;
		total += items[i].size;
	}
	size_t jobs = o->jobs > 0 ? (size_t)o->jobs : 8;
	for (;;) {
		/* start what may start */
		for (size_t i = 0; i < n && active < jobs; i++) {
			struct xfer *x = &xs[i];
			if (x->started || x->it->done || x->it->failed || sc_now_ms() < x->not_before)
				continue;
			if (x->fd < 0) {
				if ((r = prepare(x, o, e)) < 0)
					break;
				base += x->have;
			}
			if ((r = start(x, m, cu, o, e)) < 0)
				break;
			active++;
		}
		size_t settled = 0;
		for (size_t i = 0; i < n; i++)
			settled += xs[i].it->done || xs[i].it->failed;
		if (r < 0 || settled == n)
			break;
		int running, wait = 200;
		cu->multi_perform(m, &running);
		CURLMsg *msg;
		int left;
		while ((msg = cu->multi_info_read(m, &left))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			struct xfer *x;
			cu->easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
			CURLcode cc = msg->data.result;
			int k = ended(x, cc, o, cu, e);
			finish_handle(x, m, cu);
			active--;
			if (x->it->done || x->it->failed) {
				if (x->it->failed)
					failed++;
				close(x->fd);
				x->fd = -1;
				if (x->it->failed && !x->disk)
					remove_empty_partial(o->dir, x->tmp);
				/* memory stays at --jobs buffers, whatever the number of files */
				sc_hasher_stop(&x->hs);
				free(x->bufs[0]);
				free(x->bufs[1]);
				x->bufs[0] = x->bufs[1] = x->wbuf = NULL;
				sc_hash_free(x->h);
				x->h = NULL;
				if (o->finished)
					o->finished(o->ud, x->it);
			}
			if (k < 0)
				r = k;
		}
		if (r < 0)
			break;
		if (o->progress && sc_now_ms() - last >= 200) {
			struct fetch_progress p = { .total_bytes = total };
			for (size_t i = 0; i < n; i++) {
				p.done_bytes += xs[i].it->done ? xs[i].it->size : xs[i].have;
				if (!xs[i].started && !xs[i].it->done && !xs[i].it->failed && xs[i].not_before > sc_now_ms() &&
				    !p.waiting) {
					p.waiting = xs[i].it;
					p.wait_ms = xs[i].not_before - sc_now_ms();
				}
				if (xs[i].started && p.active < ARRAY_SIZE(p.items)) {
					p.items[p.active] = xs[i].it;
					p.have[p.active++] = xs[i].have;
				}
			}
			double s = (double)(sc_now_ms() - t0) / 1000;
			p.rate = s > 0 && p.done_bytes > base ? (double)(p.done_bytes - base) / s : 0;
			o->progress(o->ud, &p);
			last = sc_now_ms();
		}
		cu->multi_poll(m, NULL, 0, active ? wait : 50, NULL);
	}
	for (size_t i = 0; i < n; i++) {
		if (xs[i].started)
			finish_handle(&xs[i], m, cu);
		xfer_free(&xs[i], cu);
	}
	cu->multi_cleanup(m);
	free(xs);
	if (r < 0)
		return r;
	if (failed)
		return sc_error(e, -EIO, "%zu of %zu files failed", failed, n);
	return 0;
}
