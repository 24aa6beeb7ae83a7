#include "archive_api.h"

#include <dlfcn.h>
#include <pthread.h>

static struct archive_api api;
static const char *load_error;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
	void *h = dlopen("libarchive.so.13", RTLD_NOW | RTLD_LOCAL);
	if (!h)
		h = dlopen("libarchive.so", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		load_error = dlerror();
		return;
	}
	struct archive_api a;
#define SYM(f, n) *(void **)&a.f = dlsym(h, n)
	SYM(read_new, "archive_read_new");
	SYM(support_zip_seekable, "archive_read_support_format_zip_seekable");
	SYM(support_filter_all, "archive_read_support_filter_all");
	SYM(support_format_all, "archive_read_support_format_all");
	SYM(open_filename, "archive_read_open_filename");
	SYM(next_header, "archive_read_next_header");
	SYM(data_skip, "archive_read_data_skip");
	SYM(data_block, "archive_read_data_block");
	SYM(read_free, "archive_read_free");
	SYM(error_string, "archive_error_string");
	SYM(entry_pathname, "archive_entry_pathname");
	SYM(entry_symlink, "archive_entry_symlink");
	SYM(entry_hardlink, "archive_entry_hardlink");
	SYM(entry_filetype, "archive_entry_filetype");
	SYM(entry_size, "archive_entry_size");
#undef SYM
	void **p = (void **)&a;
	for (size_t i = 0; i < sizeof a / sizeof *p; i++)
		if (!p[i]) {
			load_error = "libarchive lacks a function sparkctl needs";
			return;
		}
	api = a;
}

const struct archive_api *sc_archive(sc_err *e)
{
	pthread_once(&once, load);
	if (!api.read_new) {
		sc_error(e, -ENOSYS, "cannot load libarchive: %s", load_error ? load_error : "unknown error");
		return NULL;
	}
	return &api;
}
