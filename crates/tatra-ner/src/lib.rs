//! tatra-ner owns the named-entity stage: BIO/IOB2 tagging of tokens with an adapter over
//! the shared encoder (trankit's NER on UniversalNER data).
//!
//! - [`iob2`]: UniversalNER's IOB2 files;
//! - [`spans`]: tags ↔ spans, IOB2-constrained Viterbi decoding (never an `I-X` without
//!   its `B-X`), exact-span evaluation as conlleval/seqeval;
//! - [`crf`]: a linear-chain CRF over the tag scores (`--crf`): its likelihood for
//!   training, its transitions for Viterbi;
//! - [`Ner`]: the network (adapted top layers, scalar mix, tag classifier on pieces, or
//!   token vectors through a BiLSTM then the classifier), packages,
//!   annotation of sentences (`NER=…` in MISC, [`tatra_core::Entity`] spans);
//! - [`train`]: `tatra train ner`.

pub mod crf;
pub mod iob2;
pub mod spans;
pub mod train;

use std::path::Path;

use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::tensor::Tensor;
use burn::tensor::activation::log_softmax;
use serde::{Deserialize, Serialize};
use tatra_adapters::package::{Meta, Package};
use tatra_adapters::lstm::BiLstm;
use tatra_adapters::{AdaptedTop, AdapterConfig, ScalarMix, pad_batch};
use tatra_core::{Entity, Sentence, misc_set};
use tatra_encoder::words::{Layout, Pooling, length_batches, stitch_and_pool};
use tatra_encoder::{Encoder, to_vec};

/// How tags are decoded from the per-token scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decoding {
    /// The best sequence with no `I-X` after anything but `B-X`/`I-X`.
    Viterbi,
    /// Each token's best tag on its own (then repaired: a stray `I-X` becomes `B-X`).
    Argmax,
}

/// The stage configuration stored in a package's `config.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NerConfig {
    pub adapters: AdapterConfig,
    /// Tag names, index = classifier output.
    pub tags: Vec<String>,
    pub decoding: Decoding,
    #[serde(default)]
    pub dropout: f64,
    /// A token's tag scores come from its first and its last piece (a second classifier on
    /// the last piece, added), not the first alone: the last piece carries the ending.
    #[serde(default)]
    pub first_last: bool,
    /// Width per direction of a token-level BiLSTM between token vectors (first piece, or
    /// first and last side by side) and the classifier (0: none, as in older packages,
    /// which classify pieces).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub lstm: usize,
    /// A linear-chain CRF over the BiLSTM model's tag scores ([`crf::Crf`]), trained with
    /// the sentence likelihood instead of per-token cross-entropy.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub crf: bool,
    /// The further members of a seed ensemble (`tatra train ner-ensemble`): networks of
    /// this same configuration whose tag scores (and CRF transitions) are averaged with
    /// the package's own before decoding; their weights are `member<N>.safetensors`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<Member>,
    /// Document context (as FLERT, Schweter and Akbik 2020): each sentence is read with
    /// up to this many tokens of the sentence before it and of the one after it, through
    /// the encoder and the BiLSTM, and only its own tokens are tagged (0: each sentence
    /// alone, as in older packages; BiLSTM models only). The neighbours are the
    /// sentences beside it in what is annotated together: an IOB2 file, a document or a
    /// block of `tatra annotate`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub context: usize,
}

pub use tatra_adapters::package::Member;

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl NerConfig {
    /// How piece vectors become token vectors (BiLSTM models).
    pub fn pooling(&self) -> Pooling {
        if self.first_last { Pooling::FirstLast } else { Pooling::First }
    }
}

#[derive(Module, Debug)]
pub struct NerNet {
    pub top: AdaptedTop,
    pub mix: ScalarMix,
    pub head: Linear,
    /// The last piece's classifier (`first_last` models).
    pub head_last: Option<Linear>,
    pub dropout: Dropout,
    /// Token-level BiLSTM (`lstm` models: `head` then reads token vectors and its outputs).
    pub lstm: Vec<BiLstm>,
    /// Transition scores (`crf` models).
    pub crf: Option<crf::Crf>,
}

