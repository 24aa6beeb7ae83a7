#include "hash.h"
#include "../base/dlib.h"
#include "../base/util.h"

#include <openssl/evp.h>

static struct {
	EVP_MD_CTX *(*ctx_new)(void);
	void (*ctx_free)(EVP_MD_CTX *);
	const EVP_MD *(*sha256)(void);
	const EVP_MD *(*sha1)(void);
	int (*init)(EVP_MD_CTX *, const EVP_MD *, ENGINE *);
	int (*update)(EVP_MD_CTX *, const void *, size_t);
	int (*final)(EVP_MD_CTX *, unsigned char *, unsigned int *);
} ssl;
#define S(f, n) SC_DLIB_SYM(__typeof__(ssl), f, n)
static const struct sc_dlib_sym syms[] = {
	S(ctx_new, "EVP_MD_CTX_new"), S(ctx_free, "EVP_MD_CTX_free"), S(sha256, "EVP_sha256"), S(sha1, "EVP_sha1"),
	S(init, "EVP_DigestInit_ex"), S(update, "EVP_DigestUpdate"), S(final, "EVP_DigestFinal_ex"), { 0 },
};
#undef S
static const char *const sonames[] = { "libcrypto.so.3", NULL };
static struct sc_dlib lib = { .what = "OpenSSL's libcrypto", .sonames = sonames, .syms = syms, .api = &ssl,
			      .once = PTHREAD_ONCE_INIT };

struct sc_hash {
	EVP_MD_CTX *ctx;
};

int sc_hash_new(enum sc_hash_kind kind, struct sc_hash **ret, sc_err *e)
{
	*ret = NULL;
	if (!sc_dlib_get(&lib, e))
		return -ENOSYS;
	struct sc_hash *h = calloc(1, sizeof *h);
	if (!h || !(h->ctx = ssl.ctx_new())) {
		free(h);
		return sc_error(e, -ENOMEM, "out of memory");
	}
	if (ssl.init(h->ctx, kind == SC_SHA256 ? ssl.sha256() : ssl.sha1(), NULL) != 1) {
		sc_hash_free(h);
		return sc_error(e, -EIO, "EVP_DigestInit_ex failed");
	}
	*ret = h;
	return 0;
}

int sc_hash_update(struct sc_hash *h, const void *data, size_t len)
{
	return ssl.update(h->ctx, data, len) == 1 ? 0 : -EIO;
}

int sc_hash_final(struct sc_hash *h, char *out)
{
	unsigned char md[64];
	unsigned int n = 0;
	if (ssl.final(h->ctx, md, &n) != 1)
		return -EIO;
	for (unsigned i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
	return 0;
}

void sc_hash_free(struct sc_hash *h)
{
	if (h) {
		ssl.ctx_free(h->ctx);
		free(h);
	}
}

int sc_hash_git_blob(uint64_t size, struct sc_hash **ret, sc_err *e)
{
	*ret = NULL;
	char prefix[32];
	int n = snprintf(prefix, sizeof prefix, "blob %llu", (unsigned long long)size);
	int r = sc_hash_new(SC_SHA1, ret, e);
	if (r < 0)
		return r;
	return sc_hash_update(*ret, prefix, (size_t)n + 1);  /* with the NUL */
}

int sc_hash_file(struct sc_hash *h, int fd, uint64_t len)
{
	static const size_t chunk = 1 << 20;
	_cleanup_free_ uint8_t *buf = malloc(chunk);
	uint64_t off = 0;
	if (!buf)
		return -ENOMEM;
	while (off < len) {
		size_t n = len - off < chunk ? (size_t)(len - off) : chunk;
		int r = sc_pread_full(fd, buf, n, off);
		if (r < 0)
			return r;
		if (sc_hash_update(h, buf, n) < 0)
			return -EIO;
		off += n;
	}
	return 0;
}
