#!/usr/bin/python3
"""make-test-image.py OUT CANARY_DIR [--podman]: a three-layer test image holding every
case an unpacker gets wrong, in the formats nohype reads:

  OUT/layers/N.tar      the layers, uncompressed (for the reference overlay)
  OUT/oci/              an OCI image layout (layer 1 gzip, 2 plain, 3 zstd), tag "test"
  OUT/oci.tar           the same as an oci-archive
  OUT/docker.tar        a docker-archive (uncompressed layers), localhost/nohype-test:latest

Cases: whiteouts; an opaque directory whose marker comes after the files it
keeps; a hardlink into a lower layer; a symlinked directory replaced by a real
one; "../" and absolute names; symlinks pointing outside the root (at
CANARY_DIR, which must stay untouched), with entries below them; xattrs
(security.capability, user.*); setuid and setgid bits; device nodes and a
fifo; files of other owners; a busybox shell so cells can run it.
--podman: the hardlink links within its own layer (podman's overlay store
cannot link into a lower layer's directory, so it refuses the image), and
the "../" and absolute names are already clean (podman cannot save them).
"""
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time

OUT, CANARY = sys.argv[1], sys.argv[2]
PODMAN = "--podman" in sys.argv[3:]
MTIME = 1700000000
BUSYBOX = shutil.which("busybox")


def entry(tar, name, kind=tarfile.REGTYPE, data=b"", mode=0o644, uid=0, gid=0, link="", xattrs=None, dev=(0, 0)):
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.mode = mode
    ti.uid, ti.gid = uid, gid
    ti.mtime = MTIME
    ti.linkname = link
    ti.devmajor, ti.devminor = dev
    if xattrs:
        ti.pax_headers = {"SCHILY.xattr." + k: v for k, v in xattrs.items()}
    if kind == tarfile.REGTYPE:
        ti.size = len(data)
        tar.addfile(ti, io.BytesIO(data))
    else:
        tar.addfile(ti)


def d(tar, name, mode=0o755, uid=0, gid=0):
    entry(tar, name, tarfile.DIRTYPE, mode=mode, uid=uid, gid=gid)


def layer(build):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        build(tar)
    return buf.getvalue()


