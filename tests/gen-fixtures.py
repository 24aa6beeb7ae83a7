#!/usr/bin/env python3
"""Build the fixture tree: one model folder of every class scan knows, with
real tensor names, dtypes and shapes (sparse files: no disk cost), plus the
broken cases. Writes DIR/expected.json: what scan must report for each.

usage: gen-fixtures.py DIR"""
import json
import os
import shutil
import sys
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ckpt import *  # noqa: E402,F403

HERE = os.path.dirname(os.path.abspath(__file__))
REAL = os.path.join(HERE, "fixtures", "real")
root = sys.argv[1]
expected = {}

# Llama-3.1-8B: the real shapes (8,030,261,248 parameters)
L8 = dict(hidden=4096, inter=14336, layers=32, heads=32, kv_heads=8, vocab=128256)
L8_PARAMS = 8030261248
# a small Llama for the many classes whose size does not matter
SM = dict(hidden=256, inter=512, layers=2, heads=4, kv_heads=2, vocab=1024)


def folder(rel):
    p = os.path.join(root, rel)
    os.makedirs(p, exist_ok=True)
    return p


def expect(rel, fmt, qm, status="ok", problems=(), gguf_type=None, kv=None, params=None, **kw):
    e = {"format": fmt, "quant_method": qm, "status": status, "problem_codes": sorted(problems),
         "gguf_type": gguf_type, "kv_cache_dtype": kv}
    if params is not None:
        e["params"] = params
    e.update(kw)
    expected[rel] = e


def safetensors_model(rel, arch, scheme, config, shards=1, quant_file=None, plain="BF16", **exp):
    d = folder(rel)
    write_json(os.path.join(d, "config.json"), config)
    if quant_file:
        write_json(os.path.join(d, quant_file[0]), quant_file[1])
    tensors = scheme_tensors(arch, scheme, plain_dtype=plain)
    write_sharded(d, tensors, shards)
    write_json(os.path.join(d, "generation_config.json"), {"do_sample": True})
    return d


def small(scheme, plain="BF16"):
    return scheme_tensors(llama_layers(**SM), scheme, plain_dtype=plain)


# ---- healthy models, every class ----
cfg8 = llama_config(**L8)
safetensors_model("meta/llama-3.1-8b-bf16", llama_layers(**L8), "bf16", cfg8, shards=4)
expect("meta/llama-3.1-8b-bf16", "bf16", "none", params=L8_PARAMS, architecture="LlamaForCausalLM", tensors=291)

modelopt_nvfp4 = {"producer": {"name": "modelopt", "version": "0.29.0"},
                  "quantization": {"quant_algo": "NVFP4", "kv_cache_quant_algo": "FP8", "group_size": 16,
                                   "exclude_modules": ["lm_head"]}}
safetensors_model("meta/llama-3.1-8b-nvfp4", llama_layers(**L8), "modelopt-nvfp4", cfg8, shards=2,
                  quant_file=("hf_quant_config.json", modelopt_nvfp4))
expect("meta/llama-3.1-8b-nvfp4", "nvfp4", "modelopt", kv="fp8", params=L8_PARAMS)

ct_nvfp4 = {"quant_method": "compressed-tensors", "format": "nvfp4-pack-quantized",
            "config_groups": {"group_0": {"targets": ["Linear"], "weights": {
                "num_bits": 4, "type": "float", "strategy": "tensor_group", "group_size": 16}}},
            "ignore": ["lm_head"]}
safetensors_model("meta/llama-3.1-8b-ct-nvfp4", llama_layers(**L8), "ct-nvfp4",
                  dict(cfg8, quantization_config=ct_nvfp4), shards=2)
expect("meta/llama-3.1-8b-ct-nvfp4", "nvfp4", "compressed-tensors", params=L8_PARAMS)

