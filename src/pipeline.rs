//! The pipeline: raw text, pretokenized text or CoNLL-U in, an annotated [`Document`]
//! out, for one or several languages over one shared encoder.
//!
//! ```no_run
//! let p = tatra::Pipeline::new("slovak")?;
//! let doc = p.annotate("Dobrý deň. Ako sa máte?")?;
//! print!("{}", tatra::core::conllu::to_string(&doc));
//! # Ok::<(), tatra::pipeline::PipelineError>(())
//! ```
//!
//! A [`Pipeline`] is `Send + Sync`: share one between threads (each adapter is loaded
//! once). Several languages: `Pipeline::builder().language("slovak").language("french")
//! .build()?`, then [`Pipeline::annotate_in`] picks the language per call.

use std::path::PathBuf;

use tatra_core::{Document, Sentence, Token, Word};
use tatra_encoder::Encoder;
use tatra_encoder::device::DeviceChoice;
use tatra_posdep::run::Posdep;
use tatra_tokenize::Tokenize;

use crate::langs;

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("unknown language '{name}'; available: {available}")]
    UnknownLanguage { name: String, available: String },
    #[error("no {stage} model for {treebank}: looked for {treebank}/{stage}.zip in {looked_in}; train one with `tatra train {stage}` or point TATRA_MODELS at a folder that has it")]
    MissingModel { treebank: String, stage: String, looked_in: String },
    #[error("no encoder package: looked for encoder/multilingual-e5-small in {looked_in}; a clone of the repository has it under models/ (or set TATRA_MODELS)")]
    MissingEncoder { looked_in: String },
    #[error("loading the encoder from {path}: {source}")]
    Encoder { path: PathBuf, source: tatra_encoder::EncoderError },
    /// A stage's model (tokenize, posdep, NER) failed to load or run.
    #[error(transparent)]
    Model(#[from] tatra_adapters::package::StageError),
    #[error(transparent)]
    Conllu(#[from] tatra_core::ConlluError),
    #[error("{0}")]
    Device(String),
    #[error("no language given: add one with Pipeline::builder().language(\"slovak\"); available: {0}")]
    NoLanguage(String),
    #[error("language '{0}' is not loaded in this pipeline; it has: {1}")]
    NotLoaded(String, String),
}

/// Which stages run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stages {
    /// Sentence splitting, tokenization and multi-word tokens (raw text only).
    pub tokenize: bool,
    /// UPOS, XPOS, UFeats, lemmas and dependency trees.
    pub posdep: bool,
    /// Named entities, where the language has a NER package (optional: languages
    /// without one simply get no entities).
    pub ner: bool,
}

impl Default for Stages {
    fn default() -> Self {
        Stages { tokenize: true, posdep: true, ner: true }
    }
}

/// The models of one language.
pub struct Language {
    /// Treebank code (`sk_snk`).
    pub treebank: &'static str,
    pub tokenize: Option<Tokenize>,
    pub posdep: Option<Posdep>,
    pub ner: Option<tatra_ner::Ner>,
}

/// A loaded pipeline.
pub struct Pipeline {
    pub encoder: Encoder,
    pub languages: Vec<Language>,
    /// The language identifier for [`Pipeline::annotate_auto`] (`models/langid.json`).
    pub langid: Option<crate::langid::LangId>,
}

/// Builds a [`Pipeline`].
#[derive(Debug, Clone, Default)]
pub struct PipelineBuilder {
    languages: Vec<String>,
    device: Option<DeviceChoice>,
    stages: Stages,
    encoder: Option<PathBuf>,
    packages: Vec<(String, PathBuf)>,
}

/// The shipped languages, as an error message lists them.
pub fn available() -> String {
    langs::LANGUAGES.iter().map(|(c, n, i, _)| format!("{} ({c}, {i})", n[0])).collect::<Vec<_>>().join(", ")
}