impl NerNet {
    /// Per-piece tag scores `[b, l, tags]` from lower-layer states, and with `first_last`
    /// the last-piece classifier's `[b, l, tags]` (a token scores first + last). For
    /// models without a BiLSTM: those with one score tokens ([`NerNet::pieces`], then
    /// [`NerNet::forward_tokens`]).
    pub fn piece_scores(&self, x: Tensor<3>, bias: &Tensor<4>) -> (Tensor<3>, Option<Tensor<3>>) {
        debug_assert!(self.lstm.is_empty(), "piece_scores on a BiLSTM model");
        let y = self.dropout.forward(self.pieces(x, bias));
        let last = self.head_last.as_ref().map(|h| h.forward(y.clone()));
        (self.head.forward(y), last)
    }
}

impl NerNet {
    /// Piece vectors (the mix of the adapted layers) from lower-layer states.
    pub fn pieces(&self, x: Tensor<3>, bias: &Tensor<4>) -> Tensor<3> {
        self.mix.forward(self.top.forward_all(x, bias))
    }

    /// Tag scores `[b, t, tags]` of token vectors `[b, t, d]` (`mask`: `[b, t]`, 1 for
    /// real tokens) through the BiLSTM (models with one).
    pub fn forward_tokens(&self, tokens: Tensor<3>, mask: &Tensor<2>) -> Tensor<3> {
        let x = tatra_adapters::lstm::contextualise(&self.lstm, &self.dropout, tokens, mask, true);
        self.head.forward(self.dropout.forward(x))
    }
}

/// Loading, saving or training a NER model failed.
pub type NerError = tatra_adapters::package::StageError;

/// `log_softmax` of one row of scores.
fn log_softmax_row(x: &[f32]) -> Vec<f32> {
    let m = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let z = m + x.iter().map(|v| (v - m).exp()).sum::<f32>().ln();
    x.iter().map(|v| v - z).collect()
}

/// A loaded NER model.
pub struct Ner {
    pub net: NerNet,
    pub config: NerConfig,
    pub meta: Meta,
    /// The further members of an ensemble (`config.members`, in order; empty for one
    /// network).
    pub members: Vec<NerNet>,
}

/// Each sentence with up to `c` tokens of its neighbours on each side (the last of the
/// sentence before, the first of the one after), and where the sentence itself lies in
/// it: (first token, token count).
pub fn with_context(sentences: &[Vec<String>], c: usize) -> (Vec<Vec<String>>, Vec<(usize, usize)>) {
    let mut out = Vec::with_capacity(sentences.len());
    let mut centers = Vec::with_capacity(sentences.len());
    for (i, s) in sentences.iter().enumerate() {
        let left: &[String] = if i > 0 { &sentences[i - 1][sentences[i - 1].len().saturating_sub(c)..] } else { &[] };
        let right: &[String] = sentences.get(i + 1).map_or(&[], |n| &n[..n.len().min(c)]);
        let mut e = Vec::with_capacity(left.len() + s.len() + right.len());
        e.extend_from_slice(left);
        e.extend_from_slice(s);
        e.extend_from_slice(right);
        centers.push((left.len(), s.len()));
        out.push(e);
    }
    (out, centers)
}

/// Layouts of token sequences and their states after layers `0..upto`, one block per window.
pub fn lower_states(encoder: &Encoder, sentences: &[Vec<String>], upto: usize) -> Result<(Vec<Layout>, Vec<Vec<Vec<f32>>>), NerError> {
    let forms: Vec<Vec<&str>> = sentences.iter().map(|s| s.iter().map(String::as_str).collect()).collect();
    Ok(encoder.lower_states(&forms, upto)?)
}

impl Ner {
    pub fn fresh(encoder: &Encoder, config: &NerConfig, device: &burn::tensor::Device) -> NerNet {
        let top = AdaptedTop::new(encoder, &config.adapters, device);
        let mix = ScalarMix::new(top.layers.len() + 1, device);
        let (h, k) = (encoder.hidden_size(), config.tags.len().max(1));
        let dropout = DropoutConfig::new(config.dropout).init();
        if config.lstm > 0 {
            let d = config.pooling().width(h);
            let lstm = tatra_adapters::lstm::stack(d, config.lstm, 1, device);
            let width = tatra_adapters::lstm::output_width(d, config.lstm, lstm.len(), true);
            let crf = config.crf.then(|| crf::Crf::new(k, device));
            return NerNet { top, mix, head: LinearConfig::new(width, k).init(device), head_last: None, dropout, lstm, crf };
        }
        NerNet {
            top,
            mix,
            head: LinearConfig::new(h, k).init(device),
            head_last: config.first_last.then(|| LinearConfig::new(h, k).init(device)),
            dropout,
            lstm: Vec::new(),
            crf: None,
        }
    }

