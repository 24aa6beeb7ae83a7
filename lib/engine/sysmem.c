#include "sysmem.h"
#include "../base/util.h"

#include <inttypes.h>

int sc_meminfo_parse(const char *text, uint64_t *total, uint64_t *available)
{
	uint64_t t = 0, a = 0;
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		uint64_t kb;
		if (sscanf(p, "MemTotal: %" SCNu64 " kB", &kb) == 1)
			t = kb * 1024;
		else if (sscanf(p, "MemAvailable: %" SCNu64 " kB", &kb) == 1)
			a = kb * 1024;
	}
	if (!t)
		return -ENOENT;
	*total = t;
	*available = a;
	return 0;
}

int sc_meminfo(uint64_t *total, uint64_t *available, sc_err *e)
{
	_cleanup_free_ char *buf = NULL;
	/* $SPARKCTL_MEMINFO: another meminfo, so that tests (and a laptop)
	 * can see a Spark's memory: MemTotal 121.63 GiB as CUDA reports it */
	const char *path = getenv("SPARKCTL_MEMINFO");
	if (!path || !*path)
		path = "/proc/meminfo";
	int r = sc_read_file(path, 1 << 20, &buf, NULL);
	if (r < 0)
		return sc_error(e, r, "%s: %s", path, sc_strerror(r));
	if ((r = sc_meminfo_parse(buf, total, available)) < 0)
		return sc_error(e, r, "%s: no MemTotal", path);
	return 0;
}
