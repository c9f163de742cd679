//! Words of several syllables in scripts that write spaces inside words (Vietnamese:
//! `công ty`, `Bách khoa toàn thư`), or of several characters in scripts without spaces
//! (Chinese, Japanese), learned from the training data as a majority vote.
//!
//! The tokenizer decides at every gap between two syllables (characters) whether a token
//! ends there, one gap at a time; it often cuts a compound the training data always
//! writes whole, or joins two syllables it never does. [`SpaceWords`] counts, for every
//! run of 2–4 syllables of the training text joined by single spaces (2–4 characters
//! with nothing between them), how often it is one token and how often it occurs at all,
//! and keeps the runs that are one token in at least half of their occurrences (`words`)
//! and the two-syllable runs that are one token in fewer (`split`; none for characters).
//! After the model, [`SpaceWords::apply`] cuts a predicted two-syllable token of `split`
//! into its syllables, then joins, longest first, consecutive tokens that spell one of
//! `words`. Only token ends change: sentence ends and multi-word tokens stay as the
//! model put them.
//!
//! Measured (session 13), Tokens F1: UD Vietnamese-VTB dev with the shipped tokenizer
//! 89.49 → 91.33 (joins alone 90.81); Japanese-GSD, lexicon from the first 400 dev
//! sentences and the tokenizer trained on them, on the other 107: 89.53 → 90.87 with
//! joins alone, 90.38 with cuts too.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use tatra_core::Document;

use crate::data::{INSIDE, TOKEN};
use crate::units::Units;

/// Longest run of syllables looked up.
pub const MAX_SYLLABLES: usize = 4;

/// The majority-vote lexicon (see the module documentation). Strings are lowercased,
/// syllables joined by one space, sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpaceWords {
    pub words: Vec<String>,
    pub split: Vec<String>,
    /// Runs of characters with nothing between them (Chinese, Japanese) instead of
    /// syllables between single spaces.
    #[serde(default)]
    pub chars: bool,
}

impl SpaceWords {
    /// Counts the runs of the training text: syllables where tokens contain spaces,
    /// characters where the text has (almost) no spaces between tokens (Chinese,
    /// Japanese). `None` for other texts.
    pub fn from_doc(doc: &Document) -> Option<SpaceWords> {
        let chars = if crate::data::has_space_tokens(doc) {
            false
        } else if spaceless(doc) {
            true
        } else {
            return None;
        };
        let sep = if chars { "" } else { " " };
        // run -> (as one token, all occurrences)
        let mut counts: HashMap<String, (usize, usize)> = HashMap::new();
        for s in &doc.sentences {
            // Syllables (or characters) with the token they belong to, and whether the
            // next one follows with a single space (or, for characters, directly).
            let mut el: Vec<(String, usize, bool)> = Vec::new();
            for (ti, t) in s.tokens.iter().enumerate() {
                let parts: Vec<String> =
                    if chars { t.form.chars().map(|c| c.to_string()).collect() } else { t.form.split(' ').map(String::from).collect() };
                let last = parts.len().saturating_sub(1);
                let gap = crate::spaces_after(t);
                let to_next = ti + 1 < s.tokens.len() && gap == sep;
                for (k, p) in parts.into_iter().enumerate() {
                    if chars && p.trim().is_empty() {
                        continue;
                    }
                    el.push((p.to_lowercase(), ti, if k < last { true } else { to_next }));
                }
            }
            for i in 0..el.len() {
                // Whole tokens only start a run at their first element.
                let first = i == 0 || el[i - 1].1 != el[i].1;
                let mut key = el[i].0.clone();
                for n in 2..=MAX_SYLLABLES {
                    let j = i + n - 1;
                    if j >= el.len() || !el[j - 1].2 {
                        break;
                    }
                    key.push_str(sep);
                    key.push_str(&el[j].0);
                    let whole = first && el[i].1 == el[j].1 && (j + 1 == el.len() || el[j + 1].1 != el[j].1);
                    let c = counts.entry(key.clone()).or_default();
                    c.0 += usize::from(whole);
                    c.1 += 1;
                }
            }
        }
        if counts.values().all(|c| c.0 == 0) {
            return None;
        }
        let mut words: Vec<String> = counts.iter().filter(|(_, c)| c.0 > 0 && 2 * c.0 >= c.1).map(|(k, _)| k.clone()).collect();
        // Cuts only between syllables: cutting a two-character word of Japanese into its
        // characters measured worse (held-out split of Japanese-GSD dev: 89.53 -> 89.00).
        let mut split: Vec<String> =
            if chars { Vec::new() } else { counts.iter().filter(|(k, c)| 2 * c.0 < c.1 && k.matches(' ').count() == 1).map(|(k, _)| k.clone()).collect() };
        words.sort();
        split.sort();
        Some(SpaceWords { words, split, chars })
    }

