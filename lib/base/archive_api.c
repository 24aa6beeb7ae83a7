#include "archive_api.h"
#include "dlib.h"

static struct archive_api api;
#define S(f, n) SC_DLIB_SYM(struct archive_api, f, n)
static const struct sc_dlib_sym syms[] = {
	S(read_new, "archive_read_new"),
	S(support_zip_seekable, "archive_read_support_format_zip_seekable"),
	S(support_filter_all, "archive_read_support_filter_all"),
	S(support_format_all, "archive_read_support_format_all"),
	S(open_filename, "archive_read_open_filename"),
	S(next_header, "archive_read_next_header"),
	S(data_skip, "archive_read_data_skip"),
	S(data_block, "archive_read_data_block"),
	S(read_free, "archive_read_free"),
	S(error_string, "archive_error_string"),
	S(entry_pathname, "archive_entry_pathname"),
	S(entry_symlink, "archive_entry_symlink"),
	S(entry_hardlink, "archive_entry_hardlink"),
	S(entry_filetype, "archive_entry_filetype"),
	S(entry_size, "archive_entry_size"),
	{ 0 },
};
#undef S
static const char *const sonames[] = { "libarchive.so.13", "libarchive.so", NULL };
static struct sc_dlib lib = { .what = "libarchive", .sonames = sonames, .syms = syms, .api = &api,
			      .once = PTHREAD_ONCE_INIT };

const struct archive_api *sc_archive(sc_err *e)
{
	return sc_dlib_get(&lib, e);
}
