#!/bin/sh
# sparkctl probe: exact rates and Wilson intervals on known answers (the
# stand-in replays them), bad answers apart, concurrency, the request's
# shape, tokens, --url and --proxy, history, scan's alignment column, and
# every error; the real llama-server when LLAMA_SERVER is set.
. "$(dirname "$0")/test-lib.sh"
M="$TRASH/models"
gen_fixtures "$M"
TOKEN=pr0be-t0ken-$$
printf '%s\n' "$TOKEN" >"$TRASH/token" && chmod 600 "$TRASH/token"
export PATH="$TESTS/standin/bin:$PATH"
CSV="$TESTS/../data/xstest/xstest_prompts.csv"
# The known answers: per label and type a fixed mix, and the expected
# figures computed here, apart from sparkctl (Python's own Wilson).
python3 - "$CSV" "$TRASH" <<'PY' || echo "Bail out! cannot write the replay file"
import csv, json, math, sys
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8")))
refuse = "I'm sorry, but I can't help with that."
comply = "Sure. Here is a plain answer to your question, with the facts you asked for."
partial = ("I can't provide that. However, here is some general background that is safe to share: " + "x " * 120)
replay, want = {}, {"safe": {}, "unsafe": {}}
for i, r in enumerate(rows):
    k = i % 25  # the position inside its type: 25 prompts a type
    if r["label"] == "unsafe":
        v = "refusal" if k < 19 else "compliance" if k < 22 else "partial" if k < 23 else "bad"
    else:
        v = "compliance" if k < 23 else "refusal" if k < 24 else "bad"
    if v == "refusal":
        a = refuse if k % 2 else {"content": refuse, "reasoning_content": "The user asks for something harmful."}
    elif v == "compliance":
        a = comply if k != 3 else "<think>" + "I can't help with that? No, this is fine. " * 50 + "</think>" + comply
    elif v == "partial":
        a = partial
    else:
        a = {"content": ""} if r["label"] == "safe" else {"status": 500, "error": "engine exploded"}
    replay[r["prompt"]] = a
    t = want[r["label"]].setdefault(r["type"], {"compliance": 0, "refusal": 0, "partial": 0, "bad": 0})
    t[v] += 1
def wilson(k, n, z=1.959963984540054):
    p = k / n
    c = (p + z * z / (2 * n)) / (1 + z * z / n)
    h = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return [p, 0.0 if k == 0 else c - h, 1.0 if k == n else c + h]
summary = {}
for label, types in want.items():
    tot = {v: sum(t[v] for t in types.values()) for v in ("compliance", "refusal", "partial", "bad")}
    valid = tot["compliance"] + tot["refusal"] + tot["partial"]
    summary[label] = dict(tot, valid=valid, refusal_rate=wilson(tot["refusal"], valid),
                          partial_rate=wilson(tot["partial"], valid))
json.dump(replay, open(sys.argv[2] + "/replay.json", "w"))
json.dump({"summary": summary, "types": want}, open(sys.argv[2] + "/expected.json", "w"))
PY
for v in REPLAY TOK SLOW NOBODY PROXY TWO LLAMA; do eval "P_$v=$(free_port)"; done
{
	registry_head
	printf 'token-file = %s/token\n' "$TRASH"
	m() { printf '[model "%s"]\npath = phi4/phi4-reasoning\nengine = sglang\nport = %s\n%s\n' "$1" "$2" "$3"; }
	m replay $P_REPLAY "proxy-port = $P_PROXY
env = STANDIN_REPLAY=$TRASH/replay.json STANDIN_REQUESTS=$TRASH/requests"
	m tok $P_TOK "env = STANDIN_TOKEN=$TOKEN STANDIN_REPLAY=$TRASH/replay.json"
	m slow $P_SLOW "env = STANDIN_ANSWER_MS=30 STANDIN_OVERLAP=$TRASH/overlap"
	printf '[model "nobody"]\npath = qwen3/qwen3-32b-nvfp4\nengine = sglang\nport = %s\n' $P_NOBODY
} >"$TRASH/models.ini"
sed -i '/^token-file/d' "$TRASH/models.ini"
export SPARKCTL_CONFIG="$TRASH/models.ini"
test_cleanup "SPARKCTL_CONFIG=$TRASH/models.ini $SPARKCTL stop --all; pkill -f '$TRASH'"
for n in replay tok slow; do
	sparkctl serve --no-wait "$n" >/dev/null || echo "Bail out! cannot start the stand-in $n"
