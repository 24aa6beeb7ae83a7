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
# the harness itself: a test that cannot fail is caught
test_expect "chainlint catches a newline or a ; between commands, passes an intact chain" '
	! chainlint "true
false" && ! chainlint "true; false" && chainlint "true &&
	false" && chainlint "{ true || false; } && true"'
test_expect "test_when_finished runs after the test, passed or not" '
	(test_count=0; test_failed=0; test_expect "inner" "test_when_finished \"touch $TRASH/finished\" && false") >/dev/null &&
	[ -e "$TRASH/finished" ]'
test_lazy_prereq NEVER 'false'
test_expect "a missing prerequisite skips, never passes" 'false' NEVER
test_done
