#!/bin/sh
# libsparkctl as an outside program sees it: installed headers, sparkctl.pc,
# and a shared library that exports sc_* and nothing else.
. "$(dirname "$0")/test-lib.sh"
: "${SPARKCTL_BUILD:?}"
ROOT=$(cd "$TESTS/.." && pwd)
case $SPARKCTL_BUILD in */san) SAN=1 SANFLAGS="-fsanitize=address,undefined" ;; *) SAN=0 SANFLAGS= ;; esac
P="$TRASH/prefix"
make --no-print-directory -C "$ROOT" install PREFIX="$P" SANITIZE=$SAN >"$TRASH/install.log" 2>&1 ||
	{ echo "Bail out! make install failed"; sed 's/^/# /' "$TRASH/install.log"; exit 1; }
export PKG_CONFIG_PATH="$P/lib/pkgconfig"
mkdir -p "$TRASH/m/org/tiny"
python3 - "$TRASH/m/org/tiny" "$TESTS" <<'PY'
import sys
sys.path.insert(0, sys.argv[2])
from ckpt import *
write_json(sys.argv[1] + "/config.json", llama_config(64, 128, 2, 4, 2, 256))
write_safetensors(sys.argv[1] + "/model.safetensors", scheme_tensors(llama_layers(64, 128, 2, 4, 2, 256), "bf16"))
PY
cat >"$TRASH/prog.c" <<'C'
#include <stdio.h>
#include <sparkctl/sparkctl.h>

int main(int argc, char **argv)
{
	struct registry reg;
	struct scan_result s;
	sc_err e;
	if (sc_registry_load("/dev/null", &reg, &e) < 0 || sc_scan(argv[1], &reg, &s, &e) < 0) {
		fprintf(stderr, "%s\n", e.msg);
		return 1;
	}
	for (size_t i = 0; i < s.n_models; i++)
		printf("%s %s %s\n", s.models[i].rel, sc_format_name(s.models[i].format), sc_status_name(s.models[i].status));
	sc_scan_result_done(&s);
	sc_registry_done(&reg);
	return argc == 2 ? 0 : 1;
}
C
test_expect "an outside program builds with pkg-config and runs against the installed library" '
	run 0 pkg-config --exists sparkctl && cc $SANFLAGS -o "$TRASH/prog" "$TRASH/prog.c" $(pkg-config --cflags --libs sparkctl) &&
	LD_LIBRARY_PATH="$P/lib" run 0 "$TRASH/prog" "$TRASH/m" && has out "^org/tiny bf16 ok$"'
test_expect "only the public headers are installed: no util.h, no curl or libarchive headers" '
	[ -f "$P/include/sparkctl/sparkctl.h" ] && [ ! -e "$P/include/sparkctl/base/util.h" ] &&
	[ ! -e "$P/include/sparkctl/net/curl_api.h" ] && [ ! -e "$P/include/sparkctl/base/archive_api.h" ] &&
	! grep -rq "curl/curl.h\|archive.h\|util.h" "$P/include/sparkctl"'
test_expect "the shared library exports sc_* and nothing else" '
	nm -D --defined-only "$P/lib/libsparkctl.so.0" | awk "\$2 ~ /[TDBRV]/ {print \$3}" >"$TRASH/syms" &&
	[ -s "$TRASH/syms" ] && ! grep -v "^sc_" "$TRASH/syms"'
test_expect "every exported function of the static library starts with sc_" '
	nm -g --defined-only "$P/lib/libsparkctl.a" 2>/dev/null | awk "\$2 ~ /[TDBR]/ {print \$3}" | sort -u >"$TRASH/all" &&
	[ -s "$TRASH/all" ] && ! grep -v "^sc_" "$TRASH/all"'
test_done
