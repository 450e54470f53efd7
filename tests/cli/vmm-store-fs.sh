#!/usr/bin/env bash
# The store on file systems that cannot take everything an image holds (no
# KVM needed: unpacking runs on the host, before any VM).
# A full one: a file that cannot be written whole fails the unpacking with
# one line naming it and the reason, and nothing is kept: before,
# libarchive's failed write was not checked, and the image went on with the
# file cut short.
#   - vmm load of a docker save whose layer holds a 4 MiB file, into a
#     store on a 6 MiB tmpfs (the layer's tar fits, its file beside it
#     does not): status 1, "...: big: No space left on device", no image
#     listed, no scratch left; before, the image was loaded with the file
#     cut short;
#   - vmm run of a plain rootfs tar holding the same file, the store on a
#     2 MiB tmpfs: status 125, the same line, no scratch left (and no VM
#     started).
# One without xattrs (ramfs): files whose xattrs cannot be kept are
# unpacked without them, and one line says how many and why (containerd
# logs them and goes on):
#   - vmm load of a layer with 2 files and a directory carrying user.*
#     xattrs: loaded, the line names 3 files and the first, once;
#   - vmm run of the same layer as a plain tar: the line comes once (the
#     tar was unpacked twice before: once to look for a manifest.json).
# One whose tags file cannot be written: vmm load and vmm rmi say so.
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
xbuf = io.BytesIO()
with tarfile.open(fileobj=xbuf, mode="w", format=tarfile.PAX_FORMAT) as t:
    for n in ("a", "b"):
        add(t, n, b"x\n", pax_headers={"SCHILY.xattr.user.note": "hi"})
    add(t, "dir", type=tarfile.DIRTYPE, pax_headers={"SCHILY.xattr.user.note": "hi"})
xlayer = xbuf.getvalue()
with open(os.path.join(out, "xattrs.tar"), "wb") as f:
    f.write(xlayer)
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w") as t:
    add(t, "bin", type=tarfile.DIRTYPE)
    add(t, "big", big)
layer = buf.getvalue()
with open(os.path.join(out, "rootfs.tar"), "wb") as f:
    f.write(layer)


def docker_save(name, layer, tag):
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["true"]},
                         "rootfs": {"type": "layers",
                                    "diff_ids": ["sha256:" + hashlib.sha256(layer).hexdigest()]}})
    with tarfile.open(os.path.join(out, name), mode="w") as t:
        add(t, "l1", type=tarfile.DIRTYPE)
        add(t, "l1/layer.tar", layer)
        add(t, "config.json", config.encode())
        add(t, "manifest.json", json.dumps([{"Config": "config.json", "RepoTags": [tag],
                                             "Layers": ["l1/layer.tar"]}]).encode())


docker_save("full.tar", layer, "full:1")
docker_save("xattrs-image.tar", xlayer, "xattrs:1")
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

# A store without xattrs.
umount "$store" && mount -t ramfs ramfs "$store" || { echo "FAIL: cannot mount a ramfs"; exit 1; }
if python3 -c "import os, sys; open(sys.argv[1], 'w').close(); os.setxattr(sys.argv[1], 'user.t', b'1')" \
	"$store/probe" 2>/dev/null; then
	echo "SKIP: this ramfs holds user xattrs: no store without them here"
else
	rm -f "$store/probe"
	"$vmm" images >/dev/null 2>&1
	want='3 files kept without part of their metadata (the first: a: Cannot restore extended attributes on this file system.)'
	"$vmm" load "$tmp/xattrs-image.tar" >"$tmp/out" 2>"$tmp/err"
	status=$?
	notes=$(grep -v '^vmm: layer [0-9]*/[0-9]* ' "$tmp/err")
	if [ "$status" != 0 ]; then
		fail "xattrs: vmm load: status $status: $(cat "$tmp/err")"
	elif [ "$notes" != "vmm: layer 1: $want" ]; then
		fail "xattrs: vmm load: not the one line: $notes"
	elif ! "$vmm" images | grep -q '^xattrs '; then
		fail "xattrs: vmm load: the image is not listed"
	else
		echo "PASS: vmm load into a store without xattrs: loaded, '$notes'"
	fi
	# --kernel that does not exist: the run stops right after the rootfs.
	"$vmm" run --kernel /nonexistent "$tmp/xattrs.tar" true >"$tmp/out" 2>"$tmp/err"
	if [ "$(grep -c 'kept without part' "$tmp/err")" != 1 ] ||
		! grep -qxF "vmm: $tmp/xattrs.tar: $want" "$tmp/err"; then
		fail "xattrs: vmm run of a plain tar: not the one line once: $(cat "$tmp/err")"
	else
		echo "PASS: vmm run of a plain tar into a store without xattrs: the line once"
	fi
fi

# A store whose tags file cannot be written (a directory in the way of
# its temporary file): vmm load and vmm rmi each fail with one line naming
# the file; before, both failed with an empty message, and rmi removed
# the image that the tags file still named.
export VMM_STORE=$tmp/store-tags
"$vmm" images >/dev/null 2>&1
mkdir "$VMM_STORE/repositories.json.tmp"
"$vmm" load "$tmp/xattrs-image.tar" >"$tmp/out" 2>"$tmp/err"
status=$?
errs=$(grep -v -e '^vmm: layer [0-9]*/[0-9]* ' -e 'kept without part' "$tmp/err")
if [ "$status" != 1 ] || [ "$errs" != "vmm load: $VMM_STORE/repositories.json.tmp: Is a directory" ]; then
	fail "tags: vmm load: status $status, not one clear line: $errs"
else
	echo "PASS: vmm load, tags not writable: status 1, '$errs'"
fi
id=$(ls "$VMM_STORE/images" 2>/dev/null | head -1)
"$vmm" rmi "$id" >"$tmp/out" 2>"$tmp/err"
status=$?
if [ -z "$id" ]; then
	fail "tags: no image to remove"
elif [ "$status" != 1 ] || [ "$(cat "$tmp/err")" != "vmm rmi: $VMM_STORE/repositories.json.tmp: Is a directory" ]; then
	fail "tags: vmm rmi: status $status, not one clear line: $(cat "$tmp/err")"
elif [ ! -d "$VMM_STORE/images/$id" ]; then
	fail "tags: vmm rmi removed the image all the same"
else
	echo "PASS: vmm rmi, tags not writable: status 1, '$(cat "$tmp/err")', the image kept"
fi
[ "$fails" = 0 ]
