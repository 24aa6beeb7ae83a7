# fish completion for sparkctl. Options come from `sparkctl COMMAND
# --completion-helper` (the same table as --help); the commands and their
# summaries from `sparkctl --list-cmds=summary`: no list is kept here.
complete -c sparkctl -f
complete -c sparkctl -n __fish_use_subcommand -l config -r -F -d 'the registry file'
complete -c sparkctl -n __fish_use_subcommand -l version -d 'print the version'
complete -c sparkctl -n __fish_use_subcommand -l help -d 'show the commands'
complete -c sparkctl -n __fish_use_subcommand -a '(sparkctl --list-cmds=summary 2>/dev/null)'

function __sparkctl_options
	set -l cmd (commandline -opc)[2]
	for line in (sparkctl $cmd --completion-helper 2>/dev/null)
		set -l f (string split \t -- $line)
		string match -q -- '--*' $f[1]; and printf '%s\t%s\n' $f[1] $f[3]
	end
end

function __sparkctl_operands
	set -l cmd (commandline -opc)[2]
	for line in (sparkctl $cmd --completion-helper 2>/dev/null)
		set -l f (string split \t -- $line)
		if test "$f[1]" = @operands
			string match -q '*model*' -- $f[2]; and sparkctl list --names 2>/dev/null
			string match -q '*file*' -- $f[2]; and __fish_complete_path (commandline -ct)
		end
	end
end

function __sparkctl_values
	set -l tokens (commandline -opc)
	set -l prev $tokens[-1]
	for line in (sparkctl $tokens[2] --completion-helper 2>/dev/null)
		set -l f (string split \t -- $line)
		if test "$f[1]" = "$prev"
			switch $f[2]
				case file dir
					__fish_complete_path (commandline -ct)
				case model
					sparkctl list --names 2>/dev/null
				case word ''
				case '*'
					string split ' ' -- $f[2]
			end
			return 0
		end
	end
	return 1
end

complete -c sparkctl -n 'not __fish_use_subcommand; and string match -q -- "-*" (commandline -ct)' -a '(__sparkctl_options)'
complete -c sparkctl -n 'not __fish_use_subcommand; and __sparkctl_values >/dev/null' -a '(__sparkctl_values)'
complete -c sparkctl -n 'not __fish_use_subcommand; and not string match -q -- "-*" (commandline -ct); and not __sparkctl_values >/dev/null' -a '(__sparkctl_operands)'
