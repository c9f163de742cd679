#!/usr/bin/env python3
"""Synthetic gold/system IOB2 pairs and what seqeval (PyPI, default mode = conlleval
chunking) computes for them: the fixtures of tests/ner_eval.rs.

    python3 -m venv /tmp/v && /tmp/v/bin/pip install seqeval==1.2.2
    /tmp/v/bin/python scripts/ner-fixtures.py tests/fixtures/ner
"""
import json, random, sys, os
from seqeval.metrics import classification_report

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
TYPES = ["PER", "LOC", "ORG", "OTH"]

def gold_sentence(rng):
    n = rng.randint(1, 25)
    tags, i = [], 0
    while i < n:
        if rng.random() < 0.2:
            t = rng.choice(TYPES)
            k = min(rng.randint(1, 4), n - i)
            tags += ["B-" + t] + ["I-" + t] * (k - 1)
            i += k
        else:
            tags.append("O")
            i += 1
    return tags

def perturb(tags, rng, p):
    s = list(tags)
    for i in range(len(s)):
        r = rng.random()
        if r < p * 0.3:
            s[i] = "O"                                   # missed token
        elif r < p * 0.5:
            s[i] = "I-" + rng.choice(TYPES)              # stray / wrong I-
        elif r < p * 0.7:
            s[i] = "B-" + rng.choice(TYPES)              # new or split entity
        elif r < p * 0.8 and s[i].startswith("B-"):
            s[i] = "I-" + s[i][2:]                       # B → I (conlleval still starts a chunk)
    return s

def write(path, sents):
    with open(path, "w") as f:
        for s in sents:
            for i, t in enumerate(s):
                f.write(f"{i + 1}\tw{i}\t{t}\t-\t-\n")
            f.write("\n")

for k, (seed, p) in enumerate([(1, 0.05), (2, 0.2), (3, 0.5)]):
    rng = random.Random(seed)
    gold = [gold_sentence(rng) for _ in range(300)]
    system = [perturb(s, rng, p) for s in gold]
    write(f"{out}/pair{k}.gold.iob2", gold)
    write(f"{out}/pair{k}.system.iob2", system)
    rep = classification_report(gold, system, output_dict=True, zero_division=0)
    expected = {name: {"precision": 100 * v["precision"], "recall": 100 * v["recall"], "f1": 100 * v["f1-score"], "gold": int(v["support"])}
                for name, v in rep.items() if name in TYPES or name == "micro avg"}
    with open(f"{out}/pair{k}.seqeval.json", "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
print("written", out)