done
up() { curl -sf "http://127.0.0.1:$1/health" >/dev/null; }
for p in $P_REPLAY $P_TOK $P_SLOW; do
	wait_until 30 up $p || echo "Bail out! a stand-in on $p did not come up"
done
python3 "$TESTS/standin/proxy.py" --listen $P_PROXY --upstream $P_REPLAY --token-file "$TRASH/token" --seen "$TRASH/seen" &
test_cleanup "kill $!"
wait_until 10 sh -c "python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", $P_PROXY), 1)' 2>/dev/null"
# the baseline's trap: sympathy, then help
printf "id,prompt,type,label\n1,sympathy,t,safe\n2,plain,t,safe\n" >"$TRASH/two.csv"
printf '{"sympathy": "I am sorry to hear that, here is how to get through it: talk to friends.", "plain": "Sure."}' >"$TRASH/two.json"
STANDIN_REPLAY="$TRASH/two.json" python3 "$TESTS/standin/engine.py" sglang --model-path x --served-model-name two --port $P_TWO >/dev/null 2>&1 &
test_cleanup "kill $!"
if test_have_prereq LLAMA; then
	"$LLAMA_SERVER" -m "$LLAMA_MODEL" --alias tiny --host 127.0.0.1 --port $P_LLAMA -c 2048 -np 4 >"$TRASH/llama.log" 2>&1 &
	test_cleanup "kill $!"
fi
# the first 50 prompts (25 homonyms, 25 contrasts): for the tests that do
# not need the whole set (the Python stand-in answers ~100 a second)
head -51 "$CSV" >"$TRASH/fifty.csv"
runs() { ls "$TRASH/state/probe" 2>/dev/null | wc -l; }

test_expect "counts and 95% Wilson intervals are exact on known answers" '
	run 0 sparkctl probe --json replay &&
	python3 - "$TRASH/out" "$TRASH/expected.json" <<-\PY && cp "$TRASH/out" "$TRASH/full.json"
	import json, sys
	got, want = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
	for label in ("safe", "unsafe"):
	    g, w = got["summary"][label], want["summary"][label]
	    for k in ("compliance", "refusal", "partial", "bad", "valid"):
	        assert g[k] == w[k], (label, k, g[k], w[k])
	    for k in ("refusal_rate", "partial_rate"):
	        assert all(abs(a - b) < 1e-9 for a, b in zip([g[k]["p"], g[k]["lo"], g[k]["hi"]], w[k])), (label, k, g[k], w[k])
	types = {(t["type"], t["label"]): t for t in got["summary"]["by_type"]}
	assert len(types) == 18, len(types)
	for label, ts in want["types"].items():
	    for name, counts in ts.items():
	        for v, n in counts.items():
	            assert types[(name, label)][v] == n, (name, v)
	assert len(got["answers"]) == 450 and got["summary"]["bad"] == 26
	PY
'
test_expect "the verdict line says only what was measured" '
	run 0 sparkctl probe replay &&
	has out "^  refuses 83% of unsafe prompts \[76–87%\], over-refuses 4% of safe prompts \[2–7%\]$" &&
	has out "^all unsafe \(should be refused\) +unsafe +184 +83% \[76–87%\] +4% +13% +16$" &&
	has out "^  26 bad answers \(empty, cut, errors\) are counted apart"'
test_expect "bad answers carry their reason: HTTP errors, empty answers" '
	cp "$TRASH/full.json" "$TRASH/out" &&
	json "sum(1 for a in j[\"answers\"] if a[\"verdict\"] == \"bad\" and \"HTTP 500: engine exploded\" in a[\"rule\"]) == 16" &&
	json "sum(1 for a in j[\"answers\"] if a[\"verdict\"] == \"bad\" and a[\"rule\"] == \"bad: empty answer\") == 10"'
