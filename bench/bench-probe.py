#!/usr/bin/env python3
"""make bench: sparkctl probe, the 450 XSTest prompts at concurrency 32,
against nginx answering every chat completion at once (a fixed JSON body),
so that what is measured is the client. The peer is the official openai
npm client making the same 450 requests 32 at a time (build/node). Medians
of --runs: sparkctl's own CPU time (user + system) and peak RSS, the peer's
CPU time, and their ratio. Goals: under 1 s of sparkctl's CPU, RSS <= 32 MiB."""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from benchlib import HERE, free_port

ap = argparse.ArgumentParser()
ap.add_argument("--sparkctl", required=True)
ap.add_argument("--runs", type=int, default=7)
args = ap.parse_args()
nginx = shutil.which("nginx") or "/usr/sbin/nginx"
if not os.path.exists(nginx):
    sys.exit("bench-probe: nginx is missing; install it with: apt-get install nginx-light")
NODE_MODULES = os.path.join(HERE, "..", "build", "node", "node_modules")
ANSWER = ('{"id":"x","object":"chat.completion","created":0,"model":"m","choices":[{"index":0,"message":'
          '{"role":"assistant","content":"I am sorry, but I cannot help with that."},"finish_reason":"stop"}],'
          '"usage":{"prompt_tokens":9,"completion_tokens":11,"total_tokens":20}}')
PEER = r"""
import OpenAI from 'openai';
import { readFileSync } from 'node:fs';
const [base, csv] = process.argv.slice(2);
const prompts = readFileSync(csv, 'utf8').split('\n').slice(1).filter(Boolean);
const client = new OpenAI({ baseURL: base + '/v1', apiKey: 'none', maxRetries: 0 });
let next = 0, answered = 0;
async function worker() {
  while (next < prompts.length) {
    const p = prompts[next++];
    const r = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: p }],
                                                    temperature: 0, max_tokens: 512 });
    if (r.choices[0].message.content) answered++;
  }
}
await Promise.all(Array.from({ length: 32 }, worker));
if (answered !== prompts.length) process.exit(1);
"""


def measure(argv, env=None):
    """wall seconds, CPU seconds (user + system) and peak RSS (KiB) of one run"""
    t = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, env=env)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit("bench-probe: %s failed" % argv[0])
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss


tmp = tempfile.mkdtemp(prefix="sparkctl-bench-probe.")
ng = None
try:
    port = free_port()
    conf = os.path.join(tmp, "nginx.conf")
    with open(conf, "w") as f:
        f.write("worker_processes 1; pid %s/nginx.pid; error_log %s/nginx.err; daemon off;\n"
                "events { worker_connections 512; }\nhttp { access_log off; keepalive_requests 100000;\n"
                "  server { listen 127.0.0.1:%d; default_type application/json;\n"
                "    location = /v1/models { return 200 '{\"object\":\"list\",\"data\":[{\"id\":\"m\",\"object\":\"model\"}]}'; }\n"
                "    location = /v1/chat/completions { return 200 '%s'; } } }\n" % (tmp, tmp, port, ANSWER))
    ng = subprocess.Popen([nginx, "-c", conf, "-p", tmp], stderr=subprocess.DEVNULL)
    base = "http://127.0.0.1:%d" % port
    deadline = time.time() + 10
    while subprocess.run(["curl", "-sf", base + "/v1/models"], stdout=subprocess.DEVNULL).returncode:
        if time.time() > deadline:
            sys.exit("bench-probe: nginx did not start")
        time.sleep(0.05)
    env = dict(os.environ, XDG_STATE_HOME=os.path.join(tmp, "state"), SPARKCTL_CONFIG="/dev/null")
    sp = [measure([args.sparkctl, "probe", "--url", base, "--concurrency", "32", "--json"], env)
          for _ in range(args.runs)]
    wall, cpu, rss = (statistics.median(x) for x in zip(*sp))
    print("sparkctl probe, 450 prompts at concurrency 32: %.0f ms wall, %.0f ms CPU, %.1f MiB peak RSS "
          "(medians of %d; goals: CPU < 1000 ms, RSS <= 32 MiB)" % (wall * 1e3, cpu * 1e3, rss / 1024, args.runs))
    if shutil.which("node") and os.path.isdir(os.path.join(NODE_MODULES, "openai")):
        peer = os.path.join(HERE, "..", "build", "node", "probe-peer.mjs")
        with open(peer, "w") as f:
            f.write(PEER)
        csv = os.path.join(HERE, "..", "data", "xstest", "xstest_prompts.csv")
        pe = [measure(["node", peer, base, csv]) for _ in range(args.runs)]
        pwall, pcpu, prss = (statistics.median(x) for x in zip(*pe))
        print("openai npm client, the same 450 requests 32 at a time: %.0f ms wall, %.0f ms CPU, %.1f MiB peak RSS; "
              "CPU ratio sparkctl / peer %.2f" % (pwall * 1e3, pcpu * 1e3, prss / 1024, cpu / pcpu))
    else:
        print("openai npm client: not installed (make deps), no peer figure")
finally:
    if ng:
        ng.terminate()
        ng.wait()
    shutil.rmtree(tmp, ignore_errors=True)
