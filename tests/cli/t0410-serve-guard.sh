#!/bin/sh
# serve, stop and switch under one lock; the group rule in serve; names that
# are not registered; names that would be paths.
. "$(dirname "$0")/test-lib.sh"
M="$TRASH/models"
gen_fixtures "$M"
P1=$(free_port) P2=$(free_port) P3=$(free_port)
{ registry_head && cat <<INI
[model "a"]
path = phi4/phi4-reasoning
engine = sglang
port = $P1
group = big
env = STANDIN_LOAD_MS=400 STANDIN_BIND_LATE=1
[model "b"]
path = phi4/phi4-reasoning
engine = sglang
port = $P2
group = big
env = STANDIN_LOAD_MS=100
[model "solo"]
path = phi4/phi4-reasoning
engine = sglang
port = $P3
INI
} >"$TRASH/models.ini"
export SPARKCTL_CONFIG="$TRASH/models.ini"
test_cleanup "SPARKCTL_CONFIG=$TRASH/models.ini $SPARKCTL stop --all; pkill -9 -f '$TRASH/models' "
# every engine of the test has a state file naming its PID
engines() { pgrep -f "model-path $M" | sort; }
recorded() { for f in "$TRASH"/state/run/*.json; do [ -e "$f" ] && python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pgid"])' "$f"; done; }
no_orphans() {
	rec=" $(recorded | tr "\n" " ") "
	for p in $(engines); do
		g=$(ps -o pgid= -p $p | tr -d " ")
		[ -n "$g" ] || continue
		case "$rec" in *" $g "*) ;; *) echo "engine $p (group $g) has no state file"; return 1 ;; esac
	done
}

test_expect "two serve a at once: one starts it, the other finds it running; one engine, stoppable" '
	{ (sparkctl serve a >"$TRASH/o1" 2>&1; echo $? >"$TRASH/r1") & } && { (sparkctl serve a >"$TRASH/o2" 2>&1; echo $? >"$TRASH/r2") & } &&
	wait_until 30 sh -c "test -s $TRASH/r1 && test -s $TRASH/r2" && cat "$TRASH/o1" "$TRASH/o2" &&
	[ "$(cat "$TRASH/r1")$(cat "$TRASH/r2")" = 00 ] && grep -q "already running and healthy" "$TRASH/o1" "$TRASH/o2" &&
	[ $(engines | wc -l) = 1 ] && no_orphans && run 0 sparkctl stop a && [ -z "$(engines)" ]'
test_expect "switch and stop --all in a loop never leave an engine without a state file" '
	for i in 1 2 3 4 5 6; do
		{ sparkctl switch a >/dev/null 2>&1 & sw=$!; } && sparkctl stop --all >/dev/null 2>&1 &&
		{ wait $sw || true; } && no_orphans || return 1
	done && run 0 sparkctl stop --all && [ -z "$(engines)" ]'
test_expect "serve refuses while another model of its group runs, naming it and pointing at switch" '
	run 0 sparkctl serve b && run 1 sparkctl serve a &&
	has err "serve: a: b of the same group \"big\" runs; models of one group exclude each other: .sparkctl switch a. stops it first" &&
	[ $(engines | wc -l) = 1 ] && run 0 sparkctl serve solo && run 0 sparkctl stop --all'
test_expect "a state file without a start time: nothing is signalled, and stop says so" '
	{ sleep 300 & victim=$!; } && test_when_finished "kill $victim" && mkdir -p "$TRASH/state/run" &&
	printf "{\"name\":\"solo\",\"engine\":\"sglang\",\"mode\":\"host\",\"pid\":%d,\"pgid\":%d,\"port\":%d,\"host\":\"127.0.0.1\",\"started_unix\":1}" $victim $victim '$P3' >"$TRASH/state/run/solo.json" &&
	run 0 sparkctl stop solo && has out "^solo: not signalled$" && has err "names pid $victim .* nothing was signalled" &&
	kill -0 $victim && [ ! -e "$TRASH/state/run/solo.json" ]'
for c in "serve" "switch" "switch --json" "stop" "logs" "inspect" "test"; do
	test_expect "$c answers a name that is not registered with one line and exit 1" '
		run 1 sparkctl '"$c"' nosuch && [ $(wc -l <"$TRASH/err") = 1 ] && has err "nosuch: (no such \[model\]|not a registered model)" &&
		hasnt err "SIGKILL|Segmentation"'
done
test_expect "a close name gets a did-you-mean" '
	run 1 sparkctl stop sol && has err "did you mean: solo\?" && run 1 sparkctl serve sol && has err "did you mean: solo\?"'
for bad in "../../escape" "-x" ".hidden" "a/b" "a b"; do
	test_expect "the model name \"$bad\" is refused where models.ini is read, with file:line" '
		printf "[model \"%s\"]\npath = p\nengine = sglang\nport = 1\n" "'"$bad"'" >"$TRASH/bad.ini" &&
		run 1 sparkctl --config "$TRASH/bad.ini" list && has err "bad.ini:1: \[model .*\]: a model name is letters, digits" &&
		[ ! -e "$TRASH/escape.json" ] && [ ! -e "$TRASH/state/escape.log" ]'
done
test_expect "a CRLF models.ini with a \\ continuation loads" '
	printf "[defaults]\r\nmodels-root = $M\r\n[model \"crlf\"]\r\npath = phi4/\\\\\r\nphi4-reasoning\r\nengine = sglang\r\nport = 1\r\n" >"$TRASH/crlf.ini" &&
	printf "[engine \"sglang\"]\r\ncommand = x {path}\r\n" >>"$TRASH/crlf.ini" &&
	run 0 sparkctl --config "$TRASH/crlf.ini" list --json && json "j[\"models\"][0][\"path\"].endswith(\"/phi4/phi4-reasoning\")"'
test_done
