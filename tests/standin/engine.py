#!/usr/bin/env python3
"""A stand-in for SGLang and vLLM: their real flags, endpoints and response
shapes, without a GPU. Steered by environment variables (models.ini `env`):

  STANDIN_LOAD_MS      loading time (default 0)
  STANDIN_BIND_LATE=1  do not listen until loaded (SGLang: connection refused
                       before the HTTP server is up); else listen at once and
                       answer 503 on /health while loading (vLLM)
  STANDIN_EXIT=N       exit with status N after STANDIN_EXIT_AFTER_MS (crash)
  STANDIN_IGNORE_TERM=1  ignore SIGTERM
  STANDIN_CHILDREN=N   fork N children (scheduler, detokenizer) that outlive
                       the leader unless the whole group is signalled
  STANDIN_SERVED=ID    the id /v1/models reports instead of the served name
  STANDIN_TOKEN=T      /v1/* need "Authorization: Bearer T" (/health does not)
  STANDIN_TTFT_MS      delay before the first streamed token
  STANDIN_STREAM=broken|cut|empty|nojson   misbehave while streaming
  STANDIN_STREAM=error    one token, then an SSE error event as llama-server
                          sends it mid-stream: data: {"error": {...}}
  STANDIN_STREAM=endless  tokens without end (until the client hangs up)
  STANDIN_NOT_JSON=1   /v1/models answers with HTML
  STANDIN_REPLAY=FILE  answers chosen per prompt (the last user message) from
                       a JSON object: prompt -> "text" or {"content": ...,
                       "reasoning_content": ..., "status": N, "error": "...",
                       "delay_ms": N, "finish_reason": ...}; "*" for the rest
  STANDIN_ANSWER_MS    delay before every non-streamed answer
  STANDIN_OVERLAP=FILE a line per chat request: how many were open with it
  STANDIN_REQUESTS=FILE every chat request body, a JSON line each
  STANDIN_REQUIRE_DOWN=PORT  exit 3 at start if something still listens on
                       PORT (proves a switch stopped the old model first)
  STANDIN_ALIVE=FILE   a line "start NAME PID NS" at start and "exit NAME PID
                       NS" at exit (proves which models were alive when)
  STANDIN_TOKEN_MS     delay between streamed tokens
  STANDIN_TOKENS=N     stream N tokens (default: the answer's words)
  STANDIN_CLOSED=FILE  a line when a client hangs up mid-stream
  STANDIN_HEADERS=FILE the headers of every /v1 request, a JSON line each
  STANDIN_RAW=FILE     chat completions are answered with the bytes of FILE as
                       they are, read anew for each request, and the
                       connection stays open (a broken or hostile server on
                       the engine's port); a FILE that starts with a line
                       CLOSE loses that line and the connection closes
                       unanswered (a kept-alive connection an engine
                       dropped as the request came)
  STANDIN_ADMIN=FILE   a line for every call of an admin endpoint
                       (/flush_cache, /update_weights_from_disk, ...)
  STANDIN_WEDGED=1     (multi-node) rank 0 answers /health but never a
                       generation, as a pair whose link failed

Multi-node (--nnodes N --node-rank R with SGLang's --dist-init-addr H:P or
vLLM's --master-addr H --master-port P): ranks >= 1 connect to the head's
address over TCP and say their rank; rank 0 serves HTTP only once all have
joined. SGLang's ranks >= 1 answer a dummy /health with 200 on their port;
vLLM's --headless ranks serve nothing. A rank that loses its peer hangs
(as in NCCL) and rank 0 then answers /health but no generation. The link
variables (NCCL_SOCKET_IFNAME, SGLANG_HOST_IP, ...) are logged at start.

Streams are sent as uvicorn (SGLang, vLLM) sends them: chunked transfer
encoding, so a stream cut short is told apart from its end.

At start it checks what the real engines check, and refuses as they do:
a context above the maximum it derives from config.json (SGLang's
CONTEXT_LENGTH_KEYS rule, vLLM's _get_and_verify_max_len), ModelOpt
algorithms vLLM lacks, vLLM's start condition (free >= utilization x
total) and SGLang's KV pool (fraction x MemAvailable - weights > 0),
reading $SPARKCTL_MEMINFO or /proc/meminfo. SGLang's token capacity is on
/get_server_info as max_total_num_tokens.
usage: engine.py sglang [--model-path P] [--served-model-name N] [--host H] [--port P] ...
       engine.py vllm serve MODEL [--served-model-name N] [--host H] [--port P] ..."""
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

