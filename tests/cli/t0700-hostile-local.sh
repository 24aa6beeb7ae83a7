#!/bin/sh
# What a local user, a crafted checkpoint or bad luck can do: FIFOs where
# files belong, bytes that are not UTF-8, names that draw on the terminal,
# tokens that would inject headers, logs of any size, scripts that must not
# run what a value says, sizes that would wrap, links where output goes, a
# models root that reaches /proc, a reader that goes away.
. "$(dirname "$0")/test-lib.sh"
M="$TRASH/models"
mkdir -p "$M"
python3 - "$M" "$TESTS" <<'PY' || echo "Bail out! cannot build the tree"
import os, sys
sys.path.insert(0, sys.argv[2])
from ckpt import *
m = sys.argv[1]
def model(d, cfg=True):
    os.makedirs(d, exist_ok=True)
    if cfg:
        write_json(d + "/config.json", llama_config(64, 128, 2, 4, 2, 256))
    write_safetensors(d + "/model.safetensors", scheme_tensors(llama_layers(64, 128, 2, 4, 2, 256), "bf16"))
model(m + "/org/good")
os.makedirs(m + "/org/many")
write_safetensors(m + "/org/many/model.safetensors", scheme_tensors(llama_layers(16, 16, 400, 2, 1, 16), "bf16"))
model(m + "/org/fifo-config", cfg=False); os.mkfifo(m + "/org/fifo-config/config.json")
model(m + "/org/fifo-quant"); os.mkfifo(m + "/org/fifo-quant/hf_quant_config.json")
model(m + "/org/fifo-index"); os.mkfifo(m + "/org/fifo-index/model.safetensors.index.json")
model(m + "/org/bad" + os.fsdecode(b"\xff") + "name")
model(m + "/org/esc\x1b[2J\x1b[31mred")
os.makedirs(m + "/gguf/arch")
kv = llama_gguf_kv(256, 512, 1, 4, 2)
kv["general.architecture"] = b"llama\xff\xfe"
write_gguf(m + "/gguf/arch/m.gguf", kv, llama_gguf_tensors(256, 512, 1, 4, 2, 256))
PY
P1=$(free_port) P2=$(free_port) P3=$(free_port) P4=$(free_port)
{ registry_head && cat <<INI
[engine "echo"]
command = echo {args}
[model "good"]
path = org/good
engine = sglang
port = $P1
[model "fifo"]
path = org/fifo-quant
engine = sglang
port = $P2
[model "sse-error"]
path = org/good
engine = sglang
port = $P4
env = STANDIN_STREAM=error
[model "endless"]
path = org/good
engine = sglang
port = $P3
env = STANDIN_STREAM=endless
[model "inject"]
path = org/good
engine = echo
port = 1
args = "a\\ntouch $TRASH/pwned\\n" \$(touch $TRASH/pwned2)
env = X="\\ntouch $TRASH/pwned3"
INI
} >"$TRASH/models.ini"
export SPARKCTL_CONFIG="$TRASH/models.ini"
test_cleanup "SPARKCTL_CONFIG=$TRASH/models.ini $SPARKCTL stop --all; pkill -f '$TRASH/models'"

test_expect "FIFOs named config.json, hf_quant_config.json or the shard index are problems of that file, not a hang" '
	run 1 timeout 20 "$SPARKCTL" scan --json && json "len(j[\"models\"]) == 8" &&
	for p in fifo-config:config.json fifo-quant:hf_quant_config.json fifo-index:model.safetensors.index.json; do
		json "any(\"not a regular file\" in q[\"message\"] and \"${p#*:}\" in (q[\"file\"] or \"\") + q[\"message\"] for m in j[\"models\"] if m[\"path\"] == \"org/${p%:*}\" for q in m[\"problems\"])" || return 1
	done'
test_expect "a shard index past 256 MiB is a problem of that file, named, and never read" '
	mkdir -p "$TRASH/huge/org" && cp -r "$M/org/good" "$TRASH/huge/org/idx" &&
	truncate -s 257M "$TRASH/huge/org/idx/model.safetensors.index.json" &&
	run 1 timeout 20 "$SPARKCTL" scan --json --root "$TRASH/huge" &&
	json "[q[\"message\"] for q in j[\"models\"][0][\"problems\"] if q[\"file\"] == \"model.safetensors.index.json\"] == [\"cannot read: larger than 256 MiB\"]"'
test_expect "inspect and serve of a model with a FIFO end at once with the file named" '
	run 1 timeout 20 "$SPARKCTL" inspect fifo && has err "hf_quant_config.json: not a regular file" &&
	run 1 timeout 20 "$SPARKCTL" serve fifo && has err "hf_quant_config.json: not a regular file"'
