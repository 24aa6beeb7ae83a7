#!/usr/bin/env python3
"""make bench: scan of the owner's inventory at real scale.

In one run: the median wall time of `sparkctl scan --json`, of a Python peer
doing what huggingface_hub's safetensors metadata reader does (read 8 bytes
and the header of each file, json.loads it, nothing more) and of `du -sh`;
their ratios; the bytes scan read (rchar, from /proc/self/io, which counts
reaped children) against the header bytes; and the header parser's speed on
the largest header."""
import argparse
import glob
import json
import os
import statistics
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ap = argparse.ArgumentParser()
ap.add_argument("--sparkctl", required=True)
ap.add_argument("--runs", type=int, default=7)
ap.add_argument("--tree", help="reuse this tree (built when missing)")
args = ap.parse_args()

tree = args.tree or os.path.join(tempfile.gettempdir(), "sparkctl-bench-inventory")
if not os.path.isdir(tree):
    print("building the inventory tree in %s ..." % tree, flush=True)
    subprocess.run([sys.executable, os.path.join(HERE, "gen-inventory.py"), tree], check=True, stdout=subprocess.DEVNULL)


def peer(root=None):
    """huggingface_hub's get_safetensors_metadata, minus the network."""
    out = {}
    for f in sorted(glob.glob(os.path.join(root or tree, "**", "*.safetensors"), recursive=True)):
        with open(f, "rb") as fh:
            n = struct.unpack("<Q", fh.read(8))[0]
            out[f] = json.loads(fh.read(n))
    return out


def gguf_header_len(path):
    """Bytes of metadata and tensor infos: what any GGUF reader must read."""
    with open(path, "rb") as f:
        d = f.read(64 << 20)
    pos = 24
    n_t, n_kv = struct.unpack_from("<QQ", d, 8)
    size = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}

    def skip(t, pos):
        if t == 8:
            return pos + 8 + struct.unpack_from("<Q", d, pos)[0]
        if t == 9:
            at, n = struct.unpack_from("<IQ", d, pos)
            pos += 12
            if at in size:
                return pos + n * size[at]
            for _ in range(n):
                pos = skip(at, pos)
            return pos
        return pos + size[t]
    for _ in range(n_kv):
        pos = skip(8, pos)
        t = struct.unpack_from("<I", d, pos)[0]
        pos = skip(t, pos + 4)
    for _ in range(n_t):
        pos = skip(8, pos)
        nd = struct.unpack_from("<I", d, pos)[0]
        pos += 4 + 8 * nd + 4 + 8
    return pos


def rchar():
    with open("/proc/self/io") as f:
        return int(next(l for l in f if l.startswith("rchar:")).split()[1])


def timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


env = dict(os.environ, SPARKCTL_CONFIG="/dev/null")
scan = lambda: subprocess.run([args.sparkctl, "scan", "--json", "--no-fail", "--root", tree], env=env,
                              stdout=subprocess.DEVNULL, check=True)
du = lambda: subprocess.run(["du", "-sh", tree], stdout=subprocess.DEVNULL, check=True)

# header bytes: what a reader must read at least
st_header = 0
files = sorted(glob.glob(os.path.join(tree, "**", "*.safetensors"), recursive=True))
largest = (0, None)
for f in files:
    with open(f, "rb") as fh:
        n = struct.unpack("<Q", fh.read(8))[0]
    st_header += 8 + n
    largest = max(largest, (n, f))
gguf_header = sum(gguf_header_len(f) for f in glob.glob(os.path.join(tree, "**", "*.gguf"), recursive=True))
idx_bytes = sum(os.path.getsize(f) for f in glob.glob(os.path.join(tree, "**", "*.index.json"), recursive=True))
json_bytes = sum(os.path.getsize(f) for f in glob.glob(os.path.join(tree, "**", "*.json"), recursive=True))

scan()  # warm the page cache for everyone
times = {"scan": [], "peer": [], "du": []}
for _ in range(args.runs):
    times["scan"].append(timed(scan))
    times["peer"].append(timed(peer))
    times["du"].append(timed(du))
med = {k: statistics.median(v) for k, v in times.items()}

before = rchar()
scan()
scan_read = rchar() - before

doc = json.loads(subprocess.run([args.sparkctl, "scan", "--json", "--no-fail", "--root", tree], env=env,
                                capture_output=True, check=True).stdout)
n_models = len(doc["models"])
n_tensors = sum(m["tensors"] for m in doc["models"])

parse = subprocess.run([os.path.join(os.path.dirname(args.sparkctl), "bench", "bench-parse"), largest[1], "20"],
                       capture_output=True, text=True, check=True).stdout.strip()

print("inventory: %d model folders, %d files of safetensors, %d tensors; %.1f MB of safetensors headers, "
      "%.1f MB of JSON (%.1f MB of it shard indexes)" % (n_models, len(files), n_tensors, st_header / 1e6,
                                                         json_bytes / 1e6, idx_bytes / 1e6))
print("median of %d runs (warm cache):" % args.runs)
print("  sparkctl scan --json   %8.1f ms" % (med["scan"] * 1e3))
print("  python peer (headers)  %8.1f ms   sparkctl is %.1fx faster" % (med["peer"] * 1e3, med["peer"] / med["scan"]))
print("  du -sh                 %8.1f ms   scan / du = %.2f" % (med["du"] * 1e3, med["scan"] / med["du"]))
meta = st_header + gguf_header + json_bytes
print("bytes read by scan: %.1f MB; metadata on disk: %.1f MB (safetensors headers %.1f, GGUF headers %.1f, "
      "JSON %.1f) -> %.3f x the metadata, %.2f x the safetensors and GGUF headers alone"
      % (scan_read / 1e6, meta / 1e6, st_header / 1e6, gguf_header / 1e6, json_bytes / 1e6, scan_read / meta,
         scan_read / (st_header + gguf_header)))
print("header parser: %s" % parse)

# A tree whose shard index is large: Qwen3-Coder-30B-A3B NVFP4 alone, a
# 7 MB model.safetensors.index.json beside 9 MB of headers (the index names
# every one of its ~74,000 tensors). Here reading and checking the index
# weighs as much as the headers.
big = os.path.join(tree, "qwen")
big_idx = sum(os.path.getsize(f) for f in glob.glob(os.path.join(big, "**", "*.index.json"), recursive=True))
big_hdr = 0
for f in glob.glob(os.path.join(big, "**", "*.safetensors"), recursive=True):
    with open(f, "rb") as fh:
        big_hdr += 8 + struct.unpack("<Q", fh.read(8))[0]
scan_big = lambda: subprocess.run([args.sparkctl, "scan", "--json", "--no-fail", "--root", big], env=env,
                                  stdout=subprocess.DEVNULL, check=True)
scan_big()
tb = {"scan": [], "peer": []}
# three times the runs: a run takes a fifth of a second, and this machine's
# neighbours move single runs by a third
for _ in range(3 * args.runs):
    tb["scan"].append(timed(scan_big))
    tb["peer"].append(timed(lambda: peer(big)))
mb = {k: statistics.median(v) for k, v in tb.items()}
print("large shard index (%.1f MB index, %.1f MB headers): sparkctl %.1f ms, python peer %.1f ms: %.1fx faster "
      "(goal >= 10x; medians of %d)" % (big_idx / 1e6, big_hdr / 1e6, mb["scan"] * 1e3, mb["peer"] * 1e3,
                                        mb["peer"] / mb["scan"], 3 * args.runs))
