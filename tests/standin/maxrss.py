#!/usr/bin/env python3
"""maxrss.py FILE CMD...: run CMD, write its peak RSS in KiB to FILE, exit
with its status (GNU time is not on every machine)."""
import resource
import subprocess
import sys

r = subprocess.run(sys.argv[2:])
open(sys.argv[1], "w").write("%d\n" % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(r.returncode)
