//! Training a NER package on IOB2 files: frozen encoder, adapters in the top K layers
//! (the layers below run once per sentence and are cached), a scalar mix and a tag
//! classifier; Adam on batches of similar length; dev micro F1 (exact spans) every epoch,
//! early stopping, checkpoints every few minutes and `--resume`, as for the other stages.
//! At the end, constrained Viterbi and plain argmax (with stray `I-` repaired) are both
//! scored on dev and the better one is kept.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Instant;

use burn::module::Module;
use burn::tensor::{Device, Int, Tensor, TensorData};
use serde::Serialize;
use tatra_adapters::package::Meta;
use tatra_adapters::train::{Checkpoint, Provenance, Schedule, Trainee};
use tatra_adapters::{AdaptedTop, AdapterConfig, cross_entropy, pad_batch};
use tatra_encoder::Encoder;
use tatra_encoder::words::{Layout, length_batches};

use crate::iob2::{self, NerSentence};
use crate::{Decoding, Ner, NerConfig, NerError, NerNet, lower_states, spans};

/// Everything `tatra train ner` takes.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    pub prov: Provenance,
    pub schedule: Schedule,
    pub adapters: AdapterConfig,
    pub dropout: f64,
    /// Tag scores from each token's first and last piece (see [`NerConfig::first_last`]).
    pub first_last: bool,
    /// Width per direction of a token-level BiLSTM (see [`NerConfig::lstm`]; 0: none).
    pub lstm: usize,
    /// Train a CRF over the BiLSTM's tag scores (see [`NerConfig::crf`]).
    pub crf: bool,
    /// Tokens of the neighbouring sentences read with each sentence (see
    /// [`NerConfig::context`]; 0: none). Neighbours come from the same file.
    pub context: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub resumed_at_epoch: usize,
    pub epochs: usize,
    pub best_epoch: usize,
    pub seconds: f64,
    pub dev_f1_viterbi: f64,
    pub dev_f1_argmax: f64,
    pub decoding: Decoding,
}

fn other<E: std::fmt::Display>(e: E) -> NerError {
    NerError::Other(e.to_string())
}

/// Micro F1 of a model's tags on gold sentences.
pub fn micro_f1(gold: &[NerSentence], pred: &[Vec<String>]) -> Result<f64, NerError> {
    let g: Vec<Vec<String>> = gold.iter().map(|s| s.tags.clone()).collect();
    let e = spans::evaluate(&g, pred).map_err(other)?;
    Ok(e.get("micro").map_or(0.0, |p| (p.f1 * 100.0).round() / 100.0))
}


/// The NER side of the shared training loop.
struct Job<'a> {
    o: &'a TrainOptions,
    encoder: &'a Encoder,
    device: Device,
    cfg: NerConfig,
    train: Vec<NerSentence>,
    index: HashMap<String, usize>,
    lay: Vec<Layout>,
    lower: Vec<Vec<Vec<f32>>>,
    batches: Vec<Vec<usize>>,
    dev: Vec<NerSentence>,
    dev_lay: Vec<Layout>,
    dev_lower: Vec<Vec<Vec<f32>>>,
    /// Where each training and dev sentence lies in the sequence read for it (first
    /// token, count): the whole sequence unless the model reads context.
    centers: Vec<(usize, usize)>,
    dev_centers: Vec<(usize, usize)>,
}