fn dirs_list() -> String {
    langs::model_dirs().iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", ")
}

impl PipelineBuilder {
    /// Adds a language: trankit-style name, treebank code or ISO code.
    pub fn language(mut self, name: &str) -> Self {
        self.languages.push(name.to_string());
        self
    }

    /// cpu, gpu or auto (default: `$TATRA_DEVICE`, else cpu).
    pub fn device(mut self, d: DeviceChoice) -> Self {
        self.device = Some(d);
        self
    }

    pub fn stages(mut self, s: Stages) -> Self {
        self.stages = s;
        self
    }

    /// An encoder package or HuggingFace folder instead of the embedded one.
    pub fn encoder(mut self, dir: impl Into<PathBuf>) -> Self {
        self.encoder = Some(dir.into());
        self
    }

    /// A package file to use for a stage ("tokenize", "posdep") of the first language
    /// instead of the shipped one.
    pub fn package(mut self, stage: &str, path: impl Into<PathBuf>) -> Self {
        self.packages.push((stage.to_string(), path.into()));
        self
    }

    pub fn build(self) -> Result<Pipeline, PipelineError> {
        let mut codes = Vec::new();
        for name in &self.languages {
            let code = langs::resolve(name).ok_or_else(|| PipelineError::UnknownLanguage { name: name.clone(), available: available() })?;
            codes.push(code);
        }
        if codes.is_empty() {
            return Err(PipelineError::NoLanguage(available()));
        }
        let choice = match self.device {
            Some(d) => d,
            None => DeviceChoice::from_env().map_err(|e| PipelineError::Device(e.to_string()))?,
        };
        let device = tatra_encoder::device::select(choice).map_err(|e| PipelineError::Device(e.to_string()))?;
        let enc_dir = match self.encoder.clone().or_else(langs::encoder_dir) {
            Some(d) => d,
            None => return Err(PipelineError::MissingEncoder { looked_in: dirs_list() }),
        };
        let encoder = Encoder::load(&enc_dir, &device).map_err(|source| PipelineError::Encoder { path: enc_dir.clone(), source })?;
        let mut languages = Vec::new();
        for (k, code) in codes.into_iter().enumerate() {
            let find = |stage: &str| -> Result<PathBuf, PipelineError> {
                if k == 0 {
                    if let Some((_, p)) = self.packages.iter().find(|(s, _)| s == stage) {
                        return Ok(p.clone());
                    }
                }
                langs::find_package(code, stage).ok_or_else(|| PipelineError::MissingModel {
                    treebank: code.to_string(),
                    stage: stage.to_string(),
                    looked_in: dirs_list(),
                })
            };
            let tokenize = if self.stages.tokenize { Some(Tokenize::load(&find("tokenize")?, &encoder)?) } else { None };
            let posdep = if self.stages.posdep { Some(Posdep::load(&find("posdep")?, &encoder)?) } else { None };
            let ner = match (self.stages.ner, find("ner")) {
                (true, Ok(p)) => Some(tatra_ner::Ner::load(&p, &encoder)?),
                _ => None,
            };
            languages.push(Language { treebank: code, tokenize, posdep, ner });
        }
        let langid = if languages.len() > 1 { crate::langid::LangId::shipped() } else { None };
        Ok(Pipeline { encoder, languages, langid })
    }
}

/// Options of one annotation call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Input {
    /// Raw text; a blank line separates paragraphs.
    #[default]
    Raw,
    /// One sentence per line, tokens separated by spaces.
    Pretokenized,
    /// CoNLL-U: its sentences, tokens and words are kept.
    Conllu,
}

impl Pipeline {
    /// A pipeline for one language with every stage, on `$TATRA_DEVICE` (default CPU).
    pub fn new(language: &str) -> Result<Self, PipelineError> {
        Self::builder().language(language).build()
    }

    pub fn builder() -> PipelineBuilder {
        PipelineBuilder::default()
    }

