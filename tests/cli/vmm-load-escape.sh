#!/usr/bin/env bash
# Image layers that try to write outside the image, through `vmm load`
# (no KVM needed: loading unpacks on the host). Each is refused with one
# error line naming the layer, or, for paths made harmless, contained;
# nothing ever appears outside the store, and a refused load keeps nothing.
# Nor does the host's user database reach in: a layer file's owner is
# the tar entry's uid and gid, not what the host calls its user and group
# names. Also an image document too big to read (16 MiB at most).
# usage: vmm-load-escape.sh VMM
set -uo pipefail
vmm=$1
lib=$(cd "$(dirname "$0")/../lib" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export VMM_STORE=$tmp/store
outside=$tmp/outside
mkdir -p "$outside" && echo target >"$outside/target"
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
make_image() { python3 "$lib/escape-image.py" "$tmp/$1.tar" "$1" "$outside" || fail "$1: cannot make the image"; }
# The store's files (scratch included) and the watched directory.
snapshot() { (cd "$VMM_STORE" 2>/dev/null && find . | sort) | md5sum; ls -A "$outside"; }

"$vmm" images >/dev/null 2>&1 # the store exists before the first snapshot

# refused KIND REGEX: vmm load fails with one error line matching REGEX and
# changes nothing.
refused() {
	local kind=$1 re=$2 before
	make_image "$kind"
	before=$(snapshot)
	"$vmm" load "$tmp/$kind.tar" >"$tmp/out" 2>"$tmp/err"
	local status=$?
	local errs
	errs=$(grep -v '^vmm: layer [0-9]*/[0-9]* ' "$tmp/err") # progress lines aside
	if [ "$status" = 0 ]; then
		fail "$kind: loaded"
	elif [ "$(wc -l <<<"$errs")" != 1 ] || ! grep -qE "$re" <<<"$errs"; then
		fail "$kind: not one clear line: $errs"
	elif [ "$(snapshot)" != "$before" ]; then
		fail "$kind: the store or $outside changed"
	else
		echo "ok: $kind refused (status $status): $errs"
	fi
}
refused dotdot '^vmm load: layer 1: entry (\.\./)+.*/pwned-dotdot leaves the image$'
refused hardlink '^vmm load: layer 1: hard link h leaves the image$'
# A path longer than PATH_MAX: the line shows its first 128 bytes and its
# length, so the reason after it is never cut off.
refused longpath '^vmm load: layer 1: entry x{99}/x{28}\.\.\. \(5000 bytes\) has too long a path$'

# contained KIND PATH: loads, and PATH (relative to the image's rootfs) is
# where the entry landed; the watched directory is untouched.
contained() {
	local kind=$1 want=$2 id
	make_image "$kind"
	if ! "$vmm" load "$tmp/$kind.tar" >"$tmp/out" 2>"$tmp/err"; then
		fail "$kind: refused: $(cat "$tmp/err")"
		return
	fi
	id=$(sed -n 's/^Loaded image //p' "$tmp/out")
	local root
	root=$(echo "$VMM_STORE"/images/"$id"*/rootfs)
	if [ "$(ls -A "$outside")" != target ]; then
		fail "$kind: something was written outside: $(ls -A "$outside")"
	elif [ ! -f "$root/$want" ]; then
		fail "$kind: $want is not in the image"
	else
		echo "ok: $kind contained: $want inside the image, nothing outside"
	fi
}
# An absolute path is the image's (docker drops the leading "/" too).
contained absolute abs/inside
# A file below a symlink that points out of the image: the symlink is
# replaced by a directory (libarchive's secure-symlinks rule), never followed.
contained symlink s/pwned-symlink
contained relsym r/pwned-relsym

# Owners as numbers, as docker and containerd extract layers: an entry
# named root:root but numbered 4242:4343 stays 4242:4343 (and keeps its
# setuid bit), a name the host does not know changes nothing either.
# Only root can give files other owners (CI runs as root).
if [ "$(id -u)" != 0 ]; then
	echo "skip: owners (not root: extraction cannot chown)"
else
	make_image owners
	if ! "$vmm" load "$tmp/owners.tar" >"$tmp/out" 2>"$tmp/err"; then
		fail "owners: refused: $(cat "$tmp/err")"
	else
		id=$(sed -n 's/^Loaded image //p' "$tmp/out")
		got=$(cd "$VMM_STORE"/images/"$id"*/rootfs/own && stat -c '%n %u:%g %a' named unknown link)
		want=$'named 4242:4343 4755\nunknown 4244:4245 644\nlink 4244:4245 777'
		if [ "$got" != "$want" ]; then
			fail "owners: got [$got], want [$want]"
		else
			echo "ok: owners are the entries' numbers: ${got//$'\n'/, }"
		fi
	fi
fi

# A document too big to be one (an index.json of 17 MiB, sparse): refused
# unread, one line, the store unchanged.
mkdir -p "$tmp/huge"
printf '{"imageLayoutVersion":"1.0.0"}' >"$tmp/huge/oci-layout"
truncate -s 17M "$tmp/huge/index.json"
before=$(snapshot)
"$vmm" load "$tmp/huge" >"$tmp/out" 2>"$tmp/err"
status=$?
if [ "$status" = 0 ] || [ "$(wc -l <"$tmp/err")" != 1 ] ||
	! grep -q 'index.json: not a regular file of at most 16 MiB$' "$tmp/err"; then
	fail "huge index.json: status $status: $(cat "$tmp/err")"
elif [ "$(snapshot)" != "$before" ]; then
	fail "huge index.json: the store changed"
else
	echo "ok: a 17 MiB index.json refused unread: $(cat "$tmp/err")"
fi

[ "$fails" = 0 ] || { echo "vmm-load-escape: $fails failed"; exit 1; }
echo "vmm-load-escape: all passed"
