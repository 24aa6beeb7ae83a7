/* Tables for the terminal: column widths from the data, rows that never
 * wrap (on a terminal the flexible columns are cut with "…" to fit its
 * width; piped output keeps every value whole), columns whose every cell
 * is "-" left out, no trailing spaces. */
#ifndef SC_TABLE_H
#define SC_TABLE_H

#include <stdbool.h>
#include <stdio.h>

/* COL_FLEX(n): may be cut to fit; lower n are cut first */
/* COL_OPTIONAL: left out when every cell is "-"; COL_DROP: left out when
 * the table cannot fit otherwise */
enum { COL_LEFT = 0, COL_RIGHT = 1, COL_OPTIONAL = 2, COL_DROP = 4 };
#define COL_FLEX(n) ((unsigned)(n) << 4)

struct table {
	size_t n_cols, n_rows, cap;
	const char *heads[12];
	unsigned flags[12];
	char **cells;  /* n_rows * n_cols, escaped for the terminal */
	char **styles; /* before/after a cell: colour of a status, or NULL */
};

void table_init(struct table *t, size_t n_cols, const char *const *heads, const unsigned *flags);
/* Add a row of n_cols strings (NULL: "-"); they are copied and escaped. */
int table_add(struct table *t, const char *const *cells);
/* Colour one cell of the last row (on a terminal only). */
void table_style(struct table *t, size_t col, const char *ansi);
/* Print; width 0: no limit (piped). */
void table_print(const struct table *t, FILE *f, size_t width, bool color);
void table_done(struct table *t);

/* The width to fit: COLUMNS, else the terminal's, else 0 when stdout is
 * not a terminal. */
size_t table_width(void);

#endif