    pub fn load(path: &Path, encoder: &Encoder) -> Result<Self, NerError> {
        let pkg = Package::read(path)?;
        pkg.check_encoder(&encoder.identity())?;
        let config: NerConfig = pkg.json("config.json")?;
        let net = pkg.weights_into(Self::fresh(encoder, &config, encoder.device()))?;
        let mut members = Vec::new();
        for m in &config.members {
            members.push(pkg.weights_file_into(&m.file, Self::fresh(encoder, &config, encoder.device()))?.valid());
        }
        Ok(Ner { net: net.valid(), config, meta: pkg.meta, members })
    }

    pub fn save(&self, path: &Path, precision: tatra_adapters::params::Precision, extra: &[(&str, Vec<u8>)]) -> Result<(), NerError> {
        let other = |e: String| NerError::Other(format!("{}: {e}", path.display()));
        let mut files = Vec::new();
        for (m, net) in self.config.members.iter().zip(&self.members) {
            let w = tatra_adapters::params::to_safetensors(&tatra_adapters::params::export(net), precision).map_err(other)?;
            files.push((m.file.as_str(), w));
        }
        tatra_adapters::package::write_stage(path, &self.meta, &self.config, &self.net, precision, files, extra)
    }

    /// A seed ensemble of BiLSTM models of one configuration (the same tags, encoder
    /// adapters, widths and CRF): the first model's package with the others as further
    /// members, their tag scores and CRF transitions averaged before decoding. The
    /// decoding and metadata are the first model's; dev and test scores are left to
    /// `tatra train ner-scores`.
    pub fn ensemble(models: Vec<Ner>, command: &str) -> Result<Ner, NerError> {
        let mut it = models.into_iter();
        let Some(mut first) = it.next() else { return Err(NerError::Other("an ensemble needs at least one package".into())) };
        if first.config.lstm == 0 {
            return Err(NerError::Other("ensembles need BiLSTM models (trained with --lstm N)".into()));
        }
        let plain = |c: &NerConfig| {
            let mut c = c.clone();
            c.members.clear();
            c.decoding = Decoding::Viterbi;
            c.dropout = 0.0;
            serde_json::to_string(&c).unwrap_or_default()
        };
        let mut members = tatra_adapters::package::Members::new(&first.meta, std::mem::take(&mut first.config.members), std::mem::take(&mut first.members));
        for m in it {
            if plain(&m.config) != plain(&first.config) {
                return Err(NerError::Other(format!(
                    "the package trained with `{}` has another configuration (tags, adapters, widths or CRF) than the first one; an ensemble's members must be alike",
                    m.meta.command
                )));
            }
            members.join(&first.meta, &m.meta, m.net, m.config.members, m.members)?;
        }
        first.meta.command = members.command(command);
        first.config.members = members.cfg;
        first.members = members.nets;
        Ok(first)
    }

    /// Tags for token sequences, from their layouts and lower-layer states.
    pub fn tag_lower(&self, encoder: &Encoder, lay: &[Layout], lower: &[Vec<Vec<f32>>], decoding: Decoding) -> Vec<Vec<String>> {
        let h = encoder.hidden_size();
        let device = self.net.head.weight.val().device();
        let k = self.config.tags.len();
        if !self.net.lstm.is_empty() {
            return self.tag_lower_tokens(lay, lower, h, decoding, None);
        }
        // Scores per piece (tags wide), per window: log-probabilities, or with first_last
        // the raw scores of both classifiers side by side (a token's are added after
        // pooling).
        let outs = tatra_adapters::over_windows(lower, h, 4096, &device, |x, bias| match self.net.piece_scores(x, bias) {
            (first, None) => log_softmax(first, 2),
            (first, Some(last)) => Tensor::cat(vec![first, last], 2),
        });
        let first_last = self.net.head_last.is_some();
        lay.iter()
            .zip(&outs)
            .map(|(l, o)| {
                let scores: Vec<Vec<f32>> = if first_last {
                    // Per token: [first piece: first, last | last piece: first, last].
                    stitch_and_pool(l, o, 2 * k, Pooling::FirstLast)
                        .chunks(4 * k)
                        .map(|t| log_softmax_row(&t[..k].iter().zip(&t[3 * k..]).map(|(a, b)| a + b).collect::<Vec<f32>>()))
                        .collect()
                } else {
                    stitch_and_pool(l, o, k, Pooling::First).chunks(k).map(<[f32]>::to_vec).collect()
                };
                self.decode(&scores, decoding)
            })
            .collect()
    }

