#!/usr/bin/env python3
"""Writes a docker save tarball whose file names are not ASCII, the ways
tar writers put them in headers, for vmm-load-names.sh. Docker and
containerd take names as bytes: each must come out exactly as the tar
holds it.

usage: names-image.py OUT.tar [badpax]
  layer 1 (pax: names as UTF-8 "path"/"linkpath" records):
    café/naïve.txt ("naïve"), café/crème, gâteau, a symlink
    lien -> café/naïve.txt, nfd/cafe+U+0301 (decomposed: must not be
    normalized to "café"), binary/caf\\xe9 (not UTF-8: the pax header
    says hdrcharset=BINARY)
  layer 2 (pax): a hard link lié -> café/naïve.txt, a whiteout
    café/.wh.crème
  layer 3 (gnu: raw bytes in the header): caf\\xe9 ("latin1", not UTF-8),
    a hard link caf\\xe9.lien -> caf\\xe9, a hard link naïve-gnu ->
    café/naïve.txt, a whiteout .wh.gâteau
The archive itself is pax, with the layers under a directory "couche-N-é"
and the config at "configuré.json" (manifest.json names them with \\u
escapes). The image is tagged names:1.
badpax: layer 1's first pax record (café/'s path) has no "=": libarchive
drops that header's records, so the entry would land under the ustar
header's stand-in name "caf?" (the load must stop instead).
"""
import hashlib
import io
import json
import sys
import tarfile

from tarentry import add

out = sys.argv[1]
badpax = sys.argv[2:] == ["badpax"]
RAW = b"caf\xe9".decode("utf-8", "surrogateescape")  # the byte 0xE9 as is
NFD = "cafe\u0301"


def layer(fmt, fill):
    buf = io.BytesIO()
    # surrogateescape: a name that is not UTF-8 goes out as its bytes (a
    # gnu header holds them as they are; pax adds hdrcharset=BINARY).
    with tarfile.open(fileobj=buf, mode="w", format=fmt, encoding="utf-8",
                      errors="surrogateescape") as t:
        fill(t)
    return buf.getvalue()


def layer1(t):
    add(t, "café", type=tarfile.DIRTYPE)
    add(t, "café/naïve.txt", "naïve\n".encode())
    add(t, "café/crème", b"gone\n")
    add(t, "gâteau", b"gone\n")
    add(t, "lien", type=tarfile.SYMTYPE, linkname="café/naïve.txt")
    add(t, "nfd", type=tarfile.DIRTYPE)
    add(t, "nfd/" + NFD, b"nfd\n")
    add(t, "binary", type=tarfile.DIRTYPE)
    add(t, "binary/" + RAW, b"binary\n")


def layer2(t):
    add(t, "lié", type=tarfile.LNKTYPE, linkname="café/naïve.txt")
    add(t, "café/.wh.crème")


def layer3(t):
    add(t, RAW, b"latin1\n")
    add(t, RAW + ".lien", type=tarfile.LNKTYPE, linkname=RAW)
    add(t, "naïve-gnu", type=tarfile.LNKTYPE, linkname="café/naïve.txt")
    add(t, ".wh.gâteau")


layers = [layer(tarfile.PAX_FORMAT, layer1), layer(tarfile.PAX_FORMAT, layer2),
          layer(tarfile.GNU_FORMAT, layer3)]
if badpax:
    # Same length, so the record's length field still holds.
    assert " path=café/\n".encode() in layers[0]
    layers[0] = layers[0].replace(" path=café/\n".encode(), " path:café/\n".encode(), 1)
diff_ids = [hashlib.sha256(data).hexdigest() for data in layers]
config = json.dumps({
    "architecture": "amd64", "os": "linux",
    "config": {"Cmd": ["true"]},
    "rootfs": {"type": "layers", "diff_ids": ["sha256:" + d for d in diff_ids]},
}).encode()
paths = [f"couche-{i + 1}-é/layer.tar" for i in range(len(layers))]
manifest = json.dumps([{
    "Config": "configuré.json", "RepoTags": ["names:1"], "Layers": paths,
}]).encode()
with tarfile.open(out, mode="w", format=tarfile.PAX_FORMAT) as t:
    for path, data in zip(paths, layers):
        add(t, path.split("/")[0], type=tarfile.DIRTYPE)
        add(t, path, data)
    add(t, "configuré.json", config)
    add(t, "manifest.json", manifest)
