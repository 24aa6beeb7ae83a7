"""Writers for synthetic checkpoints with real tensor names, dtypes and
shapes. Files are sparse: the header is written, the data is a hole, so a
16 GB checkpoint costs a few kilobytes of disk.

Used by tests/gen-fixtures.py and bench/bench-scan.py."""
import json
import os
import struct

ST_BITS = {"BOOL": 8, "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6, "U8": 8, "I8": 8,
           "F8_E5M2": 8, "F8_E4M3": 8, "F8_E8M0": 8, "I16": 16, "U16": 16,
           "F16": 16, "BF16": 16, "I32": 32, "U32": 32, "F32": 32, "I64": 64,
           "U64": 64, "F64": 64}


def nbytes(dtype, shape):
    n = 1
    for d in shape:
        n *= d
    return n * ST_BITS[dtype] // 8


def write_safetensors(path, tensors, metadata=None, truncate_by=0, extra=0, pad=True):
    """tensors: list of (name, dtype, shape). Returns the file's full size."""
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    off = 0
    for name, dtype, shape in tensors:
        n = nbytes(dtype, shape)
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [off, off + n]}
        off += n
    raw = json.dumps(header, separators=(",", ":")).encode()
    if pad:
        raw += b" " * (-len(raw) % 8)
    size = 8 + len(raw) + off
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        f.truncate(size - truncate_by + extra)
    return size


def write_index(path, shard_of, total_size):
    with open(path, "w") as f:
        json.dump({"metadata": {"total_size": total_size}, "weight_map": shard_of}, f, indent=2)