QWEN32 = dict(hidden=5120, inter=25600, layers=64, heads=64, kv_heads=8, vocab=151936, head_dim=128)
qcfg = llama_config(**{k: v for k, v in QWEN32.items() if k != "head_dim"}, head_dim=128,
                    architectures=["Qwen3ForCausalLM"], model_type="qwen3", max_position_embeddings=40960)
del qcfg["rope_scaling"]
safetensors_model("qwen3/qwen3-32b-nvfp4", llama_layers(**QWEN32, qk_norm=True), "modelopt-nvfp4", qcfg,
                  shards=4, quant_file=("hf_quant_config.json", modelopt_nvfp4))
expect("qwen3/qwen3-32b-nvfp4", "nvfp4", "modelopt", kv="fp8", architecture="Qwen3ForCausalLM")

smcfg = llama_config(**SM)
d = safetensors_model("nvidia/nemotron-3-nano-fp8", llama_layers(**SM), "modelopt-fp8", smcfg,
                      quant_file=("hf_quant_config.json", {"producer": {"name": "modelopt", "version": "0.31"},
                                                           "quantization": {"quant_algo": "FP8",
                                                                            "kv_cache_quant_algo": None}}))
expect("nvidia/nemotron-3-nano-fp8", "fp8", "modelopt")

d = folder("nvidia/modelopt-mixed")
write_json(os.path.join(d, "config.json"), smcfg)
write_json(os.path.join(d, "hf_quant_config.json"),
           {"producer": {"name": "modelopt", "version": "0.33"},
            "quantization": {"quant_algo": "MIXED_PRECISION", "kv_cache_quant_algo": "FP8",
                             "quantized_layers": {"model.layers.0.mlp.gate_proj": {"quant_algo": "NVFP4"},
                                                  "model.layers.0.self_attn.q_proj": {"quant_algo": "FP8"}}}})
arch = llama_layers(**SM)
write_safetensors(os.path.join(d, "model.safetensors"),
                  scheme_tensors([a for a in arch if "mlp" in a[0]], "modelopt-nvfp4") +
                  scheme_tensors([a for a in arch if "mlp" not in a[0]], "modelopt-fp8"))
expect("nvidia/modelopt-mixed", "mixed", "modelopt", kv="fp8")

ct_fp8 = {"quant_method": "compressed-tensors", "format": "float-quantized",
          "config_groups": {"group_0": {"targets": ["Linear"], "weights": {"num_bits": 8, "type": "float",
                                                                            "strategy": "channel"}}},
          "kv_cache_scheme": {"num_bits": 8, "type": "float", "strategy": "tensor"}}
safetensors_model("deepseek/deepseek-r1-70b-fp8-abliterated", llama_layers(**SM), "ct-fp8",
                  dict(smcfg, quantization_config=ct_fp8), shards=2)
expect("deepseek/deepseek-r1-70b-fp8-abliterated", "fp8", "compressed-tensors", kv="fp8")

safetensors_model("deepseek/deepseek-r1-0528-qwen3-8b-abliterated-nvfp4", llama_layers(**SM), "ct-nvfp4",
                  dict(smcfg, quantization_config=ct_nvfp4))
expect("deepseek/deepseek-r1-0528-qwen3-8b-abliterated-nvfp4", "nvfp4", "compressed-tensors")

with open(os.path.join(REAL, "ct-int4_config.json")) as f:
    ct_int4 = json.load(f)
safetensors_model("community/llama-ct-int4", llama_layers(**SM), "ct-int4", dict(smcfg, quantization_config=ct_int4))
expect("community/llama-ct-int4", "int4", "compressed-tensors", params=None)

with open(os.path.join(REAL, "ct-int8_example_quant_config.json")) as f:
    ct_int8 = json.load(f)
safetensors_model("community/llama-ct-int8", llama_layers(**SM), "ct-int8", dict(smcfg, quantization_config=ct_int8))
expect("community/llama-ct-int8", "int8", "compressed-tensors")

