#include "table.h"
#include "common.h"
#include "../lib/base/text.h"
#include "../lib/base/util.h"

#include <sys/ioctl.h>
#include <unistd.h>

/* Columns on a terminal: one a code point (the cells are escaped, so no
 * control characters; wide CJK would count one too few, accepted). */
static size_t display_width(const char *s)
{
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		n += (*p & 0xc0) != 0x80;
	return n;
}

/* The byte length of the first w columns of s. */
static size_t bytes_for(const char *s, size_t w)
{
	size_t n = 0, i = 0;
	for (; s[i]; i++) {
		if (((unsigned char)s[i] & 0xc0) != 0x80 && n++ == w)
			break;
	}
	return i;
}

void table_init(struct table *t, size_t n_cols, const char *const *heads, const unsigned *flags)
{
	*t = (struct table){ .n_cols = n_cols };
	for (size_t i = 0; i < n_cols; i++) {
		t->heads[i] = heads[i];
		t->flags[i] = flags ? flags[i] : 0;
	}
}

int table_add(struct table *t, const char *const *cells)
{
	size_t need = (t->n_rows + 1) * t->n_cols;
	size_t cap = t->cap;
	if (sc_grow(&t->cells, &t->cap, need, sizeof *t->cells) < 0 ||
	    sc_grow(&t->styles, &cap, need, sizeof *t->styles) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < t->n_cols; i++) {
		char *c = sc_term_escape(cells[i] && *cells[i] ? cells[i] : "-", false);
		if (!c)
			return -ENOMEM;
		t->cells[t->n_rows * t->n_cols + i] = c;
		t->styles[t->n_rows * t->n_cols + i] = NULL;
	}
	t->n_rows++;
	return 0;
}

void table_style(struct table *t, size_t col, const char *ansi)
{
	if (t->n_rows)
		t->styles[(t->n_rows - 1) * t->n_cols + col] = (char *)ansi;
}

void table_done(struct table *t)
{
	for (size_t i = 0; i < t->n_rows * t->n_cols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->styles);
	*t = (struct table){ 0 };
}

size_t table_width(void)
{
	const char *c = getenv("COLUMNS");
	struct winsize ws;
	if (!isatty(1))
		return 0;
	if (c && atoi(c) > 0)
		return (size_t)atoi(c);
	return ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col ? ws.ws_col : 80;
}

void table_print(const struct table *t, FILE *f, size_t width, bool color)
{
	size_t w[12] = { 0 };
	bool show[12];
	size_t shown = 0, total = 0, last = 0;
	for (size_t c = 0; c < t->n_cols; c++) {
		bool all_dash = t->n_rows > 0;
		w[c] = display_width(t->heads[c]);
		for (size_t r = 0; r < t->n_rows; r++) {
			const char *s = t->cells[r * t->n_cols + c];
			size_t dw = display_width(s);
			w[c] = dw > w[c] ? dw : w[c];
			all_dash &= streq(s, "-");
		}
		show[c] = !(all_dash && (t->flags[c] & COL_OPTIONAL));
		if (show[c]) {
			total += w[c] + (shown++ ? 2 : 0);
			last = c;
		}
	}
	/* too wide for the terminal: cut the flexible columns in their order,
	 * each to no less than its heading (and 6); if that is not enough,
	 * leave out the columns that may go and cut again from the start */
	size_t natural[12];
	memcpy(natural, w, sizeof w);
	for (int pass = 0; pass < 2 && width && total > width; pass++) {
		if (pass) {
			memcpy(w, natural, sizeof w);
			total = 0, shown = 0;
			for (size_t c = 0; c < t->n_cols; c++) {
				show[c] &= !(t->flags[c] & COL_DROP);
				if (show[c]) {
					total += w[c] + (shown++ ? 2 : 0);
					last = c;
				}
			}
		}
		/* the first pass cuts only the columns that matter least */
		for (unsigned order = 1; total > width && order < (pass ? 16u : 3u); order++)
			for (size_t c = 0; c < t->n_cols && total > width; c++) {
				if (!show[c] || (t->flags[c] >> 4) != order)
					continue;
				size_t min = display_width(t->heads[c]) > 6 ? display_width(t->heads[c]) : 6;
				size_t cut = total - width, room = w[c] > min ? w[c] - min : 0;
				cut = cut < room ? cut : room;
				w[c] -= cut;
				total -= cut;
			}
	}
	for (size_t r = 0; r <= t->n_rows; r++) {
		bool first = true;
		char *line = NULL;
		size_t len = 0, vis = 0;
		FILE *m = open_memstream(&line, &len);
		if (!m)
			return;
		for (size_t c = 0; c < t->n_cols; c++) {
			if (!show[c])
				continue;
			const char *s = r ? t->cells[(r - 1) * t->n_cols + c] : t->heads[c];
			const char *style = r && color ? t->styles[(r - 1) * t->n_cols + c] : NULL;
			size_t dw = display_width(s), pad = dw < w[c] ? w[c] - dw : 0;
			if (!first)
				fputs("  ", m), vis += 2;
			first = false;
			if (dw > w[c]) {
				fprintf(m, "%.*s…", (int)bytes_for(s, w[c] - 1), s);
				vis += w[c];
				continue;
			}
			if (t->flags[c] & COL_RIGHT)
				fprintf(m, "%*s", (int)pad, ""), vis += pad;
			fprintf(m, "%s%s%s", style ? style : "", s, style ? "\033[0m" : "");
			vis += dw;
			if (!(t->flags[c] & COL_RIGHT) && c != last)
				fprintf(m, "%*s", (int)pad, ""), vis += pad;
		}
		fclose(m);
		if (width && vis > width) {
			/* still too wide: the row is cut, never wrapped */
			size_t keep = 0, seen = 0;
			for (; line[keep] && seen < width - 1; keep++) {
				if (line[keep] == '\033') {
					while (line[keep] && line[keep] != 'm')
						keep++;
					continue;
				}
				seen += ((unsigned char)line[keep] & 0xc0) != 0x80;
			}
			while (line[keep] && ((unsigned char)line[keep] & 0xc0) == 0x80)
				keep++;
			fprintf(f, "%.*s%s…\n", (int)keep, line, color ? "\033[0m" : "");
		} else
			fprintf(f, "%s\n", line);
		free(line);
	}
}
