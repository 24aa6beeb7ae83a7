#!/bin/sh
# The docs and completion checks of t0900 can fail: each rule is run on a
# copy of man/ and completions/ with one bug planted, and must say no.
. "$(dirname "$0")/test-lib.sh"
ROOT=$(cd "$TESTS/.." && pwd)
plant() {
	rm -rf "$TRASH/copy" && mkdir -p "$TRASH/copy" && cp -r "$ROOT/man" "$ROOT/completions" "$TRASH/copy/" &&
	(cd "$TRASH/copy" && eval "$1") &&
	! SPARKCTL_DOCS_ROOT="$TRASH/copy" sh "$TESTS/cli/t0900-docs.sh" >"$TRASH/planted.log" 2>&1 &&
	grep -q "^not ok" "$TRASH/planted.log"
}
test_expect "the unplanted copy passes (the harness itself works)" '
	rm -rf "$TRASH/copy" && mkdir -p "$TRASH/copy" && cp -r "$ROOT/man" "$ROOT/completions" "$TRASH/copy/" &&
	SPARKCTL_DOCS_ROOT="$TRASH/copy" sh "$TESTS/cli/t0900-docs.sh" >"$TRASH/clean.log" 2>&1'
test_expect "a SYNOPSIS that differs from -h fails" 'plant "sed -i \"s/\\[--no-fail\\]/[--nofail]/\" man/sparkctl-scan.1"'
test_expect "an option missing from its man page fails" 'plant "sed -i \"/no.fail/d\" man/sparkctl-scan.1"'
test_expect "a command missing from sparkctl(1) fails" 'plant "sed -i \"/^\\.B logs\$/d\" man/sparkctl.1"'
test_expect "a missing man page fails" 'plant "rm man/sparkctl-ps.1"'
test_expect "a man page that renders with warnings fails" 'plant "printf \".BI\\n.XX bogus\\n\" >>man/sparkctl-ps.1"'
test_expect "a man page that mandoc lints fails" 'plant "printf \".PP\\n.PP\\ntext\\n\" >>man/sparkctl-ps.1"' MANDOC
test_expect "a man page without EXAMPLES fails" 'plant "sed -i \"s/^\\.SH EXAMPLES/.SH SAMPLES/\" man/sparkctl-logs.1"'
test_expect "JSON shapes whose quotes roff would eat fail" 'plant "printf \".B {\\\"a\\\"}\\n\" >>man/sparkctl-ps.1"'
test_expect "bash completion with a list of its own fails" '
	plant "sed -i \"s/\\\$(command sparkctl --list-cmds 2>\\/dev\\/null)/scan list/\" completions/sparkctl.bash"'
if command -v zsh >/dev/null; then
	test_expect "zsh completion that drops a command fails" '
		plant "sed -i \"s/commands+=(/[[ \\\$line_ == ps* ]] || commands+=(/\" completions/_sparkctl"'
fi
if command -v fish >/dev/null; then
	test_expect "fish completion with a list of its own fails" '
		plant "sed -i \"s/(sparkctl --list-cmds=summary 2>\\/dev\\/null)/scan list/\" completions/sparkctl.fish"'
fi
test_done
