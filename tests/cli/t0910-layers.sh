#!/bin/sh
# The include graph of lib/ points one way only: base <- format <- net,
# engine <- ops. The check is shown to fail on a planted upward include.
. "$(dirname "$0")/test-lib.sh"
ROOT=$(cd "$TESTS/.." && pwd)
test_expect "every include of lib/ points to its own layer or one below" '
	run 0 sh "$TESTS/check-layers.sh" "$ROOT/lib"'
test_expect "the check fails on a planted include from a layer above" '
	cp -r "$ROOT/lib" "$TRASH/lib" && printf "#include \"../ops/scan.h\"\n" >>"$TRASH/lib/format/model.c" &&
	run 1 sh "$TESTS/check-layers.sh" "$TRASH/lib" && has out "format/model.c includes from ops, a layer above format"'
test_expect "the check fails on a folder that is no layer" '
	rm -rf "$TRASH/lib" && cp -r "$ROOT/lib" "$TRASH/lib" && mkdir "$TRASH/lib/misc" &&
	run 1 sh "$TESTS/check-layers.sh" "$TRASH/lib" && has out "misc/: a folder that is no layer"'
test_done
