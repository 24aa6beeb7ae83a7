#!/usr/bin/env python3
"""make bench: sparkctl proxy against nginx set up as the owner's token
proxy (the token checked, proxy_pass, proxy_buffering off, keepalive to the
upstream, one worker as the proxy has one loop), in front of the same fast
upstreams, in one run:

 1. small non-streamed requests, 64 connections, wrk: requests/s and p99
    (goals: >= 0.9x nginx's requests/s, p99 <= 1.2x nginx's);
 2. 256 SSE streams of 1,000 events at once, 10 ms apart (bench/sse-peer.c): the p50 of
    the latency each proxy adds to an event over the direct path (goal
    <= 1 ms), and the proxy's peak RSS (goal <= 64 MiB);
 3. a swap: from the request to the first byte, for a model that is not
    running, minus the engine's own start measured directly (goal <= 50 ms).
Medians of --runs; the ratios are taken within one run."""
import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

from benchlib import free_port, small_model

ap = argparse.ArgumentParser()
ap.add_argument("--sparkctl", required=True)
ap.add_argument("--runs", type=int, default=3)
ap.add_argument("--seconds", type=int, default=5)
args = ap.parse_args()
nginx = shutil.which("nginx") or "/usr/sbin/nginx"
wrk = shutil.which("wrk")
# built by make bench
SSE_PEER = os.path.join(os.path.dirname(args.sparkctl), "bench", "sse-peer")
if not os.path.exists(nginx) or not wrk:
    sys.exit("bench-proxy: nginx or wrk is missing; install them with: make bench-deps")
TOKEN = "sk-bench-" + "x" * 40
ANSWER = ('{"id":"x","object":"chat.completion","created":0,"model":"m","choices":[{"index":0,"message":'
          '{"role":"assistant","content":"Hello there!"},"finish_reason":"stop"}],'
          '"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12}}')
tmp = tempfile.mkdtemp(prefix="sparkctl-bench-proxy.")
procs = []


def start(argv, **kw):
    p = subprocess.Popen(argv, **kw)
    procs.append(p)
    return p


def wait_http(url, headers=None, deadline=15):
    end = time.time() + deadline
    while time.time() < end:
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=2):
                return
        except Exception:
            time.sleep(0.02)
    sys.exit("bench-proxy: %s did not answer (logs in %s)" % (url, tmp))


def write(path, text, mode=0o644):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def nginx_conf(d, http):
    """one worker in the foreground, no access log, the given http block"""
    write(os.path.join(d, "nginx.conf"),
          "worker_processes 1; pid %s/nginx.pid; error_log %s/err; daemon off;\n"
          "events { worker_connections 4096; }\nhttp { access_log off; keepalive_requests 1000000;\n%s}\n"
          % (d, d, http))


def upstream_nginx(name, port):
    """the fast engine: nginx answering every chat completion at once"""
    d = os.path.join(tmp, name)
    os.makedirs(d)
    nginx_conf(d, "  server { listen 127.0.0.1:%d; default_type application/json;\n"
                  "    location = /health { return 200 'ok'; }\n"
                  "    location = /v1/models { return 200 '{\"object\":\"list\",\"data\":[{\"id\":\"%s\",\"object\":\"model\"}]}'; }\n"
                  "    location = /v1/chat/completions { return 200 '%s'; } }\n" % (port, name, ANSWER))
    script = os.path.join(d, "serve.sh")
    write(script, "#!/bin/sh\nexec %s -c %s/nginx.conf -p %s\n" % (nginx, d, d), 0o755)
    return script


def token_nginx(name, port, up_port):
    """the owner's token proxy in front of the same upstream"""
    d = os.path.join(tmp, name)
    os.makedirs(d)
    nginx_conf(d, "  map_hash_bucket_size 128;\n  map $http_authorization $ok { \"Bearer %s\" 1; default 0; }\n"
                  "  upstream engine { server 127.0.0.1:%d; keepalive 256; }\n"
                  "  server { listen 127.0.0.1:%d;\n"
                  "    location / { if ($ok = 0) { return 401; }\n"
                  "      proxy_pass http://engine; proxy_http_version 1.1; proxy_set_header Connection \"\";\n"
                  "      proxy_set_header Authorization \"\"; proxy_buffering off; proxy_read_timeout 600s; } }\n"
                  % (TOKEN, up_port, port))
    return start([nginx, "-c", os.path.join(d, "nginx.conf"), "-p", d], stderr=open(os.path.join(d, "stderr"), "w"))


