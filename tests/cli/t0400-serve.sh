#!/bin/sh
# serve, switch, stop, ps, logs against the engine and docker stand-ins:
# exclusive switches, crashes, stubborn engines and their children, stale
# state, reused PIDs, concurrent switches, foreign ports, memory limits,
# dry-run scripts, Docker and script modes.
. "$(dirname "$0")/test-lib.sh"
ROOT=$(cd "$TESTS/.." && pwd)
M="$TRASH/models"
gen_fixtures "$M"
export PATH="$TESTS/standin/bin:$PATH" STANDIN_DOCKER_DIR="$TRASH/docker" STANDIN_DOCKER_LOG="$TRASH/docker/calls.log"
P1=$(free_port) P2=$(free_port) P3=$(free_port) P4=$(free_port) P5=$(free_port) P6=$(free_port) P7=$(free_port) P8=$(free_port) P9=$(free_port)
cat >"$TRASH/serve-phi.sh" <<SH
#!/bin/sh
# the owner's own serve script, driven by sparkctl
exec python3 -m sglang.launch_server --model-path "$M/phi4/phi4-reasoning" --served-model-name scripted --port $P9
SH
chmod +x "$TRASH/serve-phi.sh"
cat >"$TRASH/models.ini" <<INI
[defaults]
models-root = $M
state-dir = $TRASH/state
[engine "sglang"]
command = python3 -m sglang.launch_server --model-path {path} --served-model-name {name} --host {host} --port {port} {args}
env = PYTHONPATH=$TESTS/standin/py
stop-timeout = 1
ready-timeout = 30
unsupported = compressed-tensors
[engine "vllm"]
command = vllm serve {path} --served-model-name {name} --host {host} --port {port} {args}
stop-timeout = 1
[engine "dock"]
image = standin/sglang:spark
docker-args = --gpus all --ipc=host --shm-size 16g
command = python3 -m sglang.launch_server --model-path {path} --served-model-name {name} --host {host} --port {port} {args}
env = PYTHONPATH=$TESTS/standin/py
stop-timeout = 1
[model "a"]
path = phi4/phi4-reasoning
engine = sglang
port = $P1
group = big
args = --context-length 8192 --chat-template "with space"
env = STANDIN_LOAD_MS=300 STANDIN_CHILDREN=2
[model "b"]
path = deepseek/josiefied-r1-0528-qwen3-8b-abliterated-v1
engine = vllm
port = $P2
group = big
env = STANDIN_LOAD_MS=300 STANDIN_REQUIRE_DOWN=$P1
[model "crash"]
path = community/sparsetral
engine = sglang
port = $P2
group = big
env = STANDIN_EXIT=7 STANDIN_BIND_LATE=1 STANDIN_LOAD_MS=60000
[model "stubborn"]
path = phi4/phi4-reasoning
engine = sglang
port = $P3
group = small
env = STANDIN_IGNORE_TERM=1 STANDIN_CHILDREN=2
[model "impostor"]
path = phi4/phi4-reasoning
engine = sglang
port = $P4
env = STANDIN_SERVED=someone-else
[model "tiny-budget"]
path = phi4/phi4-reasoning
engine = sglang
port = $P5
memory = 1M
[model "broken"]
path = broken/truncated-shard
engine = sglang
port = $P6
group = refused
[model "ct"]
path = deepseek/deepseek-r1-70b-fp8-abliterated
engine = sglang
port = $P6
group = refused
[model "slow"]
path = phi4/phi4-reasoning
engine = sglang
port = $P7
env = STANDIN_LOAD_MS=20000 STANDIN_BIND_LATE=1
[model "dockered"]
path = phi4/phi4-reasoning
engine = dock
port = $P8
group = docker
env = STANDIN_LOAD_MS=200
[model "noimage"]
path = phi4/phi4-reasoning
engine = dock
image = missing/none:1
port = $P8
group = docker

