#!/bin/sh
# What a newcomer meets: errors that say what to do, and a table that says
# why scan exits 1.
. "$(dirname "$0")/test-lib.sh"
M="$TRASH/models"
gen_fixtures "$M"
P1=$(free_port)
{ registry_head && cat <<INI
[engine "missing"]
command = sparkctl-no-such-engine {path}
[model "huge"]
path = qwen3/qwen3-32b-nvfp4
engine = sglang
port = $P1
memory = 1024GiB
[model "absent-engine"]
path = phi4/phi4-reasoning
engine = missing
port = $P1
group = g
INI
} >"$TRASH/models.ini"
export SPARKCTL_CONFIG="$TRASH/models.ini"
test_cleanup "SPARKCTL_CONFIG=$TRASH/models.ini $SPARKCTL stop --all"

test_expect "memory = 128 (no unit) is refused with file:line instead of meaning 128 bytes" '
	printf "[defaults]\nmemory = 128\n" >"$TRASH/m.ini" && run 1 sparkctl --config "$TRASH/m.ini" list &&
	has err "m.ini:2: memory: not a size with a unit \(e.g. 120GiB; a bare number would be bytes\)" &&
	printf "[defaults]\nmemory = 120GiB\n" >"$TRASH/m.ini" && run 0 sparkctl --config "$TRASH/m.ini" list'
test_expect "--config after the command says where it goes" '
	run 2 sparkctl scan --config "$TRASH/models.ini" && has err "scan: --config goes before the command: sparkctl --config FILE scan"'
test_expect "a memory refusal while sparkctl runs nothing does not say to stop another model" '
	run 1 sparkctl serve huge && has err "sglang will have .*; sparkctl runs no model: other programs hold the memory" &&
	hasnt err "stop another model"'
test_expect "a missing engine program is found before the start, not as status 127" '
	run 1 sparkctl serve absent-engine && has err "absent-engine: the engine command \"sparkctl-no-such-engine\" is not on PATH" &&
	[ ! -e "$TRASH/state/run/absent-engine.json" ] && hasnt err "status 127"'
test_expect "scan ends with a totals line; on a terminal it says why the exit status is 1" '
	run 1 sparkctl scan && has out "^43 models, [0-9.]+ [KMGT]iB; [0-9]+ not ok$" &&
	{ script -qec "\"$SPARKCTL\" scan" /dev/null >"$TRASH/out" 2>&1 || true; } &&
	has out "43 models, .*; [0-9]+ not ok: exit 1 \(--no-fail to ignore\)" &&
	{ script -qec "\"$SPARKCTL\" scan --no-fail" /dev/null >"$TRASH/out" 2>&1 || true; } && hasnt out "exit 1"' SCRIPT
test_expect "stop of an unknown name is an error with did-you-mean, not \"was not running\"" '
	run 1 sparkctl stop hug && has err "hug: no such \[model\] .*did you mean: huge\?" && hasnt out "was not running"'
test_expect "first run without models.ini: scan, list and serve say where sparkctl looked and what to do" '
	unset SPARKCTL_CONFIG && run 1 sparkctl scan &&
	has err "scan: .*/ai/models does not exist and no models.ini was found \(looked in .*/.config/sparkctl/models.ini and /etc/sparkctl/models.ini\): give --root DIR" &&
	run 1 sparkctl list && has err "list: no models.ini was found \(looked in .*\): copy the example to ~/.config/sparkctl/models.ini" &&
	run 1 sparkctl serve qwen && has err "serve: qwen: no models.ini was found \(looked in .*\): see .man 5 models.ini." &&
	run 0 sparkctl list --names && [ ! -s "$TRASH/out" ]'
test_expect "a misspelt key is named where the registry says a model has no engine" '
	printf "[engine \"sglang\"]\ncommand = x\n[model \"m\"]\npath = p\nengnie = sglang\n" >"$TRASH/e.ini" &&
	run 1 sparkctl --config "$TRASH/e.ini" list &&
	has err "e.ini:3: \[model \"m\"\] has no engine; .*e.ini:5: unknown key \"engnie\": is it a misspelt key\?"'
test_expect "a failed URL download names the URL, not an internal path, and leaves no empty partial" '
	run 1 sparkctl download --to "$TRASH/u" http://127.0.0.1:1/model.tar.gz &&
	has err "download: http://127.0.0.1:1/model.tar.gz: " && hasnt err "\.sparkctl" &&
	[ -z "$(find "$TRASH/u" -path "*/.sparkctl/*" 2>/dev/null)" ]'
test_expect "a Hub failure says that HF_ENDPOINT is set" '
	HF_ENDPOINT=http://127.0.0.1:1 run 1 sparkctl download --to "$TRASH/h" org/name &&
	has err "\(HF_ENDPOINT is set: http://127.0.0.1:1\)$"'
test_expect "through the proxy with the engine down: the proxy answered, the engine behind it did not" '
	PP=$(free_port) && printf "t0k\n" >"$TRASH/tok" && chmod 600 "$TRASH/tok" &&
	{ python3 "$TESTS/standin/proxy.py" --listen $PP --upstream 1 --token-file "$TRASH/tok" & pp=$!; } &&
	test_when_finished "kill $pp" && wait_until 10 python3 -c "import socket; socket.create_connection((\"127.0.0.1\", $PP), 1)" &&
	printf "[engine \"e\"]\ncommand = x\n[model \"down\"]\npath = p\nengine = e\nport = 1\nproxy-port = $PP\n" >"$TRASH/p.ini" &&
	run 1 sparkctl --config "$TRASH/p.ini" test --token-file "$TRASH/tok" --proxy down &&
	has out "HTTP 502: the proxy at http://127.0.0.1:$PP answered, the engine behind it did not"'
test_expect "an unknown option gets a did-you-mean in every command" '
	for c in $(sparkctl --list-cmds); do
		o=$(sparkctl $c --completion-helper | sed -n "1s/\t.*//p") &&
		typo="${o%?}x" &&
		run 2 sparkctl $c "$typo" && has err "unknown option .$typo." && has err "^	$o$" || return 1
	done'
test_expect "SIZE is what loads; a sparse checkpoint says once what it takes on disk" '
	run 1 sparkctl scan && has out "^huge +qwen3/qwen3-32b-nvfp4 .* 19 GiB .*sparse: [0-9.]+ [KM]iB on disk" &&
	run 0 sparkctl inspect "$M/qwen3/qwen3-32b-nvfp4" && has out "files +4 weight files, [0-9]+ tensors, 19 GiB \(sparse: .* on disk\)"'
test_done
