//! Multi-word token expansion: a token the tokenize head marks as multi-word ("du",
//! "auxquels", Turkish "yoktu") becomes its syntactic words.
//!
//! Seen forms come from a lexicon of the training data (the most frequent expansion of
//! the exact form, else of the lower-cased form with the case carried over: "Du" →
//! "De le"). Unseen forms are expanded by edit rules learned from the same data: a rule
//! says "strip these final characters, append this to get the first word, then add
//! these words"; it is chosen by the longest final character sequence of the form seen
//! with a rule in training (at most [`MAX_CONTEXT`] characters before the part it
//! rewrites), the most frequent rule for that ending winning.
//!
//! Whether a token is multi-word at all is the tokenize head's decision; for forms the
//! training data has both ways (French "des": "de les" or the article) the package may
//! also hold [`Mwt::context`], the training data's majority decision after a given
//! previous token ("ensemble des" → "de les", "a des" → one word), which overrides the
//! head where that pair was seen often and nearly always one way ([`Mwt::add_decisions`]).

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use tatra_core::Document;

/// Characters of context kept before the rewritten ending of a rule's key.
pub const MAX_CONTEXT: usize = 3;

/// An edit rule: strip `strip` final characters, append `append` → first word; then `rest`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Rule {
    pub strip: usize,
    pub append: String,
    pub rest: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Mwt {
    /// Exact form → words.
    pub exact: BTreeMap<String, Vec<String>>,
    /// Lower-cased form → lower-cased words.
    pub lower: BTreeMap<String, Vec<String>>,
    /// Lower-cased ending → rule.
    pub rules: BTreeMap<String, Rule>,
    /// Decisions from the training data that override the tokenize head: the key is the
    /// lower-cased previous token, [`CONTEXT_SEP`], the lower-cased form (the previous
    /// token empty: any context, for forms always multi-word in training); the value
    /// says whether the token is multi-word. Empty in packages without them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub context: BTreeMap<String, bool>,
}

/// Separates the previous token from the form in the keys of [`Mwt::context`].
pub const CONTEXT_SEP: char = '\u{1}';

fn context_key(prev: &str, form: &str) -> String {
    format!("{}{CONTEXT_SEP}{}", prev.to_lowercase(), form.to_lowercase())
}

fn most_frequent<K: Ord + Clone, V: Ord + Clone + std::hash::Hash + Eq>(m: HashMap<K, HashMap<V, usize>>) -> BTreeMap<K, V> {
    m.into_iter()
        .filter_map(|(k, c)| {
            // Highest count; ties broken by the smallest value, for a deterministic result.
            let best = c.into_iter().max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(&a.0)))?;
            Some((k, best.0))
        })
        .collect()
}

fn rule_of(form: &str, words: &[String]) -> Option<Rule> {
    let f: Vec<char> = form.chars().collect();
    let w1: Vec<char> = words.first()?.chars().collect();
    let p = f.iter().zip(&w1).take_while(|(a, b)| a == b).count();
    Some(Rule {
        strip: f.len() - p,
        append: w1[p..].iter().collect(),
        rest: words[1..].to_vec(),
    })
}

impl Mwt {
    /// Learns the lexicon and rules from the multi-word tokens of a treebank.
    pub fn build(doc: &Document) -> Self {
        let mut exact: HashMap<String, HashMap<Vec<String>, usize>> = HashMap::new();
        let mut lower: HashMap<String, HashMap<Vec<String>, usize>> = HashMap::new();
        let mut rules: HashMap<String, HashMap<Rule, usize>> = HashMap::new();
        for t in doc.sentences.iter().flat_map(|s| &s.tokens).filter(|t| t.is_mwt()) {
            let words: Vec<String> = t.words.iter().map(|w| w.form.clone()).collect();
            *exact.entry(t.form.clone()).or_default().entry(words.clone()).or_default() += 1;
            let lf = t.form.to_lowercase();
            let lw: Vec<String> = words.iter().map(|w| w.to_lowercase()).collect();
            *lower.entry(lf.clone()).or_default().entry(lw.clone()).or_default() += 1;
            if let Some(r) = rule_of(&lf, &lw) {
                let chars: Vec<char> = lf.chars().collect();
                for ctx in 0..=MAX_CONTEXT {
                    let len = r.strip + ctx;
                    if len == 0 || len > chars.len() {
                        continue;
                    }
                    let key: String = chars[chars.len() - len..].iter().collect();
                    *rules.entry(key).or_default().entry(r.clone()).or_default() += 1;
                }
            }
        }
        Mwt {
            exact: most_frequent(exact),
            lower: most_frequent(lower),
            rules: most_frequent(rules),
            context: BTreeMap::new(),
        }
    }