E = os.environ.get


def parse(argv):
    kind = argv[0]
    args = argv[1:]
    o = {"kind": kind, "host": "127.0.0.1", "port": 30000 if kind == "sglang" else 8000, "path": None,
         "name": None, "max_len": None, "fraction": 0.88 if kind == "sglang" else 0.9, "kv_dtype": "auto",
         "nnodes": 1, "rank": 0, "dist": None, "master_port": 29500, "headless": False, "tp": 1,
         "backend": None}
    if kind == "vllm":
        if not args or args[0] != "serve":
            sys.exit("usage: vllm serve MODEL [options]")
        args = args[1:]
        if args and not args[0].startswith("-"):
            o["path"] = args.pop(0)
    i = 0
    while i < len(args):
        a = args[i]
        val = args[i + 1] if i + 1 < len(args) else None
        if "=" in a and a.startswith("--"):
            a, val = a.split("=", 1)
            i -= 1
        if a in ("--model-path", "--model"):
            o["path"] = val
        elif a == "--served-model-name":
            o["name"] = val
        elif a == "--host":
            o["host"] = val
        elif a == "--port":
            o["port"] = int(val)
        elif a in ("--context-length", "--max-model-len"):
            o["max_len"] = int(val)
        elif a in ("--mem-fraction-static", "--gpu-memory-utilization"):
            o["fraction"] = float(val)
        elif a == "--kv-cache-dtype":
            o["kv_dtype"] = val
        elif a == "--nnodes":
            o["nnodes"] = int(val)
        elif a == "--node-rank":
            o["rank"] = int(val)
        elif a in ("--tp-size", "--tensor-parallel-size"):
            o["tp"] = int(val)
        elif a == "--dist-init-addr":
            host, port = val.rsplit(":", 1)
            o["dist"] = (host.strip("[]"), int(port))
        elif a == "--master-addr":
            o["dist"] = (val, (o["dist"] or (None, o["master_port"]))[1])
        elif a == "--master-port":
            o["master_port"] = int(val)
            o["dist"] = ((o["dist"] or (None, 0))[0], int(val))
        elif a == "--distributed-executor-backend":
            o["backend"] = val
        elif a == "--headless":
            o["headless"] = True
            i += 1
            continue
        elif a.startswith("--") and (val is None or val.startswith("--")):
            i += 1
            continue
        i += 2
    if not o["name"]:
        o["name"] = o["path"]  # without --served-model-name both show the path
    return o


O = parse(sys.argv[1:])
STATE = {"ready": False, "open": 0, "max_total_num_tokens": None}


def config():
    """config.json of the model folder (its text_config for multimodal ones)."""
    try:
        with open(os.path.join(O["path"], "config.json")) as f:
            c = json.load(f)
    except (OSError, TypeError, ValueError):
        return None
    return c.get("text_config") or c


