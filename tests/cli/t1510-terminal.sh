#!/bin/sh
# The tables on a real terminal (tmux) at 60, 80 and 120 columns: no row
# wraps; piped, every value stays whole.
. "$(dirname "$0")/test-lib.sh"
M="$TRASH/models"
gen_fixtures "$M"
P1=$(free_port)
{ registry_head sglang-with-a-long-name && cat <<INI
[model "deepseek-r1-8b-abliterated-bf16"]
path = deepseek/josiefied-r1-0528-qwen3-8b-abliterated-v1
engine = sglang-with-a-long-name
port = $P1
group = big
INI
} >"$TRASH/models.ini"
export SPARKCTL_CONFIG="$TRASH/models.ini"
SOCK="sparkctl-test-$$"
test_cleanup "SPARKCTL_CONFIG=$TRASH/models.ini $SPARKCTL stop --all"

# screen WIDTH CMD...: run CMD in a tmux window WIDTH columns wide; the
# screen as shown goes to $TRASH/screen, with wrapped rows joined to
# $TRASH/joined (tmux capture-pane -J): a wrapped row makes them differ.
screen() {
	_w=$1 _n=$((${_n:-0} + 1))
	shift
	_s="$SOCK-$_n"
	tmux -L "$_s" new-session -d -x "$_w" -y 200 -s t \
		"env SPARKCTL_CONFIG=$SPARKCTL_CONFIG HOME=$HOME XDG_CONFIG_HOME=$XDG_CONFIG_HOME XDG_STATE_HOME=$XDG_STATE_HOME $* ; tmux -L $_s wait-for -S done; sleep 60" &&
		timeout 60 tmux -L "$_s" wait-for done &&
		tmux -L "$_s" capture-pane -p -t t >"$TRASH/screen" &&
		tmux -L "$_s" capture-pane -pJ -t t >"$TRASH/joined" &&
		tmux -L "$_s" kill-server && [ -s "$TRASH/screen" ]
}

test_expect "an engine runs for ps" 'run 0 sparkctl serve deepseek-r1-8b-abliterated-bf16' TMUX
for w in 60 80 120; do
	for c in "scan" "list" "ps" "inspect deepseek-r1-8b-abliterated-bf16"; do
		test_expect "$c at $w columns: no row wraps" '
			screen '$w' "$SPARKCTL" '"$c"' && test_cmp "$TRASH/joined" "$TRASH/screen" &&
			python3 -c "import sys; sys.exit(any(len(l) > int(sys.argv[2]) for l in open(sys.argv[1], encoding=\"utf-8\").read().splitlines()))" "$TRASH/screen" '$w'' TMUX
	done
done
test_expect "scan at 80 columns: the served name comes first, notes are cut with …, a totals line ends it" '
	screen 80 "$SPARKCTL" scan && grep -q "^NAME  *MODEL" "$TRASH/screen" &&
	grep -q "^deepseek-r1-8b-abliterated-bf16  *deeps" "$TRASH/screen" && grep -q "…" "$TRASH/screen" &&
	grep -Eq "^[0-9]+ models, .* not ok: exit 1 \(--no-fail to ignore\)" "$TRASH/screen"' TMUX
test_expect "piped, scan keeps every value whole" '
	run 1 sparkctl scan && ! grep -q "…" "$TRASH/out" && has out "model-00002-of-00003.safetensors: named in model.safetensors.index.json but not on disk"'
test_done
