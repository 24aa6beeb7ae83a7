#include "dlib.h"

#include <dlfcn.h>
#include <string.h>

/* pthread_once takes no argument: the library being loaded is handed over
 * under a lock of its own. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct sc_dlib *loading;

static void load(void)
{
	struct sc_dlib *lib = loading;
	void *h = NULL;
	for (const char *const *s = lib->sonames; *s && !h; s++)
		h = dlopen(*s, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		lib->error = dlerror();
		return;
	}
	for (const struct sc_dlib_sym *s = lib->syms; s->name; s++) {
		void *f = dlsym(h, s->name);
		if (!f) {
			lib->error = "it lacks a function sparkctl needs";
			return;
		}
		memcpy((char *)lib->api + s->offset, &f, sizeof f);
	}
	if (lib->init && lib->init(lib->api) < 0) {
		lib->error = "its initialisation failed";
		return;
	}
	lib->loaded = 1;
}

const void *sc_dlib_get(struct sc_dlib *lib, sc_err *e)
{
	pthread_mutex_lock(&mu);
	loading = lib;
	pthread_once(&lib->once, load);
	pthread_mutex_unlock(&mu);
	if (!lib->loaded) {
		sc_error(e, -ENOSYS, "cannot load %s: %s", lib->what, lib->error ? lib->error : "unknown error");
		return NULL;
	}
	return lib->api;
}
