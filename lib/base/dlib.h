/* Optional libraries (libcurl, libarchive, libcrypto) are loaded the first
 * time they are needed: linked, they cost every start 1 to 7 ms, paid on
 * every Tab of shell completion. One mechanism loads them all: a list of
 * sonames and a table of symbols filled into a struct of pointers, once and
 * thread-safe, with the reason when it cannot be done. */
#ifndef SC_DLIB_H
#define SC_DLIB_H

#include <pthread.h>
#include <stddef.h>

#include "err.h"

struct sc_dlib_sym {
	const char *name;
	size_t offset;  /* of the function pointer in the API struct */
};

struct sc_dlib {
	const char *what;               /* "libcurl", for messages */
	const char *const *sonames;     /* tried in order, NULL-terminated */
	const struct sc_dlib_sym *syms; /* NULL-terminated names */
	void *api;                      /* the struct the pointers go to */
	int (*init)(void *api);         /* after loading; <0 fails it (may be NULL) */
	pthread_once_t once;
	const char *error;
	int loaded;
};

#define SC_DLIB_SYM(type, field, name) { name, offsetof(type, field) }

/* The API struct of lib, loaded on the first call; NULL with e filled
 * ("cannot load libcurl: ...") when it cannot be. */
const void *sc_dlib_get(struct sc_dlib *lib, sc_err *e);

#endif