    fn lang(&self, name: Option<&str>) -> Result<&Language, PipelineError> {
        let loaded = || self.languages.iter().map(|l| l.treebank).collect::<Vec<_>>().join(", ");
        match name {
            None => self.languages.first().ok_or_else(|| PipelineError::NotLoaded(String::new(), loaded())),
            Some(n) => {
                let code = langs::resolve(n).ok_or_else(|| PipelineError::UnknownLanguage { name: n.to_string(), available: available() })?;
                self.languages.iter().find(|l| l.treebank == code).ok_or_else(|| PipelineError::NotLoaded(n.to_string(), loaded()))
            }
        }
    }

    /// Annotates raw text with the first language.
    pub fn annotate(&self, text: &str) -> Result<Document, PipelineError> {
        self.annotate_as(None, text, Input::Raw, 1)
    }

    /// Annotates raw text in the given language (one of the pipeline's).
    pub fn annotate_in(&self, language: &str, text: &str) -> Result<Document, PipelineError> {
        self.annotate_as(Some(language), text, Input::Raw, 1)
    }

    /// The loaded language a text is most likely in (the first one when the pipeline has
    /// one language or no identifier).
    pub fn detect(&self, text: &str) -> &'static str {
        let codes = self.languages();
        let found = self.langid.as_ref().and_then(|l| l.detect(text, &codes));
        codes.iter().find(|c| Some(**c) == found.as_deref()).or(codes.first()).copied().unwrap_or("")
    }

    /// Annotates raw text in the language [`Pipeline::detect`] finds for it.
    pub fn annotate_auto(&self, text: &str) -> Result<Document, PipelineError> {
        let lang = self.detect(text);
        self.annotate_as(Some(lang), text, Input::Raw, 1)
    }

    /// Annotates pretokenized text: one sentence per line, tokens separated by spaces.
    pub fn annotate_pretokenized(&self, text: &str) -> Result<Document, PipelineError> {
        self.annotate_as(None, text, Input::Pretokenized, 1)
    }

    /// Annotates CoNLL-U, keeping its sentences, tokens and words.
    pub fn annotate_conllu(&self, conllu: &str) -> Result<Document, PipelineError> {
        self.annotate_as(None, conllu, Input::Conllu, 1)
    }

    /// The general entry point: `language` (None: the first), the input kind, and the
    /// number of the first sentence (`# sent_id`) for raw and pretokenized input.
    pub fn annotate_as(&self, language: Option<&str>, text: &str, input: Input, first_sent_id: usize) -> Result<Document, PipelineError> {
        let lang = self.lang(language)?;
        let mut doc = match input {
            Input::Raw => match &lang.tokenize {
                Some(t) => t.document(&self.encoder, text, first_sent_id)?,
                None => {
                    return Err(PipelineError::MissingModel {
                        treebank: lang.treebank.to_string(),
                        stage: "tokenize".into(),
                        looked_in: "this pipeline (built without the tokenize stage)".into(),
                    });
                }
            },
            Input::Pretokenized => pretokenized(text, first_sent_id),
            Input::Conllu => tatra_core::conllu::read_str(text, "<input>")?,
        };
        self.annotate_document(lang, &mut doc)?;
        Ok(doc)
    }

    /// Runs the stages after tokenization on a document's sentences.
    pub fn annotate_document(&self, lang: &Language, doc: &mut Document) -> Result<(), PipelineError> {
        // Posdep reads words and NER tokens: where they are the same forms (no multi-word
        // token), the encoder layers below the lower of the two stages' first adapted
        // layers run once for both, and the stage whose adapters start higher runs the
        // frozen layers in between from those states (shipped packages: posdep's adapters
        // start at layer 3, NER's at 7, so layers 1-2 are shared).
        // A NER model with document context reads each sentence with its neighbours, so its
        // lower states are not posdep's: it runs on its own, over the whole document.
        if let (Some(p), Some(n)) = (&lang.posdep, &lang.ner)
            && n.config.context == 0
        {
            let enc = &self.encoder;
            let (p_from, n_from) = (p.first_layer(enc), n.first_layer(enc));
            let upto = p_from.min(n_from);
            // Sentences with a multi-word token run each stage on its own; the others are
            // taken out of the document (in order), annotated in shared chunks, put back.
            let (mwt, plain): (Vec<usize>, Vec<usize>) =
                (0..doc.sentences.len()).partition(|&i| doc.sentences[i].tokens.iter().any(|t| t.is_mwt()));
            let mut take = |idx: &[usize]| idx.iter().map(|&i| std::mem::take(&mut doc.sentences[i])).collect::<Vec<_>>();
            let (mut with_mwt, mut shared) = (take(&mwt), take(&plain));
            let mut run = || -> Result<(), PipelineError> {
                for chunk in with_mwt.chunks_mut(256) {
                    p.annotate(enc, chunk)?;
                    n.annotate(enc, chunk)?;
                }
                for chunk in shared.chunks_mut(256) {
                    let (lay, lower) = tatra_posdep::run::lower_states(enc, chunk, upto)?;
                    let extend = |to: usize| (to > upto).then(|| tatra_adapters::extend_lower(enc, &lower, upto, to));
                    let p_lower = extend(p_from);
                    p.annotate_lower(enc, chunk, &lay, p_lower.as_deref().unwrap_or(&lower));
                    drop(p_lower);
                    let n_lower = extend(n_from);
                    n.annotate_lower(enc, chunk, &lay, n_lower.as_deref().unwrap_or(&lower));
                }
                Ok(())
            };
            let result = run();
            for (i, s) in mwt.into_iter().zip(with_mwt).chain(plain.into_iter().zip(shared)) {
                doc.sentences[i] = s;
            }
            return result;
        }
        if let Some(p) = &lang.posdep {
            for chunk in doc.sentences.chunks_mut(256) {
                p.annotate(&self.encoder, chunk)?;
            }
        }
        if let Some(n) = &lang.ner {
            if n.config.context > 0 {
                n.annotate(&self.encoder, &mut doc.sentences)?;
            } else {
                for chunk in doc.sentences.chunks_mut(256) {
                    n.annotate(&self.encoder, chunk)?;
                }
            }
        }
        Ok(())
    }

    /// Treebank codes of the loaded languages, in the order they were added.
    pub fn languages(&self) -> Vec<&'static str> {
        self.languages.iter().map(|l| l.treebank).collect()
    }
}

