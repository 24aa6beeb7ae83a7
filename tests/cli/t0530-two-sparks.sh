#!/bin/sh
# One model over two and three boxes, with real OpenSSH: each other node is
# a network namespace joined to this one by a veth pair, running Debian's
# sshd with a key made for the test; the engine stand-in's multi-node mode
# has its ranks meet at the head over TCP as SGLang's and vLLM's do.
# Needs root (namespaces); without it every test reports itself skipped.
. "$(dirname "$0")/test-lib.sh"
M="$TRASH/models"
gen_fixtures "$M"
test_lazy_prereq RIG '[ "$(id -u)" = 0 ] && command -v ip && [ -x /usr/sbin/sshd ] && ip netns add sc-probe-$$ && ip netns del sc-probe-$$'
NET=10.$((100 + $$ % 100))
P1=$(free_port) P2=$(free_port) DP=$(free_port) DP2=$(free_port) DP3=$(free_port)
B=scb$$ C=scc$$
export SPARKCTL_SSH="ssh -F $TRASH/ssh_config"

# the rig: namespace $2 at $NET.$1.2 behind veth vh$1 (this box: $NET.$1.1)
rig_node() {
	ip netns add "$2" && ip link add "vh$1$$" type veth peer name "vn$1$$" && ip link set "vn$1$$" netns "$2" &&
	ip addr add "$NET.$1.1/24" dev "vh$1$$" && ip link set "vh$1$$" up &&
	ip netns exec "$2" ip addr add "$NET.$1.2/24" dev "vn$1$$" && ip netns exec "$2" ip link set "vn$1$$" up &&
	ip netns exec "$2" ip link set lo up && ip netns exec "$2" ip route add default via "$NET.$1.1" &&
	cat >"$TRASH/sshd_$1" <<CFG &&
ListenAddress $NET.$1.2
HostKey $TRASH/hostkey
AuthorizedKeysFile $TRASH/authkeys
PidFile $TRASH/sshd_$1.pid
StrictModes no
UsePAM no
PermitRootLogin prohibit-password
LogLevel ERROR
CFG
	ip netns exec "$2" /usr/sbin/sshd -f "$TRASH/sshd_$1"
}
rig_down() {
	for i in 1 2; do kill "$(cat "$TRASH/sshd_$i.pid" 2>/dev/null)" 2>/dev/null; ip link del "vh$i$$" 2>/dev/null; done
	ip netns del "$B" 2>/dev/null; ip netns del "$C" 2>/dev/null
}
rig_up() {
	mkdir -p /run/sshd && ssh-keygen -q -t ed25519 -N "" -f "$TRASH/key" && ssh-keygen -q -t ed25519 -N "" -f "$TRASH/hostkey" &&
	cp "$TRASH/key.pub" "$TRASH/authkeys" &&
	printf 'Host *\n  IdentityFile %s/key\n  IdentitiesOnly yes\n  UserKnownHostsFile /dev/null\n  StrictHostKeyChecking no\n  LogLevel ERROR\n' "$TRASH" >"$TRASH/ssh_config" &&
	rig_node 1 "$B" && rig_node 2 "$C"
}
if test_have_prereq RIG; then
	test_cleanup 'SPARKCTL_CONFIG="$TRASH/models.ini" "$SPARKCTL" stop --all; [ ! -e "$TRASH/b.ini" ] || "$SPARKCTL" --config "$TRASH/b.ini" stop --all; rig_down'
	rig_up || { echo "Bail out! the test rig could not be set up"; exit 1; }
	for n in b c; do mkdir -p "$TRASH/$n/models/phi4" && cp -r "$M/phi4/phi4-reasoning" "$TRASH/$n/models/phi4/"; done
	mkdir -p "$TRASH/b/models/meta" "$TRASH/c/models/meta"
