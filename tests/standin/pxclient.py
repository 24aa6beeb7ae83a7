#!/usr/bin/env python3
"""Clients for the proxy tests, each doing what a real client does.

  pxclient.py burst URL TOKEN N MODEL[,MODEL...] [--stream]
      N requests at once (models in turn); prints a JSON list of
      {"model", "status", "body"} in the order sent
  pxclient.py stream URL TOKEN MODEL
      stream a chat completion; prints {"events", "first_ms", "last_ms"}:
      when the first and the last event arrived
  pxclient.py abort URL TOKEN MODEL
      stream a chat completion, hang up after the first event
  pxclient.py slowread URL TOKEN MODEL GATE
      stream a chat completion, reading nothing until the file GATE
      exists; prints {"events", "ordered", "done"}: whether the contents
      came as " w0", " w1", ... in order, and [DONE] last
  pxclient.py seq URL TOKEN MODEL N
      N chat completions one after the other on one connection; prints
      the number answered 200
  pxclient.py stall URL TOKEN MODEL
      stream a chat completion and read none of it; "sent" once the
      request is out, then hold the connection until killed
  pxclient.py idle HOST PORT N
      open N connections that send nothing; "ready" once all are open,
      then hold them until killed
  pxclient.py rawreq HOST PORT
      send the bytes of stdin as they are; print the reply's status line,
      then "closed" if the proxy closed the connection after it, "open" if
      it kept it for another request
  pxclient.py trickle HOST PORT TOKEN
      announce a body past any body-max and send it on without end; print
      the status line, then "cut after S s" once the proxy closes on the
      sender, or "still open" if it has not after 20 s
  pxclient.py exchange HOST PORT N [--head]
      send the bytes of stdin as they are (several requests, pipelined);
      read N answers (a 100 Continue counts; --head: the first answers a
      HEAD, so it has no body) and print each as its status line and body
      on one line, then "closed" or "open" as rawreq
  pxclient.py refused URL N
      N requests without a token, one after the other on one connection;
      prints how many were answered 401
  pxclient.py notify SOCKET OUT
      a systemd notify socket: every datagram a line of OUT"""
import json
import os
import socket
import sys
import threading
import time
import urllib.error
import urllib.request


def post(url, token, model, stream, out, i):
    body = json.dumps({"model": model, "stream": stream, "max_tokens": 8,
                       "messages": [{"role": "user", "content": "hi %d" % i}]}).encode()
    req = urllib.request.Request(url + "/v1/chat/completions", data=body, method="POST",
                                 headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            out[i] = {"model": model, "status": r.status, "body": r.read().decode(errors="replace")}
    except urllib.error.HTTPError as e:
        out[i] = {"model": model, "status": e.code, "body": e.read().decode(errors="replace")}
    except Exception as e:  # a connection that failed is a result too
        out[i] = {"model": model, "status": 0, "body": repr(e)}


def burst(url, token, n, models, stream):
    out = [None] * n
    threads = [threading.Thread(target=post, args=(url, token, models[i % len(models)], stream, out, i))
               for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps(out))


def stream(url, token, model):
    body = json.dumps({"model": model, "stream": True, "messages": [{"role": "user", "content": "hi"}]}).encode()
    req = urllib.request.Request(url + "/v1/chat/completions", data=body, method="POST",
                                 headers={"Authorization": "Bearer " + token})
    t0, times = time.monotonic(), []
    with urllib.request.urlopen(req, timeout=60) as r:
        for line in r:
            if line.startswith(b"data: "):
                times.append((time.monotonic() - t0) * 1000)
    print(json.dumps({"events": len(times), "first_ms": times[0], "last_ms": times[-1]}))


def raw_stream(url, token, model):
    """a streamed chat request on a plain socket, nothing read yet"""
    host, port = url.split("//")[1].split(":")
    s = socket.create_connection((host, int(port)))
    body = json.dumps({"model": model, "stream": True, "messages": [{"role": "user", "content": "hi"}]}).encode()
    s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
              b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (token.encode(), len(body), body))
    return s


def abort(url, token, model):
    s = raw_stream(url, token, model)
    got = b""
    while b"data:" not in got:
        data = s.recv(4096)
        if not data:
            sys.exit("the proxy closed before the first event: %r" % got)
        got += data
    s.close()
    print("hung up after %d bytes" % len(got))


def slowread(url, token, model, gate):
    import http.client
    host, port = url.split("//")[1].split(":")
    c = http.client.HTTPConnection(host, int(port), timeout=60)
    c.connect()
    # above loopback's MSS (a smaller window stalls on delayed ACKs), far
    # below what the stream holds
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 256 << 10)
    body = json.dumps({"model": model, "stream": True, "messages": [{"role": "user", "content": "hi"}]})
    c.request("POST", "/v1/chat/completions", body, {"Authorization": "Bearer " + token})
    while not os.path.exists(gate):  # the test opens it once the proxy held back
        time.sleep(0.05)
    r = c.getresponse()
    words, last = [], None
    for line in r:
        if not line.startswith(b"data: "):
            continue
        last = line[6:].strip()
        if last != b"[DONE]":
            d = json.loads(last)["choices"][0]["delta"].get("content")
            if d:
                words.append(d)
    print(json.dumps({"events": len(words), "ordered": words == [" w%d" % i for i in range(len(words))],
                      "done": last == b"[DONE]"}))


