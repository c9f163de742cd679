//! Training a posdep package: frozen encoder, adapters in the top K layers, heads; the
//! layers below the first adapter run once per sentence and are cached. Batches by
//! length, Adam, per-epoch dev scores from the built-in evaluator, early stopping on
//! dev, checkpoints every few minutes and `--resume`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Int, Tensor, TensorData};
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};
use tatra_adapters::package::{Meta, Package, ckpt_path, file_name};
use tatra_adapters::{AdaptedTop, AdapterConfig};
use tatra_core::Document;
use tatra_encoder::Encoder;
use tatra_encoder::words::length_batches;

use crate::data::{self, Example, Vocabs};
use crate::model::{HeadConfig, PosdepNet, cross_entropy};
use crate::run::{Lower, Posdep, PosdepConfig, PosdepError, head_mask, lower_states, pad_batch};

/// Everything `tatra train posdep` takes.
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
    pub heads: HeadConfig,
    /// A learned mix of the adapted layers feeds the heads.
    pub mix: bool,
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
    /// Epochs done before this run (from the checkpoint when resuming).
    pub resumed_at_epoch: usize,
    pub epochs: usize,
    pub best_epoch: usize,
    pub seconds: f64,
    pub dev: BTreeMap<String, f64>,
    pub lexicon_lemmas: f64,
    pub rule_lemmas: f64,
    pub use_lexicon: bool,
}


fn read(path: &Path) -> Result<Document, PosdepError> {
    tatra_core::conllu::read_file(path).map_err(|e| PosdepError::Other(e.to_string()))
}

/// One training batch as tensors.
struct BatchTensors {
    x: Tensor<3>,
    bias: Tensor<4>,
    gather: Tensor<3, Int>,
    word_mask: Tensor<2>,
    head_bias: Tensor<3>,
    gold: [Tensor<2, Int>; 6],
}

fn batch_tensors(ids: &[usize], ex: &[Example], lower: &[Lower], pieces: &[Vec<usize>], h: usize, device: &Device) -> BatchTensors {
    let states: Vec<&[f32]> = ids.iter().map(|&i| lower[i][0].as_slice()).collect();
    let (x, bias, _) = pad_batch(&states, h, device);
    let w = ids.iter().map(|&i| ex[i].words.len()).max().unwrap_or(1);
    let b = ids.len();
    let mut gather = vec![0i64; b * (w + 1)];
    let mut mask = vec![0f32; b * w];
    let mut gold: [Vec<i64>; 6] = std::array::from_fn(|_| vec![0i64; b * w]);
    for (k, &i) in ids.iter().enumerate() {
        let e = &ex[i];
        for (d, &p) in pieces[i].iter().enumerate() {
            gather[k * (w + 1) + d + 1] = (p + 1) as i64; // +1: the leading special token
            mask[k * w + d] = 1.0;
            let r = k * w + d;
            gold[0][r] = e.upos[d] as i64;
            gold[1][r] = e.xpos[d] as i64;
            gold[2][r] = e.feats[d] as i64;
            gold[3][r] = e.lemma[d] as i64;
            gold[4][r] = e.heads[d] as i64;
            gold[5][r] = e.deprel[d] as i64;
        }
    }
    let lens: Vec<usize> = ids.iter().map(|&i| ex[i].words.len()).collect();
    let gather = Tensor::<2, Int>::from_data(TensorData::new(gather, [b, w + 1]), device).unsqueeze_dim::<3>(2).repeat_dim(2, h);
    BatchTensors {
        x,
        bias,
        gather,
        word_mask: Tensor::from_data(TensorData::new(mask, [b, w]), device),
        head_bias: head_mask(&lens, w, device),
        gold: gold.map(|g| Tensor::<2, Int>::from_data(TensorData::new(g, [b, w]), device)),
    }
}

fn loss(net: &PosdepNet, t: BatchTensors) -> Tensor<1> {
    let top = net.encode(t.x, &t.bias);
    let words = top.gather(1, t.gather);
    let out = net.heads.forward(words, t.head_bias);
    let [g_upos, g_xpos, g_feats, g_lemma, g_head, g_rel] = t.gold;
    let m = t.word_mask;
    let labels = net.heads.labels(&out, g_head.clone());
    cross_entropy(out.upos, g_upos, m.clone())
        + cross_entropy(out.xpos, g_xpos, m.clone())
        + cross_entropy(out.feats, g_feats, m.clone())
        + cross_entropy(out.lemma, g_lemma, m.clone())
        + cross_entropy(out.arcs, g_head, m.clone())
        + cross_entropy(labels, g_rel, m)
}