[model "scripted"]
path = phi4/phi4-reasoning
script = $TRASH/serve-phi.sh
port = $P9
env = PYTHONPATH=$TESTS/standin/py
INI
export SPARKCTL_CONFIG="$TRASH/models.ini"
test_cleanup "SPARKCTL_CONFIG=$TRASH/models.ini $SPARKCTL stop --all; pkill -9 -f '$TRASH' "

# live members of a process group; zombies are gone (PID 1 here may not reap)
group_size() { ps -e -o pgid=,stat= | awk -v g="$1" '$1 == g && $2 !~ /^Z/' | wc -l; }
group_gone() { [ $(group_size "$1") = 0 ]; }
listening() { python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$1" 2>/dev/null; }
state_pid() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$TRASH/state/run/$1.json"; }

test_expect "serve starts a model, waits until healthy and records its state" '
	run 0 sparkctl serve --json a && json "j[\"ok\"] and j[\"action\"] == \"started\" and j[\"health\"] == \"ok\" and j[\"port\"] == '$P1'" &&
	json "j[\"pid\"] > 0 and j[\"elapsed_ms\"] >= 300 and j[\"stopped\"] == [] and j[\"error\"] is None" &&
	python3 -c "import json,sys; s=json.load(open(sys.argv[1])); assert s[\"mode\"] == \"host\" and s[\"pgid\"] == s[\"pid\"] and s[\"start_time\"] > 0 and s[\"port\"] == '$P1' and s[\"log\"].endswith(\"logs/a.log\") and s[\"started_at\"].endswith(\"Z\")" "$TRASH/state/run/a.json"'
test_expect "the engine got the served name, port and the args as separate words" '
	has_cmd=$(tr "\0" " " </proc/$(state_pid a)/cmdline) &&
	case "$has_cmd" in *"--served-model-name a --host 127.0.0.1 --port '$P1' --mem-fraction-static 0.85 --context-length 8192 --chat-template with space"*) true ;; *) echo "$has_cmd"; false ;; esac'
test_expect "ps shows it: engine, mode, pid, port, uptime, health ok, RSS of the whole group, log" '
	run 0 sparkctl ps --json && json "len(j[\"models\"]) == 1" &&
	json "set(j[\"models\"][0]) == {\"name\",\"engine\",\"mode\",\"pid\",\"pgid\",\"container\",\"port\",\"proxy_port\",\"uptime_s\",\"health\",\"rss_bytes\",\"log\",\"managed\",\"ranks\"}" &&
	json "j[\"models\"][0][\"name\"] == \"a\" and j[\"models\"][0][\"health\"] == \"ok\" and j[\"models\"][0][\"managed\"]" &&
	json "j[\"models\"][0][\"rss_bytes\"] > 10 * 2**20" && run 0 sparkctl ps && has out "^a +sglang +host .* ok "'
test_expect "serving a model that already runs healthy does nothing" '
	run 0 sparkctl serve --json a && json "j[\"action\"] == \"none\" and j[\"ok\"]"'
test_expect "logs -n shows the last lines of the log" '
	run 0 sparkctl logs -n 2 a && [ $(wc -l <"$TRASH/out") = 2 ] && run 0 sparkctl logs a && has out "fired up and ready"'
test_expect "switch stops the other model of the group before the new one starts" '
	pgid=$(state_pid a) && run 0 sparkctl switch --json b &&
	json "j[\"ok\"] and j[\"action\"] == \"switched\" and j[\"stopped\"] == [\"a\"] and j[\"health\"] == \"ok\"" &&
	[ $(group_size $pgid) = 0 ] && [ ! -e "$TRASH/state/run/a.json" ] && ! listening '$P1' &&
	grep -q "port '$P1' is free" "$TRASH/state/logs/b.log"'
test_expect "switching to the model that runs healthy does nothing and exits 0" '
	run 0 sparkctl switch b && has out "already running"'
test_expect "switch to a model that crashes: fails within 2 s, log tail shown, nothing left on the port" '
	start=$(date +%s%N) && run 1 sparkctl switch crash && end=$(date +%s%N) &&
	[ $(( (end - start) / 1000000 )) -lt 2000 ] &&
	has err "crash exited with status 7 while starting" && has err "CUDA error: out of memory" &&
	! listening '$P2' && [ ! -e "$TRASH/state/run/crash.json" ] && [ ! -e "$TRASH/state/run/b.json" ]'
