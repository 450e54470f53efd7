#!/usr/bin/env python3
"""Writes a docker save tarball whose one layer tries to leave the image,
or to take something from the host.

usage: escape-image.py OUT.tar KIND OUTSIDE
KIND:
  dotdot    an entry "../../../../OUTSIDE/pwned-dotdot" (".." components)
  symlink   a symlink "s" -> OUTSIDE (absolute), then an entry "s/pwned-symlink"
  relsym    a symlink "r" -> "../../../../../../OUTSIDE", then "r/pwned-relsym"
  hardlink  a hard link "h" to "../../../../OUTSIDE/target"
  absolute  an entry "/abs/inside" (absolute: must land inside the image)
  longpath  an entry whose path is 5000 bytes, longer than PATH_MAX: 49
            components "xxx...x/" (99 x each), then "yyy...y" (100 y)
  owners    entries whose numeric owners disagree with names the host knows:
            "own/named" 4242:4343 named root:root (which the host maps to
            0:0), setuid; "own/unknown" and a symlink "own/link" 4244:4245
            named nosuchuser-vmm:nosuchgroup-vmm
The image is tagged escape-KIND:1. OUTSIDE is a host directory the test
watches: nothing may appear in it.
"""
import hashlib
import io
import json
import sys
import tarfile

from tarentry import add

out, kind, outside = sys.argv[1], sys.argv[2], sys.argv[3].strip("/")


layer = io.BytesIO()
with tarfile.open(fileobj=layer, mode="w", format=tarfile.GNU_FORMAT) as t:
    add(t, "etc", type=tarfile.DIRTYPE, mode=0o755)
    add(t, "etc/hostname", b"escape\n", mode=0o644)
    up = "../" * 8
    if kind == "dotdot":
        add(t, up + outside + "/pwned-dotdot", b"pwned\n", mode=0o644)
    elif kind == "symlink":
        add(t, "s", type=tarfile.SYMTYPE, linkname="/" + outside)
        add(t, "s/pwned-symlink", b"pwned\n", mode=0o644)
    elif kind == "relsym":
        add(t, "r", type=tarfile.SYMTYPE, linkname=up + outside)
        add(t, "r/pwned-relsym", b"pwned\n", mode=0o644)
    elif kind == "hardlink":
        add(t, "h", type=tarfile.LNKTYPE, linkname=up + outside + "/target")
    elif kind == "owners":
        add(t, "own", type=tarfile.DIRTYPE, mode=0o755)
        add(t, "own/named", b"named\n", mode=0o4755,
            uid=4242, uname="root", gid=4343, gname="root")
        unknown = dict(uid=4244, uname="nosuchuser-vmm",
                       gid=4245, gname="nosuchgroup-vmm")
        add(t, "own/unknown", b"unknown\n", mode=0o644, **unknown)
        add(t, "own/link", type=tarfile.SYMTYPE, linkname="unknown", **unknown)
    elif kind == "longpath":
        add(t, ("x" * 99 + "/") * 49 + "y" * 100, b"long\n", mode=0o644)
    elif kind == "absolute":
        add(t, "/abs", type=tarfile.DIRTYPE, mode=0o755)
        add(t, "/abs/inside", b"inside\n", mode=0o644)
    else:
        sys.exit(f"escape-image.py: unknown kind {kind}")
layer = layer.getvalue()
diff_id = hashlib.sha256(layer).hexdigest()
config = json.dumps({
    "architecture": "amd64", "os": "linux",
    "config": {"Cmd": ["true"]},
    "rootfs": {"type": "layers", "diff_ids": ["sha256:" + diff_id]},
}).encode()
cid = hashlib.sha256(config).hexdigest()
manifest = json.dumps([{
    "Config": cid + ".json", "RepoTags": [f"escape-{kind}:1"],
    "Layers": [diff_id + "/layer.tar"],
}]).encode()
with tarfile.open(out, mode="w") as t:
    add(t, diff_id, type=tarfile.DIRTYPE, mode=0o755)
    add(t, diff_id + "/layer.tar", layer, mode=0o644)
    add(t, cid + ".json", config, mode=0o644)
    add(t, "manifest.json", manifest, mode=0o644)
