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

# chainlint BODY: a test whose commands are not joined by && lets a
# failure pass unseen. git's first chain-lint: run "(exit 117) && BODY";
# an intact chain stops at once with 117, a broken one goes on past the
# break and ends otherwise. (Loops join their bodies with "|| return 1".)
chainlint() {
	(eval "(exit 117) && $1") >/dev/null 2>&1
	[ $? = 117 ] || { echo "broken && chain: a command of this test is not joined by && (a failure would pass)"; return 1; }
}

# test_when_finished CMD: run CMD after the current test, passed or not
# (git's): the test body runs in a subshell, so the command goes to a file.
test_when_finished() { printf '%s\n' "$*" >>"$TRASH/.when_finished"; }

# Prerequisites (git's test_have_prereq): test_lazy_prereq NAME 'CMD'
# defines one, evaluated once on first use.
test_lazy_prereq() { eval "_prereq_cmd_$1=\$2"; }
test_have_prereq() {
	eval "_have=\${_prereq_$1:-}"
	if [ -z "$_have" ]; then
		eval "_cmd=\${_prereq_cmd_$1:-false}"
		if (eval "$_cmd") >/dev/null 2>&1; then _have=yes; else _have=no; fi
		eval "_prereq_$1=$_have"
	fi
	[ "$_have" = yes ]
}
test_lazy_prereq SCRIPT 'command -v script'
test_lazy_prereq ZSH 'command -v zsh'
test_lazy_prereq FISH 'command -v fish'
test_lazy_prereq TMUX 'command -v tmux'
test_lazy_prereq ROOT '[ "$(id -u)" = 0 ]'
test_lazy_prereq MANDOC 'command -v mandoc'
# strace -p on a process that is not its child: root, or Yama's ptrace_scope 0
test_lazy_prereq STRACE 'command -v strace && { [ "$(id -u)" = 0 ] || [ "$(cat /proc/sys/kernel/yama/ptrace_scope 2>/dev/null || echo 0)" = 0 ]; }'
# the real llama-server of ../shared/engines (CI sets LLAMA_SERVER); its
# README: a CPU that cannot run it makes --version fail, and it counts as absent
test_lazy_prereq LLAMA '[ -n "${LLAMA_SERVER:-}" ] && "$LLAMA_SERVER" --version'
LLAMA_MODEL=${LLAMA_MODEL:-$(dirname "${LLAMA_SERVER:-.}")/tiny-llama.gguf}

# test_cmp EXPECTED ACTUAL: the files are equal, else the diff is shown.
test_cmp() { diff -u "$1" "$2"; }

# A failure's output as TAP comments, every line ended (a dumped file
# without its last newline would swallow the next test's "ok" line).
tap_comment() { awk '{ print "#   " $0 }'; }

# test_expect "what it proves" 'commands' [PREREQ...]
test_expect() {
	test_count=$((test_count + 1))
	_title=$1 _body=$2
	shift 2
	for _p in "$@"; do
		if ! test_have_prereq "$_p"; then
			echo "ok $test_count # SKIP $_title (missing $_p)"
			return 0
		fi
	done
	rm -f "$TRASH/.when_finished"
	if ! chainlint "$_body" >"$TRASH/test.log" 2>&1; then
		test_failed=$((test_failed + 1))
		echo "not ok $test_count - $_title"
		{ echo "ran: $_body"; cat "$TRASH/test.log"; } | tap_comment
		return 0
	fi
	if (eval "$_body") >"$TRASH/test.log" 2>&1; then
		echo "ok $test_count - $_title"
	else
		test_failed=$((test_failed + 1))
		echo "not ok $test_count - $_title"
		{ echo "ran: $_body"; sed -n '1,60p' "$TRASH/test.log"; } | tap_comment
	fi
	if [ -f "$TRASH/.when_finished" ]; then
		(. "$TRASH/.when_finished") >/dev/null 2>&1
		rm -f "$TRASH/.when_finished"
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

# registry_head [ENGINE]: the [defaults] of a test registry (models under
# $M, state under $TRASH/state) and an [engine] that runs the stand-in as
# SGLang; the caller appends its [model] sections
registry_head() {
	printf '[defaults]\nmodels-root = %s\nstate-dir = %s/state\n' "$M" "$TRASH"
	printf '[engine "%s"]\n' "${1:-sglang}"
	printf 'command = python3 -m sglang.launch_server --model-path {path} --served-model-name {name} --host {host} --port {port} {args}\n'
	printf 'env = PYTHONPATH=%s/standin/py\nstop-timeout = 1\nready-timeout = 30\n' "$TESTS"
}

# free_port: a TCP port of 127.0.0.1 that nothing listens on, and not one
# handed out before in this file: the kernel may give the same free port
# twice, and a "nothing listens" port must not become a stand-in's
free_port() {
	python3 -c '
import socket, sys
seen = set(open(sys.argv[1]).read().split()) if __import__("os").path.exists(sys.argv[1]) else set()
while True:
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close()
    if str(p) not in seen:
        break
open(sys.argv[1], "a").write("%d\n" % p)
print(p)' "$TRASH/.ports"
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