    /// Learns [`Mwt::context`] from a treebank: for each form that is multi-word in some
    /// of its occurrences and one word in others, the pairs (previous token of the
    /// sentence, form) seen at least `min_count` times and one way in at least `purity`
    /// of them; and forms seen at least `min_count` times, always multi-word. Replaces
    /// what was there.
    pub fn add_decisions(&mut self, doc: &Document, min_count: usize, purity: f64) {
        let mut by_form: HashMap<String, (usize, usize)> = HashMap::new();
        for t in doc.sentences.iter().flat_map(|s| &s.tokens) {
            let e = by_form.entry(t.form.to_lowercase()).or_default();
            e.0 += 1;
            e.1 += usize::from(t.is_mwt());
        }
        let mut pairs: HashMap<String, (usize, usize)> = HashMap::new();
        for s in &doc.sentences {
            for (i, t) in s.tokens.iter().enumerate() {
                let (n, m) = by_form.get(&t.form.to_lowercase()).copied().unwrap_or_default();
                if m == 0 || m == n || i == 0 {
                    continue;
                }
                let e = pairs.entry(context_key(&s.tokens[i - 1].form, &t.form)).or_default();
                e.0 += 1;
                e.1 += usize::from(t.is_mwt());
            }
        }
        let min_count = min_count.max(1);
        let mut context = BTreeMap::new();
        for (form, (n, m)) in by_form {
            if n >= min_count && m == n {
                context.insert(context_key("", &form), true);
            }
        }
        for (key, (n, m)) in pairs {
            if n < min_count {
                continue;
            }
            let share = m as f64 / n as f64;
            if share >= purity {
                context.insert(key, true);
            } else if share <= 1.0 - purity {
                context.insert(key, false);
            }
        }
        self.context = context;
    }

