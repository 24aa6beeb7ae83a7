#!/bin/sh
# Completion as a person meets it: real bash, zsh and fish in tmux, keys
# typed, the screen read. The same cases in every shell.
. "$(dirname "$0")/test-lib.sh"
ROOT=$(cd "$TESTS/.." && pwd)
BIN=$(dirname "$SPARKCTL")
mkdir -p "$TRASH/work/my models" "$TRASH/work/other"
cd "$TRASH/work" || exit 1
cat >"$TRASH/reg.ini" <<INI
[engine "sglang-spark"]
command = x {path}
[engine "vllm"]
command = y {path}
[model "qwen3-32b-nvfp4"]
path = q
engine = sglang-spark
INI
BASE="sparkctl-compl-$$"
test_cleanup "for s in bash zsh fish; do tmux -L $BASE-\$s kill-server; done"

# start SHELL: a shell in tmux, its completion loaded, sparkctl on PATH
start() {
	case $1 in
	bash) cmd="env -i HOME=$HOME TERM=xterm PATH=$BIN:/usr/bin:/bin PS1='$ ' bash --norc --noprofile" ;;
	zsh) cmd="env -i HOME=$HOME TERM=xterm PATH=$BIN:/usr/bin:/bin zsh -f" ;;
	fish) cmd="env -i HOME=$HOME TERM=xterm PATH=$BIN:/usr/bin:/bin XDG_CONFIG_HOME=$TRASH/fishcfg fish -N" ;;
	esac
	tmux -L "$SOCK" new-session -d -x 200 -y 50 -s t -c "$TRASH/work" "$cmd" || return 1
	case $1 in
	bash) keys ". $ROOT/completions/sparkctl.bash" Enter ;;
	zsh) keys "PS1='$ '; fpath=($ROOT/completions \$fpath); autoload -Uz compinit; compinit -u -D" Enter ;;
	fish) keys "function fish_prompt; echo '$ '; end; source $ROOT/completions/sparkctl.fish" Enter ;;
	esac
	keys "clear" Enter
	wait_until 10 sh -c "tmux -L $SOCK capture-pane -p -t t | grep -q '^\\\$ *\$'"
}
keys() { tmux -L "$SOCK" send-keys -t t "$@"; }
screen() { tmux -L "$SOCK" capture-pane -p -t t | grep -v "^$"; }
# try TYPED KEYS EXPECT: clear the line, type, press the keys, wait until
# the screen matches EXPECT (an extended regex)
try() {
	keys C-c && keys "clear" Enter &&
	wait_until 5 sh -c "tmux -L $SOCK capture-pane -p -t t | grep -q '^\\\$ *\$'" &&
	keys -l "$1" && shift && keys "$1" && shift &&
	{ wait_until 5 sh -c "tmux -L $SOCK capture-pane -p -t t | grep -Eq -- '$1'" || { screen; false; }; }
}
for sh in bash zsh fish; do
	SOCK="$BASE-$sh"
	prereq=$(echo $sh | tr a-z A-Z)
	[ $sh = bash ] && prereq=TMUX
	test_expect "$sh: the shell starts with the completion loaded" 'start '$sh'' TMUX $prereq
	test_expect "$sh: a command from part of its name" 'try "sparkctl sc" Tab "sparkctl scan *$"' TMUX $prereq
	test_expect "$sh: an option from part of its name" 'try "sparkctl scan --js" Tab "sparkctl scan --json *$"' TMUX $prereq
	test_expect "$sh: after a flag without a value, never its help words" '
		try "sparkctl scan --json --no" Tab "sparkctl scan --json --no-fail" && ! screen | grep -q "print the"' TMUX $prereq
	test_expect "$sh: a folder with a space, completed whole, ending in /" '
		try "sparkctl scan --root my" Tab "sparkctl scan --root my\\\\\\\\? ?models/"' TMUX $prereq
	test_expect "$sh: model names from the registry that --config names" '
		try "sparkctl --config $TRASH/reg.ini inspect qw" Tab "inspect qwen3-32b-nvfp4"' TMUX $prereq
	test_expect "$sh: after help, the commands" 'try "sparkctl help swi" Tab "sparkctl help switch"' TMUX $prereq
	test_expect "$sh: after --engine, the engines of the registry" '
		try "sparkctl --config $TRASH/reg.ini inspect --engine sgl" Tab "--engine sglang-spark"' TMUX $prereq
	test_expect "$sh: after --config FILE, the commands" 'try "sparkctl --config $TRASH/reg.ini dow" Tab "reg.ini download"' TMUX $prereq
done
test_done
