#include "err.h"
#include "text.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int sc_error(sc_err *e, int code, const char *fmt, ...)
{
	if (e) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(e->msg, sizeof e->msg, fmt, ap);
		va_end(ap);
		/* a message cut to the buffer must not end inside a character */
		if (n >= (int)sizeof e->msg)
			e->msg[sc_utf8_trim(e->msg, strlen(e->msg))] = '\0';
	}
	return code;
}

const char *sc_strerror(int code)
{
	static const char *const names[] = {
		[SC_ESHORT - SC_EBASE] = "header too short",
		[SC_ETOOBIG - SC_EBASE] = "length over limit",
		[SC_EPASTEOF - SC_EBASE] = "length past end of file",
		[SC_ENOTJSON - SC_EBASE] = "not JSON",
		[SC_ENOTOBJ - SC_EBASE] = "unexpected JSON shape",
		[SC_EDTYPE - SC_EBASE] = "unknown dtype",
		[SC_EOFFSETS - SC_EBASE] = "bad data offsets",
		[SC_ESIZE - SC_EBASE] = "shape does not match bytes",
		[SC_EMAGIC - SC_EBASE] = "bad magic",
		[SC_EVERSION - SC_EBASE] = "unsupported version",
		[SC_ELENGTH - SC_EBASE] = "length larger than the file",
		[SC_ETRUNC - SC_EBASE] = "truncated structure",
		[SC_EUTF8 - SC_EBASE] = "invalid UTF-8",
		[SC_ECONFIG - SC_EBASE] = "configuration error",
		[SC_ENOTFOUND - SC_EBASE] = "not found",
		[SC_ENOTREG - SC_EBASE] = "not a regular file (a FIFO, device or socket)",
	};
	if (code > SC_EBASE && code <= SC_ENOTREG && names[code - SC_EBASE])
		return names[code - SC_EBASE];
	return strerror(-code);
}
