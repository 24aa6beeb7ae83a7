# bash completion for sparkctl.
# Options and what their values are come from `sparkctl COMMAND
# --completion-helper`, which reads the same table as --help; the commands
# from `sparkctl --list-cmds`, as git-completion asks `git --list-cmds`:
# nothing here can drift from the binary.

# _sparkctl_field HELPER OPTION N: field N (tab-separated) of OPTION's line.
# (read with IFS=$'\t' would merge the empty kind of a flag with its help.)
_sparkctl_field() {
	awk -F'\t' -v o="$2" -v n="$3" '$1 == o { print $n; exit }' <<<"$1"
}

# _sparkctl_reply WORDS...: complete $cur from the given lines
_sparkctl_reply() {
	local IFS=$'\n'
	COMPREPLY=($(compgen -W "$*" -- "$cur"))
}

_sparkctl() {
	local cur prev cword i cmd="" cmd_at=0
	local -a words global=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	words=("${COMP_WORDS[@]}")
	cword=$COMP_CWORD
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		--config) global+=(--config "${words[i+1]}"); ((i++)) ;;
		-*) ;;
		*) cmd=${words[i]}; cmd_at=$i; break ;;
		esac
	done
	if [[ $prev == --config ]]; then
		compopt -o filenames 2>/dev/null
		local IFS=$'\n'
		COMPREPLY=($(compgen -f -- "$cur"))
		return
	fi
	# the command, or after help the command whose help is wanted
	if [[ -z $cmd || ($cmd == help && $cword == $((cmd_at + 1))) ]]; then
		if [[ $cur == -* && -z $cmd ]]; then
			_sparkctl_reply --config --version --help
		else
			_sparkctl_reply $(command sparkctl --list-cmds 2>/dev/null) $([[ -z $cmd ]] && echo help)
		fi
		return
	fi
	[[ $cmd == help ]] && return
	local helper kind
	helper=$(command sparkctl "$cmd" --completion-helper 2>/dev/null) || return
	if [[ $prev == -* ]] && grep -q "^$prev"$'\t' <<<"$helper"; then
		kind=$(_sparkctl_field "$helper" "$prev" 2)
		case $kind in
		file) compopt -o filenames 2>/dev/null; local IFS=$'\n'; COMPREPLY=($(compgen -f -- "$cur")); return ;;
		dir) compopt -o filenames 2>/dev/null; local IFS=$'\n'; COMPREPLY=($(compgen -d -- "$cur")); return ;;
		model) _sparkctl_reply $(command sparkctl "${global[@]}" list --names 2>/dev/null); return ;;
		engine) _sparkctl_reply $(command sparkctl "${global[@]}" list --engines 2>/dev/null); return ;;
		word) return ;;
		"") ;;  # a flag without a value: complete what follows it
		*) _sparkctl_reply $kind; return ;;
		esac
	fi
	if [[ $cur == -* ]]; then
		_sparkctl_reply $(cut -f1 <<<"$helper" | grep '^--')
		return
	fi
	local operands
	operands=$(_sparkctl_field "$helper" @operands 2)
	if [[ $operands == *model* ]]; then
		_sparkctl_reply $(command sparkctl "${global[@]}" list --names 2>/dev/null)
	fi
	if [[ $operands == *file* ]]; then
		compopt -o filenames 2>/dev/null
		local IFS=$'\n'
		COMPREPLY+=($(compgen -f -- "$cur"))
	fi
}
complete -F _sparkctl sparkctl
