# Sourced by every CLI test: TAP output, an isolated HOME/XDG, helpers.
# A test is `test_expect "what it proves" 'commands'`; a failing one prints
# what ran and what it printed, indented as TAP diagnostics.
set -u
: "${SPARKCTL:?run through make check, which sets SPARKCTL}"
TESTS=$(cd "$(dirname "$0")/.." && pwd)
TRASH=$(mktemp -d "${TMPDIR:-/tmp}/sparkctl-test.XXXXXX")
export HOME="$TRASH/home" XDG_CONFIG_HOME="$TRASH/home/.config" XDG_STATE_HOME="$TRASH/home/.local/state"
export XDG_CACHE_HOME="$TRASH/home/.cache" XDG_DATA_HOME="$TRASH/home/.local/share"
unset SPARKCTL_CONFIG NO_COLOR SPARKCTL_TOKEN HF_TOKEN HF_HOME
mkdir -p "$HOME" "$XDG_CONFIG_HOME"
test_count=0
test_failed=0
_cleanups=""

test_cleanup() { _cleanups="$1; $_cleanups"; }
_finish() {
	eval "$_cleanups" >/dev/null 2>&1
	rm -rf "$TRASH"
}
trap _finish EXIT

sparkctl() { "$SPARKCTL" "$@"; }

# gen_fixtures DIR: the generated model tree (tests/gen-fixtures.py)
gen_fixtures() {
	python3 "$TESTS/gen-fixtures.py" "$1" >/dev/null || { echo "Bail out! fixture generator failed"; exit 1; }
}

test_expect() {
	test_count=$((test_count + 1))
	if (eval "$2") >"$TRASH/test.log" 2>&1; then
		echo "ok $test_count - $1"
	else
		test_failed=$((test_failed + 1))
		echo "not ok $test_count - $1"
		{ echo "ran: $2"; sed -n '1,60p' "$TRASH/test.log"; } | sed 's/^/#   /'
	fi
}

# run CODE CMD...: run, keep stdout in $TRASH/out and stderr in $TRASH/err,
# fail unless the exit status is CODE.
run() {
	want=$1
	shift
	"$@" >"$TRASH/out" 2>"$TRASH/err"
	got=$?
	if [ "$got" != "$want" ]; then
		echo "expected exit $want, got $got: $*"
		echo "--- stdout"; sed -n '1,20p' "$TRASH/out"
		echo "--- stderr"; sed -n '1,20p' "$TRASH/err"
		return 1
	fi
}

# has FILE PATTERN: FILE ($TRASH/out or err) matches the extended regex.
has() {
	if ! grep -Eq -- "$2" "$TRASH/$1"; then
		echo "expected $1 to match: $2"
		echo "--- $1"; sed -n '1,30p' "$TRASH/$1"
		return 1
	fi
}

hasnt() {
	if grep -Eq -- "$2" "$TRASH/$1"; then
		echo "expected $1 not to match: $2"
		grep -E -- "$2" "$TRASH/$1" | sed -n '1,10p'
		return 1
	fi
}

# json EXPR: evaluate a Python expression over the JSON in $TRASH/out (as
# `j`); fails and shows the value when it is false.
json() {
	python3 - "$TRASH/out" "$1" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
try:
    ok = eval(sys.argv[2])
except Exception as e:
    print("error evaluating %s: %r" % (sys.argv[2], e)); sys.exit(1)
if not ok:
    print("false: %s" % sys.argv[2]); print(json.dumps(j, indent=1)[:3000]); sys.exit(1)
PY
}

test_done() {
	echo "1..$test_count"
	[ "$test_failed" = 0 ]
}

# free_port: a TCP port of 127.0.0.1 that nothing listens on
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_until SECONDS CMD...: poll CMD every 50 ms until it succeeds or the
# deadline passes (never a fixed sleep)
wait_until() {
	_end=$(( $(date +%s%N) / 1000000 + $1 * 1000 ))
	shift
	until "$@"; do
		[ $(( $(date +%s%N) / 1000000 )) -lt $_end ] || return 1
		sleep 0.05
	done
}
