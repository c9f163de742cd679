//! What every stage's training shares: where the package comes from ([`Provenance`]),
//! how training runs ([`Schedule`]), the resumable [`TrainState`], and the epoch loop
//! ([`run`]): batches in a seeded shuffled order, Adam, a progress bar, dev scores after
//! every epoch, the best epoch saved as the package, the learning rate halved after an
//! epoch without dev improvement, early stopping, a time budget, and checkpoints
//! (`OUT.ckpt`, f32 weights and the state) every few minutes and after every epoch, from
//! which `--resume` continues at the batch where the run stopped. With
//! [`Schedule::ema`], dev scores and the package come from an exponential moving average
//! of the weights (kept in the checkpoint too) instead of the last step's weights.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::Tensor;
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};

use crate::AdapterConfig;
use crate::package::{Meta, Package, PackageError, ckpt_path, file_name};

/// Where a package comes from; recorded in its metadata.
#[derive(Debug, Clone)]
pub struct Provenance {
    pub train: PathBuf,
    /// More training files, read after `train` (the same treebank format: more data of the
    /// language from another treebank's usable files, or other languages' data for
    /// cross-lingual transfer through the shared encoder); recorded in the metadata.
    pub also_train: Vec<PathBuf>,
    /// Training files of another language or annotation scheme (posdep): their sentences
    /// train only the labels that `train` and `also_train` have, and stay out of the
    /// vocabularies and the lemma lexicon; recorded in the metadata.
    pub transfer_train: Vec<PathBuf>,
    /// At most this many sentences from each `transfer_train` file, evenly spaced
    /// through it (None: all).
    pub transfer_sentences: Option<usize>,
    /// The outputs the `transfer_train` sentences train, of `upos`, `xpos`, `feats`,
    /// `lemma`, `deprel` (posdep; the arcs always): empty for all of them.
    pub transfer_outputs: Vec<String>,
    pub dev: PathBuf,
    pub out: PathBuf,
    pub language: String,
    pub treebank: String,
    pub licence: String,
    /// The command line that trained it.
    pub command: String,
}

impl Provenance {
    /// The package metadata of a stage trained from these files.
    pub fn meta(&self, stage: &str, encoder: &str, adapters: &AdapterConfig, seconds: f64, dev: BTreeMap<String, f64>) -> Meta {
        let mut training_data = format!("train {}; dev {}", file_name(&self.train), file_name(&self.dev));
        for f in &self.also_train {
            training_data.push_str(&format!("; also train {}", file_name(f)));
        }
        for f in &self.transfer_train {
            training_data.push_str(&format!("; transfer train {}", file_name(f)));
            if let Some(n) = self.transfer_sentences {
                training_data.push_str(&format!(" (at most {n} sentences, evenly spaced)"));
            }
            if !self.transfer_outputs.is_empty() {
                training_data.push_str(&format!(" (arcs and {} only)", self.transfer_outputs.join(", ")));
            }
        }
        Meta {
            format: "tatra-adapter/1".into(),
            stage: stage.into(),
            language: self.language.clone(),
            treebank: self.treebank.clone(),
            encoder: encoder.into(),
            adapters: adapters.clone(),
            training_data,
            licence: self.licence.clone(),
            command: self.command.clone(),
            tatra_version: env!("CARGO_PKG_VERSION").into(),
            training_seconds: seconds,
            dev_scores: dev,
            test_scores: BTreeMap::new(),
            weights: String::new(),
        }
    }
}

/// How training runs.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub learning_rate: f64,
    pub max_epochs: usize,
    /// Stop after this many epochs without dev improvement.
    pub patience: usize,
    /// Padded pieces per batch.
    pub batch_tokens: usize,
    pub seed: u64,
    /// Continue from `OUT.ckpt` where it exists.
    pub resume: bool,
    pub checkpoint_minutes: f64,
    /// Stop at the end of the first epoch past this budget (counted from the start of
    /// the run, data preparation included).
    pub max_minutes: f64,
    pub quiet: bool,
    /// Decay of an exponential moving average of the trainable weights, updated after
    /// every step (warmed up as min(decay, (1 + t) / (10 + t)) at step t); dev scores and
    /// the package come from the average. 0: off (the last step's weights).
    pub ema: f64,
}

