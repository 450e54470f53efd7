#!/usr/bin/env bash
# docker run --runtime=vmm, end to end: a dockerd of the test's own (its
# own data and exec roots, a link-local bridge) with vmm-runtime added as
# the runtime "vmm", the busybox image loaded, then what a Docker user
# does: run with stdio, exit codes, -i, -t, -e/-w/-u, --read-only,
# --hostname, --memory/--cpus, the bridge and --network none, exec, stop,
# kill -s, logs, wait, rm -f; and nothing of a container left after it.
# usage: docker.sh BUILD_DIR   (in a machine with 2 CPUs or more: Docker
# refuses --cpus above the host's)
set -uo pipefail
build=$(cd "$1" && pwd)
. "$(dirname "$0")/../kvm/require-kvm.sh"

dir=$(mktemp -d)
d=$dir/docker
failures=0
pass() { echo "PASS: $*"; }
bad() { echo "FAIL: $*"; failures=$((failures + 1)); }
# check WHAT EXPECTED ACTUAL
check() { if [ "$2" = "$3" ]; then pass "$1"; else bad "$1: expected '$2', got '$3'"; fi; }
top=$(cd "$(dirname "$0")/../.." && pwd)
trap '"$top/scripts/dockerd-private" stop "$d"; rm -rf "$dir"' EXIT
env=$("$top/scripts/dockerd-private" start "$d" "$build") || exit $?
export "$env"
vrun() { timeout 300 docker run --runtime=vmm "$@"; }

check "docker run --runtime=vmm --rm busybox echo hi" hi "$(vrun --rm busybox echo hi 2>&1)"
vrun --rm busybox sh -c 'echo out; echo err >&2; exit 3' >"$dir/out" 2>"$dir/err"
check "the exit code comes through (3)" 3 "$?"
check "stdout and stderr apart" "out|err" "$(cat "$dir/out")|$(cat "$dir/err")"
check "-i: stdin reaches the container" 2 "$(printf 'a\nb\n' | vrun -i --rm busybox wc -l | tr -d ' ')"
check "-t: the process has a tty" /dev/pts/0 "$(vrun -t --rm busybox tty | tr -d '\r')"
check "-e, -w, -u 1000:1000" "bar /tmp 1000:1000" \
	"$(vrun --rm -e FOO=bar -w /tmp -u 1000:1000 busybox sh -c 'echo $FOO $(pwd) $(id -u):$(id -g)')"
check "--hostname" box "$(vrun --rm --hostname box busybox hostname)"
vrun --rm --read-only busybox touch /x >"$dir/out" 2>&1
ro=$?
grep -q "Read-only file system" "$dir/out" && [ "$ro" != 0 ] &&
	pass "--read-only: writes fail with EROFS" || bad "--read-only: status $ro: $(cat "$dir/out")"
mem=$(vrun --rm --memory 256m --cpus 2 busybox sh -c \
	'echo $(nproc) $(awk "/MemTotal/ {print int(\$2 / 1024)}" /proc/meminfo)')
set -- $mem
[ "${1:-}" = 2 ] && [ "${2:-0}" -gt 200 ] && [ "${2:-0}" -le 256 ] &&
	pass "--memory 256m --cpus 2: the guest has 2 vCPUs and ${2} MiB" ||
	bad "--memory 256m --cpus 2: nproc and MiB are '$mem'"

# -v: a host directory read and written, and read-only.
mkdir -p "$dir/vol"
echo from-host >"$dir/vol/in"
check "-v HOSTDIR:/data: the container reads the host's file and writes one back" \
	"from-host|from-container" \
	"$(vrun --rm -v "$dir/vol:/data" busybox sh -c 'cat /data/in; echo from-container > /data/out')|$(cat "$dir/vol/out" 2>/dev/null)"
vrun --rm -v "$dir/vol:/data:ro" busybox touch /data/ro >"$dir/out" 2>&1
[ ! -e "$dir/vol/ro" ] && grep -q "Read-only file system" "$dir/out" &&
	pass "-v HOSTDIR:/data:ro: writes fail, nothing changes on the host" ||
	bad "-v :ro: $(cat "$dir/out")"

# The default bridge: the container reaches a TCP server in the host's
# namespace on the bridge's (link-local) address, and -p publishes its port.
busybox nc -l -p 9000 169.254.77.1 >"$dir/tcp" &
srv=$!
vrun --rm busybox sh -c 'echo hello-host | nc 169.254.77.1 9000' >/dev/null 2>&1
for _ in $(seq 50); do [ -s "$dir/tcp" ] && break; sleep 0.1; done
kill "$srv" 2>/dev/null
check "the container reaches a TCP server on the host over the bridge" hello-host "$(cat "$dir/tcp")"
id=$(vrun -d -p 8080:80 busybox sh -c 'echo served | nc -l -p 80')
got=
for _ in $(seq 60); do
	got=$(busybox nc 127.0.0.1 8080 </dev/null 2>/dev/null) && [ -n "$got" ] && break
	sleep 0.5
