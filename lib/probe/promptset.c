#include "promptset.h"
#include "xstest_data.h"
#include "../base/strset.h"
#include "../base/text.h"
#include "../base/util.h"

#define MAX_FIELD (64u << 10)
#define MAX_PROMPTS 100000u
#define MAX_FIELDS 64u
#define MAX_FILE (64u << 20)

void sc_promptset_done(struct sc_promptset *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].id);
		free(s->v[i].prompt);
		free(s->v[i].type);
		free(s->v[i].focus);
	}
	free(s->v);
	free(s->name);
	*s = (struct sc_promptset){ 0 };
}

struct csv {
	const char *buf;
	size_t len, pos;
	unsigned line;       /* where the record began */
	unsigned cur_line;   /* where pos is */
	const char *origin;
	char *fields[MAX_FIELDS];
	size_t n;
};

static void fields_free(struct csv *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->fields[i]);
	c->n = 0;
}

/* One field into a new string; *end is set at the end of the record. */
static int field(struct csv *c, bool *end, sc_err *e)
{
	char *out = malloc(1);
	size_t ol = 0;
	if (!out)
		return sc_error(e, -ENOMEM, "out of memory");
	bool quoted = c->pos < c->len && c->buf[c->pos] == '"';
	if (quoted)
		c->pos++;
	*end = false;
	for (;;) {
		if (c->pos >= c->len) {
			if (quoted) {
				free(out);
				return sc_error(e, SC_ETRUNC, "%s:%u: a quoted field never ends", c->origin, c->line);
			}
			*end = true;
			break;
		}
		char ch = c->buf[c->pos++];
		if (quoted && ch == '"') {
			if (c->pos < c->len && c->buf[c->pos] == '"') {
				c->pos++;
			} else {
				quoted = false;
				if (c->pos < c->len && !strchr(",\r\n", c->buf[c->pos])) {
					free(out);
					return sc_error(e, SC_ENOTOBJ, "%s:%u: text after a closing quote", c->origin, c->cur_line);
				}
				continue;
			}
		} else if (!quoted && ch == ',') {
			break;
		} else if (!quoted && (ch == '\n' || (ch == '\r' && c->pos < c->len && c->buf[c->pos] == '\n'))) {
			if (ch == '\r')
				c->pos++;
			c->cur_line++;
			*end = true;
			break;
		} else if (!quoted && ch == '"') {
			free(out);
			return sc_error(e, SC_ENOTOBJ, "%s:%u: a quote inside an unquoted field (quote the field, double the quote)",
					c->origin, c->cur_line);
		} else if (ch == '\0') {
			free(out);
			return sc_error(e, SC_ENOTOBJ, "%s:%u: a NUL byte", c->origin, c->cur_line);
		}
		if (ch == '\n')
			c->cur_line++;
		if (ol + 1 >= MAX_FIELD) {
			free(out);
			return sc_error(e, SC_ETOOBIG, "%s:%u: a field longer than %u KiB", c->origin, c->line, MAX_FIELD >> 10);
		}
		char *no = realloc(out, ol + 2);
		if (!no) {
			free(out);
			return sc_error(e, -ENOMEM, "out of memory");
		}
		out = no;
		out[ol++] = ch;
	}
	out[ol] = '\0';
	if (!sc_utf8_valid(out, ol)) {
		free(out);
		return sc_error(e, SC_EUTF8, "%s:%u: a field is not valid UTF-8", c->origin, c->line);
	}
	if (c->n == MAX_FIELDS) {
		free(out);
		return sc_error(e, SC_ETOOBIG, "%s:%u: more than %u fields", c->origin, c->line, MAX_FIELDS);
	}
	c->fields[c->n++] = out;
	return 0;
}

/* The next record into c->fields; 0 at the end of the text. */
static int record(struct csv *c, sc_err *e)
{
	fields_free(c);
	/* blank lines between records (a trailing newline) are no records */
	while (c->pos < c->len && (c->buf[c->pos] == '\n' || c->buf[c->pos] == '\r')) {
		c->cur_line += c->buf[c->pos] == '\n';
		c->pos++;
	}
	if (c->pos >= c->len)
		return 0;
	c->line = c->cur_line;
	bool end = false;
	while (!end) {
		int r = field(c, &end, e);
		if (r < 0)
			return r;
	}
	return 1;
}

static int column(struct csv *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (streq(c->fields[i], name))
			return (int)i;
	return -1;
}

