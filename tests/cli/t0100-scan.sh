#!/bin/sh
# sparkctl scan over the generated fixture tree: every class of model, every
# broken case, every output format, the exit codes, cron's environment.
. "$(dirname "$0")/test-lib.sh"

M="$TRASH/models"
gen_fixtures "$M"
cat >"$XDG_CONFIG_HOME/models.ini" <<INI
[defaults]
models-root = $M
[engine "sglang"]
command = python3 -m sglang.launch_server --model-path {path} --port {port}
unsupported = compressed-tensors
[engine "vllm"]
command = vllm serve {path} --port {port}
[model "qwen3-32b-nvfp4"]
path = qwen3/qwen3-32b-nvfp4
engine = sglang
port = 30001
[model "abs-llama"]
path = $M/meta/llama-3.1-8b-bf16
engine = vllm
INI
export SPARKCTL_CONFIG="$XDG_CONFIG_HOME/models.ini"

sparkctl scan --json >"$TRASH/scan.json" 2>"$TRASH/scan.err"
scan_rc=$?
python3 "$TESTS/cli/check-scan.py" "$M/expected.json" "$TRASH/scan.json" >"$TRASH/check" 2>&1 ||
	echo "FAIL checker: $(cat "$TRASH/check")" >>"$TRASH/check"
while read -r verdict path rest; do
	test_expect "scan reports $path right${rest:+ ($rest)}" "[ '$verdict' = PASS ]"
done <"$TRASH/check"

test_expect "scan exits 1 when a model is not ok" '[ $scan_rc = 1 ]'
test_expect "--no-fail keeps exit 0" 'run 0 sparkctl scan --no-fail --json'
test_expect "the JSON has root (absolute) and an RFC 3339 UTC scanned_at" '
	cp "$TRASH/scan.json" "$TRASH/out" &&
	json "j[\"root\"] == \"$M\" and __import__(\"re\").fullmatch(r\"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\", j[\"scanned_at\"])"'
test_expect "models are sorted by path" '
	cp "$TRASH/scan.json" "$TRASH/out" && json "[m[\"path\"] for m in j[\"models\"]] == sorted(m[\"path\"] for m in j[\"models\"])"'
test_expect "a [model] of models.ini gives the served name (relative and absolute paths)" '
	cp "$TRASH/scan.json" "$TRASH/out" &&
	json "{m[\"path\"]: m[\"name\"] for m in j[\"models\"]}[\"qwen3/qwen3-32b-nvfp4\"] == \"qwen3-32b-nvfp4\"" &&
	json "{m[\"path\"]: m[\"name\"] for m in j[\"models\"]}[\"meta/llama-3.1-8b-bf16\"] == \"abs-llama\""'
test_expect "engines: compressed-tensors is incompatible with sglang, with the reason" '
	cp "$TRASH/scan.json" "$TRASH/out" &&
	json "[m for m in j[\"models\"] if m[\"path\"] == \"deepseek/deepseek-r1-70b-fp8-abliterated\"][0][\"engines\"][\"sglang\"][\"compatible\"] is False" &&
	json "\"compressed-tensors\" in [m for m in j[\"models\"] if m[\"path\"] == \"deepseek/deepseek-r1-70b-fp8-abliterated\"][0][\"engines\"][\"sglang\"][\"reason\"]" &&
	json "[m for m in j[\"models\"] if m[\"path\"] == \"deepseek/deepseek-r1-70b-fp8-abliterated\"][0][\"engines\"][\"vllm\"] == {\"compatible\": True, \"reason\": None}"'
test_expect "disk_bytes counts blocks (sparse files cost little), apparent_bytes the sizes" '
	cp "$TRASH/scan.json" "$TRASH/out" &&
	json "[m for m in j[\"models\"] if m[\"path\"] == \"meta/llama-3.1-8b-bf16\"][0][\"apparent_bytes\"] > 16000000000" &&
	json "[m for m in j[\"models\"] if m[\"path\"] == \"meta/llama-3.1-8b-bf16\"][0][\"disk_bytes\"] < 10000000"'
test_expect "hidden folders and folders without model files are not models" '
	! grep -q "\.trash\|\"notes" "$TRASH/scan.json"'

test_expect "the table names every model, status and served name" '
	run 1 sparkctl scan && has out "^NAME +MODEL +FORMAT +QUANT +SIZE +STATUS +NOTES$" &&
	has out "^qwen3-32b-nvfp4 +qwen3/qwen3-32b-nvfp4 +nvfp4 +modelopt .* ok " &&
	has out "^- +embeddings/bge-multilingual-gemma2 .* stub " && [ $(wc -l <"$TRASH/out") = 45 ] &&
	has out "^43 models, [0-9.]+ [KMGT]iB; [0-9]+ not ok$"'
test_expect "no colour when stdout is not a terminal" 'run 1 sparkctl scan && hasnt out "$(printf "\033")"'
if command -v script >/dev/null; then
	test_expect "colour on a terminal, none with NO_COLOR" '
		{ script -qec "$SPARKCTL scan" /dev/null >"$TRASH/out" 2>&1 || true; } && has out "$(printf "\033")\[3" &&
		{ NO_COLOR=1 script -qec "$SPARKCTL scan" /dev/null >"$TRASH/out" 2>&1 || true; } && hasnt out "$(printf "\033")\["'
