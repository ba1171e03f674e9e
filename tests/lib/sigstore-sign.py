#!/usr/bin/python3
"""sigstore-sign.py DIR KEY.pem IDENTITY [DIGEST]: add a cosign-style signature to a dir: image,
as containers/image stores one (signature-N: "\\0sigstore-json\\n" + JSON), made with openssl
(Debian's skopeo cannot make sigstore signatures). The payload claims IDENTITY and DIGEST (default:
the digest of DIR/manifest.json), so a test can also sign a claim that is wrong on purpose.
"""
import base64
import hashlib
import json
import os
import subprocess
import sys

d, key, identity = sys.argv[1:4]
manifest = open(os.path.join(d, "manifest.json"), "rb").read()
digest = sys.argv[4] if len(sys.argv) > 4 else "sha256:" + hashlib.sha256(manifest).hexdigest()
payload = json.dumps({"critical": {"identity": {"docker-reference": identity},
                                   "image": {"docker-manifest-digest": digest},
                                   "type": "cosign container image signature"},
                      "optional": None}, separators=(",", ":")).encode()
sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key], input=payload,
                     capture_output=True, check=True).stdout
doc = {"mimeType": "application/vnd.dev.cosign.simplesigning.v1+json",
       "payload": base64.b64encode(payload).decode(),
       "annotations": {"dev.cosignproject.cosign/signature": base64.b64encode(sig).decode()}}
n = 1
while os.path.exists(os.path.join(d, "signature-%d" % n)):
    n += 1
with open(os.path.join(d, "signature-%d" % n), "wb") as f:
    f.write(b"\0sigstore-json\n" + json.dumps(doc).encode())
