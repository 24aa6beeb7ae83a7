"""What the service benchmarks share: free ports and a small model folder
for the engine stand-in."""
import os
import socket
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.join(HERE, "..", "tests")
sys.path.insert(0, TESTS)
from ckpt import llama_config, llama_layers, scheme_tensors, write_json, write_safetensors  # noqa: E402


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def small_model(folder):
    """A 2-layer Llama in bf16: enough for the stand-in, scan says ok."""
    os.makedirs(folder)
    write_json(os.path.join(folder, "config.json"), llama_config(256, 512, 2, 4, 2, 1024))
    write_safetensors(os.path.join(folder, "model.safetensors"),
                      scheme_tensors(llama_layers(256, 512, 2, 4, 2, 1024), "bf16"))