fi
test_expect "markdown: title, last_update line, one table row per model" '
	run 1 sparkctl scan --format markdown && has out "^# Model inventory" &&
	has out "^last_update: [0-9]{4}-[0-9]{2}-[0-9]{2}$" &&
	has out "^\| Model folder \| Format \|" && [ $(grep -c "^| \`" "$TRASH/out") = 43 ] &&
	has out "^\| \`qwen3/qwen3-32b-nvfp4\` \| nvfp4 \| modelopt \| fp8 \|"'
test_expect "prometheus: info, disk bytes and timestamp metrics in textfile format" '
	run 1 sparkctl scan --format prometheus &&
	has out "^sparkctl_model_info\{path=\"qwen3/qwen3-32b-nvfp4\",format=\"nvfp4\",quant_method=\"modelopt\",status=\"ok\"\} 1$" &&
	has out "^sparkctl_model_disk_bytes\{path=\"broken/oversized\"\} [0-9]+$" &&
	has out "^sparkctl_scan_timestamp_seconds [0-9]+$" && has out "^# TYPE sparkctl_model_info gauge$" &&
	[ $(grep -c "^sparkctl_model_info" "$TRASH/out") = 43 ]'
test_expect "--json equals --format json" '
	run 1 sparkctl scan --format json && mv "$TRASH/out" "$TRASH/a.json" && run 1 sparkctl scan --json &&
	python3 -c "import json,sys; a, b = (json.load(open(p)) for p in sys.argv[1:]); a.pop(\"scanned_at\"); b.pop(\"scanned_at\"); assert a == b and a[\"models\"]" "$TRASH/a.json" "$TRASH/out"'
test_expect "a bad --format is a usage error" 'run 2 sparkctl scan --format xml && has err "table, markdown, json or prometheus"'
test_expect "an operand is a usage error" 'run 2 sparkctl scan extra && has err "unexpected argument"'

test_expect "--output writes the file atomically and prints nothing" '
	run 1 sparkctl scan --json --output "$TRASH/inv.json" && [ ! -s "$TRASH/out" ] &&
	python3 -c "import json,sys; json.load(open(sys.argv[1]))" "$TRASH/inv.json" &&
	[ -z "$(ls "$TRASH" | grep tmp)" ]'
test_expect "--output into a missing folder fails, naming it, and leaves nothing" '
	run 1 sparkctl scan --output "$TRASH/nope/inv.md" && has err "nope/inv.md" && [ ! -e "$TRASH/nope" ]'
test_expect "--output that cannot be written keeps the old file" '
	echo old >"$TRASH/keep.md" && mkdir "$TRASH/ro" && echo old >"$TRASH/ro/inv.md" &&
	test_when_finished "chattr -i $TRASH/ro; umount $TRASH/ro" &&
	{ chattr +i "$TRASH/ro" 2>/dev/null || { mount -t tmpfs -o size=4k tmpfs "$TRASH/ro" && echo old >"$TRASH/ro/inv.md"; }; } &&
	run 1 sparkctl scan --format markdown --output "$TRASH/ro/inv.md" && [ "$(cat "$TRASH/ro/inv.md")" = old ]'

test_expect "cron: a bare environment works, prints no progress, stderr stays empty" '
	env -i HOME="$HOME" PATH=/usr/bin:/bin SPARKCTL_CONFIG="$SPARKCTL_CONFIG" "$SPARKCTL" scan --format prometheus --no-fail \
		>"$TRASH/out" 2>"$TRASH/err" && [ ! -s "$TRASH/err" ] && has out "^sparkctl_scan_timestamp_seconds"'
test_expect "the root comes from models.ini without --root" '
	run 1 sparkctl scan --json && json "j[\"root\"] == \"$M\""'
test_expect "--root wins over models.ini" '
	mkdir -p "$TRASH/empty" && run 0 sparkctl scan --root "$TRASH/empty" --json && json "j[\"models\"] == []"'
test_expect "a missing root fails with exit 1, naming it" '
	run 1 sparkctl scan --root "$TRASH/missing" && has err "^sparkctl: scan: .*missing: No such file"'
test_expect "symlink loops and dangling links are reported, not fatal" '
	mkdir -p "$TRASH/loop/a" && ln -s .. "$TRASH/loop/a/up" && ln -s nowhere "$TRASH/loop/dangling" &&
	cp -r "$M/phi4" "$TRASH/loop/a/" &&
	run 0 sparkctl scan --root "$TRASH/loop" --json && has err "warning: .*(symlink loop|seen twice)" &&
	has err "dangling" && json "[m[\"path\"] for m in j[\"models\"]] == [\"a/phi4/phi4-reasoning\"]"'
test_expect "a symlinked model folder is scanned through the link" '
	mkdir -p "$TRASH/linked" && ln -s "$M/phi4/phi4-reasoning" "$TRASH/linked/phi" &&
	run 0 sparkctl scan --root "$TRASH/linked" --json && json "j[\"models\"][0][\"format\"] == \"fp16\""'
test_done
