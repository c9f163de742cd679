//! Training a tokenize package: the raw text of each paragraph is rebuilt from the
//! CoNLL-U, cut into units and windows; the frozen layers below the first adapter run
//! once per window and are cached; the adapters and the unit classifier train with
//! Adam on batches of similar length. Every epoch the dev text is segmented from raw
//! text and scored by the built-in evaluator (Tokens, Sentences, Words); early stopping
//! on their mean, checkpoints every few minutes and `--resume`, as for posdep.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use burn::module::Module;
use burn::tensor::{Device, Int, Tensor, TensorData};
use serde::Serialize;
use tatra_adapters::package::Meta;
use tatra_adapters::train::{Checkpoint, Provenance, Schedule, Trainee};
use tatra_adapters::{AdaptedTop, AdapterConfig, cross_entropy, pad_batch};
use tatra_core::Document;
use tatra_encoder::Encoder;
use tatra_encoder::words::length_batches;

use crate::data::{self, Paragraph};
use crate::mwt::Mwt;
use crate::run::{Laid, Tokenize, TokenizeConfig, TokenizeError, lower_states};
use crate::units::units_with;

/// Everything `tatra train tokenize` takes.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    pub prov: Provenance,
    pub schedule: Schedule,
    pub adapters: AdapterConfig,
    /// Content units per training window.
    pub window: usize,
    pub dropout: f64,
    /// Keep multi-character pieces of scripts without spaces whole unless the training
    /// text cuts inside them (see [`crate::units::Layout::cut_pieces`]).
    pub whole_pieces: bool,
    /// With `whole_pieces`: pieces longer than this are cut all the same (0: no limit).
    pub whole_max_chars: usize,
    /// With `whole_pieces`: pieces with hiragana are cut all the same.
    pub cut_hiragana: bool,
    /// Share of training sentences whose final punctuation is dropped
    /// ([`data::drop_final_punct`]; 0: none).
    pub drop_final_punct: f64,
    /// Width per direction of a unit-level BiLSTM before the head (see
    /// [`crate::run::TokenizeConfig::lstm`]; 0: none).
    pub lstm: usize,
}

/// What training reports at the end.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub resumed_at_epoch: usize,
    pub epochs: usize,
    pub best_epoch: usize,
    pub seconds: f64,
    pub dev: BTreeMap<String, f64>,
}

fn other<E: std::fmt::Display>(e: E) -> TokenizeError {
    TokenizeError::Other(e.to_string())
}


/// Segmentation scores in percent (Tokens, Sentences, Words, and the tagging metrics the
/// evaluator reports, which are meaningless here and left out).
pub fn score(gold: &Document, pred: &Document) -> Result<BTreeMap<String, f64>, TokenizeError> {
    // The evaluator wants trees: unparsed words get a chain (segmentation scores do not
    // depend on it).
    let mut pred = pred.clone();
    for s in &mut pred.sentences {
        for (i, w) in s.words_mut().enumerate() {
            if w.head.is_none() {
                w.head = Some(i);
                w.deprel = if i == 0 { "root".into() } else { "dep".into() };
            }
        }
    }
    let ev = tatra_eval::evaluate_documents(gold, &pred).map_err(other)?;
    let mut m = BTreeMap::new();
    for k in ["Tokens", "Sentences", "Words"] {
        if let Some(s) = ev.get(k) {
            m.insert(k.to_string(), (s.f1 * 10000.0).round() / 100.0);
        }
    }
    Ok(m)
}

fn objective(s: &BTreeMap<String, f64>) -> f64 {
    ["Tokens", "Sentences", "Words"]
        .iter()
        .map(|k| s.get(*k).copied().unwrap_or(0.0))
        .sum::<f64>()
        / 3.0
}


/// Sentence-end biases tried by [`tune_sentence_bias`].
pub const SENTENCE_BIASES: [f32; 11] = [-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0];

/// Chooses the model's sentence-end bias on `gold` (the dev set; `tatra train
/// tokenize-scores --tune-sentence-bias`, not part of training: on the shipped treebanks'
/// small dev sets the chosen bias did not carry over to test): the raw text is
/// segmented once and decoded with each of [`SENTENCE_BIASES`]; the bias with the best
/// mean of Tokens, Sentences and Words F1 is kept if it beats no bias by at least 0.1
/// (otherwise 0). Returns each bias with that mean.
pub fn tune_sentence_bias(model: &mut Tokenize, encoder: &Encoder, gold: &Document) -> Result<Vec<(f32, f64)>, TokenizeError> {
    let table = bias_table(model, encoder, gold, &SENTENCE_BIASES, |b| (b, 0.0))?;
    model.config.sentence_bias = chosen_bias(&table);
    Ok(table)
}

