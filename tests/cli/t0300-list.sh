#!/bin/sh
# sparkctl list: the registry with on-disk state and format; --names;
# models.ini errors with file:line; the bundled models.ini is valid.
. "$(dirname "$0")/test-lib.sh"
ROOT=$(cd "$TESTS/.." && pwd)
M="$TRASH/models"
mkdir -p "$M/qwen3"
cp -r "$ROOT/tests/fixtures/real" "$M/samples"
python3 - "$M/qwen3/qwen3-32b-nvfp4" "$TESTS" <<'PY' || echo "Bail out! cannot build the fixture"
import os, sys
sys.path.insert(0, sys.argv[2])
from ckpt import *
d = sys.argv[1]; os.makedirs(d)
write_json(os.path.join(d, "config.json"), llama_config(256, 512, 2, 4, 2, 1024))
write_json(os.path.join(d, "hf_quant_config.json"), {"producer": {"name": "modelopt"}, "quantization": {"quant_algo": "NVFP4"}})
write_safetensors(os.path.join(d, "model.safetensors"), scheme_tensors(llama_layers(256, 512, 2, 4, 2, 1024), "modelopt-nvfp4"))
PY
cat >"$TRASH/models.ini" <<INI
[defaults]
models-root = $M
[engine "sglang"]
command = python3 -m sglang.launch_server --model-path {path} --port {port}
[model "qwen3-32b-nvfp4"]
path = qwen3/qwen3-32b-nvfp4
engine = sglang
port = 30001
proxy-port = 31001
group = big
[model "gone"]
path = nowhere/gone
engine = sglang
INI
export SPARKCTL_CONFIG="$TRASH/models.ini"

test_expect "list --names prints the names in file order" '
	run 0 sparkctl list --names && [ "$(cat "$TRASH/out")" = "$(printf "qwen3-32b-nvfp4\ngone")" ]'
test_expect "list --json: name, absolute path, on_disk, format, engine, ports, group" '
	run 0 sparkctl list --json &&
	json "j[\"models\"][0] == {\"name\": \"qwen3-32b-nvfp4\", \"path\": \"$M/qwen3/qwen3-32b-nvfp4\", \"on_disk\": True, \"format\": \"nvfp4\", \"engine\": \"sglang\", \"port\": 30001, \"proxy_port\": 31001, \"group\": \"big\"}" &&
	json "j[\"models\"][1][\"on_disk\"] is False and j[\"models\"][1][\"port\"] is None and j[\"models\"][1][\"group\"] is None"'
test_expect "the table says which folder is missing" '
	run 0 sparkctl list && has out "^NAME +ENGINE +FORMAT +ON DISK" && has out "^gone +sglang +- +NO "'
test_expect "a broken models.ini: exit 1 with file and line" '
	printf "[model \"x\"]\npath = p\nengine = sglang\nport = eighty\n" >"$TRASH/bad.ini" &&
	run 1 sparkctl --config "$TRASH/bad.ini" list && has err "bad.ini:4: port: not a port number"'
test_expect "an unknown engine is an error naming the line" '
	printf "[model \"x\"]\npath = p\nengine = llamacpp\n" >"$TRASH/bad.ini" &&
	run 1 sparkctl --config "$TRASH/bad.ini" list --names && has err "bad.ini:1: \[model \"x\"\]: unknown engine \"llamacpp\""'
test_expect "an unknown key is a warning, not an error" '
	printf "[engine \"e\"]\ncommand = c\nflavour = mint\n" >"$TRASH/warn.ini" &&
	run 0 sparkctl --config "$TRASH/warn.ini" list --names && has err "warning: .*warn.ini:3: unknown key \"flavour\""'
test_expect "a --config file that does not exist is an error" '
	run 1 sparkctl --config "$TRASH/missing.ini" list && has err "missing.ini: No such file"'
test_expect "the bundled models.ini is valid and lists the owner's four served models" '
	run 0 sparkctl --config "$ROOT/models.ini" list --names && [ $(wc -l <"$TRASH/out") = 4 ] &&
	has out "^qwen3-32b-nvfp4$" && has out "^llama4-scout-17b-nvfp4$" && [ ! -s "$TRASH/err" ]'
test_expect "without any models.ini the defaults apply" '
	unset SPARKCTL_CONFIG && run 0 sparkctl list --json && json "j == {\"models\": []}"'
test_done
