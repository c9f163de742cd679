//! Where the training data splits runs of letters without a space, on real treebanks.

use tatra_core::shared::shared_path;
use tatra_tokenize::data::glued_continuations;

fn glued(path: &str) -> Option<Option<Vec<String>>> {
    let p = shared_path(path)?;
    Some(glued_continuations(&tatra_core::conllu::read_file(&p).unwrap()))
}

#[test]
fn english_splits_only_before_known_continuations() {
    let Some(en) = glued("ud/UD_English-LinES/en_lines-ud-train.conllu") else { return };
    let en = en.expect("English splits letter runs rarely");
    // LinES writes "didn't" as one multi-word token, "cannot" as two tokens.
    assert!(en.iter().any(|g| g == "not"), "{en:?}");
    assert!(!en.iter().any(|g| g == "ed"), "{en:?}");
    assert!(en.windows(2).all(|w| w[0] < w[1]), "sorted, for binary search");
}

#[test]
fn scripts_without_spaces_get_no_constraint() {
    let Some(zh) = glued("ud/UD_Chinese-GSD/zh_gsd-ud-dev.conllu") else { return };
    assert_eq!(zh, None);
    if let Some(ja) = glued("ud/UD_Japanese-GSD/ja_gsd-ud-dev.conllu") {
        assert_eq!(ja, None);
    }
}

#[test]
fn a_split_between_letters_is_dropped_unless_glued() {
    let Some(en) = glued("ud/UD_English-LinES/en_lines-ud-train.conllu").flatten() else { return };
    // Units "jump" "ed" and "can" "not" with a token end after "jump" and after "can".
    let text = "jumped cannot";
    let units = tatra_tokenize::units::Units {
        ids: vec![0; 4],
        spans: vec![(0, 4), (4, 6), (7, 10), (10, 13)],
        labelled: vec![true; 4],
    };
    let labels = tatra_tokenize::run::keep_words_whole(text, &units, &[1, 1, 1, 1], &en);
    assert_eq!(labels, vec![0, 1, 1, 1]);
}
