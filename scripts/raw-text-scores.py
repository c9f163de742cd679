#!/usr/bin/env python3
"""Scores the whole shipped pipeline from raw text on each treebank's test set: the test
file's text (`tatra text`: a blank line at every `# newpar` / `# newdoc`, as the
tokenizer's own scoring rebuilds it) → `tatra annotate --stages tokenize,posdep` →
`tatra eval` against the gold file. Prints a Markdown table (Tokens … BLEX) with
trankit's and Stanza's published raw-text figures from ../shared/anchors.md beside each,
the table of docs/models.md "whole pipeline, raw text (test)".

    python3 scripts/raw-text-scores.py                 # every treebank with both packages
    python3 scripts/raw-text-scores.py fr_sequoia el_gdt

TATRA_SHARED (default ../shared) and TATRA_BIN (default target/release/tatra) as for
scripts/train.sh; work files go to target/raw-text/.
"""
import json, os, subprocess, sys

SHARED = os.environ.get("TATRA_SHARED", "../shared")
BIN = os.environ.get("TATRA_BIN", "target/release/tatra")
COLS = ["Tokens", "Sentences", "Words", "UPOS", "XPOS", "UFeats", "AllTags", "Lemmas", "UAS", "LAS", "CLAS", "MLAS", "BLEX"]
# Treebank code and UD name (its folder is UD_<name>).
TREEBANKS = [
    ("sk_snk", "Slovak-SNK"), ("fr_sequoia", "French-Sequoia"), ("en_lines", "English-LinES"),
    ("el_gdt", "Greek-GDT"), ("hu_szeged", "Hungarian-Szeged"), ("ta_ttb", "Tamil-TTB"),
    ("tr_imst", "Turkish-IMST"), ("vi_vtb", "Vietnamese-VTB"), ("cs_cltt", "Czech-CLTT"),
    ("zh_gsd", "Chinese-GSD"), ("ja_gsd", "Japanese-GSD"), ("da_ddt", "Danish-DDT"),
]


def anchors():
    out = {}
    with open(os.path.join(SHARED, "anchors.md"), encoding="utf-8") as f:
        for line in f:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) == 2 + len(COLS) and cells[1] in ("Trankit[base]", "Stanza"):
                out[(cells[0], cells[1])] = cells[2:]
    return out


def main():
    wanted = sys.argv[1:]
    pub = anchors()
    os.makedirs("target/raw-text", exist_ok=True)
    print("| treebank | system | " + " | ".join(COLS) + " |")
    print("|---|---|" + "---|" * len(COLS))
    for tb, name in TREEBANKS:
        if wanted and tb not in wanted:
            continue
        if not all(os.path.exists(f"models/{tb}/{s}.zip") for s in ("tokenize", "posdep")):
            continue
        gold = os.path.join(SHARED, "ud", f"UD_{name}", f"{tb}-ud-test.conllu")
        txt, out = f"target/raw-text/{tb}.txt", f"target/raw-text/{tb}.conllu"
        subprocess.run([BIN, "text", gold, "-o", txt], check=True)
        subprocess.run([BIN, "annotate", "-q", "--lang", tb, "--stages", "tokenize,posdep", "-o", out, txt], check=True)
        ev = json.loads(subprocess.run([BIN, "eval", "--json", gold, out], check=True, capture_output=True, text=True).stdout)
        print(f"| {name} | tatra | " + " | ".join(f"{ev[c]['f1']:.2f}" for c in COLS) + " |")
        for system in ("Trankit[base]", "Stanza"):
            if (name, system) in pub:
                print(f"| | {system} | " + " | ".join(pub[(name, system)]) + " |")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
