//! Every shipped package on its UD test set.
//!
//! The default suite runs every package on the first sentences of its test set (a broken,
//! mismatched or mis-configured package fails here in minutes). The whole test sets
//! (about 14 minutes on 2 cores for all packages) run with
//! `cargo test --release --test shipped_models -- --ignored`, after every retraining:
//!
//! - posdep (gold tokenization): every predicted sentence is a tree with exactly one
//!   word attached to the root, labelled `root`; the output is valid CoNLL-U; the scores
//!   are those recorded in the package (`test_scores`, within 0.3 points);
//! - tokenize (raw text): the text is rebuilt exactly from the output; Tokens, Sentences
//!   and Words are those recorded in the package (within 0.3 points).
//!
//! And every adapter package stays within its size budget (8 MB).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burn::tensor::Device;
use tatra_encoder::Encoder;

fn encoder() -> Encoder {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    Encoder::load(&root.join("models/encoder/multilingual-e5-small"), &Device::flex()).unwrap()
}

/// (treebank, package, test file) for every shipped package of a stage.
fn shipped(stage: &str) -> Vec<(&'static str, PathBuf, PathBuf)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for (code, _, _, folder) in tatra::langs::LANGUAGES {
        let pkg = root.join("models").join(code).join(format!("{stage}.zip"));
        if !pkg.is_file() {
            continue;
        }
        match tatra::core::shared::shared_path(&format!("ud/{folder}/{code}-ud-test.conllu")) {
            Some(test) => out.push((*code, pkg, test)),
            None => return Vec::new(),
        }
    }
    out
}

/// Scores equal to the recorded ones within 0.3 (whole test set), or not lower than them
/// by more than `tolerance` (a slice).
fn check_recorded(what: &str, recorded: &BTreeMap<String, f64>, got: &BTreeMap<String, f64>, keys: &[&str], tolerance: f64) {
    for k in keys {
        let (r, g) = (recorded.get(*k).copied().unwrap_or(0.0), got.get(*k).copied().unwrap_or(0.0));
        let ok = if tolerance <= 0.3 { (r - g).abs() <= tolerance } else { g >= r - tolerance };
        assert!(ok, "{what} {k}: {g:.2} now, {r:.2} recorded in the package (tolerance {tolerance})");
    }
}

#[test]
fn every_package_is_at_most_8_mb() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    let mut n = 0;
    for dir in std::fs::read_dir(&root).unwrap() {
        let dir = dir.unwrap().path();
        if !dir.is_dir() || dir.ends_with("encoder") {
            continue;
        }
        for f in std::fs::read_dir(&dir).unwrap() {
            let f = f.unwrap().path();
            if f.extension().is_some_and(|e| e == "zip") {
                let size = std::fs::metadata(&f).unwrap().len();
                assert!(size <= 8_000_000, "{}: {size} bytes, over the 8 MB budget of an adapter package", f.display());
                n += 1;
            }
        }
    }
    assert!(n >= 25, "only {n} packages found in {}", root.display());
}

/// Sentences of the quick checks, and how far their scores may fall below the whole test
/// set's recorded ones (a slice scores differently; a broken package scores far lower).
const SLICE: usize = 60;
const SLICE_TOLERANCE: f64 = 12.0;

#[test]
#[ignore = "whole test sets, ~14 min: cargo test --release --test shipped_models -- --ignored"]
fn posdep_packages_give_trees_and_their_recorded_scores() {
    posdep_check(usize::MAX, 0.3);
}

#[test]
fn posdep_packages_give_trees_on_a_slice() {
    posdep_check(SLICE, SLICE_TOLERANCE);
}

#[test]
#[ignore = "whole test sets, ~14 min: cargo test --release --test shipped_models -- --ignored"]
fn tokenize_packages_rebuild_the_text_and_give_their_recorded_scores() {
    tokenize_check(usize::MAX, 0.3);
}

#[test]
fn tokenize_packages_rebuild_the_text_on_a_slice() {
    tokenize_check(SLICE, SLICE_TOLERANCE);
}

/// The first `n` sentences of a document.
fn first(mut doc: tatra::core::Document, n: usize) -> tatra::core::Document {
    doc.sentences.truncate(n);
    doc
}

fn posdep_check(n: usize, tolerance: f64) {
    let list = shipped("posdep");
    if list.is_empty() {
        eprintln!("skipped: no UD test files under $TATRA_SHARED");
        return;
    }
    let enc = encoder();
    for (tb, pkg, test) in list {
        let posdep = tatra_posdep::run::Posdep::load(&pkg, &enc).unwrap();
        let gold = first(tatra::core::conllu::read_file(&test).unwrap(), n);
        let mut pred = gold.clone();
        for s in pred.sentences.iter_mut() {
            for w in s.words_mut() {
                (w.upos, w.xpos, w.feats, w.lemma, w.head, w.deprel) = ("_".into(), "_".into(), "_".into(), "_".into(), None, "_".into());
            }
        }
        for chunk in pred.sentences.chunks_mut(256) {
            posdep.annotate(&enc, chunk).unwrap();
        }
        for s in &pred.sentences {
            let heads: Vec<usize> = std::iter::once(0).chain(s.words().map(|w| w.head.unwrap())).collect();
            assert!(tatra_posdep::tree::is_tree(&heads), "{tb} {:?}: {heads:?}", s.sent_id());
            let roots: Vec<&str> = s.words().filter(|w| w.head == Some(0)).map(|w| w.deprel.as_str()).collect();
            assert_eq!(roots, vec!["root"], "{tb} {:?}", s.sent_id());
            assert!(s.words().filter(|w| w.deprel == "root").count() == 1, "{tb} {:?}", s.sent_id());
        }
        tatra::core::conllu::read_str(&tatra::core::conllu::to_string(&pred), "prediction").unwrap();
        let scores = tatra_posdep::train::score(&gold, &pred).unwrap();
        eprintln!("{tb} posdep test: {scores:?}");
        check_recorded(tb, &posdep.meta.test_scores, &scores, &["UPOS", "UFeats", "Lemmas", "LAS"], tolerance);
    }
}

fn tokenize_check(n: usize, tolerance: f64) {
    let list = shipped("tokenize");
    if list.is_empty() {
        eprintln!("skipped: no UD test files under $TATRA_SHARED");
        return;
    }
    let enc = encoder();
    for (tb, pkg, test) in list {
        let model = tatra::tokenize::Tokenize::load(&pkg, &enc).unwrap();
        let gold = first(tatra::core::conllu::read_file(&test).unwrap(), n);
        let text = tatra::tokenize::data::raw_text(&gold);
        let pred = model.document(&enc, &text, 1).unwrap();
        assert_eq!(tatra::tokenize::rebuild_text(&pred), text, "{tb}: text not rebuilt");
        let scores = tatra::tokenize::train::score(&gold, &pred).unwrap();
        eprintln!("{tb} tokenize test: {scores:?}");
        // Sentence F1 on a slice of a few dozen sentence ends swings too far to compare.
        let keys: &[&str] = if n == usize::MAX { &["Tokens", "Sentences", "Words"] } else { &["Tokens", "Words"] };
        check_recorded(tb, &model.meta.test_scores, &scores, keys, tolerance);
    }
}
