#!/usr/bin/env python3
"""make bench: what sparkctl adds to a switch. Median wall time of
`sparkctl switch` between two models of one group (stop the one, start
the other, wait until healthy and listed in /v1/models), minus the median
time the engine stand-in takes by itself from exec to a 200 on /health
(polled every 2 ms). Goal: <= 100 ms."""
import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

from benchlib import TESTS, free_port, small_model

ap = argparse.ArgumentParser()
ap.add_argument("--sparkctl", required=True)
ap.add_argument("--runs", type=int, default=21)
args = ap.parse_args()


tmp = tempfile.mkdtemp(prefix="sparkctl-bench-switch.")
try:
    d = os.path.join(tmp, "models", "m")
    small_model(d)
    pa, pb = free_port(), free_port()
    env = dict(os.environ, PYTHONPATH=os.path.join(TESTS, "standin", "py"), SPARKCTL_CONFIG=os.path.join(tmp, "m.ini"))
    with open(env["SPARKCTL_CONFIG"], "w") as f:
        f.write("[defaults]\nmodels-root = %s/models\nstate-dir = %s/state\n" % (tmp, tmp))
        f.write('[engine "sglang"]\ncommand = python3 -m sglang.launch_server --model-path {path} '
                '--served-model-name {name} --host {host} --port {port}\nstop-timeout = 5\n')
        for name, port in (("a", pa), ("b", pb)):
            f.write('[model "%s"]\npath = m\nengine = sglang\nport = %d\ngroup = big\n' % (name, port))

    def standalone():
        port = free_port()
        t = time.perf_counter()
        p = subprocess.Popen([sys.executable, "-m", "sglang.launch_server", "--model-path", d, "--served-model-name",
                              "x", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while True:
            try:
                if urllib.request.urlopen("http://127.0.0.1:%d/health" % port, timeout=1).status == 200:
                    break
            except OSError:
                time.sleep(0.002)
        took = time.perf_counter() - t
        p.send_signal(signal.SIGTERM)
        p.wait()
        return took

    def switch(name):
        t = time.perf_counter()
        subprocess.run([args.sparkctl, "switch", name], env=env, check=True, stdout=subprocess.DEVNULL)
        return time.perf_counter() - t

    engine = statistics.median(standalone() for _ in range(args.runs))
    switch("a")
    sw = statistics.median(switch("b" if i % 2 == 0 else "a") for i in range(args.runs))
    subprocess.run([args.sparkctl, "stop", "--all"], env=env, stdout=subprocess.DEVNULL)
    print("switch (median of %d): %.1f ms; the engine stand-in alone, exec to healthy: %.1f ms; "
          "sparkctl's overhead: %.1f ms (goal <= 100 ms)" % (args.runs, sw * 1e3, engine * 1e3, (sw - engine) * 1e3))
finally:
    subprocess.run([args.sparkctl, "stop", "--all"], env=dict(os.environ, SPARKCTL_CONFIG=os.path.join(tmp, "m.ini")),
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    shutil.rmtree(tmp, ignore_errors=True)