# the real llm-compressor config.json (compression_config, the older key)
d = folder("community/tinyllama-fp8-llmc")
shutil.copy(os.path.join(REAL, "llmc-fp8-config.json"), os.path.join(d, "config.json"))
with open(os.path.join(d, "config.json")) as f:
    tl = json.load(f)
write_safetensors(os.path.join(d, "model.safetensors"),
                  scheme_tensors(llama_layers(tl["hidden_size"], tl["intermediate_size"], 2,
                                              tl["num_attention_heads"], tl["num_key_value_heads"],
                                              tl["vocab_size"]), "ct-fp8"))
expect("community/tinyllama-fp8-llmc", "fp8", "compressed-tensors")

ct_mixed = {"quant_method": "compressed-tensors", "format": "mixed-precision",
            "config_groups": {
                "group_0": {"targets": ["re:.*mlp.*"], "format": "nvfp4-pack-quantized",
                            "weights": {"num_bits": 4, "type": "float", "group_size": 16}},
                "group_1": {"targets": ["re:.*self_attn.*"], "format": "float-quantized",
                            "weights": {"num_bits": 8, "type": "float"}}}}
d = folder("community/ct-nvfp4-fp8-mixed")
write_json(os.path.join(d, "config.json"), dict(smcfg, quantization_config=ct_mixed))
write_safetensors(os.path.join(d, "model.safetensors"),
                  scheme_tensors([a for a in arch if "mlp" in a[0]], "ct-nvfp4") +
                  scheme_tensors([a for a in arch if "mlp" not in a[0]], "ct-fp8"))
expect("community/ct-nvfp4-fp8-mixed", "mixed", "compressed-tensors")

# several groups without a global format: still mixed, not the first group's
ct_groups = dict(ct_mixed)
del ct_groups["format"]
d = folder("community/ct-groups-no-format")
write_json(os.path.join(d, "config.json"), dict(smcfg, quantization_config=ct_groups))
write_safetensors(os.path.join(d, "model.safetensors"),
                  scheme_tensors([a for a in arch if "mlp" in a[0]], "ct-nvfp4") +
                  scheme_tensors([a for a in arch if "mlp" not in a[0]], "ct-fp8"))
expect("community/ct-groups-no-format", "mixed", "compressed-tensors")

ct_sparse = {"quant_method": "compressed-tensors", "format": "dense",
             "sparsity_config": {"format": "dense", "sparsity_structure": "2:4", "global_sparsity": 0.5}}
safetensors_model("community/ct-sparse-only", llama_layers(**SM), "bf16", dict(smcfg, quantization_config=ct_sparse))
expect("community/ct-sparse-only", "bf16", "compressed-tensors")

ct_mx = {"quant_method": "compressed-tensors", "format": "mxfp4-pack-quantized",
         "config_groups": {"group_0": {"targets": ["Linear"], "weights": {"num_bits": 4, "type": "float",
                                                                           "group_size": 32}}}}
d = folder("community/ct-mxfp4")
write_json(os.path.join(d, "config.json"), dict(smcfg, quantization_config=ct_mx))
write_safetensors(os.path.join(d, "model.safetensors"), small("ct-mxfp4"))
expect("community/ct-mxfp4", "mxfp4", "compressed-tensors")

block_fp8 = {"quant_method": "fp8", "fmt": "e4m3", "activation_scheme": "dynamic", "weight_block_size": [128, 128]}
dsv3 = {"architectures": ["DeepseekV3ForCausalLM"], "model_type": "deepseek_v3", "hidden_size": 7168,
        "intermediate_size": 18432, "num_hidden_layers": 61, "num_attention_heads": 128,
        "num_key_value_heads": 128, "kv_lora_rank": 512, "q_lora_rank": 1536, "qk_rope_head_dim": 64,
        "qk_nope_head_dim": 128, "v_head_dim": 128, "n_routed_experts": 256, "num_experts_per_tok": 8,
        "vocab_size": 129280, "max_position_embeddings": 163840, "torch_dtype": "bfloat16",
        "quantization_config": block_fp8}
