#!/bin/sh
# sparkctl download against a hostile Hub and CDN: redirects to other
# protocols, bodies without end, absurd waits, listings that loop or lie.
. "$(dirname "$0")/test-lib.sh"
SRC="$TRASH/src"
mkdir -p "$SRC"
head -c 300000 /dev/urandom >"$SRC/weights.bin"
echo '{"a": 1}' >"$SRC/config.json"
echo '{"v": 2}' >"$SRC/model..v2.json"
# a name that would draw a fake line on the terminal
printf 'x' >"$SRC/$(printf 'a\033[2K\rfetched evil.bin')"
HUB=$(free_port) CDN=$(free_port)
python3 "$TESTS/standin/hub.py" --dir "$SRC" --repo org/evil --port $HUB --cdn-port $CDN --lfs-min 100000 &
test_cleanup "kill $!"
export HF_ENDPOINT="http://127.0.0.1:$HUB" HF_HOME="$TRASH/hf" SPARKCTL_CONFIG=/dev/null
unset HF_TOKEN HUGGING_FACE_HUB_TOKEN HF_TOKEN_PATH HF_HUB_OFFLINE
ctl() { python3 -c 'import json,sys,urllib.request; urllib.request.urlopen(urllib.request.Request(sys.argv[1] + "/_control", data=sys.argv[2].encode(), headers={"Content-Type": "application/json"}))' "$HF_ENDPOINT" "$1"; }
reset() { ctl '{"redirect": null, "endless": false, "endless_error": 0, "ratelimit": 0, "retry_after": "1", "self_link": false, "extra": [], "pad": 0}'; }
wait_until 10 sh -c "python3 -c 'import urllib.request; urllib.request.urlopen(\"$HF_ENDPOINT/_stats\")' 2>/dev/null" ||
	echo "Bail out! the Hub stand-in did not start"
# a local service that a gopher:// redirect would write to
GOPHER=$(free_port)
python3 - $GOPHER "$TRASH/gopher.seen" <<'PY' &
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8); s.settimeout(120)
try:
    while True:
        c, _ = s.accept(); c.settimeout(2)
        try:
            data = c.recv(4096)
        except OSError:
            data = b""
        open(sys.argv[2], "ab").write(b"CONNECTED " + data)
        c.close()
except OSError:
    pass
PY
test_cleanup "kill $!"
nothing_kept() { [ ! -e "$1/weights.bin" ] && [ -z "$(find "$1/.sparkctl/partial" -type f -size +0 2>/dev/null)" ]; }

test_expect "a redirect to gopher:// is refused and the local port never sees a byte" '
	reset && ctl "{\"redirect\": \"gopher://127.0.0.1:$GOPHER/_POST%20/admin\"}" &&
	run 1 timeout 20 "$SPARKCTL" download --to "$TRASH/g" org/evil && has err "weights.bin: refused: HTTP 302 redirects to gopher" &&
	[ ! -e "$TRASH/gopher.seen" ] && nothing_kept "$TRASH/g"'
test_expect "a redirect to file:///etc/passwd is refused, nothing of it is kept" '
	reset && ctl "{\"redirect\": \"file:///etc/passwd\"}" &&
	run 1 timeout 20 "$SPARKCTL" download --to "$TRASH/f" org/evil && has err "refused: HTTP 302 redirects to file" &&
	nothing_kept "$TRASH/f" && ! grep -rqs "root:" "$TRASH/f"'
test_expect "a redirect to file:///dev/zero ends at once" '
	reset && ctl "{\"redirect\": \"FILE:///dev/zero\"}" &&
	run 1 timeout 20 "$SPARKCTL" download --to "$TRASH/z" org/evil && has err "refused: HTTP 302 redirects to file"'
test_expect "a CDN that sends more than the listed size is cut at that size, nothing kept" '
	reset && ctl "{\"endless\": true}" &&
	run 1 timeout 30 "$SPARKCTL" download --to "$TRASH/e" org/evil &&
	has err "weights.bin: refused: the server sent more than the 300000 bytes the listing gives" && nothing_kept "$TRASH/e"'
test_expect "an error answer without end is cut, retried, and the download then succeeds" '
	reset && ctl "{\"endless_error\": 1}" &&
	run 0 timeout 60 "$SPARKCTL" download --to "$TRASH/ee" org/evil && cmp "$SRC/weights.bin" "$TRASH/ee/weights.bin"'
