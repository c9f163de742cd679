//! Which chunks the training text always starts a sentence with after a word without
//! final punctuation, on real treebanks, and the sentence ends that adds.

use tatra_core::shared::shared_path;
use tatra_tokenize::data::{INSIDE, SENTENCE, TOKEN, apply_sentence_starts, chunk_shape, sentence_starts};
use tatra_tokenize::units::Units;

fn starts(path: &str) -> Option<Vec<String>> {
    let p = shared_path(path)?;
    Some(sentence_starts(&tatra_core::conllu::read_file(&p).unwrap()))
}

#[test]
fn shapes() {
    assert_eq!(chunk_shape("(12)"), "(0)");
    assert_eq!(chunk_shape("3-4-2009"), "0-0-0");
    assert_eq!(chunk_shape("§7a."), "§0a.");
    assert_eq!(chunk_shape("„Tak“"), "„A“");
}

#[test]
fn derived_per_treebank() {
    let Some(cs) = starts("ud/UD_Czech-CLTT/cs_cltt-ud-train.conllu") else {
        eprintln!("skipped: no shared data (TATRA_SHARED)");
        return;
    };
    // Czech-CLTT: a heading without final punctuation before the paragraph number
    // "(1) …" (34 times, never inside a sentence); its "a) …" items run inside sentences.
    assert_eq!(cs, vec!["(0)".to_string()]);
    if let Some(fr) = starts("ud/UD_French-Sequoia/fr_sequoia-ud-train.conllu") {
        // Sequoia's list items: "- …" after a word starts a sentence every time.
        assert_eq!(fr, vec!["-".to_string()]);
    }
    if let Some(en) = starts("ud/UD_English-LinES/en_lines-ud-train.conllu") {
        // English numbers start sentences sometimes, run on inside them more often.
        assert!(en.is_empty(), "{en:?}");
    }
}

#[test]
fn a_heading_before_a_paragraph_number_ends_a_sentence() {
    let Some(cs) = starts("ud/UD_Czech-CLTT/cs_cltt-ud-train.conllu") else { return };
    // Units "Metoda" " " "majetku" " " "(" "1" ")" " " "Stavby" " " "(" "2" ")"; the
    // model ended no sentence after the heading. "Stavby (2)" has a letter after the
    // number's bracket run, and a number after a word is no start either.
    let text = "Metoda majetku (1) Stavby (2)x";
    let spans = [(0, 6), (6, 7), (7, 14), (14, 15), (15, 16), (16, 17), (17, 18), (18, 19), (19, 25), (25, 26), (26, 27), (27, 28), (28, 29), (29, 30)];
    let chars: Vec<char> = text.chars().collect();
    let labelled: Vec<bool> = spans.iter().map(|&(s, e)| chars[s..e].iter().any(|c| !c.is_whitespace())).collect();
    let units = Units { ids: vec![0; spans.len()], spans: spans.to_vec(), labelled };
    let model = [TOKEN, INSIDE, TOKEN, INSIDE, TOKEN, TOKEN, TOKEN, INSIDE, TOKEN, INSIDE, TOKEN, TOKEN, TOKEN, TOKEN];
    let fixed = apply_sentence_starts(&cs, text, &units, &model);
    let mut want = model.to_vec();
    want[2] = SENTENCE;
    assert_eq!(fixed, want);
    assert_eq!(apply_sentence_starts(&[], text, &units, &model), model.to_vec());
}
