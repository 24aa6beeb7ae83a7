#include "ini.h"
#include "util.h"

#include <ctype.h>

static int add_section(struct ini *ini, const char *sec, size_t sl, const char *sub, unsigned line)
{
	if (sc_grow(&ini->sections, &ini->cap_sections, ini->n_sections + 1, sizeof *ini->sections) < 0)
		return -ENOMEM;
	struct ini_section *s = &ini->sections[ini->n_sections];
	s->section = strndup(sec, sl);
	s->subsection = sub ? strdup(sub) : NULL;
	s->line = line;
	if (!s->section || (sub && !s->subsection)) {
		free(s->section);
		free(s->subsection);
		return -ENOMEM;
	}
	for (char *p = s->section; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	ini->n_sections++;
	return 0;
}

/* Parse "[name]" or [name "sub"] at p (after '['). */
static int parse_header(const char *file, unsigned line, const char *p, const char *end, struct ini *ini, sc_err *e)
{
	const char *s = p;
	while (p < end && (isalnum((unsigned char)*p) || *p == '-' || *p == '.' || *p == '_'))
		p++;
	size_t sl = (size_t)(p - s);
	if (!sl)
		return sc_error(e, SC_ECONFIG, "%s:%u: bad section header", file, line);
	char sub[1024];
	size_t n = 0;
	bool has_sub = false;
	if (p < end && (*p == ' ' || *p == '\t')) {
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p >= end || *p != '"')
			return sc_error(e, SC_ECONFIG, "%s:%u: expected a quoted name after [%.*s", file, line, (int)sl, s);
		p++;
		while (p < end && *p != '"') {
			if (*p == '\\' && p + 1 < end)
				p++;
			if (n + 1 >= sizeof sub)
				return sc_error(e, SC_ECONFIG, "%s:%u: section name too long", file, line);
			sub[n++] = *p++;
		}
		if (p >= end)
			return sc_error(e, SC_ECONFIG, "%s:%u: unterminated quoted section name", file, line);
		p++;
		sub[n] = '\0';
		has_sub = true;
	}
	if (p >= end || *p != ']')
		return sc_error(e, SC_ECONFIG, "%s:%u: expected ']'", file, line);
	p++;
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
		p++;
	if (p < end && *p != '#' && *p != ';')
		return sc_error(e, SC_ECONFIG, "%s:%u: text after the section header", file, line);
	if (add_section(ini, s, sl, has_sub ? sub : NULL, line) < 0)
		return sc_error(e, -ENOMEM, "out of memory");
	return 0;
}

void sc_ini_done(struct ini *ini)
{
	if (!ini)
		return;
	for (size_t i = 0; i < ini->n; i++) {
		free(ini->entries[i].section);
		free(ini->entries[i].subsection);
		free(ini->entries[i].key);
		free(ini->entries[i].value);
	}
	free(ini->entries);
	for (size_t i = 0; i < ini->n_sections; i++) {
		free(ini->sections[i].section);
		free(ini->sections[i].subsection);
	}
	free(ini->sections);
	memset(ini, 0, sizeof *ini);
}