impl Job<'_> {
    /// The loss of BiLSTM models: token vectors gathered from the pieces, then the
    /// BiLSTM and classifier over tokens.
    fn token_loss(&self, net: &NerNet, ids: &[usize], x: Tensor<3>, bias: &Tensor<4>) -> Tensor<1> {
        let h = self.encoder.hidden_size();
        let b = ids.len();
        // Tokens of the sequences read (with context: the sentence and its neighbours').
        let n_all: Vec<usize> = ids.iter().map(|&i| self.lay[i].pieces.word_ranges.len()).collect();
        let t = n_all.iter().copied().max().unwrap_or(1).max(1);
        let mut first = vec![0i64; b * t];
        let mut last = vec![0i64; b * t];
        for (k, &i) in ids.iter().enumerate() {
            for (j, r) in self.lay[i].pieces.word_ranges.iter().enumerate() {
                first[k * t + j] = (r.0 + 1) as i64; // +1: the leading special token
                last[k * t + j] = (r.1.max(r.0 + 1) - 1 + 1) as i64;
            }
        }
        let index = |v: Vec<i64>, t: usize, w: usize| Tensor::<2, Int>::from_data(TensorData::new(v, [b, t]), &self.device).unsqueeze_dim::<3>(2).repeat_dim(2, w);
        let pieces = net.pieces(x, bias);
        let tokens = if self.cfg.first_last {
            Tensor::cat(vec![pieces.clone().gather(1, index(first, t, h)), pieces.gather(1, index(last, t, h))], 2)
        } else {
            pieces.gather(1, index(first, t, h))
        };
        let mask = tatra_adapters::lstm::length_mask(&n_all, t, &self.device);
        let mut logits = net.forward_tokens(tokens, &mask);
        // The loss reads each sentence's own tokens only.
        let n: Vec<usize> = ids.iter().map(|&i| self.centers[i].1).collect();
        let mut tc = t;
        if self.cfg.context > 0 {
            tc = n.iter().copied().max().unwrap_or(1).max(1);
            let mut at = vec![0i64; b * tc];
            for (k, &i) in ids.iter().enumerate() {
                let from = self.centers[i].0;
                for j in 0..tc {
                    at[k * tc + j] = (from + j.min(n[k].saturating_sub(1))) as i64;
                }
            }
            let kk = self.cfg.tags.len().max(1);
            logits = logits.gather(1, index(at, tc, kk));
        }
        let mut g = vec![0i64; b * tc];
        for (k, &i) in ids.iter().enumerate() {
            for j in 0..n[k] {
                g[k * tc + j] = self.index.get(self.train[i].tags[j].as_str()).copied().unwrap_or(0) as i64;
            }
        }
        if let Some(crf) = &net.crf {
            let gold: Vec<Vec<usize>> = (0..b).map(|k| g[k * tc..k * tc + n[k]].iter().map(|&y| y as usize).collect()).collect();
            return crf.nll(logits, &gold, &self.cfg.tags);
        }
        let mask = tatra_adapters::lstm::length_mask(&n, tc, &self.device);
        let g = Tensor::<2, Int>::from_data(TensorData::new(g, [b, tc]), &self.device);
        cross_entropy(logits, g, mask)
    }

    /// A model's tags for the dev sentences.
    fn dev_tags(&self, model: &Ner, decoding: Decoding) -> Vec<Vec<String>> {
        if self.cfg.context > 0 {
            model.tag_context(self.encoder, &self.dev_lay, &self.dev_lower, decoding, &self.dev_centers)
        } else {
            model.tag_lower(self.encoder, &self.dev_lay, &self.dev_lower, decoding)
        }
    }
}