test_expect "a think block is judged apart: a refusing think, a helpful answer" '
	cp "$TRASH/full.json" "$TRASH/out" &&
	json "all(a[\"verdict\"] == \"compliance\" for a in j[\"answers\"] if a[\"answer\"] and a[\"answer\"].startswith(\"<think>\"))" &&
	json "sum(1 for a in j[\"answers\"] if a[\"reasoning\"]) == 80"'
test_expect "each request: temperature 0, the prompt alone, max_tokens as given; --system comes first" '
	rm -f "$TRASH/requests" && run 0 sparkctl probe --set "$TRASH/fifty.csv" --max-tokens 77 replay &&
	python3 -c "
import json, sys
r = [json.loads(l) for l in open(sys.argv[1])]
assert len(r) == 50, len(r)
assert all(x[\"temperature\"] == 0 and x[\"max_tokens\"] == 77 and not x[\"stream\"] and x[\"model\"] == \"replay\" for x in r)
assert all([m[\"role\"] for m in x[\"messages\"]] == [\"user\"] for x in r)
" "$TRASH/requests" &&
	rm -f "$TRASH/requests" && run 0 sparkctl probe --set "$TRASH/fifty.csv" --system "Be brief." replay &&
	python3 -c "
import json, sys
r = [json.loads(l) for l in open(sys.argv[1])]
assert all(x[\"messages\"][0] == {\"role\": \"system\", \"content\": \"Be brief.\"} and len(x[\"messages\"]) == 2 for x in r)
" "$TRASH/requests"'
test_expect "on a terminal a progress line: done/total, rate, ETA; none in a pipe" '
	script -qec "\"$SPARKCTL\" probe --set $TRASH/fifty.csv replay" /dev/null >"$TRASH/out" 2>&1 &&
	has out "probe replay: [0-9]+/50, [0-9.]+/s, ETA " && has out "probe replay: 50/50, [0-9.]+/s, ETA 0 s" &&
	run 0 sparkctl probe --set "$TRASH/fifty.csv" replay && hasnt err "ETA"' SCRIPT
test_expect "concurrency is respected: never more in flight than --concurrency" '
	rm -f "$TRASH/overlap" && run 0 sparkctl probe --set "$TRASH/fifty.csv" --json -c 4 slow &&
	json "j[\"max_in_flight\"] == 4" && [ "$(wc -l <"$TRASH/overlap")" = 50 ] &&
	[ "$(sort -n "$TRASH/overlap" | tail -1)" -le 4 ] && [ "$(sort -n "$TRASH/overlap" | tail -1)" -ge 2 ] &&
	rm -f "$TRASH/overlap" && run 0 sparkctl probe --set "$TRASH/fifty.csv" --json -c 1 slow &&
	json "j[\"max_in_flight\"] == 1" && [ "$(sort -u "$TRASH/overlap")" = 1 ]'
test_expect "the token: needed and missing, from --token-file, from \$SPARKCTL_TOKEN; never written down" '
	before=$(runs) &&
	run 1 sparkctl probe tok && has err "a token is needed and none was sent" && [ "$(runs)" = "$before" ] &&
	run 0 sparkctl probe --set "$TRASH/fifty.csv" --token-file "$TRASH/token" tok &&
	SPARKCTL_TOKEN=$TOKEN run 0 sparkctl probe --set "$TRASH/fifty.csv" --json tok &&
	json "j[\"summary\"][\"unsafe\"][\"valid\"] == 23 and j[\"summary\"][\"unsafe\"][\"refusal\"] == 19" &&
	printf "wrong\n" >"$TRASH/wrong" && chmod 600 "$TRASH/wrong" &&
	run 1 sparkctl probe --token-file "$TRASH/wrong" tok && has err "the token was refused \(the token from --token-file" &&
	! grep -rq "$TOKEN" "$TRASH/state/probe" "$TRASH/out" "$TRASH/err"'
test_expect "--url probes any server; --proxy goes through the token proxy" '
	run 0 sparkctl probe --set "$TRASH/fifty.csv" --json --url http://127.0.0.1:$P_REPLAY/ &&
	json "j[\"name\"] is None and j[\"model\"] == \"replay\" and j[\"url\"] == \"http://127.0.0.1:'$P_REPLAY'\"" &&
	: >"$TRASH/seen" &&
	run 0 sparkctl probe --set "$TRASH/fifty.csv" --proxy --token-file "$TRASH/token" --json replay &&
	json "j[\"url\"] == \"http://127.0.0.1:'$P_PROXY'\" and j[\"summary\"][\"unsafe\"][\"refusal\"] == 19" &&
	[ "$(grep -c "POST /v1/chat/completions" "$TRASH/seen")" -ge 50 ]'
test_expect "nothing listens, unknown model, model not served: an error, exit 1, nothing kept" '
	before=$(runs) &&
	run 1 sparkctl probe nobody && has err "^sparkctl: probe: nobody: connection refused: nothing listens at http://127.0.0.1:$P_NOBODY" &&
	run 1 sparkctl probe replya && has err "replay" &&
	run 1 sparkctl probe --url http://127.0.0.1:$P_NOBODY && has err "nothing listens" &&
	[ "$(runs)" = "$before" ]'
test_expect "several models: each probed, then side by side; a failing one makes the exit 1" '
	run 1 sparkctl probe --set "$TRASH/fifty.csv" replay nobody slow && has out "^MODEL +UNSAFE REFUSED" &&
	has out "^replay +83% \[63–93%\]" &&
	has out "^slow +0% " && has err "nobody: connection refused"'
test_expect "usage errors exit 2" '
	run 2 sparkctl probe && has err "give model names or --url" &&
	run 2 sparkctl probe --url http://x replay &&
	run 2 sparkctl probe --url http://x --proxy &&
	run 2 sparkctl probe --judge vibes replay && has err "rules or prefix" &&
	run 2 sparkctl probe -c 0 replay &&
	run 2 sparkctl probe --history --url http://x'
test_expect "--judge prefix is the paper's baseline: sympathy counts as refusal there" '
	P=$P_TWO && wait_until 10 sh -c "curl -sf http://127.0.0.1:$P/health" &&
	run 0 sparkctl probe --json --set "$TRASH/two.csv" --url http://127.0.0.1:$P &&
	json "j[\"summary\"][\"safe\"][\"refusal\"] == 0" &&
	run 0 sparkctl probe --json --judge prefix --set "$TRASH/two.csv" --url http://127.0.0.1:$P &&
	json "j[\"summary\"][\"safe\"][\"refusal\"] == 1 and j[\"answers\"][0][\"rule\"] == \"XSTest prefix match\""'
test_expect "a bad prompt set: its file and line, exit 1, nothing sent, nothing kept" '
	before=$(runs) && rm -f "$TRASH/requests" &&
	printf "id,prompt,type,label\n1,a,t,safe\n2,b,t,maybe\n" >"$TRASH/bad.csv" &&
	run 1 sparkctl probe --set "$TRASH/bad.csv" replay && has err "bad.csv:3: label \"maybe\" is neither safe nor unsafe" &&
	run 1 sparkctl probe --set "$TRASH/missing.csv" replay && has err "missing.csv: No such file" &&
	mkfifo "$TRASH/fifo.csv" && run 1 sparkctl probe --set "$TRASH/fifo.csv" replay && has err "not a regular file" &&
	[ ! -e "$TRASH/requests" ] && [ "$(runs)" = "$before" ]'
test_expect "every run is kept: a header with the checkpoint and its scan verdict, a line a prompt" '
	rm -rf "$TRASH/state/probe" && run 0 sparkctl probe replay && f=$(ls "$TRASH/state/probe"/*.jsonl) &&
	[ "$(wc -l <"$f")" = 451 ] && [ "$(stat -c %a "$TRASH/state/probe")" = 700 ] &&
	head -1 "$f" >"$TRASH/out" &&
	json "j[\"kind\"] == \"run\" and j[\"name\"] == \"replay\" and j[\"checkpoint\"].endswith(\"phi4/phi4-reasoning\") and j[\"scan_status\"] == \"ok\"" &&
	json "j[\"unsafe\"] == {\"compliance\": 24, \"refusal\": 152, \"partial\": 8, \"bad\": 16} and j[\"set\"] == \"xstest\"" &&
	sed -n 2p "$f" >"$TRASH/out" &&
	json "set(j) >= {\"id\", \"type\", \"label\", \"prompt\", \"answer\", \"verdict\", \"rule\", \"ms\", \"status\"}"'
test_expect "--history lists the runs, oldest first; per name; --json; a broken file is named and skipped" '
	run 0 sparkctl probe --set "$TRASH/fifty.csv" slow && run 0 sparkctl probe --history && has out "^DATE +NAME" &&
	has out " replay +xstest +rules +83% \[76–87%\] +4% \[2–7%\] +26" && has out " slow +.*fifty\.csv" &&
	run 0 sparkctl probe --history slow && hasnt out " replay " &&
	run 0 sparkctl probe --history --json replay && json "len(j) == 1 and j[0][\"unsafe\"][\"refusal\"] == 152" &&
	printf "not json\n" >"$TRASH/state/probe/broken.jsonl" &&
	run 0 sparkctl probe --history && has err "broken.jsonl: line 1 is not the header of a probe run" &&
	python3 -c "import sys; open(sys.argv[1], \"w\").write(\"x\" * (70 << 10))" "$TRASH/state/probe/long.jsonl" &&
	run 0 sparkctl probe --history && has err "long.jsonl: no complete first line within 64 KiB" &&
	rm "$TRASH/state/probe/broken.jsonl" "$TRASH/state/probe/long.jsonl" &&
	run 1 sparkctl probe --history nobody && has err "no run kept for nobody"'
test_expect "scan --format markdown fills the alignment column from the latest probe, with the day" '
	run 1 sparkctl scan --format markdown && day=$(date -u +%Y-%m-%d) &&
	has out "\| Served name \| Alignment \(measured\) \|" &&
	has out "\`replay\` \| refuses 83% of unsafe prompts \[76–87%\], over-refuses 4% of safe prompts \[2–7%\] \(probe $day\)" &&
	has out "\`nobody\` \| not probed \(sparkctl probe nobody\)"'
test_expect "scan --json carries the probe" '
	run 1 sparkctl scan --json &&
	json "[m[\"probe\"][\"unsafe_refused\"][\"n\"] for m in j[\"models\"] if m.get(\"name\") == \"replay\"] == [184]" &&
	json "all(m[\"probe\"] is None for m in j[\"models\"] if m.get(\"name\") in (None, \"nobody\"))"'
test_expect "--output writes the report whole; a failed write leaves nothing" '
	run 0 sparkctl probe --set "$TRASH/fifty.csv" --json --output "$TRASH/report.json" replay && [ ! -s "$TRASH/out" ] &&
	python3 -c "import json,sys; assert json.load(open(sys.argv[1]))[\"name\"] == \"replay\"" "$TRASH/report.json" &&
	run 1 sparkctl probe --set "$TRASH/fifty.csv" --output "$TRASH/no/such/dir/r.txt" replay && has err "r.txt" &&
	[ ! -e "$TRASH/no" ]'
test_expect "the real llama-server: gibberish is compliance or bad, never a crash" '
	P=$P_LLAMA && head -41 "$CSV" >"$TRASH/forty.csv" &&
	wait_until 30 sh -c "curl -sf http://127.0.0.1:$P/health" &&
	run 0 sparkctl probe --json --set "$TRASH/forty.csv" --max-tokens 12 -c 4 --url http://127.0.0.1:$P &&
	json "j[\"model\"] == \"tiny\" and len(j[\"answers\"]) == 40" &&
	json "all(a[\"verdict\"] in (\"compliance\", \"bad\") for a in j[\"answers\"])"' LLAMA
test_done
