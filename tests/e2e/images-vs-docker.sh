#!/usr/bin/env bash
# The layered test image (tests/lib/layered-image.sh: whiteouts, an opaque
# directory, a hard link, a symlink, a setuid binary, a non-root USER) as
# Docker with runc shows it, against `vmm run` (its own image store) and
# `docker run --runtime=vmm`: every file of the image with its mode, owner,
# type, link count, size and link target, and the process's uid, gid,
# working directory and environment must be the same in all three.
# usage: images-vs-docker.sh BUILD_DIR
set -uo pipefail
build=$(cd "$1" && pwd)
. "$(dirname "$0")/../kvm/require-kvm.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
dir=$(mktemp -d)
d=$dir/docker
trap '"$top/scripts/dockerd-private" stop "$d"; rm -rf "$dir"' EXIT
env=$("$top/scripts/dockerd-private" start "$d" "$build") || exit $?
export "$env"
export VMM_STORE=$dir/store
failures=0

"$top/tests/lib/layered-image.sh" "$dir/image" >/dev/null || { echo "FAIL: the test image"; exit 1; }
docker load -i "$dir/image/layered.tar" >/dev/null || { echo "FAIL: docker load"; exit 1; }
"$build/vmm" load "$dir/image/layered.tar" >/dev/null || { echo "FAIL: vmm load"; exit 1; }

# The image's own files: what the engines add (/proc, /sys, /dev; Docker's
# init layer: /.dockerenv, /etc/mtab, and its bind-mounted /etc/hosts,
# hostname, resolv.conf) left out.
# Directories' sizes and link counts depend on the file system underneath,
# so only files and links show theirs.
listing='
echo "id=$(id -u):$(id -g) groups=$(id -G) cwd=$(pwd) FOO=$FOO PATH=$PATH"
cd /
find . -xdev \( -path ./proc -o -path ./sys -o -path ./dev -o -path ./.dockerenv \
	-o -path ./etc/hosts -o -path ./etc/hostname -o -path ./etc/resolv.conf \
	-o -path ./etc/mtab \) -prune \
	-o -print | sort | while read -r f; do
	if [ -L "$f" ]; then
		echo "$f link $(stat -c "%u:%g" "$f") -> $(readlink "$f")"
	elif [ -d "$f" ]; then
		echo "$f dir $(stat -c "%a %u:%g" "$f")"
	else
		echo "$f file $(stat -c "%a %u:%g %h %s" "$f") $(md5sum < "$f" | cut -c1-8)"
	fi
done'
timeout 300 docker run --rm layered:1 sh -c "$listing" >"$dir/runc" 2>"$dir/runc.err" ||
	{ cat "$dir/runc.err"; echo "FAIL: docker run with runc"; exit 1; }
timeout 300 "$build/vmm" run layered:1 sh -c "$listing" >"$dir/vmm" 2>"$dir/vmm.err"
timeout 300 docker run --runtime=vmm --rm layered:1 sh -c "$listing" >"$dir/docker-vmm" \
	2>"$dir/docker-vmm.err"
lines=$(wc -l <"$dir/runc")
grep -q '^./data/gone' "$dir/runc" && { echo "FAIL: runc shows the whited-out file"; failures=1; }
for sys in vmm docker-vmm; do
	if diff -u "$dir/runc" "$dir/$sys" >"$dir/$sys.diff"; then
		echo "PASS: $sys shows exactly what runc shows ($lines lines: files, modes, owners, links, contents, uid/gid, cwd, env)"
	else
		head -40 "$dir/$sys.diff"
		cat "$dir/$sys.err"
		echo "FAIL: $sys differs from runc"
		failures=$((failures + 1))
	fi
done
echo "images vs docker: $failures failed"
[ "$failures" = 0 ]