done
check "-p 8080:80 reaches a server in the container" served "$got"
docker rm -f "$id" >/dev/null

# --network none: Docker's namespace has lo alone; the shim's tap goes
# there all the same (the VM's NIC exists from boot), but the container
# sees what runc's does: lo. (Not compared with --runtime=runc live: in
# the emulated machine runc's container start soft-locked its kernel.)
check "--network none: the container sees lo alone, as runc's does" lo \
	"$(vrun --network none --rm busybox ls /sys/class/net | tr '\n' ' ' | sed 's/ $//')"

# A detached container: exec, logs, kill -s USR1 (its trap exits 7), wait.
id=$(vrun -d busybox sh -c 'trap "echo got-usr1; exit 7" USR1; echo started; while :; do sleep 0.2; done')
check "run -d prints the id" 64 "${#id}"
for _ in $(seq 100); do docker logs "$id" 2>/dev/null | grep -q started && break; sleep 0.2; done
check "docker exec into the running container" "in-exec $(docker inspect -f '{{.Config.Hostname}}' "$id")" \
	"$(timeout 120 docker exec "$id" sh -c 'echo in-exec $(hostname)')"
timeout 120 docker exec "$id" sh -c 'exit 9'
check "docker exec's exit code" 9 "$?"
docker kill -s USR1 "$id" >/dev/null
check "docker kill -s USR1 reaches the process; docker wait gives its status" 7 \
	"$(timeout 120 docker wait "$id")"
check "docker logs" "started got-usr1" "$(docker logs "$id" | tr '\n' ' ' | sed 's/ $//')"
docker rm "$id" >/dev/null

id=$(vrun -d busybox sleep 1000)
timeout 120 docker stop -t 5 "$id" >/dev/null
check "docker stop: SIGTERM ends it (143)" 143 "$(docker inspect -f '{{.State.ExitCode}}' "$id")"
docker rm "$id" >/dev/null
id=$(vrun -d busybox sh -c 'trap "" TERM; while :; do sleep 0.2; done')
timeout 120 docker stop -t 2 "$id" >/dev/null
check "docker stop: SIGKILL after the timeout (137)" 137 \
	"$(docker inspect -f '{{.State.ExitCode}}' "$id")"
docker rm "$id" >/dev/null

id=$(vrun -d busybox sleep 1000)
docker rm -f "$id" >/dev/null
for _ in $(seq 150); do pgrep -x vmm-runtime >/dev/null || break; sleep 0.1; done
pgrep -ax vmm-runtime
left=$(pgrep -x vmm-runtime | wc -l)
state=$(ls "$d/exec/runtime-vmm/moby" 2>/dev/null | wc -l)
check "after docker rm -f: no vmm-runtime process, no runtime state" "0 0" "$left $state"

# SIGKILL of the pid-file process (the shim, which is the VMM): Docker sees
# the container end with 137; after docker rm nothing is left of it.
id=$(vrun -d -v "$dir/vol:/data" busybox sleep 1000)
pid=$(docker inspect -f '{{.State.Pid}}' "$id")
kill -KILL "$pid"
check "SIGKILL of the pid-file process: docker wait says 137" 137 "$(timeout 120 docker wait "$id")"
docker rm "$id" >/dev/null
for _ in $(seq 150); do pgrep -x vmm-runtime >/dev/null || break; sleep 0.1; done
check "after that: no vmm-runtime process, state, mount or tap" "0 0 0 0" \
	"$(pgrep -x vmm-runtime | wc -l) $(ls "$d/exec/runtime-vmm/moby" 2>/dev/null | wc -l) $(grep -c runtime-vmm /proc/mounts) $(ip -o link | grep -c vmmtap)"

# containerd's own client, with vmm-runtime as runc v2's binary, on the
# containerd dockerd started.
ctr=(ctr -a "$d/exec/containerd/containerd.sock" -n vmmtest)
"${ctr[@]}" image import --all-platforms "$build/busybox-image.tar" >/dev/null 2>&1
img=$("${ctr[@]}" image ls -q | grep busybox | head -n1)
check "ctr run --runc-binary vmm-runtime" hi \
	"$(timeout 300 "${ctr[@]}" run --runtime io.containerd.runc.v2 --runc-binary "$build/vmm-runtime" \
		--rm "$img" ctr1 echo hi 2>&1)"

echo "docker e2e: $failures failed"
[ "$failures" = 0 ]
