#!/usr/bin/env python3
"""make bench: the commands a user waits on besides scan. Medians of wall
time over repeated runs, on the inventory tree of bench-scan.py:
  - inspect of the largest checkpoint on disk (gpt-oss-120b, 15 shards) and
    of the largest header (Qwen3-Coder-30B NVFP4, ~74,000 tensors); goal <= 20 ms
  - inspect --tensors of a model with over 10,000 tensors; goal <= 50 ms
  - list --names on a registry of 16 models (shell completion on Tab);
    goal <= 5 ms, with /bin/true as the floor of starting a process"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ap = argparse.ArgumentParser()
ap.add_argument("--sparkctl", required=True)
ap.add_argument("--runs", type=int, default=21)
args = ap.parse_args()
tree = os.path.join(tempfile.gettempdir(), "sparkctl-bench-inventory")
if not os.path.isdir(tree):
    subprocess.run([sys.executable, os.path.join(HERE, "gen-inventory.py"), tree], check=True, stdout=subprocess.DEVNULL)

ini = os.path.join(tempfile.gettempdir(), "sparkctl-bench.ini")
with open(ini, "w") as f:
    f.write("[defaults]\nmodels-root = %s\nmemory = 128G\n" % tree)
    f.write('[engine "sglang"]\ncommand = python3 -m sglang.launch_server --model-path {path}\n')
    f.write('unsupported = compressed-tensors\n[engine "vllm"]\ncommand = vllm serve {path}\n')
    dirs = sorted(os.path.relpath(os.path.join(r), tree) for r, d, fs in os.walk(tree)
                  if any(x.endswith((".safetensors", ".gguf", "config.json")) for x in fs))
    for d in dirs:
        f.write('[model "%s"]\npath = %s\nengine = sglang\nport = 30001\ngroup = big\n' % (os.path.basename(d), d))


def med(argv):
    xs = []
    for _ in range(args.runs):
        t = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        xs.append(time.perf_counter() - t)
    return statistics.median(xs) * 1e3


S = [args.sparkctl, "--config", ini]
true = med(["/bin/true"])
rows = [
    ("inspect gpt-oss-120b (183 GB, 15 shards)", med(S + ["inspect", "--json", "gpt-oss-120b"]), 20),
    ("inspect qwen3-coder-30b-nvfp4 (74k tensors)", med(S + ["inspect", "--json", "qwen3-coder-30b-nvfp4"]), 20),
    ("inspect --tensors llama4-scout (10.8k tensors)", med(S + ["inspect", "--tensors", "llama4-scout-17b-nvfp4"]), 50),
    ("list --names (%d models)" % len(dirs), med(S + ["list", "--names"]), 5),
]
print("median of %d runs; /bin/true takes %.2f ms" % (args.runs, true))
for name, ms, goal in rows:
    print("  %-48s %7.2f ms   goal <= %d ms: %s" % (name, ms, goal, "met" if ms <= goal else "NOT met"))
