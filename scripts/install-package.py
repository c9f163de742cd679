#!/usr/bin/env python3
"""Installs a package trained beside the shipped one (`OUT_ROOT=target/retrain
scripts/train.sh …`) in its place: copies the zip to DEST with the training command it
records rewritten to name DEST as `--out` and the UD and UniversalNER files as
`../shared/ud/…` and `../shared/uner/…` (so no
machine's paths are committed); the package's checksum of package.json follows. The
weights and every other file are copied byte for byte.

    python3 scripts/install-package.py target/retrain/fr_sequoia/posdep.zip models/fr_sequoia/posdep.zip
"""
import hashlib, json, os, re, shlex, sys, zipfile

src, dst = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(src) as z:
    items = [(i, z.read(i.filename)) for i in z.infolist()]
files = {i.filename: d for i, d in items}
pkg = json.loads(files["package.json"])
args = shlex.split(pkg["command"])
for k, a in enumerate(args):
    if k > 0 and args[k - 1] == "--out":
        args[k] = dst
    else:
        a = re.sub(r"^.*?/ud/(UD_[^/]+/)", r"../shared/ud/\1", a)
        args[k] = re.sub(r"^.*?/uner/(UNER_[^/]+/)", r"../shared/uner/\1", a)
pkg["command"] = shlex.join(args)
files["package.json"] = json.dumps(pkg, indent=2, ensure_ascii=False).encode()
sums = json.loads(files["checksums.json"])
sums["package.json"] = hashlib.sha256(files["package.json"]).hexdigest()
files["checksums.json"] = json.dumps(sums, indent=2).encode()
with zipfile.ZipFile(dst + ".tmp", "w") as z:
    for i, _ in items:
        z.writestr(i, files[i.filename])
os.replace(dst + ".tmp", dst)
print(pkg["command"])
