#include "json.h"
#include "text.h"
#include "util.h"

int sc_json_load(const char *path, size_t max, json_t **ret, sc_err *e)
{
	*ret = NULL;
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r = sc_read_file(path, max, &buf, &len);
	if (r < 0)
		return sc_error(e, r, "%s: %s", path, r == -EFBIG ? "file too large" : sc_strerror(r));
	json_error_t je;
	json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
	if (!j)
		return sc_error(e, SC_ENOTJSON, "%s:%d: %s", path, je.line, je.text);
	*ret = j;
	return 0;
}

json_t *sc_json_text(const char *s)
{
	if (!s)
		return json_null();
	size_t n = strlen(s);
	if (sc_utf8_valid(s, n))
		return json_stringn(s, n);
	_cleanup_free_ char *fixed = sc_utf8_dup(s);
	return fixed ? json_string(fixed) : NULL;
}