static int add_entry(struct ini *ini, const char *key, size_t kl, const char *value, unsigned line)
{
	if (sc_grow(&ini->entries, &ini->cap, ini->n + 1, sizeof *ini->entries) < 0)
		return -ENOMEM;
	const struct ini_section *s = &ini->sections[ini->n_sections - 1];
	struct ini_entry *en = &ini->entries[ini->n];
	en->section = strdup(s->section);
	en->subsection = s->subsection ? strdup(s->subsection) : NULL;
	en->key = strndup(key, kl);
	en->value = value ? strdup(value) : NULL;
	en->line = line;
	if (!en->section || (s->subsection && !en->subsection) || !en->key || (value && !en->value)) {
		free(en->section);
		free(en->subsection);
		free(en->key);
		free(en->value);
		return -ENOMEM;
	}
	for (char *p = en->key; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	ini->n++;
	return 0;
}

int sc_ini_parse(const char *file, const char *buf, size_t len, struct ini *ret, sc_err *e)
{
	*ret = (struct ini){ 0 };
	struct ini ini = { 0 };
	const char *p = buf, *end = buf + len;
	unsigned line = 0;
	int r = 0;
	_cleanup_free_ char *val = malloc(len + 1);
	if (!val)
		return sc_error(e, -ENOMEM, "out of memory");
	while (p < end) {
		line++;
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		const char *q = p;
		while (q < eol && (*q == ' ' || *q == '\t' || *q == '\r'))
			q++;
		if (q == eol || *q == '#' || *q == ';') {
			p = eol + (eol < end);
			continue;
		}
		if (memchr(p, '\0', (size_t)(eol - p))) {
			r = sc_error(e, SC_ECONFIG, "%s:%u: NUL byte in the file", file, line);
			goto fail;
		}
		if (*q == '[') {
			if ((r = parse_header(file, line, q + 1, eol, &ini, e)) < 0)
				goto fail;
			p = eol + (eol < end);
			continue;
		}
		const char *k = q;
		if (!isalpha((unsigned char)*q)) {
			r = sc_error(e, SC_ECONFIG, "%s:%u: expected a key or a [section]", file, line);
			goto fail;
		}
		while (q < eol && (isalnum((unsigned char)*q) || *q == '-' || *q == '_'))
			q++;
		size_t kl = (size_t)(q - k);
		if (ini.n_sections == 0) {
			r = sc_error(e, SC_ECONFIG, "%s:%u: key \"%.*s\" before any [section]", file, line, (int)kl, k);
			goto fail;
		}
		while (q < eol && (*q == ' ' || *q == '\t'))
			q++;
		unsigned key_line = line;
		if (q == eol || *q == '#' || *q == ';' || *q == '\r') {
			if ((r = add_entry(&ini, k, kl, NULL, key_line)) < 0) {
				r = sc_error(e, r, "out of memory");
				goto fail;
			}
			p = eol + (eol < end);
			continue;
		}
		if (*q != '=') {
			r = sc_error(e, SC_ECONFIG, "%s:%u: expected '=' after \"%.*s\"", file, line, (int)kl, k);
			goto fail;
		}
		q++;
		while (q < eol && (*q == ' ' || *q == '\t'))
			q++;
		/* the value: quotes, escapes, comments; '\' + newline continues.
		 * Quotes stay in the value (env and args split it with shell-like
		 * quoting later) unless one pair encloses the whole value. */
		size_t n = 0, keep = 0, close_at = 0;
		unsigned quotes = 0;
		bool quoted = false, whole = q < eol && *q == '"';
		for (;;) {
			if (q >= eol) {
				if (quoted) {
					r = sc_error(e, SC_ECONFIG, "%s:%u: unterminated quote", file, line);
					goto fail;
				}
				break;
			}
			char c = *q++;
			if (c == '\r' && q == eol)
				continue;
			if (c == '"') {
				quoted = !quoted;
				val[n++] = c;
				keep = n;
				if (++quotes == 2)
					close_at = n;
				continue;
			}
			if (!quoted && (c == '#' || c == ';'))
				break;
			if (c == '\\') {
				/* a CRLF file continues a line with "\\\r\n" */
				if (q >= eol || (*q == '\r' && q + 1 == eol)) {
					if (eol >= end) {
						r = sc_error(e, SC_ECONFIG, "%s:%u: '\\' at the end of the file", file, line);
						goto fail;
					}
					/* continuation */
					q = eol + 1;
					eol = memchr(q, '\n', (size_t)(end - q));
					if (!eol)
						eol = end;
					line++;
					continue;
				}
				c = *q++;
				switch (c) {
				case 'n': c = '\n'; break;
				case 't': c = '\t'; break;
				case 'b': c = '\b'; break;
				case '"': case '\\': break;
				default:
					r = sc_error(e, SC_ECONFIG, "%s:%u: unknown escape \\%c", file, line, c);
					goto fail;
				}
				val[n++] = c;
				keep = n;
				continue;
			}
			val[n++] = c;
			if (quoted || (c != ' ' && c != '\t'))
				keep = n;
		}
		if (whole && quotes == 2 && close_at == keep) {
			memmove(val, val + 1, keep - 2);
			keep -= 2;
		}
		val[keep] = '\0';
		if ((r = add_entry(&ini, k, kl, val, key_line)) < 0) {
			r = sc_error(e, r, "out of memory");
			goto fail;
		}
		p = eol + (eol < end);
	}
	*ret = ini;
	return 0;
fail:
	sc_ini_done(&ini);
	return r;
}

