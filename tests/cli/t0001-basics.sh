#!/bin/sh
# The command table: help, version, unknown commands and options.
. "$(dirname "$0")/test-lib.sh"

test_expect "--version prints the version" '
	run 0 sparkctl --version && has out "^sparkctl [0-9]+\.[0-9]+\.[0-9]+$"'
test_expect "--help lists every command" '
	run 0 sparkctl --help && for c in $(sparkctl --list-cmds); do has out "^  $c " || return 1; done'
test_expect "no command is a usage error (exit 2)" '
	run 2 sparkctl && has err "usage: sparkctl"'
test_expect "an unknown command suggests the closest (exit 2)" '
	run 2 sparkctl scna && has err "not a sparkctl command" && has err "^	scan$"'
test_expect "an unknown global option is a usage error" '
	run 2 sparkctl --bogus scan && has err "unknown option .--bogus."'
test_expect "help COMMAND shows the command help" '
	run 0 sparkctl help scan && has out "^usage: sparkctl scan "'
test_expect "COMMAND --help shows the same help" '
	sparkctl help scan >"$TRASH/a" && run 0 sparkctl scan --help && cmp "$TRASH/a" "$TRASH/out"'
test_expect "an unknown command option is a usage error naming it" '
	run 2 sparkctl scan --frobnicate && has err "unknown option .--frobnicate."'
test_expect "an option without its value is a usage error" '
	run 2 sparkctl scan --root && has err "needs a value"'
test_expect "help for an unknown command fails with exit 2" '
	run 2 sparkctl help nosuch'
test_expect "a closed stdout is an error, not silent success" '
	! sparkctl --help >/dev/full 2>"$TRASH/err" && has err "error writing"'
test_done