    /// The unit labels with the lexicon's cuts and joins (see the module documentation).
    /// `text` is what the units were laid over; `space_tokens` as in [`crate::run::decode`].
    pub fn apply(&self, text: &str, units: &Units, labels: &[u8], space_tokens: bool) -> Vec<u8> {
        let chars: Vec<char> = text.chars().collect();
        let mut out = labels.to_vec();
        // Labelled units by the character position they end at.
        let mut ending: HashMap<usize, Vec<usize>> = HashMap::new();
        for (i, &(_, e)) in units.spans.iter().enumerate() {
            if units.labelled.get(i).copied().unwrap_or(false) {
                ending.entry(e).or_default().push(i);
            }
        }
        let set = |out: &mut Vec<u8>, e: usize, label: u8| {
            for &u in ending.get(&e).into_iter().flatten() {
                if let Some(l) = out.get_mut(u) {
                    *l = label;
                }
            }
        };
        let tokens = |out: &[u8]| {
            let at_end = crate::run::labels_at_chars(chars.len(), units, out);
            let toks: Vec<(usize, usize)> = crate::run::token_runs(&chars, &at_end, space_tokens).into_iter().map(|(s, e, _)| (s, e)).collect();
            (at_end, toks)
        };
        let key = |s: usize, e: usize| -> String { chars[s..e].iter().collect::<String>().to_lowercase() };
        let known = |list: &[String], k: &str| list.binary_search_by(|w| w.as_str().cmp(k)).is_ok();

        // Cuts: a two-syllable token the training text mostly writes as two.
        for (s, e) in tokens(&out).1 {
            let inner: Vec<usize> = (s..e).filter(|&p| chars[p] == ' ').collect();
            if inner.len() == 1 && ending.contains_key(&inner[0]) && known(&self.split, &key(s, e)) {
                set(&mut out, inner[0], TOKEN);
            }
        }
        // Joins: consecutive tokens, single spaces (or nothing) between, that spell a word.
        let (at_end, toks) = tokens(&out);
        let mut i = 0;
        while i < toks.len() {
            let mut joined = 1;
            for m in (2..=MAX_SYLLABLES.min(toks.len() - i)).rev() {
                let run = &toks[i..i + m];
                let gaps_ok = run.windows(2).all(|w| {
                    let gap_ok = if self.chars { w[1].0 == w[0].1 } else { w[1].0 == w[0].1 + 1 && chars[w[0].1] == ' ' };
                    gap_ok && at_end.get(w[0].1) == Some(&TOKEN)
                });
                if !gaps_ok {
                    continue;
                }
                let (s, e) = (run[0].0, run[m - 1].1);
                let elements = if self.chars { e - s } else { chars[s..e].iter().filter(|&&c| c == ' ').count() + 1 };
                if elements > MAX_SYLLABLES || !known(&self.words, &key(s, e)) {
                    continue;
                }
                for w in run.windows(2) {
                    set(&mut out, w[0].1, INSIDE);
                }
                joined = m;
                break;
            }
            i += joined;
        }
        out
    }
}

/// Whether the text puts whitespace after fewer than one in ten of its tokens (those
/// ending a sentence aside): a script without spaces between words.
fn spaceless(doc: &Document) -> bool {
    let (mut spaced, mut all) = (0usize, 0usize);
    for s in &doc.sentences {
        for t in s.tokens.iter().take(s.tokens.len().saturating_sub(1)) {
            all += 1;
            spaced += usize::from(t.space_after());
        }
    }
    all > 0 && spaced * 10 < all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn majority_vote_cuts_and_joins() {
        // "công ty" always one token, "đã được" always two, "cho biết" split here.
        let doc = tatra_core::conllu::read_str(
            "# text = công ty đã được cho biết\n1\tcông ty\t_\t_\t_\t_\t0\troot\t_\t_\n2\tđã\t_\t_\t_\t_\t1\tdep\t_\t_\n3\tđược\t_\t_\t_\t_\t1\tdep\t_\t_\n4\tcho\t_\t_\t_\t_\t1\tdep\t_\t_\n5\tbiết\t_\t_\t_\t_\t1\tdep\t_\t_\n\n",
            "t",
        )
        .unwrap();
        let w = SpaceWords::from_doc(&doc).unwrap();
        assert_eq!(w.words, vec!["công ty".to_string()]);
        assert!(!w.chars);
        assert!(w.split.contains(&"đã được".to_string()) && w.split.contains(&"ty đã".to_string()));
        // Units: one per syllable, each labelled; the model cut "công|ty" and joined "đã được".
        let text = "Công ty đã được";
        let spans = vec![(0, 4), (4, 7), (7, 10), (10, 15)];
        let units = Units { ids: vec![0; 4], spans, labelled: vec![true; 4] };
        let labels = vec![TOKEN, TOKEN, INSIDE, crate::data::SENTENCE];
        let fixed = w.apply(text, &units, &labels, true);
        assert_eq!(fixed, vec![INSIDE, TOKEN, TOKEN, crate::data::SENTENCE]);
    }

    #[test]
    fn characters_join_in_scripts_without_spaces() {
        let row = |i: usize, f: &str| format!("{i}\t{f}\t_\t_\t_\t_\t{}\t{}\t_\tSpaceAfter=No\n", i - 1, if i == 1 { "root" } else { "dep" });
        let text = format!("# text = 日本語です\n{}{}\n", row(1, "日本語"), row(2, "です"));
        let doc = tatra_core::conllu::read_str(&text, "t").unwrap();
        let w = SpaceWords::from_doc(&doc).unwrap();
        assert!(w.chars && w.split.is_empty());
        assert_eq!(w.words, vec!["です".to_string(), "日本語".to_string()]);
        // One unit per character; the model cut 日|本語 and で|す.
        let units = Units { ids: vec![0; 5], spans: (0..5).map(|i| (i, i + 1)).collect(), labelled: vec![true; 5] };
        let labels = vec![TOKEN, INSIDE, TOKEN, TOKEN, crate::data::SENTENCE];
        assert_eq!(w.apply("日本語です", &units, &labels, false), vec![INSIDE, INSIDE, TOKEN, INSIDE, crate::data::SENTENCE]);
        // Text with spaces between its words gets no lexicon.
        let en = tatra_core::conllu::read_str("# text = a b\n1\ta\t_\t_\t_\t_\t0\troot\t_\t_\n2\tb\t_\t_\t_\t_\t1\tdep\t_\t_\n\n", "t").unwrap();
        assert!(SpaceWords::from_doc(&en).is_none());
    }
}