def derived_max_len(c):
    """The longest context each engine accepts (SGLang: python/sglang/srt/
    utils/hf_transformers_utils.py get_context_length; vLLM: config/model.py
    _get_and_verify_max_len)."""
    rope = c.get("rope_scaling") or {}
    factor = rope.get("factor", 1) if isinstance(rope, dict) else 1
    rtype = rope.get("rope_type") or rope.get("type") if isinstance(rope, dict) else None
    if O["kind"] == "sglang":
        if "original_max_position_embeddings" in rope or rtype == "llama3":
            factor = 1
        for k in ("max_sequence_length", "seq_length", "max_seq_len", "model_max_length", "max_position_embeddings"):
            if c.get(k) is not None:
                return int(factor * c[k]), k
        return 2048, "default"
    keys = ("max_position_embeddings", "n_positions", "max_seq_len", "seq_length", "model_max_length",
            "max_target_positions", "max_sequence_length", "max_seq_length", "seq_len")
    found = [(c[k], k) for k in keys if c.get(k) is not None]
    if c.get("model_max_length") is not None:
        length, key = c["model_max_length"], "model_max_length"
    elif found:
        length, key = min(found)
    else:
        return 2048, "default"
    if rope and rtype not in ("su", "longrope", "llama3") and "gemma3" not in c.get("model_type", ""):
        if rtype == "yarn" and rope.get("original_max_position_embeddings"):
            length = rope["original_max_position_embeddings"]
        length *= rope.get("factor", 1.0)
    return int(length), key


def meminfo():
    with open(os.environ.get("SPARKCTL_MEMINFO") or "/proc/meminfo") as f:
        kb = dict(l.split(":", 1) for l in f if ":" in l)
    return int(kb["MemTotal"].split()[0]) * 1024, int(kb.get("MemAvailable", "0 kB").split()[0]) * 1024


def weights_bytes():
    total = 0
    for root, _, files in os.walk(O["path"] or "."):
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files
                     if f.endswith((".safetensors", ".gguf", ".bin")))
    return total


# vllm/model_executor/layers/quantization/modelopt.py QUANT_ALGOS
VLLM_MODELOPT_ALGOS = ["FP8", "FP8_PER_CHANNEL_PER_TOKEN", "FP8_PB_WO", "NVFP4", "W4A16_NVFP4", "MXFP8",
                       "MIXED_PRECISION"]


def refuse(msg):
    log(msg)
    sys.exit(1)


