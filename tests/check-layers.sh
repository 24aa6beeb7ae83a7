#!/bin/sh
# check-layers.sh LIBDIR: every file of a layer of lib/ includes only from
# its own layer and the layers below it (doc/ARCHITECTURE.md):
#   base <- format <- net, engine <- ops <- proxy;  base <- net <- probe
# Prints each include that points the wrong way; exit 1 if there is one.
lib=${1:?usage: check-layers.sh LIBDIR}
allowed() {
	case $1 in
	base) echo "base" ;;
	format) echo "base format" ;;
	net) echo "base net" ;;
	engine) echo "base format engine" ;;
	probe) echo "base net probe" ;;
	ops) echo "base format net engine ops" ;;
	proxy) echo "base format net engine ops proxy" ;;
	*) echo "" ;;
	esac
}
bad=0
for dir in "$lib"/*/; do
	layer=$(basename "$dir")
	ok=$(allowed "$layer")
	[ -n "$ok" ] || { echo "$dir: a folder that is no layer"; bad=1; continue; }
	for f in "$dir"*.c "$dir"*.h; do
		[ -e "$f" ] || continue
		for to in $(sed -n 's|^#include "\.\./\([a-z]*\)/.*|\1|p' "$f"); do
			case " $ok " in *" $to "*) ;; *) echo "$f includes from $to, a layer above $layer"; bad=1 ;; esac
		done
		if sed -n 's|^#include "\([^"]*\)"|\1|p' "$f" | grep -q '^\.\./\.\.'; then
			echo "$f includes from outside lib/"; bad=1
		fi
	done
done
exit $bad
