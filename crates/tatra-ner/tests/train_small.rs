//! Training, resuming, saving, loading and tagging end to end on a slice of UNER Danish
//! with the tiny test encoder (fast): the shared training loop as the NER stage uses it,
//! with tag scores from each token's first and last piece.

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use tatra_adapters::AdapterConfig;
use tatra_adapters::train::{Provenance, Schedule};
use tatra_encoder::Encoder;
use tatra_ner::Ner;
use tatra_ner::train::{TrainOptions, train};

fn tiny(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tatra-encoder/tests/fixtures").join(name)
}

/// The first `n` sentences (blank-line separated blocks) of an IOB2 file.
fn slice(src: &Path, n: usize, out: &Path) {
    let text = std::fs::read_to_string(src).unwrap();
    let blocks: Vec<&str> = text.split("\n\n").filter(|b| !b.trim().is_empty()).take(n).collect();
    std::fs::write(out, blocks.join("\n\n") + "\n\n").unwrap();
}

fn options(dir: &Path, epochs: usize, resume: bool) -> TrainOptions {
    TrainOptions {
        prov: Provenance {
            train: dir.join("train.iob2"),
            dev: dir.join("dev.iob2"),
            out: dir.join("da.ner.zip"),
            language: "danish".into(),
            treebank: "da_ddt".into(),
            licence: "test".into(),
            command: "test".into(),
        },
        schedule: Schedule {
            learning_rate: 3e-3,
            max_epochs: epochs,
            patience: 10,
            batch_tokens: 256,
            seed: 1,
            resume,
            checkpoint_minutes: 100.0,
            max_minutes: 100.0,
            quiet: true,
        },
        adapters: AdapterConfig { top_layers: 1, reduction: 4, depth: 0 },
        dropout: 0.1,
        // The first+last classifiers (the first-piece path runs in every pipeline test
        // through the shipped Slovak package).
        first_last: true,
    }
}

#[test]
fn train_resume_load_tag() {
    let Some(dev) = tatra_core::shared::shared_path("uner/UNER_Danish-DDT/da_ddt-ud-dev.iob2") else { return };
    let dir = tempfile::tempdir().unwrap();
    slice(&dev, 60, &dir.path().join("train.iob2"));
    slice(&dev, 20, &dir.path().join("dev.iob2"));
    let enc = Encoder::load(&tiny("tiny-xlm-roberta"), &Device::flex().autodiff()).unwrap();
    let report = train(&enc, &options(dir.path(), 2, false)).unwrap();
    assert_eq!(report.epochs, 2);
    assert!(dir.path().join("da.ner.zip.ckpt").exists());
    let report = train(&enc, &options(dir.path(), 3, true)).unwrap();
    assert_eq!((report.resumed_at_epoch, report.epochs), (2, 3));

    let enc = Encoder::load(&tiny("tiny-xlm-roberta"), &Device::flex()).unwrap();
    let ner = Ner::load(&dir.path().join("da.ner.zip"), &enc).unwrap();
    assert_eq!(ner.meta.stage, "ner");
    assert!(ner.config.first_last && ner.net.head_last.is_some());
    assert!(ner.meta.dev_scores.contains_key("F1"));
    let gold = tatra_ner::iob2::read_file(&dir.path().join("dev.iob2")).unwrap();
    let forms: Vec<Vec<String>> = gold.iter().map(|s| s.forms.clone()).collect();
    let tags = ner.tag(&enc, &forms).unwrap();
    assert_eq!(tags.len(), forms.len());
    for (t, f) in tags.iter().zip(&forms) {
        assert_eq!(t.len(), f.len());
        // Well-formed spans: an I- tag continues a span of its own type.
        for (i, tag) in t.iter().enumerate() {
            if let Some(ty) = tag.strip_prefix("I-") {
                assert!(i > 0 && t[i - 1].get(2..) == Some(ty), "{t:?}");
            }
        }
    }
}
