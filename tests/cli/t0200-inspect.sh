#!/bin/sh
# sparkctl inspect: parameters equal across the formats of one architecture,
# the KV cache formulas on real configs, the fit, the engine flags,
# --context, --tensors, and the errors.
. "$(dirname "$0")/test-lib.sh"

M="$TRASH/models"
gen_fixtures "$M"
# a Spark as the engines see it: MemTotal 121.63 GiB (what CUDA reports),
# and what is available at the moment
printf 'MemTotal:       127535264 kB\nMemAvailable:   115343360 kB\n' >"$TRASH/meminfo"
export SPARKCTL_MEMINFO="$TRASH/meminfo"
TOTAL=$((127535264 * 1024)) AVAIL=$((115343360 * 1024))
cat >"$TRASH/models.ini" <<INI
[defaults]
models-root = $M
mem-fraction = 0.85
[engine "sglang"]
command = python3 -m sglang.launch_server --model-path {path} --port {port}
unsupported = compressed-tensors
[engine "vllm"]
command = vllm serve {path} --port {port}
[model "llama-8b"]
path = meta/llama-3.1-8b-bf16
engine = vllm
[model "llama-8b-nvfp4"]
path = meta/llama-3.1-8b-nvfp4
engine = sglang
context = 8192
[model "small-box"]
path = meta/llama-3.1-8b-bf16
engine = vllm
memory = 20G
[model "capped"]
path = meta/llama-3.1-8b-nvfp4
engine = sglang
context = 1000000
[model "multi-q8"]
path = small/multi-quant-gguf
file = granite-micro-Q8_0.gguf
engine = vllm
[model "multi-q4"]
path = small/multi-quant-gguf/granite-micro-Q4_0.gguf
engine = vllm
[model "by-args"]
path = meta/llama-3.1-8b-bf16
engine = sglang
args = --context-length 4096 --mem-fraction-static 0.5
INI
export SPARKCTL_CONFIG="$TRASH/models.ini"
L8=8030261248
field() { python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$TRASH/out" "$1"; }

for m in meta/llama-3.1-8b-bf16 meta/llama-3.1-8b-nvfp4 meta/llama-3.1-8b-ct-nvfp4; do
	test_expect "Llama-3.1-8B as $(basename $m) has exactly $L8 parameters" '
		run 0 sparkctl inspect --json "$M/'$m'" && json "j[\"params\"] == '$L8'" && json "j[\"tensors\"] >= 291"'
done
test_expect "the bf16 Llama has its 291 real tensors and 131,072 KV bytes a token" '
	run 0 sparkctl inspect --json llama-8b && json "j[\"tensors\"] == 291" &&
	json "j[\"memory\"][\"kv_bytes_per_token\"] == 131072" && json "j[\"memory\"][\"kv_dtype\"] == \"bf16\"" &&
	json "j[\"config\"][\"num_layers\"] == 32 and j[\"config\"][\"num_kv_heads\"] == 8 and j[\"config\"][\"head_dim\"] == 128" &&
	json "j[\"config\"][\"tie_word_embeddings\"] is False and j[\"config\"][\"rope_scaling\"][\"rope_type\"] == \"llama3\"" &&
	json "j[\"dtypes\"] == {\"BF16\": {\"tensors\": 291, \"bytes\": 2 * '$L8', \"params\": '$L8'}}" &&
	json "j[\"memory\"][\"weights_bytes\"] == 2 * '$L8'"'
test_expect "ModelOpt NVFP4 with an FP8 KV cache: half the KV bytes, the flags that load it" '
	run 0 sparkctl inspect --json llama-8b-nvfp4 && json "j[\"memory\"][\"kv_bytes_per_token\"] == 65536" &&
	json "j[\"memory\"][\"context\"] == 8192" && json "j[\"memory\"][\"kv_bytes\"] == 65536 * 8192" &&
	json "j[\"engine_args\"][\"sglang\"] == \"--mem-fraction-static 0.85 --context-length 8192\"" &&
	json "j[\"engine_args\"][\"vllm\"] == \"--gpu-memory-utilization 0.85 --max-model-len 8192\"" &&
	json "j[\"dtypes\"][\"U8\"][\"params\"] == 2 * j[\"dtypes\"][\"U8\"][\"bytes\"] and j[\"dtypes\"][\"F8_E4M3\"][\"params\"] == 0"'
test_expect "compressed-tensors: no sglang flags, the reason instead" '
	run 0 sparkctl inspect --json "$M/meta/llama-3.1-8b-ct-nvfp4" && json "j[\"engine_args\"][\"sglang\"] is None" &&
	json "\"compressed-tensors\" in j[\"engine_reasons\"][\"sglang\"]" && json "j[\"engine_reasons\"][\"vllm\"] is None"'
test_expect "DeepSeek MLA: 70,272 KV bytes a token" '
	run 0 sparkctl inspect --json "$M/deepseek/deepseek-v3-block-fp8" && json "j[\"memory\"][\"kv_bytes_per_token\"] == 70272" &&
	json "j[\"config\"][\"num_experts\"] == 256 and j[\"config\"][\"experts_per_token\"] == 8"'
test_expect "gpt-oss: vLLM holds a window of the sliding layers, SGLang a pool at 0.8; MoE active params" '
	run 0 sparkctl inspect --json --engine vllm "$M/nvidia/gpt-oss-20b" && json "j[\"memory\"][\"kv_bytes_per_token\"] == 12 * 2 * 8 * 64 * 2" &&
	json "j[\"memory\"][\"kv_fixed_bytes\"] == 12 * 2 * 8 * 64 * 2 * 128" && json "j[\"config\"][\"sliding_window\"] == 128" &&
	run 0 sparkctl inspect --json "$M/nvidia/gpt-oss-20b" &&
	json "j[\"engines\"][\"sglang\"][\"kv_bytes_per_token\"] == 12 * 2048 + 12 * 2048 * 8 // 10" &&
	json "j[\"engines\"][\"vllm\"][\"kv_bytes_per_token\"] == 12 * 2048" &&
	json "0 < j[\"active_params\"] < j[\"params\"]" && json "j[\"format\"] == \"mxfp4\"" &&
	json "j[\"dtypes\"][\"U8\"][\"params\"] > 0"'
test_expect "GGUF Q4_K_M: the config from the metadata, ggml types" '
	run 0 sparkctl inspect --json "$M/small/llama-3.2-3b-gguf" && json "j[\"config\"][\"num_layers\"] == 4" &&
	json "j[\"config\"][\"num_attention_heads\"] == 24 and j[\"config\"][\"num_kv_heads\"] == 8" &&
	json "j[\"config\"][\"max_position_embeddings\"] == 131072" && json "set(j[\"dtypes\"]) == {\"F32\", \"Q4_K\", \"Q6_K\"}" &&
	json "j[\"gguf_type\"] == \"Q4_K_M\"" && json "j[\"memory\"][\"kv_bytes_per_token\"] == 2 * 4 * 8 * 128 * 2"'
test_expect "a single .gguf file can be inspected" '
	run 0 sparkctl inspect --json "$M/small/llama-3.2-3b-gguf/llama-3.2-3b-instruct-Q4_K_M.gguf" && json "j[\"format\"] == \"gguf\""'
test_expect "a single .safetensors file can be inspected" '
	run 0 sparkctl inspect --json "$M/phi4/phi4-reasoning/model.safetensors" && json "j[\"format\"] == \"fp16\""'
test_expect "--context sets the KV cache and the flags" '
	run 0 sparkctl inspect --json --context 4096 llama-8b && json "j[\"memory\"][\"context\"] == 4096" &&
	json "j[\"memory\"][\"kv_bytes\"] == 131072 * 4096" &&
	json "j[\"memory\"][\"total_bytes\"] == j[\"memory\"][\"weights_bytes\"] + j[\"memory\"][\"kv_bytes\"] + 2 * 2**30" &&
	json "\"--max-model-len 4096\" in j[\"engine_args\"][\"vllm\"]"'
test_expect "the budget caps the context: the longest that fits is what the engine gets, in one line" '
	run 0 sparkctl inspect --json small-box && json "j[\"memory\"][\"budget_bytes\"] == int(20 * 2**30 * 0.85)" &&
	json "j[\"memory\"][\"fits\"] is True and j[\"memory\"][\"context\"] == j[\"memory\"][\"max_context\"]" &&
	json "any(n.startswith(\"the budget caps the context at\") for n in j[\"engines\"][\"vllm\"][\"notes\"])" &&
	json "j[\"memory\"][\"max_context\"] == (j[\"memory\"][\"budget_bytes\"] - j[\"memory\"][\"weights_bytes\"] - 2 * 2**30) // 131072" &&
	json "\"--max-model-len %d\" % j[\"memory\"][\"max_context\"] in j[\"engine_args\"][\"vllm\"]" &&
	run 0 sparkctl inspect --json --context 131072 small-box && json "j[\"memory\"][\"fits\"] is False" &&
	json "\"--max-model-len 131072\" in j[\"engine_args\"][\"vllm\"]"'
test_expect "the human view has every section and says DOES NOT FIT" '
	run 0 sparkctl inspect --context 131072 small-box && for s in config dtypes "memory \(as vllm runs it\)" engines; do has out "^$s$" || return 1; done &&
	has out "DOES NOT FIT" && has out "params +8.03 B \(8030261248\)"'
test_expect "the budget each engine will have: SGLang of MemAvailable, vLLM of the total (no 128G of models.ini)" '
	run 0 sparkctl inspect --json llama-8b-nvfp4 &&
	json "j[\"engines\"][\"sglang\"][\"budget_bytes\"] == int('$AVAIL' * 0.85)" &&
	json "j[\"engines\"][\"vllm\"][\"budget_bytes\"] == int('$TOTAL' * 0.85)" &&
	json "j[\"engines\"][\"vllm\"][\"start_free_bytes\"] == int('$TOTAL' * 0.85)" &&
	run 0 sparkctl inspect llama-8b-nvfp4 && has out "0.85 x MemAvailable 110 GiB \(SGLang, at start\)" &&
	has out "0.85 x total 122 GiB \(vLLM; it starts only with that much free\)"'
test_expect "less MemAvailable: SGLang's budget shrinks, and vLLM will refuse to start" '
	printf "MemTotal:       127535264 kB\nMemAvailable:   52428800 kB\n" >"$TRASH/meminfo.low" &&
	SPARKCTL_MEMINFO="$TRASH/meminfo.low" run 0 sparkctl inspect --json llama-8b-nvfp4 &&
	json "j[\"engines\"][\"sglang\"][\"budget_bytes\"] == int(50 * 2**30 * 0.85)" &&
	json "j[\"engines\"][\"vllm\"][\"fits\"] is False" &&
	json "any(\"vLLM will refuse to start\" in n for n in j[\"engines\"][\"vllm\"][\"notes\"])"'
test_expect "a context past what the engine accepts is capped, in one line" '
	run 0 sparkctl inspect --json capped && json "j[\"engines\"][\"sglang\"][\"context\"] == 131072" &&
	json "\"--context-length 131072\" in j[\"engine_args\"][\"sglang\"]" &&
	json "j[\"engines\"][\"sglang\"][\"max_context_key\"] == \"max_position_embeddings\"" &&
	run 0 sparkctl inspect capped && has out "note: context in models.ini 1000000 is more than sglang accepts, 131072 \(max_position_embeddings\): capped"'
test_expect "args win: the estimate follows their context and fraction, and says so" '
	run 0 sparkctl inspect --json by-args && json "j[\"memory\"][\"context\"] == 4096" &&
	json "j[\"engines\"][\"sglang\"][\"fraction\"] == 0.5 and j[\"engine_args\"][\"sglang\"] == \"\"" &&
	json "j[\"memory\"][\"kv_bytes\"] == 131072 * 4096" &&
	run 0 sparkctl inspect by-args && has out "note: args set --context-length 4096: the estimate follows it"'
test_expect "inspect and serve --dry-run agree: the same flags, in order, before the model args" '
	run 0 sparkctl inspect --json llama-8b-nvfp4 && flags=$(field "j[\"engine_args\"][\"sglang\"]") &&
	run 0 sparkctl serve --dry-run llama-8b-nvfp4 && tr -d "\\\\\n" <"$TRASH/out" | tr -s " " | grep -F -- "$flags" &&
	run 0 sparkctl serve --dry-run by-args && has out "--context-length 4096" && hasnt out "--mem-fraction-static 0.85"'
test_expect "a multi-quant GGUF folder: each file a model; file or a path to the file chooses one, and it is {path}" '
	run 1 sparkctl scan --json &&
	json "{m[\"path\"]: m[\"name\"] for m in j[\"models\"] if \"multi-quant\" in m[\"path\"]} == {\"small/multi-quant-gguf/granite-micro-Q4_0.gguf\": \"multi-q4\", \"small/multi-quant-gguf/granite-micro-Q8_0.gguf\": \"multi-q8\"}" &&
	run 0 sparkctl inspect --json multi-q8 && json "j[\"gguf_type\"] == \"Q8_0\" and j[\"status\"] == \"ok\"" &&
	run 0 sparkctl inspect --json multi-q4 && json "j[\"gguf_type\"] == \"Q4_0\"" &&
	run 0 sparkctl serve --dry-run multi-q8 && has out "vllm serve .*/small/multi-quant-gguf/granite-micro-Q8_0\.gguf"'
test_expect "on every model of the demo tree inspect and serve --dry-run name the same flags" '
	rm -rf "$TRASH/demo" && mkdir -p "$TRASH/demo/build" && ln -s "$M" "$TRASH/demo/build/demo-models" &&
	mkdir -p "$TRASH/demo/tests/fixtures" && cp "$TESTS/fixtures/demo.ini" "$TRASH/demo/tests/fixtures/" &&
	for n in $(sparkctl --config "$TRASH/demo/tests/fixtures/demo.ini" list --names); do
		sparkctl --config "$TRASH/demo/tests/fixtures/demo.ini" inspect --json "$n" >"$TRASH/out" 2>/dev/null
		flags=$(field "(j[\"engine_args\"].get(j[\"memory\"][\"engine\"]) or \"\")") &&
		sparkctl --config "$TRASH/demo/tests/fixtures/demo.ini" serve --dry-run "$n" | tr -d "\\\\\n" | tr -s " " >"$TRASH/script" &&
		grep -qF -- "$flags" "$TRASH/script" || { echo "$n: $flags"; cat "$TRASH/script"; return 1; }
	done'
test_expect "--engine shows one engine; an unknown one is an error" '
	run 0 sparkctl inspect --json --engine vllm llama-8b && json "list(j[\"engine_args\"]) == [\"vllm\"]" &&
	run 1 sparkctl inspect --engine nope llama-8b && has err "no engine \"nope\""'
test_expect "--tensors lists all 291 tensors with name, dtype, shape, bytes, file" '
	run 0 sparkctl inspect --tensors llama-8b && [ $(wc -l <"$TRASH/out") = 292 ] &&
	has out "^model\.layers\.0\.mlp\.gate_proj\.weight	BF16	\[14336, 4096\]	117440512	model-0000[1-4]-of-00004\.safetensors$"'
test_expect "--tensors --json prints one object a line" '
	run 0 sparkctl inspect --tensors --json "$M/small/llama-3.2-3b-gguf" &&
	python3 -c "import json,sys; rows=[json.loads(l) for l in open(sys.argv[1])]; assert len(rows) == 39 and rows[0][\"dtype\"] == \"Q4_K\" and rows[0][\"shape\"] == [3072, 128256], rows[0]" "$TRASH/out"'
test_expect "a broken model: still shown, exit 1, the problem on stderr" '
	run 1 sparkctl inspect "$M/broken/truncated-shard" && has out "^problems$" && has out "truncated" &&
	has err "is incomplete"'
test_expect "an unknown name: exit 1, close registry names suggested" '
	run 1 sparkctl inspect llama-8 && has err "not a registered model nor a path; did you mean: llama-8b, llama-8b-nvfp4"'
test_expect "no model, two models, a bad --context: usage errors" '
	run 2 sparkctl inspect && run 2 sparkctl inspect a b && run 2 sparkctl inspect --context lots llama-8b &&
	has err "--context"'
test_done