impl Trainee for Job<'_> {
    type Net = NerNet;
    type Error = NerError;

    fn loss(&self, net: &NerNet, batch: usize) -> Tensor<1> {
        let ids = &self.batches[batch];
        let states: Vec<&[f32]> = ids.iter().map(|&i| self.lower[i][0].as_slice()).collect();
        let (x, bias, l) = pad_batch(&states, self.encoder.hidden_size(), &self.device);
        if !net.lstm.is_empty() {
            return self.token_loss(net, ids, x, &bias);
        }
        let mut g = vec![0i64; ids.len() * l];
        let mut m = vec![0f32; ids.len() * l];
        // For each position, where its token's last piece is (itself off a token's start).
        let mut last: Vec<i64> = (0..ids.len() * l).map(|p| (p % l) as i64).collect();
        for (k, &i) in ids.iter().enumerate() {
            for (t, r) in self.lay[i].pieces.word_ranges.iter().enumerate() {
                let p = k * l + r.0 + 1; // +1: the leading special token
                g[p] = self.index.get(self.train[i].tags[t].as_str()).copied().unwrap_or(0) as i64;
                m[p] = 1.0;
                last[p] = (r.1.max(r.0 + 1) - 1 + 1) as i64;
            }
        }
        let logits = match net.piece_scores(x, &bias) {
            (first, None) => first,
            (first, Some(last_scores)) => {
                // A token's scores sit at its first piece: add its last piece's.
                let k = first.dims()[2];
                let idx: Vec<i64> = last.iter().flat_map(|&q| std::iter::repeat_n(q, k)).collect();
                let idx = Tensor::<3, Int>::from_data(TensorData::new(idx, [ids.len(), l, k]), &self.device);
                first + last_scores.gather(1, idx)
            }
        };
        let g = Tensor::<2, Int>::from_data(TensorData::new(g, [ids.len(), l]), &self.device);
        let m = Tensor::<2>::from_data(TensorData::new(m, [ids.len(), l]), &self.device);
        cross_entropy(logits, g, m)
    }

    fn evaluate(&self, net: &NerNet) -> Result<(BTreeMap<String, f64>, f64, String), NerError> {
        let eval = Ner { net: net.valid(), config: self.cfg.clone(), meta: Meta::default(), members: Vec::new() };
        let f1 = micro_f1(&self.dev, &self.dev_tags(&eval, Decoding::Viterbi))?;
        Ok((BTreeMap::from([("F1".to_string(), f1)]), f1, format!("micro F1 {f1:.2}")))
    }

    fn save(&self, net: &NerNet, path: &Path, meta: Meta, ckpt: Option<&Checkpoint>) -> Result<(), NerError> {
        save(path, Ner { net: net.clone(), config: self.cfg.clone(), meta, members: Vec::new() }, ckpt)
    }

    fn meta(&self, seconds: f64, dev: BTreeMap<String, f64>) -> Meta {
        self.o.prov.meta("ner", &self.encoder.identity(), &self.o.adapters, seconds, dev)
    }
}

fn save(path: &Path, model: Ner, ckpt: Option<&Checkpoint>) -> Result<(), NerError> {
    match ckpt {
        Some(c) => model.save(path, tatra_adapters::params::Precision::F32, &c.files().map_err(other)?),
        None => model.save(path, tatra_adapters::params::Precision::shipped(&model.meta), &[]),
    }
}

