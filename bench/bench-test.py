#!/usr/bin/env python3
"""make bench: sparkctl test against the engine stand-in vs the same three
requests made with the curl command line (three curl processes, as a
hand-written check does). Median wall time of each, and their ratio;
goal: sparkctl / curl <= 1.2."""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

from benchlib import TESTS, free_port, small_model

ap = argparse.ArgumentParser()
ap.add_argument("--sparkctl", required=True)
ap.add_argument("--runs", type=int, default=31)
args = ap.parse_args()
port = free_port()
tmp = tempfile.mkdtemp(prefix="sparkctl-bench-test.")
env = dict(os.environ, SPARKCTL_CONFIG=os.path.join(tmp, "m.ini"), PYTHONPATH=os.path.join(TESTS, "standin", "py"))
try:
    small_model(os.path.join(tmp, "models", "m"))
    with open(env["SPARKCTL_CONFIG"], "w") as f:
        f.write("[defaults]\nmodels-root = %s/models\nstate-dir = %s/state\n" % (tmp, tmp))
        f.write('[engine "sglang"]\ncommand = python3 -m sglang.launch_server --model-path {path} '
                '--served-model-name {name} --host {host} --port {port}\n')
        f.write('[model "m"]\npath = m\nengine = sglang\nport = %d\n' % port)
    subprocess.run([args.sparkctl, "serve", "m"], env=env, check=True, stdout=subprocess.DEVNULL)
    base = "http://127.0.0.1:%d" % port
    body = ('{"model":"m","messages":[{"role":"user","content":"Answer with one word: what is the capital of '
            'France?"}],"max_tokens":32,"stream":true,"stream_options":{"include_usage":true}}')
    curl = ["sh", "-c", "curl -sf %s/health >/dev/null && curl -sf %s/v1/models >/dev/null && "
            "curl -sfN -H 'Content-Type: application/json' -d '%s' %s/v1/chat/completions >/dev/null"
            % (base, base, body, base)]

    def med(argv):
        xs = []
        for _ in range(args.runs):
            t = time.perf_counter()
            subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
            xs.append(time.perf_counter() - t)
        return statistics.median(xs) * 1e3
    sp, cu = med([args.sparkctl, "test", "m"]), med(curl)
    print("sparkctl test: %.2f ms; curl x3: %.2f ms (medians of %d); ratio %.2f (goal <= 1.2)"
          % (sp, cu, args.runs, sp / cu))
finally:
    subprocess.run([args.sparkctl, "stop", "--all"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    shutil.rmtree(tmp, ignore_errors=True)
