#!/usr/bin/env python3
"""Compares a package trained beside the shipped one (`OUT_ROOT=target/retrain
scripts/train.sh …`, `scripts/train-ner.sh …`) with the shipped package on the dev
objective the training itself selects epochs by, and with `install` puts it in place
(scripts/install-package.py) when it is better on dev, has its test scores recorded and
is within the 8 MB package budget. Test scores are printed, never used to decide.

    python3 scripts/consider.py posdep en_lines            # compare
    python3 scripts/consider.py tokenize cs_cltt install   # compare, install if better

OUT_ROOT (default target/retrain) is where the new package was trained.
Objectives: posdep the mean of dev UPOS, UFeats, Lemmas and LAS; tokenize the mean of dev
Tokens, Sentences and Words; ner dev micro F1. An installation is noted at the end of
docs/train-logs/<treebank>.<stage>.log.
"""
import json, os, subprocess, sys, zipfile

KEYS = {
    "posdep": ("UPOS", "UFeats", "Lemmas", "LAS"),
    "tokenize": ("Tokens", "Sentences", "Words"),
    "ner": ("F1",),
}
SHOW = {
    "posdep": ("UPOS", "XPOS", "UFeats", "Lemmas", "UAS", "LAS"),
    "tokenize": ("Tokens", "Sentences", "Words"),
    "ner": ("P", "R", "F1"),
}
BUDGET = 8_000_000

stage, tb = sys.argv[1], sys.argv[2]
install = len(sys.argv) > 3 and sys.argv[3] == "install"
new = f"{os.environ.get('OUT_ROOT', 'target/retrain')}/{tb}/{stage}.zip"
old = f"models/{tb}/{stage}.zip"


def scores(path):
    d = json.loads(zipfile.ZipFile(path).read("package.json"))
    return d.get("dev_scores", {}), d.get("test_scores", {})


def objective(s):
    return sum(s.get(k, 0.0) for k in KEYS[stage]) / len(KEYS[stage])


nd, nt = scores(new)
od, ot = scores(old) if os.path.exists(old) else ({}, {})
print(f"{tb} {stage}: dev objective {objective(od):.2f} -> {objective(nd):.2f}")
for k in SHOW[stage]:
    print(f"  {k}: dev {od.get(k)} -> {nd.get(k)}   test {ot.get(k)} -> {nt.get(k)}")
size = os.path.getsize(new)
print(f"  size {size} bytes")
if not install:
    sys.exit(0)
why = []
if not nt:
    why.append("no test scores recorded (run the -scores command first)")
if objective(nd) <= objective(od):
    why.append("not better on dev")
if size > BUDGET:
    why.append(f"over the {BUDGET}-byte budget")
if why:
    print("not installed: " + "; ".join(why))
    sys.exit(1)
subprocess.run([sys.executable, "scripts/install-package.py", new, old], check=True)
change = ", ".join(f"{k} {od.get(k, 0.0):.2f} -> {nd.get(k, 0.0):.2f}" for k in KEYS[stage])
with open(f"docs/train-logs/{tb}.{stage}.log", "a") as f:
    f.write(f"installed as {old} (dev objective {objective(od):.2f} -> {objective(nd):.2f}: {change})\n")
print("installed")
