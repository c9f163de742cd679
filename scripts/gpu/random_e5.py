#!/usr/bin/env python3
"""On the GPU machine: an e5-small-shaped BertModel with random weights (speed and
CPU=GPU checks do not depend on the weights), with a small tokenizer."""
import os, shutil, sys
import torch
from transformers import BertConfig, BertModel

out = sys.argv[1]
torch.manual_seed(0)
cfg = BertConfig(vocab_size=250037, hidden_size=384, num_hidden_layers=12, num_attention_heads=12,
                 intermediate_size=1536, max_position_embeddings=512, type_vocab_size=2,
                 layer_norm_eps=1e-12, pad_token_id=0, hidden_act="gelu")
BertModel(cfg).eval().save_pretrained(out, safe_serialization=True)
shutil.copy(os.path.join(os.path.dirname(__file__), "../../crates/tatra-encoder/tests/fixtures/tiny-bert/tokenizer.json"),
            os.path.join(out, "tokenizer.json"))
print("wrote", out)
