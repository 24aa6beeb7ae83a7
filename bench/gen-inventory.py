#!/usr/bin/env python3
"""Build the benchmark tree: the folders of the owner's inventory
(../shared/seed) at real scale: real shard counts, real tensor names and
counts, real shapes, sparse files. The Qwen3-Coder-30B-A3B NVFP4 checkpoint
alone has ~74,000 tensors and ~9 MB of header JSON.

usage: gen-inventory.py DIR"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from ckpt import *  # noqa: E402,F403

root = sys.argv[1]
MODELOPT = {"producer": {"name": "modelopt", "version": "0.29.0"},
            "quantization": {"quant_algo": "NVFP4", "kv_cache_quant_algo": "FP8", "group_size": 16}}
CT_FP8 = {"quant_method": "compressed-tensors", "format": "float-quantized",
          "config_groups": {"g": {"targets": ["Linear"], "weights": {"num_bits": 8, "type": "float"}}}}
CT_NVFP4 = {"quant_method": "compressed-tensors", "format": "nvfp4-pack-quantized",
            "config_groups": {"g": {"targets": ["Linear"], "weights": {"num_bits": 4, "type": "float",
                                                                       "group_size": 16}}}}


def model(rel, tensors, shards, config, quant_file=None):
    d = os.path.join(root, rel)
    os.makedirs(d, exist_ok=True)
    write_json(os.path.join(d, "config.json"), config)
    if quant_file:
        write_json(os.path.join(d, "hf_quant_config.json"), quant_file)
    write_sharded(d, tensors, shards)


def cfg(arch, **kw):
    c = {"architectures": [arch], "torch_dtype": "bfloat16"}
    c.update(kw)
    return c


# Core LLMs
model("qwen3/qwen3-32b-nvfp4",
      scheme_tensors(llama_layers(5120, 25600, 64, 64, 8, 151936, head_dim=128, qk_norm=True), "modelopt-nvfp4"),
      5, cfg("Qwen3ForCausalLM", num_hidden_layers=64, hidden_size=5120, num_attention_heads=64,
             num_key_value_heads=8, head_dim=128, vocab_size=151936, max_position_embeddings=40960), MODELOPT)
model("llama4/llama4-scout-17b-nvfp4",
      scheme_tensors(llama_layers(5120, 8192, 48, 40, 8, 202048, experts=16, prefix="language_model.model"),
                     "modelopt-nvfp4"),
      13, cfg("Llama4ForConditionalGeneration", text_config={"num_hidden_layers": 48, "hidden_size": 5120}), MODELOPT)
model("phi4/phi4-reasoning", scheme_tensors(llama_layers(5120, 17920, 40, 40, 10, 100352), "bf16"), 6,
      cfg("Phi3ForCausalLM", num_hidden_layers=40))
model("qwen/qwen3-coder-30b-nvfp4",
      scheme_tensors(llama_layers(2048, 768, 48, 32, 4, 151936, head_dim=128, experts=128, qk_norm=True),
                     "modelopt-nvfp4"),
      4, cfg("Qwen3MoeForCausalLM", num_hidden_layers=48, num_experts=128, num_experts_per_tok=8), MODELOPT)
model("nvidia/nemotron-3-nano-fp8",
      scheme_tensors(llama_layers(2688, 1856, 23, 32, 2, 131072, experts=128), "modelopt-fp8"), 7,
      cfg("NemotronHForCausalLM", num_hidden_layers=52),
      {"producer": {"name": "modelopt"}, "quantization": {"quant_algo": "FP8"}})
model("nvidia/gpt-oss-20b", gpt_oss_tensors(2880, 2880, 24, 64, 8, 64, 32, 201088), 3,
      cfg("GptOssForCausalLM", quantization_config={"quant_method": "mxfp4"}))
model("nvidia/gpt-oss-120b", gpt_oss_tensors(2880, 2880, 36, 64, 8, 64, 128, 201088), 15,
      cfg("GptOssForCausalLM", quantization_config={"quant_method": "mxfp4"}))
# DeepSeek
model("deepseek/josiefied-r1-0528-qwen3-8b-abliterated-v1",
      scheme_tensors(llama_layers(4096, 12288, 36, 32, 8, 151936, head_dim=128, qk_norm=True), "bf16"), 5,
      cfg("Qwen3ForCausalLM"))
model("deepseek/deepseek-r1-70b-fp8-abliterated",
      scheme_tensors(llama_layers(8192, 28672, 80, 64, 8, 128256), "ct-fp8"), 15,
      cfg("LlamaForCausalLM", quantization_config=CT_FP8))
model("deepseek/deepseek-r1-0528-qwen3-8b-abliterated-nvfp4",
      scheme_tensors(llama_layers(4096, 12288, 36, 32, 8, 151936, head_dim=128, qk_norm=True), "ct-nvfp4"), 2,
      cfg("Qwen3ForCausalLM", quantization_config=CT_NVFP4))
# Embeddings
bge = [("embeddings.word_embeddings.weight", "F32", [250002, 1024])]
for i in range(24):
    p = "encoder.layer.%d." % i
    for n, s in (("attention.self.query", [1024, 1024]), ("attention.self.key", [1024, 1024]),
                 ("attention.self.value", [1024, 1024]), ("attention.output.dense", [1024, 1024]),
                 ("intermediate.dense", [4096, 1024]), ("output.dense", [1024, 4096])):
        bge += [(p + n + ".weight", "F32", s), (p + n + ".bias", "F32", [s[0]])]
    bge += [(p + "attention.output.LayerNorm.weight", "F32", [1024]), (p + "output.LayerNorm.weight", "F32", [1024])]
model("embeddings/bge-m3", bge, 1, {"architectures": ["XLMRobertaModel"], "torch_dtype": "float32"})
d = os.path.join(root, "embeddings/bge-multilingual-gemma2")
os.makedirs(d, exist_ok=True)
write_json(os.path.join(d, "config.json"), {"architectures": ["Gemma2Model"]})
# GGUF, with real-size vocabularies in the metadata
vocab = ["tok%d" % i for i in range(128256)]
for rel, file, dims in (
        ("small/llama-3.2-3b-gguf", "Llama-3.2-3B-Instruct-Q4_K_M.gguf", (3072, 8192, 28, 24, 8, 128256)),
        ("small/phi4-mini-reasoning-gguf", "Phi-4-mini-reasoning-Q4_K_M.gguf", (3072, 8192, 32, 24, 8, 200064)),
        ("small/granite-4.0-micro-gguf", "granite-4.0-micro-Q4_K_M.gguf", (2560, 8192, 40, 40, 8, 100352)),
        ("laptop/mistral-small-3.2-gguf", "Mistral-Small-3.2-24B-Instruct-Q4_K_M.gguf", (5120, 32768, 40, 32, 8, 131072)),
        ("laptop/qwen3-8b-gguf", "Qwen3-8B-Q4_K_M.gguf", (4096, 12288, 36, 32, 8, 151936))):
    d = os.path.join(root, rel)
    os.makedirs(d, exist_ok=True)
    h, i_, L, heads, kv, V = dims
    kvd = llama_gguf_kv(h, i_, L, heads, kv)
    kvd["tokenizer.ggml.tokens"] = vocab
    kvd["tokenizer.ggml.token_type"] = [1] * len(vocab)
    write_gguf(os.path.join(d, file), kvd, llama_gguf_tensors(h, i_, L, heads, kv, V))
print(root)
