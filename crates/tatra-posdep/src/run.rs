//! Annotating sentences with a posdep package: UPOS, XPOS, FEATS, LEMMA, HEAD, DEPREL.

use std::collections::HashMap;
use std::path::Path;

use burn::module::Module;
use burn::tensor::activation::log_softmax;
use burn::tensor::{Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};
use tatra_adapters::package::{Member, Meta, Package};
use tatra_adapters::{AdaptedTop, AdapterConfig};
use tatra_core::Sentence;
use tatra_encoder::words::{Layout, Pooling, length_batches, stitch_and_pool};
use tatra_encoder::{Encoder, to_vec};

use crate::data::Vocabs;
use crate::lemma;
use crate::model::{HeadConfig, Heads, PosdepNet, SuffixConfig};
use crate::tree;

const NEG: f32 = -1.0e9;

/// The stage configuration stored in a package's `config.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PosdepConfig {
    pub adapters: AdapterConfig,
    pub heads: HeadConfig,
    pub vocabs: Vocabs,
    /// Use the training lexicon of (form, UPOS) → lemma before the edit rules.
    pub use_lexicon: bool,
    /// Heads read a learned mix of the adapted layers instead of the last layer.
    #[serde(default)]
    pub mix: bool,
    /// Word vectors are the first and the last piece side by side (else the first).
    #[serde(default)]
    pub first_last: bool,
    /// Word vectors also carry embeddings of the word's last characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suffixes: Option<SuffixConfig>,
    /// The further members of a seed ensemble (`tatra train posdep-ensemble`): networks
    /// of this same configuration whose log-probabilities (tags, lemma rules, arcs and
    /// labels) are averaged with the package's own before decoding; their weights are
    /// `member<N>.safetensors`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<Member>,
}

impl PosdepConfig {
    /// How piece vectors become word vectors.
    pub fn pooling(&self) -> Pooling {
        if self.first_last { Pooling::FirstLast } else { Pooling::First }
    }

    /// `[b, (w + 1) * max_len]` suffix rows of sentences' words (position 0: the root;
    /// padding: row 0), or `None` without suffix embeddings.
    pub fn suffix_ids<'a>(&self, sentences: impl Iterator<Item = Vec<&'a str>>, w: usize, device: &Device) -> Option<Tensor<2, Int>> {
        let c = self.suffixes?;
        let mut ids = Vec::new();
        let mut b = 0;
        for forms in sentences {
            let mut row = c.ids(None);
            for k in 0..w {
                row.extend(c.ids(forms.get(k).copied()));
            }
            // Padding past the sentence's end reads the root's rows: masked out anyway.
            ids.extend(row);
            b += 1;
        }
        Some(Tensor::<2, Int>::from_data(TensorData::new(ids, [b, (w + 1) * c.max_len]), device))
    }
}

/// A loaded posdep model.
pub struct Posdep {
    pub net: PosdepNet,
    pub config: PosdepConfig,
    pub lexicon: HashMap<String, String>,
    pub meta: Meta,
    /// The further members of a seed ensemble (`config.members`, in order; empty for one
    /// model).
    pub members: Vec<PosdepNet>,
}

/// Loading, saving or training a posdep model failed.
pub type PosdepError = tatra_adapters::package::StageError;

/// Lower-layer states of one sentence: one `len × h` block per window.
pub type Lower = Vec<Vec<f32>>;

impl Posdep {
    /// Builds a fresh, untrained network.
    pub fn fresh(encoder: &Encoder, config: PosdepConfig, device: &Device) -> PosdepNet {
        let top = AdaptedTop::new(encoder, &config.adapters, device);
        let mix = config.mix.then(|| tatra_adapters::ScalarMix::new(top.layers.len() + 1, device));
        let width = config.pooling().width(encoder.hidden_size()) + config.suffixes.map_or(0, |c| c.width());
        let suffix = config.suffixes.map(|c| tatra_adapters::zeros_param([c.max_len * c.buckets, c.dim], device));
        let (l, n) = (config.heads.lstm, config.heads.lstm_layers);
        let lstm = tatra_adapters::lstm::stack(width, l, n, device);
        let lstm_only = config.heads.lstm_only && !lstm.is_empty();
        let width = tatra_adapters::lstm::output_width(width, l, lstm.len(), !lstm_only);
        PosdepNet { top, heads: Heads::new(width, &config.vocabs, &config.heads, device), mix, suffix, lstm, lstm_only }
    }

