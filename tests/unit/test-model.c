/* One model folder: what the walk does with links and odd files. */
#include "unit.h"

#include <dirent.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../lib/base/util.h"
#include "../../lib/format/model.h"

static int open_fds(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	for (struct dirent *de; d && (de = readdir(d));)
		n += de->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

static void put(const char *dir, const char *name, const void *data, size_t len)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static bool mapped(const void *p, size_t len)
{
	return msync((void *)p, len, MS_ASYNC) == 0;
}

/* While kept, a freed big buffer serves the next one that fits, cut to the
 * size its free will name; a larger one is mapped anew; outside a pool or
 * after keep ends nothing stays mapped. */
static void big_buffers_are_kept_between_files(void **state)
{
	(void)state;
	const size_t mib = 1 << 20;
	uint8_t *a = sc_big_alloc(7 * mib);
	assert_non_null(a);
	sc_big_free(a, 7 * mib);
	assert_false(mapped(a, 7 * mib));

	sc_big_keep(true);
	a = sc_big_alloc(7 * mib);
	memset(a, 1, 7 * mib);
	sc_big_free(a, 7 * mib);
	assert_true(mapped(a, 8 * mib));
	uint8_t *b = sc_big_alloc(3 * mib);
	assert_ptr_equal(b, a);
	assert_int_equal(b[3 * mib - 1], 1);  /* the same pages, not fresh ones */
	assert_false(mapped(a + 4 * mib, 4 * mib));
	uint8_t *c = sc_big_alloc(5 * mib);  /* nothing kept now */
	assert_ptr_not_equal(c, a);
	sc_big_free(b, 3 * mib);
	sc_big_free(c, 5 * mib);  /* larger: replaces b */
	assert_false(mapped(b, 4 * mib));
	assert_true(mapped(c, 6 * mib));
	sc_big_keep(false);
	assert_false(mapped(c, 6 * mib));
}

/* A link to its own folder is a loop the walk reports; the folder it
 * opened for it was never closed. */
static void symlink_loops_leak_no_descriptor(void **state)
{
	char dir[] = "/tmp/sc-model-XXXXXX";
	assert_non_null(mkdtemp(dir));
	static const char hdr[] = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
	uint8_t st[8 + sizeof hdr - 1 + 4] = { (uint8_t)(sizeof hdr - 1) };
	memcpy(st + 8, hdr, sizeof hdr - 1);
	put(dir, "model.safetensors", st, sizeof st);
	put(dir, "config.json", "{}", 2);
	char link[512];
	snprintf(link, sizeof link, "%s/loop", dir);
	assert_int_equal(symlink(".", link), 0);
	snprintf(link, sizeof link, "%s/deeper", dir);
	assert_int_equal(symlink(".", link), 0);
	int before = open_fds();
	for (int i = 0; i < 3; i++) {
		struct sc_model m;
		sc_err e;
		assert_int_equal(sc_model_load(dir, "x", &m, &e), 0);
		bool loop = false;
		for (size_t k = 0; k < m.problems.n; k++)
			loop |= strstr(m.problems.v[k].message, "symlink loop") != NULL;
		assert_true(loop);
		sc_model_done(&m);
	}
	assert_int_equal(open_fds(), before);
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(big_buffers_are_kept_between_files),
		cmocka_unit_test(symlink_loops_leak_no_descriptor),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
