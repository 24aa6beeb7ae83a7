#!/bin/sh
# The real engine: llama.cpp's llama-server of ../shared/engines with a tiny
# random-weight GGUF (CI sets LLAMA_SERVER; without it every test here
# reports itself skipped). scan, inspect, serve, test, switch between two
# copies, stop; and the facts the stand-ins could not teach: a GGUF is
# served as its file, the context is meta.n_ctx, and a server without
# --alias serves the file path as its id.
. "$(dirname "$0")/test-lib.sh"
M="$TRASH/models"
mkdir -p "$M/tiny/a" "$M/tiny/b"
if test_have_prereq LLAMA; then
	cp "$LLAMA_MODEL" "$M/tiny/a/tiny-llama.gguf" && cp "$LLAMA_MODEL" "$M/tiny/b/tiny-llama.gguf"
fi
P1=$(free_port) P2=$(free_port) P3=$(free_port) PX=$(free_port)
echo "sk-llama-test" >"$TRASH/tokens" && chmod 600 "$TRASH/tokens"
cat >"$TRASH/models.ini" <<INI
[defaults]
models-root = $M
state-dir = $TRASH/state
token-file = $TRASH/tokens
[proxy]
listen = 127.0.0.1:$PX
[engine "llamacpp"]
command = ${LLAMA_SERVER:-llama-server} -m {path} --alias {name} --host {host} --port {port} -c {context} {args}
ready-timeout = 60
stop-timeout = 5
[engine "llamacpp-noalias"]
command = ${LLAMA_SERVER:-llama-server} -m {path} --host {host} --port {port} -c {context}
ready-timeout = 60
stop-timeout = 5
[model "tiny-a"]
path = tiny/a
engine = llamacpp
port = $P1
group = tiny
context = 1024
[model "tiny-b"]
path = tiny/b
engine = llamacpp
port = $P2
group = tiny
[model "noalias"]
path = tiny/a
engine = llamacpp-noalias
port = $P3
context = 512
INI
export SPARKCTL_CONFIG="$TRASH/models.ini"
test_cleanup "SPARKCTL_CONFIG=$TRASH/models.ini $SPARKCTL stop --all; pkill -f '$TRASH/models'"
listening() { python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$1" 2>/dev/null; }

test_expect "scan reads the GGUF as one ok model each" '
	run 0 sparkctl scan --json && json "sorted(m[\"path\"] for m in j[\"models\"]) == [\"tiny/a\", \"tiny/b\"]" &&
	json "all(m[\"format\"] == \"gguf\" and m[\"status\"] == \"ok\" for m in j[\"models\"])"' LLAMA
test_expect "inspect: the llama.cpp plan puts the context into {context}, no flag" '
	run 0 sparkctl inspect --json tiny-a && json "j[\"engines\"][\"llamacpp\"][\"context\"] == 1024" &&
	json "j[\"engine_args\"][\"llamacpp\"] == \"\"" &&
	run 0 sparkctl serve --dry-run tiny-a && has out "-m .*/tiny/a/tiny-llama\.gguf" && has out "-c 1024"' LLAMA
test_expect "serve starts the real server on the .gguf file, healthy, listed under its name" '
	run 0 sparkctl serve tiny-a && has out "tiny-a: healthy on 127.0.0.1:$P1" &&
	run 0 sparkctl ps --json && json "[r[\"name\"] for r in j[\"models\"]] == [\"tiny-a\"] and j[\"models\"][0][\"health\"] == \"ok\""' LLAMA
test_expect "test: the three checks pass against the real engine; the context is its meta.n_ctx" '
	run 0 sparkctl test --json tiny-a && json "j[\"ok\"] and j[\"max_model_len\"] == 1024" &&
	json "all(c[\"ok\"] for c in j[\"checks\"])"' LLAMA
test_expect "switch to the other copy stops the first (one group), then serves it" '
	run 0 sparkctl switch tiny-b && ! listening $P1 && listening $P2 &&
	run 0 sparkctl ps --json && json "[r[\"name\"] for r in j[\"models\"]] == [\"tiny-b\"]" &&
	run 0 sparkctl test tiny-b' LLAMA
test_expect "stop: the server is gone, the port free, no state left" '
	run 0 sparkctl stop tiny-b && ! listening $P2 && run 0 sparkctl ps --json && json "j[\"models\"] == []"' LLAMA
test_expect "a server without --alias serves the file path: the served id differs, and how to set it" '
	run 1 sparkctl serve noalias && has err "the engine serves the model as \".*tiny-llama\.gguf\", not as noalias" &&
	has err "llama-server --alias \{name\}" && hasnt err "another model" && ! listening $P3' LLAMA
test_expect "proxy: routes to the real engine by model, starts it on demand, swaps the group, streams its SSE" '
	{ "$SPARKCTL" proxy >"$TRASH/proxy.log" 2>&1 & echo $! >"$TRASH/px.pid"; } &&
	test_when_finished "kill \$(cat $TRASH/px.pid)" &&
	px_up() { curl -sf http://127.0.0.1:'$PX'/health >/dev/null; } && wait_until 10 px_up &&
	code=$(curl -s -o "$TRASH/out" -w "%{http_code}" -H "Authorization: Bearer sk-llama-test" \
		http://127.0.0.1:'$PX'/v1/chat/completions -d "{\"model\":\"tiny-a\",\"max_tokens\":4,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}") &&
	[ "$code" = 200 ] && json "j[\"object\"] == \"chat.completion\" and j[\"choices\"][0][\"message\"][\"role\"] == \"assistant\"" &&
	curl -sN -o "$TRASH/sse" -H "Authorization: Bearer sk-llama-test" http://127.0.0.1:'$PX'/v1/chat/completions \
		-d "{\"model\":\"tiny-b\",\"stream\":true,\"max_tokens\":4,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}" &&
	grep -q "^data: {" "$TRASH/sse" && grep -q "^data: \[DONE\]" "$TRASH/sse" &&
	[ ! -e "$TRASH/state/run/tiny-a.json" ] &&
	swapped() { grep -q "tiny-b: ready in .*; stopped tiny-a" "$TRASH/proxy.log"; } && wait_until 5 swapped' LLAMA

test_done