    /// [`Ner::tag_lower`] for sequences read with context ([`with_context`]): each is
    /// tagged whole and its `centers` range (first token, count) decoded alone, so the
    /// tags are well-formed within the sentence.
    pub fn tag_context(&self, encoder: &Encoder, lay: &[Layout], lower: &[Vec<Vec<f32>>], decoding: Decoding, centers: &[(usize, usize)]) -> Vec<Vec<String>> {
        if self.net.lstm.is_empty() {
            // Not made by the trainer (context needs the BiLSTM): the centres' tags.
            let tags = self.tag_lower(encoder, lay, lower, decoding);
            return tags.into_iter().zip(centers).map(|(t, &(a, n))| t.into_iter().skip(a).take(n).collect()).collect();
        }
        self.tag_lower_tokens(lay, lower, encoder.hidden_size(), decoding, Some(centers))
    }

    /// [`Ner::tag_lower`] for BiLSTM models: piece vectors of every window, token vectors
    /// per sentence, then the BiLSTM and classifier over sentences batched by length;
    /// with `centers`, only that range of each sequence is decoded.
    fn tag_lower_tokens(&self, lay: &[Layout], lower: &[Vec<Vec<f32>>], h: usize, decoding: Decoding, centers: Option<&[(usize, usize)]>) -> Vec<Vec<String>> {
        let device = self.net.head.weight.val().device();
        let k = self.config.tags.len();
        let pooling = self.config.pooling();
        let d = pooling.width(h);
        let nets: Vec<&NerNet> = std::iter::once(&self.net).chain(&self.members).collect();
        let scale = 1.0 / nets.len() as f32;
        // Token vectors of each member (their adapters differ), per sentence.
        let tokens: Vec<Vec<Vec<f32>>> = nets
            .iter()
            .map(|net| {
                let top = tatra_adapters::over_windows(lower, h, 4096, &device, |x, bias| net.pieces(x, bias));
                lay.iter().zip(&top).map(|(l, o)| stitch_and_pool(l, o, h, pooling)).collect()
            })
            .collect();
        let mut out: Vec<Vec<String>> = vec![Vec::new(); lay.len()];
        // A CRF model decodes its raw scores with its transitions (an ensemble's: the
        // members' averaged, as their scores are).
        let crf = self.net.crf.as_ref().map(|_| {
            let all: Vec<(Vec<f32>, Vec<f32>)> = nets.iter().filter_map(|n| n.crf.as_ref().map(|c| c.scores(&self.config.tags))).collect();
            let mean = |f: &dyn Fn(&(Vec<f32>, Vec<f32>)) -> &Vec<f32>| {
                let mut m = vec![0f32; f(&all[0]).len()];
                for a in &all {
                    for (x, y) in m.iter_mut().zip(f(a)) {
                        *x += y / all.len() as f32;
                    }
                }
                m
            };
            (mean(&|a| &a.0), mean(&|a| &a.1))
        });
        let counts: Vec<Vec<u32>> = tokens[0].iter().map(|t| vec![0; t.len() / d]).collect();
        for batch in length_batches(&counts, 8192) {
            let batch: Vec<usize> = batch.into_iter().filter(|&i| !tokens[0][i].is_empty()).collect();
            if batch.is_empty() {
                continue;
            }
            let n: Vec<usize> = batch.iter().map(|&i| tokens[0][i].len() / d).collect();
            let mut y: Vec<f32> = Vec::new();
            let mut t = 0;
            for (net, toks) in nets.iter().zip(&tokens) {
                let states: Vec<&[f32]> = batch.iter().map(|&i| toks[i].as_slice()).collect();
                let (x, _, tt) = pad_batch(&states, d, &device);
                t = tt;
                let mask = tatra_adapters::lstm::length_mask(&n, t, &device);
                let logits = net.forward_tokens(x, &mask);
                let v = to_vec(if crf.is_some() { logits } else { log_softmax(logits, 2) });
                if y.is_empty() {
                    y = v.iter().map(|a| a * scale).collect();
                } else {
                    y.iter_mut().zip(&v).for_each(|(a, b)| *a += b * scale);
                }
            }
            for (b, &i) in batch.iter().enumerate() {
                let (from, count) = centers.and_then(|c| c.get(i).copied()).unwrap_or((0, n[b]));
                let to = (from + count).min(n[b]);
                let scores: Vec<Vec<f32>> = (from.min(to)..to).map(|j| y[(b * t + j) * k..(b * t + j + 1) * k].to_vec()).collect();
                out[i] = self.decode_with(&scores, decoding, crf.as_ref().map(|(t, s)| (t.as_slice(), s.as_slice())));
            }
        }
        out
    }

