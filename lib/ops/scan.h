/* The walk over a models root: every model folder below it, read and
 * sorted by path. */
#ifndef SC_SCAN_H
#define SC_SCAN_H

#include "../base/err.h"
#include "../format/model.h"
#include "../base/registry.h"

struct scan_result {
	char *root;  /* absolute */
	struct sc_model *models;
	size_t n_models;
	char **warnings;  /* unreadable folders, symlink loops outside models */
	size_t n_warnings;
};

/* Scan root. The registry (may be NULL) names the models it points at. */
int sc_scan(const char *root, const struct registry *reg, struct scan_result *ret, sc_err *e);
void sc_scan_result_done(struct scan_result *s);

/* Served name of the registry model whose folder (or file) is dir, or NULL. */
const char *sc_registry_name_for_dir(const struct registry *reg, const char *dir);

#endif