safetensors_model("deepseek/deepseek-v3-block-fp8", llama_layers(**SM), "block-fp8", dsv3)
expect("deepseek/deepseek-v3-block-fp8", "fp8", "fp8", architecture="DeepseekV3ForCausalLM")

oss = {"architectures": ["GptOssForCausalLM"], "model_type": "gpt_oss", "hidden_size": 2880,
       "intermediate_size": 2880, "num_hidden_layers": 24, "num_attention_heads": 64, "num_key_value_heads": 8,
       "head_dim": 64, "num_local_experts": 32, "num_experts_per_tok": 4, "vocab_size": 201088,
       "max_position_embeddings": 131072, "sliding_window": 128,
       "layer_types": ["sliding_attention", "full_attention"] * 12, "tie_word_embeddings": False,
       "torch_dtype": "bfloat16",
       "quantization_config": {"quant_method": "mxfp4",
                               "modules_to_not_convert": ["model.layers.*.self_attn", "model.layers.*.mlp.router",
                                                          "model.embed_tokens", "lm_head"]}}
d = folder("nvidia/gpt-oss-20b")
write_json(os.path.join(d, "config.json"), oss)
write_sharded(d, gpt_oss_tensors(2880, 2880, 24, 64, 8, 64, 32, 201088), 3)
expect("nvidia/gpt-oss-20b", "mxfp4", "mxfp4", architecture="GptOssForCausalLM")

awq = {"quant_method": "awq", "bits": 4, "group_size": 128, "zero_point": True, "version": "gemm"}
safetensors_model("community/llama-awq", llama_layers(**SM), "awq", dict(smcfg, quantization_config=awq), plain="F16")
expect("community/llama-awq", "int4", "awq")

gptq = {"quant_method": "gptq", "bits": 4, "group_size": 128, "desc_act": True, "sym": True}
safetensors_model("community/llama-gptq", llama_layers(**SM), "gptq", dict(smcfg, quantization_config=gptq), plain="F16")
expect("community/llama-gptq", "int4", "gptq")

# AutoGPTQ's own quantize_config.json, no quant_method in config.json
safetensors_model("community/llama-gptq-file", llama_layers(**SM), "gptq", smcfg, plain="F16",
                  quant_file=("quantize_config.json", {"bits": 4, "group_size": 128, "desc_act": False}))
expect("community/llama-gptq-file", "int4", "gptq")

bnb = {"quant_method": "bitsandbytes", "load_in_4bit": True, "bnb_4bit_quant_type": "nf4",
       "bnb_4bit_compute_dtype": "bfloat16"}
safetensors_model("community/llama-bnb-nf4", llama_layers(**SM), "bnb-nf4", dict(smcfg, quantization_config=bnb))
expect("community/llama-bnb-nf4", "int4", "bitsandbytes")

safetensors_model("deepseek/josiefied-r1-0528-qwen3-8b-abliterated-v1", llama_layers(**SM), "bf16", smcfg, shards=2)
expect("deepseek/josiefied-r1-0528-qwen3-8b-abliterated-v1", "bf16", "none")

safetensors_model("phi4/phi4-reasoning", llama_layers(**SM), "fp16", llama_config(**SM, dtype="float16"), plain="F16")
expect("phi4/phi4-reasoning", "fp16", "none")

safetensors_model("community/fp32-says-bf16", llama_layers(**SM), "fp32", smcfg, plain="F32")
expect("community/fp32-says-bf16", "fp32", "none", problems=["dtype-mismatch"])

# declared NVFP4, but every tensor is BF16: the tensors win
safetensors_model("community/says-nvfp4-is-bf16", llama_layers(**SM), "bf16", smcfg,
                  quant_file=("hf_quant_config.json", modelopt_nvfp4))
