//! Training examples from CoNLL-U and the label vocabularies of a posdep model.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use tatra_core::{Document, Sentence};

use crate::lemma;

/// Labels of one output, index 0 being the unknown label.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Vocab {
    pub labels: Vec<String>,
    #[serde(skip)]
    index: HashMap<String, usize>,
}

pub const UNK: &str = "<unk>";

impl Vocab {
    /// Labels seen at least `min_count` times, most frequent first (ties by name).
    pub fn build<'a>(items: impl Iterator<Item = &'a str>, min_count: usize) -> Self {
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for i in items {
            *counts.entry(i).or_default() += 1;
        }
        let mut v: Vec<(&str, usize)> = counts.into_iter().filter(|(_, c)| *c >= min_count).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let labels = std::iter::once(UNK.to_string()).chain(v.into_iter().map(|(l, _)| l.to_string())).collect();
        Vocab::from_labels(labels)
    }

    pub fn from_labels(labels: Vec<String>) -> Self {
        let index = labels.iter().enumerate().map(|(i, l)| (l.clone(), i)).collect();
        Vocab { labels, index }
    }

    /// Rebuilds the index after deserialisation.
    pub fn reindex(&mut self) {
        self.index = self.labels.iter().enumerate().map(|(i, l)| (l.clone(), i)).collect();
    }

    pub fn id(&self, label: &str) -> usize {
        self.index.get(label).copied().unwrap_or(0)
    }

    pub fn label(&self, id: usize) -> &str {
        self.labels.get(id).map_or(UNK, String::as_str)
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
}

/// The vocabularies of every output.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Vocabs {
    pub upos: Vocab,
    pub xpos: Vocab,
    pub feats: Vocab,
    pub lemma: Vocab,
    pub deprel: Vocab,
}

impl Vocabs {
    pub fn build(doc: &Document) -> Self {
        let words = || doc.sentences.iter().flat_map(Sentence::words);
        let rules: Vec<String> = words().map(|w| lemma::rule(&w.form, &w.lemma)).collect();
        Vocabs {
            upos: Vocab::build(words().map(|w| w.upos.as_str()), 1),
            xpos: Vocab::build(words().map(|w| w.xpos.as_str()), 1),
            feats: Vocab::build(words().map(|w| w.feats.as_str()), 1),
            lemma: Vocab::build(rules.iter().map(String::as_str), 1),
            deprel: Vocab::build(words().map(|w| w.deprel.as_str()), 1),
        }
    }

    pub fn reindex(&mut self) {
        for v in [&mut self.upos, &mut self.xpos, &mut self.feats, &mut self.lemma, &mut self.deprel] {
            v.reindex();
        }
    }

    /// Whether both have the same labels in the same order (indexes aside).
    pub fn same_labels(&self, other: &Vocabs) -> bool {
        fn all(v: &Vocabs) -> [&[String]; 5] {
            [&v.upos, &v.xpos, &v.feats, &v.lemma, &v.deprel].map(|x| x.labels.as_slice())
        }
        all(self) == all(other)
    }
}

/// One sentence's words and gold label ids.
#[derive(Debug, Clone)]
pub struct Example {
    pub words: Vec<String>,
    pub upos: Vec<usize>,
    pub xpos: Vec<usize>,
    pub feats: Vec<usize>,
    pub lemma: Vec<usize>,
    pub heads: Vec<usize>,
    pub deprel: Vec<usize>,
}

pub fn examples(doc: &Document, v: &Vocabs) -> Vec<Example> {
    doc.sentences
        .iter()
        .map(|s| {
            let ws: Vec<_> = s.words().collect();
            Example {
                words: ws.iter().map(|w| w.form.clone()).collect(),
                upos: ws.iter().map(|w| v.upos.id(&w.upos)).collect(),
                xpos: ws.iter().map(|w| v.xpos.id(&w.xpos)).collect(),
                feats: ws.iter().map(|w| v.feats.id(&w.feats)).collect(),
                lemma: ws.iter().map(|w| v.lemma.id(&lemma::rule(&w.form, &w.lemma))).collect(),
                heads: ws.iter().map(|w| w.head.unwrap_or(0).min(ws.len())).collect(),
                deprel: ws.iter().map(|w| v.deprel.id(&w.deprel)).collect(),
            }
        })
        .collect()
}

/// The most frequent lemma of each (form, UPOS) pair in the training data.
pub fn lemma_lexicon(doc: &Document) -> HashMap<String, String> {
    let mut counts: HashMap<(String, String), HashMap<String, usize>> = HashMap::new();
    for w in doc.sentences.iter().flat_map(Sentence::words) {
        *counts.entry((w.form.clone(), w.upos.clone())).or_default().entry(w.lemma.clone()).or_default() += 1;
    }
    counts
        .into_iter()
        .map(|((f, u), c)| {
            let mut v: Vec<(String, usize)> = c.into_iter().collect();
            v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            (format!("{f}\t{u}"), v.swap_remove(0).0)
        })
        .collect()
}
