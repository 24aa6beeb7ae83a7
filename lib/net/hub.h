/* The Hugging Face Hub protocol (doc/FACTS.md "The Hub protocol"): endpoint and
 * token discovery, revision -> commit, the recursive file listing, the
 * include/exclude globs, and the Hub's error answers. */
#ifndef SC_HUB_H
#define SC_HUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/err.h"
#include "../base/strset.h"

struct hub {
	char *endpoint;      /* $HF_ENDPOINT, no trailing '/' */
	char *token;         /* may be NULL; never printed */
	char token_source[256];
	bool offline;        /* $HF_HUB_OFFLINE=1 */
};

/* Environment as huggingface_hub reads it: HF_ENDPOINT; HF_TOKEN, else
 * HUGGING_FACE_HUB_TOKEN, else the file HF_TOKEN_PATH, else
 * $HF_HOME/token (HF_HOME default ~/.cache/huggingface). */
int sc_hub_init(struct hub *ret, sc_err *e);
void sc_hub_done(struct hub *h);

struct hub_file {
	char *path;
	uint64_t size;
	char oid[41];      /* git blob id: of the content, or of the LFS pointer */
	bool lfs;
	char sha256[65];   /* lfs.oid */
};

struct hub_listing {
	char *commit;
	struct hub_file *files;
	size_t n;
	unsigned requests;  /* HTTP requests made (resolve + pages) */
	struct sc_strset paths;  /* every path, to refuse one named twice */
};

/* One page of the listing (a JSON array) added to l. Refused: a path that
 * is absolute, has an empty, "." or ".." segment or a backslash, lies under
 * .sparkctl/, or comes twice; a file without a hash to verify it (git blob
 * id, or the LFS SHA-256) or without a size. */
int sc_hub_listing_add_page(struct hub_listing *l, const char *body, size_t len, sc_err *e);

/* A repository id as the Hub allows it: ORG/NAME, each of [A-Za-z0-9._-],
 * no "--" or "..", not starting or ending with '-' or '.', 1 to 96 long. */
bool sc_repo_id_valid(const char *id);

/* Resolve rev (a branch, tag or 40-hex commit) and list the files at that
 * commit, following Link: rel="next" pages. */
int sc_hub_list(const struct hub *h, const char *repo, const char *rev, struct hub_listing *ret, sc_err *e);
void sc_hub_listing_done(struct hub_listing *l);

/* The resolve URL of a file: {ep}/{repo}/resolve/{commit}/{path}, path
 * segments percent-encoded. */
char *sc_hub_resolve_url(const struct hub *h, const char *repo, const char *commit, const char *path);

/* huggingface_hub's filter: case-sensitive fnmatch where '*' crosses '/',
 * a pattern ending in '/' means the whole folder; kept when it matches an
 * include (or there is none) and no exclude. */
bool sc_hub_glob_match(const char *pattern, const char *path);
bool sc_hub_keep(const char *path, char *const *include, size_t n_inc, char *const *exclude, size_t n_exc);

/* The Hub's words for a failed answer: X-Error-Code / X-Error-Message, else
 * a JSON {"error": ...} body, with a hint for 401/403 and 429. */
struct http_resp;
int sc_hub_error(const struct hub *h, const char *what, const struct http_resp *r, sc_err *e);

/* scheme://host:port of a URL, for the rule that the token never goes to
 * another origin. */
void sc_url_origin(const char *url, char *out, size_t len);

#endif