/// Sentences from pretokenized text: one per non-blank line, tokens split at whitespace.
pub fn pretokenized(text: &str, first_sent_id: usize) -> Document {
    let mut doc = Document::default();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let mut s = Sentence::default();
        for (i, form) in line.split_whitespace().enumerate() {
            s.tokens.push(Token::single(Word::new(i + 1, form)));
        }
        s.comments.push(format!("# sent_id = {}", first_sent_id + doc.sentences.len()));
        s.comments.push(format!("# text = {}", line.split_whitespace().collect::<Vec<_>>().join(" ")));
        doc.sentences.push(s);
    }
    doc
}

fn word_json(w: &Word) -> serde_json::Value {
    let mut v = serde_json::json!({"id": w.id, "text": w.form});
    for (k, val) in [("lemma", &w.lemma), ("upos", &w.upos), ("xpos", &w.xpos), ("feats", &w.feats), ("deprel", &w.deprel), ("misc", &w.misc)] {
        if val != tatra_core::UNSPECIFIED {
            v[k] = serde_json::json!(val);
        }
    }
    if let Some(h) = w.head {
        v["head"] = serde_json::json!(h);
    }
    v
}

/// Sentences as JSON objects shaped like trankit's output: sentence → tokens (→
/// `expanded` words for a multi-word token), with character spans (`dspan`, shifted by
/// `char_offset`) where the text is known. Sentence ids start at `first_id`.
pub fn sentences_json(doc: &Document, first_id: usize, char_offset: usize) -> Vec<serde_json::Value> {
    doc.sentences
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let tokens: Vec<serde_json::Value> = s
                .tokens
                .iter()
                .map(|t| {
                    let mut v = if t.is_mwt() {
                        let first = t.words.first().map_or(0, |w| w.id);
                        let last = t.words.last().map_or(0, |w| w.id);
                        serde_json::json!({"id": [first, last], "text": t.form, "expanded": t.words.iter().map(word_json).collect::<Vec<_>>()})
                    } else {
                        t.words.first().map_or(serde_json::json!({"text": t.form}), word_json)
                    };
                    if let Some((a, b)) = t.span {
                        v["dspan"] = serde_json::json!([a + char_offset, b + char_offset]);
                    }
                    v
                })
                .collect();
            let mut v = serde_json::json!({"id": first_id + i, "tokens": tokens});
            if let Some(t) = s.text() {
                v["text"] = serde_json::json!(t);
            }
            if let (Some(a), Some(b)) = (s.tokens.first().and_then(|t| t.span), s.tokens.last().and_then(|t| t.span)) {
                v["dspan"] = serde_json::json!([a.0 + char_offset, b.1 + char_offset]);
            }
            if !s.entities.is_empty() {
                // trankit's shape: type, token range, character span, text.
                let ents: Vec<serde_json::Value> = s
                    .entities
                    .iter()
                    .map(|e| {
                        let toks = &s.tokens[e.start.min(s.tokens.len())..e.end.min(s.tokens.len())];
                        let text = toks.iter().enumerate().fold(String::new(), |mut acc, (i, t)| {
                            acc.push_str(&t.form);
                            if i + 1 < toks.len() && t.space_after() {
                                acc.push(' ');
                            }
                            acc
                        });
                        let mut v = serde_json::json!({"type": e.label, "start_token": e.start + 1, "end_token": e.end, "text": text});
                        if let (Some(a), Some(b)) = (toks.first().and_then(|t| t.span), toks.last().and_then(|t| t.span)) {
                            v["dspan"] = serde_json::json!([a.0 + char_offset, b.1 + char_offset]);
                        }
                        v
                    })
                    .collect();
                v["entities"] = serde_json::json!(ents);
            }
            v
        })
        .collect()
}

