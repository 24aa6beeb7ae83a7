#include "words.h"
#include "util.h"

int sc_split_words(const char *s, char ***ret, size_t *ret_n, sc_err *e)
{
	*ret = NULL;
	*ret_n = 0;
	char **v = NULL;
	size_t n = 0, cap = 0, len = strlen(s);
	_cleanup_free_ char *w = malloc(len + 1);
	if (!w)
		return sc_error(e, -ENOMEM, "out of memory");
	const char *p = s;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (!*p)
			break;
		size_t k = 0;
		char q = 0;
		while (*p && (q || (*p != ' ' && *p != '\t' && *p != '\n'))) {
			char c = *p++;
			if (q == '\'') {
				if (c == '\'')
					q = 0;
				else
					w[k++] = c;
			} else if (c == '\\' && q != '\'') {
				if (!*p) {
					sc_strv_free(v, n);
					return sc_error(e, -EINVAL, "'\\' at the end of \"%s\"", s);
				}
				w[k++] = *p++;
			} else if (q == '"') {
				if (c == '"')
					q = 0;
				else
					w[k++] = c;
			} else if (c == '\'' || c == '"')
				q = c;
			else
				w[k++] = c;
		}
		if (q) {
			sc_strv_free(v, n);
			return sc_error(e, -EINVAL, "unterminated %c quote in \"%s\"", q, s);
		}
		if (sc_grow(&v, &cap, n + 2, sizeof *v) < 0 || !(v[n] = strndup(w, k))) {
			sc_strv_free(v, n);
			return sc_error(e, -ENOMEM, "out of memory");
		}
		n++;
	}
	if (!v && !(v = calloc(1, sizeof *v)))
		return sc_error(e, -ENOMEM, "out of memory");
	v[n] = NULL;
	*ret = v;
	*ret_n = n;
	return 0;
}
