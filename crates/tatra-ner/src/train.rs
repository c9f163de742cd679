//! Training a NER package on IOB2 files: frozen encoder, adapters in the top K layers
//! (the layers below run once per sentence and are cached), a scalar mix and a tag
//! classifier; Adam on batches of similar length; dev micro F1 (exact spans) every epoch,
//! early stopping, checkpoints every few minutes and `--resume`, as for the other stages.
//! At the end, constrained Viterbi and plain argmax (with stray `I-` repaired) are both
//! scored on dev and the better one is kept.

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
use tatra_encoder::Encoder;
use tatra_encoder::words::length_batches;

use crate::iob2::{self, NerSentence};
use crate::{Decoding, Ner, NerConfig, NerError, lower_states, spans};

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
    history: Vec<f64>,
    /// Learning-rate factor: halved after every epoch without dev improvement.
    #[serde(default = "one")]
    lr_scale: f64,
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


pub fn train(encoder: &Encoder, o: &TrainOptions) -> Result<Report, NerError> {
    let device = encoder.device().clone();
    let started = Instant::now();
    let log = |s: String| {
        if !o.quiet {
            eprintln!("{s}");
        }
    };
    let train = iob2::read_file(&o.train).map_err(NerError::Other)?;
    let dev = iob2::read_file(&o.dev).map_err(NerError::Other)?;
    // Tags: O first, then B-/I- of each type seen in training, sorted.
    let mut types: Vec<String> = train.iter().flat_map(|s| &s.tags).filter_map(|t| t.get(2..).map(String::from)).collect();
    types.sort();
    types.dedup();
    let mut tags = vec!["O".to_string()];
    for t in &types {
        tags.push(format!("B-{t}"));
        tags.push(format!("I-{t}"));
    }
    let index: std::collections::HashMap<&str, usize> = tags.iter().enumerate().map(|(i, t)| (t.as_str(), i)).collect();
    let mut cfg = NerConfig { adapters: o.adapters.clone(), tags: tags.clone(), decoding: Decoding::Viterbi, dropout: o.dropout };
    log(format!("train: {} sentences, {} tokens; types: {}", train.len(), train.iter().map(|s| s.forms.len()).sum::<usize>(), types.join(" ")));

    let upto = AdaptedTop::first_layer(encoder, &o.adapters);
    let t0 = Instant::now();
    let forms: Vec<Vec<String>> = train.iter().map(|s| s.forms.clone()).collect();
    let (lay, lower) = lower_states(encoder, &forms, upto)?;
    let dev_forms: Vec<Vec<String>> = dev.iter().map(|s| s.forms.clone()).collect();
    let (dev_lay, dev_lower) = lower_states(encoder, &dev_forms, upto)?;
    log(format!("cached layers 0..{upto} for train and dev in {:.0} s", t0.elapsed().as_secs_f64()));
    let h = encoder.hidden_size();
    let usable: Vec<usize> = (0..train.len()).filter(|&i| lay[i].windows.len() == 1).collect();
    let seqs: Vec<Vec<u32>> = usable.iter().map(|&i| vec![0; lower[i][0].len() / h]).collect();
    let batches: Vec<Vec<usize>> = length_batches(&seqs, o.batch_tokens).into_iter().map(|b| b.into_iter().map(|k| usable[k]).collect()).collect();

    let mut model = Ner { net: Ner::fresh(encoder, &cfg, &device), config: cfg.clone(), meta: Meta::default() };
    let mut state = TrainState { best: f64::MIN, lr_scale: 1.0, ..Default::default() };
    let ckpt = ckpt_path(&o.out);
    if o.resume && ckpt.exists() {
        let pkg = Package::read(&ckpt)?;
        state = pkg.json("train_state.json")?;
        let values = tatra_adapters::params::from_safetensors(pkg.file("weights.safetensors")?).map_err(other)?;
        model.net = tatra_adapters::params::import(model.net, &values).map_err(other)?;
        log(format!("resumed from {} at epoch {}, batch {}", ckpt.display(), state.epoch + 1, state.batch));
    }
    let meta = |seconds: f64, dev: BTreeMap<String, f64>| Meta {
        format: "tatra-adapter/1".into(),
        stage: "ner".into(),
        language: o.language.clone(),
        treebank: o.treebank.clone(),
        encoder: encoder.identity(),
        adapters: o.adapters.clone(),
        training_data: format!("train {}; dev {}", file_name(&o.train), file_name(&o.dev)),
        licence: o.licence.clone(),
        command: o.command.clone(),
        tatra_version: env!("CARGO_PKG_VERSION").into(),
        training_seconds: seconds,
        dev_scores: dev,
        test_scores: BTreeMap::new(),
    };
    let save = |path: &Path, m: &Ner, cfg: &NerConfig, meta: Meta, st: Option<&TrainState>| -> Result<(), NerError> {
        let snap = Ner { net: m.net.clone(), config: cfg.clone(), meta };
        match st {
            Some(s) => snap.save(path, false, &[("train_state.json", serde_json::to_vec_pretty(s).map_err(other)?)]),
            None => snap.save(path, true, &[]),
        }
    };
    let resumed_at_epoch = state.epoch;
    let mut optim = AdamConfig::new().init();
    let mut last_ckpt = Instant::now();
    let before = state.seconds;
    let run_start = Instant::now();
    while state.epoch < o.max_epochs {
        let mut order: Vec<usize> = (0..batches.len()).collect();
        tatra_core::rng::SplitMix64(o.seed.wrapping_add(state.epoch as u64)).shuffle(&mut order);
        let bar = if o.quiet { ProgressBar::hidden() } else { ProgressBar::new(order.len() as u64) };
        bar.set_style(
            ProgressStyle::with_template("epoch {msg} [{bar:30}] {pos}/{len} batches, {per_sec}, ETA {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_message(format!("{}", state.epoch + 1));
        bar.set_position(state.batch as u64);
        let (mut total, mut n) = (0.0, 0usize);
        for &bi in order.iter().skip(state.batch) {
            let ids = &batches[bi];
            let states: Vec<&[f32]> = ids.iter().map(|&i| lower[i][0].as_slice()).collect();
            let (x, bias, l) = pad_batch(&states, h, &device);
            let mut g = vec![0i64; ids.len() * l];
            let mut m = vec![0f32; ids.len() * l];
            for (k, &i) in ids.iter().enumerate() {
                for (t, r) in lay[i].pieces.word_ranges.iter().enumerate() {
                    let p = k * l + r.0 + 1; // +1: the leading special token
                    g[p] = index.get(train[i].tags[t].as_str()).copied().unwrap_or(0) as i64;
                    m[p] = 1.0;
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
                state.seconds = before + run_start.elapsed().as_secs_f64();
                save(&ckpt, &model, &cfg, meta(state.seconds, BTreeMap::new()), Some(&state))?;
                last_ckpt = Instant::now();
            }
        }
        bar.finish_and_clear();
        let eval = Ner { net: model.net.valid(), config: cfg.clone(), meta: Meta::default() };
        let f1 = micro_f1(&dev, &eval.tag_lower(encoder, &dev_lay, &dev_lower, Decoding::Viterbi))?;
        state.seconds = before + run_start.elapsed().as_secs_f64();
        log(format!("epoch {:>2}: loss {:.4}; dev micro F1 {f1:.2} ({:.0} s)", state.epoch + 1, total / n.max(1) as f64, state.seconds));
        state.history.push(f1);
        state.epoch += 1;
        state.batch = 0;
        if f1 > state.best {
            state.best = f1;
            state.best_epoch = state.epoch;
            state.bad_epochs = 0;
            save(&o.out, &model, &cfg, meta(state.seconds, BTreeMap::from([("F1".to_string(), f1)])), None)?;
        } else {
            state.bad_epochs += 1;
            state.lr_scale *= 0.5;
        }
        save(&ckpt, &model, &cfg, meta(state.seconds, BTreeMap::new()), Some(&state))?;
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
    // Decoding: constrained Viterbi against argmax, on dev with the best weights.
    let best = Ner::load(&o.out, encoder)?;
    let fv = micro_f1(&dev, &best.tag_lower(encoder, &dev_lay, &dev_lower, Decoding::Viterbi))?;
    let fa = micro_f1(&dev, &best.tag_lower(encoder, &dev_lay, &dev_lower, Decoding::Argmax))?;
    cfg.decoding = if fv >= fa { Decoding::Viterbi } else { Decoding::Argmax };
    let f = fv.max(fa);
    let m = meta(state.seconds, BTreeMap::from([("F1".to_string(), f), ("F1-viterbi".to_string(), fv), ("F1-argmax".to_string(), fa)]));
    save(&o.out, &best, &cfg, m, None)?;
    log(format!("best epoch {}; dev micro F1 Viterbi {fv:.2}, argmax {fa:.2}: {:?} kept", state.best_epoch, cfg.decoding));
    Ok(Report {
        resumed_at_epoch,
        epochs: state.epoch,
        best_epoch: state.best_epoch,
        seconds: state.seconds,
        dev_f1_viterbi: fv,
        dev_f1_argmax: fa,
        decoding: cfg.decoding,
    })
}

fn one() -> f64 {
    1.0
}
