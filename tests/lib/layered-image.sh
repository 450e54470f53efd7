#!/usr/bin/env bash
# Makes the layered test image: a docker save tarball (OUT/layered.tar,
# tagged layered:1) of two layers that exercise what image unpacking must
# get right; prints the image id (the sha256 of its config).
#   layer 1: busybox, /etc/passwd with user app (1000:1000), /data/keep,
#            /data/gone, /opq/a, /opq/b, a setuid /bin/suid (4755);
#   layer 2: a whiteout for /data/gone, /opq made opaque with /opq/c,
#            a symlink /data/link -> keep, /data/new with a hard link
#            /data/hard;
#   config:  User app, WorkingDir /data, Env FOO=img, Cmd ls.
# Also the same image as an OCI image layout (OUT/oci, ref name
# layered-oci:1; the same layer and config blobs, so the same image id)
# and an OCI archive of it (OUT/layered-oci.tar).
# usage: layered-image.sh OUT   (OUT is made; its work files stay there)
set -euo pipefail
dir=$1
mkdir -p "$dir"
img=$dir/img l1=$dir/l1 l2=$dir/l2
mkdir -p "$img" "$l1/bin" "$l1/etc" "$l1/data" "$l1/opq" "$l2/data" "$l2/opq" "$l1/tmp"
cp /bin/busybox "$l1/bin/busybox"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$l1/bin/$a"; done
chmod 1777 "$l1/tmp"
printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n' >"$l1/etc/passwd"
printf 'root:x:0:\napp:x:1000:\n' >"$l1/etc/group"
echo keep >"$l1/data/keep"
echo gone >"$l1/data/gone"
echo a >"$l1/opq/a"
echo b >"$l1/opq/b"
cp /bin/busybox "$l1/bin/suid" && chmod 4755 "$l1/bin/suid"
: >"$l2/data/.wh.gone"
: >"$l2/opq/.wh..wh..opq"
echo c >"$l2/opq/c"
ln -s keep "$l2/data/link"
echo new >"$l2/data/new"
ln "$l2/data/new" "$l2/data/hard"
layer() { tar --sort=name --numeric-owner --owner=0 --group=0 -C "$1" -cf "$2" .; }
layer "$l1" "$dir/l1.tar" && layer "$l2" "$dir/l2.tar"
d1=$(sha256sum "$dir/l1.tar" | cut -d' ' -f1) d2=$(sha256sum "$dir/l2.tar" | cut -d' ' -f1)
mkdir -p "$img/$d1" "$img/$d2"
cp "$dir/l1.tar" "$img/$d1/layer.tar" && cp "$dir/l2.tar" "$img/$d2/layer.tar"
printf '{"architecture":"amd64","os":"linux","config":{"User":"app","WorkingDir":"/data","Env":["PATH=/bin","FOO=img"],"Cmd":["ls"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s","sha256:%s"]}}' \
	"$d1" "$d2" >"$dir/config.json"
cid=$(sha256sum "$dir/config.json" | cut -d' ' -f1)
cp "$dir/config.json" "$img/$cid.json"
printf '[{"Config":"%s.json","RepoTags":["layered:1"],"Layers":["%s/layer.tar","%s/layer.tar"]}]' \
	"$cid" "$d1" "$d2" >"$img/manifest.json"
tar -C "$img" -cf "$dir/layered.tar" .
oci=$dir/oci
mkdir -p "$oci/blobs/sha256"
cp "$dir/l1.tar" "$oci/blobs/sha256/$d1" && cp "$dir/l2.tar" "$oci/blobs/sha256/$d2"
cp "$dir/config.json" "$oci/blobs/sha256/$cid"
size() { stat -c %s "$1"; }
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%d},{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%d}]}' \
	"$cid" "$(size "$dir/config.json")" "$d1" "$(size "$dir/l1.tar")" "$d2" "$(size "$dir/l2.tar")" >"$dir/manifest.oci"
mid=$(sha256sum "$dir/manifest.oci" | cut -d' ' -f1)
cp "$dir/manifest.oci" "$oci/blobs/sha256/$mid"
printf '{"imageLayoutVersion":"1.0.0"}' >"$oci/oci-layout"
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%d,"annotations":{"org.opencontainers.image.ref.name":"layered-oci:1"}}]}' \
	"$mid" "$(size "$dir/manifest.oci")" >"$oci/index.json"
tar -C "$oci" -cf "$dir/layered-oci.tar" .
echo "$cid"
