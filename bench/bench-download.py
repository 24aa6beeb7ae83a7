#!/usr/bin/env python3
"""make bench: download throughput. nginx on loopback serves the files (the
CDN); the Hub stand-in answers the API and redirects LFS files to nginx.
In one run, medians of --runs:
  - one 4 GiB file: sparkctl download (verifying SHA-256) vs curl -o
    (verifying nothing); goal: >= 0.9 x curl's throughput
  - 64 files of 64 MiB: sparkctl --jobs 8 vs aria2c -j8; goal >= 1.0 x
  - sparkctl's peak RSS (GNU time); goal <= 64 MiB
Source files are sparse (no disk cost to serve); the targets are real."""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

from benchlib import free_port

HERE = os.path.dirname(os.path.abspath(__file__))
ap = argparse.ArgumentParser()
ap.add_argument("--sparkctl", required=True)
ap.add_argument("--runs", type=int, default=3)
ap.add_argument("--big-gib", type=int, default=4)
args = ap.parse_args()
for tool in ("nginx", "aria2c", "curl"):
    if not shutil.which(tool) and not os.path.exists("/usr/sbin/" + tool):
        sys.exit("bench-download: %s is missing; install it with: apt-get install nginx-light aria2 curl" % tool)


tmp = tempfile.mkdtemp(prefix="sparkctl-bench-dl.")
os.chmod(tmp, 0o755)  # nginx's workers read the files as another user
procs = []
try:
    src = os.path.join(tmp, "src")
    os.makedirs(src)
    with open(os.path.join(src, "big.bin"), "wb") as f:
        f.truncate(args.big_gib << 30)
    for i in range(64):
        with open(os.path.join(src, "shard-%02d.bin" % i), "wb") as f:
            f.truncate(64 << 20)
    open(os.path.join(src, "config.json"), "w").write("{}")
    ng, hub, cdn = free_port(), free_port(), free_port()
    conf = os.path.join(tmp, "nginx.conf")
    with open(conf, "w") as f:
        f.write("worker_processes 2; pid %s/nginx.pid; error_log %s/nginx.err; daemon off;\n"
                "events { worker_connections 256; }\nhttp { access_log off; sendfile on; tcp_nopush on;\n"
                "  server { listen 127.0.0.1:%d; root %s; } }\n" % (tmp, tmp, ng, src))
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    procs.append(subprocess.Popen([nginx, "-c", conf, "-p", tmp], stderr=subprocess.DEVNULL))
    print("hashing the source for the Hub stand-in ...", flush=True)
    procs.append(subprocess.Popen([sys.executable, os.path.join(HERE, "..", "tests", "standin", "hub.py"), "--dir", src,
                                   "--repo", "org/bench", "--port", str(hub), "--cdn-port", str(cdn),
                                   "--lfs-min", "1", "--cdn-base", "http://127.0.0.1:%d" % ng]))
    for _ in range(600):
        try:
            urllib.request.urlopen("http://127.0.0.1:%d/_stats" % hub, timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    env = dict(os.environ, HF_ENDPOINT="http://127.0.0.1:%d" % hub, SPARKCTL_CONFIG="/dev/null", HF_HOME=tmp)
    dst = os.path.join(tmp, "dst")

    def timed(argv):
        shutil.rmtree(dst, ignore_errors=True)
        os.makedirs(dst)
        t = time.perf_counter()
        out = subprocess.run(["/usr/bin/time", "-f", "%M"] + argv, env=env, cwd=dst, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
        if out.returncode:
            sys.exit("bench-download: %s failed:\n%s" % (argv[0], out.stderr))
        took = time.perf_counter() - t
        return took, int(out.stderr.strip().splitlines()[-1])  # KiB

    big = args.big_gib << 30
    res = {"sp_big": [], "curl": [], "sp_many": [], "aria": []}
    rss = 0
    urls = os.path.join(tmp, "urls.txt")
    open(urls, "w").write("".join("http://127.0.0.1:%d/shard-%02d.bin\n" % (ng, i) for i in range(64)))
    for _ in range(args.runs):
        t, m = timed([args.sparkctl, "download", "--quiet", "--include", "big.bin", "--to", dst, "org/bench"])
        res["sp_big"].append(t)
        rss = max(rss, m)
        res["curl"].append(timed(["curl", "-sf", "-o", "big.bin", "http://127.0.0.1:%d/big.bin" % ng])[0])
        t, m = timed([args.sparkctl, "download", "--quiet", "--jobs", "8", "--include", "shard-*", "--to", dst,
                      "org/bench"])
        res["sp_many"].append(t)
        rss = max(rss, m)
        res["aria"].append(timed(["aria2c", "-q", "-j8", "-x1", "--file-allocation=none", "-i", urls, "-d", dst])[0])
    med = {k: statistics.median(v) for k, v in res.items()}
    print(("%d GiB file: sparkctl" % args.big_gib) + " %.2f s (%.0f MiB/s, SHA-256 verified) vs curl -o %.2f s (%.0f MiB/s): "
          "%.2f x curl's throughput (goal >= 0.9)" % (med["sp_big"], big / 2**20 / med["sp_big"], med["curl"],
                                                      big / 2**20 / med["curl"], med["curl"] / med["sp_big"]))
    print("64 x 64 MiB: sparkctl --jobs 8 %.2f s vs aria2c -j8 %.2f s: %.2f x aria2c's throughput (goal >= 1.0)"
          % (med["sp_many"], med["aria"], med["aria"] / med["sp_many"]))
    print("sparkctl peak RSS: %.1f MiB (goal <= 64 MiB); medians of %d runs" % (rss / 1024, args.runs))
finally:
    for p in procs:
        p.terminate()
    shutil.rmtree(tmp, ignore_errors=True)
