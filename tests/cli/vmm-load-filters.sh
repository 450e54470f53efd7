#!/usr/bin/env bash
# Compressed images through `vmm load` (no KVM needed: loading unpacks on
# the host). A layer compressed with gzip, bzip2, xz, zstd or lz4, and a
# docker save piped through gzip or zstd, load to the same rootfs: these
# are decompressed inside vmm. A compression libarchive would hand to an
# external program (lzop, lrzip, grzip: found in PATH and run on the
# image's bytes) is refused with one line, and that program never runs:
# the test puts fake ones first in PATH that leave a mark.
# usage: vmm-load-filters.sh VMM
set -uo pipefail
vmm=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# The layer: one file. Its diff_id is the sha256 of the tar itself.
mkdir -p "$tmp/l/etc"
echo hello >"$tmp/l/etc/greeting"
tar --numeric-owner --owner=0 --group=0 -C "$tmp/l" -cf "$tmp/layer.tar" .
diff_id=$(sha256sum "$tmp/layer.tar" | cut -d' ' -f1)

# image NAME LAYERFILE: a docker save tar (NAME.tar, tagged NAME:1) whose
# one layer is LAYERFILE's bytes.
image() {
	local name=$1 dir=$tmp/img-$1
	mkdir -p "$dir"
	cp "$2" "$dir/layer"
	printf '{"architecture":"amd64","os":"linux","config":{"Cmd":["cat","/etc/greeting"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
		"$diff_id" >"$dir/config.json"
	printf '[{"Config":"config.json","RepoTags":["%s:1"],"Layers":["layer"]}]' "$name" >"$dir/manifest.json"
	tar -C "$dir" -cf "$tmp/$name.tar" .
}

# loads NAME FILE: FILE loads, and its rootfs holds the layer's file.
loads() {
	export VMM_STORE=$tmp/store-$1
	if ! "$vmm" load "$2" >"$tmp/out" 2>"$tmp/err"; then
		fail "$1: refused: $(cat "$tmp/err")"
		return
	fi
	local id
	id=$(sed -n 's/^Loaded image //p' "$tmp/out")
	if [ "$(cat "$VMM_STORE"/images/"$id"*/rootfs/etc/greeting 2>&1)" != hello ]; then
		fail "$1: the rootfs does not hold etc/greeting"
	else
		echo "ok: $1 loads"
	fi
}

for c in gzip bzip2 xz zstd lz4; do
	if ! command -v $c >/dev/null; then
		fail "$c is not installed"
		continue
	fi
	$c -c "$tmp/layer.tar" >"$tmp/layer.$c"
	image "layer-$c" "$tmp/layer.$c"
	loads "layer-$c" "$tmp/layer-$c.tar"
done
image plain "$tmp/layer.tar"
for c in gzip zstd; do
	$c -c "$tmp/plain.tar" >"$tmp/plain.tar.$c"
	loads "save-$c" "$tmp/plain.tar.$c"
done

# Fake external decompressors: each leaves a mark, then passes its input on.
mkdir -p "$tmp/bin"
for p in lzop lrzip grzip; do
	printf '#!/bin/sh\ntouch %s/ran-%s\nexec cat\n' "$tmp" "$p" >"$tmp/bin/$p"
	chmod +x "$tmp/bin/$p"
done
# refused NAME MAGIC: a layer that starts with MAGIC (printf's escapes) and
# goes on with the tar's bytes, and the whole docker save behind the same
# magic: each refused with one line, and no fake program ran.
refused() {
	local name=$1 magic=$2
	{ printf "$magic"; cat "$tmp/layer.tar"; } >"$tmp/layer.$name"
	image "layer-$name" "$tmp/layer.$name"
	{ printf "$magic"; cat "$tmp/plain.tar"; } >"$tmp/save.$name"
	for f in "$tmp/layer-$name.tar" "$tmp/save.$name"; do
		export VMM_STORE=$tmp/store-$name
		rm -f "$tmp/ran-$name"
		PATH=$tmp/bin:$PATH "$vmm" load "$f" >"$tmp/out" 2>"$tmp/err"
		local status=$? errs
		errs=$(grep -v '^vmm: layer [0-9]*/[0-9]* ' "$tmp/err")
		if [ -e "$tmp/ran-$name" ]; then
			fail "$name: $(basename "$f"): the external $name ran"
		elif [ "$status" = 0 ]; then
			fail "$name: $(basename "$f"): loaded"
		elif [ "$(wc -l <<<"$errs")" != 1 ] || ! grep -q "compressed with $name, which only an external" <<<"$errs"; then
			fail "$name: $(basename "$f"): not one clear line: $errs"
		else
			echo "ok: $name: $(basename "$f") refused (status $status), nothing run: $errs"
		fi
	done
}
refused lzop '\211LZO\000\r\n\032\n'
refused lrzip 'LRZI\000\006'
refused grzip 'GRZipII\000\002\004:)'

if [ "$fails" != 0 ]; then
	echo "$fails failure(s)"
	exit 1
fi
echo "all passed"