    /// Loads a package for this encoder.
    pub fn load(path: &Path, encoder: &Encoder) -> Result<Self, PosdepError> {
        let pkg = Package::read(path)?;
        pkg.check_encoder(&encoder.identity())?;
        let mut config: PosdepConfig = pkg.json("config.json")?;
        if let Some(c) = config.suffixes
            && (c.max_len == 0 || c.buckets < 2 || c.dim == 0)
        {
            return Err(PosdepError::Other(format!(
                "{}: config.json has suffixes {c:?}; max_len and dim must be at least 1 and buckets at least 2 (retrain the package)",
                path.display()
            )));
        }
        config.vocabs.reindex();
        let lexicon: HashMap<String, String> = pkg.json("lemmas.json")?;
        let net = pkg.weights_into(Self::fresh(encoder, config.clone(), encoder.device()))?;
        let mut members = Vec::new();
        for m in &config.members {
            members.push(pkg.weights_file_into(&m.file, Self::fresh(encoder, config.clone(), encoder.device()))?.valid());
        }
        // For annotation: no dropout and no gradient tracking, whatever the device.
        Ok(Posdep { net: net.valid(), config, lexicon, meta: pkg.meta, members })
    }

    /// One model from its network, configuration, lexicon and metadata (no ensemble).
    pub fn single(net: PosdepNet, config: PosdepConfig, lexicon: HashMap<String, String>, meta: Meta) -> Self {
        Posdep { net, config, lexicon, meta, members: Vec::new() }
    }

    /// A seed ensemble of posdep models of one configuration (the same labels, lemma
    /// rules, adapters and widths: the same training files and settings, other seeds or
    /// schedules): the first model's package with the others as further members. Their
    /// log-probabilities are averaged before decoding; the lexicon, the lemma choice
    /// and the metadata are the first model's; dev and test scores are left to `tatra
    /// train posdep-scores`. One model alone is returned as it is (to store it in Q8).
    pub fn ensemble(models: Vec<Posdep>, command: &str) -> Result<Posdep, PosdepError> {
        let mut it = models.into_iter();
        let Some(mut first) = it.next() else { return Err(PosdepError::Other("an ensemble needs at least one package".into())) };
        let plain = |c: &PosdepConfig| {
            let mut c = c.clone();
            c.members.clear();
            c.use_lexicon = false;
            c.heads.dropout = 0.0;
            serde_json::to_string(&c).unwrap_or_default()
        };
        let mut members = tatra_adapters::package::Members::new(&first.meta, std::mem::take(&mut first.config.members), std::mem::take(&mut first.members));
        let mut joined = false;
        for m in it {
            if plain(&m.config) != plain(&first.config) {
                return Err(PosdepError::Other(format!(
                    "the package trained with `{}` has another configuration (labels, lemma rules, adapters or widths) than the first one; an ensemble's members must be trained on the same files with the same settings",
                    m.meta.command
                )));
            }
            members.join(&first.meta, &m.meta, m.net, m.config.members, m.members)?;
            joined = true;
        }
        if joined {
            first.meta.command = members.command(command);
        }
        first.config.members = members.cfg;
        first.members = members.nets;
        Ok(first)
    }

    /// Writes this model as a package (weights in f16 or Q8, or f32 for checkpoints).
    pub fn save(&self, path: &Path, precision: tatra_adapters::params::Precision, extra: &[(&str, Vec<u8>)]) -> Result<(), PosdepError> {
        let lex: std::collections::BTreeMap<&String, &String> = self.lexicon.iter().collect();
        let other = |e: String| PosdepError::Other(format!("{}: {e}", path.display()));
        let lex = serde_json::to_vec(&lex).map_err(|e| other(e.to_string()))?;
        let mut files = vec![("lemmas.json", lex)];
        for (m, net) in self.config.members.iter().zip(&self.members) {
            let w = tatra_adapters::params::to_safetensors(&tatra_adapters::params::export(net), precision).map_err(other)?;
            files.push((m.file.as_str(), w));
        }
        tatra_adapters::package::write_stage(path, &self.meta, &self.config, &self.net, precision, files, extra)
    }
}

