#include "hash.h"
#include "util.h"

#include <dlfcn.h>
#include <openssl/evp.h>
#include <pthread.h>

static struct {
	EVP_MD_CTX *(*ctx_new)(void);
	void (*ctx_free)(EVP_MD_CTX *);
	const EVP_MD *(*sha256)(void);
	const EVP_MD *(*sha1)(void);
	int (*init)(EVP_MD_CTX *, const EVP_MD *, ENGINE *);
	int (*update)(EVP_MD_CTX *, const void *, size_t);
	int (*final)(EVP_MD_CTX *, unsigned char *, unsigned int *);
	const char *error;
} ssl;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
	void *h = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		ssl.error = dlerror();
		return;
	}
#define SYM(f, n) *(void **)&ssl.f = dlsym(h, n)
	SYM(ctx_new, "EVP_MD_CTX_new");
	SYM(ctx_free, "EVP_MD_CTX_free");
	SYM(sha256, "EVP_sha256");
	SYM(sha1, "EVP_sha1");
	SYM(init, "EVP_DigestInit_ex");
	SYM(update, "EVP_DigestUpdate");
	SYM(final, "EVP_DigestFinal_ex");
#undef SYM
	if (!ssl.ctx_new || !ssl.ctx_free || !ssl.sha256 || !ssl.sha1 || !ssl.init || !ssl.update || !ssl.final) {
		ssl.ctx_new = NULL;
		ssl.error = "libcrypto.so.3 lacks a digest function";
	}
}

struct sc_hash {
	EVP_MD_CTX *ctx;
};

int sc_hash_new(enum sc_hash_kind kind, struct sc_hash **ret, sc_err *e)
{
	*ret = NULL;
	pthread_once(&once, load);
	if (!ssl.ctx_new)
		return sc_error(e, -ENOSYS, "cannot load OpenSSL's libcrypto: %s", ssl.error ? ssl.error : "?");
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
