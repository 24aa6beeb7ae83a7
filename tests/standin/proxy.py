#!/usr/bin/env python3
"""A stand-in for the owner's token proxy (nginx with auth, proxy_buffering
off): checks "Authorization: Bearer TOKEN", then forwards to the engine,
streaming the answer as it comes. Every Authorization header it sees is
appended to --seen (to prove the token reaches the proxy and only it).

usage: proxy.py --listen PORT --upstream PORT --token-file F [--seen FILE]"""
import argparse
import http.client
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ap = argparse.ArgumentParser()
ap.add_argument("--listen", type=int, required=True)
ap.add_argument("--upstream", type=int, required=True)
ap.add_argument("--token-file", required=True)
ap.add_argument("--seen")
a = ap.parse_args()
TOKEN = open(a.token_file).read().strip()


class P(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def relay(self):
        auth = self.headers.get("Authorization")
        if a.seen:
            with open(a.seen, "a") as f:
                f.write("%s %s %s\n" % (self.command, self.path, auth))
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if auth != "Bearer " + TOKEN:
            data = b'{"error": "unauthorized"}'
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        up = http.client.HTTPConnection("127.0.0.1", a.upstream, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("authorization", "host")}
        try:
            up.request(self.command, self.path, body=body or None, headers=headers)
            r = up.getresponse()
        except ConnectionRefusedError:
            # what nginx answers when nothing listens upstream
            data = b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
            self.send_response(502)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(k, v)
        self.send_header("Connection", "close")
        self.end_headers()
        while True:
            chunk = r.read1(65536)
            if not chunk:
                break
            self.wfile.write(chunk)
            self.wfile.flush()
        self.close_connection = True

    do_GET = relay
    do_POST = relay


ThreadingHTTPServer(("127.0.0.1", a.listen), P).serve_forever()