/// Heading biases tried by [`tune_heading_bias`].
pub const HEADING_BIASES: [f32; 9] = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0];

/// Chooses the model's heading bias ([`crate::run::TokenizeConfig::heading_bias`]) on
/// `gold` (the dev set) as [`tune_sentence_bias`] chooses the sentence-end bias (the
/// sentence-end bias kept as it is): the best mean of Tokens, Sentences and Words F1,
/// kept if it beats no heading bias by at least 0.1. Returns each bias with that mean.
pub fn tune_heading_bias(model: &mut Tokenize, encoder: &Encoder, gold: &Document) -> Result<Vec<(f32, f64)>, TokenizeError> {
    let sentence_bias = model.config.sentence_bias;
    let table = bias_table(model, encoder, gold, &HEADING_BIASES, |b| (sentence_bias, b))?;
    model.config.heading_bias = chosen_bias(&table);
    Ok(table)
}

/// The mean of Tokens, Sentences and Words F1 on `gold`'s raw text for each of `biases`:
/// the text is segmented once, then decoded with the (sentence-end, heading) biases that
/// `pair` makes of each.
fn bias_table(model: &Tokenize, encoder: &Encoder, gold: &Document, biases: &[f32], pair: impl Fn(f32) -> (f32, f32)) -> Result<Vec<(f32, f64)>, TokenizeError> {
    let text = data::raw_text(gold);
    let (spans, paras) = crate::split_paragraphs(&text);
    let laid: Vec<Laid> = paras.iter().map(|p| model.lay(encoder, p)).collect::<Result<_, _>>()?;
    let refs: Vec<&Laid> = laid.iter().collect();
    let lower = model.lower(encoder, &refs);
    let logits = model.logits_lower(encoder, &refs, &lower);
    let mut table = Vec::new();
    for &b in biases {
        let (sentence_bias, heading_bias) = pair(b);
        let segmented: Vec<Vec<tatra_core::Sentence>> = paras
            .iter()
            .zip(&laid)
            .zip(&logits)
            .map(|((p, l), lg)| model.decode(p, &l.units, &crate::run::labels_in(p, &l.units, lg, sentence_bias, heading_bias)))
            .collect();
        let doc = crate::assemble(&text, &spans, segmented, 1);
        table.push((b, objective(&score(gold, &doc)?)));
    }
    Ok(table)
}

/// The bias of `table` with the best mean (ties to the smallest magnitude), if it beats
/// no bias by at least 0.1; otherwise 0.
fn chosen_bias(table: &[(f32, f64)]) -> f32 {
    let at_zero = table.iter().find(|t| t.0 == 0.0).map_or(0.0, |t| t.1);
    let best = table.iter().copied().fold((0.0f32, at_zero), |best, t| if t.1 > best.1 + 1e-9 || (t.1 >= best.1 - 1e-9 && t.0.abs() < best.0.abs()) { t } else { best });
    if best.1 >= at_zero + 0.1 { best.0 } else { 0.0 }
}

/// Segments laid-out paragraphs from cached lower states into one document.
pub fn segment_cached(model: &Tokenize, encoder: &Encoder, texts: &[&str], laid: &[Laid], lower: &[Vec<Vec<f32>>]) -> Document {
    let refs: Vec<&Laid> = laid.iter().collect();
    let labels = model.labels_lower(encoder, &refs, texts, lower);
    let mut doc = Document::default();
    for ((t, l), lab) in texts.iter().zip(laid).zip(&labels) {
        doc.sentences.extend(model.decode(t, &l.units, lab));
    }
    doc
}

/// The tokenize side of the shared training loop.
struct Job<'a> {
    o: &'a TrainOptions,
    encoder: &'a Encoder,
    device: Device,
    model: Tokenize,
    lower: Vec<Vec<f32>>,
    gold: Vec<Vec<Option<u8>>>,
    batches: Vec<Vec<usize>>,
    dev_doc: Document,
    dev_texts: Vec<&'a str>,
    dev_laid: Vec<Laid>,
    dev_lower: Vec<Vec<Vec<f32>>>,
}