def validate():
    """What the engines check before they serve, with their messages."""
    c = config()
    if c is None:
        O["max_len"] = O["max_len"] or 32768
        return
    derived, key = derived_max_len(c)
    if O["max_len"] is not None and O["max_len"] > derived:
        if O["kind"] == "sglang":
            refuse("ValueError: User-specified context_length (%d) is greater than the derived context_length (%d). "
                   "To allow overriding this maximum, set the env var SGLANG_ALLOW_OVERWRITE_LONGER_CONTEXT_LEN=1"
                   % (O["max_len"], derived))
        refuse("ValueError: User-specified max_model_len (%d) is greater than the derived max_model_len "
               "(%s=%d or model_max_length=%s in model's config.json). To allow overriding this maximum, set the "
               "env var VLLM_ALLOW_LONG_MAX_MODEL_LEN=1." % (O["max_len"], key, derived, c.get("model_max_length")))
    O["max_len"] = O["max_len"] or derived
    try:
        with open(os.path.join(O["path"], "hf_quant_config.json")) as f:
            q = json.load(f).get("quantization") or {}
    except (OSError, ValueError):
        q = {}
    algo = q.get("quant_algo")
    if O["kv_dtype"] == "auto" and q.get("kv_cache_quant_algo") == "FP8":
        O["kv_dtype"] = "fp8_e4m3"  # ModelOpt's FP8 KV cache is detected
    if algo and O["kind"] == "vllm" and algo not in VLLM_MODELOPT_ALGOS:
        refuse("ValueError: ModelOpt currently only supports: %s quantizations in vLLM. Please check the "
               "`hf_quant_config.json` file for your model's quant configuration." % VLLM_MODELOPT_ALGOS)
    total, avail = meminfo()
    want = O["fraction"] * total
    if O["kind"] == "vllm" and avail < want:
        refuse("ValueError: Free memory on device (%.2f/%.2f GiB) on startup is less than desired GPU memory "
               "utilization (%.2f, %.2f GiB). Decrease GPU memory utilization or reduce GPU memory used by other "
               "processes." % (avail / 2**30, total / 2**30, O["fraction"], want / 2**30))
    if O["kind"] == "sglang":
        layers, kvh = c.get("num_hidden_layers", 0), c.get("num_key_value_heads", c.get("num_attention_heads", 0))
        hd = c.get("head_dim") or (c.get("hidden_size", 0) // max(1, c.get("num_attention_heads", 1)))
        size = 1 if O["kv_dtype"].startswith("fp8") else 2
        per_token = 2 * layers * kvh * hd * size
        rest = O["fraction"] * avail - weights_bytes()
        if per_token and rest <= 0:
            refuse("RuntimeError: Not enough memory. Please try to increase --mem-fraction-static.")
        if per_token:
            STATE["max_total_num_tokens"] = int(rest // per_token)
LOCK = threading.Lock()
REPLAY = None
if E("STANDIN_REPLAY"):
    with open(E("STANDIN_REPLAY"), encoding="utf-8") as f:
        REPLAY = json.load(f)


def replayed(req):
    """The answer of the replay file for the last user message, as an
    object, or None when the stand-in answers by itself."""
    if REPLAY is None:
        return None
    users = [m.get("content") for m in req.get("messages") or [] if m.get("role") == "user"]
    a = REPLAY.get(users[-1] if users else "", REPLAY.get("*"))
    if a is None:
        return None
    return {"content": a} if isinstance(a, str) else a


def opened(delta):
    with LOCK:
        STATE["open"] += delta
        if delta > 0 and E("STANDIN_OVERLAP"):
            with open(E("STANDIN_OVERLAP"), "a") as f:
                f.write("%d\n" % STATE["open"])


def log(msg):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


def record(path_var, line):
    if E(path_var):
        with LOCK, open(E(path_var), "a") as f:
            f.write(line + "\n")


def alive(what):
    record("STANDIN_ALIVE", "%s %s %d %d" % (what, O["name"], os.getpid(), time.time_ns()))


# SGLang's admin endpoints (python/sglang/srt/entrypoints/http_server.py):
# what a proxy must never pass on
ADMIN = ("/flush_cache", "/update_weights_from_disk", "/update_weights_from_tensor", "/release_memory_occupation",
         "/abort_request", "/start_profile", "/shutdown", "/configure_logging")


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # the engines serve with uvicorn, whose asyncio transports set TCP_NODELAY
    # (asyncio/selector_events.py, _set_nodelay): headers and body do not
    # wait for a delayed ACK
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        log("%s %s" % (self.command, self.path))

    def send(self, code, body, ctype="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def authorized(self):
        tok = E("STANDIN_TOKEN")
        if tok and self.headers.get("Authorization") != "Bearer " + tok:
            self.send(401, {"error": {"message": "Invalid API key", "type": "invalid_request_error",
                                      "code": 401}})
            return False
        return True

    def do_GET(self):
        if self.path == "/get_server_info":
            return self.send(200, {"max_total_num_tokens": STATE["max_total_num_tokens"], "context_length": O["max_len"],
                                   "mem_fraction_static": O["fraction"]})
        if self.path in ("/health", "/health_generate"):
            return self.send(200 if STATE["ready"] else 503, b"" if STATE["ready"] else b"loading", "text/plain")
        if self.path == "/v1/models":
            if not self.authorized():
                return
            if E("STANDIN_NOT_JSON"):
                return self.send(200, b"<html>not an API</html>", "text/html")
            mid = E("STANDIN_SERVED") or O["name"]
            return self.send(200, {"object": "list", "data": [{
                "id": mid, "object": "model", "created": int(time.time()), "owned_by": O["kind"],
                "root": O["path"], "parent": None, "max_model_len": O["max_len"]}]})
        self.send(404, {"detail": "Not Found"})

    def answer(self, req):
        """A non-streamed chat completion, as SGLang and vLLM shape it; with
        a reasoning parser the think block is message.reasoning_content."""
        time.sleep(int(E("STANDIN_ANSWER_MS", "0")) / 1000)
        a = replayed(req)
        if a is None:
            a = {"content": "Paris" if "one word" in json.dumps(req.get("messages")) else "Hello there!"}
        time.sleep(a.get("delay_ms", 0) / 1000)
        if a.get("status"):
            return self.send(a["status"], {"error": {"message": a.get("error", "stand-in error"),
                                                     "type": "BadRequestError", "code": a["status"]}})
        msg = {"role": "assistant", "content": a.get("content")}
        if "reasoning_content" in a:
            msg["reasoning_content"] = a["reasoning_content"]
        n = len((a.get("content") or "").split())
        return self.send(200, {"id": "chatcmpl-standin%d" % int(time.time() * 1000), "object": "chat.completion",
                               "created": int(time.time()), "model": O["name"],
                               "choices": [{"index": 0, "message": msg, "logprobs": None,
                                            "finish_reason": a.get("finish_reason", "stop")}],
                               "usage": {"prompt_tokens": 12, "completion_tokens": n, "total_tokens": 12 + n}})

    def request_for_us(self, raw):
        """The body as the engines take it: JSON naming the served model;
        None once refused as they refuse."""
        try:
            req = json.loads(raw)
        except ValueError:
            self.send(400, {"error": {"message": "bad JSON", "type": "BadRequestError", "code": 400}})
            return None
        if req.get("model") not in (O["name"], E("STANDIN_SERVED")):
            self.send(404, {"error": {"message": "The model `%s` does not exist." % req.get("model"),
                                             "type": "NotFoundError", "code": 404}})
            return None
        return req

    def other(self, raw):
        """The other OpenAI routes, in their shapes, enough to route by."""
        if self.request_for_us(raw) is None:
            return
        kind = self.path.rsplit("/", 1)[1]
        if kind == "embeddings":
            return self.send(200, {"object": "list", "model": O["name"],
                                   "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2, 0.3]}]})
        if kind == "responses":
            return self.send(200, {"id": "resp-standin", "object": "response", "model": O["name"], "status": "completed",
                                   "output": [{"type": "message", "role": "assistant",
                                               "content": [{"type": "output_text", "text": "Hello there!"}]}]})
        return self.send(200, {"id": "cmpl-standin", "object": "text_completion", "model": O["name"],
                               "choices": [{"index": 0, "text": "Hello there!", "finish_reason": "stop"}]})

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n)
        if STATE.get("wedged") or E("STANDIN_WEDGED"):
            while True:  # the generation waits on a rank that never answers
                time.sleep(3600)
        if self.path.startswith("/v1/"):
            record("STANDIN_HEADERS", json.dumps({"path": self.path, "headers": dict(self.headers.items())}))
        if self.path in ADMIN:
            record("STANDIN_ADMIN", self.path)
            return self.send(200, {"success": True})
        if self.path in ("/v1/completions", "/v1/embeddings", "/v1/responses"):
            return self.other(raw)
        if self.path != "/v1/chat/completions":
            return self.send(404, {"detail": "Not Found"})
        if E("STANDIN_RAW"):
            with open(E("STANDIN_RAW"), "rb") as f:
                data = f.read()
            if data.startswith(b"CLOSE\n"):
                with open(E("STANDIN_RAW"), "wb") as f:
                    f.write(data[6:])
                self.close_connection = True
                return
            self.wfile.write(data)
            self.wfile.flush()
            return
        if not self.authorized():
            return
        req = self.request_for_us(raw)
        if req is None:
            return
        if E("STANDIN_REQUESTS"):
            with LOCK, open(E("STANDIN_REQUESTS"), "a") as f:
                f.write(json.dumps(req) + "\n")
        if not req.get("stream"):
            opened(1)
            try:
                return self.answer(req)
            finally:
                opened(-1)
        words = ["Paris"] if "one word" in json.dumps(req.get("messages")) else ["Hello", " there", "!"]
        words = words[:max(1, int(req.get("max_tokens") or 16))]
        cid, created = "chatcmpl-standin%d" % int(time.time() * 1000), int(time.time())
        usage = {"prompt_tokens": 12, "completion_tokens": len(words), "total_tokens": 12 + len(words)}
        mode = E("STANDIN_STREAM", "")
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        def chunk(delta, finish=None, use=None):
            c = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": O["name"],
                 "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}
            if use is not None:
                c["choices"] = []
                c["usage"] = use
            return ("data: %s\n\n" % json.dumps(c)).encode()
        raw_out = self.wfile

        def put(data):
            raw_out.write(b"%x\r\n%s\r\n" % (len(data), data))
            raw_out.flush()

        def end():
            raw_out.write(b"0\r\n\r\n")
            raw_out.flush()
        gap = int(E("STANDIN_TOKEN_MS", "0")) / 1000
        if E("STANDIN_TOKENS"):
            words = [" w%d" % i for i in range(int(E("STANDIN_TOKENS")))]
        try:
            put(chunk({"role": "assistant", "content": ""}))
            time.sleep(int(E("STANDIN_TTFT_MS", "0")) / 1000)
            if mode == "nojson":
                put(b"data: {not json\n\n")
            elif mode == "broken":
                put(b"event without data\nrandom: noise\n\n")
            if mode == "error":
                put(chunk({"content": "Hel"}))
                put(("data: %s\n\n" % json.dumps({"error": {"code": 500, "message": "context shift is disabled",
                                                              "type": "server_error"}})).encode())
                end()
                return
            if mode == "endless":
                for i in range(10 ** 8):  # bounded: far past any client's cap
                    put(chunk({"content": " more"}))
                    time.sleep(gap)
            if mode != "empty":
                for i, w in enumerate(words):
                    put(chunk({"content": w}))
                    if mode == "cut" and i == 0:
                        self.close_connection = True  # no last chunk: cut short
                        return
                    time.sleep(gap)
            put(chunk({}, "stop"))
            if (req.get("stream_options") or {}).get("include_usage"):
                put(chunk({}, use={**usage, "completion_tokens": 0 if mode == "empty" else len(words)}))
            put(b"data: [DONE]\n\n")
            end()
        except (BrokenPipeError, ConnectionResetError):
            record("STANDIN_CLOSED", "closed %d" % time.time_ns())
            self.close_connection = True


PEERS = []


def lost_peer():
    """As NCCL: the survivors do not exit, they wait."""
    log("peer lost: waiting on it (a collective that never completes)")
    STATE["wedged"] = True


def join_ranks():
    """Rank 0 waits for every other rank at the dist address; the others
    connect to it (retrying while it is not up yet)."""
    import socket
    host, port = O["dist"]
    if O["kind"] == "sglang" and O["tp"] % O["nnodes"]:
        refuse("AssertionError: tp_size must be divisible by number of nodes")
    if O["rank"] == 0:
        srv = socket.create_server((host, port), reuse_port=False)
        while len(PEERS) < O["nnodes"] - 1:
            c, _ = srv.accept()
            rank = c.recv(64).decode().strip()
            log("rank %s joined" % rank)
            PEERS.append(c)
        log("all %d ranks joined" % O["nnodes"])
    else:
        deadline = time.time() + 120
        while True:
            try:
                c = socket.create_connection((host, port), timeout=2)
                break
            except OSError:
                if time.time() > deadline:
                    refuse("RuntimeError: could not reach the head at %s:%d" % (host, port))
                time.sleep(0.1)
        c.sendall(b"%d\n" % O["rank"])
        PEERS.append(c)
        log("joined the head at %s:%d as rank %d" % (host, port, O["rank"]))

    def watch(c):
        try:
            while c.recv(1):
                pass
        except OSError:
            pass
        lost_peer()
    for c in PEERS:
        threading.Thread(target=watch, args=(c,), daemon=True).start()


def dummy_health():
    """SGLang's ranks >= 1: a /health that always answers 200."""
    class D(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
    ThreadingHTTPServer((O["host"], O["port"]), D).serve_forever()


def ray_placement():
    """vLLM on Ray (vllm/executor/ray_utils.py): the cluster at RAY_ADDRESS
    must have a GPU for every worker (one a Spark), else it refuses."""
    import socket
    host, port = os.environ.get("RAY_ADDRESS", "127.0.0.1:6379").rsplit(":", 1)
    deadline, have = time.time() + 30, 0
    while time.time() < deadline:
        try:
            c = socket.create_connection((host.strip("[]"), int(port)), timeout=2)
            c.sendall(b"nodes\n")
            have = int(c.recv(64) or b"0")
            c.close()
        except (OSError, ValueError):
            have = 0
        if have >= O["tp"]:
            log("placement group ready: %d GPUs on %d nodes" % (have, have))
            return
        time.sleep(0.2)
    refuse("ValueError: The number of required GPUs exceeds the total number of available GPUs in the placement "
           "group. (%d needed, %d in the Ray cluster)" % (O["tp"], have))


def main():
    validate()
    if O.get("backend") == "ray":
        ray_placement()
    if O["nnodes"] > 1:
        log("env " + " ".join("%s=%s" % (k, os.environ[k]) for k in
                              ("NCCL_SOCKET_IFNAME", "GLOO_SOCKET_IFNAME", "TP_SOCKET_IFNAME", "UCX_NET_DEVICES",
                               "NCCL_IB_HCA", "SGLANG_HOST_IP", "X_INJECT") if k in os.environ))
        join_ranks()
        if O["rank"] > 0:
            alive("start")
            signal.signal(signal.SIGTERM, lambda *a: (log("SIGTERM: shutting down"), alive("exit"), os._exit(0)))
            if O["kind"] == "sglang":
                dummy_health()
            while True:
                time.sleep(3600)
    down = E("STANDIN_REQUIRE_DOWN")
    if down:
        import socket
        try:
            socket.create_connection(("127.0.0.1", int(down)), timeout=1).close()
            log("FATAL: port %s still answers: two models would be loaded" % down)
            sys.exit(3)
        except OSError:
            log("port %s is free" % down)
    if E("STANDIN_IGNORE_TERM"):
        signal.signal(signal.SIGTERM, lambda *a: log("SIGTERM ignored"))
    else:
        signal.signal(signal.SIGTERM, lambda *a: (log("SIGTERM: shutting down"), alive("exit"), os._exit(0)))
    for i in range(int(E("STANDIN_CHILDREN", "0"))):
        if os.fork() == 0:
            if not E("STANDIN_IGNORE_TERM"):
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
            while True:
                time.sleep(3600)
    alive("start")
    log("%s stand-in: model %s, served as %s, on %s:%d" % (O["kind"], O["path"], O["name"], O["host"], O["port"]))
    if E("STANDIN_EXIT"):
        def crash():
            time.sleep(int(E("STANDIN_EXIT_AFTER_MS", "100")) / 1000)
            log("RuntimeError: CUDA error: out of memory (stand-in crash)")
            alive("exit")
            os._exit(int(E("STANDIN_EXIT")))
        threading.Thread(target=crash, daemon=True).start()
    load = int(E("STANDIN_LOAD_MS", "0")) / 1000
    if E("STANDIN_BIND_LATE"):
        log("loading weights")
        time.sleep(load)
    # uvicorn listens with a backlog of 2048; http.server's default of 5
    # would drop the SYNs of a burst and stall it for seconds
    ThreadingHTTPServer.request_queue_size = 2048
    srv = ThreadingHTTPServer((O["host"], O["port"]), H)
    srv.daemon_threads = True

    def ready():
        if not E("STANDIN_BIND_LATE"):
            log("loading weights")
            time.sleep(load)
        STATE["ready"] = True
        log("The server is fired up and ready to roll!")
    threading.Thread(target=ready, daemon=True).start()
    srv.serve_forever()


if __name__ == "__main__":
    main()