/// Layouts (pieces and windows) of sentences and their states after the encoder layers
/// below the first adapter (`0..upto`), one block per window.
pub fn lower_states(encoder: &Encoder, sentences: &[Sentence], upto: usize) -> Result<(Vec<Layout>, Vec<Lower>), PosdepError> {
    let words: Vec<Vec<&str>> = sentences.iter().map(|s| s.words().map(|w| w.form.as_str()).collect()).collect();
    Ok(encoder.lower_states(&words, upto)?)
}

pub use tatra_adapters::pad_batch;

/// `[b, w + 1]`: 1 for the root and each word of each sentence, 0 for padding.
pub fn seq_mask(lens: &[usize], w: usize, device: &Device) -> Tensor<2> {
    let with_root: Vec<usize> = lens.iter().map(|n| n + 1).collect();
    tatra_adapters::lstm::length_mask(&with_root, w + 1, device)
}

/// `[b, 1, w + 1]` bias that forbids heads past each sentence's end, from its
/// [`seq_mask`]: 0 where the mask is 1, a large negative number on padding.
pub fn head_mask(seq_mask: &Tensor<2>) -> Tensor<3> {
    seq_mask.clone().sub_scalar(1.0).mul_scalar(-NEG).unsqueeze_dim::<3>(1)
}

fn argmax_rows(v: &[f32], rows: usize, c: usize) -> Vec<usize> {
    (0..rows)
        .map(|r| {
            let row = &v[r * c..(r + 1) * c];
            // Index 0 is the unknown label: never predict it when another label exists.
            let start = usize::from(c > 1);
            (start..c).max_by(|&a, &b| row[a].total_cmp(&row[b])).unwrap_or(0)
        })
        .collect()
}

impl Posdep {
    /// The first encoder layer with an adapter: states below it can be shared with
    /// other stages that read the same forms.
    pub fn first_layer(&self, encoder: &Encoder) -> usize {
        AdaptedTop::first_layer(encoder, &self.config.adapters)
    }

    /// Annotates sentences (their words are kept; tags, lemmas and trees are filled in).
    pub fn annotate(&self, encoder: &Encoder, sentences: &mut [Sentence]) -> Result<(), PosdepError> {
        let upto = self.first_layer(encoder);
        let (lay, lower) = lower_states(encoder, sentences, upto)?;
        self.annotate_lower(encoder, sentences, &lay, &lower);
        Ok(())
    }