expect("community/says-nvfp4-is-bf16", "bf16", "modelopt", kv="fp8", problems=["dtype-mismatch"])

# F8 tensors and no declaration at all
safetensors_model("community/fp8-undeclared", llama_layers(**SM), "block-fp8", smcfg)
expect("community/fp8-undeclared", "fp8", "unknown")

with open(os.path.join(REAL, "sparsetral-config.json")) as f:
    sp = json.load(f)
d = folder("community/sparsetral")
shutil.copy(os.path.join(REAL, "sparsetral-config.json"), os.path.join(d, "config.json"))
write_safetensors(os.path.join(d, "model.safetensors"), small("bf16"))
expect("community/sparsetral", "bf16", "none", architecture="modeling_sparsetral.MistralForCausalLM")

# ---- GGUF ----
d = folder("small/llama-3.2-3b-gguf")
write_gguf(os.path.join(d, "llama-3.2-3b-instruct-Q4_K_M.gguf"), llama_gguf_kv(3072, 8192, 4, 24, 8),
           llama_gguf_tensors(3072, 8192, 4, 24, 8, 128256))
expect("small/llama-3.2-3b-gguf", "gguf", "gguf", gguf_type="Q4_K_M", architecture="llama")

d = folder("laptop/qwen3-8b-gguf")
ts = llama_gguf_tensors(4096, 12288, 4, 32, 8, 151936, qtype="Q8_0", ftype="Q8_0")
for i, part in enumerate((ts[:20], ts[20:])):
    kv = llama_gguf_kv(4096, 12288, 4, 32, 8, file_type=7) if i == 0 else {}
    kv.update({"split.no": i, "split.count": 2, "split.tensors.count": len(ts)})
    write_gguf(os.path.join(d, "qwen3-8b-Q8_0-%05d-of-00002.gguf" % (i + 1)), kv, part)
expect("laptop/qwen3-8b-gguf", "gguf", "gguf", gguf_type="Q8_0")

d = folder("small/granite-4.0-micro-gguf")
write_gguf(os.path.join(d, "granite-4.0-micro.gguf"), llama_gguf_kv(256, 512, 2, 4, 2, file_type=None),
           llama_gguf_tensors(256, 512, 2, 4, 2, 1024, qtype="Q8_0", ftype="Q8_0"), version=2)
expect("small/granite-4.0-micro-gguf", "gguf", "gguf", gguf_type="Q8_0")

# several quantizations of one model in one folder: each is a model of its
# own, not one of their summed size
d = folder("small/multi-quant-gguf")
for q in ("Q4_0", "Q8_0"):
    write_gguf(os.path.join(d, "granite-micro-%s.gguf" % q), llama_gguf_kv(256, 512, 2, 4, 2, file_type=None),
               llama_gguf_tensors(256, 512, 2, 4, 2, 1024, qtype=q, ftype=q), version=3)
    expect("small/multi-quant-gguf/granite-micro-%s.gguf" % q, "gguf", "gguf", gguf_type=q)

d = folder("small/tiny-random-gguf")
shutil.copy(os.path.join(REAL, "llama-2-tiny-random.gguf"), d)
expect("small/tiny-random-gguf", "gguf", "gguf", gguf_type="F16", tensors=12, architecture="llama")

d = folder("samples/safetensors-samples")
for n in "BHIbdefhi":
    shutil.copy(os.path.join(REAL, n + ".safetensors"), d)
# one tensor of each dtype: most bytes are F64, a dtype with no format name,
# so the format is unknown and says which (not fp32 after a minority dtype)
expect("samples/safetensors-samples", "unknown", "none", problems=["dtype-mismatch"], tensors=9)

# ---- the broken cases ----
d = folder("embeddings/bge-multilingual-gemma2")
write_json(os.path.join(d, "config.json"), {"architectures": ["Gemma2Model"], "torch_dtype": "float32"})
write_json(os.path.join(d, "tokenizer_config.json"), {"model_max_length": 8192})
expect("embeddings/bge-multilingual-gemma2", "fp32", "none", status="stub", problems=["no-weights"])

