# fish completion for sparkctl. Options come from `sparkctl COMMAND
# --completion-helper` (the same table as --help); the commands and their
# summaries from `sparkctl --list-cmds=summary`: no list is kept here.
complete -c sparkctl -f
complete -c sparkctl -n 'not __sparkctl_cmd >/dev/null' -l config -r -F -d 'the registry file'
complete -c sparkctl -n 'not __sparkctl_cmd >/dev/null' -l version -d 'print the version'
complete -c sparkctl -n 'not __sparkctl_cmd >/dev/null' -l help -d 'show the commands'
complete -c sparkctl -n 'not __sparkctl_cmd >/dev/null' -a '(sparkctl --list-cmds=summary 2>/dev/null)'

# the command: the first word that is not an option (nor --config's value)
function __sparkctl_cmd
	set -l tokens (commandline -opc)
	set -l skip 0
	for t in $tokens[2..-1]
		if test $skip = 1
			set skip 0
			continue
		end
		if test "$t" = --config
			set skip 1
			continue
		end
		string match -q -- '-*' $t; and continue
		echo $t
		return 0
	end
	return 1
end

# --config FILE before the command, for the names
function __sparkctl_global
	set -l tokens (commandline -opc)
	set -l i (contains -i -- --config $tokens); and printf '%s\n' --config $tokens[(math $i + 1)]
end

function __sparkctl_options
	set -l cmd (__sparkctl_cmd)
	for line in (sparkctl $cmd --completion-helper 2>/dev/null)
		set -l f (string split \t -- $line)
		string match -q -- '--*' $f[1]; and printf '%s\t%s\n' $f[1] $f[3]
	end
end

function __sparkctl_operands
	set -l cmd (__sparkctl_cmd)
	if test "$cmd" = help
		test (count (commandline -opc)) -le 2; or contains -- --config (commandline -opc); and sparkctl --list-cmds=summary 2>/dev/null
		return
	end
	for line in (sparkctl $cmd --completion-helper 2>/dev/null)
		set -l f (string split \t -- $line)
		if test "$f[1]" = @operands
			string match -q '*model*' -- $f[2]; and sparkctl (__sparkctl_global) list --names 2>/dev/null
			string match -q '*file*' -- $f[2]; and __fish_complete_path (commandline -ct)
		end
	end
end

function __sparkctl_values
	set -l tokens (commandline -opc)
	set -l prev $tokens[-1]
	for line in (sparkctl (__sparkctl_cmd) --completion-helper 2>/dev/null)
		set -l f (string split \t -- $line)
		if test "$f[1]" = "$prev"
			switch $f[2]
				case file dir
					__fish_complete_path (commandline -ct)
				case model
					sparkctl (__sparkctl_global) list --names 2>/dev/null
				case engine
					sparkctl (__sparkctl_global) list --engines 2>/dev/null
				case ''
					return 1  # a flag without a value: what follows it
				case word
				case '*'
					string split ' ' -- $f[2]
			end
			return 0
		end
	end
	return 1
end

complete -c sparkctl -n '__sparkctl_cmd >/dev/null; and string match -q -- "-*" (commandline -ct)' -a '(__sparkctl_options)'
complete -c sparkctl -n '__sparkctl_cmd >/dev/null; and __sparkctl_values >/dev/null' -a '(__sparkctl_values)'
complete -c sparkctl -n '__sparkctl_cmd >/dev/null; and not string match -q -- "-*" (commandline -ct); and not __sparkctl_values >/dev/null' -a '(__sparkctl_operands)'
