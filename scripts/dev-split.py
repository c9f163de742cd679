#!/usr/bin/env python3
"""Splits a CoNLL-U (or UniversalNER IOB2) file into its first N sentences and the rest,
for choosing settings where the dev file is the only training data (Chinese-GSD,
Japanese-GSD, Danish-DDT; English NER on UNER English-EWT dev): train on the first part,
early-stop and compare on the second, then train the package on the whole file with what
was chosen. Writes OUTDIR/<stem>-N.<ext> and OUTDIR/<stem>-rest.<ext>.

    python3 scripts/dev-split.py ../shared/ud/UD_Chinese-GSD/zh_gsd-ud-dev.conllu 400 target/split
"""
import os, sys

src, n, outdir = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with open(src, encoding="utf-8") as f:
    blocks = [b for b in f.read().split("\n\n") if b.strip()]
stem, ext = os.path.splitext(os.path.basename(src))
os.makedirs(outdir, exist_ok=True)
for name, part in ((f"{stem}-{n}", blocks[:n]), (f"{stem}-rest", blocks[n:])):
    with open(os.path.join(outdir, name + ext), "w", encoding="utf-8") as f:
        f.write("\n\n".join(part) + "\n\n")
    print(f"{name}{ext}: {len(part)} sentences")