def write_sharded(folder, tensors, shards, metadata=None, prefix="model"):
    """Split tensors over `shards` files with an index; returns the file names."""
    if shards == 1:
        write_safetensors(os.path.join(folder, prefix + ".safetensors"), tensors, metadata or {"format": "pt"})
        return [prefix + ".safetensors"]
    per = -(-len(tensors) // shards)
    names, weight_map, total = [], {}, 0
    for i in range(shards):
        part = tensors[i * per:(i + 1) * per]
        name = "%s-%05d-of-%05d.safetensors" % (prefix, i + 1, shards)
        write_safetensors(os.path.join(folder, name), part, metadata or {"format": "pt"})
        for t in part:
            weight_map[t[0]] = name
            total += nbytes(t[1], t[2])
        names.append(name)
    write_index(os.path.join(folder, prefix + ".safetensors.index.json"), weight_map, total)
    return names


# ---- architectures: (name, kind, shape) with kind "linear" [N, K] or "plain"

def llama_layers(hidden, inter, layers, heads, kv_heads, vocab, head_dim=None, tied=False,
                 experts=0, prefix="model", qk_norm=False):
    head_dim = head_dim or hidden // heads
    out = [(prefix + ".embed_tokens.weight", "plain", [vocab, hidden])]
    for i in range(layers):
        p = "%s.layers.%d." % (prefix, i)
        out.append((p + "input_layernorm.weight", "plain", [hidden]))
        out.append((p + "post_attention_layernorm.weight", "plain", [hidden]))
        out.append((p + "self_attn.q_proj", "linear", [heads * head_dim, hidden]))
        out.append((p + "self_attn.k_proj", "linear", [kv_heads * head_dim, hidden]))
        out.append((p + "self_attn.v_proj", "linear", [kv_heads * head_dim, hidden]))
        out.append((p + "self_attn.o_proj", "linear", [hidden, heads * head_dim]))
        if qk_norm:
            out.append((p + "self_attn.q_norm.weight", "plain", [head_dim]))
            out.append((p + "self_attn.k_norm.weight", "plain", [head_dim]))
        if experts:
            out.append((p + "mlp.gate.weight", "plain", [experts, hidden]))
            for e in range(experts):
                q = p + "mlp.experts.%d." % e
                out.append((q + "gate_proj", "linear", [inter, hidden]))
                out.append((q + "up_proj", "linear", [inter, hidden]))
                out.append((q + "down_proj", "linear", [hidden, inter]))
        else:
            out.append((p + "mlp.gate_proj", "linear", [inter, hidden]))
            out.append((p + "mlp.up_proj", "linear", [inter, hidden]))
            out.append((p + "mlp.down_proj", "linear", [hidden, inter]))
    out.append((prefix + ".norm.weight", "plain", [hidden]))
    if not tied:
        out.append(("lm_head.weight", "plain", [vocab, hidden]))
    return out


def scheme_tensors(layers, scheme, plain_dtype="BF16", group=128):
    """Turn architecture layers into the tensors a quantization scheme writes."""
    out = []
    for name, kind, shape in layers:
        if kind == "plain":
            out.append((name, plain_dtype, shape))
            continue
        n, k = shape
        w = name + ".weight"
        if scheme in ("bf16", "fp16", "fp32"):
            out.append((w, {"bf16": "BF16", "fp16": "F16", "fp32": "F32"}[scheme], [n, k]))
        elif scheme == "modelopt-nvfp4":
            out += [(w, "U8", [n, k // 2]), (name + ".weight_scale", "F8_E4M3", [n, k // 16]),
                    (name + ".weight_scale_2", "F32", []), (name + ".input_scale", "F32", [])]
        elif scheme == "modelopt-fp8":
            out += [(w, "F8_E4M3", [n, k]), (name + ".weight_scale", "F32", []),
                    (name + ".input_scale", "F32", [])]
        elif scheme == "ct-nvfp4":
            out += [(name + ".weight_packed", "U8", [n, k // 2]),
                    (name + ".weight_scale", "F8_E4M3", [n, k // 16]),
                    (name + ".weight_global_scale", "F32", [1]),
                    (name + ".input_global_scale", "F32", [1])]
        elif scheme == "ct-mxfp4":
            out += [(name + ".weight_packed", "U8", [n, k // 2]),
                    (name + ".weight_scale", "U8", [n, k // 32])]
        elif scheme == "ct-fp8":
            out += [(w, "F8_E4M3", [n, k]), (name + ".weight_scale", "BF16", [n, 1])]
        elif scheme == "ct-int4":
            out += [(name + ".weight_packed", "I32", [n, k // 8]),
                    (name + ".weight_scale", "BF16", [n, k // group]),
                    (name + ".weight_zero_point", "I32", [n // 8, k // group]),
                    (name + ".weight_shape", "I64", [2])]
        elif scheme == "ct-int8":
            out += [(w, "I8", [n, k]), (name + ".weight_scale", "F32", [1]),
                    (name + ".weight_zero_point", "I8", [1])]
        elif scheme == "block-fp8":
            out += [(w, "F8_E4M3", [n, k]),
                    (name + ".weight_scale_inv", "F32", [-(-n // 128), -(-k // 128)])]
        elif scheme == "awq":
            out += [(name + ".qweight", "I32", [k, n // 8]), (name + ".qzeros", "I32", [k // group, n // 8]),
                    (name + ".scales", "F16", [k // group, n])]
        elif scheme == "gptq":
            out += [(name + ".qweight", "I32", [k // 8, n]), (name + ".qzeros", "I32", [k // group, n // 8]),
                    (name + ".scales", "F16", [k // group, n]), (name + ".g_idx", "I32", [k])]
        elif scheme == "bnb-nf4":
            out += [(w, "U8", [n * k // 2, 1]), (w + ".absmax", "F32", [n * k // 64]),
                    (w + ".quant_map", "F32", [16]),
                    (w + ".quant_state.bitsandbytes__nf4", "U8", [88])]
        else:
            raise ValueError(scheme)
    return out


def gpt_oss_tensors(hidden, inter, layers, heads, kv_heads, head_dim, experts, vocab):
    """gpt-oss: MXFP4 experts (blocks + scales), attention in BF16."""
    out = [("model.embed_tokens.weight", "BF16", [vocab, hidden])]
    for i in range(layers):
        p = "model.layers.%d." % i
        out += [(p + "input_layernorm.weight", "BF16", [hidden]),
                (p + "post_attention_layernorm.weight", "BF16", [hidden])]
        for proj, n in (("q_proj", heads * head_dim), ("k_proj", kv_heads * head_dim),
                        ("v_proj", kv_heads * head_dim)):
            out += [(p + "self_attn.%s.weight" % proj, "BF16", [n, hidden]),
                    (p + "self_attn.%s.bias" % proj, "BF16", [n])]
        out += [(p + "self_attn.o_proj.weight", "BF16", [hidden, heads * head_dim]),
                (p + "self_attn.o_proj.bias", "BF16", [hidden]),
                (p + "self_attn.sinks", "BF16", [heads]),
                (p + "mlp.router.weight", "BF16", [experts, hidden]),
                (p + "mlp.router.bias", "BF16", [experts]),
                (p + "mlp.experts.gate_up_proj_blocks", "U8", [experts, 2 * inter, hidden // 32, 16]),
                (p + "mlp.experts.gate_up_proj_scales", "U8", [experts, 2 * inter, hidden // 32]),
                (p + "mlp.experts.gate_up_proj_bias", "BF16", [experts, 2 * inter]),
                (p + "mlp.experts.down_proj_blocks", "U8", [experts, hidden, inter // 32, 16]),
                (p + "mlp.experts.down_proj_scales", "U8", [experts, hidden, inter // 32]),
                (p + "mlp.experts.down_proj_bias", "BF16", [experts, hidden])]
    out += [("model.norm.weight", "BF16", [hidden]), ("lm_head.weight", "BF16", [vocab, hidden])]
    return out


def llama_config(hidden, inter, layers, heads, kv_heads, vocab, dtype="bfloat16", **extra):
    c = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": hidden,
         "intermediate_size": inter, "num_hidden_layers": layers, "num_attention_heads": heads,
         "num_key_value_heads": kv_heads, "vocab_size": vocab, "max_position_embeddings": 131072,
         "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                          "original_max_position_embeddings": 8192, "rope_type": "llama3"},
         "tie_word_embeddings": False, "torch_dtype": dtype}
    c.update(extra)
    return c


# ---- GGUF

GGML = {"F32": (0, 4, 1), "F16": (1, 2, 1), "Q4_0": (2, 18, 32), "Q8_0": (8, 34, 32),
        "Q4_K": (12, 144, 256), "Q5_K": (13, 176, 256), "Q6_K": (14, 210, 256), "BF16": (30, 2, 1)}


def _gguf_str(s):
    b = s if isinstance(s, bytes) else s.encode()
    return struct.pack("<Q", len(b)) + b


def _gguf_value(v):
    if isinstance(v, bool):
        return struct.pack("<I", 7) + struct.pack("<B", v)
    if isinstance(v, int):
        return struct.pack("<I", 4) + struct.pack("<I", v)
    if isinstance(v, float):
        return struct.pack("<I", 6) + struct.pack("<f", v)
    if isinstance(v, (str, bytes)):
        return struct.pack("<I", 8) + _gguf_str(v)
    if isinstance(v, list):
        if v and isinstance(v[0], str):
            return struct.pack("<IIQ", 9, 8, len(v)) + b"".join(_gguf_str(x) for x in v)
        return struct.pack("<IIQ", 9, 5, len(v)) + b"".join(struct.pack("<i", x) for x in v)
    raise TypeError(v)


def write_gguf(path, kv, tensors, version=3, alignment=32, truncate_by=0):
    """kv: dict; tensors: list of (name, ggml type name, dims innermost first)."""
    head = b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(kv))
    for k, v in kv.items():
        head += _gguf_str(k) + _gguf_value(v)
    off = 0
    infos = b""
    for name, tname, dims in tensors:
        t, bsize, bvals = GGML[tname]
        infos += _gguf_str(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
        infos += struct.pack("<IQ", t, off)
        n = 1
        for d in dims[1:]:
            n *= d
        size = dims[0] // bvals * bsize * n
        off += size + (-size % alignment)
    head += infos
    data_start = len(head) + (-len(head) % alignment)
    with open(path, "wb") as f:
        f.write(head)
        f.truncate(data_start + off - truncate_by)
    return data_start + off


def llama_gguf_tensors(hidden, inter, layers, heads, kv_heads, vocab, qtype="Q4_K", ftype="Q6_K"):
    hd = hidden // heads
    out = [("token_embd.weight", qtype, [hidden, vocab])]
    for i in range(layers):
        p = "blk.%d." % i
        out += [(p + "attn_norm.weight", "F32", [hidden]), (p + "ffn_norm.weight", "F32", [hidden]),
                (p + "attn_q.weight", qtype, [hidden, heads * hd]),
                (p + "attn_k.weight", qtype, [hidden, kv_heads * hd]),
                (p + "attn_v.weight", ftype, [hidden, kv_heads * hd]),
                (p + "attn_output.weight", qtype, [heads * hd, hidden]),
                (p + "ffn_gate.weight", qtype, [hidden, inter]),
                (p + "ffn_up.weight", qtype, [hidden, inter]),
                (p + "ffn_down.weight", ftype, [inter, hidden])]
    out += [("output_norm.weight", "F32", [hidden]), ("output.weight", ftype, [hidden, vocab])]
    return out


def llama_gguf_kv(hidden, inter, layers, heads, kv_heads, ctx=131072, file_type=15, name="llama"):
    kv = {"general.architecture": "llama", "general.name": name,
          "llama.block_count": layers, "llama.context_length": ctx, "llama.embedding_length": hidden,
          "llama.feed_forward_length": inter, "llama.attention.head_count": heads,
          "llama.attention.head_count_kv": kv_heads}
    if file_type is not None:
        kv["general.file_type"] = file_type
    return kv


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=2)
