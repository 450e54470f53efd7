#!/usr/bin/env bash
# Images through vmm load / images / run / rmi, in a store of its own: a
# docker save tarball of two layers made here, exercising what image
# unpacking must get right, checked from inside the container:
#   layer 1: busybox, /etc/passwd with user app (1000:1000), /data/keep,
#            /data/gone, /opq/a, /opq/b, a setuid /bin/suid (4755);
#   layer 2: a whiteout for /data/gone, /opq made opaque with /opq/c,
#            a symlink /data/link -> keep, /data/new with a hard link
#            /data/hard;
#   config:  User app, WorkingDir /data, Env FOO=img, Cmd ls.
# Also: the image's Cmd when no command is given; -e and -w and -u
# overriding the image's; a tampered layer refused at load; the store
# left unchanged by a run that writes; rmi.
# usage: vmm-images.sh VMM
set -uo pipefail
vmm=$1
. "$(dirname "$0")/require-kvm.sh"
. "$(dirname "$0")/guest-run.sh"
export VMM_STORE=$dir/store
cid=$("$(dirname "$0")/../lib/layered-image.sh" "$dir/image") || fail "cannot make the test image"
layered=$dir/image/layered.tar

"$vmm" load "$layered" >"$out" 2>"$err" || fail "load: vmm load failed"
grep -qx "Loaded image ${cid:0:12}" "$out" || fail "load: not the config's digest as the id"
"$vmm" images >"$out" 2>"$err"
grep -qE "^layered +1 +${cid:0:12}\$" "$out" || fail "images: layered:1 not listed"
echo "PASS: vmm load of a two-layer docker save; vmm images lists it"

timeout 300 "$vmm" run layered:1 >"$out" 2>"$err"
status=$?
[ "$status" = 0 ] || fail "Cmd: vmm run exited $status"
[ "$(tr '\n' ' ' <"$out")" = "hard keep link new " ] || fail "Cmd: ls in WorkingDir /data gave: $(cat "$out")"
echo "PASS: the image's Cmd runs in its WorkingDir: $(tr '\n' ' ' <"$out")"

timeout 300 "$vmm" run layered:1 sh -c '
	echo "id=$(id -u):$(id -g) cwd=$(pwd) foo=$FOO"
	echo "opq=$(ls /opq | tr "\n" " ")"
	echo "link=$(readlink /data/link) $(cat /data/link)"
	echo "hard=$(stat -c %h /data/new) $( [ /data/new -ef /data/hard ] && echo same)"
	echo "suid=$(stat -c %a /bin/suid)"
	echo "gone=$( [ -e /data/gone ] && echo present || echo absent)"
	echo "wh=$(find / -xdev -name ".wh.*" | wc -l)"
	echo x >/tmp/written && echo "write=ok"' >"$out" 2>"$err"
status=$?
[ "$status" = 0 ] || fail "inside: vmm run exited $status"
for want in 'id=1000:1000 cwd=/data foo=img' 'opq=c ' 'link=keep keep' 'hard=2 same' \
	'suid=4755' 'gone=absent' 'wh=0' 'write=ok'; do
	grep -qxF "$want" "$out" || fail "inside: no '$want'"
done
echo "PASS: whiteout, opaque dir, symlink, hard link, setuid and USER as docker shows them"

timeout 300 "$vmm" run -u 0 -w / -e FOO=cli layered:1 sh -c 'echo "$(id -u) $(pwd) $FOO"' >"$out" 2>"$err"
[ "$(cat "$out")" = "0 / cli" ] || fail "options: -u/-w/-e did not override the image: $(cat "$out")"
[ -e "$VMM_STORE/images/$cid/rootfs/tmp/written" ] && fail "a run wrote into the store"
echo "PASS: -u, -w and -e override the image; runs leave the store alone"