/// What a checkpoint holds beside the weights: the state and, with EMA, the averaged
/// weights (f32 safetensors).
pub struct Checkpoint<'a> {
    pub state: &'a TrainState,
    pub ema: Option<Vec<u8>>,
}

impl Checkpoint<'_> {
    /// The extra files of the checkpoint package.
    pub fn files(&self) -> Result<Vec<(&'static str, Vec<u8>)>, String> {
        let mut files = vec![("train_state.json", serde_json::to_vec_pretty(self.state).map_err(|e| e.to_string())?)];
        if let Some(e) = &self.ema {
            files.push((EMA_FILE, e.clone()));
        }
        Ok(files)
    }
}

/// The averaged weights inside a checkpoint.
pub const EMA_FILE: &str = "ema.safetensors";

fn checkpoint<'a>(state: &'a TrainState, ema: &Option<Ema>) -> Result<Checkpoint<'a>, String> {
    Ok(Checkpoint { state, ema: ema.as_ref().map(Ema::to_bytes).transpose()? })
}

/// An exponential moving average of a module's trainable parameters, kept as tensors on
/// the training device (flattened, by parameter path): an update is a few element-wise
/// kernels there, never a copy to the host. Only checkpoints read it back.
struct Ema {
    decay: f64,
    values: HashMap<String, (Vec<usize>, Tensor<1>)>,
}

impl Ema {
    fn new<M: Module>(decay: f64, net: &M) -> Self {
        let mut values = HashMap::new();
        crate::params::each_trainable(net, |name, shape, v| {
            values.insert(name, (shape.to_vec(), v));
        });
        Ema { decay, values }
    }

    /// Folds in the weights after update `step` (counted from 0 over the whole run).
    fn update<M: Module>(&mut self, net: &M, step: usize) {
        let d = self.decay.min((1.0 + step as f64) / (10.0 + step as f64));
        let values = &mut self.values;
        crate::params::each_trainable(net, |name, _, x| {
            if let Some((_, avg)) = values.get_mut(&name) {
                *avg = avg.clone().mul_scalar(d).add(x.mul_scalar(1.0 - d));
            }
        });
    }

    /// `net` with the averaged weights.
    fn apply<M: Module>(&self, net: &M) -> Result<M, String> {
        let (m, missing) = crate::params::assign_trainable(net.clone(), |name, dims, _| match self.values.get(name) {
            Some((shape, v)) if shape.as_slice() == dims => Ok(v.clone()),
            _ => Err(name.to_string()),
        });
        if missing.is_empty() { Ok(m) } else { Err(format!("averaged parameters missing or mis-shaped: {}", missing.join(", "))) }
    }

    /// Replaces the average with stored values (a checkpoint's), on the device of `net`.
    fn load<M: Module>(&mut self, net: &M, stored: &HashMap<String, (Vec<usize>, Vec<f32>)>) -> Result<(), String> {
        let on = crate::params::import(net.clone(), stored)?;
        *self = Ema::new(self.decay, &on);
        Ok(())
    }

    /// The average as f32 safetensors (read back to the host: checkpoints only).
    fn to_bytes(&self) -> Result<Vec<u8>, String> {
        let mut v: Vec<(String, Vec<usize>, Vec<f32>)> =
            self.values.iter().map(|(n, (s, x))| (n.clone(), s.clone(), tatra_encoder::to_vec(x.clone()))).collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        crate::params::to_safetensors(&v, crate::params::Precision::F32)
    }
}

/// The state a checkpoint carries (`train_state.json`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TrainState {
    /// Epochs done.
    pub epoch: usize,
    /// Batches done in the current epoch.
    pub batch: usize,
    /// Best dev objective so far.
    pub best: f64,
    pub best_epoch: usize,
    pub bad_epochs: usize,
    /// Training seconds over all runs.
    pub seconds: f64,
    /// Dev scores after each epoch.
    #[serde(deserialize_with = "history_compat")]
    pub history: Vec<BTreeMap<String, f64>>,
    /// Learning-rate factor: halved after every epoch without dev improvement.
    #[serde(default = "one")]
    pub lr_scale: f64,
    /// Optimiser steps over all runs (the EMA's warm-up counts them).
    #[serde(default)]
    pub steps: usize,
}

