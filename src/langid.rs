//! A small language identifier for routing text in a multilingual pipeline: character
//! trigram profiles (Cavnar & Trenkle's rank-order statistics, with a log-probability
//! score instead of the out-of-place distance), one per shipped language, built from the
//! training text by `tatra train langid` and stored in `models/langid.json`.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// Trigrams kept per language.
pub const PROFILE_SIZE: usize = 2000;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LangId {
    /// Treebank code → trigram → log-probability.
    pub profiles: HashMap<String, HashMap<String, f32>>,
    /// Log-probability of a trigram outside a profile, per language.
    pub floor: HashMap<String, f32>,
}

/// Character trigrams of a text, lower-cased, spaces folded, padded with spaces.
pub fn trigrams(text: &str) -> impl Iterator<Item = String> + '_ {
    let mut chars: Vec<char> = vec![' '];
    let mut last_space = true;
    for c in text.chars().flat_map(char::to_lowercase) {
        let space = c.is_whitespace() || c.is_ascii_digit() || c.is_ascii_punctuation();
        if space {
            if !last_space {
                chars.push(' ');
            }
        } else {
            chars.push(c);
        }
        last_space = space;
    }
    if !last_space {
        chars.push(' ');
    }
    (0..chars.len().saturating_sub(2)).map(move |i| chars[i..i + 3].iter().collect())
}

impl LangId {
    /// Adds a language's profile from its text.
    pub fn add(&mut self, code: &str, text: &str) {
        let mut counts: HashMap<String, u64> = HashMap::new();
        for t in trigrams(text) {
            *counts.entry(t).or_default() += 1;
        }
        let total: u64 = counts.values().sum::<u64>().max(1);
        let mut v: Vec<(String, u64)> = counts.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v.truncate(PROFILE_SIZE);
        let kept: u64 = v.iter().map(|x| x.1).sum();
        let profile = v.into_iter().map(|(t, c)| (t, (c as f32 / total as f32).ln())).collect();
        self.profiles.insert(code.to_string(), profile);
        // What the profile leaves out, spread over many unseen trigrams.
        let rest = ((total - kept).max(1) as f32 / total as f32 / 10_000.0).ln();
        self.floor.insert(code.to_string(), rest);
    }

    /// The most likely of `candidates` (treebank codes; all profiles when empty).
    pub fn detect(&self, text: &str, candidates: &[&str]) -> Option<String> {
        let grams: Vec<String> = trigrams(text).collect();
        self.profiles
            .iter()
            .filter(|(code, _)| candidates.is_empty() || candidates.contains(&code.as_str()))
            .map(|(code, p)| {
                let floor = self.floor.get(code).copied().unwrap_or(-20.0);
                let score: f32 = grams.iter().map(|g| p.get(g).copied().unwrap_or(floor)).sum();
                (code, score)
            })
            .max_by(|a, b| a.1.total_cmp(&b.1).then_with(|| b.0.cmp(a.0)))
            .map(|(c, _)| c.clone())
    }

    pub fn load(path: &Path) -> Result<Self, String> {
        let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The shipped identifier (`langid.json` in the first model folder that has one).
    pub fn shipped() -> Option<Self> {
        crate::langs::model_dirs().into_iter().map(|d| d.join("langid.json")).find(|p| p.is_file()).and_then(|p| Self::load(&p).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trigrams_fold_case_spaces_and_digits() {
        let t: Vec<String> = trigrams("Ab  1c").collect();
        assert_eq!(t, vec![" ab", "ab ", "b c", " c "]);
    }

    #[test]
    fn detects_between_two_profiles() {
        let mut l = LangId::default();
        l.add("en", "the cat sat on the mat and the dog was there with the other thing");
        l.add("fr", "le chat est sur le tapis et le chien était là avec les autres choses");
        assert_eq!(l.detect("the dog and the cat", &[]).as_deref(), Some("en"));
        assert_eq!(l.detect("le chien et le chat", &[]).as_deref(), Some("fr"));
        assert_eq!(l.detect("le chien", &["en"]).as_deref(), Some("en"));
    }
}