test_expect "a FIFO as --token-file is refused at once" '
	mkfifo "$TRASH/tokfifo" && run 1 timeout 10 "$SPARKCTL" test --token-file "$TRASH/tokfifo" --url http://127.0.0.1:1 &&
	has err "tokfifo: not a regular file"'
test_expect "a folder name with byte 0xff and a GGUF architecture that is not UTF-8 still give JSON, with U+FFFD" '
	run 1 timeout 60 "$SPARKCTL" scan --json && json "any(m[\"path\"] == \"org/bad\ufffdname\" for m in j[\"models\"])" &&
	json "[m[\"architecture\"] for m in j[\"models\"] if m[\"path\"] == \"gguf/arch\"] == [\"llama\ufffd\ufffd\"]" &&
	run 1 timeout 60 "$SPARKCTL" scan --format markdown && has out "org/bad.name" &&
	run 1 timeout 60 "$SPARKCTL" scan --format prometheus && python3 -c "open(\"$TRASH/out\", encoding=\"utf-8\").read()"'
test_expect "escape sequences in folder names never reach the terminal raw" '
	run 1 timeout 60 "$SPARKCTL" scan && ! grep -q "$(printf "\033")" "$TRASH/out" && has out "org/esc\\\\e\[2J\\\\e\[31mred" &&
	run 1 timeout 60 "$SPARKCTL" scan --format markdown && ! grep -q "$(printf "\033")" "$TRASH/out" &&
	run 0 timeout 60 "$SPARKCTL" inspect --tensors "$M/org/esc$(printf "\033")[2J$(printf "\033")[31mred" &&
	! grep -q "$(printf "\033")" "$TRASH/out" "$TRASH/err" && run 0 timeout 60 "$SPARKCTL" inspect "$M/org/esc$(printf "\033")[2J$(printf "\033")[31mred" &&
	! grep -q "$(printf "\033")" "$TRASH/out" && has out "esc\\\\e\[2J"'
test_expect "a token with a CR inside is refused, naming the file and line and never the token" '
	printf "abc-secret\rX-Injected: 1\n" >"$TRASH/crlf" && chmod 600 "$TRASH/crlf" &&
	run 1 "$SPARKCTL" test --token-file "$TRASH/crlf" --url http://127.0.0.1:1 &&
	has err "crlf:1: not a token" && hasnt err "abc-secret|Injected"'
test_expect "an empty --token-file is an error, not a silent no-token" '
	: >"$TRASH/empty" && chmod 600 "$TRASH/empty" && run 1 "$SPARKCTL" test --token-file "$TRASH/empty" --url http://127.0.0.1:1 &&
	has err "--token-file .*empty holds no token"'
test_expect "engines started by sparkctl do not inherit SPARKCTL_TOKEN, HF_TOKEN or HUGGING_FACE_HUB_TOKEN" '
	SPARKCTL_TOKEN=t1 HF_TOKEN=t2 HUGGING_FACE_HUB_TOKEN=t3 "$SPARKCTL" serve good >/dev/null &&
	pid=$(python3 -c "import json; print(json.load(open(\"$TRASH/state/run/good.json\"))[\"pid\"])") &&
	! tr "\0" "\n" </proc/$pid/environ | grep -E "^(SPARKCTL_TOKEN|HF_TOKEN|HUGGING_FACE_HUB_TOKEN)=" &&
	tr "\0" "\n" </proc/$pid/environ | grep -q "^PYTHONPATH=" && run 0 sparkctl stop good'
test_expect "an SSE error event mid-stream gives the message of the engine, with no figures" '
	run 0 sparkctl serve sse-error && run 1 sparkctl test --json sse-error &&
	json "j[\"checks\"][2][\"error\"] == \"the engine reported an error mid-stream: context shift is disabled\"" &&
	json "j[\"ttft_ms\"] is None and j[\"tokens_per_s\"] is None" && run 0 sparkctl stop sse-error'
test_expect "a stream without end is cut by --max-tokens and a byte cap, in little memory" '
	run 0 sparkctl serve endless && run 1 python3 "$TESTS/standin/maxrss.py" "$TRASH/rss" "$SPARKCTL" test --max-tokens 50 endless &&
	has out "the stream did not end: cut after" && [ $(cat "$TRASH/rss") -lt 100000 ] && run 0 sparkctl stop endless'
