//! Which connector and dash marks the training text never splits a token next to, on
//! real treebanks, and the token ends that drops.

use tatra_core::shared::shared_path;
use tatra_tokenize::data::{INSIDE, SENTENCE, TOKEN, apply_joiners, joiners};
use tatra_tokenize::units::Units;

fn of(path: &str) -> Option<String> {
    let p = shared_path(path)?;
    Some(joiners(&tatra_core::conllu::read_file(&p).unwrap()))
}

#[test]
fn derived_per_treebank() {
    let Some(cs) = of("ud/UD_Czech-CLTT/cs_cltt-ud-train.conllu") else {
        eprintln!("skipped: no shared data (TATRA_SHARED)");
        return;
    };
    // Czech-CLTT joins its references with underscores (134 chunks, never split inside);
    // its hyphens are split ("je - li") 9 times in 47.
    assert_eq!(cs, "_");
    if let Some(en) = of("ud/UD_English-LinES/en_lines-ud-train.conllu") {
        // LinES keeps "well-known" whole (349 chunks).
        assert_eq!(en, "-");
    }
    if let Some(tr) = of("ud/UD_Turkish-IMST/tr_imst-ud-train.conllu") {
        assert!(tr.is_empty(), "{tr:?}");
    }
}

#[test]
fn token_ends_inside_an_underscored_reference_are_dropped() {
    // "v §_7_odst._2, bodu_11." cut by the model into "v" "§_7_odst" "._2" "," "bodu"
    // "_11" "." (one unit per character for the test): the ends inside the underscore
    // spans go; those before "," (after the last underscore of its chunk, ")" or "," are
    // the treebank's own tokens) and before the final "." stay, the sentence end with it.
    let text = "v §_7_odst._2, bodu_11.";
    let chars: Vec<char> = text.chars().collect();
    let spans: Vec<(usize, usize)> = (0..chars.len()).map(|i| (i, i + 1)).collect();
    let labelled: Vec<bool> = chars.iter().map(|c| !c.is_whitespace()).collect();
    let units = Units { ids: vec![0; spans.len()], spans, labelled };
    let mut model = vec![INSIDE; chars.len()];
    for end in [1, 10, 13, 14, 19, 22] {
        model[end - 1] = TOKEN;
    }
    model[22] = SENTENCE;
    let fixed = apply_joiners("_", text, &units, &model);
    let mut want = model.clone();
    for end in [10, 19] {
        want[end - 1] = INSIDE;
    }
    assert_eq!(fixed, want);
    assert_eq!(apply_joiners("", text, &units, &model), model);
}
