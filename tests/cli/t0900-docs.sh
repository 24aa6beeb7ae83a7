#!/bin/sh
# Man pages and completions agree with the binary: every command has its
# page, whose SYNOPSIS is the -h usage line and which documents every
# option; every completion script knows every command; bash completion
# completes commands, options and option values.
. "$(dirname "$0")/test-lib.sh"
ROOT=${SPARKCTL_DOCS_ROOT:-$(cd "$TESTS/.." && pwd)}
cmds=$(sparkctl --list-cmds)

for c in $cmds; do
	page="$ROOT/man/sparkctl-$c.1"
	test_expect "sparkctl-$c.1 SYNOPSIS is the -h usage line" '
		[ -f "'$page'" ] &&
		usage=$(sparkctl '$c' -h | sed -n "1,/^$/p" | tr -s " \n" "  " | sed "s/^usage: sparkctl //; s/ *$//") &&
		synopsis=$(sed -n "/^\.SH SYNOPSIS/,/^\.SH/p" "'$page'" | grep -v "^\." | head -1) &&
		{ [ "$synopsis" = "sparkctl $usage" ] || { echo "man: $synopsis"; echo "-h:  sparkctl $usage"; false; }; }'
	test_expect "sparkctl-$c.1 documents every option" '
		for o in $(sparkctl '$c' --completion-helper | grep "^--" | cut -f1); do
			grep -q -- "$(echo "$o" | sed "s/-/\\\\\\\\-/g")" "'$page'" || { echo "missing $o"; return 1; }
		done'
	test_expect "sparkctl.1 lists $c" 'grep -q "^\.B '$c'$" "$ROOT/man/sparkctl.1"'
done
# complete WORDS...: run the bash completion on a command line whose last
# word is being completed; prints the candidates
complete_line() {
	PATH="$(dirname "$SPARKCTL"):$PATH" bash -c '
		sparkctl() { "'"$SPARKCTL"'" "$@"; }
		. "'"$ROOT"'/completions/sparkctl.bash"
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _sparkctl; printf "%s\n" "${COMPREPLY[@]}"' _ "$@"
}
test_expect "bash completes the command" 'complete_line sparkctl sc | grep -qx scan'
test_expect "bash offers exactly the commands of --list-cmds, and help" '
	complete_line sparkctl "" | sort >"$TRASH/got" && { sparkctl --list-cmds; echo help; } | sort >"$TRASH/want" &&
	cmp "$TRASH/want" "$TRASH/got"'
test_expect "bash completes options from the option table" '
	complete_line sparkctl scan --fo >"$TRASH/out" && has out "^--format$" &&
	complete_line sparkctl scan --n >"$TRASH/out" && has out "^--no-fail$"'
test_expect "bash completes --format values" '
	complete_line sparkctl scan --format "" >"$TRASH/out" && has out "^markdown$" && has out "^prometheus$"'
test_expect "bash completes global options" 'complete_line sparkctl --con | grep -qx -- --config'
test_expect "bash completes registry names where a command takes a model" '
	printf "[engine \"e\"]\ncommand = c\n[model \"qwen3-32b-nvfp4\"]\npath = p\nengine = e\n[model \"qwen3-coder\"]\npath = q\nengine = e\n" >"$TRASH/m.ini" &&
	SPARKCTL_CONFIG="$TRASH/m.ini" complete_line sparkctl inspect qwen3- >"$TRASH/out" &&
	has out "^qwen3-32b-nvfp4$" && has out "^qwen3-coder$"'
test_expect "bash honours --config for the names" '
	complete_line sparkctl --config "$TRASH/m.ini" inspect qwen3-c | grep -qx qwen3-coder'

if command -v zsh >/dev/null; then
	test_expect "the zsh completion parses" 'zsh -n "$ROOT/completions/_sparkctl"'
	# _describe and _arguments stubbed to print what the script hands them
	cat >"$TRASH/zsh-commands" <<'ZSH'
_describe() { print -rl -- ${(P)4}; }
_arguments() { state=command; }
. "$1"
ZSH
	test_expect "zsh offers every command of --list-cmds with its summary" '
		PATH="$(dirname "$SPARKCTL"):$PATH" zsh -f "$TRASH/zsh-commands" "$ROOT/completions/_sparkctl" >"$TRASH/got" &&
		sparkctl --list-cmds=summary | tr "\t" ":" >"$TRASH/want" && cmp "$TRASH/want" "$TRASH/got"'
else
	echo "ok - # SKIP zsh is not installed"
fi
if command -v fish >/dev/null; then
	test_expect "the fish completion parses" 'fish -n "$ROOT/completions/sparkctl.fish"'
	test_expect "fish offers every command of --list-cmds with its summary" '
		PATH="$(dirname "$SPARKCTL"):$PATH" fish -N -c "source $ROOT/completions/sparkctl.fish; complete -C \"sparkctl \"" >"$TRASH/got" &&
		for c in $cmds; do grep -q "^$c	" "$TRASH/got" || { echo "no $c"; cat "$TRASH/got"; return 1; }; done'
else
	echo "ok - # SKIP fish is not installed"
fi
test_expect "every man page passes mandoc -T lint without a message" '
	for m in "$ROOT"/man/*.[15]; do
		out=$(mandoc -T lint "$m" 2>&1) || [ -z "$out" ] || { echo "$out"; return 1; }
		[ -z "$out" ] || { echo "$out"; return 1; }
	done' MANDOC
test_expect "no macro line quotes JSON with bare \" (roff eats them): \\(dq instead" '
	! grep -En "^\.[BIR]* .*\{\"[^\"]" "$ROOT"/man/*.[15]'
test_expect "every help fits 80 columns" '
	for c in $cmds; do sparkctl $c --help; done >"$TRASH/help" && sparkctl --help >>"$TRASH/help" &&
	! awk "length(\$0) > 80 { print; bad = 1 } END { exit !bad }" "$TRASH/help"'
test_expect "every man page has EXAMPLES" '
	for m in "$ROOT"/man/*.[15]; do grep -q "^\.SH EXAMPLES" "$m" || { echo "no EXAMPLES in $m"; return 1; }; done'
test_expect "every man page renders without warnings" '
	for m in "$ROOT"/man/*.[15]; do
		out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$m" 2>&1 >/dev/null) || return 1
		[ -z "$out" ] || { echo "$m: $out"; return 1; }
	done'
test_done
