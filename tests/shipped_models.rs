//! Every shipped package on its whole UD test set:
//!
//! - posdep (gold tokenization): every predicted sentence is a tree with exactly one
//!   word attached to the root, labelled `root`; the output is valid CoNLL-U; the scores
//!   are those recorded in the package (`test_scores`, within 0.3 points);
//! - tokenize (raw text): the text is rebuilt exactly from the output; Tokens, Sentences
//!   and Words are those recorded in the package (within 0.3 points).

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

fn check_recorded(what: &str, recorded: &BTreeMap<String, f64>, got: &BTreeMap<String, f64>, keys: &[&str]) {
    for k in keys {
        let (r, g) = (recorded.get(*k).copied().unwrap_or(0.0), got.get(*k).copied().unwrap_or(0.0));
        assert!((r - g).abs() <= 0.3, "{what} {k}: {g:.2} now, {r:.2} recorded in the package");
    }
}

#[test]
fn posdep_packages_give_trees_and_their_recorded_scores() {
    let list = shipped("posdep");
    if list.is_empty() {
        eprintln!("skipped: no UD test files under $TATRA_SHARED");
        return;
    }
    let enc = encoder();
    for (tb, pkg, test) in list {
        let posdep = tatra_posdep::run::Posdep::load(&pkg, &enc).unwrap();
        let gold = tatra::core::conllu::read_file(&test).unwrap();
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
        check_recorded(tb, &posdep.meta.test_scores, &scores, &["UPOS", "UFeats", "Lemmas", "LAS"]);
    }
}

#[test]
fn tokenize_packages_rebuild_the_text_and_give_their_recorded_scores() {
    let list = shipped("tokenize");
    if list.is_empty() {
        eprintln!("skipped: no UD test files under $TATRA_SHARED");
        return;
    }
    let enc = encoder();
    for (tb, pkg, test) in list {
        let model = tatra::tokenize::Tokenize::load(&pkg, &enc).unwrap();
        let gold = tatra::core::conllu::read_file(&test).unwrap();
        let text = tatra::tokenize::data::raw_text(&gold);
        let pred = model.document(&enc, &text, 1).unwrap();
        assert_eq!(tatra::tokenize::rebuild_text(&pred), text, "{tb}: text not rebuilt");
        let scores = tatra::tokenize::train::score(&gold, &pred).unwrap();
        eprintln!("{tb} tokenize test: {scores:?}");
        check_recorded(tb, &model.meta.test_scores, &scores, &["Tokens", "Sentences", "Words"]);
    }
}
