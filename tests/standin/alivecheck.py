#!/usr/bin/env python3
"""alivecheck.py FILE NAME[,NAME...]: from the stand-ins' STANDIN_ALIVE
record, were two of NAMES ever alive at once? Prints {"starts": {name: n},
"max_alive": k, "alive_now": [...]}; exits 1 when k > 1."""
import json
import sys

events = []
for line in open(sys.argv[1]):
    what, name, pid, ns = line.split()
    events.append((int(ns), what, name, int(pid)))
names = set(sys.argv[2].split(","))
alive, most, starts = set(), 0, {n: 0 for n in names}
for ns, what, name, pid in sorted(events):
    if name not in names:
        continue
    if what == "start":
        alive.add(pid)
        starts[name] += 1
    else:
        alive.discard(pid)
    most = max(most, len(alive))
print(json.dumps({"starts": starts, "max_alive": most, "alive_now": sorted(alive)}))
sys.exit(1 if most > 1 else 0)
