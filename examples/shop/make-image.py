#!/usr/bin/python3
"""make-image.py ROOTFS OUT.tar: the shop published as an OCI image, an oci-archive
with one gzip layer holding ROOTFS, tagged "shop". Reproducible: entries sorted,
owners root, the gzip header carries no time, so one rootfs gives one digest and a
signature made once stays valid across rebuilds of the same binaries.
"""
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile

rootfs, out = sys.argv[1], sys.argv[2]


def blob(data, media):
    return {"mediaType": media, "digest": "sha256:" + hashlib.sha256(data).hexdigest(), "size": len(data)}, data


layer_tar = io.BytesIO()
with tarfile.open(fileobj=layer_tar, mode="w", format=tarfile.PAX_FORMAT) as t:
    for dirpath, dirnames, filenames in os.walk(rootfs):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            path = os.path.join(dirpath, name)
            info = t.gettarinfo(path, os.path.relpath(path, rootfs))
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            info.mtime = 0
            if info.isreg():
                with open(path, "rb") as f:
                    t.addfile(info, f)
            else:
                t.addfile(info)
raw = layer_tar.getvalue()
gz = io.BytesIO()
with gzip.GzipFile(fileobj=gz, mode="wb", mtime=0) as g:
    g.write(raw)
layer, layer_data = blob(gz.getvalue(), "application/vnd.oci.image.layer.v1.tar+gzip")
config_doc = {"architecture": "amd64", "os": "linux", "config": {"Env": ["PATH=/bin"]},
              "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(raw).hexdigest()]}}
config, config_data = blob(json.dumps(config_doc, sort_keys=True).encode(), "application/vnd.oci.image.config.v1+json")
manifest_doc = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": config, "layers": [layer]}
manifest, manifest_data = blob(json.dumps(manifest_doc, sort_keys=True).encode(),
                               "application/vnd.oci.image.manifest.v1+json")
manifest["annotations"] = {"org.opencontainers.image.ref.name": "shop"}
index = json.dumps({"schemaVersion": 2, "manifests": [manifest]}).encode()

tmp = out + ".tmp"
with tarfile.open(tmp, "w") as t:
    def add(name, data):
        info = tarfile.TarInfo(name)
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    add("oci-layout", b'{"imageLayoutVersion": "1.0.0"}')
    add("index.json", index)
    for d in (layer_data, config_data, manifest_data):
        add("blobs/sha256/" + hashlib.sha256(d).hexdigest(), d)
os.replace(tmp, out)