int sc_promptset_parse(const char *buf, size_t len, const char *origin, struct sc_promptset *ret, sc_err *e)
{
	*ret = (struct sc_promptset){ 0 };
	struct csv c = { .buf = buf, .len = len, .cur_line = 1, .origin = origin };
	struct sc_promptset s = { 0 };
	struct sc_strset ids = { 0 };
	size_t cap = 0;
	int r;
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		c.pos = 3;  /* a spreadsheet's byte order mark */
	if ((r = record(&c, e)) <= 0) {
		r = r < 0 ? r : sc_error(e, SC_ESHORT, "%s: no header row (id,prompt,type,label)", origin);
		goto out;
	}
	int col[4];
	static const char *const need[] = { "id", "prompt", "type", "label" };
	for (int k = 0; k < 4; k++)
		if ((col[k] = column(&c, need[k])) < 0) {
			r = sc_error(e, SC_ENOTOBJ, "%s:%u: the header has no \"%s\" column (it needs id,prompt,type,label)",
				     origin, c.line, need[k]);
			goto out;
		}
	int focus = column(&c, "focus");
	size_t n_cols = c.n;
	while ((r = record(&c, e)) > 0) {
		if (c.n != n_cols) {
			r = sc_error(e, SC_ENOTOBJ, "%s:%u: %zu fields where the header has %zu", origin, c.line, c.n, n_cols);
			goto out;
		}
		const char *label = c.fields[col[3]];
		if (!streq(label, "safe") && !streq(label, "unsafe")) {
			r = sc_error(e, SC_ENOTOBJ, "%s:%u: label \"%.40s\" is neither safe nor unsafe", origin, c.line, label);
			goto out;
		}
		if (!c.fields[col[0]][0] || !c.fields[col[1]][0]) {
			r = sc_error(e, SC_ENOTOBJ, "%s:%u: an empty %s", origin, c.line, c.fields[col[0]][0] ? "prompt" : "id");
			goto out;
		}
		if ((r = sc_strset_add(&ids, c.fields[col[0]], strlen(c.fields[col[0]]))) <= 0) {
			r = r < 0 ? sc_error(e, r, "out of memory")
				  : sc_error(e, SC_ENOTOBJ, "%s:%u: id %.40s appears twice", origin, c.line, c.fields[col[0]]);
			goto out;
		}
		if (s.n == MAX_PROMPTS) {
			r = sc_error(e, SC_ETOOBIG, "%s:%u: more than %u prompts", origin, c.line, MAX_PROMPTS);
			goto out;
		}
		if (sc_grow(&s.v, &cap, s.n + 1, sizeof *s.v) < 0) {
			r = sc_error(e, -ENOMEM, "out of memory");
			goto out;
		}
		struct sc_prompt *p = &s.v[s.n++];
		*p = (struct sc_prompt){ .unsafe = streq(label, "unsafe") };
		/* the fields move into the prompt: NULL in c.fields is freed as nothing */
		p->id = c.fields[col[0]], c.fields[col[0]] = NULL;
		p->prompt = c.fields[col[1]], c.fields[col[1]] = NULL;
		p->type = c.fields[col[2]], c.fields[col[2]] = NULL;
		if (focus >= 0)
			p->focus = c.fields[focus], c.fields[focus] = NULL;
	}
	if (r < 0)
		goto out;
	if (!s.n) {
		r = sc_error(e, SC_ESHORT, "%s: no prompts after the header", origin);
		goto out;
	}
	if (!(s.name = strdup(origin))) {
		r = sc_error(e, -ENOMEM, "out of memory");
		goto out;
	}
	*ret = s;
	s = (struct sc_promptset){ 0 };
	r = 0;
out:
	fields_free(&c);
	sc_strset_done(&ids);
	sc_promptset_done(&s);
	return r;
}

int sc_promptset_load(const char *set, struct sc_promptset *ret, sc_err *e)
{
	*ret = (struct sc_promptset){ 0 };
	if (streq(set, "xstest"))
		return sc_promptset_parse(sc_xstest_csv, (size_t)(sc_xstest_csv_end - sc_xstest_csv), "xstest", ret, e);
	char *buf = NULL;
	size_t len = 0;
	int r = sc_read_file(set, MAX_FILE, &buf, &len);
	if (r < 0)
		return sc_error(e, r, "%s: %s%s", set, r == -EFBIG ? "larger than 64 MiB" : sc_strerror(r),
				r == -ENOENT ? " (the built-in set is \"xstest\"; anything else is a CSV file)" : "");
	r = sc_promptset_parse(buf, len, set, ret, e);
	free(buf);
	return r;
}