d = folder("embeddings/bge-m3-lfs")
write_json(os.path.join(d, "config.json"), {"architectures": ["XLMRobertaModel"], "torch_dtype": "float32"})
with open(os.path.join(d, "model.safetensors"), "w") as f:
    f.write("version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize 2271064456\n" % ("ab" * 32))
expect("embeddings/bge-m3-lfs", "fp32", "none", status="stub", problems=["lfs-pointer"])

d = folder("broken/missing-shard")
write_json(os.path.join(d, "config.json"), smcfg)
write_sharded(d, small("bf16"), 3)
os.unlink(os.path.join(d, "model-00002-of-00003.safetensors"))
expect("broken/missing-shard", "bf16", "none", status="incomplete", problems=["missing-shard"])

d = folder("broken/truncated-shard")
write_json(os.path.join(d, "config.json"), smcfg)
write_safetensors(os.path.join(d, "model.safetensors"), small("bf16"), truncate_by=4096)
expect("broken/truncated-shard", "bf16", "none", status="incomplete", problems=["truncated"])

d = folder("broken/oversized")
write_json(os.path.join(d, "config.json"), smcfg)
write_safetensors(os.path.join(d, "model.safetensors"), small("bf16"), extra=100)
expect("broken/oversized", "bf16", "none", status="corrupt", problems=["oversized"])

d = folder("broken/partial-download")
write_json(os.path.join(d, "config.json"), smcfg)
write_sharded(d, small("bf16"), 2)
os.unlink(os.path.join(d, "model-00002-of-00002.safetensors"))
os.makedirs(os.path.join(d, ".cache/huggingface/download"))
with open(os.path.join(d, ".cache/huggingface/download/model-00002-of-00002.safetensors.incomplete"), "wb") as f:
    f.write(b"\0" * 1000)
expect("broken/partial-download", "bf16", "none", status="incomplete",
       problems=["missing-shard", "partial-download"])

d = folder("broken/pickle-only")
write_json(os.path.join(d, "config.json"), smcfg)
with zipfile.ZipFile(os.path.join(d, "pytorch_model.bin"), "w") as z:
    z.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
    z.writestr("archive/data/0", b"\0" * 64)
    z.writestr("archive/data/1", b"\0" * 64)
    z.writestr("archive/version", b"3\n")
expect("broken/pickle-only", "bf16", "none", problems=["pickle"])

d = folder("broken/bad-header")
write_json(os.path.join(d, "config.json"), smcfg)
with open(os.path.join(d, "model.safetensors"), "wb") as f:
    body = b'{"a": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]'  # no closing brace
    f.write(struct.pack("<Q", len(body)) + body + b"\0" * 4)
expect("broken/bad-header", "bf16", "none", status="corrupt", problems=["bad-header"])

d = folder("broken/gguf-truncated")
write_gguf(os.path.join(d, "model-Q4_0.gguf"), llama_gguf_kv(256, 512, 2, 4, 2, file_type=2),
           llama_gguf_tensors(256, 512, 2, 4, 2, 1024, qtype="Q4_0", ftype="Q8_0"), truncate_by=1000)
expect("broken/gguf-truncated", "gguf", "gguf", status="incomplete", problems=["truncated"], gguf_type="Q4_0")

# hidden folders and non-model folders are not models
os.makedirs(os.path.join(root, ".trash/old-model"), exist_ok=True)
write_json(os.path.join(root, ".trash/old-model/config.json"), smcfg)
os.makedirs(os.path.join(root, "notes"), exist_ok=True)
with open(os.path.join(root, "notes/README.txt"), "w") as f:
    f.write("not a model\n")

write_json(os.path.join(root, "expected.json"), expected)
print("%d model folders in %s" % (len(expected), root))