    /// Tags from per-token log-probabilities.
    pub fn decode(&self, scores: &[Vec<f32>], decoding: Decoding) -> Vec<String> {
        self.decode_with(scores, decoding, None)
    }

    /// [`Ner::decode`] with a CRF's transition and first-tag scores (Viterbi only; argmax
    /// reads the scores alone).
    fn decode_with(&self, scores: &[Vec<f32>], decoding: Decoding, crf: Option<(&[f32], &[f32])>) -> Vec<String> {
        let tags = &self.config.tags;
        match decoding {
            Decoding::Viterbi => spans::viterbi_with(scores, tags, crf).into_iter().map(|i| tags[i].clone()).collect(),
            Decoding::Argmax => {
                let mut out: Vec<String> = scores
                    .iter()
                    .map(|r| tags[(0..r.len()).max_by(|&a, &b| r[a].total_cmp(&r[b])).unwrap_or(0)].clone())
                    .collect();
                for i in 0..out.len() {
                    let prev = if i == 0 { None } else { Some(out[i - 1].clone()) };
                    if !spans::allowed(prev.as_deref(), &out[i]) {
                        out[i] = out[i].replacen("I-", "B-", 1);
                    }
                }
                out
            }
        }
    }

    /// Tags token sequences.
    /// Tags token sequences (in order: a model with [`NerConfig::context`] reads each with
    /// its neighbours; it runs them 256 at a time, so the whole document can be given).
    pub fn tag(&self, encoder: &Encoder, sentences: &[Vec<String>]) -> Result<Vec<Vec<String>>, NerError> {
        let upto = AdaptedTop::first_layer(encoder, &self.config.adapters);
        if self.config.context == 0 {
            let (lay, lower) = lower_states(encoder, sentences, upto)?;
            return Ok(self.tag_lower(encoder, &lay, &lower, self.config.decoding));
        }
        let (ext, centers) = with_context(sentences, self.config.context);
        let mut out = Vec::with_capacity(sentences.len());
        for (chunk, c) in ext.chunks(256).zip(centers.chunks(256)) {
            let (lay, lower) = lower_states(encoder, chunk, upto)?;
            out.extend(self.tag_context(encoder, &lay, &lower, self.config.decoding, c));
        }
        Ok(out)
    }

    /// Adds entities to sentences: `NER=…` in each token's MISC and entity spans.
    pub fn annotate(&self, encoder: &Encoder, sentences: &mut [Sentence]) -> Result<(), NerError> {
        let forms: Vec<Vec<String>> = sentences.iter().map(|s| s.tokens.iter().map(|t| t.form.clone()).collect()).collect();
        let tags = self.tag(encoder, &forms)?;
        Self::set_tags(sentences, tags);
        Ok(())
    }

    /// The first encoder layer with an adapter: states below it can be shared with
    /// other stages that read the same forms.
    pub fn first_layer(&self, encoder: &Encoder) -> usize {
        AdaptedTop::first_layer(encoder, &self.config.adapters)
    }

    /// [`Ner::annotate`] from lower-layer states of the sentences' token forms (computed
    /// up to [`Ner::first_layer`]), e.g. shared with posdep when no sentence has a
    /// multi-word token. Not for models with context ([`NerConfig::context`]), whose
    /// lower states are those of the sentences with their neighbours: use
    /// [`Ner::annotate`].
    pub fn annotate_lower(&self, encoder: &Encoder, sentences: &mut [Sentence], lay: &[Layout], lower: &[Vec<Vec<f32>>]) {
        let tags = self.tag_lower(encoder, lay, lower, self.config.decoding);
        Self::set_tags(sentences, tags);
    }

    fn set_tags(sentences: &mut [Sentence], tags: Vec<Vec<String>>) {
        for (s, tags) in sentences.iter_mut().zip(tags) {
            for (t, tag) in s.tokens.iter_mut().zip(&tags) {
                if t.is_mwt() {
                    t.misc = misc_set(&t.misc, "NER", Some(tag));
                } else if let Some(w) = t.words.first_mut() {
                    w.misc = misc_set(&w.misc, "NER", Some(tag));
                }
            }
            s.entities = spans::spans(&tags).into_iter().map(|(label, start, end)| Entity { label, start, end }).collect();
        }
    }
}
