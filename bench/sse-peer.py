#!/usr/bin/env python3
"""The SSE side of bench-proxy.py, on asyncio with raw sockets so that the
measuring costs little:

  sse-peer.py upstream PORT EVENTS GAP_MS
      an engine-like server: every POST gets EVENTS chunked SSE events, one
      each GAP_MS, each stamped with the time it was sent (ns)
  sse-peer.py client HOST PORT STREAMS TOKEN
      STREAMS streams at once; prints the p50 and p99 of (received - sent)
      over every event, in ms, and how many events arrived, as JSON"""
import asyncio
import json
import sys
import time


async def serve(reader, writer, events, gap):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            if length:
                await reader.readexactly(length)
            if head.startswith(b"GET /health") or head.startswith(b"GET /v1/models"):
                body = b'{"object":"list","data":[{"id":"sse","object":"model"}]}'
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                             % (len(body), body))
                await writer.drain()
                continue
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
            for i in range(events):
                data = b'data: {"i":%d,"t":%d}\n\n' % (i, time.time_ns())
                writer.write(b"%x\r\n%s\r\n" % (len(data), data))
                await writer.drain()
                await asyncio.sleep(gap)
            done = b"data: [DONE]\n\n"
            writer.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(done), done))
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def upstream(port, events, gap_ms):
    srv = await asyncio.start_server(lambda r, w: serve(r, w, events, gap_ms / 1000), "127.0.0.1", port,
                                     backlog=2048)
    print("ready", flush=True)
    await srv.serve_forever()


async def one(host, port, token, lat):
    reader, writer = await asyncio.open_connection(host, port)
    body = b'{"model":"sse","stream":true,"messages":[]}'
    writer.write(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                 b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (token.encode(), len(body), body))
    await writer.drain()
    buf = b""
    while True:
        data = await reader.read(65536)
        now = time.time_ns()
        if not data:
            break
        buf += data
        while True:
            i = buf.find(b'"t":')
            if i < 0:
                break
            j = buf.find(b"}", i)
            if j < 0:
                break
            lat.append((now - int(buf[i + 4:j])) / 1e6)
            buf = buf[j + 1:]
        if b"[DONE]" in buf:
            break
    writer.close()


async def client(host, port, streams, token):
    lat = []
    await asyncio.gather(*(one(host, int(port), token, lat) for _ in range(streams)))
    lat.sort()
    print(json.dumps({"events": len(lat), "p50_ms": lat[len(lat) // 2] if lat else None,
                      "p99_ms": lat[int(len(lat) * 0.99)] if lat else None}))


if __name__ == "__main__":
    a = sys.argv[1:]
    if a[0] == "upstream":
        asyncio.run(upstream(int(a[1]), int(a[2]), float(a[3])))
    else:
        asyncio.run(client(a[1], a[2], int(a[3]), a[4]))
