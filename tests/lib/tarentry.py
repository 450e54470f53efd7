"""One tar entry for the hand-made image builders (escape-image.py,
names-image.py): a directory 0755 and anything else 0644 unless kw says
otherwise; kw sets any TarInfo field (type, linkname, uid, uname, ...)."""
import io
import tarfile


def add(tar, name, data=b"", **kw):
    info = tarfile.TarInfo(name)
    info.mode = 0o755 if kw.get("type") == tarfile.DIRTYPE else 0o644
    for k, v in kw.items():
        setattr(info, k, v)
    if info.type == tarfile.REGTYPE:
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    else:
        tar.addfile(info)