/// Trains a NER package. `encoder` must live on an autodiff device.
pub fn train(encoder: &Encoder, o: &TrainOptions) -> Result<Report, NerError> {
    // The device's random numbers (initial weights, dropout masks) come from the seed too.
    encoder.device().seed(o.schedule.seed);
    let device = encoder.device().clone();
    let started = Instant::now();
    let log = |s: String| {
        if !o.schedule.quiet {
            eprintln!("{s}");
        }
    };
    if o.context > 0 && o.lstm == 0 {
        return Err(NerError::Other("context (--context N) needs the token-level BiLSTM: give --lstm N".into()));
    }
    // The sequences read for each sentence: the sentence, or with context the sentence
    // and its neighbours in the same file.
    let read = |path: &Path| -> Result<(Vec<NerSentence>, Vec<Vec<String>>, Vec<(usize, usize)>), NerError> {
        let s = iob2::read_file(path).map_err(NerError::Other)?;
        let forms: Vec<Vec<String>> = s.iter().map(|s| s.forms.clone()).collect();
        let (seqs, centers) = if o.context > 0 {
            crate::with_context(&forms, o.context)
        } else {
            let c = forms.iter().map(|f| (0, f.len())).collect();
            (forms, c)
        };
        Ok((s, seqs, centers))
    };
    let (mut train, mut forms, mut centers) = read(&o.prov.train)?;
    for f in &o.prov.also_train {
        let (s, q, c) = read(f)?;
        train.extend(s);
        forms.extend(q);
        centers.extend(c);
    }
    let (dev, dev_forms, dev_centers) = read(&o.prov.dev)?;
    // Tags: O first, then B-/I- of each type seen in training, sorted.
    let mut types: Vec<String> = train.iter().flat_map(|s| &s.tags).filter_map(|t| t.get(2..).map(String::from)).collect();
    types.sort();
    types.dedup();
    let mut tags = vec!["O".to_string()];
    for t in &types {
        tags.push(format!("B-{t}"));
        tags.push(format!("I-{t}"));
    }
    let index: HashMap<String, usize> = tags.iter().enumerate().map(|(i, t)| (t.clone(), i)).collect();
    let cfg = NerConfig { adapters: o.adapters.clone(), tags, decoding: Decoding::Viterbi, dropout: o.dropout, first_last: o.first_last, lstm: o.lstm, crf: o.crf, members: Vec::new(), context: o.context };
    log(format!("train: {} sentences, {} tokens; types: {}", train.len(), train.iter().map(|s| s.forms.len()).sum::<usize>(), types.join(" ")));

    let upto = AdaptedTop::first_layer(encoder, &o.adapters);
    let t0 = Instant::now();
    let (lay, lower) = lower_states(encoder, &forms, upto)?;
    let (dev_lay, dev_lower) = lower_states(encoder, &dev_forms, upto)?;
    log(format!("cached layers 0..{upto} for train and dev in {:.0} s", t0.elapsed().as_secs_f64()));
    let h = encoder.hidden_size();
    let usable: Vec<usize> = (0..train.len()).filter(|&i| lay[i].windows.len() == 1).collect();
    let seqs: Vec<Vec<u32>> = usable.iter().map(|&i| vec![0; lower[i][0].len() / h]).collect();
    let batches: Vec<Vec<usize>> =
        length_batches(&seqs, o.schedule.batch_tokens).into_iter().map(|b| b.into_iter().map(|k| usable[k]).collect()).collect();

    let net = Ner::fresh(encoder, &cfg, &device);
    let n_batches = batches.len();
    let job = Job { o, encoder, device, cfg, train, index, lay, lower, batches, dev, dev_lay, dev_lower, centers, dev_centers };
    let done = tatra_adapters::train::run(&job, net, n_batches, &o.schedule, &o.prov.out, started)?;
    let state = done.state;
    // Decoding: constrained Viterbi against argmax, on dev with the best weights.
    let best = Ner::load(&o.prov.out, encoder)?;
    let fv = micro_f1(&job.dev, &job.dev_tags(&best, Decoding::Viterbi))?;
    let fa = micro_f1(&job.dev, &job.dev_tags(&best, Decoding::Argmax))?;
    let mut cfg = job.cfg.clone();
    cfg.decoding = if fv >= fa { Decoding::Viterbi } else { Decoding::Argmax };
    let f = fv.max(fa);
    let m = job.meta(state.seconds, BTreeMap::from([("F1".to_string(), f), ("F1-viterbi".to_string(), fv), ("F1-argmax".to_string(), fa)]));
    save(&o.prov.out, Ner { net: best.net, config: cfg.clone(), meta: m, members: Vec::new() }, None)?;
    log(format!("best epoch {}; dev micro F1 Viterbi {fv:.2}, argmax {fa:.2}: {:?} kept", state.best_epoch, cfg.decoding));
    Ok(Report {
        resumed_at_epoch: done.resumed_at_epoch,
        epochs: state.epoch,
        best_epoch: state.best_epoch,
        seconds: state.seconds,
        dev_f1_viterbi: fv,
        dev_f1_argmax: fa,
        decoding: cfg.decoding,
    })
}