# A layer whose bytes do not match its diff_id is refused, and nothing is kept.
d2=$(sha256sum "$dir/image/l2.tar" | cut -d' ' -f1)
mkdir -p "$dir/bad" && tar -C "$dir/bad" -xf "$layered"
echo tampered >>"$dir/bad/$d2/layer.tar"
sed -i 's/layered:1/tampered:1/' "$dir/bad/manifest.json"
tar -C "$dir/bad" -cf "$dir/bad.tar" .
"$vmm" load "$dir/bad.tar" >"$out" 2>"$err" && fail "tampered: vmm load accepted it"
grep -q 'layer 2: content does not match its digest' "$err" || fail "tampered: no clear error"
"$vmm" images | grep -q tampered && fail "tampered: tagged anyway"
[ -z "$(ls "$VMM_STORE/tmp")" ] || fail "tampered: scratch left in the store"
echo "PASS: a tampered layer is refused: $(grep digest "$err")"

# The same image as an OCI archive: the same id, and a run shows exactly
# what the docker save's shows.
listing='id; pwd; echo $FOO; cd /; find bin/suid data opq etc -xdev | sort | while read -r f; do
	echo "$f $(stat -c "%a %u:%g %F" "$f") $( [ -L "$f" ] && readlink "$f")"; done'
timeout 300 "$vmm" run layered:1 sh -c "$listing" >"$dir/from-save" 2>"$err" || fail "run of the docker save"
"$vmm" load "$dir/image/layered-oci.tar" >"$out" 2>"$err" || fail "load of the OCI archive failed"
grep -qx "Loaded image ${cid:0:12}" "$out" || fail "the OCI archive is not the same image: $(cat "$out")"
timeout 300 "$vmm" run layered-oci:1 sh -c "$listing" >"$dir/from-oci" 2>"$err" || fail "run of the OCI image"
timeout 300 "$vmm" run "$dir/image/oci" sh -c "$listing" >"$dir/from-dir" 2>"$err" ||
	fail "run of the OCI layout directory"
cmp -s "$dir/from-save" "$dir/from-oci" && cmp -s "$dir/from-save" "$dir/from-dir" ||
	fail "docker save and OCI differ: $(diff "$dir/from-save" "$dir/from-oci"; diff "$dir/from-save" "$dir/from-dir")"
echo "PASS: a docker save tarball, an OCI archive and an OCI layout directory of one image: the same id, the same files ($(wc -l <"$dir/from-save") lines)"

# Bad images: one clear error each, and the store exactly as it was.
before=$(cd "$VMM_STORE" && find . | sort | md5sum)
head -c 100000 "$layered" >"$dir/truncated.tar"
"$vmm" load "$dir/truncated.tar" >"$out" 2>"$err" && fail "a truncated tarball was loaded"
[ "$(wc -l <"$err")" = 1 ] || fail "truncated: not one line: $(cat "$err")"
echo "PASS: a truncated tarball: $(cat "$err")"
cp -a "$dir/image/oci" "$dir/noblob"
rm "$dir/noblob/blobs/sha256/$d2"
"$vmm" load "$dir/noblob" >"$out" 2>"$err" && fail "an OCI layout with a missing blob was loaded"
grep -q "missing" "$err" && [ "$(wc -l <"$err")" = 1 ] || fail "missing blob: $(cat "$err")"
echo "PASS: a missing blob: $(cat "$err")"
[ "$(cd "$VMM_STORE" && find . | sort | md5sum)" = "$before" ] ||
	fail "the store changed after refused loads"
echo "PASS: the store is untouched by the refused loads"

# Two tags of one image: rmi of one only untags it.
"$vmm" rmi layered-oci:1 >"$out" 2>"$err" || fail "rmi of the OCI tag failed"
[ -e "$VMM_STORE/images/$cid" ] || fail "rmi of one of two tags removed the image"
"$vmm" rmi layered:1 >"$out" 2>"$err" || fail "rmi failed"
[ -e "$VMM_STORE/images/$cid" ] && fail "rmi: the image is still there"
"$vmm" run layered:1 true >"$out" 2>"$err" && fail "rmi: still runs"
grep -q "no image 'layered:1' here" "$err" || fail "rmi: no clear error for a missing image"
echo "PASS: vmm rmi removes it; running it then is a clear error"