test_expect "a listing page that names itself as the next page stops at once" '
	reset && ctl "{\"self_link\": true}" &&
	run 1 timeout 20 "$SPARKCTL" download --to "$TRASH/l" org/evil && has err "the listing loops"'
test_expect "a listing page of 17 MiB is read; one over 64 MiB is refused in words" '
	reset && ctl "{\"pad\": 17825792}" && run 0 "$SPARKCTL" download --to "$TRASH/big" org/evil &&
	ctl "{\"pad\": 68157440}" && run 1 "$SPARKCTL" download --to "$TRASH/huge" org/evil &&
	has err "the answer is larger than 64 MiB; sparkctl reads no more of it"'
blob=0123456789abcdef0123456789abcdef01234567
for bad in "{\"type\": \"file\", \"path\": \".sparkctl/meta/config.json.json\", \"size\": 10, \"oid\": \"$blob\"}|under .sparkctl/" \
	"{\"type\": \"file\", \"path\": \"nohash.json\", \"size\": 10}|cannot verify" \
	"{\"type\": \"file\", \"path\": \"lfsnohash.bin\", \"size\": 10, \"oid\": \"$blob\", \"lfs\": {\"size\": 10}}|cannot verify" \
	"{\"type\": \"file\", \"path\": \"config.json\", \"size\": 9, \"oid\": \"$blob\"}|names \"config.json\" twice" \
	"{\"type\": \"file\", \"path\": \"a/../../x\", \"size\": 9, \"oid\": \"$blob\"}|unsafe path" \
	"{\"type\": \"file\", \"path\": \"a//x\", \"size\": 9, \"oid\": \"$blob\"}|unsafe path"; do
	entry=${bad%|*} why=${bad#*|}
	test_expect "a listing entry is refused before anything is fetched: $why" '
		reset && ctl "{\"extra\": [$entry]}" && run 1 "$SPARKCTL" download --to "$TRASH/x" org/evil &&
		has err "refused: .*$why" && [ ! -e "$TRASH/x/config.json" ]'
done
test_expect "a file named model..v2.json is fine: only a segment equal to .. is unsafe" '
	reset && run 0 "$SPARKCTL" download --to "$TRASH/ok" org/evil && cmp "$SRC/model..v2.json" "$TRASH/ok/model..v2.json"'
test_expect "a file name with terminal escapes is printed escaped, never raw" '
	reset && run 0 "$SPARKCTL" download --to "$TRASH/esc" org/evil && ! grep -q "$(printf "\033")" "$TRASH/out" "$TRASH/err" &&
	has out "^fetched a\\\\e\[2K\\\\x0dfetched evil.bin"'
test_expect "HF_TOKEN with CR/LF is refused, naming the variable and never the token" '
	HF_TOKEN="$(printf "hf_abc\r\nX-Injected: 1")" run 1 "$SPARKCTL" download --to "$TRASH/tok" org/evil &&
	has err "HF_TOKEN holds a control character" && hasnt err "hf_abc|Injected" && [ ! -e "$TRASH/tok/config.json" ]'
for id in ../x org/.. ./x -org/x org/-x org/x. "org/a b" org org/x/y; do
	test_expect "the repository id \"$id\" is refused before any request" '
		run 2 "$SPARKCTL" download --to "$TRASH/r" -- "'"$id"'" && has err "is not a Hub repository id" && [ ! -e "$TRASH/r" ]'
done
test_expect "download of a file:// URL or a URL ending in .. is refused" '
	run 2 "$SPARKCTL" download --to "$TRASH/u" file:///etc/passwd && has err "only http:// and https:// URLs" &&
	run 2 "$SPARKCTL" download --to "$TRASH/u" "http://127.0.0.1:$HUB/a/.." && has err "not a file name" && [ ! -e "$TRASH/passwd" ]'
if command -v script >/dev/null; then
	test_expect "Retry-After: 2000000000 waits 5 minutes at most, and the terminal says so" '
		reset && ctl "{\"ratelimit\": 1, \"retry_after\": \"2000000000\"}" &&
		{ script -qec "\"$SPARKCTL\" download --to \"$TRASH/ra\" org/evil" /dev/null >"$TRASH/out" 2>&1 & pid=$!; } &&
		test_when_finished "kill $pid; pkill -f \"download --to $TRASH/ra\"" &&
		wait_until 20 grep -Eq "retry 1/5 of .+ in (299|300) s: HTTP 429" "$TRASH/out"'
else
	echo "ok - # SKIP script(1) is missing"
fi
test_done
