#include "pickle.h"
#include "../base/archive_api.h"
#include "../base/util.h"

int sc_pickle_inspect(const char *path, struct pickle_info *ret, sc_err *e)
{
	*ret = (struct pickle_info){ 0 };
	struct archive_entry *ent;
	struct pickle_info p = { 0 };
	uint8_t magic[4];
	int fd = sc_open_regular(AT_FDCWD, path, NULL);
	if (fd < 0)
		return sc_error(e, fd, "%s: %s", path, sc_strerror(fd));
	_cleanup_fclose_ FILE *f = fdopen(fd, "rb");
	if (!f) {
		close(fd);
		return sc_error(e, -ENOMEM, "out of memory");
	}
	if (fread(magic, 1, 4, f) != 4 || memcmp(magic, "PK\3\4", 4) != 0) {
		/* torch's legacy format: a bare pickle stream */
		*ret = p;
		return 0;
	}
	p.zip = true;
	const struct archive_api *la = sc_archive(e);
	if (!la)
		return -ENOSYS;
	struct archive *a = la->read_new();
	if (!a)
		return sc_error(e, -ENOMEM, "out of memory");
	/* the seekable reader uses the central directory and never reads the
	 * tensor data */
	la->support_zip_seekable(a);
	int r = la->open_filename(a, path, 65536);
	while (r == ARCHIVE_OK && (r = la->next_header(a, &ent)) == ARCHIVE_OK) {
		const char *name = la->entry_pathname(ent);
		p.members++;
		if (name && strstr(name, "/data/"))
			p.storages++;
		la->data_skip(a);
	}
	if (r != ARCHIVE_EOF)
		r = sc_error(e, SC_ENOTOBJ, "%s: %s", path, la->error_string(a));
	else
		r = 0;
	la->read_free(a);
	if (r == 0)
		*ret = p;
	return r;
}
