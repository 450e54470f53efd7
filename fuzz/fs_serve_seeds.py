#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_fs_serve (fuzz/fuzz_fs_serve.c): a few
valid request sequences in its input format, one file each.
usage: fs_serve_seeds.py DIR"""
import os
import struct
import sys

OPS = ["LOOKUP", "LOOKUP", "FORGET", "GETATTR", "SETATTR", "READLINK", "SYMLINK",
       "MKNOD", "MKDIR", "UNLINK", "RMDIR", "RENAME", "LINK", "OPEN", "READ", "WRITE",
       "STATFS", "RELEASE", "FSYNC", "SETXATTR", "GETXATTR", "LISTXATTR", "REMOVEXATTR",
       "FLUSH", "INIT", "OPENDIR", "READDIR", "RELEASEDIR", "FSYNCDIR", "ACCESS",
       "CREATE", "CREATE", "INTERRUPT", "DESTROY", "BATCH_FORGET", "FALLOCATE",
       "READDIRPLUS", "RENAME2", "LSEEK", "COPY_FILE_RANGE", "SYNCFS", "GETLK"]
NAMES = ["a", "b", "dir", "c", "fifo", "abs", "up", "absdir", "upup", "secret",
         "outside", ".", "..", "", "a/b", "LONG", "TOOLONG", "new", "/", "root"]
TARGETS = ["a", "dir", "..", "../outside", "/", "SECRET", "OUTSIDE"]
XNAMES = ["user.a", "user.b", "trusted.t"]
O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_TRUNC = 0, 1, 2, 0o100, 0o1000
CTL = 1  # 4096-byte reply buffer, uid 0


def req(op, node=0, args=b"", ctl=CTL):
    """One request: node is an index into the ids given so far (0 the root)."""
    return bytes([OPS.index(op), ctl, node]) + args


def nm(n):
    return bytes([NAMES.index(n)])


def tg(t):
    return bytes([TARGETS.index(t)])


def xn(x):
    return bytes([XNAMES.index(x)])


def fh(i):
    return bytes([i])


def seeds():
    init = req("INIT", 0, struct.pack("<IIII", 7, 38, 65536, 0xffffffff) + bytes(48))
    yield "read-write", [
        init,
        req("LOOKUP", 0, nm("a")),  # id 1
        req("OPEN", 1, struct.pack("<II", O_RDWR, 0)),  # fh 0
        req("WRITE", 1, struct.pack("<QQIIIIQ", 0, 5, 0, 0, 0, 0, 0) + fh(0) + bytes([6]) + b" world"),
        req("READ", 1, struct.pack("<QQIIQII", 0, 0, 100, 0, 0, 0, 0) + fh(0)),
        req("FLUSH", 1, bytes(24) + fh(0)),
        req("FSYNC", 1, bytes(16) + fh(0)),
        req("LSEEK", 1, struct.pack("<QQII", 0, 0, 3, 0) + fh(0)),
        req("FALLOCATE", 1, struct.pack("<QQQII", 0, 0, 4096, 0, 0) + fh(0)),
        req("RELEASE", 1, bytes(24) + fh(0)),
        req("FORGET", 1, bytes([1])),
        req("GETATTR", 1, bytes(16) + fh(0)),
    ]
    yield "create-dirs", [
        req("MKDIR", 0, struct.pack("<II", 0o755, 0o22) + nm("new")),  # id 1
        req("CREATE", 1, struct.pack("<IIII", O_CREAT | O_RDWR, 0o644, 0o22, 0) + nm("a")),
        req("MKNOD", 1, struct.pack("<IIII", 0o100644, 0, 0, 0) + nm("b")),
        req("SYMLINK", 1, nm("c") + tg("../outside")),
        req("LINK", 0, bytes([2]) + nm("c")),
        req("OPENDIR", 1, struct.pack("<II", 0, 0)),
        req("READDIRPLUS", 1, struct.pack("<QQIIQII", 0, 0, 4096, 0, 0, 0, 0) + fh(1)),
        req("READDIR", 0, struct.pack("<QQIIQII", 0, 0, 4096, 0, 0, 0, 0) + fh(1)),
        req("RELEASEDIR", 1, bytes(24) + fh(1)),
        req("UNLINK", 1, nm("a")),
        req("RMDIR", 0, nm("new")),
        req("BATCH_FORGET", 0, bytes([2, 1, 1, 2, 1])),
    ]
    yield "rename-link", [
        req("LOOKUP", 0, nm("dir")),  # id 1
        req("RENAME", 0, bytes([1]) + nm("a") + nm("new")),
        req("RENAME2", 1, bytes([0, 1]) + nm("c") + nm("b")),
        req("RENAME2", 0, bytes([1, 2]) + nm("b") + nm("new")),
        req("LOOKUP", 1, nm("c")),
        req("LINK", 0, bytes([2]) + nm("b")),
        req("LOOKUP", 1, nm("..")),
        req("LOOKUP", 0, nm("..")),
        req("LOOKUP", 0, nm(".")),
    ]
    yield "attrs-xattrs", [
        req("LOOKUP", 0, nm("b")),  # id 1
        req("SETATTR", 1, struct.pack("<IIQQQQQQIIIIIIII", 1 | 8, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0,
                                      0o600, 0, 0, 0, 0) + fh(0xdf)),
        req("SETATTR", 1, struct.pack("<IIQQQQQQIIIIIIII", 2 | 4 | 16 | 32, 0, 0, 0, 0, 5, 6, 0,
                                      0, 0, 0, 0, 0, 1000, 1000, 0) + fh(0xdf)),
        req("SETXATTR", 1, struct.pack("<II", 0, 0) + bytes([3]) + xn("user.a") + b"val"),
        req("GETXATTR", 1, struct.pack("<II", 64, 0) + xn("user.a")),
        req("LISTXATTR", 1, struct.pack("<II", 0, 0)),
        req("REMOVEXATTR", 1, xn("user.a")),
        req("ACCESS", 1, struct.pack("<II", 6, 0)),
        req("STATFS", 1),
        req("SYNCFS", 0, bytes(8)),
        req("GETLK", 1, bytes([0])),
    ]
    yield "escape", [
        req("LOOKUP", 0, nm("up")),  # id 1
        req("LOOKUP", 1, nm("secret")),
        req("READLINK", 1),
        req("LOOKUP", 0, nm("absdir")),  # id 2
        req("CREATE", 2, struct.pack("<IIII", O_CREAT | O_WRONLY, 0o644, 0, 0) + nm("new")),
        req("LOOKUP", 0, nm("abs")),  # id 3
        req("OPEN", 3, struct.pack("<II", O_RDONLY, 0)),
        req("SETATTR", 3, struct.pack("<IIQQQQQQIIIIIIII", 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                      0, 0, 0, 0, 0) + fh(0xdf)),
        req("LOOKUP", 0, nm("fifo")),  # id 4
        req("OPEN", 4, struct.pack("<II", O_RDONLY, 0)),
        req("CREATE", 0, struct.pack("<IIII", O_CREAT | O_RDONLY, 0o644, 0, 0) + nm("fifo")),
        req("SETATTR", 4, struct.pack("<IIQQQQQQIIIIIIII", 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                      0, 0, 0, 0, 0) + fh(0xdf)),
        req("SYMLINK", 0, nm("new") + tg("SECRET")),
        req("LOOKUP", 0, nm("..")),
        req("LOOKUP", 0, bytes([NAMES.index("dir")])),  # id 5
        req("LOOKUP", 5, nm("upup")),
    ]


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, reqs in seeds():
        # byte 0: a read-write share, cache=auto
        with open(os.path.join(out, name), "wb") as f:
            f.write(bytes([2]) + b"".join(reqs))


if __name__ == "__main__":
    main()