test_expect "switch --rollback restarts the model that ran before" '
	run 0 sparkctl serve b && run 1 sparkctl switch --rollback crash && has err "rolled back: b runs again" &&
	run 0 sparkctl ps --json && json "[m[\"name\"] for m in j[\"models\"]] == [\"b\"] and j[\"models\"][0][\"health\"] == \"ok\""'
test_expect "stop ends the model and exits 0" '
	run 0 sparkctl stop b && has out "^b: stopped$" && ! listening '$P2' && run 0 sparkctl ps --json && json "j[\"models\"] == []"'
test_expect "an engine that ignores SIGTERM is killed after stop-timeout, with its children" '
	run 0 sparkctl serve stubborn && pgid=$(state_pid stubborn) && [ $(group_size $pgid) = 3 ] &&
	run 0 sparkctl stop stubborn && has err "ignored SIGTERM .* SIGKILL" && [ $(group_size $pgid) = 0 ]'
test_expect "children that outlive the engine are stopped with it" '
	run 0 sparkctl serve a && pgid=$(state_pid a) && [ $(group_size $pgid) = 3 ] &&
	kill -9 $pgid && wait_until 5 sh -c "[ \$(ps -o stat= -p $pgid 2>/dev/null | cut -c1) != S ]" &&
	[ $(group_size $pgid) -ge 2 ] && run 0 sparkctl stop a && [ $(group_size $pgid) = 0 ] &&
	[ ! -e "$TRASH/state/run/a.json" ]'
test_expect "stale state after kill -9 of the whole engine: ps says dead, serve starts anew" '
	run 0 sparkctl serve a && pgid=$(state_pid a) && kill -9 -$pgid && wait_until 5 group_gone $pgid &&
	run 0 sparkctl ps --json && json "j[\"models\"][0][\"health\"] == \"dead\"" &&
	run 0 sparkctl serve --json a && json "j[\"action\"] == \"started\" and j[\"pid\"] != '"'"'$pgid'"'"'"'
test_expect "sparkctl killed while it waits: the engine and its state survive, stop cleans up" '
	run 0 sparkctl stop a && { (sparkctl serve slow >/dev/null 2>&1 & echo $! >"$TRASH/serve.pid"; wait) & } &&
	wait_until 10 test -e "$TRASH/state/run/slow.json" && kill -9 $(cat "$TRASH/serve.pid") &&
	pgid=$(state_pid slow) && [ $(group_size $pgid) -ge 1 ] && run 0 sparkctl ps --json &&
	json "j[\"models\"][0][\"name\"] == \"slow\" and j[\"models\"][0][\"health\"] == \"loading\"" &&
	run 0 sparkctl stop slow && [ $(group_size $pgid) = 0 ]'
test_expect "a reused PID is never signalled: the stale state is only cleaned" '
	{ sleep 300 & victim=$!; } && test_when_finished "kill $victim" &&
	mkdir -p "$TRASH/state/run" &&
	printf "{\"name\":\"a\",\"engine\":\"sglang\",\"mode\":\"host\",\"pid\":%d,\"pgid\":%d,\"start_time\":1,\"port\":%d,\"host\":\"127.0.0.1\",\"started_unix\":1}" $victim $victim '$P1' >"$TRASH/state/run/a.json" &&
	run 0 sparkctl stop a && has out "was not running" && kill -0 $victim && [ ! -e "$TRASH/state/run/a.json" ]'
