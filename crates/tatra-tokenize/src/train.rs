//! Training a tokenize package: the raw text of each paragraph is rebuilt from the
//! CoNLL-U, cut into units and windows; the frozen layers below the first adapter run
//! once per window and are cached; the adapters and the unit classifier train with
//! Adam on batches of similar length. Every epoch the dev text is segmented from raw
//! text and scored by the built-in evaluator (Tokens, Sentences, Words); early stopping
//! on their mean, checkpoints every few minutes and `--resume`, as for posdep.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Int, Tensor, TensorData};
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};
use tatra_adapters::package::{Meta, Package, ckpt_path, file_name};
use tatra_adapters::{AdaptedTop, AdapterConfig, cross_entropy, pad_batch};
use tatra_core::Document;
use tatra_encoder::Encoder;
use tatra_encoder::words::length_batches;

use crate::data::{self, Paragraph};
use crate::mwt::Mwt;
use crate::run::{Laid, Tokenize, TokenizeConfig, TokenizeError, lower_states};
use crate::units::units;

/// Everything `tatra train tokenize` takes.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    pub train: PathBuf,
    pub dev: PathBuf,
    pub out: PathBuf,
    pub language: String,
    pub treebank: String,
    pub licence: String,
    pub command: String,
    pub adapters: AdapterConfig,
    /// Content units per training window.
    pub window: usize,
    pub dropout: f64,
    pub learning_rate: f64,
    pub max_epochs: usize,
    pub patience: usize,
    pub batch_tokens: usize,
    pub seed: u64,
    pub resume: bool,
    pub checkpoint_minutes: f64,
    pub max_minutes: f64,
    pub quiet: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct TrainState {
    epoch: usize,
    batch: usize,
    best: f64,
    best_epoch: usize,
    bad_epochs: usize,
    seconds: f64,
    history: Vec<BTreeMap<String, f64>>,
    /// Learning-rate factor: halved after every epoch without dev improvement.
    #[serde(default = "one")]
    lr_scale: f64,
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


fn meta(o: &TrainOptions, enc: &Encoder, seconds: f64, dev: BTreeMap<String, f64>) -> Meta {
    Meta {
        format: "tatra-adapter/1".into(),
        stage: "tokenize".into(),
        language: o.language.clone(),
        treebank: o.treebank.clone(),
        encoder: enc.identity(),
        adapters: o.adapters.clone(),
        training_data: format!("train {}; dev {}", file_name(&o.train), file_name(&o.dev)),
        licence: o.licence.clone(),
        command: o.command.clone(),
        tatra_version: env!("CARGO_PKG_VERSION").into(),
        training_seconds: seconds,
        dev_scores: dev,
        test_scores: BTreeMap::new(),
    }
}

/// Segments laid-out paragraphs from cached lower states into one document.
pub fn segment_cached(model: &Tokenize, encoder: &Encoder, texts: &[&str], laid: &[Laid], lower: &[Vec<Vec<f32>>]) -> Document {
    let refs: Vec<&Laid> = laid.iter().collect();
    let labels = model.labels_lower(encoder, &refs, lower);
    let mut doc = Document::default();
    for ((t, l), lab) in texts.iter().zip(laid).zip(&labels) {
        doc.sentences.extend(model.decode(t, &l.units, lab));
    }
    doc
}

/// Trains a tokenize package. `encoder` must live on an autodiff device.
pub fn train(encoder: &Encoder, o: &TrainOptions) -> Result<Report, TokenizeError> {
    let device = encoder.device().clone();
    let started = Instant::now();
    let log = |s: String| {
        if !o.quiet {
            eprintln!("{s}");
        }
    };
    let train_doc = tatra_core::conllu::read_file(&o.train).map_err(other)?;
    let dev_doc = tatra_core::conllu::read_file(&o.dev).map_err(other)?;
    let cfg = TokenizeConfig {
        adapters: o.adapters.clone(),
        space_tokens: data::has_space_tokens(&train_doc),
        window: o.window,
        dropout: o.dropout,
    };
    let mwt = Mwt::build(&train_doc);
    let paras: Vec<Paragraph> = data::paragraphs(&train_doc);

    // Units, labels and training windows (consecutive, not overlapping).
    let mut seqs: Vec<Vec<u32>> = Vec::new();
    let mut gold: Vec<Vec<Option<u8>>> = Vec::new();
    let mut n_units = 0;
    for p in &paras {
        let u = units(&encoder.tokenizer, &p.text)?;
        let lab = data::unit_labels(p, &u);
        n_units += u.len();
        let mut s = 0;
        while s < u.len() {
            let e = (s + o.window).min(u.len());
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
    let mut model = Tokenize {
        net: Tokenize::fresh(encoder, &cfg, &device),
        config: cfg.clone(),
        mwt: mwt.clone(),
        meta: Meta::default(),
    };
    let dev_paras = data::paragraphs(&dev_doc);
    let dev_texts: Vec<&str> = dev_paras.iter().map(|p| p.text.as_str()).collect();
    let dev_laid: Vec<Laid> = dev_texts.iter().map(|t| model.lay(encoder, t)).collect::<Result<_, _>>()?;
    let dev_lower = lower_states(encoder, &dev_laid.iter().collect::<Vec<_>>(), upto);
    log(format!(
        "cached layers 0..{upto} for train and dev in {:.0} s",
        t0.elapsed().as_secs_f64()
    ));
    let h = encoder.hidden_size();
    let batches = length_batches(&seqs, o.batch_tokens);

    let mut state = TrainState { best: f64::MIN, lr_scale: 1.0, ..Default::default() };
    let ckpt = ckpt_path(&o.out);
    if o.resume && ckpt.exists() {
        let pkg = Package::read(&ckpt)?;
        state = pkg.json("train_state.json")?;
        let values = tatra_adapters::params::from_safetensors(pkg.file("weights.safetensors")?).map_err(other)?;
        model.net = tatra_adapters::params::import(model.net, &values).map_err(other)?;
        log(format!(
            "resumed from {} at epoch {}, batch {}",
            ckpt.display(),
            state.epoch + 1,
            state.batch
        ));
    }
    let resumed_at_epoch = state.epoch;
    let mut optim = AdamConfig::new().init();
    let mut last_ckpt = Instant::now();
    let elapsed_before = state.seconds;
    let run_start = Instant::now();
    let save = |path: &Path, m: &Tokenize, meta: Meta, st: Option<&TrainState>| -> Result<(), TokenizeError> {
        let snapshot = Tokenize {
            net: m.net.clone(),
            config: m.config.clone(),
            mwt: m.mwt.clone(),
            meta,
        };
        match st {
            Some(s) => snapshot.save(path, false, &[("train_state.json", serde_json::to_vec_pretty(s).map_err(other)?)]),
            None => snapshot.save(path, true, &[]),
        }
    };

    while state.epoch < o.max_epochs {
        let mut order: Vec<usize> = (0..batches.len()).collect();
        tatra_core::rng::SplitMix64(o.seed.wrapping_add(state.epoch as u64)).shuffle(&mut order);
        let bar = if o.quiet {
            ProgressBar::hidden()
        } else {
            ProgressBar::new(order.len() as u64)
        };
        bar.set_style(
            ProgressStyle::with_template("epoch {msg} [{bar:30}] {pos}/{len} batches, {per_sec}, ETA {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_message(format!("{}", state.epoch + 1));
        bar.set_position(state.batch as u64);
        let (mut total, mut n) = (0.0, 0usize);
        for &bi in order.iter().skip(state.batch) {
            let ids = &batches[bi];
            let states: Vec<&[f32]> = ids.iter().map(|&i| lower[i].as_slice()).collect();
            let (x, bias, l) = pad_batch(&states, h, &device);
            let mut g = vec![0i64; ids.len() * l];
            let mut m = vec![0f32; ids.len() * l];
            for (k, &i) in ids.iter().enumerate() {
                for (u, lab) in gold[i].iter().enumerate() {
                    if let Some(lab) = lab {
                        g[k * l + u + 1] = i64::from(*lab);
                        m[k * l + u + 1] = 1.0;
                    }
                }
            }
            let logits = model.net.forward(x, &bias);
            let g = Tensor::<2, Int>::from_data(TensorData::new(g, [ids.len(), l]), &device);
            let m = Tensor::<2>::from_data(TensorData::new(m, [ids.len(), l]), &device);
            let loss = cross_entropy(logits, g, m);
            total += tatra_encoder::to_vec(loss.clone()).first().copied().unwrap_or(0.0) as f64;
            n += 1;
            let grads = GradientsParams::from_grads(loss.backward(), &model.net);
            model.net = optim.step(o.learning_rate * state.lr_scale, model.net, grads);
            state.batch += 1;
            bar.inc(1);
            if last_ckpt.elapsed().as_secs_f64() > o.checkpoint_minutes * 60.0 {
                state.seconds = elapsed_before + run_start.elapsed().as_secs_f64();
                save(&ckpt, &model, meta(o, encoder, state.seconds, BTreeMap::new()), Some(&state))?;
                last_ckpt = Instant::now();
            }
        }
        bar.finish_and_clear();
        let eval = Tokenize {
            net: model.net.valid(),
            config: cfg.clone(),
            mwt: mwt.clone(),
            meta: Meta::default(),
        };
        let pred = segment_cached(&eval, encoder, &dev_texts, &dev_laid, &dev_lower);
        let scores = score(&dev_doc, &pred)?;
        let obj = objective(&scores);
        state.seconds = elapsed_before + run_start.elapsed().as_secs_f64();
        log(format!(
            "epoch {:>2}: loss {:.4}; dev Tokens {:.2} Sentences {:.2} Words {:.2} ({:.0} s)",
            state.epoch + 1,
            total / n.max(1) as f64,
            scores.get("Tokens").copied().unwrap_or(0.0),
            scores.get("Sentences").copied().unwrap_or(0.0),
            scores.get("Words").copied().unwrap_or(0.0),
            state.seconds
        ));
        state.history.push(scores.clone());
        state.epoch += 1;
        state.batch = 0;
        if obj > state.best {
            state.best = obj;
            state.best_epoch = state.epoch;
            state.bad_epochs = 0;
            save(&o.out, &model, meta(o, encoder, state.seconds, scores), None)?;
        } else {
            state.bad_epochs += 1;
            state.lr_scale *= 0.5;
        }
        save(&ckpt, &model, meta(o, encoder, state.seconds, BTreeMap::new()), Some(&state))?;
        last_ckpt = Instant::now();
        if state.bad_epochs >= o.patience {
            log(format!("early stop: no dev improvement for {} epochs", o.patience));
            break;
        }
        if started.elapsed().as_secs_f64() > o.max_minutes * 60.0 {
            log(format!("stopping: time budget of {} minutes reached", o.max_minutes));
            break;
        }
    }
    let dev = state.history.get(state.best_epoch.saturating_sub(1)).cloned().unwrap_or_default();
    log(format!("best epoch {}", state.best_epoch));
    Ok(Report {
        resumed_at_epoch,
        epochs: state.epoch,
        best_epoch: state.best_epoch,
        seconds: state.seconds,
        dev,
    })
}

fn one() -> f64 {
    1.0
}
