#!/usr/bin/python3
"""overlay-lowers.py OUTDIR LAYER.tar...: each layer extracted into its own
directory OUTDIR/L1, OUTDIR/L2, ... in the kernel overlay's format (a
whiteout is a 0:0 character device, an opaque directory carries
trusted.overlay.opaque=y), so that
  mount -t overlay overlay -o lowerdir=OUTDIR/L3:OUTDIR/L2:OUTDIR/L1 MNT
shows the image as the kernel sees those layers: the reference nohype's
unpacked rootfs is compared with. A hardlink to a lower layer's file becomes
a copy of it (an overlay layer cannot link across layers)."""
import os
import posixpath
import shutil
import stat
import sys
import tarfile

out, tars = sys.argv[1], sys.argv[2:]


def clean(name):
    return posixpath.normpath("/" + name).lstrip("/")


def lower_file(layer_dirs, rel):
    for d in reversed(layer_dirs):
        p = os.path.join(d, rel)
        if os.path.lexists(p):
            return p
    return None


done = []
for i, t in enumerate(tars, 1):
    root = os.path.join(out, "L%d" % i)
    os.makedirs(root)
    dir_times = []
    with tarfile.open(t) as tar:
        for m in tar:
            rel = clean(m.name)
            if rel in ("", "."):
                continue
            path = os.path.join(root, rel)
            parent, base = os.path.split(path)
            os.makedirs(parent, exist_ok=True)
            if base == ".wh..wh..opq":
                os.setxattr(parent, "trusted.overlay.opaque", b"y")
                continue
            if base.startswith(".wh."):
                os.mknod(os.path.join(parent, base[4:]), stat.S_IFCHR | 0o600, os.makedev(0, 0))
                continue
            if os.path.lexists(path) and not (m.isdir() and os.path.isdir(path)):
                shutil.rmtree(path) if os.path.isdir(path) and not os.path.islink(path) else os.unlink(path)
            if m.isdir():
                os.makedirs(path, exist_ok=True)
            elif m.isfile():
                with open(path, "wb") as f:
                    f.write(tar.extractfile(m).read())
            elif m.issym():
                os.symlink(m.linkname, path)
            elif m.islnk():
                target = clean(m.linkname)
                src = os.path.join(root, target)
                if os.path.lexists(src):
                    os.link(src, path)
                else:
                    shutil.copy2(lower_file(done, target), path, follow_symlinks=False)
                continue  # a hardlink shares its target's metadata
            elif m.ischr() or m.isblk():
                kind = stat.S_IFCHR if m.ischr() else stat.S_IFBLK
                os.mknod(path, kind | 0o600, os.makedev(m.devmajor, m.devminor))
            elif m.isfifo():
                os.mkfifo(path)
            os.lchown(path, m.uid, m.gid)
            if not m.issym():
                os.chmod(path, m.mode)
                for k, v in m.pax_headers.items():
                    if k.startswith("SCHILY.xattr."):
                        os.setxattr(path, k[len("SCHILY.xattr."):], v.encode("utf-8", "surrogateescape"))
            if m.isdir():
                dir_times.append((path, m.mtime))
            else:
                os.utime(path, (m.mtime, m.mtime), follow_symlinks=False)
    for p, mt in dir_times:
        os.utime(p, (mt, mt))
    done.append(root)
print(":".join(reversed(done)))