fn one() -> f64 {
    1.0
}

/// Older NER checkpoints kept the history as bare F1 numbers.
fn history_compat<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<BTreeMap<String, f64>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Entry {
        Scores(BTreeMap<String, f64>),
        F1(f64),
    }
    let v: Vec<Entry> = Vec::deserialize(d)?;
    Ok(v.into_iter()
        .map(|e| match e {
            Entry::Scores(m) => m,
            Entry::F1(f) => BTreeMap::from([("F1".to_string(), f)]),
        })
        .collect())
}

/// A stage's side of training: its loss on a batch, its dev evaluation and its package.
pub trait Trainee {
    /// The trainable network (adapters and heads over the frozen layers).
    type Net: Module + Clone;
    type Error: From<PackageError> + From<String>;

    /// The loss of training batch `batch` (an index into the stage's batches).
    fn loss(&self, net: &Self::Net, batch: usize) -> Tensor<1>;
    /// Dev scores, the objective to maximise, and the epoch's log line.
    fn evaluate(&self, net: &Self::Net) -> Result<(BTreeMap<String, f64>, f64, String), Self::Error>;
    /// Writes `net` as a package (f16 weights) or, with a state, as a checkpoint (f32).
    fn save(&self, net: &Self::Net, path: &Path, meta: Meta, ckpt: Option<&Checkpoint>) -> Result<(), Self::Error>;
    /// The metadata to record after `seconds` of training with these dev scores.
    fn meta(&self, seconds: f64, dev: BTreeMap<String, f64>) -> Meta;
}

/// What [`run`] leaves: the last weights (the best ones are in the package at `out`),
/// the state, and the epoch the run resumed at.
pub struct Trained<N> {
    pub net: N,
    pub state: TrainState,
    pub resumed_at_epoch: usize,
}