test_expect "a log past 64 MiB still shows its tail" '
	mkdir -p "$TRASH/state/logs" && truncate -s 70M "$TRASH/state/logs/good.log" &&
	printf "\nsecond to last\nthe last line\n" >>"$TRASH/state/logs/good.log" &&
	run 0 sparkctl logs -n 2 good && [ "$(cat "$TRASH/out")" = "second to last
the last line" ]'
test_expect "serve --dry-run: no value of models.ini runs as a command, and each option is on a line of its own" '
	run 0 sparkctl serve --dry-run inject && sh "$TRASH/out" >"$TRASH/ran" 2>&1 &&
	[ ! -e "$TRASH/pwned" ] && [ ! -e "$TRASH/pwned2" ] && [ ! -e "$TRASH/pwned3" ] &&
	run 0 sparkctl serve --dry-run good && has out "^    --port '$P1' \\\\$|^    --port '$P1'$"'
test_expect "a host with a newline is refused where models.ini is read" '
	printf "[defaults]\nhost = \"127.0.0.1\\\\ntouch x\"\n" >"$TRASH/host.ini" &&
	run 1 sparkctl --config "$TRASH/host.ini" serve --dry-run good && has err "host.ini:2: host: not a host name or address"'
test_expect "inspect --context past 2^30 is a usage error, not a wrapped 0 bytes that fits" '
	run 2 sparkctl inspect --context 70368744177664 good && has err "--context: .* is not a number from 1 to 1073741824" &&
	printf "[model \"x\"]\npath = p\ncontext = 70368744177664\n" >"$TRASH/ctx.ini" &&
	run 1 sparkctl --config "$TRASH/ctx.ini" list && has err "ctx.ini:3: context: not a number of tokens"'
test_expect "--output through a symlink writes the target of the link and keeps its mode" '
	mkdir -p "$TRASH/o" && : >"$TRASH/o/real.md" && chmod 600 "$TRASH/o/real.md" && ln -s real.md "$TRASH/o/link.md" &&
	run 1 sparkctl scan --format markdown --output "$TRASH/o/link.md" && [ -L "$TRASH/o/link.md" ] &&
	grep -q "Model inventory" "$TRASH/o/real.md" && [ "$(stat -c %a "$TRASH/o/real.md")" = 600 ]'
test_expect "--output naming a FIFO, a folder or a link to a FIFO: refused, left as it was" '
	mkdir -p "$TRASH/o" && mkfifo "$TRASH/o/fifo" && ln -sf fifo "$TRASH/o/tofifo" &&
	run 1 sparkctl scan --no-fail --format json --output "$TRASH/o/fifo" &&
	has err "o/fifo: not a regular file \(a device, FIFO or socket\): give the path of a file" && [ -p "$TRASH/o/fifo" ] &&
	run 1 sparkctl scan --no-fail --output "$TRASH/o/tofifo" && [ -p "$TRASH/o/fifo" ] && [ -L "$TRASH/o/tofifo" ] &&
	run 1 sparkctl scan --no-fail --output "$TRASH/o" && has err "o: a folder" &&
	[ -z "$(ls "$TRASH/o" | grep tmp)" ]'
test_expect "--output naming a device (a copy of /dev/null) leaves the device a device" '
	mknod "$TRASH/o/null" c 1 3 && run 1 sparkctl scan --no-fail --output "$TRASH/o/null" && [ -c "$TRASH/o/null" ]' ROOT
test_expect "a new --output file gets 0666 less the umask" '
	mkdir -p "$TRASH/o" && (umask 077 && "$SPARKCTL" scan --format json --output "$TRASH/o/new.json" --no-fail) && [ "$(stat -c %a "$TRASH/o/new.json")" = 600 ] &&
	(umask 022 && "$SPARKCTL" scan --format json --output "$TRASH/o/new2.json" --no-fail) && [ "$(stat -c %a "$TRASH/o/new2.json")" = 644 ]'
test_expect "a models root with a link to /proc and /sys never walks them" '
	mkdir -p "$TRASH/root" && ln -s /proc "$TRASH/root/p" && ln -s /sys "$TRASH/root/s" &&
	run 0 timeout 20 "$SPARKCTL" scan --root "$TRASH/root" --json && json "j[\"models\"] == []" &&
	has err "root/p: a kernel file system .*not walked" && has err "root/s: a kernel file system"'
test_expect "a reader that goes away (| head -1) is a quiet exit 141, as git" '
	{ "$SPARKCTL" inspect --tensors "$M/org/many" 2>"$TRASH/err" | head -1 >/dev/null; } && [ -z "$(cat "$TRASH/err")" ] &&
	bash -c "\"$SPARKCTL\" inspect --tensors \"$M/org/many\" | head -1 >/dev/null; echo \${PIPESTATUS[0]}" >"$TRASH/st" &&
	[ "$(cat "$TRASH/st")" = 141 ]'
test_done