def seq(url, token, model, n):
    import http.client
    host, port = url.split("//")[1].split(":")
    c = http.client.HTTPConnection(host, int(port), timeout=60)
    # bytes: http.client sends them with the headers, as one write
    body = json.dumps({"model": model, "messages": [{"role": "user", "content": "hi"}]}).encode()
    ok = 0
    for _ in range(n):
        c.request("POST", "/v1/chat/completions", body, {"Authorization": "Bearer " + token})
        r = c.getresponse()
        r.read()
        ok += r.status == 200
    print(ok)


def stall(url, token, model):
    s = raw_stream(url, token, model)
    print("sent", flush=True)
    while True:
        time.sleep(3600)
        del s  # never reached: held until killed


def idle(host, port, n):
    conns = [socket.create_connection((host, int(port))) for _ in range(n)]
    print("ready", flush=True)
    while True:
        time.sleep(3600)
        del conns  # never reached: held until killed


def rawreq(host, port):
    s = socket.create_connection((host, int(port)))
    s.sendall(sys.stdin.buffer.read())
    s.settimeout(30)
    out = b""
    while b"\r\n\r\n" not in out:
        d = s.recv(65536)
        if not d:
            break
        out += d
    print(out.split(b"\r\n", 1)[0].decode("latin-1"))
    # the whole reply is small: what follows it is the close, or nothing
    s.settimeout(2)
    try:
        while s.recv(65536):
            pass
        print("closed")
    except socket.timeout:
        print("open")


def answer(f, head=False):
    """one HTTP/1.1 answer from f: (status line, body); None at the close"""
    status = f.readline()
    if not status:
        return None
    headers = {}
    while True:
        line = f.readline()
        if line in (b"\r\n", b""):
            break
        k, v = line.decode("latin-1").split(":", 1)
        headers[k.strip().lower()] = v.strip()
    if status.split()[1].startswith(b"1") or head:
        return status.strip(), b""
    if headers.get("transfer-encoding") == "chunked":
        body = b""
        while True:
            n = int(f.readline().strip(), 16)
            body += f.read(n)
            f.readline()
            if n == 0:
                return status.strip(), body
    if "content-length" in headers:
        return status.strip(), f.read(int(headers["content-length"]))
    return status.strip(), f.read()


def exchange(host, port, n, head):
    s = socket.create_connection((host, int(port)))
    try:
        s.sendall(sys.stdin.buffer.read())
    except OSError as e:
        print("send failed: %s" % e)
    s.settimeout(30)
    f = s.makefile("rb")
    for i in range(n):
        try:
            a = answer(f, head and i == 0)
        except ConnectionResetError:
            print("reset")
            return
        if a is None:
            break
        print((a[0] + b" => " + a[1].replace(b"\n", b" ")).decode("latin-1"))
    s.settimeout(2)
    try:
        print("closed" if not f.read1(65536) else "more")
    except socket.timeout:
        print("open")


def trickle(host, port, token):
    s = socket.create_connection((host, int(port)))
    s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
              + token.encode() + b"\r\nContent-Length: 1000000000000\r\n\r\n")
    s.settimeout(20)
    print(s.makefile("rb").readline().strip().decode("latin-1"), flush=True)
    start = time.monotonic()
    chunk = b"x" * 16384
    try:
        while time.monotonic() - start < 20:
            s.sendall(chunk)
    except OSError:
        print("cut after %.1f s" % (time.monotonic() - start))
        return
    print("still open")


def refused(url, n):
    host, port = url.split("//")[1].split(":")
    s = socket.create_connection((host, int(port)))
    f = s.makefile("rb")
    got = 0
    for _ in range(n):
        s.sendall(b"GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n")
        status = f.readline()
        length = 0
        while True:
            line = f.readline()
            if line in (b"\r\n", b""):
                break
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        f.read(length)
        got += b" 401 " in status
    print(got)


def notify(path, out):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    print("ready", flush=True)
    while True:
        data = s.recv(4096)
        with open(out, "a") as f:
            f.write(data.decode() + "\n")


if __name__ == "__main__":
    a = sys.argv[1:]
    if a[0] == "burst":
        burst(a[1], a[2], int(a[3]), a[4].split(","), "--stream" in a)
    elif a[0] == "stream":
        stream(a[1], a[2], a[3])
    elif a[0] == "abort":
        abort(a[1], a[2], a[3])
    elif a[0] == "slowread":
        slowread(a[1], a[2], a[3], a[4])
    elif a[0] == "seq":
        seq(a[1], a[2], a[3], int(a[4]))
    elif a[0] == "stall":
        stall(a[1], a[2], a[3])
    elif a[0] == "idle":
        idle(a[1], a[2], int(a[3]))
    elif a[0] == "rawreq":
        rawreq(a[1], a[2])
    elif a[0] == "exchange":
        exchange(a[1], a[2], int(a[3]), "--head" in a)
    elif a[0] == "trickle":
        trickle(a[1], a[2], a[3])
    elif a[0] == "refused":
        refused(a[1], int(a[2]))
    elif a[0] == "notify":
        notify(a[1], a[2])