def layer1(tar):
    for name in ("bin", "etc", "data", "opq", "opq/sub", "realdir", "dev", "run", "home", "home/user"):
        d(tar, name)
    with open(BUSYBOX, "rb") as f:
        entry(tar, "bin/busybox", data=f.read(), mode=0o755)
    for applet in ("sh", "cat", "ls", "stat", "id", "sleep", "echo", "touch", "sha256sum", "true"):
        entry(tar, "bin/" + applet, tarfile.SYMTYPE, link="busybox", mode=0o777)
    entry(tar, "etc/passwd", data=b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n")
    entry(tar, "data/keep", data=b"kept\n")
    entry(tar, "data/gone", data=b"whited out in layer 2\n")
    entry(tar, "data/hl-target", data=b"linked from layer 2\n")
    entry(tar, "opq/lower1", data=b"hidden by the opaque marker\n")
    entry(tar, "opq/sub/lower2", data=b"hidden too\n")
    entry(tar, "realdir/inner-lower", data=b"under the real directory\n")
    entry(tar, "symdir", tarfile.SYMTYPE, link="realdir", mode=0o777)
    entry(tar, "escape", tarfile.SYMTYPE, link="../../../../../.." + CANARY, mode=0o777)
    entry(tar, "abs", tarfile.SYMTYPE, link="/etc", mode=0o777)
    entry(tar, "bin/su-like", data=b"#!/bin/sh\n", mode=0o4755)
    entry(tar, "bin/sgid-like", data=b"#!/bin/sh\n", mode=0o2755, gid=50)
    # cap_net_raw+ep, as setcap writes it (VFS_CAP_REVISION_2).
    cap = bytes.fromhex("0000000200200000000000000000000000000000")
    entry(tar, "bin/pinger", data=b"#!/bin/sh\n", mode=0o755,
          xattrs={"security.capability": cap.decode("utf-8", "surrogateescape"), "user.origin": "nohype-test"})
    entry(tar, "dev/null-like", tarfile.CHRTYPE, mode=0o666, dev=(1, 3))
    entry(tar, "run/fifo", tarfile.FIFOTYPE, mode=0o600)
    entry(tar, "home/user/file", data=b"owned by 1000\n", uid=1000, gid=1000, mode=0o600)
    d(tar, "tmp", mode=0o1777)


def layer2(tar):
    d(tar, "data")
    entry(tar, "data/.wh.gone")
    if PODMAN:
        entry(tar, "data/hl-own", data=b"linked within layer 2\n")
        entry(tar, "data/hl", tarfile.LNKTYPE, link="data/hl-own")
    else:
        entry(tar, "data/hl", tarfile.LNKTYPE, link="data/hl-target")
    d(tar, "opq")
    # The marker comes after the file it keeps.
    entry(tar, "opq/newfile", data=b"kept: this layer's own\n")
    entry(tar, "opq/.wh..wh..opq")
    # A real directory where layer 1 had a symlink to one.
    d(tar, "symdir")
    entry(tar, "symdir/inner", data=b"in the real directory\n")
    # Names that try to leave the root stay inside it (podman loads such a
    # layer but cannot save it again: its variant has the names cleaned).
    entry(tar, "outside-dotdot" if PODMAN else "../../../outside-dotdot", data=b"inside after all\n")
    entry(tar, "absolute-name" if PODMAN else "/absolute-name", data=b"inside after all\n")
    # Entries below symlinks that point outside: their parents become directories.
    d(tar, "escape")
    entry(tar, "escape/pwned", data=b"must not reach the canary\n")
    d(tar, "abs")
    entry(tar, "abs/through-abs", data=b"must not reach /etc\n")


def layer3(tar):
    d(tar, "etc")
    entry(tar, "etc/motd", data=b"third layer, zstd\n")
    entry(tar, "data/keep", data=b"kept, then changed\n", mode=0o640, uid=1000, gid=1000)
    d(tar, "data")
    entry(tar, "home/user/.wh.file")


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def write_blob(root, data):
    dg = sha(data)
    path = os.path.join(root, "blobs", "sha256", dg[7:])
    with open(path, "wb") as f:
        f.write(data)
    return dg


def main():
    layers = [layer(b) for b in (layer1, layer2, layer3)]
    os.makedirs(os.path.join(OUT, "layers"), exist_ok=True)
    for i, data in enumerate(layers, 1):
        with open(os.path.join(OUT, "layers", "%d.tar" % i), "wb") as f:
            f.write(data)
    zst = subprocess.run(["zstd", "-q", "-c"], input=layers[2], stdout=subprocess.PIPE, check=True).stdout
    blobs = [(gzip.compress(layers[0], mtime=0), "application/vnd.oci.image.layer.v1.tar+gzip"),
             (layers[1], "application/vnd.oci.image.layer.v1.tar"),
             (zst, "application/vnd.oci.image.layer.v1.tar+zstd")]
    config = {"architecture": "amd64", "os": "linux",
              "config": {"Cmd": ["/bin/sh", "-c", "cat /etc/motd"], "Env": ["PATH=/bin"], "WorkingDir": "/"},
              "rootfs": {"type": "layers", "diff_ids": [sha(x) for x in layers]}}
    cfg = json.dumps(config).encode()

    oci = os.path.join(OUT, "oci")
    os.makedirs(os.path.join(oci, "blobs", "sha256"), exist_ok=True)
    with open(os.path.join(oci, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    cfg_digest = write_blob(oci, cfg)
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cfg_digest,
                           "size": len(cfg)},
                "layers": [{"mediaType": mt, "digest": write_blob(oci, b), "size": len(b)} for b, mt in blobs]}
    mbytes = json.dumps(manifest).encode()
    mdigest = write_blob(oci, mbytes)
    with open(os.path.join(oci, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": mdigest, "size": len(mbytes),
             "annotations": {"org.opencontainers.image.ref.name": "test"}}]}, f)
    with tarfile.open(os.path.join(OUT, "oci.tar"), "w") as t:
        for name in ("oci-layout", "index.json", "blobs"):
            t.add(os.path.join(oci, name), arcname=name)

    with tarfile.open(os.path.join(OUT, "docker.tar"), "w") as t:
        def add(name, data):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mtime = MTIME
            t.addfile(ti, io.BytesIO(data))
        add(cfg_digest[7:] + ".json", cfg)
        names = []
        for data in layers:
            names.append(sha(data)[7:] + "/layer.tar")
            add(names[-1], data)
        add("manifest.json", json.dumps([{"Config": cfg_digest[7:] + ".json",
                                          "RepoTags": ["localhost/nohype-test:latest"], "Layers": names}]).encode())
    print(mdigest)


main()
