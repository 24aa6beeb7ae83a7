#!/bin/sh
# The stand-ins refuse as SGLang and vLLM do (a context above what they
# derive from config.json, vLLM's start condition, SGLang's KV pool from
# MemAvailable), so these tests catch sparkctl disagreeing with an engine
# instead of confirming its own view. The box is a Spark by its meminfo.
. "$(dirname "$0")/test-lib.sh"
M="$TRASH/models"
gen_fixtures "$M"
export PATH="$TESTS/standin/bin:$PATH"
printf 'MemTotal:       127535264 kB\nMemAvailable:   115343360 kB\n' >"$TRASH/spark"
printf 'MemTotal:       127535264 kB\nMemAvailable:   52428800 kB\n' >"$TRASH/busy"
printf 'MemTotal:       127535264 kB\nMemAvailable:   29360128 kB\n' >"$TRASH/tight"
export SPARKCTL_MEMINFO="$TRASH/spark"
P1=$(free_port) P2=$(free_port) P3=$(free_port)
{
	registry_head
	printf '[engine "vllm"]\ncommand = vllm serve {path} --served-model-name {name} --host {host} --port {port} {args}\n'
	printf 'stop-timeout = 1\nready-timeout = 30\n'
	printf '[model "too-long"]\npath = phi4/phi4-reasoning\nengine = sglang\nport = %s\nargs = --context-length 200000\n' $P1
	printf '[model "pool"]\npath = qwen3/qwen3-32b-nvfp4\nengine = sglang\nport = %s\n' $P2
	printf '[model "v"]\npath = phi4/phi4-reasoning\nengine = vllm\nport = %s\n' $P3
} >"$TRASH/models.ini"
export SPARKCTL_CONFIG="$TRASH/models.ini"
test_cleanup "SPARKCTL_CONFIG=$TRASH/models.ini $SPARKCTL stop --all; pkill -f '$TRASH'"

test_expect "a context past the engine's maximum: inspect says the engine will refuse, and it does" '
	run 0 sparkctl inspect too-long &&
	has out "note: sglang will refuse to start: args ask for 200000 tokens, it accepts at most 131072" &&
	run 1 sparkctl serve --force too-long &&
	has err "User-specified context_length \(200000\) is greater than the derived context_length \(131072\)"'
test_expect "SGLang sizes its pool from fraction x MemAvailable: the context sparkctl passes fits in it" '
	export SPARKCTL_MEMINFO="$TRASH/tight" && run 0 sparkctl serve pool && run 0 sparkctl inspect --json pool &&
	json "\"--context-length\" in j[\"engine_args\"][\"sglang\"]" &&
	ctx=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[\"engines\"][\"sglang\"][\"context\"])" "$TRASH/out") &&
	curl -sf "http://127.0.0.1:$P2/get_server_info" >"$TRASH/out" &&
	json "j[\"mem_fraction_static\"] == 0.85 and j[\"max_total_num_tokens\"] >= $ctx" &&
	run 0 sparkctl stop pool'
test_expect "vLLM will not start with less than utilization x total free: sparkctl says so first; forced, vLLM does" '
	SPARKCTL_MEMINFO="$TRASH/busy" run 1 sparkctl serve v &&
	has err "v: vLLM starts only with .* free .* and 50 GiB is \(MemAvailable\)" &&
	SPARKCTL_MEMINFO="$TRASH/busy" run 1 sparkctl serve --force v &&
	has err "Free memory on device \(50.00/121.63 GiB\) on startup is less than desired GPU memory utilization \(0.85" &&
	run 0 sparkctl serve v && run 0 sparkctl stop v'
test_done