/// A whole document as trankit-shaped JSON: `{"text": …, "sentences": […]}`.
pub fn to_json(doc: &Document) -> serde_json::Value {
    let mut v = serde_json::json!({"sentences": sentences_json(doc, 1, 0)});
    if let Some(t) = &doc.text {
        v["text"] = serde_json::json!(t);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_model_not_found_says_where_it_was_looked_for_and_what_to_do() {
        let e = PipelineError::MissingModel { treebank: "ja_gsd".into(), stage: "posdep".into(), looked_in: dirs_list() };
        let m = e.to_string();
        assert!(m.contains("no posdep model for ja_gsd: looked for ja_gsd/posdep.zip in"), "{m}");
        assert!(m.contains("models") && m.contains("tatra train posdep") && m.contains("TATRA_MODELS"), "{m}");
    }

    fn send_sync<T: Send + Sync>() {}

    #[test]
    fn pipeline_is_send_and_sync() {
        send_sync::<Pipeline>();
    }

    #[test]
    fn pretokenized_lines() {
        let d = pretokenized("Ahoj , svet !\n\n  Druhá   veta \n", 1);
        assert_eq!(d.sentences.len(), 2);
        assert_eq!(d.sentences[0].tokens.len(), 4);
        assert_eq!(d.sentences[1].text(), Some("Druhá veta"));
        assert_eq!(d.sentences[1].sent_id(), Some("2"));
    }
}
