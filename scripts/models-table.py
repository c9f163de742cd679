#!/usr/bin/env python3
"""Markdown tables of the shipped packages' recorded test scores beside the published
anchors (../shared/anchors.md): the tables of docs/models.md.

    python3 scripts/models-table.py [SHARED]            # docs/models.md tables
    python3 scripts/models-table.py --readme [SHARED]   # README.md languages table
"""
import json, os, sys, zipfile, glob

root = os.path.join(os.path.dirname(__file__), "..")
readme = "--readme" in sys.argv[1:]
args = [a for a in sys.argv[1:] if a != "--readme"]
shared = args[0] if args else os.environ.get("TATRA_SHARED", os.path.join(root, "..", "shared"))
names = {"sk_snk": "Slovak-SNK", "fr_sequoia": "French-Sequoia", "en_lines": "English-LinES", "el_gdt": "Greek-GDT",
         "hu_szeged": "Hungarian-Szeged", "ta_ttb": "Tamil-TTB", "tr_imst": "Turkish-IMST", "vi_vtb": "Vietnamese-VTB",
         "cs_cltt": "Czech-CLTT", "zh_gsd": "Chinese-GSD", "ja_gsd": "Japanese-GSD", "da_ddt": "Danish-DDT"}
anchors = {}
for line in open(os.path.join(shared, "anchors.md"), encoding="utf-8"):
    c = [x.strip() for x in line.strip().strip("|").split("|")]
    if len(c) == 15 and c[0] in names.values():
        anchors[(c[0], c[1])] = c[2:]
# Published with UniversalNER (Mayhew et al., NAACL 2024, arXiv 2311.09122): XLM-R large
# fine-tuned and tested in-language, micro F1 on the same test files.
uner_baseline = {"da_ddt": 82.7, "sk_snk": 85.5, "en_lines": 86.0}
cols = ["Tokens", "Sentences", "Words", "UPOS", "XPOS", "UFeats", "AllTags", "Lemmas", "UAS", "LAS", "CLAS", "MLAS", "BLEX"]

def meta(tb, stage):
    p = os.path.join(root, "models", tb, stage + ".zip")
    if not os.path.isfile(p):
        return None, 0
    with zipfile.ZipFile(p) as z:
        return json.loads(z.read("package.json")), os.path.getsize(p)

# README: languages in src/langs.rs order, with their --lang names.
readme_names = {"sk_snk": "Slovak (`slovak`, `sk`)", "fr_sequoia": "French (`french`, `fr`)",
                "en_lines": "English (`english`, `english-lines`, `en`)", "el_gdt": "Greek (`greek`, `el`)",
                "hu_szeged": "Hungarian (`hungarian`, `hu`)", "ta_ttb": "Tamil (`tamil`, `ta`)",
                "tr_imst": "Turkish (`turkish`, `tr`)", "vi_vtb": "Vietnamese (`vietnamese`, `vi`)",
                "cs_cltt": "Czech (`czech`, `cs`)", "zh_gsd": "Chinese (`chinese`, `zh`)",
                "ja_gsd": "Japanese (`japanese`, `ja`)", "da_ddt": "Danish (`danish`, `da`)"}
if readme:
    print("| language (`--lang`) | stages | Tokens | Sentences | Words | UPOS | LAS | NER F1 |")
    print("|---|---|---|---|---|---|---|---|")
    for tb, label in readme_names.items():
        stages, cells = [], {}
        for stage in ["tokenize", "posdep", "ner"]:
            m, _ = meta(tb, stage)
            if m:
                stages.append(stage)
                cells[stage] = m.get("test_scores", {})
        if not stages:
            continue
        f = lambda st, k: f"{cells[st][k]:.2f}" if st in cells and k in cells[st] else "—"
        ner = f("ner", "F1") + (" (EWT, held out)" if tb == "en_lines" and "ner" in cells else "")
        print(f"| {label} | {', '.join(stages)} | {f('tokenize', 'Tokens')} | {f('tokenize', 'Sentences')} | "
              f"{f('tokenize', 'Words')} | {f('posdep', 'UPOS')} | {f('posdep', 'LAS')} | {ner} |")
    sys.exit(0)

print("### posdep, gold tokenization (test)\n")
print("| treebank | system | UPOS | XPOS | UFeats | AllTags | Lemmas | UAS | LAS | CLAS | MLAS | BLEX | size | training |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for tb, name in names.items():
    m, size = meta(tb, "posdep")
    if m:
        t = m.get("test_scores", {})
        row = [f"{t.get(k, float('nan')):.2f}" for k in cols[3:]]
        print(f"| {name} | tatra | " + " | ".join(row) + f" | {size/1e6:.1f} MB | {m.get('training_seconds', 0)/60:.0f} min |")
        for sysname in ["Trankit[base]", "Stanza"]:
            a = anchors.get((name, sysname))
            if a:
                print(f"| | {sysname} (raw text) | " + " | ".join(a[3:]) + " | | |")
print("\n### tokenize, raw text (test)\n")
print("| treebank | system | Tokens | Sentences | Words | MWT seen / unseen acc. (unseen share) | size | training |")
print("|---|---|---|---|---|---|---|---|")
for tb, name in names.items():
    m, size = meta(tb, "tokenize")
    if m:
        t = m.get("test_scores", {})
        mwt = f"{t['MwtSeenAcc']:.1f} / {t['MwtUnseenAcc']:.1f} ({t['MwtUnseenShare']:.1f}%)" if "MwtSeenAcc" in t else "—"
        print(f"| {name} | tatra | {t.get('Tokens', float('nan')):.2f} | {t.get('Sentences', float('nan')):.2f} | {t.get('Words', float('nan')):.2f} | {mwt} | {size/1e6:.2f} MB | {m.get('training_seconds', 0)/60:.0f} min |")
        for sysname in ["Trankit[base]", "Stanza"]:
            a = anchors.get((name, sysname))
            if a:
                print(f"| | {sysname} | {a[0]} | {a[1]} | {a[2]} | | | |")
print("\n### NER, UNER test (exact spans, micro)\n")
print("| package | training data | P | R | F1 | F1 PER / LOC / ORG | size |")
print("|---|---|---|---|---|---|---|")
for p in sorted(glob.glob(os.path.join(root, "models", "*", "ner.zip"))):
    tb = os.path.basename(os.path.dirname(p))
    m, size = meta(tb, "ner")
    t = m.get("test_scores", {})
    per = " / ".join(f"{t.get('F1-' + k, float('nan')):.2f}" for k in ["PER", "LOC", "ORG"])
    print(f"| `models/{tb}/ner.zip` | {m.get('training_data')} | {t.get('P', float('nan')):.2f} | {t.get('R', float('nan')):.2f} | {t.get('F1', float('nan')):.2f} | {per} | {size/1e6:.1f} MB |")
    if tb in uner_baseline:
        print(f"| | UNER in-language baseline, XLM-R large (Mayhew et al. 2024) | | | {uner_baseline[tb]} | | |")
