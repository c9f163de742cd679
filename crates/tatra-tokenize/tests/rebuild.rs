//! Raw text → units → (random) unit labels → tokens and sentences → CoNLL-U: the text
//! comes back exactly from the output, whatever the labels, on every UD test set in
//! `$TATRA_SHARED/ud` (all scripts: Latin, Greek, Cyrillic, Tamil, Vietnamese with
//! spaces inside tokens, Chinese and Japanese without spaces). Uses the embedded
//! encoder's real tokenizer; the labels come from a seeded generator, so every kind of
//! boundary (token, multi-word token, sentence) lands everywhere.

use std::path::{Path, PathBuf};

use tatra_core::rng::SplitMix64;
use tatra_encoder::tokenizer::Tokenizer;
use tatra_tokenize::mwt::Mwt;
use tatra_tokenize::{assemble, data, paragraph_spans, rebuild_text, run, units};

fn tokenizer() -> Option<Tokenizer> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/encoder/multilingual-e5-small/tokenizer.json");
    if !p.is_file() {
        eprintln!("skipped: {} not found", p.display());
        return None;
    }
    Some(Tokenizer::from_file(&p).expect("the shipped tokenizer loads"))
}

fn random_labels(n: usize, rng: &mut SplitMix64) -> Vec<u8> {
    (0..n)
        .map(|_| match rng.next_u64() % 20 {
            0..=9 => data::INSIDE,
            10..=15 => data::TOKEN,
            16 => data::MWT,
            17..=18 => data::SENTENCE,
            _ => data::MWT_SENTENCE,
        })
        .collect()
}

/// Segments `text` with random labels and checks that the text comes back, directly
/// and through written-and-read CoNLL-U.
fn check(tok: &Tokenizer, text: &str, space_tokens: bool, mwt: &Mwt, seed: u64, name: &str) -> usize {
    let spans = paragraph_spans(text);
    let chars: Vec<char> = text.chars().collect();
    let mut rng = SplitMix64(seed);
    let mut segmented = Vec::new();
    for &(s, e) in &spans {
        let p: String = chars[s..e].iter().collect();
        let u = units::units(tok, &p, seed % 2 == 0).expect("units");
        // Units cover the paragraph in order, within its bounds.
        for w in u.spans.windows(2) {
            assert!(w[0].0 <= w[1].0, "{name}: units out of order");
        }
        assert!(u.spans.iter().all(|&(a, b)| a <= b && b <= e - s), "{name}: unit span out of range");
        let labels = random_labels(u.len(), &mut rng);
        segmented.push(run::decode(&p, &u, &labels, space_tokens, mwt));
    }
    let doc = assemble(text, &spans, segmented, 1);
    if text.trim().is_empty() {
        // Nothing to annotate: an empty document (CoNLL-U has no place for the spaces).
        assert!(doc.sentences.is_empty(), "{name}: sentences from blank input");
        return 0;
    }
    assert_eq!(rebuild_text(&doc), text, "{name}: text not rebuilt from the tokens");
    let conllu = tatra_core::conllu::to_string(&doc);
    let back = tatra_core::conllu::read_str(&conllu, name).unwrap_or_else(|e| panic!("{name}: output is not valid CoNLL-U: {e}"));
    assert_eq!(rebuild_text(&back), text, "{name}: text not rebuilt from the CoNLL-U");
    for s in &back.sentences {
        assert_eq!(s.text(), Some(s.rebuilt_text().as_str()), "{name}: # text disagrees with the tokens");
    }
    doc.sentences.len()
}

#[test]
fn every_test_set_is_rebuilt_exactly() {
    let Some(tok) = tokenizer() else { return };
    let files: Vec<PathBuf> = tatra_core::shared::ud_files().into_iter().filter(|p| p.to_string_lossy().ends_with("-ud-test.conllu")).collect();
    if files.is_empty() {
        eprintln!("skipped: no UD test files under $TATRA_SHARED/ud");
        return;
    }
    for (i, f) in files.iter().enumerate() {
        let gold = tatra_core::conllu::read_file(f).expect("UD test file reads");
        let text = data::raw_text(&gold);
        let mwt = Mwt::build(&gold);
        let space_tokens = data::has_space_tokens(&gold);
        let n = check(&tok, &text, space_tokens, &mwt, i as u64, &f.display().to_string());
        assert!(n > 0);
    }
}