test_expect "two concurrent switches run one after the other" '
	{ (sparkctl switch --json a >"$TRASH/s1" 2>"$TRASH/e1"; echo $? >"$TRASH/r1") & } &&
	{ (sparkctl switch --json b >"$TRASH/s2" 2>"$TRASH/e2"; echo $? >"$TRASH/r2") & } &&
	wait_until 60 sh -c "test -s $TRASH/r1 && test -s $TRASH/r2" &&
	cat "$TRASH/s1" "$TRASH/s2" "$TRASH/e1" "$TRASH/e2" &&
	[ "$(cat "$TRASH/r1")$(cat "$TRASH/r2")" = 00 ] && run 0 sparkctl ps --json && json "len(j[\"models\"]) == 1" &&
	python3 -c "
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
# one ran first and stopped nothing; the other, under the lock after it, stopped the first
assert sorted([a[\"stopped\"], b[\"stopped\"]]) in ([[], [\"a\"]], [[], [\"b\"]]), (a, b)
assert (a[\"stopped\"] == [\"b\"]) or (b[\"stopped\"] == [\"a\"]), (a, b)
" "$TRASH/s1" "$TRASH/s2"'
test_expect "a foreign process on the port is refused, named, and left alone" '
	sparkctl stop --all >/dev/null && { python3 -m http.server --bind 127.0.0.1 '$P1' >/dev/null 2>&1 & foreign=$!; } &&
	test_cleanup "kill $foreign" && wait_until 10 listening '$P1' &&
	run 1 sparkctl serve a && has err "port '$P1' is taken by process $foreign \(python3\), which sparkctl did not start" &&
	kill -0 $foreign && run 0 sparkctl ps --json && json "j[\"models\"][0][\"managed\"] is False and j[\"models\"][0][\"port\"] == '$P1'" &&
	kill $foreign'
test_expect "a model that exceeds its memory setting is refused with the figures; --force starts it" '
	run 1 sparkctl serve tiny-budget && has err "needs .* sglang will have 870 KiB: 0.85 x memory 1.0 MiB of models.ini" &&
	! listening '$P5' && run 0 sparkctl serve --force tiny-budget && run 0 sparkctl stop tiny-budget'
test_expect "a checkpoint that is not ok is refused" '
	run 1 sparkctl serve broken && has err "the checkpoint is incomplete: model.safetensors: file is"'
test_expect "an engine that cannot load the format is refused" '
	run 1 sparkctl serve ct && has err "compressed-tensors is listed as unsupported for engine sglang"'
test_expect "another model answering on the port fails the start" '
	run 1 sparkctl serve impostor && has err "lists someone-else, not impostor" && ! listening '$P4''
test_expect "not healthy before --timeout: fails and leaves nothing" '
	run 1 sparkctl serve --timeout 1 slow && has err "not healthy within 1 s" && ! listening '$P7' &&
	[ ! -e "$TRASH/state/run/slow.json" ]'
test_expect "--no-wait returns at once; ps says loading" '
	run 0 sparkctl serve --no-wait --json slow && json "j[\"health\"] == \"loading\"" &&
	run 0 sparkctl ps --json && json "j[\"models\"][0][\"health\"] == \"loading\"" && run 0 sparkctl stop slow'
if command -v script >/dev/null; then
	test_expect "on a terminal, one status line while it starts: elapsed time and the last log line" '
		script -qec "\"$SPARKCTL\" serve a" /dev/null >"$TRASH/out" 2>&1 && has out "\[ +0s\] a: starting" &&
		has out "a: healthy on 127.0.0.1:'$P1'" && run 0 sparkctl stop a'
fi
test_expect "the previous log is kept as .1" '
	run 0 sparkctl serve a && run 0 sparkctl stop a && run 0 sparkctl serve a && [ -s "$TRASH/state/logs/a.log.1" ] && run 0 sparkctl stop a'
test_expect "logs -f follows what is written" '
	run 0 sparkctl serve a && (timeout 3 "$SPARKCTL" logs -n 0 -f a >"$TRASH/follow" &) &&
	wait_until 5 test -e "$TRASH/follow" && python3 -c "import urllib.request; urllib.request.urlopen(\"http://127.0.0.1:'$P1'/v1/models\")" &&
	wait_until 5 grep -q "GET /v1/models" "$TRASH/follow" && run 0 sparkctl stop a'
test_expect "serve --dry-run prints a script that runs the model" '
	run 0 sparkctl serve --dry-run a && cp "$TRASH/out" "$TRASH/dry.sh" && has out "^#!/bin/sh" &&
	has out "STANDIN_LOAD_MS=300" && has out "'"'"'with space'"'"'" && [ ! -e "$TRASH/state/run/a.json" ] &&
	(sh "$TRASH/dry.sh" >/dev/null 2>&1 & echo $! >"$TRASH/dry.pid") && test_cleanup "kill \$(cat $TRASH/dry.pid)" &&
	wait_until 20 python3 -c "import urllib.request; assert urllib.request.urlopen(\"http://127.0.0.1:'$P1'/health\").status == 200" &&
	kill $(cat "$TRASH/dry.pid") && wait_until 5 sh -c "! kill -0 $(cat "$TRASH/dry.pid") 2>/dev/null"'
test_expect "Docker mode: docker run with name, label, port, read-only models, docker-args, env, image" '
	run 0 sparkctl serve --json dockered && json "j[\"ok\"] and j[\"pid\"] is None" &&
	grep -q "^rm -f sparkctl-dockered$" "$STANDIN_DOCKER_LOG" &&
	grep -q "^run -d --name sparkctl-dockered --label sparkctl.model=dockered --network host -v $M:$M:ro --gpus all --ipc=host --shm-size 16g -e PYTHONPATH=$TESTS/standin/py -e STANDIN_LOAD_MS=200 standin/sglang:spark python3 -m sglang.launch_server --model-path $M/phi4/phi4-reasoning --served-model-name dockered" "$STANDIN_DOCKER_LOG" &&
	run 0 sparkctl ps --json && json "j[\"models\"][0][\"container\"] == \"sparkctl-dockered\" and j[\"models\"][0][\"mode\"] == \"docker\""'
test_expect "the docker stand-in keeps the network rule of Docker: a bridged engine bound to 127.0.0.1 is unreachable" '
	PB=$(free_port) &&
	run 0 docker run -d --name bridged -p 127.0.0.1:$PB:$PB -e PYTHONPATH=$TESTS/standin/py standin/x python3 -m sglang.launch_server --model-path $M/phi4/phi4-reasoning --host 127.0.0.1 --port $PB &&
	test_when_finished "docker rm -f bridged" &&
	! wait_until 3 listening $PB && run 0 docker rm -f bridged &&
	run 0 docker run -d --name hosted --network host -e PYTHONPATH=$TESTS/standin/py standin/x python3 -m sglang.launch_server --model-path $M/phi4/phi4-reasoning --host 127.0.0.1 --port $PB &&
	test_when_finished "docker rm -f hosted" && wait_until 10 listening $PB'
test_expect "Docker mode: logs come from docker logs; stop is docker stop -t then docker rm -f" '
	run 0 sparkctl logs dockered && has out "fired up" &&
	run 0 sparkctl stop dockered && grep -q "^stop -t 1 sparkctl-dockered$" "$STANDIN_DOCKER_LOG" &&
	tail -n 3 "$STANDIN_DOCKER_LOG" | grep -q "^rm -f sparkctl-dockered$" && ! listening '$P8''
test_expect "Docker mode: a docker run that fails says docker's reason and records nothing" '
	run 1 sparkctl serve noimage && has err "docker run failed \(exit 125\): Unable to find image .missing/none:1. locally" &&
	[ ! -e "$TRASH/state/run/noimage.json" ] && ! listening '$P8''
test_expect "script mode: the owner's serve script, supervised the same way" '
	run 0 sparkctl serve --json scripted && json "j[\"ok\"]" && run 0 sparkctl ps && has out "^scripted +- +script " &&
	run 0 sparkctl stop scripted && ! listening '$P9''
test_expect "usage: serve needs one name; an unknown model is an error" '
	run 2 sparkctl serve && run 2 sparkctl stop && run 1 sparkctl serve nosuch && has err "nosuch: no such \[model\]"'
test_expect "a broken models.ini stops serve with file:line" '
	printf "[model \"x\"]\npath = p\nengine = sglang\nport = 70000\n" >"$TRASH/bad.ini" &&
	run 1 sparkctl --config "$TRASH/bad.ini" serve x && has err "bad.ini:4: port: not a port number"'
test_done
