#!/bin/sh
# Every fuzz target's seed corpus replays without a crash or a leak (under
# SANITIZE=1 the sanitizers watch it), built with the normal compiler.
. "$(dirname "$0")/test-lib.sh"
: "${SPARKCTL_BUILD:?}"
ROOT=$(cd "$TESTS/.." && pwd)
for t in safetensors gguf quantcfg sse ini hublisting archivepath; do
	test_expect "fuzz corpus $t replays cleanly" '
		run 0 "$SPARKCTL_BUILD/replay/fuzz-'$t'" "$ROOT/fuzz/corpus/'$t'" &&
		has out "^1\.\.[1-9]" && hasnt out "^not ok"'
done
test_done
