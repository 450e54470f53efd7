#!/usr/bin/env bash
# File names that are not ASCII, through `vmm load` (no KVM needed:
# loading unpacks on the host): UTF-8 in pax records (NFC and decomposed),
# bytes that are not UTF-8 in pax (hdrcharset=BINARY) and gnu headers,
# in whiteouts, hard links and a symlink, and in the outer archive's
# layer and config paths (tests/lib/names-image.py). Docker and
# containerd take names as bytes, so each must land in the rootfs byte for
# byte, whatever the caller's locale: the load runs with LC_ALL unset,
# C and C.UTF-8, each into a store of its own. A pax header libarchive
# cannot parse is no such name: that load stops with one line.
# usage: vmm-load-names.sh VMM
set -uo pipefail
vmm=$1
lib=$(cd "$(dirname "$0")/../lib" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
python3 "$lib/names-image.py" "$tmp/names.tar" || { echo "FAIL: cannot make the image"; exit 1; }

# Names as bytes, spelled with escapes so that what is compared does not
# depend on this file's encoding or the shell's locale.
cafe=$'caf\xc3\xa9'                  # café, NFC
naive=$'na\xc3\xafve'                # naïve
nfd=$'cafe\xcc\x81'                  # café, decomposed (e + U+0301)
raw=$'caf\xe9'                       # not UTF-8
# What the three layers leave: café/crème and gâteau are whited out.
want_list=$(printf './%s\n' binary "binary/$raw" "$cafe" "$cafe/$naive.txt" "$raw" "$raw.lien" \
	$'li\xc3\xa9' lien "$naive-gnu" nfd "nfd/$nfd" | LC_ALL=C sort)

# content FILE WANT: FILE (in the rootfs) is a regular file holding WANT
# and a newline.
content() {
	if [ ! -f "$root/$1" ] || [ "$(cat "$root/$1")" != "$2" ]; then
		fail "$where: $(printf %q "$1") is not a file holding $(printf %q "$2")"
	fi
}
# same_file A B: A and B are hard links of one file.
same_file() {
	if [ "$(stat -c %i "$root/$1" 2>&1)" != "$(stat -c %i "$root/$2" 2>&1)" ]; then
		fail "$where: $(printf %q "$1") is not a hard link of $(printf %q "$2")"
	fi
}

# load_in NAME ENV...: loads the image with the environment changed by
# ENV (env's arguments) into a store of its own and checks its rootfs.
load_in() {
	local name=$1 before=$fails
	shift
	where="LC_ALL $name"
	export VMM_STORE=$tmp/store-$name
	if ! env "$@" "$vmm" load "$tmp/names.tar" >"$tmp/out" 2>"$tmp/err"; then
		fail "$where: refused: $(grep -v '^vmm: layer [0-9]*/' "$tmp/err")"
		return
	fi
	local id got_list
	id=$(sed -n 's/^Loaded image //p' "$tmp/out")
	root=$(echo "$VMM_STORE"/images/"$id"*/rootfs)
	if [ ! -d "$root" ]; then
		fail "$where: no rootfs for image '$id'"
		return
	fi
	got_list=$(cd "$root" && find . -mindepth 1 | LC_ALL=C sort)
	if [ "$got_list" != "$want_list" ]; then
		fail "$where: the rootfs holds other names (bytes shown with cat -v):"
		diff <(LC_ALL=C cat -v <<<"$want_list") <(LC_ALL=C cat -v <<<"$got_list")
	fi
	content "$cafe/$naive.txt" $'na\xc3\xafve'
	content "nfd/$nfd" nfd
	content "binary/$raw" binary
	content "$raw" latin1
	same_file $'li\xc3\xa9' "$cafe/$naive.txt"
	same_file "$naive-gnu" "$cafe/$naive.txt"
	same_file "$raw.lien" "$raw"
	[ "$(readlink "$root/lien")" = "$cafe/$naive.txt" ] ||
		fail "$where: lien -> $(readlink "$root/lien")"
	[ "$fails" = "$before" ] && echo "ok: $where: every name byte for byte"
}

# A malformed pax header: libarchive warns and drops its records (the
# name among them), so extracting the entry would put it elsewhere.
export VMM_STORE=$tmp/store-badpax
python3 "$lib/names-image.py" "$tmp/badpax.tar" badpax || fail "badpax: cannot make the image"
"$vmm" load "$tmp/badpax.tar" >"$tmp/out" 2>"$tmp/err"
status=$?
errs=$(grep -v '^vmm: layer [0-9]*/' "$tmp/err")
if [ "$status" = 0 ]; then
	fail "badpax: loaded"
elif [ "$(wc -l <<<"$errs")" != 1 ] || ! grep -q '^vmm load: layer 1: .*pax' <<<"$errs"; then
	fail "badpax: not one clear line: $errs"
elif kept=$(find "$VMM_STORE/images" "$VMM_STORE/tmp" -mindepth 1) && [ -n "$kept" ]; then
	fail "badpax: the store kept something: $kept"
else
	echo "ok: badpax refused (status $status): $errs"
fi

load_in unset -u LC_ALL
load_in C LC_ALL=C
load_in C.UTF-8 LC_ALL=C.UTF-8

[ "$fails" = 0 ] || { echo "vmm-load-names: $fails failed"; exit 1; }
echo "vmm-load-names: all passed"
