#!/usr/bin/env bash
# The store's file system fills up while an image is unpacked (no KVM
# needed: unpacking runs on the host, before any VM). A file that cannot be
# written whole fails the unpacking with one line naming it and the reason,
# and nothing is kept: before, libarchive's failed write was not checked,
# and the image went on with the file cut short.
#   - vmm load of a docker save whose layer holds a 4 MiB file, into a
#     store on a 6 MiB tmpfs (the layer's tar fits, its file beside it
#     does not): status 1, "...: big: No space left on device", no image
#     listed, no scratch left; before, the image was loaded with the file
#     cut short;
#   - vmm run of a plain rootfs tar holding the same file, the store on a
#     2 MiB tmpfs: status 125, the same line, no scratch left (and no VM
#     started).
# usage: vmm-store-full.sh VMM   (root: it mounts a tmpfs)
set -uo pipefail
vmm=$1
lib=$(cd "$(dirname "$0")/../lib" && pwd)
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root to mount a small tmpfs"; exit 77; }
tmp=$(mktemp -d)
store=$tmp/store
mkdir -p "$store"
mount -t tmpfs -o size=6m tmpfs "$store" || { echo "SKIP: cannot mount a tmpfs"; rm -rf "$tmp"; exit 77; }
trap 'umount "$store"; rm -rf "$tmp"' EXIT
export VMM_STORE=$store
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

PYTHONPATH=$lib python3 - "$tmp" <<'PY'
import hashlib, io, json, os, sys, tarfile
from tarentry import add
out = sys.argv[1]
big = os.urandom(4 << 20)  # incompressible: a tmpfs holds it as is
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w") as t:
    add(t, "bin", type=tarfile.DIRTYPE)
    add(t, "big", big)
layer = buf.getvalue()
with open(os.path.join(out, "rootfs.tar"), "wb") as f:
    f.write(layer)
config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["true"]},
                     "rootfs": {"type": "layers",
                                "diff_ids": ["sha256:" + hashlib.sha256(layer).hexdigest()]}})
with tarfile.open(os.path.join(out, "full.tar"), mode="w") as t:
    add(t, "l1", type=tarfile.DIRTYPE)
    add(t, "l1/layer.tar", layer)
    add(t, "config.json", config.encode())
    add(t, "manifest.json", json.dumps([{"Config": "config.json", "RepoTags": ["full:1"],
                                         "Layers": ["l1/layer.tar"]}]).encode())
PY
[ -s "$tmp/full.tar" ] || { echo "FAIL: cannot make the images"; exit 1; }

# leftovers: what unpacking leaves in the store's scratch and image dirs.
leftovers() { find "$store/tmp" "$store/images" -mindepth 1 2>/dev/null | head -5; }
"$vmm" images >/dev/null 2>&1 # the store's skeleton

"$vmm" load "$tmp/full.tar" >"$tmp/out" 2>"$tmp/err"
status=$?
errs=$(grep -v '^vmm: layer [0-9]*/[0-9]* ' "$tmp/err") # progress lines aside
if [ "$status" != 1 ]; then
	fail "vmm load: status $status, not 1: $errs"
elif [ "$(wc -l <<<"$errs")" != 1 ] || ! grep -qE ': big: No space left on device$' <<<"$errs"; then
	fail "vmm load: not one clear line: $errs"
elif "$vmm" images | grep -q full; then
	fail "vmm load: the image is listed"
elif [ -n "$(leftovers)" ]; then
	fail "vmm load: left $(leftovers)"
else
	echo "PASS: vmm load into a full store: status 1, '$errs', nothing kept"
fi

mount -o remount,size=2m "$store" || fail "cannot shrink the tmpfs"
"$vmm" run "$tmp/rootfs.tar" true >"$tmp/out" 2>"$tmp/err"
status=$?
if [ "$status" != 125 ]; then
	fail "vmm run: status $status, not 125: $(cat "$tmp/err")"
elif [ "$(cat "$tmp/err")" != "vmm run: $tmp/rootfs.tar: big: No space left on device" ]; then
	fail "vmm run: not one clear line: $(cat "$tmp/err")"
elif [ -n "$(leftovers)" ]; then
	fail "vmm run: left $(leftovers)"
else
	echo "PASS: vmm run of a plain tar into a full store: status 125, '$(cat "$tmp/err")', nothing kept"
fi
[ "$fails" = 0 ]
