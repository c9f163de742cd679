#!/usr/bin/env python3
"""Builds a raw-text benchmark corpus of a given size from UD texts (the `# text` lines of
the given treebanks' files, five sentences to a paragraph, a blank line between
paragraphs), repeating the texts when they are shorter than the size asked for.

    python3 scripts/bench-corpus.py SIZE_BYTES OUT [TREEBANK_DIR ...]
    python3 scripts/bench-corpus.py 1000000 /tmp/fr-1mb.txt UD_French-Sequoia

Treebank folders are looked up in $TATRA_SHARED/ud (default ../shared/ud).
"""
import glob, os, sys

size, out = int(sys.argv[1]), sys.argv[2]
shared = os.environ.get("TATRA_SHARED", os.path.join(os.path.dirname(__file__), "..", "..", "shared"))
dirs = sys.argv[3:] or ["UD_French-Sequoia"]
sents = []
for d in dirs:
    for f in sorted(glob.glob(os.path.join(shared, "ud", d, "*.conllu"))):
        sents += [l[9:].rstrip("\n") for l in open(f, encoding="utf-8") if l.startswith("# text = ")]
if not sents:
    sys.exit(f"no texts found under {shared}/ud for {dirs}")
paras = [" ".join(sents[i:i + 5]) for i in range(0, len(sents), 5)]
parts, n, i = [], 0, 0
while n < size:
    p = paras[i % len(paras)] + "\n\n"
    parts.append(p)
    n += len(p.encode("utf-8"))
    i += 1
data = "".join(parts).encode("utf-8")[:size]
# Never cut a character in half.
data = data.decode("utf-8", errors="ignore").encode("utf-8")
tmp = out + ".tmp"
open(tmp, "wb").write(data)
os.replace(tmp, out)
print(f"{out}: {len(data)} bytes, {i} paragraphs from {len(sents)} sentences of {', '.join(dirs)}")
