/* Replays fuzz corpora without libFuzzer, so `make check` runs every seed
 * with the normal compiler (and the sanitizers under SANITIZE=1). Prints
 * TAP: one line per file. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int n;

static void run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		printf("not ok %d - %s: cannot open\n", ++n, path);
		return;
	}
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0, got;
	uint8_t chunk[65536];
	while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
		if (len + got > cap) {
			cap = (len + got) * 2;
			buf = realloc(buf, cap);
		}
		memcpy(buf + len, chunk, got);
		len += got;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf ? buf : (const uint8_t *)"", len);
	free(buf);
	printf("ok %d - %s\n", ++n, path);
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			DIR *d = opendir(argv[i]);
			struct dirent *de;
			char **names = NULL;
			size_t k = 0;
			while (d && (de = readdir(d)))
				if (de->d_name[0] != '.') {
					names = realloc(names, (k + 1) * sizeof *names);
					names[k] = malloc(strlen(argv[i]) + strlen(de->d_name) + 2);
					sprintf(names[k++], "%s/%s", argv[i], de->d_name);
				}
			if (d)
				closedir(d);
			qsort(names, k, sizeof *names, cmp);
			for (size_t j = 0; j < k; j++) {
				run_file(names[j]);
				free(names[j]);
			}
			free(names);
		} else
			run_file(argv[i]);
	}
	printf("1..%d\n", n);
	return 0;
}
