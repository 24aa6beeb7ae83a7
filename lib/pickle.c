#include "pickle.h"
#include "util.h"

#include <archive.h>
#include <archive_entry.h>

static void archive_freep(struct archive **a)
{
	if (*a)
		archive_read_free(*a);
}

int pickle_inspect(const char *path, struct pickle_info *ret, sc_err *e)
{
	__attribute__((cleanup(archive_freep))) struct archive *a = archive_read_new();
	struct archive_entry *ent;
	struct pickle_info p = { 0 };
	uint8_t magic[4];
	_cleanup_fclose_ FILE *f = fopen(path, "rbe");
	if (!a)
		return sc_error(e, -ENOMEM, "out of memory");
	if (!f)
		return sc_error(e, -errno, "%s: %s", path, strerror(errno));
	if (fread(magic, 1, 4, f) != 4 || memcmp(magic, "PK\3\4", 4) != 0) {
		/* torch's legacy format: a bare pickle stream */
		*ret = p;
		return 0;
	}
	p.zip = true;
	/* the seekable reader uses the central directory and never reads the
	 * tensor data */
	archive_read_support_format_zip_seekable(a);
	if (archive_read_open_filename(a, path, 65536) != ARCHIVE_OK)
		return sc_error(e, SC_ENOTOBJ, "%s: %s", path, archive_error_string(a));
	int r;
	while ((r = archive_read_next_header(a, &ent)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(ent);
		p.members++;
		if (name && (endswith(name, "/data.pkl") || streq(name, "data.pkl")))
			p.has_pickle = true;
		if (name && strstr(name, "/data/"))
			p.storages++;
		archive_read_data_skip(a);
	}
	if (r != ARCHIVE_EOF)
		return sc_error(e, SC_ENOTOBJ, "%s: %s", path, archive_error_string(a));
	*ret = p;
	return 0;
}
