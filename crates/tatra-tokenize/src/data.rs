//! Training and evaluation data from CoNLL-U: the raw text of each paragraph rebuilt from
//! the tokens and their `SpaceAfter` information, with the gold token, multi-word-token
//! and sentence boundaries as character offsets, and per-unit labels.

use tatra_core::{Document, Sentence};

use crate::units::Units;

/// Unit labels: what ends at the unit's last character.
pub const INSIDE: u8 = 0;
pub const TOKEN: u8 = 1;
pub const MWT: u8 = 2;
pub const SENTENCE: u8 = 3;
pub const MWT_SENTENCE: u8 = 4;
pub const N_LABELS: usize = 5;

/// The label for a token end.
pub fn label(mwt: bool, sentence_end: bool) -> u8 {
    TOKEN + u8::from(mwt) + 2 * u8::from(sentence_end)
}

pub fn is_mwt(label: u8) -> bool {
    label == MWT || label == MWT_SENTENCE
}

pub fn is_sentence_end(label: u8) -> bool {
    label >= SENTENCE
}

/// A gold token of a paragraph: characters `[start, end)` of the paragraph text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GoldToken {
    pub start: usize,
    pub end: usize,
    pub mwt: bool,
    pub sentence_end: bool,
}

/// One paragraph: its rebuilt text, gold tokens and gold sentences.
#[derive(Debug, Clone)]
pub struct Paragraph {
    pub text: String,
    pub tokens: Vec<GoldToken>,
    pub sentences: Vec<Sentence>,
}

/// Paragraphs of a document: a new one at every `# newdoc` / `# newpar` (a treebank
/// without them is one paragraph). Sentences are joined by a space unless the last
/// token of the sentence says `SpaceAfter=No`.
pub fn paragraphs(doc: &Document) -> Vec<Paragraph> {
    let mut out: Vec<Paragraph> = Vec::new();
    for (i, s) in doc.sentences.iter().enumerate() {
        if i == 0 || s.is_newdoc() || s.is_newpar() {
            out.push(Paragraph {
                text: String::new(),
                tokens: Vec::new(),
                sentences: Vec::new(),
            });
        }
        let Some(p) = out.last_mut() else { continue };
        let mut at = p.text.chars().count();
        if let Some(prev) = p.sentences.last() {
            if prev.tokens.last().is_none_or(|t| t.space_after()) {
                p.text.push(' ');
                at += 1;
            }
        }
        let n = s.tokens.len();
        for (k, t) in s.tokens.iter().enumerate() {
            let len = t.form.chars().count();
            p.text.push_str(&t.form);
            p.tokens.push(GoldToken {
                start: at,
                end: at + len,
                mwt: t.is_mwt(),
                sentence_end: k + 1 == n,
            });
            at += len;
            if k + 1 < n && t.space_after() {
                p.text.push(' ');
                at += 1;
            }
        }
        p.sentences.push(s.clone());
    }
    out
}

/// The raw text of a whole document as the pipeline would receive it: paragraphs
/// separated by a blank line.
pub fn raw_text(doc: &Document) -> String {
    paragraphs(doc).iter().map(|p| p.text.as_str()).collect::<Vec<_>>().join("\n\n")
}

/// Gold labels of the units of a paragraph (`None` where the unit is not labelled).
pub fn unit_labels(p: &Paragraph, units: &Units) -> Vec<Option<u8>> {
    let n = p.text.chars().count();
    let mut at_end = vec![INSIDE; n + 1];
    for t in &p.tokens {
        at_end[t.end] = label(t.mwt, t.sentence_end);
    }
    units
        .spans
        .iter()
        .zip(&units.labelled)
        .map(|(&(_, e), &l)| if l { Some(at_end[e.min(n)]) } else { None })
        .collect()
}

/// Whether the treebank has tokens with spaces inside (Vietnamese): then whitespace
/// does not always end a token.
pub fn has_space_tokens(doc: &Document) -> bool {
    let (mut with, mut all) = (0usize, 0usize);
    for t in doc.sentences.iter().flat_map(|s| &s.tokens) {
        all += 1;
        if t.form.contains(' ') {
            with += 1;
        }
    }
    all > 0 && with * 1000 > all
}

/// The continuations after which the training data splits a run of letters without a
/// space (`did|n't`), sorted and lowercased — or `None` when it splits letter runs too
/// often for that to be a constraint (more than 1 in 100 adjacent letter pairs: scripts
/// without spaces).
pub fn glued_continuations(doc: &Document) -> Option<Vec<String>> {
    let (mut pairs, mut splits) = (0usize, 0usize);
    let mut set = std::collections::BTreeSet::new();
    for s in &doc.sentences {
        for (i, t) in s.tokens.iter().enumerate() {
            let cs: Vec<char> = t.form.chars().collect();
            pairs += cs.windows(2).filter(|w| w[0].is_alphabetic() && w[1].is_alphabetic()).count();
            let Some(next) = s.tokens.get(i + 1) else { continue };
            if !t.space_after()
                && cs.last().is_some_and(|c| c.is_alphabetic())
                && next.form.chars().next().is_some_and(char::is_alphabetic)
            {
                pairs += 1;
                splits += 1;
                let run: String = next
                    .form
                    .chars()
                    .take_while(|&c| c.is_alphabetic() || c == '\'' || c == '’')
                    .flat_map(char::to_lowercase)
                    .collect();
                set.insert(run);
            }
        }
    }
    (splits * 100 <= pairs).then(|| set.into_iter().collect())
}
