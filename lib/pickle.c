#include "pickle.h"
#include "util.h"

#include <archive.h>
#include <archive_entry.h>
#include <dlfcn.h>
#include <pthread.h>

/* libarchive pulls libxml2, ICU and libstdc++ into the process: ~3 ms of
 * dynamic linking on every start, and shell completion starts sparkctl on
 * every Tab. It is loaded the first time a pickle needs listing. */
static struct {
	struct archive *(*read_new)(void);
	int (*support_zip_seekable)(struct archive *);
	int (*open_filename)(struct archive *, const char *, size_t);
	int (*next_header)(struct archive *, struct archive_entry **);
	int (*data_skip)(struct archive *);
	int (*read_free)(struct archive *);
	const char *(*error_string)(struct archive *);
	const char *(*entry_pathname)(struct archive_entry *);
	const char *dl_error;
} la;
static pthread_once_t la_once = PTHREAD_ONCE_INIT;

static void la_load(void)
{
	void *h = dlopen("libarchive.so.13", RTLD_NOW | RTLD_LOCAL);
	if (!h)
		h = dlopen("libarchive.so", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		la.dl_error = dlerror();
		return;
	}
#define SYM(field, name) *(void **)&la.field = dlsym(h, name)
	SYM(read_new, "archive_read_new");
	SYM(support_zip_seekable, "archive_read_support_format_zip_seekable");
	SYM(open_filename, "archive_read_open_filename");
	SYM(next_header, "archive_read_next_header");
	SYM(data_skip, "archive_read_data_skip");
	SYM(read_free, "archive_read_free");
	SYM(error_string, "archive_error_string");
	SYM(entry_pathname, "archive_entry_pathname");
#undef SYM
	if (!la.read_new || !la.support_zip_seekable || !la.open_filename || !la.next_header || !la.data_skip ||
	    !la.read_free || !la.error_string || !la.entry_pathname) {
		la.read_new = NULL;
		la.dl_error = "libarchive lacks a symbol sparkctl needs";
	}
}

static void archive_freep(struct archive **a)
{
	if (*a)
		la.read_free(*a);
}

int pickle_inspect(const char *path, struct pickle_info *ret, sc_err *e)
{
	struct archive_entry *ent;
	struct pickle_info p = { 0 };
	uint8_t magic[4];
	_cleanup_fclose_ FILE *f = fopen(path, "rbe");
	if (!f)
		return sc_error(e, -errno, "%s: %s", path, strerror(errno));
	if (fread(magic, 1, 4, f) != 4 || memcmp(magic, "PK\3\4", 4) != 0) {
		/* torch's legacy format: a bare pickle stream */
		*ret = p;
		return 0;
	}
	p.zip = true;
	pthread_once(&la_once, la_load);
	if (!la.read_new)
		return sc_error(e, -ENOSYS, "%s: cannot list the zip: %s", path, la.dl_error);
	__attribute__((cleanup(archive_freep))) struct archive *a = la.read_new();
	if (!a)
		return sc_error(e, -ENOMEM, "out of memory");
	/* the seekable reader uses the central directory and never reads the
	 * tensor data */
	la.support_zip_seekable(a);
	if (la.open_filename(a, path, 65536) != ARCHIVE_OK)
		return sc_error(e, SC_ENOTOBJ, "%s: %s", path, la.error_string(a));
	int r;
	while ((r = la.next_header(a, &ent)) == ARCHIVE_OK) {
		const char *name = la.entry_pathname(ent);
		p.members++;
		if (name && (endswith(name, "/data.pkl") || streq(name, "data.pkl")))
			p.has_pickle = true;
		if (name && strstr(name, "/data/"))
			p.storages++;
		la.data_skip(a);
	}
	if (r != ARCHIVE_EOF)
		return sc_error(e, SC_ENOTOBJ, "%s: %s", path, la.error_string(a));
	*ret = p;
	return 0;
}