/// Trains `net` over `n_batches` batches per epoch, saving the best epoch to `out`.
/// `started` is when the run began (the time budget counts data preparation).
pub fn run<T: Trainee>(t: &T, mut net: T::Net, n_batches: usize, s: &Schedule, out: &Path, started: Instant) -> Result<Trained<T::Net>, T::Error> {
    let log = |m: String| {
        if !s.quiet {
            eprintln!("{m}");
        }
    };
    let mut state = TrainState { best: f64::MIN, lr_scale: 1.0, ..Default::default() };
    let mut ema: Option<Ema> = None;
    let ckpt = ckpt_path(out);
    if s.resume && ckpt.exists() {
        let pkg = Package::read(&ckpt)?;
        // The weights carry no layer numbers: adapters trained for other layers would
        // load without complaint and mean something else.
        let now = t.meta(0.0, BTreeMap::new()).adapters;
        if pkg.meta.adapters != now {
            return Err(format!(
                "{} was trained with adapters {:?}, this run asks for {:?}: give the same --depth, --adapter-layers and --reduction, or delete the checkpoint to start over",
                ckpt.display(),
                pkg.meta.adapters,
                now
            )
            .into());
        }
        state = pkg.json("train_state.json")?;
        let values = crate::params::from_safetensors(pkg.file("weights.safetensors")?)?;
        net = crate::params::import(net, &values).map_err(|e| format!("{}: {e}", ckpt.display()))?;
        if s.ema > 0.0 {
            // A checkpoint written without EMA starts its average from its weights.
            let mut e = Ema::new(s.ema, &net);
            if let Ok(bytes) = pkg.file(EMA_FILE) {
                let stored = crate::params::from_safetensors(bytes)?;
                e.load(&net, &stored).map_err(|err| format!("{} ({EMA_FILE}): {err}", ckpt.display()))?;
            }
            ema = Some(e);
        }
        log(format!("resumed from {} at epoch {}, batch {}", ckpt.display(), state.epoch + 1, state.batch));
    }
    if s.ema > 0.0 && ema.is_none() {
        ema = Some(Ema::new(s.ema, &net));
    } else if ema.is_none() {
        // Lazily initialised parameters get their values now, as the average's first
        // copy gives them theirs: a run draws its random numbers in the same order with
        // or without `--ema` (test `trains_with_weight_average`).
        crate::params::each_trainable(&net, |_, _, _| {});
    }
    let resumed_at_epoch = state.epoch;
    let mut optim = AdamConfig::new().init();
    let mut last_ckpt = Instant::now();
    let before = state.seconds;
    let run_start = Instant::now();
    while state.epoch < s.max_epochs {
        let mut order: Vec<usize> = (0..n_batches).collect();
        tatra_core::rng::SplitMix64(s.seed.wrapping_add(state.epoch as u64)).shuffle(&mut order);
        let bar = if s.quiet { ProgressBar::hidden() } else { ProgressBar::new(order.len() as u64) };
        bar.set_style(
            ProgressStyle::with_template("epoch {msg} [{bar:30}] {pos}/{len} batches, {per_sec}, ETA {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_message(format!("{}", state.epoch + 1));
        bar.set_position(state.batch as u64);
        let (mut total, mut n) = (0.0, 0usize);
        for &bi in order.iter().skip(state.batch) {
            let loss = t.loss(&net, bi);
            total += tatra_encoder::to_vec(loss.clone()).first().copied().unwrap_or(0.0) as f64;
            n += 1;
            let grads = GradientsParams::from_grads(loss.backward(), &net);
            net = optim.step(s.learning_rate * state.lr_scale, net, grads);
            if let Some(e) = ema.as_mut() {
                e.update(&net, state.steps);
            }
            state.steps += 1;
            state.batch += 1;
            bar.inc(1);
            if last_ckpt.elapsed().as_secs_f64() > s.checkpoint_minutes * 60.0 {
                state.seconds = before + run_start.elapsed().as_secs_f64();
                t.save(&net, &ckpt, t.meta(state.seconds, BTreeMap::new()), Some(&checkpoint(&state, &ema)?))?;
                last_ckpt = Instant::now();
            }
        }
        bar.finish_and_clear();
        let averaged = ema.as_ref().map(|e| e.apply(&net)).transpose()?;
        let scored = averaged.as_ref().unwrap_or(&net);
        let (scores, objective, line) = t.evaluate(scored)?;
        state.seconds = before + run_start.elapsed().as_secs_f64();
        log(format!("epoch {:>2}: loss {:.4}; dev {line} ({:.0} s)", state.epoch + 1, total / n.max(1) as f64, state.seconds));
        state.history.push(scores.clone());
        state.epoch += 1;
        state.batch = 0;
        if objective > state.best {
            state.best = objective;
            state.best_epoch = state.epoch;
            state.bad_epochs = 0;
            t.save(scored, out, t.meta(state.seconds, scores), None)?;
        } else {
            state.bad_epochs += 1;
            state.lr_scale *= 0.5;
        }
        t.save(&net, &ckpt, t.meta(state.seconds, BTreeMap::new()), Some(&checkpoint(&state, &ema)?))?;
        last_ckpt = Instant::now();
        if state.bad_epochs >= s.patience {
            log(format!("early stop: no dev improvement for {} epochs", s.patience));
            break;
        }
        if started.elapsed().as_secs_f64() > s.max_minutes * 60.0 {
            log(format!("stopping: time budget of {} minutes reached", s.max_minutes));
            break;
        }
    }
    Ok(Trained { net, state, resumed_at_epoch })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_states_of_every_stage() {
        let posdep = r#"{"epoch":2,"batch":5,"best":80.1,"best_epoch":2,"bad_epochs":0,"seconds":12.5,"history":[{"LAS":70.0},{"LAS":80.1}],"lr_scale":1.0}"#;
        let s: TrainState = serde_json::from_str(posdep).unwrap();
        assert_eq!((s.epoch, s.batch, s.history[1]["LAS"]), (2, 5, 80.1));
        // NER checkpoints of tatra 0.1 kept bare F1 numbers and no learning-rate factor.
        let ner = r#"{"epoch":1,"batch":0,"best":60.0,"best_epoch":1,"bad_epochs":0,"seconds":3.0,"history":[60.0]}"#;
        let s: TrainState = serde_json::from_str(ner).unwrap();
        assert_eq!((s.history[0]["F1"], s.lr_scale), (60.0, 1.0));
    }
}
