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

/// Training-text augmentation: drops the final `.`, `!`, `?` or `…` of about `rate` of
/// the sentences that end in one (seeded), so that the tokenizer also learns sentence
/// ends without final punctuation — headings, titles and captions, which a treebank's
/// running text may hold far fewer of than the texts it is used on (Slovak-SNK: 3.9% of
/// train sentences, 15% of dev and test). The token before the dropped mark takes over
/// its spacing. Only for training: dev scoring reads the file as it is.
pub fn drop_final_punct(doc: &Document, rate: f64, seed: u64) -> Document {
    let mut rng = tatra_core::rng::SplitMix64(seed);
    let mut out = doc.clone();
    for s in &mut out.sentences {
        let n = s.tokens.len();
        if n < 2 || s.tokens[n - 1].is_mwt() || s.tokens[n - 2].is_mwt() {
            continue;
        }
        if !matches!(s.tokens[n - 1].form.as_str(), "." | "!" | "?" | "…" | "...") || !rng.chance(rate) {
            continue;
        }
        let Some(dropped) = s.tokens.pop() else { continue };
        if let Some(last) = s.tokens.last_mut() {
            crate::run::set_token_misc(last, "SpaceAfter", (!dropped.space_after()).then_some("No"));
            crate::run::set_token_misc(last, "SpacesAfter", tatra_core::misc_get(dropped.token_misc(), "SpacesAfter"));
        }
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

/// Punctuation that is not a letter, digit or space.
pub fn is_punct(c: char) -> bool {
    !c.is_alphanumeric() && !c.is_whitespace()
}

/// Punctuation marks that the training data always separates from an adjacent letter
/// when no space is between them: `after_letter` holds those that never continue a token
/// after a letter (`dışında|,`), `before_letter` those that never continue into a letter
/// (`(|cseh`). Each mark needs at least 10 such splits and at most 1 in 500 of its
/// letter contacts inside a token, so marks that abbreviations, hyphenated compounds or
/// elisions keep inside tokens (`Dr.`, `Lewis-Holyfield`, `l'`) stay out; the sets are
/// per treebank (Slovak splits every period after a letter, English does not).
/// `after_digit` (session 15) holds the marks that end a number's token when nothing
/// alphanumeric follows them (`58|.` in Czech-CLTT, French, Slovak; Hungarian writes
/// ordinals `58.` whole and keeps it out), by the same counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PunctSplits {
    pub after_letter: String,
    pub before_letter: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub after_digit: String,
}

/// Whether position `i` of `cs` is a mark right after a number (a run of digits with no
/// letter, digit or the same mark before it: `58.`, not `B.I.6.`) with nothing
/// alphanumeric after it (the end, a space, more punctuation).
fn digit_then_final_mark(cs: &[char], i: usize) -> bool {
    if i == 0 || i >= cs.len() || !cs[i - 1].is_ascii_digit() || !is_punct(cs[i]) || cs.get(i + 1).is_some_and(|c| c.is_alphanumeric()) {
        return false;
    }
    let start = cs[..i].iter().rposition(|c| !c.is_ascii_digit()).map_or(0, |j| j + 1);
    start == 0 || (!cs[start - 1].is_alphanumeric() && cs[start - 1] != cs[i])
}

impl PunctSplits {
    pub fn from_doc(doc: &Document) -> PunctSplits {
        use std::collections::BTreeMap;
        // mark -> (splits, inside a token)
        let mut after: BTreeMap<char, (usize, usize)> = BTreeMap::new();
        let mut before: BTreeMap<char, (usize, usize)> = BTreeMap::new();
        let mut digit: BTreeMap<char, (usize, usize)> = BTreeMap::new();
        for s in &doc.sentences {
            for (i, t) in s.tokens.iter().enumerate() {
                let cs: Vec<char> = t.form.chars().collect();
                for k in 1..cs.len() {
                    if digit_then_final_mark(&cs, k) {
                        digit.entry(cs[k]).or_default().1 += 1;
                    }
                }
                for w in cs.windows(2) {
                    if w[0].is_alphabetic() && is_punct(w[1]) {
                        after.entry(w[1]).or_default().1 += 1;
                    }
                    if is_punct(w[0]) && w[1].is_alphabetic() {
                        before.entry(w[0]).or_default().1 += 1;
                    }
                }
                let Some(next) = s.tokens.get(i + 1) else { continue };
                if t.space_after() {
                    continue;
                }
                let (Some(a), Some(b)) = (cs.last().copied(), next.form.chars().next()) else { continue };
                if a.is_alphabetic() && is_punct(b) {
                    after.entry(b).or_default().0 += 1;
                }
                if is_punct(a) && b.is_alphabetic() {
                    before.entry(a).or_default().0 += 1;
                }
                if a.is_ascii_digit() {
                    let joined: Vec<char> = cs.iter().copied().chain(next.form.chars().take(2)).collect();
                    if digit_then_final_mark(&joined, cs.len()) {
                        digit.entry(b).or_default().0 += 1;
                    }
                }
            }
        }
        let always = |m: BTreeMap<char, (usize, usize)>| -> String {
            m.into_iter().filter(|&(_, (split, inside))| split >= 10 && inside * 500 <= split + inside).map(|(c, _)| c).collect()
        };
        PunctSplits { after_letter: always(after), before_letter: always(before), after_digit: always(digit) }
    }

    /// Adds a token end at every unit end that falls between a letter and a mark of
    /// `after_letter`, between a mark of `before_letter` and a letter, or between a digit
    /// and a mark of `after_digit` with nothing alphanumeric after it, where the model
    /// put none (other labels are kept).
    pub fn apply(&self, text: &str, units: &Units, labels: &[u8]) -> Vec<u8> {
        let mut out = labels.to_vec();
        if self.after_letter.is_empty() && self.before_letter.is_empty() && self.after_digit.is_empty() {
            return out;
        }
        let chars: Vec<char> = text.chars().collect();
        for (i, &(_, e)) in units.spans.iter().enumerate() {
            if out.get(i) != Some(&INSIDE) || !units.labelled.get(i).copied().unwrap_or(false) || e == 0 || e >= chars.len() {
                continue;
            }
            let (a, b) = (chars[e - 1], chars[e]);
            if (a.is_alphabetic() && self.after_letter.contains(b))
                || (b.is_alphabetic() && self.before_letter.contains(a))
                || (self.after_digit.contains(b) && digit_then_final_mark(&chars, e))
            {
                out[i] = TOKEN;
            }
        }
        out
    }
}

/// The shape of a whitespace-delimited chunk of text: each run of digits becomes `0`,
/// each run of letters `A` (when it starts with a capital) or `a`; other characters stay
/// ("(12)" → "(0)", "3-4-2009" → "0-0-0", "§7a." → "§0a.").
pub fn chunk_shape(chunk: &str) -> String {
    let mut out = String::new();
    let mut last: Option<char> = None;
    for c in chunk.chars() {
        let class = if c.is_numeric() {
            Some('0')
        } else if c.is_alphabetic() {
            Some(if c.is_uppercase() { 'A' } else { 'a' })
        } else {
            None
        };
        match class {
            // A run goes on: digits after digits, letters after letters (of any case).
            Some(k) if last.is_some_and(|l| (l == '0') == (k == '0')) => {}
            Some(k) => {
                out.push(k);
                last = Some(k);
            }
            None => {
                out.push(c);
                last = None;
            }
        }
    }
    out
}

/// The shape of the chunk of `chars` from `start` to the next whitespace (or the end).
fn chunk_shape_at(chars: &[char], start: usize) -> String {
    let end = chars[start..].iter().position(|c| c.is_whitespace()).map_or(chars.len(), |k| start + k);
    chunk_shape(&chars[start..end].iter().collect::<String>())
}

/// Where a chunk that does not start with a letter follows a letter or digit and
/// whitespace inside a paragraph — a heading without final punctuation before "(1) …",
/// a list item "- …", a dateline "12-3-2009 …" — the shapes ([`chunk_shape`]) of those
/// chunks that the training text starts a sentence with every time (at least 10 times,
/// against at most one in 50 inside a sentence), sorted. [`apply_sentence_starts`] adds
/// a sentence end before them where the model put none.
pub fn sentence_starts(doc: &Document) -> Vec<String> {
    use std::collections::BTreeMap;
    // shape -> (sentence starts, inside a sentence)
    let mut seen: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for p in paragraphs(doc) {
        let chars: Vec<char> = p.text.chars().collect();
        for w in p.tokens.windows(2) {
            let (prev, t) = (w[0], w[1]);
            if prev.end >= t.start || !chars[prev.end..t.start].iter().all(|c| c.is_whitespace()) {
                continue;
            }
            if !chars[prev.end - 1].is_alphanumeric() || chars[t.start].is_alphabetic() {
                continue;
            }
            let e = seen.entry(chunk_shape_at(&chars, t.start)).or_default();
            if prev.sentence_end {
                e.0 += 1;
            } else {
                e.1 += 1;
            }
        }
    }
    seen.into_iter().filter(|&(_, (starts, inside))| starts >= 10 && inside * 50 <= starts + inside).map(|(s, _)| s).collect()
}

/// Makes every labelled unit that ends in a letter or digit followed by whitespace and a
/// chunk of one of `shapes` ([`sentence_starts`]) a sentence end (other labels kept).
pub fn apply_sentence_starts(shapes: &[String], text: &str, units: &Units, labels: &[u8]) -> Vec<u8> {
    let mut out = labels.to_vec();
    if shapes.is_empty() {
        return out;
    }
    let chars: Vec<char> = text.chars().collect();
    for (i, &(_, e)) in units.spans.iter().enumerate() {
        if !units.labelled.get(i).copied().unwrap_or(false) || e == 0 || e >= chars.len() || !chars[e - 1].is_alphanumeric() {
            continue;
        }
        let start = e + chars[e..].iter().take_while(|c| c.is_whitespace()).count();
        if start == e || start == chars.len() || chars[start].is_alphabetic() {
            continue;
        }
        if shapes.contains(&chunk_shape_at(&chars, start)) {
            if let Some(l) = out.get_mut(i) {
                *l = if is_mwt(*l) { MWT_SENTENCE } else { SENTENCE };
            }
        }
    }
    out
}

/// Connector and dash punctuation (Unicode `Pc` and `Pd`): the characters that join the
/// parts of one word or reference (`§_7_odst._2`, `well-known`) and may be
/// [`joiners`]. Other punctuation is left out: whether a treebank's raw text puts a space
/// before `.` or `:` says nothing of the text a user brings.
const JOINER_CANDIDATES: &str = "_\u{203F}\u{2040}\u{2054}\u{FE33}\u{FE34}\u{FE4D}\u{FE4E}\u{FE4F}\u{FF3F}\
-\u{058A}\u{05BE}\u{1400}\u{1806}\u{2010}\u{2011}\u{2012}\u{2013}\u{2014}\u{2015}\u{2E17}\u{2E1A}\u{2E3A}\u{2E3B}\
\u{2E40}\u{301C}\u{3030}\u{30A0}\u{FE31}\u{FE32}\u{FE58}\u{FE63}\u{FF0D}";

/// For each whitespace-free chunk of `chars` and each character of `set` in it, the
/// token-end positions the character holds together: from its first occurrence in the
/// chunk to just after its last, the chunk's own edges left out. `true` at those
/// positions (`0..=chars.len()`).
fn joined_positions(chars: &[char], set: &str) -> Vec<bool> {
    let mut out = vec![false; chars.len() + 1];
    for (a, b) in chunk_spans(chars) {
        for c in set.chars() {
            let (Some(f), Some(l)) = (chars[a..b].iter().position(|&x| x == c), chars[a..b].iter().rposition(|&x| x == c)) else { continue };
            for p in (a + f).max(a + 1)..=(a + l + 1).min(b - 1) {
                out[p] = true;
            }
        }
    }
    out
}

/// The `(start, end)` character spans of the whitespace-free chunks of `chars`.
fn chunk_spans(chars: &[char]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut a = 0;
    while a < chars.len() {
        if chars[a].is_whitespace() {
            a += 1;
            continue;
        }
        let b = chars[a..].iter().position(|c| c.is_whitespace()).map_or(chars.len(), |k| a + k);
        out.push((a, b));
        a = b;
    }
    out
}

/// The connector and dash marks (`_`, `-`, `–`, …) that the training text never splits a
/// token next to or between inside a whitespace-free chunk: at least 10 chunks hold the
/// mark, at most one in 500 of them has a token end from its first occurrence to just
/// after its last (Czech-CLTT `_` in `§_7_odst._2_písm._a)`, English-LinES `-`).
/// [`apply_joiners`] drops the model's token ends there.
pub fn joiners(doc: &Document) -> String {
    // Each paragraph's characters, token ends and chunks, built once for all candidates.
    let paras: Vec<(Vec<char>, Vec<bool>, Vec<(usize, usize)>)> = paragraphs(doc)
        .into_iter()
        .map(|p| {
            let chars: Vec<char> = p.text.chars().collect();
            let mut ends = vec![false; chars.len() + 1];
            for t in &p.tokens {
                ends[t.end] = true;
            }
            let spans = chunk_spans(&chars);
            (chars, ends, spans)
        })
        .collect();
    let mut out = String::new();
    for c in JOINER_CANDIDATES.chars() {
        let (mut chunks, mut split) = (0usize, 0usize);
        for (chars, ends, spans) in &paras {
            if !chars.contains(&c) {
                continue;
            }
            let joined = joined_positions(chars, &c.to_string());
            for &(a, b) in spans {
                if chars[a..b].contains(&c) {
                    chunks += 1;
                    split += usize::from((a + 1..b).any(|q| joined[q] && ends[q]));
                }
            }
        }
        if chunks >= 10 && split * 500 <= chunks {
            out.push(c);
        }
    }
    out
}

/// Drops every token end (and the sentence end with it) that the marks of `joiners`
/// ([`joiners`]) hold together; other labels are kept.
pub fn apply_joiners(joiners: &str, text: &str, units: &Units, labels: &[u8]) -> Vec<u8> {
    let mut out = labels.to_vec();
    if joiners.is_empty() {
        return out;
    }
    let chars: Vec<char> = text.chars().collect();
    let joined = joined_positions(&chars, joiners);
    for (i, &(_, e)) in units.spans.iter().enumerate() {
        if e < joined.len() && joined[e] {
            if let Some(l) = out.get_mut(i) {
                *l = INSIDE;
            }
        }
    }
    out
}
