//! Which punctuation the training data always splits from an adjacent letter, on real
//! treebanks, and the token ends that adds where a model put none.

use tatra_core::shared::shared_path;
use tatra_tokenize::data::{INSIDE, PunctSplits, TOKEN};
use tatra_tokenize::units::Units;

fn splits(path: &str) -> Option<PunctSplits> {
    let p = shared_path(path)?;
    Some(PunctSplits::from_doc(&tatra_core::conllu::read_file(&p).unwrap()))
}

#[test]
fn derived_per_treebank() {
    let Some(tr) = splits("ud/UD_Turkish-IMST/tr_imst-ud-train.conllu") else { return };
    // Turkish always splits a comma from the word before it and a bracket from the word
    // after it, but keeps ordinal and abbreviation periods ("yirmi.", "Prof.") inside.
    assert!(tr.after_letter.contains(',') && tr.after_letter.contains('?'), "{tr:?}");
    assert!(!tr.after_letter.contains('.') && !tr.after_letter.contains('\''), "{tr:?}");
    assert!(tr.before_letter.contains('('), "{tr:?}");
    if let Some(en) = splits("ud/UD_English-LinES/en_lines-ud-train.conllu") {
        // "Mr." and "didn't" / "'s" keep English periods and apostrophes out.
        assert!(en.after_letter.contains(','), "{en:?}");
        assert!(!en.after_letter.contains('.') && !en.before_letter.contains('\''), "{en:?}");
    }
    if let Some(sk) = splits("ud/UD_Slovak-SNK/sk_snk-ud-train.conllu") {
        // The Slovak treebank writes no abbreviation with its period inside the token.
        assert!(sk.after_letter.contains('.'), "{sk:?}");
    }
}

#[test]
fn a_missing_token_end_before_a_comma_is_added() {
    let Some(tr) = splits("ud/UD_Turkish-IMST/tr_imst-ud-train.conllu") else { return };
    // Units "Onların" " " "dışında" "," " " "(" "dokuz" ")" with the model's labels.
    let text = "Onların dışında, (dokuz)";
    let units = Units {
        ids: vec![0; 8],
        spans: vec![(0, 7), (7, 8), (8, 15), (15, 16), (16, 17), (17, 18), (18, 23), (23, 24)],
        labelled: vec![true, false, true, true, false, true, true, true],
    };
    let model = [TOKEN, INSIDE, INSIDE, TOKEN, INSIDE, INSIDE, INSIDE, TOKEN];
    let fixed = tr.apply(text, &units, &model);
    assert_eq!(fixed, vec![TOKEN, INSIDE, TOKEN, TOKEN, INSIDE, TOKEN, TOKEN, TOKEN]);
    // Nothing to add where the treebank has no such marks.
    assert_eq!(PunctSplits::default().apply(text, &units, &model), model.to_vec());
}
