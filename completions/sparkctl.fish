# fish completion for sparkctl. Options come from `sparkctl COMMAND
# --completion-helper` (the same table as --help); the command list is
# checked against `sparkctl --list-cmds` by the test suite.
complete -c sparkctl -f
complete -c sparkctl -n __fish_use_subcommand -l config -r -F -d 'the registry file'
complete -c sparkctl -n __fish_use_subcommand -l version -d 'print the version'
complete -c sparkctl -n __fish_use_subcommand -l help -d 'show the commands'
complete -c sparkctl -n __fish_use_subcommand -a scan -d 'inventory of the models root'
complete -c sparkctl -n __fish_use_subcommand -a inspect -d 'one model in depth'
complete -c sparkctl -n __fish_use_subcommand -a list -d 'the registry, with what is on disk'
complete -c sparkctl -n __fish_use_subcommand -a serve -d 'start one registered model'
complete -c sparkctl -n __fish_use_subcommand -a switch -d 'stop what shares its group or port, then serve it'
complete -c sparkctl -n __fish_use_subcommand -a stop -d 'stop models'
complete -c sparkctl -n __fish_use_subcommand -a ps -d 'what runs'
complete -c sparkctl -n __fish_use_subcommand -a logs -d 'the log of a model'
complete -c sparkctl -n __fish_use_subcommand -a test -d 'the three-request smoke test'
complete -c sparkctl -n __fish_use_subcommand -a download -d 'Hub downloads that resume and verify every byte'
complete -c sparkctl -n __fish_use_subcommand -a help -d 'show the help of a command'

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
