#!/usr/bin/env python3
"""bigckpt.py DIR: a Llama-70B-sized BF16 checkpoint (about 140 GB) as a
sparse file: the headers are true, the data is holes, so it costs no disk
and scans ok. For the memory checks of a model bigger than this box."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from ckpt import llama_config, llama_layers, scheme_tensors, write_json, write_safetensors  # noqa: E402

d = sys.argv[1]
os.makedirs(d, exist_ok=True)
dims = (8192, 28672, 80, 64, 8, 128256)
write_json(os.path.join(d, "config.json"), llama_config(*dims))
write_safetensors(os.path.join(d, "model.safetensors"), scheme_tensors(llama_layers(*dims), "bf16"))