impl Job<'_> {
    fn snapshot(&self, net: &crate::run::TokenizeNet, meta: Meta) -> Tokenize {
        Tokenize { net: net.clone(), config: self.model.config.clone(), mwt: self.model.mwt.clone(), meta }
    }
}

impl Trainee for Job<'_> {
    type Net = crate::run::TokenizeNet;
    type Error = TokenizeError;

    fn loss(&self, net: &Self::Net, batch: usize) -> Tensor<1> {
        let ids = &self.batches[batch];
        let states: Vec<&[f32]> = ids.iter().map(|&i| self.lower[i].as_slice()).collect();
        let (x, bias, l) = pad_batch(&states, self.encoder.hidden_size(), &self.device);
        let mut g = vec![0i64; ids.len() * l];
        let mut m = vec![0f32; ids.len() * l];
        for (k, &i) in ids.iter().enumerate() {
            for (u, lab) in self.gold[i].iter().enumerate() {
                if let Some(lab) = lab {
                    g[k * l + u + 1] = i64::from(*lab);
                    m[k * l + u + 1] = 1.0;
                }
            }
        }
        let logits = net.forward(x, &bias);
        let g = Tensor::<2, Int>::from_data(TensorData::new(g, [ids.len(), l]), &self.device);
        let m = Tensor::<2>::from_data(TensorData::new(m, [ids.len(), l]), &self.device);
        cross_entropy(logits, g, m)
    }

    fn evaluate(&self, net: &Self::Net) -> Result<(BTreeMap<String, f64>, f64, String), TokenizeError> {
        let eval = Tokenize { net: net.valid(), config: self.model.config.clone(), mwt: self.model.mwt.clone(), meta: Meta::default() };
        let pred = segment_cached(&eval, self.encoder, &self.dev_texts, &self.dev_laid, &self.dev_lower);
        let s = score(&self.dev_doc, &pred)?;
        let get = |k: &str| s.get(k).copied().unwrap_or(0.0);
        let line = format!("Tokens {:.2} Sentences {:.2} Words {:.2}", get("Tokens"), get("Sentences"), get("Words"));
        let obj = objective(&s);
        Ok((s, obj, line))
    }

    fn save(&self, net: &Self::Net, path: &Path, meta: Meta, ckpt: Option<&Checkpoint>) -> Result<(), TokenizeError> {
        let snapshot = self.snapshot(net, meta);
        match ckpt {
            Some(c) => snapshot.save(path, tatra_adapters::params::Precision::F32, &c.files().map_err(other)?),
            None => snapshot.save(path, tatra_adapters::params::Precision::shipped(&snapshot.meta), &[]),
        }
    }

    fn meta(&self, seconds: f64, dev: BTreeMap<String, f64>) -> Meta {
        self.o.prov.meta("tokenize", &self.encoder.identity(), &self.o.adapters, seconds, dev)
    }
}