def cpu_seconds(pid):
    """user and system time of a process so far"""
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def run_wrk(url):
    lua = os.path.join(tmp, "post.lua")
    write(lua, 'wrk.method = "POST"\nwrk.body = \'{"model":"m","messages":[{"role":"user","content":"hi"}]}\'\n'
               'wrk.headers["Content-Type"] = "application/json"\nwrk.headers["Authorization"] = "Bearer %s"\n'
          % TOKEN)
    out = subprocess.run([wrk, "-t2", "-c64", "-d%ds" % args.seconds, "--latency", "-s", lua, url],
                         capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    m = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    p99 = float(m.group(1)) * {"us": 1e-3, "ms": 1, "s": 1e3}[m.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        sys.exit("bench-proxy: %s answered %s non-2xx responses" % (url, errors.group(1)))
    return rps, p99, int(re.search(r"(\d+) requests in", out).group(1))


def sse(port):
    out = subprocess.run([SSE_PEER, "client", "127.0.0.1", str(port), "256", TOKEN], capture_output=True, text=True,
                         check=True).stdout
    j = json.loads(out)
    if j["events"] != 256 * 1000:
        sys.exit("bench-proxy: %d of %d events arrived through port %d" % (j["events"], 256 * 1000, port))
    return j["p50_ms"]


def first_byte(url, model):
    body = json.dumps({"model": model, "messages": [{"role": "user", "content": "hi"}]}).encode()
    req = urllib.request.Request(url, data=body, headers={"Authorization": "Bearer " + TOKEN})
    t = time.perf_counter()
    with urllib.request.urlopen(req, timeout=60) as r:
        r.read(1)
        return (time.perf_counter() - t) * 1e3


def direct_start(script, port):
    """the engine's own start: spawn to its first answer, polled every 1 ms"""
    t = time.perf_counter()
    p = subprocess.Popen([script], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    body = b'{"model":"x","messages":[]}'
    while True:
        try:
            with urllib.request.urlopen(urllib.request.Request("http://127.0.0.1:%d/v1/chat/completions" % port,
                                                               data=body), timeout=1) as r:
                r.read(1)
                break
        except Exception:
            time.sleep(0.001)
    ms = (time.perf_counter() - t) * 1e3
    p.send_signal(signal.SIGTERM)
    p.wait()
    return ms


try:
    P_UP, P_UP2, P_SSE, P_NGX, P_PX = (free_port() for _ in range(5))
    small, small2 = upstream_nginx("m", P_UP), upstream_nginx("m2", P_UP2)
    sse_script = os.path.join(tmp, "sse.sh")
    write(sse_script, "#!/bin/sh\nexec %s upstream %d 1000 10\n" % (SSE_PEER, P_SSE), 0o755)
    write(os.path.join(tmp, "tokens"), "bench: %s\n" % TOKEN, 0o600)
    cfg = os.path.join(tmp, "models.ini")
    small_model(os.path.join(tmp, "model"))
    write(cfg, "[defaults]\nmodels-root = %s\nstate-dir = %s/state\ntoken-file = %s/tokens\n[proxy]\n"
               "listen = 127.0.0.1:%d\n"
               "[model \"m\"]\npath = model\nscript = %s\nport = %d\ngroup = g\n"
               "[model \"m2\"]\npath = model\nscript = %s\nport = %d\ngroup = g\n"
               "[model \"sse\"]\npath = model\nscript = %s\nport = %d\n"
          % (tmp, tmp, tmp, P_PX, small, P_UP, small2, P_UP2, sse_script, P_SSE))
    env = dict(os.environ, SPARKCTL_CONFIG=cfg)
    auth = {"Authorization": "Bearer " + TOKEN}

    # 3 first, while nothing runs: the engine's own start, then through the proxy
    own = [direct_start(small2, P_UP2) for _ in range(args.runs)]
    px = start([args.sparkctl, "proxy"], env=env, stderr=open(os.path.join(tmp, "proxy.log"), "w"))
    wait_http("http://127.0.0.1:%d/health" % P_PX)
    url = "http://127.0.0.1:%d/v1/chat/completions" % P_PX
    swaps = []
    for _ in range(args.runs):
        first_byte(url, "m")           # m runs
        swaps.append(first_byte(url, "m2"))  # m2 replaces it
    cold = []
    for _ in range(args.runs):
        subprocess.run([args.sparkctl, "stop", "m", "m2"], env=env, stdout=subprocess.DEVNULL, check=True)
        cold.append(first_byte(url, "m2"))
    print("swap (stop one model, start another): request to first byte %.1f ms, the engine's own start %.1f ms: "
          "the proxy adds %.1f ms (goal <= 50); a cold start adds %.1f ms (medians of %d)"
          % (statistics.median(swaps), statistics.median(own), statistics.median(swaps) - statistics.median(own),
             statistics.median(cold) - statistics.median(own), args.runs))

    # 1: small requests; m runs (the proxy starts it), nginx in front of the same upstream
    first_byte(url, "m")
    front = token_nginx("front", P_NGX, P_UP)
    wait_http("http://127.0.0.1:%d/v1/models" % P_NGX, auth)
    ngx_worker = int(open("/proc/%d/task/%d/children" % (front.pid, front.pid)).read().split()[0])
    rows = []
    for _ in range(args.runs):
        c0 = cpu_seconds(ngx_worker)
        n_rps, n_p99, n_n = run_wrk("http://127.0.0.1:%d/v1/chat/completions" % P_NGX)
        n_cpu = (cpu_seconds(ngx_worker) - c0) / n_n * 1e6
        c0 = cpu_seconds(px.pid)
        s_rps, s_p99, s_n = run_wrk(url)
        s_cpu = (cpu_seconds(px.pid) - c0) / s_n * 1e6
        rows.append((s_rps / n_rps, s_p99 / n_p99, s_rps, n_rps, s_p99, n_p99, s_cpu, n_cpu))
    r = [statistics.median(x) for x in zip(*rows)]
    print("small requests, 64 connections (wrk, %d s): sparkctl %.0f req/s, p99 %.2f ms; nginx %.0f req/s, p99 %.2f ms; "
          "ratios %.2fx req/s (goal >= 0.9), %.2fx p99 (goal <= 1.2) (medians of %d)"
          % (args.seconds, r[2], r[4], r[3], r[5], r[0], r[1], args.runs))
    print("  CPU per request (both single-loop proxies saturate their core): sparkctl %.1f us, nginx %.1f us"
          % (r[6], r[7]))

    # 2: SSE, 256 streams of 1,000 events, 10 ms apart: direct, nginx, sparkctl
    P_NGX2 = free_port()
    subprocess.run([args.sparkctl, "serve", "sse"], env=env, stdout=subprocess.DEVNULL, check=True)
    token_nginx("front-sse", P_NGX2, P_SSE)
    wait_http("http://127.0.0.1:%d/v1/models" % P_NGX2, auth)
    rows = []
    for _ in range(args.runs):
        d, n, s = sse(P_SSE), sse(P_NGX2), sse(P_PX)
        rows.append((s - d, n - d, d, s))
    r = [statistics.median(x) for x in zip(*rows)]
    with open("/proc/%d/status" % px.pid) as f:
        hwm = int(re.search(r"VmHWM:\s+(\d+)", f.read()).group(1)) / 1024
    print("SSE, 256 streams of 1,000 events: sparkctl adds %.2f ms to an event's latency at p50 (goal <= 1), nginx "
          "%.2f ms (direct %.2f ms, through sparkctl %.2f ms); sparkctl's peak RSS %.1f MiB (goal <= 64) (medians of %d)"
          % (r[0], r[1], r[2], r[3], hwm, args.runs))
finally:
    subprocess.run([args.sparkctl, "stop", "--all"], env=dict(os.environ, SPARKCTL_CONFIG=os.path.join(tmp, "models.ini")),
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for p in procs:
        p.terminate()
        p.wait()
    if not os.environ.get("KEEP"):
        shutil.rmtree(tmp, ignore_errors=True)