#[test]
fn edge_cases() {
    let Some(tok) = tokenizer() else { return };
    let mwt = Mwt::default();
    for (i, text) in [
        "",
        "   \n\t \n",
        "  Leading and trailing spaces.  \n\n\n  Next paragraph\twith a tab.\r\n",
        "Mixed scripts: Praha, Αθήνα, Москва, 東京で会いましょう。 தமிழ் 😀👍🏽 e-mail a.b@c.org https://x.org/a?b=1 3.14",
        "Decomposed: Cafe\u{301} n\u{303}o\u{308}",
        "Non-breaking\u{a0}space and\u{2003}em space | pipe \\ backslash",
    ]
    .iter()
    .enumerate()
    {
        check(&tok, text, false, &mwt, 100 + i as u64, &format!("edge case {i}"));
        check(&tok, text, true, &mwt, 200 + i as u64, &format!("edge case {i} (space tokens)"));
    }
}

#[test]
fn one_long_line_without_spaces() {
    let Some(tok) = tokenizer() else { return };
    // 5 MB of Chinese (1.67M characters of 3 bytes) and 5 MB of Latin letters, one line
    // each: units, labels and the rebuilt text over the whole line, in bounded chunks.
    let zh: String = "我们在北京大学学习语言学。".chars().cycle().take(5_000_000 / 3).collect();
    let la: String = "abcdefghij".chars().cycle().take(5_000_000).collect();
    for (i, t) in [zh, la].iter().enumerate() {
        check(&tok, t, false, &Mwt::default(), 300 + i as u64, &format!("long line {i}"));
    }
}

#[test]
fn the_space_before_a_word_stays_in_its_piece() {
    let Some(tok) = tokenizer() else { return };
    let text = "Thanh bắt chuyện với Hùng, danh sách.";
    let pieces = tok.encode(text, false).expect("encodes");
    let u = units::units(&tok, text, true).expect("units");
    // The encoder reads exactly the tokenizer's own pieces ("▁bắt", not "▁" "▁bắt"), and
    // every unit is labelled and covers its word without the space.
    assert_eq!(u.ids, pieces.ids);
    assert!(u.labelled.iter().all(|&l| l));
    let chars: Vec<char> = text.chars().collect();
    let words: Vec<String> = u.spans.iter().map(|&(s, e)| chars[s..e].iter().collect()).collect();
    assert_eq!(words, ["Thanh", "bắt", "chuyện", "với", "Hùng", ",", "danh", "sách", "."]);
    // The layout of packages trained before: a "▁" unit of its own before each word.
    let old = units::units(&tok, text, false).expect("units");
    assert_eq!(old.len(), u.len() + 6);
}

#[test]
fn whole_pieces_are_cut_only_where_the_training_text_cuts_them() {
    let Some(tok) = tokenizer() else { return };
    let text = "我们在北京大学学习语言学。";
    let pieces = tok.encode(text, false).expect("encodes");
    let chars: Vec<char> = text.chars().collect();
    let piece_texts: Vec<String> = pieces.offsets.iter().map(|&(s, e)| chars[s..e].iter().collect::<String>().trim().to_string()).collect();
    // Every character its own unit in the layout of older packages.
    let all = units::units(&tok, text, true).expect("units");
    assert_eq!(all.len(), chars.len());
    // Gold ends after 我们|在|北京|大学|学习|语言学|。: pieces with an end inside are cut.
    let mut ends = vec![false; chars.len() + 1];
    for e in [2, 3, 5, 7, 9, 12, 13] {
        ends[e] = true;
    }
    let cut = units::pieces_cut_inside(&tok, text, &ends).expect("pieces");
    let ids: std::collections::HashSet<u32> = cut.iter().filter_map(|p| tok.token_to_id(p)).collect();
    let u = units::units_with(&tok, text, &units::Layout { spaces_in_pieces: true, cut_pieces: Some(&ids), ..units::Layout::default() }).expect("units");
    // Every gold end is a unit end, every unit is labelled, and a piece not cut stays one
    // unit with the tokenizer's own id.
    let unit_ends: std::collections::HashSet<usize> = u.spans.iter().map(|s| s.1).collect();
    for e in [2, 3, 5, 7, 9, 12, 13] {
        assert!(unit_ends.contains(&e), "no unit ends at {e}: {:?} (pieces {piece_texts:?})", u.spans);
    }
    assert!(u.labelled.iter().all(|&l| l));
    assert!(u.len() < all.len(), "some pieces stay whole: {piece_texts:?}");
    for (id, &(s, e)) in pieces.ids.iter().zip(&pieces.offsets) {
        let p = tok.id_to_token(*id).unwrap_or_default();
        if !cut.contains(&p) && e - s > 1 {
            assert!(u.ids.contains(id), "{p} kept whole");
        }
    }
    // Decoding these units rebuilds the text, whatever the labels.
    let labels = random_labels(u.len(), &mut SplitMix64(7));
    let spans = paragraph_spans(text);
    let doc = assemble(text, &spans, vec![run::decode(text, &u, &labels, false, &Mwt::default())], 1);
    assert_eq!(rebuild_text(&doc), text);
}
