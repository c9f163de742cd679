//! Loading real HuggingFace checkpoints: tiny randomly initialised `XLMRobertaModel` and
//! `BertModel` (hidden 32, 2 layers) saved by transformers' `save_pretrained` in f32,
//! f16 and bf16 (scripts/hf-tiny-fixtures.py), with transformers' own outputs. tatra
//! matches them within 1e-4, one by one and in a padded batch. Broken folders give
//! errors that name the file and tensor.

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use tatra_encoder::{EncoderError, Encoder};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

fn check(name: &str) {
    let dir = fixture(name);
    let enc = Encoder::load(&dir, &Device::flex()).unwrap_or_else(|e| panic!("{name}: {e}"));
    let exp: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let h = enc.hidden_size();
    let mut seqs = Vec::new();
    let mut worst = 0f32;
    for item in exp["items"].as_array().unwrap() {
        let ids: Vec<u32> = item["ids"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u32).collect();
        assert_eq!(enc.tokenizer.encode(item["text"].as_str().unwrap(), true).unwrap().ids, ids, "{name}");
        let got = enc.forward_one(&ids);
        for (t, row) in item["last_hidden_state"].as_array().unwrap().iter().enumerate() {
            for (j, v) in row.as_array().unwrap().iter().enumerate() {
                worst = worst.max((got[t * h + j] - v.as_f64().unwrap() as f32).abs());
            }
        }
        seqs.push(ids);
    }
    let outs = enc.forward_sorted(&seqs, 1 << 20);
    for (k, rows) in exp["batched"].as_array().unwrap().iter().enumerate() {
        for (t, row) in rows.as_array().unwrap().iter().enumerate() {
            for (j, v) in row.as_array().unwrap().iter().enumerate() {
                worst = worst.max((outs[k][t * h + j] - v.as_f64().unwrap() as f32).abs());
            }
        }
    }
    eprintln!("{name}: max |Δ| = {worst:.2e}");
    assert!(worst < 1e-4, "{name}: differs from transformers by {worst}");
}

#[test]
fn xlm_roberta_f32() {
    check("tiny-xlm-roberta");
}

#[test]
fn xlm_roberta_bf16() {
    check("tiny-xlm-roberta-bf16");
}

#[test]
fn bert_f32() {
    check("tiny-bert");
}

#[test]
fn bert_f16() {
    check("tiny-bert-f16");
}

/// A copy of a fixture folder with `config.json` edited.
fn broken(edit: impl Fn(&mut serde_json::Value)) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for f in ["config.json", "model.safetensors", "tokenizer.json"] {
        std::fs::copy(fixture("tiny-bert").join(f), dir.path().join(f)).unwrap();
    }
    let p = dir.path().join("config.json");
    let mut cfg: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    edit(&mut cfg);
    std::fs::write(&p, cfg.to_string()).unwrap();
    dir
}

fn load_err(dir: &Path) -> String {
    match Encoder::load(dir, &Device::flex()) {
        Ok(_) => panic!("loaded a broken model"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn missing_tensor_is_named() {
    let dir = broken(|c| c["num_hidden_layers"] = 3.into());
    let e = load_err(dir.path());
    assert!(e.contains("model.safetensors: tensor 'encoder.layer.2.attention.self.query.weight' is missing"), "{e}");
}

#[test]
fn wrong_shape_is_named() {
    let dir = broken(|c| c["intermediate_size"] = 48.into());
    let e = load_err(dir.path());
    assert!(e.contains("tensor 'encoder.layer.0.intermediate.dense.weight' has shape [64, 32], expected [48, 32]"), "{e}");
}

#[test]
fn unknown_architecture() {
    let dir = broken(|c| c["model_type"] = "gpt2".into());
    let e = load_err(dir.path());
    assert!(e.contains("config.json: unsupported architecture 'gpt2'"), "{e}");
}

#[test]
fn missing_tokenizer() {
    let dir = broken(|_| {});
    std::fs::remove_file(dir.path().join("tokenizer.json")).unwrap();
    match Encoder::load(dir.path(), &Device::flex()) {
        Err(EncoderError::Tokenizer { path, .. }) => assert!(path.ends_with("tokenizer.json")),
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("loaded without a tokenizer"),
    }
}

#[test]
fn missing_folder() {
    let e = load_err(Path::new("/nonexistent/xlm-roberta-base"));
    assert!(e.starts_with("/nonexistent/xlm-roberta-base: encoder folder not found"), "{e}");
}
