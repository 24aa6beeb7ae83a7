#!/usr/bin/env python3
"""A stand-in for the Hugging Face Hub serving one repository made from a
folder: revision -> commit, the paged recursive tree, resolve (small files
directly; LFS files answered with 302 to a "CDN" on a second port with a
signed URL), Range, and the real header names (X-Repo-Commit,
X-Linked-Etag, X-Linked-Size, ETag, X-Error-Code, X-Error-Message).

Switches, set with POST /_control {"key": value, ...} (counts are the
number of requests they apply to):
  token         the bearer token the repository needs (private/gated)
  gated         401 or 403 with X-Error-Code GatedRepo for everything
  ratelimit     N resolve requests answered 429 with Retry-After: 1
  fail500       N resolve requests answered 500
  cut           N CDN answers that close after half the bytes
  wrong         a path whose CDN bytes are corrupted (same length)
  ignore_range  the CDN answers 200 with everything, whatever Range says
  slow          the CDN sends 64 KiB every 50 ms
Hostile switches (what a compromised Hub or CDN could send):
  redirect      resolve answers LFS files with 302 to this URL (gopher://, file://)
  endless       the CDN sends bytes without end, whatever the listed size
  endless_error N resolve requests answered 500 with a body without end
  retry_after   the Retry-After value of the ratelimit answers (default "1")
  self_link     every listing page names itself as the next page
  extra         entries added to the listing as they are
  pad           N spaces before the listing JSON (a huge but valid page)
GET /_stats: requests by kind, CDN bytes sent, Authorization headers the
CDN saw (must stay 0).
usage: hub.py --dir D --repo ORG/NAME --port P --cdn-port Q [--page-size N]"""
import argparse
import hashlib
import json
import os
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ap = argparse.ArgumentParser()
ap.add_argument("--dir", required=True)
ap.add_argument("--repo", required=True)
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--cdn-port", type=int, required=True)
ap.add_argument("--page-size", type=int, default=1000)
ap.add_argument("--lfs-min", type=int, default=4096)
ap.add_argument("--cdn-base", help="redirect LFS files to BASE/<path> (a real server, e.g. nginx) "
                                   "instead of the built-in CDN; files are then read from disk, not memory")
a = ap.parse_args()


class Lazy(dict):
    """path -> bytes, read from disk when asked (for --cdn-base)."""
    def __missing__(self, path):
        return open(os.path.join(a.dir, path), "rb").read()


FILES = Lazy() if a.cdn_base else {}
SIZES = {}
for root, dirs, files in os.walk(a.dir):
    for f in files:
        p = os.path.join(root, f)
        SIZES[os.path.relpath(p, a.dir)] = os.path.getsize(p)
        if not a.cdn_base:
            FILES[os.path.relpath(p, a.dir)] = open(p, "rb").read()


