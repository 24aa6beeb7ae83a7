/* Internal: one models.ini entry into the registry by the schema of its
 * section (registry_keys.c). */
#ifndef SC_REGISTRY_KEYS_H
#define SC_REGISTRY_KEYS_H

#include "registry.h"

struct ini_entry;

/* The entry's value, read and checked, into its section's field (the
 * section exists already); an unknown key is a warning in r->warnings. */
int sc_registry_entry(struct registry *r, const struct ini_entry *en, const char *file, sc_err *e);

#endif