/// Dev scores in percent (UPOS, XPOS, UFeats, AllTags, Lemmas, UAS, LAS, CLAS, MLAS, BLEX).
pub fn score(gold: &Document, pred: &Document) -> Result<BTreeMap<String, f64>, PosdepError> {
    let ev = tatra_eval::evaluate_documents(gold, pred).map_err(|e| PosdepError::Other(e.to_string()))?;
    let mut m = BTreeMap::new();
    for k in ["UPOS", "XPOS", "UFeats", "AllTags", "Lemmas", "UAS", "LAS", "CLAS", "MLAS", "BLEX"] {
        if let Some(s) = ev.get(k) {
            m.insert(k.to_string(), (s.f1 * 10000.0).round() / 100.0);
        }
    }
    Ok(m)
}

fn objective(s: &BTreeMap<String, f64>) -> f64 {
    ["UPOS", "UFeats", "Lemmas", "LAS"].iter().map(|k| s.get(*k).copied().unwrap_or(0.0)).sum::<f64>() / 4.0
}

fn meta(o: &TrainOptions, enc: &Encoder, seconds: f64, dev: BTreeMap<String, f64>) -> Meta {
    Meta {
        format: "tatra-adapter/1".into(),
        stage: "posdep".into(),
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


fn save(path: &Path, meta: &Meta, net: &PosdepNet, cfg: &PosdepConfig, lexicon: &std::collections::HashMap<String, String>, state: Option<&TrainState>) -> Result<(), PosdepError> {
    let model = Posdep { net: net.clone(), config: cfg.clone(), lexicon: lexicon.clone(), meta: meta.clone() };
    match state {
        // Checkpoints keep f32 so a resumed run continues from exactly these weights.
        Some(s) => {
            let st = serde_json::to_vec_pretty(s).map_err(|e| PosdepError::Other(e.to_string()))?;
            model.save(path, false, &[("train_state.json", st)])
        }
        None => model.save(path, true, &[]),
    }
}

/// Trains a posdep package. `encoder` must live on an autodiff device.
pub fn train(encoder: &Encoder, o: &TrainOptions) -> Result<Report, PosdepError> {
    let device = encoder.device().clone();
    let started = Instant::now();
    let log = |s: String| {
        if !o.quiet {
            eprintln!("{s}");
        }
    };
    let train_doc = read(&o.train)?;
    let dev_doc = read(&o.dev)?;
    let vocabs = Vocabs::build(&train_doc);
    let lexicon = data::lemma_lexicon(&train_doc);
    let mut cfg = PosdepConfig { adapters: o.adapters.clone(), heads: o.heads.clone(), vocabs: vocabs.clone(), use_lexicon: true, mix: o.mix };
    let ex = data::examples(&train_doc, &vocabs);
    log(format!(
        "train: {} sentences, {} words; labels: {} UPOS, {} XPOS, {} UFeats, {} lemma rules, {} deprels",
        ex.len(),
        ex.iter().map(|e| e.words.len()).sum::<usize>(),
        vocabs.upos.len(),
        vocabs.xpos.len(),
        vocabs.feats.len(),
        vocabs.lemma.len(),
        vocabs.deprel.len()
    ));

    // Cache the frozen lower layers.
    let upto = AdaptedTop::first_layer(encoder, &o.adapters);
    let t0 = Instant::now();
    // `ex` is built from `train_doc.sentences`, one example per sentence, in order.
    let (lay, lower) = lower_states(encoder, &train_doc.sentences, upto)?;
    let (dev_lay, dev_lower) = lower_states(encoder, &dev_doc.sentences, upto)?;
    log(format!("cached layers 0..{upto} for train and dev in {:.0} s", t0.elapsed().as_secs_f64()));
    let h = encoder.hidden_size();
    // Sentences longer than one window are left out of training (they are annotated in windows).
    let usable: Vec<usize> = (0..ex.len()).filter(|&i| lay[i].windows.len() == 1 && !ex[i].words.is_empty()).collect();
    let first_pieces: Vec<Vec<usize>> = lay.iter().map(|l| l.pieces.word_ranges.iter().map(|r| r.0).collect()).collect();
    let seqs: Vec<Vec<u32>> = usable.iter().map(|&i| vec![0; lower[i][0].len() / h]).collect();
    let batches: Vec<Vec<usize>> = length_batches(&seqs, o.batch_tokens).into_iter().map(|b| b.into_iter().map(|k| usable[k]).collect()).collect();

    let mut net = Posdep::fresh(encoder, cfg.clone(), &device);
    let mut state = TrainState { best: f64::MIN, lr_scale: 1.0, ..Default::default() };
    let ckpt = ckpt_path(&o.out);
    if o.resume && ckpt.exists() {
        let pkg = Package::read(&ckpt)?;
        state = pkg.json("train_state.json")?;
        let values = tatra_adapters::params::from_safetensors(pkg.file("weights.safetensors")?).map_err(PosdepError::Other)?;
        net = tatra_adapters::params::import(net, &values).map_err(PosdepError::Other)?;
        log(format!("resumed from {} at epoch {}, batch {}", ckpt.display(), state.epoch + 1, state.batch));
    }
    let resumed_at_epoch = state.epoch;
    let mut optim = AdamConfig::new().init();
    let mut last_ckpt = Instant::now();
    let elapsed_before = state.seconds;
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
        let mut total = 0.0;
        let mut n = 0usize;
        for &bi in order.iter().skip(state.batch) {
            let t = batch_tensors(&batches[bi], &ex, &lower, &first_pieces, h, &device);
            let l = loss(&net, t);
            total += tatra_encoder::to_vec(l.clone()).first().copied().unwrap_or(0.0) as f64;
            n += 1;
            let grads = GradientsParams::from_grads(l.backward(), &net);
            net = optim.step(o.learning_rate * state.lr_scale, net, grads);
            state.batch += 1;
            bar.inc(1);
            if last_ckpt.elapsed().as_secs_f64() > o.checkpoint_minutes * 60.0 {
                state.seconds = elapsed_before + run_start.elapsed().as_secs_f64();
                save(&ckpt, &meta(o, encoder, state.seconds, BTreeMap::new()), &net, &cfg, &lexicon, Some(&state))?;
                last_ckpt = Instant::now();
            }
        }
        bar.finish_and_clear();
        // Dev evaluation.
        let posdep = Posdep { net: net.valid(), config: cfg.clone(), lexicon: lexicon.clone(), meta: Meta::default() };
        let mut pred = dev_doc.clone();
        posdep.annotate_lower(encoder, &mut pred.sentences, &dev_lay, &dev_lower);
        let scores = score(&dev_doc, &pred)?;
        let obj = objective(&scores);
        state.seconds = elapsed_before + run_start.elapsed().as_secs_f64();
        log(format!(
            "epoch {:>2}: loss {:.3}; dev UPOS {:.2} XPOS {:.2} UFeats {:.2} Lemmas {:.2} UAS {:.2} LAS {:.2} ({:.0} s)",
            state.epoch + 1,
            total / n.max(1) as f64,
            scores["UPOS"], scores["XPOS"], scores["UFeats"], scores["Lemmas"], scores["UAS"], scores["LAS"],
            state.seconds
        ));
        state.history.push(scores.clone());
        state.epoch += 1;
        state.batch = 0;
        if obj > state.best {
            state.best = obj;
            state.best_epoch = state.epoch;
            state.bad_epochs = 0;
            save(&o.out, &meta(o, encoder, state.seconds, scores), &net, &cfg, &lexicon, None)?;
        } else {
            state.bad_epochs += 1;
            state.lr_scale *= 0.5;
        }
        save(&ckpt, &meta(o, encoder, state.seconds, BTreeMap::new()), &net, &cfg, &lexicon, Some(&state))?;
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

    // Final choice: lemmas from the lexicon first, or from the rules alone (measured on dev).
    let best = Posdep::load(&o.out, encoder)?;
    let mut with = dev_doc.clone();
    best.annotate_lower(encoder, &mut with.sentences, &dev_lay, &dev_lower);
    let s_with = score(&dev_doc, &with)?;
    let mut without_cfg = best.config.clone();
    without_cfg.use_lexicon = false;
    let plain = Posdep { net: best.net, config: without_cfg, lexicon: best.lexicon, meta: best.meta };
    let mut without = dev_doc.clone();
    plain.annotate_lower(encoder, &mut without.sentences, &dev_lay, &dev_lower);
    let s_without = score(&dev_doc, &without)?;
    let (lex_lemmas, rule_lemmas) = (s_with["Lemmas"], s_without["Lemmas"]);
    cfg.use_lexicon = lex_lemmas >= rule_lemmas;
    let dev = if cfg.use_lexicon { s_with } else { s_without };
    let mut m = meta(o, encoder, state.seconds, dev.clone());
    m.training_seconds = state.seconds;
    save(&o.out, &m, &plain.net, &cfg, &plain.lexicon, None)?;
    log(format!(
        "best epoch {}; dev Lemmas with lexicon {:.2}, rules only {:.2}: {}",
        state.best_epoch,
        lex_lemmas,
        rule_lemmas,
        if cfg.use_lexicon { "lexicon kept" } else { "rules only" }
    ));
    Ok(Report {
        resumed_at_epoch,
        epochs: state.epoch,
        best_epoch: state.best_epoch,
        seconds: state.seconds,
        lexicon_lemmas: lex_lemmas,
        rule_lemmas,
        use_lexicon: cfg.use_lexicon,
        dev,
    })
}

fn one() -> f64 {
    1.0
}