    /// Annotation from precomputed lower-layer states (shared between stages, cached
    /// in training).
    pub fn annotate_lower(&self, encoder: &Encoder, sentences: &mut [Sentence], lay: &[Layout], lower: &[Lower]) {
        let device = &self.net.heads.upos.weight.val().device();
        let h = encoder.hidden_size();
        let nets: Vec<&PosdepNet> = std::iter::once(&self.net).chain(&self.members).collect();
        let pooling = self.config.pooling();
        let wd = pooling.width(h);
        // Per network: 1. adapted top layers on every window; 2. word vectors (root = the
        // first window's leading special token).
        let words_of = |net: &PosdepNet| -> Vec<Vec<f32>> {
            let top = tatra_adapters::over_windows(lower, h, 4096, device, |x, bias| net.encode(x, bias));
            lay.iter()
                .zip(&top)
                .map(|(l, outs)| {
                    let cls = outs.first().map_or(vec![0.0; h], |o| o[..h].to_vec());
                    let mut v = cls.clone();
                    if pooling == Pooling::FirstLast {
                        v.extend(&cls);
                    }
                    v.extend(stitch_and_pool(l, outs, h, pooling));
                    v
                })
                .collect()
        };
        let words: Vec<Vec<Vec<f32>>> = nets.iter().map(|net| words_of(net)).collect();
        // 3. Heads, sentences batched by length; an ensemble's log-probabilities summed
        // (the mean decodes alike).
        let sum = |acc: &mut Vec<f32>, t: Tensor<3>| {
            let v = to_vec(log_softmax(t, 2));
            if acc.is_empty() {
                *acc = v;
            } else {
                acc.iter_mut().zip(v).for_each(|(a, b)| *a += b);
            }
        };
        let counts: Vec<Vec<u32>> = words[0].iter().map(|v| vec![0; v.len() / wd]).collect();
        for batch in length_batches(&counts, 8192) {
            let nw: Vec<usize> = batch.iter().map(|&i| words[0][i].len() / wd - 1).collect();
            let w = nw.iter().copied().max().unwrap_or(0);
            let mut outs = Vec::with_capacity(nets.len());
            let (mut upos, mut xpos, mut feats, mut lemma, mut arcs) = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for (net, words) in nets.iter().zip(&words) {
                let states: Vec<&[f32]> = batch.iter().map(|&i| words[i].as_slice()).collect();
                let (x, _, _) = pad_batch(&states, wd, device);
                let forms = batch.iter().map(|&i| sentences[i].words().map(|x| x.form.as_str()).collect());
                let x = net.with_suffixes(x, self.config.suffix_ids(forms, w, device));
                let mask = seq_mask(&nw, w, device);
                let x = net.contextualise(x, &mask);
                let out = net.heads.forward(x, head_mask(&mask));
                sum(&mut upos, out.upos.clone());
                sum(&mut xpos, out.xpos.clone());
                sum(&mut feats, out.feats.clone());
                sum(&mut lemma, out.lemma.clone());
                sum(&mut arcs, out.arcs.clone());
                outs.push(out);
            }
            let v = &self.config.vocabs;
            let upos = argmax_rows(&upos, batch.len() * w, v.upos.len());
            let xpos = argmax_rows(&xpos, batch.len() * w, v.xpos.len());
            let feats = argmax_rows(&feats, batch.len() * w, v.feats.len());
            let lemma = argmax_rows(&lemma, batch.len() * w, v.lemma.len());
            let mut heads_all = vec![0i64; batch.len() * w];
            let mut trees = Vec::with_capacity(batch.len());
            for (k, &n) in nw.iter().enumerate() {
                let mut scores = vec![vec![0f32; n + 1]; n + 1];
                for d in 1..=n {
                    for hh in 0..=n {
                        scores[d][hh] = if hh == d { f32::NEG_INFINITY } else { arcs[(k * w + d - 1) * (w + 1) + hh] };
                    }
                }
                let heads = tree::decode(&scores);
                for d in 1..=n {
                    heads_all[k * w + d - 1] = heads[d] as i64;
                }
                trees.push(heads);
            }
            let htensor = Tensor::<2, Int>::from_data(TensorData::new(heads_all, [batch.len(), w]), device);
            let mut label_scores = Vec::new();
            for (net, out) in nets.iter().zip(&outs) {
                sum(&mut label_scores, net.heads.labels(out, htensor.clone()));
            }
            let nl = v.deprel.len();
            let root = (0..nl).find(|&i| v.deprel.label(i) == "root");
            for (k, &si) in batch.iter().enumerate() {
                for (d, word) in sentences[si].words_mut().enumerate() {
                    let r = k * w + d;
                    word.upos = v.upos.label(upos[r]).to_string();
                    word.xpos = v.xpos.label(xpos[r]).to_string();
                    word.feats = v.feats.label(feats[r]).to_string();
                    let from_lexicon = if self.config.use_lexicon {
                        self.lexicon.get(&format!("{}\t{}", word.form, word.upos)).cloned()
                    } else {
                        None
                    };
                    word.lemma = from_lexicon
                        .or_else(|| lemma::apply(&word.form, v.lemma.label(lemma[r])))
                        .unwrap_or_else(|| word.form.clone());
                    word.head = Some(trees[k][d + 1]);
                    // UD: the word attached to 0 is `root`, and no other word is.
                    word.deprel = if trees[k][d + 1] == 0 {
                        "root".to_string()
                    } else {
                        let row = &label_scores[r * nl..(r + 1) * nl];
                        let best = (usize::from(nl > 1)..nl)
                            .filter(|&i| Some(i) != root)
                            .max_by(|&a, &b| row[a].total_cmp(&row[b]))
                            .unwrap_or(0);
                        v.deprel.label(best).to_string()
                    };
                    // An input enhanced graph (DEPS, empty nodes) described the old tree.
                    word.deps = "_".to_string();
                }
                sentences[si].empty_nodes.clear();
            }
        }
    }
}