/// Trains a tokenize package. `encoder` must live on an autodiff device.
pub fn train(encoder: &Encoder, o: &TrainOptions) -> Result<Report, TokenizeError> {
    // The device's random numbers (initial weights, dropout masks) come from the seed too.
    encoder.device().seed(o.schedule.seed);
    let device = encoder.device().clone();
    let started = Instant::now();
    let log = |s: String| {
        if !o.schedule.quiet {
            eprintln!("{s}");
        }
    };
    let mut train_doc = tatra_core::conllu::read_file(&o.prov.train).map_err(other)?;
    for f in &o.prov.also_train {
        let mut more = tatra_core::conllu::read_file(f).map_err(other)?;
        // Another file's text never runs on from the last paragraph of the one before.
        if let Some(first) = more.sentences.first_mut().filter(|s| !s.is_newdoc() && !s.is_newpar()) {
            first.comments.insert(0, "# newdoc".into());
        }
        train_doc.sentences.extend(more.sentences);
    }
    let dev_doc = tatra_core::conllu::read_file(&o.prov.dev).map_err(other)?;
    // Windows never exceed the encoder's positions (two go to the special tokens).
    let window = o.window.clamp(1, encoder.max_len().saturating_sub(2).max(1));
    let mut cfg = TokenizeConfig {
        adapters: o.adapters.clone(),
        space_tokens: data::has_space_tokens(&train_doc),
        window,
        dropout: o.dropout,
        glued: data::glued_continuations(&train_doc),
        punct_splits: data::PunctSplits::from_doc(&train_doc),
        sentence_starts: data::sentence_starts(&train_doc),
        joiners: data::joiners(&train_doc),
        space_words: crate::words::SpaceWords::from_doc(&train_doc),
        sentence_bias: 0.0,
        heading_bias: 0.0,
        spaces_in_pieces: true,
        cut_pieces: None,
        whole_max_chars: o.whole_max_chars,
        cut_hiragana: o.cut_hiragana,
        lstm: o.lstm,
    };
    let mwt = Mwt::build(&train_doc);
    let paras: Vec<Paragraph> = if o.drop_final_punct > 0.0 {
        let augmented = data::drop_final_punct(&train_doc, o.drop_final_punct, o.schedule.seed);
        let dropped = train_doc.sentences.iter().zip(&augmented.sentences).filter(|(a, b)| a.tokens.len() != b.tokens.len()).count();
        log(format!("final punctuation dropped from {dropped} of {} training sentences", train_doc.sentences.len()));
        data::paragraphs(&augmented)
    } else {
        data::paragraphs(&train_doc)
    };
    if o.whole_pieces {
        let mut cut = std::collections::BTreeSet::new();
        for p in &paras {
            let mut ends = vec![false; p.text.chars().count() + 1];
            for t in &p.tokens {
                ends[t.end] = true;
            }
            cut.extend(crate::units::pieces_cut_inside(&encoder.tokenizer, &p.text, &ends)?);
        }
        log(format!("whole pieces: {} pieces of scripts without spaces are cut inside by the training text", cut.len()));
        cfg.cut_pieces = Some(cut.into_iter().collect());
    }
    let cut_ids = cfg.cut_ids(&encoder.tokenizer);
    let layout = cfg.layout(cut_ids.as_ref());

    // Units, labels and training windows (consecutive, not overlapping).
    let mut seqs: Vec<Vec<u32>> = Vec::new();
    let mut gold: Vec<Vec<Option<u8>>> = Vec::new();
    let mut n_units = 0;
    for p in &paras {
        let u = units_with(&encoder.tokenizer, &p.text, &layout)?;
        let lab = data::unit_labels(p, &u);
        n_units += u.len();
        let mut s = 0;
        while s < u.len() {
            let e = (s + window).min(u.len());
            let mut ids = vec![encoder.tokenizer.cls_id];
            ids.extend_from_slice(&u.ids[s..e]);
            ids.push(encoder.tokenizer.sep_id);
            seqs.push(ids);
            gold.push(lab[s..e].to_vec());
            s = e;
        }
    }
    log(format!(
        "train: {} paragraphs, {} units in {} windows; {} multi-word token forms; tokens with spaces: {}",
        paras.len(),
        n_units,
        seqs.len(),
        mwt.exact.len(),
        cfg.space_tokens
    ));
    let upto = AdaptedTop::first_layer(encoder, &o.adapters);
    let t0 = Instant::now();
    let lower = encoder.states_sorted(&seqs, 4096, upto);
    let model = Tokenize { net: Tokenize::fresh(encoder, &cfg, &device), config: cfg, mwt, meta: Meta::default() };
    let dev_paras = data::paragraphs(&dev_doc);
    let dev_texts: Vec<&str> = dev_paras.iter().map(|p| p.text.as_str()).collect();
    let dev_laid: Vec<Laid> = dev_texts.iter().map(|t| model.lay(encoder, t)).collect::<Result<_, _>>()?;
    let dev_lower = lower_states(encoder, &dev_laid.iter().collect::<Vec<_>>(), upto);
    log(format!("cached layers 0..{upto} for train and dev in {:.0} s", t0.elapsed().as_secs_f64()));
    let batches = length_batches(&seqs, o.schedule.batch_tokens);
    let net = model.net.clone();
    let n_batches = batches.len();
    let job = Job { o, encoder, device, model, lower, gold, batches, dev_doc, dev_texts, dev_laid, dev_lower };
    let done = tatra_adapters::train::run(&job, net, n_batches, &o.schedule, &o.prov.out, started)?;
    let state = done.state;
    let dev = state.history.get(state.best_epoch.saturating_sub(1)).cloned().unwrap_or_default();
    log(format!("best epoch {}", state.best_epoch));
    Ok(Report {
        resumed_at_epoch: done.resumed_at_epoch,
        epochs: state.epoch,
        best_epoch: state.best_epoch,
        seconds: state.seconds,
        dev,
    })
}
