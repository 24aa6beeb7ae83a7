/* libarchive, loaded the first time an archive is read (linked, it pulls
 * libxml2, ICU and libstdc++ into every start: ~3 ms). */
#ifndef SC_ARCHIVE_API_H
#define SC_ARCHIVE_API_H

#include <archive.h>
#include <archive_entry.h>

#include "err.h"

struct archive_api {
	struct archive *(*read_new)(void);
	int (*support_zip_seekable)(struct archive *);
	int (*support_filter_all)(struct archive *);
	int (*support_format_all)(struct archive *);
	int (*open_filename)(struct archive *, const char *, size_t);
	int (*next_header)(struct archive *, struct archive_entry **);
	int (*data_skip)(struct archive *);
	la_ssize_t (*data_block)(struct archive *, const void **, size_t *, la_int64_t *);
	int (*read_free)(struct archive *);
	const char *(*error_string)(struct archive *);
	const char *(*entry_pathname)(struct archive_entry *);
	const char *(*entry_symlink)(struct archive_entry *);
	const char *(*entry_hardlink)(struct archive_entry *);
	__LA_MODE_T (*entry_filetype)(struct archive_entry *);
	la_int64_t (*entry_size)(struct archive_entry *);
};

const struct archive_api *sc_archive(sc_err *e);

#endif
