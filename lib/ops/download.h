/* sparkctl download of a Hub repository into a model folder: the listing
 * at one commit, the include/exclude filter, what is already up to date
 * (.sparkctl/meta/<path>.json: commit and etag of every finished file),
 * the free-space check, then the fetch. */
#ifndef SC_DOWNLOAD_H
#define SC_DOWNLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/err.h"
#include "../net/fetch.h"

struct download_opts {
	const char *repo, *rev, *dir;
	char *const *include;
	size_t n_include;
	char *const *exclude;
	size_t n_exclude;
	int jobs;
	bool dry_run;
	void (*progress)(void *ud, const struct fetch_progress *p);
	void (*finished)(void *ud, const struct fetch_item *it);
	void *ud;
};

struct download_result {
	char *commit;
	size_t n_selected, n_up_to_date;
	uint64_t bytes_missing, bytes_fetched;
	unsigned api_requests;
	struct fetch_item *items;  /* what needed fetching (or would, with dry_run) */
	size_t n_items;
};

/* ret is filled on failure too, as far as the run got. */
int sc_download_repo(const struct download_opts *o, struct download_result *ret, sc_err *e);
void sc_download_result_done(struct download_result *r);

#endif
