#!/usr/bin/env python3
"""UDPipe 1 baseline for docs/performance.md: train on a UD train file (held-out dev),
then time tokenize + tag + parse of the test set's raw text on this machine.

    python3 -m venv /tmp/v && /tmp/v/bin/pip install ufal.udpipe==1.4.0.1
    /tmp/v/bin/python scripts/udpipe-baseline.py ../shared/ud/UD_French-Sequoia fr_sequoia /tmp/fr.udpipe

Training options are reduced from UDPipe's defaults to fit this 2-core machine (written
in the output); annotation speed does not depend on them much.
"""
import sys, time, os
from ufal.udpipe import Model, Pipeline, ProcessingError, Trainer, InputFormat, Sentence, Sentences

folder, tb, model_path = sys.argv[1:4]
read = lambda p: open(p, encoding="utf-8").read()
train, dev, test = (read(os.path.join(folder, f"{tb}-ud-{s}.conllu")) for s in ("train", "dev", "test"))
TOK, TAG, PARSE = "epochs=30", "models=1;iterations=10", "iterations=5"
def sentences(conllu):
    fmt = InputFormat.newConlluInputFormat()
    fmt.setText(conllu)
    out, s, err = Sentences(), Sentence(), ProcessingError()
    while fmt.nextSentence(s, err):
        out.push_back(s)
        s = Sentence()
    if err.occurred():
        sys.exit("cannot read CoNLL-U: " + err.message)
    return out

if not os.path.exists(model_path):
    t0 = time.time()
    err = ProcessingError()
    m = Trainer.train("morphodita_parsito", sentences(train), sentences(dev), TOK, TAG, PARSE, err)
    if err.occurred():
        sys.exit("udpipe training failed: " + err.message)
    open(model_path, "wb").write(m)
    print(f"trained in {time.time() - t0:.0f} s with tokenizer {TOK}, tagger {TAG}, parser {PARSE}", flush=True)
model = Model.load(model_path)
# The raw test text, rebuilt as tatra's data::raw_text does (sentences joined by their spacing).
sents = []
for block in test.strip().split("\n\n"):
    toks, skip = [], set()
    for line in block.split("\n"):
        if not line or line.startswith("#"):
            continue
        c = line.split("\t")
        if "." in c[0]:
            continue
        if "-" in c[0]:
            a, b = map(int, c[0].split("-")); skip = set(range(a, b + 1)); toks.append((c[1], c[9])); continue
        if int(c[0]) in skip:
            continue
        toks.append((c[1], c[9]))
    s = "".join(f + ("" if "SpaceAfter=No" in m or i + 1 == len(toks) else " ") for i, (f, m) in enumerate(toks))
    sents.append(s + ("" if "SpaceAfter=No" in toks[-1][1] else " "))
text = "".join(sents).rstrip()
pipe = Pipeline(model, "tokenize", Pipeline.DEFAULT, Pipeline.DEFAULT, "conllu")
err = ProcessingError()
t0 = time.time()
out = pipe.process(text, err)
secs = time.time() - t0
words = sum(1 for l in out.split("\n") if l and l[0].isdigit() and "-" not in l.split("\t")[0] and "." not in l.split("\t")[0])
open(model_path + ".test.conllu", "w", encoding="utf-8").write(out)
print(f"annotated {words} words in {secs:.1f} s: {words / secs:.0f} words/s (one thread); output {model_path}.test.conllu")
