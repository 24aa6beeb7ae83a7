# bash completion for sparkctl.
# Options and what their values are come from `sparkctl COMMAND
# --completion-helper`, which reads the same table as --help: they cannot
# drift from the binary. The commands come from `sparkctl --list-cmds`, as
# git-completion asks `git --list-cmds`: no list is kept here.

_sparkctl() {
	local cur prev cword i cmd=""
	local -a words
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	words=("${COMP_WORDS[@]}")
	cword=$COMP_CWORD
	local -a global=()
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		--config) global+=(--config "${words[i+1]}"); ((i++)) ;;
		-*) ;;
		*) cmd=${words[i]}; break ;;
		esac
	done
	if [[ -z $cmd || $cmd == help ]]; then
		if [[ $prev == --config ]]; then
			COMPREPLY=($(compgen -f -- "$cur"))
		elif [[ $cur == -* && -z $cmd ]]; then
			COMPREPLY=($(compgen -W "--config --version --help" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$(command sparkctl --list-cmds 2>/dev/null) help" -- "$cur"))
		fi
		return
	fi
	local helper kind
	helper=$(command sparkctl "$cmd" --completion-helper 2>/dev/null) || return
	kind=$(while IFS=$'\t' read -r opt k _; do [[ $opt == "$prev" ]] && printf '%s' "$k"; done <<<"$helper")
	case $kind in
	file) COMPREPLY=($(compgen -f -- "$cur")); return ;;
	dir) COMPREPLY=($(compgen -d -- "$cur")); return ;;
	model) COMPREPLY=($(compgen -W "$(command sparkctl "${global[@]}" list --names 2>/dev/null)" -- "$cur")); return ;;
	word) return ;;
	"") ;;
	*) COMPREPLY=($(compgen -W "$kind" -- "$cur")); return ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(grep '^--' <<<"$helper" | cut -f1)" -- "$cur"))
		return
	fi
	local operands
	operands=$(while IFS=$'\t' read -r opt k _; do [[ $opt == @operands ]] && printf '%s' "$k"; done <<<"$helper")
	if [[ $operands == *model* ]]; then
		COMPREPLY=($(compgen -W "$(command sparkctl "${global[@]}" list --names 2>/dev/null)" -- "$cur"))
	fi
	if [[ $operands == *file* ]]; then
		COMPREPLY+=($(compgen -f -- "$cur"))
	fi
}
complete -o default -F _sparkctl sparkctl
