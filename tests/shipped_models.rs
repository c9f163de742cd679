//! The shipped posdep packages on real test data: every predicted sentence is a tree with
//! one root, the output is valid CoNLL-U, and the scores on the first 200 test sentences
//! (gold tokenization) stay above regression floors set ~1.5 points under what the
//! packages scored when they were committed.

use std::path::Path;

use burn::tensor::Device;
use tatra_encoder::Encoder;
use tatra_posdep::run::Posdep;

fn check(treebank: &str, test: &str, floors: &[(&str, f64)]) {
    let Some(test) = tatra::core::shared::shared_path(test) else { return };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let enc = Encoder::load(&root.join("models/encoder/multilingual-e5-small"), &Device::flex()).unwrap();
    let posdep = Posdep::load(&root.join("models").join(treebank).join("posdep.zip"), &enc).unwrap();
    let gold = tatra::core::conllu::read_file(&test).unwrap();
    let gold = tatra::Document { sentences: gold.sentences.into_iter().take(200).collect(), text: None };
    let mut pred = gold.clone();
    for s in pred.sentences.iter_mut() {
        for w in s.words_mut() {
            (w.upos, w.xpos, w.feats, w.lemma, w.head, w.deprel) =
                ("_".into(), "_".into(), "_".into(), "_".into(), None, "_".into());
        }
    }
    posdep.annotate(&enc, &mut pred.sentences).unwrap();
    for s in &pred.sentences {
        let heads: Vec<usize> = std::iter::once(0).chain(s.words().map(|w| w.head.unwrap())).collect();
        assert!(tatra_posdep::tree::is_tree(&heads), "{treebank} {:?}: {heads:?}", s.sent_id());
    }
    let text = tatra::core::conllu::to_string(&pred);
    tatra::core::conllu::read_str(&text, "prediction").unwrap();
    let scores = tatra_posdep::train::score(&gold, &pred).unwrap();
    eprintln!("{treebank}, first 200 test sentences: {scores:?}");
    for (metric, floor) in floors {
        assert!(scores[*metric] >= *floor, "{treebank} {metric} {} < {floor}", scores[*metric]);
    }
}

#[test]
fn slovak_snk() {
    check("sk_snk", "ud/UD_Slovak-SNK/sk_snk-ud-test.conllu", &[("UPOS", 92.0), ("Lemmas", 86.0), ("LAS", 69.5)]);
}

#[test]
fn french_sequoia() {
    check("fr_sequoia", "ud/UD_French-Sequoia/fr_sequoia-ud-test.conllu", &[("UPOS", 95.7), ("Lemmas", 95.5), ("LAS", 79.3)]);
}