def blob_oid(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def sha256_of(path):
    h = hashlib.sha256()
    with open(os.path.join(a.dir, path), "rb") as f:
        for chunk in iter(lambda: f.read(1 << 24), b""):
            h.update(chunk)
    return h.hexdigest()


ENTRIES = {}
for path, size in sorted(SIZES.items()):
    e = {"type": "file", "path": path, "size": size}
    if size >= a.lfs_min or path.endswith(".safetensors"):
        sha = sha256_of(path)
        pointer = ("version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %d\n" % (sha, size)).encode()
        e.update(oid=blob_oid(pointer), lfs={"oid": sha, "size": size, "pointerSize": len(pointer)})
    else:
        e["oid"] = blob_oid(FILES[path])
    ENTRIES[path] = e
COMMIT = hashlib.sha1(json.dumps(sorted(ENTRIES.items())).encode()).hexdigest()
BY_SHA = {e["lfs"]["oid"]: p for p, e in ENTRIES.items() if "lfs" in e}
REVS = {"main": COMMIT, "v1.0": COMMIT, COMMIT: COMMIT}
CTL = {"token": None, "gated": 0, "ratelimit": 0, "fail500": 0, "cut": 0, "wrong": None, "ignore_range": False,
       "slow": False, "redirect": None, "endless": False, "endless_error": 0, "retry_after": "1", "self_link": False,
       "extra": [], "pad": 0}
STATS = {"api": 0, "resolve": 0, "cdn": 0, "cdn_bytes": 0, "auth_at_cdn": 0}
LOCK = threading.Lock()


def tree():
    out, dirs = [], set()
    for p in ENTRIES:
        parts = p.split("/")[:-1]
        for i in range(len(parts)):
            dirs.add("/".join(parts[:i + 1]))
    for d in sorted(dirs):
        out.append({"type": "directory", "path": d, "oid": hashlib.sha1(d.encode()).hexdigest(), "size": 0})
    return out + [ENTRIES[p] for p in sorted(ENTRIES)]


class Base(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, code, body=b"", headers=(), ctype="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def endless(self, code):
        """An answer with no length that never ends (until the client goes)."""
        self.send_response(code)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        chunk = b"A" * 65536
        try:
            for _ in range(1 << 20):  # bounded: 64 GiB, far past any test
                self.wfile.write(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def error(self, code, xcode, msg):
        self.answer(code, {"error": msg}, [("X-Error-Code", xcode), ("X-Error-Message", msg)])

    def send_range(self, data, headers, ignore_range=False, cut=False, slow=False):
        rng = self.headers.get("Range")
        start = 0
        if rng and not ignore_range:
            start = int(rng.split("=")[1].split("-")[0])
            if start >= len(data):
                return self.answer(416, b"", [("Content-Range", "bytes */%d" % len(data))])
        body = data[start:]
        self.send_response(206 if start or (rng and not ignore_range) else 200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Type", "application/octet-stream")
        if rng and not ignore_range:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))
        self.send_header("Accept-Ranges", "bytes")
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        end = len(body) // 2 if cut else len(body)
        step = 65536
        try:
            for i in range(0, end, step):
                chunk = body[i:min(i + step, end)]
                self.wfile.write(chunk)
                with LOCK:
                    STATS["cdn_bytes" if self.server.server_port == a.cdn_port else "resolve_bytes"] = \
                        STATS.get("cdn_bytes" if self.server.server_port == a.cdn_port else "resolve_bytes", 0) + len(chunk)
                if slow:
                    self.wfile.flush()
                    time.sleep(0.05)
        except (BrokenPipeError, ConnectionResetError):
            return
        if cut:
            self.close_connection = True


def take(key):
    with LOCK:
        if CTL[key]:
            CTL[key] -= 1
            return True
    return False


class Hub(Base):
    def authorized(self):
        if CTL["gated"]:
            self.error(CTL["gated"], "GatedRepo", "Access to model %s is restricted. You must have access to it "
                                                   "and be authenticated to access it." % a.repo)
            return False
        if CTL["token"] and self.headers.get("Authorization") != "Bearer " + CTL["token"]:
            self.error(401, "RepoNotFound", "Repository Not Found for url: %s. Please make sure you specified the "
                                            "correct repo_id and that you are authenticated." % self.path)
            return False
        return True

    def do_POST(self):
        if self.path == "/_control":
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with LOCK:
                CTL.update(body)
                if body.get("reset_stats"):
                    for k in list(STATS):
                        STATS[k] = 0
            return self.answer(200, CTL)
        self.answer(404, {"error": "not found"})

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        path = urllib.parse.unquote(u.path)
        if path == "/_stats":
            return self.answer(200, STATS)
        api = "/api/models/" + a.repo + "/"
        if path.startswith("/api/models/"):
            with LOCK:
                STATS["api"] += 1
            if not path.startswith(api):
                return self.error(404, "RepoNotFound", "Repository Not Found")
            if not self.authorized():
                return
            rest = path[len(api):]
            if rest.startswith("revision/"):
                rev = rest[len("revision/"):]
                if rev not in REVS:
                    return self.error(404, "RevisionNotFound", "Invalid rev id: %s" % rev)
                return self.answer(200, {"id": a.repo, "sha": REVS[rev], "siblings": [{"rfilename": p} for p in ENTRIES]})
            if rest.startswith("tree/"):
                rev = rest[len("tree/"):]
                q = urllib.parse.parse_qs(u.query)
                if rev not in REVS:
                    return self.error(404, "RevisionNotFound", "Invalid rev id: %s" % rev)
                if q.get("recursive", [""])[0] not in ("true", "True"):
                    return self.answer(400, {"error": "this stand-in only lists recursively"})
                items = tree() + CTL["extra"]
                cur = int(q.get("cursor", ["0"])[0])
                page = items[cur:cur + a.page_size]
                hdr = []
                if CTL["self_link"]:
                    hdr.append(("Link", '<http://127.0.0.1:%d%s>; rel="next"' % (a.port, self.path)))
                elif cur + a.page_size < len(items):
                    nxt = "http://127.0.0.1:%d/api/models/%s/tree/%s?recursive=true&cursor=%d" % (
                        a.port, a.repo, rev, cur + a.page_size)
                    hdr.append(("Link", '<%s>; rel="next"' % nxt))
                if CTL["pad"]:
                    return self.answer(200, b" " * CTL["pad"] + json.dumps(page).encode(), hdr)
                return self.answer(200, page, hdr)
            return self.answer(404, {"error": "not found"})
        prefix = "/" + a.repo + "/resolve/"
        if path.startswith(prefix):
            with LOCK:
                STATS["resolve"] += 1
            if not self.authorized():
                return
            if take("ratelimit"):
                return self.answer(429, {"error": "rate limited"}, [("Retry-After", CTL["retry_after"])])
            if take("endless_error"):
                return self.endless(500)
            if take("fail500"):
                return self.answer(500, {"error": "Internal Error"})
            rev, _, fpath = path[len(prefix):].partition("/")
            if rev not in REVS:
                return self.error(404, "RevisionNotFound", "Invalid rev id: %s" % rev)
            e = ENTRIES.get(fpath)
            if not e:
                return self.error(404, "EntryNotFound", "%s does not exist" % fpath)
            hdr = [("X-Repo-Commit", REVS[rev])]
            if "lfs" in e and CTL["redirect"]:
                return self.answer(302, b"", hdr + [("Location", CTL["redirect"])])
            if "lfs" in e:
                sha = e["lfs"]["oid"]
                loc = "http://127.0.0.1:%d/cdn/%s?X-Amz-Signature=%s&Expires=%d" % (
                    a.cdn_port, sha, hashlib.md5(sha.encode()).hexdigest(), int(time.time()) + 3600)
                if a.cdn_base:
                    loc = "%s/%s?X-Amz-Signature=%s" % (a.cdn_base, urllib.parse.quote(fpath),
                                                        hashlib.md5(sha.encode()).hexdigest())
                return self.answer(302, b"", hdr + [("Location", loc), ("X-Linked-Etag", '"%s"' % sha),
                                                   ("X-Linked-Size", str(e["size"])), ("ETag", '"%s"' % e["oid"])])
            return self.send_range(FILES[fpath], hdr + [("ETag", '"%s"' % e["oid"])])
        self.answer(404, {"error": "not found"})


class Cdn(Base):
    def do_GET(self):
        with LOCK:
            STATS["cdn"] += 1
            if self.headers.get("Authorization"):
                STATS["auth_at_cdn"] += 1
        sha = urllib.parse.urlsplit(self.path).path.rsplit("/", 1)[-1]
        p = BY_SHA.get(sha)
        if not p:
            return self.answer(403, b"<Error><Code>AccessDenied</Code></Error>", ctype="application/xml")
        if CTL["endless"]:
            return self.endless(200)
        data = FILES[p]
        if CTL["wrong"] == p:
            data = bytes(b ^ 0xFF for b in data[:16]) + data[16:]
        self.send_range(data, [("ETag", '"%s"' % sha)], ignore_range=CTL["ignore_range"], cut=take("cut"),
                        slow=CTL["slow"])


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # clients that hang up (a killed download) are expected here


threading.Thread(target=Server(("127.0.0.1", a.cdn_port), Cdn).serve_forever, daemon=True).start()
Server(("127.0.0.1", a.port), Hub).serve_forever()
