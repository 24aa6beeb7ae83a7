#!/usr/bin/env python3
"""Compare `sparkctl scan --json` with the generator's expected.json, field
by field. Prints one line per model: "PASS path" or "FAIL path: why"."""
import json
import sys

expected = json.load(open(sys.argv[1]))
got = {m["path"]: m for m in json.load(open(sys.argv[2]))["models"]}
FIELDS = ("path", "name", "format", "quant_method", "gguf_type", "kv_cache_dtype", "status", "problems",
          "apparent_bytes", "disk_bytes", "weight_files", "tensors", "params", "architecture", "engines", "probe")
for path in sorted(set(expected) | set(got)):
    e, g = expected.get(path), got.get(path)
    if e is None or g is None:
        print("FAIL %s: %s" % (path, "not expected" if e is None else "missing from scan"))
        continue
    why = []
    if sorted(g) != sorted(FIELDS):
        why.append("fields %s" % sorted(set(g) ^ set(FIELDS)))
    for k, v in e.items():
        if k == "problem_codes":
            codes = sorted(set(p["code"] for p in g["problems"]))
            if codes != v:
                why.append("problems %s, expected %s" % (codes, v))
        elif g.get(k) != v:
            why.append("%s %r, expected %r" % (k, g.get(k), v))
    for p in g["problems"]:
        if set(p) != {"code", "file", "message"} or not p["message"]:
            why.append("malformed problem %r" % p)
    if g["status"] == "ok" and g["params"] is None and not any(p["code"] == "pickle" for p in g["problems"]):
        why.append("params null for an ok model")
    print(("FAIL %s: %s" % (path, "; ".join(why))) if why else "PASS %s" % path)
