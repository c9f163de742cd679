#!/usr/bin/env python3
"""Writes tiny randomly initialised HuggingFace encoders (hidden 32, 2 layers) with
their outputs, as test fixtures for tatra's checkpoint loading.

Needs torch, transformers and tokenizers (pip install torch transformers; not committed).
Usage: python3 scripts/hf-tiny-fixtures.py crates/tatra-encoder/tests/fixtures

For each model folder: config.json, model.safetensors (saved by transformers'
save_pretrained), tokenizer.json, and expected.json with token ids and the
last_hidden_state for a few inputs, run one by one and as one padded batch.
"""
import json
import os
import sys

import torch
from tokenizers import Tokenizer, models, pre_tokenizers, processors
from transformers import BertConfig, BertModel, XLMRobertaConfig, XLMRobertaModel

WORDS = ("the a cat dog sat on mat and ran to house big small red blue is was "
         "in of with . , ! ? hello world tatra parses text into words").split()
TEXTS = ["the cat sat on the mat .", "hello world !", "a big red dog ran to the small blue house , and the cat was in it ."]


def tokenizer(kind):
    if kind == "xlmr":
        specials = ["<s>", "<pad>", "</s>", "<unk>"]
        cls, sep, unk = "<s>", "</s>", "<unk>"
    else:
        specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]
        cls, sep, unk = "[CLS]", "[SEP]", "[UNK]"
    vocab = {t: i for i, t in enumerate(specials + WORDS)}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token=unk))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(
        single=f"{cls} $A {sep}", special_tokens=[(cls, vocab[cls]), (sep, vocab[sep])])
    return tok, vocab


def build(kind, dtype, out):
    torch.manual_seed(7 if kind == "xlmr" else 11)
    tok, vocab = tokenizer(kind)
    common = dict(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                  intermediate_size=64, max_position_embeddings=40, hidden_act="gelu",
                  hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    if kind == "xlmr":
        cfg = XLMRobertaConfig(pad_token_id=vocab["<pad>"], bos_token_id=0, eos_token_id=2, **common)
        model = XLMRobertaModel(cfg)
    else:
        cfg = BertConfig(pad_token_id=vocab["[PAD]"], **common)
        model = BertModel(cfg)
    model.eval()
    with torch.no_grad():  # larger weights than the default init, so errors show
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    if dtype != "float32":
        model = model.to(getattr(torch, dtype))
    os.makedirs(out, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    tok.save(os.path.join(out, "tokenizer.json"))
    model = model.float()  # reference: the stored (rounded) weights computed in f32
    items = []
    encs = [tok.encode(t).ids for t in TEXTS]
    with torch.no_grad():
        for text, ids in zip(TEXTS, encs):
            h = model(input_ids=torch.tensor([ids])).last_hidden_state[0]
            items.append({"text": text, "ids": ids, "last_hidden_state": h.tolist()})
        pad = cfg.pad_token_id
        n = max(map(len, encs))
        batch = torch.tensor([e + [pad] * (n - len(e)) for e in encs])
        mask = torch.tensor([[1] * len(e) + [0] * (n - len(e)) for e in encs])
        hb = model(input_ids=batch, attention_mask=mask).last_hidden_state
    batched = [hb[i, : len(e)].tolist() for i, e in enumerate(encs)]
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump({"model": type(model).__name__, "dtype": dtype, "items": items, "batched": batched}, f)


if __name__ == "__main__":
    root = sys.argv[1] if len(sys.argv) > 1 else "crates/tatra-encoder/tests/fixtures"
    build("xlmr", "float32", os.path.join(root, "tiny-xlm-roberta"))
    build("bert", "float32", os.path.join(root, "tiny-bert"))
    build("bert", "float16", os.path.join(root, "tiny-bert-f16"))
    build("xlmr", "bfloat16", os.path.join(root, "tiny-xlm-roberta-bf16"))
    print("written under", root)
