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

/// A number's final period: split where the treebank always splits it (Czech-CLTT
/// `58|.`), kept where it writes ordinals whole (Hungarian `58.`); never inside a number
/// (`1.5`) or before a letter (`1.ledna`).
#[test]
fn a_numbers_final_period() {
    let Some(cs) = splits("ud/UD_Czech-CLTT/cs_cltt-ud-train.conllu") else { return };
    assert!(cs.after_digit.contains('.'), "{cs:?}");
    if let Some(hu) = splits("ud/UD_Hungarian-Szeged/hu_szeged-ud-train.conllu") {
        assert!(!hu.after_digit.contains('.'), "{hu:?}");
    }
    // Units "skupině" " " "58" "." " " "3" "." " " "1" "." "5" " " "1" "." "ledna"; the
    // model glued every number to the period after it.
    let text = "skupině 58. 3. 1.5 1.ledna";
    let spans = [(0, 7), (7, 8), (8, 10), (10, 11), (11, 12), (12, 13), (13, 14), (14, 15), (15, 16), (16, 17), (17, 18), (18, 19), (19, 20), (20, 21), (21, 26)];
    let chars: Vec<char> = text.chars().collect();
    let labelled: Vec<bool> = spans.iter().map(|&(s, e)| chars[s..e].iter().any(|c| !c.is_whitespace())).collect();
    let units = Units { ids: vec![0; spans.len()], spans: spans.to_vec(), labelled };
    let model = [TOKEN, INSIDE, INSIDE, TOKEN, INSIDE, INSIDE, TOKEN, INSIDE, INSIDE, INSIDE, TOKEN, INSIDE, INSIDE, INSIDE, TOKEN];
    let fixed = cs.apply(text, &units, &model);
    let want = [TOKEN, INSIDE, TOKEN, TOKEN, INSIDE, TOKEN, TOKEN, INSIDE, INSIDE, INSIDE, TOKEN, INSIDE, INSIDE, INSIDE, TOKEN];
    assert_eq!(fixed, want.to_vec());
}