    /// Whether a token is multi-word: the training data's decision for this form after
    /// `prev` (the previous token of the paragraph) where [`Mwt::context`] has one, else
    /// the tokenize head's `predicted`.
    pub fn decide(&self, prev: Option<&str>, form: &str, predicted: bool) -> bool {
        if self.context.is_empty() {
            return predicted;
        }
        if let Some(&d) = self.context.get(&context_key("", form)) {
            return d;
        }
        match prev.and_then(|p| self.context.get(&context_key(p, form))) {
            Some(&d) => d,
            None => predicted,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.exact.is_empty()
    }

    /// The words of a multi-word token, or `None` when nothing applies (the token then
    /// stays one word).
    pub fn expand(&self, form: &str) -> Option<Vec<String>> {
        if let Some(w) = self.exact.get(form) {
            return Some(w.clone());
        }
        let lf = form.to_lowercase();
        let words = match self.lower.get(&lf) {
            Some(w) => w.clone(),
            None => self.by_rule(&lf)?,
        };
        Some(restore_case(form, words))
    }

    fn by_rule(&self, lf: &str) -> Option<Vec<String>> {
        let chars: Vec<char> = lf.chars().collect();
        for len in (1..=chars.len()).rev() {
            let key: String = chars[chars.len() - len..].iter().collect();
            if let Some(r) = self.rules.get(&key) {
                if r.strip > chars.len() || (r.strip == chars.len() && r.append.is_empty()) {
                    continue;
                }
                let mut first: String = chars[..chars.len() - r.strip].iter().collect();
                first.push_str(&r.append);
                let mut words = vec![first];
                words.extend(r.rest.iter().cloned());
                if words.iter().any(String::is_empty) {
                    continue;
                }
                return Some(words);
            }
        }
        None
    }
}

/// How well the expander does on the multi-word tokens of a gold document (gold
/// tokenization): `(seen, seen correct, unseen, unseen correct)`, where "seen" forms are
/// in the lexicon (exactly or lower-cased) and "unseen" ones go to the rules.
pub fn expansion_accuracy(m: &Mwt, gold: &Document) -> (usize, usize, usize, usize) {
    let (mut seen, mut seen_ok, mut unseen, mut unseen_ok) = (0, 0, 0, 0);
    for t in gold.sentences.iter().flat_map(|s| &s.tokens).filter(|t| t.is_mwt()) {
        let want: Vec<String> = t.words.iter().map(|w| w.form.clone()).collect();
        let ok = m.expand(&t.form).as_ref() == Some(&want);
        if m.exact.contains_key(&t.form) || m.lower.contains_key(&t.form.to_lowercase()) {
            seen += 1;
            seen_ok += usize::from(ok);
        } else {
            unseen += 1;
            unseen_ok += usize::from(ok);
        }
    }
    (seen, seen_ok, unseen, unseen_ok)
}

/// Carries the case of a form over to lower-cased words: all capitals stay all
/// capitals ("DU" → "DE LE"), a capital initial stays on the first word ("Du" → "De le").
pub fn restore_case(form: &str, mut words: Vec<String>) -> Vec<String> {
    let has_upper = form.chars().any(char::is_uppercase);
    if !has_upper {
        return words;
    }
    let cased: Vec<char> = form.chars().filter(|c| c.is_uppercase() || c.is_lowercase()).collect();
    if cased.len() > 1 && cased.iter().all(|c| c.is_uppercase()) {
        return words.into_iter().map(|w| w.to_uppercase()).collect();
    }
    if form.chars().next().is_some_and(char::is_uppercase) {
        if let Some(w) = words.first_mut() {
            let mut c = w.chars();
            if let Some(f) = c.next() {
                *w = f.to_uppercase().chain(c).collect();
            }
        }
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(mwts: &[(&str, &[&str])]) -> Document {
        let mut text = String::new();
        let mut id = 1;
        for (form, words) in mwts {
            text.push_str(&format!("{}-{}\t{form}\t_\t_\t_\t_\t_\t_\t_\t_\n", id, id + words.len() - 1));
            for w in *words {
                let head = if id == 1 { 0 } else { 1 };
                let rel = if id == 1 { "root" } else { "dep" };
                text.push_str(&format!("{id}\t{w}\t_\tX\t_\t_\t{head}\t{rel}\t_\t_\n"));
                id += 1;
            }
        }
        text.push('\n');
        match tatra_core::conllu::read_str(&text, "t") {
            Ok(d) => d,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn lexicon_then_rules_with_case() {
        let m = Mwt::build(&doc(&[
            ("du", &["de", "le"]),
            ("du", &["de", "le"]),
            ("auquel", &["à", "lequel"]),
            ("varmış", &["var", "mış"]),
        ]));
        assert_eq!(m.expand("du"), Some(vec!["de".into(), "le".into()]));
        assert_eq!(m.expand("Du"), Some(vec!["De".into(), "le".into()]));
        assert_eq!(m.expand("DU"), Some(vec!["DE".into(), "LE".into()]));
        // Unseen: the rule learned from "varmış" (strip "mış", then "mış").
        assert_eq!(m.expand("yokmış"), Some(vec!["yok".into(), "mış".into()]));
        assert_eq!(m.expand("xyz"), None);
    }

    #[test]
    fn decisions_from_context() {
        let mut m = Mwt::build(&doc(&[("au", &["à", "le"])]));
        let text = "1\tensemble\t_\tX\t_\t_\t0\troot\t_\t_\n2-3\tdes\t_\t_\t_\t_\t_\t_\t_\t_\n2\tde\t_\tX\t_\t_\t1\tdep\t_\t_\n3\tles\t_\tX\t_\t_\t1\tdep\t_\t_\n\n\
                    1\ta\t_\tX\t_\t_\t0\troot\t_\t_\n2\tdes\t_\tX\t_\t_\t1\tdep\t_\t_\n\n\
                    1-2\tau\t_\t_\t_\t_\t_\t_\t_\t_\n1\tà\t_\tX\t_\t_\t0\troot\t_\t_\n2\tle\t_\tX\t_\t_\t1\tdep\t_\t_\n\n";
        let d = match tatra_core::conllu::read_str(text, "t") {
            Ok(d) => d,
            Err(e) => panic!("{e}"),
        };
        m.add_decisions(&d, 1, 0.95);
        // Seen pairs decide, whatever the head said; unseen ones keep the head's call.
        assert!(m.decide(Some("Ensemble"), "des", false));
        assert!(!m.decide(Some("a"), "des", true));
        assert!(m.decide(Some("vu"), "des", true));
        assert!(!m.decide(Some("vu"), "des", false));
        // Always multi-word in training: any context.
        assert!(m.decide(None, "Au", false));
        // Without decisions the head decides.
        assert!(!Mwt::default().decide(Some("ensemble"), "des", false));
    }
}