fi
REC="$TRASH/alive"
write_config() {
	cat >"$TRASH/models.ini" <<INI
[defaults]
models-root = $M
state-dir = $TRASH/state
[engine "sglang"]
command = python3 -m sglang.launch_server --model-path {path} --served-model-name {name} --host {host} --port {port} {args}
env = PYTHONPATH=$TESTS/standin/py STANDIN_ALIVE=$REC
stop-timeout = 2
ready-timeout = 30
[engine "vllm"]
command = python3 $TESTS/standin/engine.py vllm serve {path} --served-model-name {name} --host {host} --port {port} {args}
env = STANDIN_ALIVE=$REC
stop-timeout = 2
ready-timeout = 30
[engine "vllm-ray"]
command = python3 $TESTS/standin/engine.py vllm serve {path} --served-model-name {name} --host {host} --port {port} {args}
env = STANDIN_ALIVE=$REC PATH=$TESTS/standin/bin:/usr/local/bin:/usr/bin:/bin
distributed = ray
stop-timeout = 2
ready-timeout = 30
[node "spark-a"]
local = true
addr = $NET.1.1
ifname = vh1$$
[node "spark-b"]
ssh = root@$NET.1.2
addr = $NET.1.2
ifname = vn1$$
ib-hca = rocep1s0f1,roceP2p1s0f1
models-root = $TRASH/b/models
state-dir = $TRASH/b/state
sparkctl = $SPARKCTL
[node "spark-c"]
ssh = root@$NET.2.2
addr = $NET.2.2
ifname = vn2$$
models-root = $TRASH/c/models
state-dir = $TRASH/c/state
sparkctl = $SPARKCTL
[node "gone"]
ssh = root@$NET.9.2
addr = $NET.9.2
ifname = vn9$$
[model "duo"]
path = phi4/phi4-reasoning
engine = sglang
port = $P1
group = big
nodes = spark-a, spark-b
dist-port = $DP
${DUO_ENV:-}
[model "trio"]
path = phi4/phi4-reasoning
engine = vllm
port = $P1
group = big
nodes = spark-a, spark-b, spark-c
tp = 3
dist-port = $DP2
[model "ray2"]
path = phi4/phi4-reasoning
engine = vllm-ray
port = $P1
group = big
nodes = spark-a, spark-b
dist-port = $DP3
[model "solo"]
path = phi4/phi4-reasoning
engine = sglang
port = $P2
group = big
[model "far"]
path = phi4/phi4-reasoning
engine = sglang
port = $P1
nodes = spark-a, gone
[model "wedged"]
path = phi4/phi4-reasoning
engine = sglang
port = $P1
nodes = spark-a, spark-b
dist-port = $DP
env = STANDIN_WEDGED=1
INI
}
write_config
export SPARKCTL_CONFIG="$TRASH/models.ini"
up() { curl -sf "http://127.0.0.1:$1/health" >/dev/null 2>&1; }
# rank PID NODE: the pid of rank N of a model from its state file
rank_pid() { python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print([r["pid"] for r in s["ranks"] if r["rank"] == int(sys.argv[2])][0])' "$TRASH/state/run/$1.json" "$2"; }
# gone_pid PID: no such process, or a zombie (a rank left to init here)
gone_pid() { ! kill -0 "$1" 2>/dev/null || [ "$(ps -o stat= -p "$1" | cut -c1)" = Z ]; }

test_expect "models.ini: nodes are checked where they are named" '
	printf "[node \"x\"]\nssh = -oProxyCommand=touch\$IFS/tmp/pwned\n" >"$TRASH/bad.ini" &&
	run 1 sparkctl --config "$TRASH/bad.ini" list && has err "bad.ini:2: ssh: not an OpenSSH destination" &&
	printf "[node \"x\"]\nifname = eth0|reboot\n" >"$TRASH/bad.ini" &&
	run 1 sparkctl --config "$TRASH/bad.ini" list && has err "bad.ini:2: ifname: not an interface name" &&
	printf "[model \"m\"]\npath = /x\nscript = /bin/true\nnodes = a, b\n" >"$TRASH/bad.ini" &&
	run 1 sparkctl --config "$TRASH/bad.ini" list && has err "bad.ini:4: \[model \"m\"\] nodes: no \[node \"a\"\]" &&
	sed "s/^tp = 3/tp = 4/" "$TRASH/models.ini" >"$TRASH/bad.ini" &&
	run 1 sparkctl --config "$TRASH/bad.ini" list && has err "tp 4 x pp 1 does not split over 3 nodes" &&
	sed "/^local = true/d" "$TRASH/models.ini" >"$TRASH/bad.ini" &&
	run 1 sparkctl --config "$TRASH/bad.ini" list && has err "its head, spark-a, must be this box" &&
	sed "s|^\[model \"duo\"\]|&\nimage = lmsysorg/sglang:spark|" "$TRASH/models.ini" >"$TRASH/bad.ini" &&
	run 1 sparkctl --config "$TRASH/bad.ini" list && has err "Docker mode is not started over several nodes"'

test_expect "inspect: each node's share over the model's nodes, or --nodes N" '
	run 0 sparkctl inspect duo && has out "per node +[0-9.]+ [KMG]iB on each of 2 nodes: fits" &&
	run 0 sparkctl inspect --json --nodes 3 duo && json "j[\"per_node\"][\"nodes\"] == 3 and j[\"per_node\"][\"bytes\"] * 3 <= j[\"memory\"][\"total_bytes\"] + 3" &&
	run 0 sparkctl inspect solo && hasnt out "per node"'

test_expect "serve: rank 1 over SSH on its node, rank 0 here, every rank in the state, healthy after a real generation" '
	run 0 sparkctl serve duo && up '$P1' && has err "warning: spark-b: vn1$$ has MTU 1500; 9000 is recommended" &&
	python3 -c "import json; s=json.load(open(\"$TRASH/state/run/duo.json\")); r=s[\"ranks\"][0]; assert r[\"node\"] == \"spark-b\" and r[\"rank\"] == 1 and s[\"watcher\"] > 0, s" &&
	pid=$(rank_pid duo 1) && kill -0 "$pid" &&
	ip netns identify "$pid" | grep -qx "$B" &&
	grep -q "joined the head at '$NET'.1.1:'$DP' as rank 1" "$TRASH/b/state/logs/duo.rank1.log" &&
	grep -q "env NCCL_SOCKET_IFNAME=vn1$$ GLOO_SOCKET_IFNAME=vn1$$ TP_SOCKET_IFNAME=vn1$$ UCX_NET_DEVICES=vn1$$ NCCL_IB_HCA=rocep1s0f1,roceP2p1s0f1 SGLANG_HOST_IP='$NET'.1.2" "$TRASH/b/state/logs/duo.rank1.log" &&
	tr "\0" " " </proc/$pid/cmdline | grep -q -- "--tp-size 2 --nnodes 2 --node-rank 1 --dist-init-addr '$NET'.1.1:'$DP'"' RIG

test_expect "ps shows every rank with its node; logs --node shows a rank's log" '
	run 0 sparkctl ps && has out "duo: rank 1 on spark-b \(pid [0-9]+\)" &&
	run 0 sparkctl ps --json && json "[m for m in j[\"models\"] if m[\"name\"] == \"duo\"][0][\"ranks\"][0][\"node\"] == \"spark-b\"" &&
	run 0 sparkctl logs --node spark-b duo && has out "joined the head"' RIG

test_expect "test: the smoke test passes against a two-node model's head" '
	run 0 sparkctl test duo && has out "duo: .*passed|ok"' RIG

test_expect "stop reaches every node: no rank left" '
	pid=$(rank_pid duo 1) && run 0 sparkctl stop duo && gone_pid "$pid" && ! up '$P1' &&
	[ ! -e "$TRASH/state/run/duo.json" ]' RIG

test_expect "three nodes with vLLM: --headless on the others, --master-addr and -port" '
	run 0 sparkctl serve trio && p1=$(rank_pid trio 1) && p2=$(rank_pid trio 2) &&
	tr "\0" " " </proc/$p2/cmdline | grep -q -- "--tensor-parallel-size 3 --nnodes 3 --node-rank 2 --master-addr '$NET'.1.1 --master-port '$DP2' --headless" &&
	ip netns identify "$p2" | grep -qx "$C" &&
	run 0 sparkctl stop trio && gone_pid "$p1" && gone_pid "$p2"' RIG

test_expect "distributed = ray: ray start --head here, --address on the other node, vllm serve on that cluster" '
	run 0 sparkctl serve ray2 &&
	python3 -c "import json; s=json.load(open(\"$TRASH/state/run/ray2.json\")); assert [(r[\"rank\"], r[\"node\"]) for r in s[\"ranks\"]] == [(0, \"spark-a\"), (1, \"spark-b\")], s" &&
	head=$(python3 -c "import json; print(json.load(open(\"$TRASH/state/run/ray2.json\"))[\"pid\"])") &&
	tr "\0" " " </proc/$head/cmdline | grep -q -- "--tensor-parallel-size 2 --distributed-executor-backend ray" &&
	! tr "\0" " " </proc/$head/cmdline | grep -q -- "--nnodes" &&
	grep -q "joined the Ray cluster at '$NET'.1.1:'$DP3' as '$NET'.1.2" "$TRASH/b/state/logs/ray2.ray1.log" &&
	grep -q "placement group ready: 2 GPUs" "$TRASH/state/logs/ray2.log" &&
	w=$(rank_pid ray2 1) && ip netns identify "$w" | grep -qx "$B" &&
	run 0 sparkctl stop ray2 && gone_pid "$w" && gone_pid "$head"' RIG

test_expect "kill -9 of a remote rank: the watcher stops every rank and says why, with each node's log" '
	run 0 sparkctl serve duo && pid=$(rank_pid duo 1) && head=$(python3 -c "import json; print(json.load(open(\"$TRASH/state/run/duo.json\"))[\"pid\"])") &&
	kill -9 "$pid" && said() { grep -q -- "--- rank 1 on spark-b" "$TRASH/state/logs/duo.log"; } && wait_until 20 said &&
	grep -q "duo: rank 1 on spark-b (pid $pid) is gone: every rank is stopped" "$TRASH/state/logs/duo.log" &&
	gone_pid "$head" &&
	run 0 sparkctl ps && has out "duo .* dead"' RIG

test_expect "a wedged pair (health 200, no generation) is found and stopped" '
	run 1 sparkctl serve --timeout 8 wedged && has err "wedged answers /health but not a one-token generation" &&
	! up '$P1' && [ ! -e "$TRASH/state/run/wedged.json" ] &&
	! pgrep -f "served-model-name wedged" >/dev/null' RIG

test_expect "preflight: an interface that is down" '
	test_when_finished "ip link set vh1$$ up" && ip link set vh1$$ down &&
	run 1 sparkctl serve duo && has err "spark-a: interface vh1$$ is down \(ip link set vh1$$ up\)" && ! up '$P1'' RIG

test_expect "preflight: an unreachable node stops the start before anything runs" '
	run 1 sparkctl serve far && has err "gone \(root@'$NET'.9.2\) is not reachable over SSH" &&
	! up '$P1' && [ ! -e "$TRASH/state/run/far.json" ]' RIG

test_expect "preflight: the checkpoint missing or different on a node" '
	mv "$TRASH/b/models/phi4" "$TRASH/b/phi4.away" && run 1 sparkctl serve duo &&
	has err "spark-b: the checkpoint is not there \('$TRASH'/b/models/phi4/phi4-reasoning\)" &&
	mv "$TRASH/b/phi4.away" "$TRASH/b/models/phi4" &&
	echo " " >>"$TRASH/b/models/phi4/phi4-reasoning/config.json" && run 1 sparkctl serve duo &&
	has err "spark-b: the checkpoint differs from spark-a" && cp "$M/phi4/phi4-reasoning/config.json" "$TRASH/b/models/phi4/phi4-reasoning/" &&
	! up '$P1'' RIG

test_expect "preflight: an interface without the address; memory too small for a node's share" '
	sed "s/^addr = '$NET'.1.2/addr = '$NET'.1.7/" "$TRASH/models.ini" >"$TRASH/noaddr.ini" &&
	run 1 sparkctl --config "$TRASH/noaddr.ini" serve duo && has err "spark-b: interface vn1$$ does not have the address '$NET'.1.7" &&
	python3 "$TESTS/standin/bigckpt.py" "$M/big" && for n in b c; do cp -r --sparse=always "$M/big" "$TRASH/$n/models/"; done &&
	sed "s|^path = phi4/phi4-reasoning|path = big|" "$TRASH/models.ini" >"$TRASH/big.ini" &&
	run 1 sparkctl --config "$TRASH/big.ini" serve duo &&
	has err "duo: needs .* \(weights, KV cache at|its share of the model needs" && ! up '$P1'' RIG

test_expect "switch from a one-node model to the two-node one of its group and back" '
	run 0 sparkctl switch solo && up '$P2' && run 0 sparkctl switch duo && ! up '$P2' && up '$P1' &&
	pid=$(rank_pid duo 1) && run 0 sparkctl switch solo && gone_pid "$pid" && ! up '$P1' && up '$P2' &&
	run 0 sparkctl stop solo' RIG

test_expect "the group rule on every node: a model spark-b's own sparkctl runs there is stopped first" '
	sed "s|^state-dir = $TRASH/state\$|state-dir = $TRASH/b/state|; s|^models-root = $M\$|models-root = $TRASH/b/models|" \
		"$TRASH/models.ini" >"$TRASH/b.ini" &&
	ip netns exec '$B' "$SPARKCTL" --config "$TRASH/b.ini" serve solo >/dev/null 2>&1 &&
	bpid=$(python3 -c "import json; print(json.load(open(\"$TRASH/b/state/run/solo.json\"))[\"pid\"])") && kill -0 "$bpid" &&
	run 0 sparkctl switch duo && gone_pid "$bpid" && up '$P1' && run 0 sparkctl stop duo' RIG

test_expect "nothing from models.ini becomes a command on a node" '
	DUO_ENV="env = X_INJECT=\$(touch\$IFS$TRASH/pwned1);touch\$IFS$TRASH/pwned2'"'"'\"\`touch $TRASH/pwned3\`" write_config &&
	run 0 sparkctl serve duo && [ ! -e "$TRASH/pwned1" ] && [ ! -e "$TRASH/pwned2" ] && [ ! -e "$TRASH/pwned3" ] &&
	grep -q "X_INJECT=\$(touch" "$TRASH/b/state/logs/duo.rank1.log" && run 0 sparkctl stop duo && write_config' RIG

test_expect "stop with a node unreachable: reported, tried again, never silent" '
	run 0 sparkctl serve duo && pid=$(rank_pid duo 1) &&
	test_when_finished "ip netns exec '$B' ip link set vn1$$ up; ip netns exec '$B' ip route add default via '$NET'.1.1; kill -9 $pid" &&
	ip netns exec '$B' ip link set vn1$$ down && run 1 sparkctl stop duo &&
	has err "not every rank could be stopped: rank 1 on spark-b \(pid $pid\)" && ! up '$P1' ' RIG

test_done
