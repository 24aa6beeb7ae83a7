/* Header parser throughput: parse one safetensors header N times from
 * memory; prints the median MB/s. Run by bench-scan.py. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../lib/format/safetensors.h"
#include "../lib/base/util.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	char *buf;
	size_t len;
	FILE *f = fopen(argv[1], "rb");
	uint8_t head[8];
	if (!f || fread(head, 1, 8, f) != 8)
		return 1;
	uint64_t n = 0;
	for (int i = 7; i >= 0; i--)
		n = (n << 8) | head[i];
	len = 8 + n;
	buf = malloc(len);
	fseek(f, 0, SEEK_END);
	uint64_t size = (uint64_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	if (!buf || fread(buf, 1, len, f) != len)
		return 1;
	fclose(f);
	sc_malloc_keep_freed();  /* as sparkctl's main */
	int runs = atoi(argv[2]);
	double *t = calloc((size_t)runs, sizeof *t);
	size_t tensors = 0;
	for (int i = 0; i < runs; i++) {
		struct st_header h;
		sc_err e;
		double t0 = now();
		if (sc_st_parse((const uint8_t *)buf, len, size, &h, &e) < 0) {
			fprintf(stderr, "%s\n", e.msg);
			return 1;
		}
		t[i] = now() - t0;
		tensors = h.n_tensors;
		sc_st_header_done(&h);
	}
	qsort(t, (size_t)runs, sizeof *t, cmp);
	printf("%.1f MB header with %zu tensors in %.2f ms (median of %d) = %.0f MB/s\n", (double)n / 1e6, tensors,
	       t[runs / 2] * 1e3, runs, (double)n / 1e6 / t[runs / 2]);
	free(t);
	free(buf);
	return 0;
}
