//! Training a posdep package: frozen encoder, adapters in the top K layers, heads; the
//! layers below the first adapter run once per sentence and are cached. Batches by
//! length, Adam, per-epoch dev scores from the built-in evaluator, early stopping on
//! dev, checkpoints every few minutes and `--resume`.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Instant;

use burn::module::Module;
use burn::tensor::{Device, Int, Tensor, TensorData};
use serde::Serialize;
use tatra_adapters::AdapterConfig;
use tatra_adapters::package::Meta;
use tatra_adapters::train::{Checkpoint, Provenance, Schedule, Trainee};
use tatra_core::Document;
use tatra_encoder::Encoder;
use tatra_encoder::words::{Layout, length_batches};

use crate::data::{self, Example, Vocabs};
use crate::model::{HeadConfig, PosdepNet, cross_entropy};
use crate::run::{Lower, Posdep, PosdepConfig, PosdepError, head_mask, lower_states, pad_batch, seq_mask};

/// Everything `tatra train posdep` takes.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    pub prov: Provenance,
    pub schedule: Schedule,
    pub adapters: AdapterConfig,
    pub heads: HeadConfig,
    /// A learned mix of the adapted layers feeds the heads.
    pub mix: bool,
    /// Word vectors from the first and the last piece (else the first).
    pub first_last: bool,
    /// Suffix embeddings on word vectors (see [`crate::model::SuffixConfig`]).
    pub suffixes: Option<crate::model::SuffixConfig>,
    /// Start from the weights of this package (trained with the same settings on the
    /// same training file) instead of fresh ones: a run cut by its time budget whose
    /// checkpoint is gone goes on from the package it left.
    pub init: Option<std::path::PathBuf>,
    /// Word dropout on the cached lower states: in training, each word's pieces are
    /// replaced by the mean training state with this probability, so that the adapted
    /// layers learn to read a word from its context (0: none).
    pub word_drop: f64,
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
    gather_last: Option<Tensor<3, Int>>,
    word_mask: Tensor<2>,
    head_bias: Tensor<3>,
    seq_mask: Tensor<2>,
    suffix_ids: Option<Tensor<2, Int>>,
    gold: [Tensor<2, Int>; 6],
    /// Per output (UPOS, XPOS, UFeats, lemma rule, deprel): the word mask without the
    /// words whose gold label is the unknown one (transfer sentences' labels of their own).
    label_masks: [Tensor<2>; 5],
}

/// Word dropout on cached lower states (see [`TrainOptions::word_drop`]).
struct WordDrop {
    p: f64,
    /// The mean lower state of the training pieces, what a dropped word's pieces become.
    mean: Vec<f32>,
    /// For each sentence, each word's pieces (end exclusive, without the leading special token).
    ranges: Vec<Vec<(usize, usize)>>,
    seed: u64,
    calls: std::sync::atomic::AtomicU64,
}

impl WordDrop {
    fn new(p: f64, lower: &[Lower], ranges: Vec<Vec<(usize, usize)>>, h: usize, seed: u64) -> WordDrop {
        let mut mean = vec![0f64; h];
        let mut n = 0usize;
        for (l, r) in lower.iter().zip(&ranges) {
            let (Some(first), Some(last)) = (r.first(), r.last()) else { continue };
            for row in first.0 + 1..last.1 + 1 {
                for (m, v) in mean.iter_mut().zip(&l[0][row * h..(row + 1) * h]) {
                    *m += f64::from(*v);
                }
                n += 1;
            }
        }
        let mean = mean.into_iter().map(|m| (m / n.max(1) as f64) as f32).collect();
        WordDrop { p, mean, ranges, seed, calls: std::sync::atomic::AtomicU64::new(0) }
    }

    /// The states of sentences `ids` with some words dropped (a fresh draw each call).
    fn apply(&self, ids: &[usize], lower: &[Lower], h: usize) -> Vec<Vec<f32>> {
        let call = self.calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut rng = tatra_core::rng::SplitMix64(self.seed ^ call.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        ids.iter()
            .map(|&i| {
                let mut s = lower[i][0].clone();
                for &(a, b) in &self.ranges[i] {
                    if rng.chance(self.p) {
                        for row in a + 1..b + 1 {
                            s[row * h..(row + 1) * h].copy_from_slice(&self.mean);
                        }
                    }
                }
                s
            })
            .collect()
    }
}

/// One batch from the lower states of sentences `ids` (`states[k]` for `ids[k]`).
/// `pieces[i]`: for each word of sentence i, the piece its vector is read from (and, with
/// first+last pooling, `lasts[i]` the second one).
#[allow(clippy::too_many_arguments)]
fn batch_tensors(states: &[&[f32]], ids: &[usize], ex: &[Example], pieces: &[Vec<usize>], lasts: Option<&[Vec<usize>]>, cfg: &PosdepConfig, h: usize, device: &Device) -> BatchTensors {
    let (x, bias, _) = pad_batch(states, h, device);
    let w = ids.iter().map(|&i| ex[i].words.len()).max().unwrap_or(1);
    let b = ids.len();
    let mut gather = vec![0i64; b * (w + 1)];
    let mut gather_last = vec![0i64; b * (w + 1)];
    let mut mask = vec![0f32; b * w];
    let mut gold: [Vec<i64>; 6] = std::array::from_fn(|_| vec![0i64; b * w]);
    for (k, &i) in ids.iter().enumerate() {
        let e = &ex[i];
        for (d, &p) in pieces[i].iter().enumerate() {
            gather[k * (w + 1) + d + 1] = (p + 1) as i64; // +1: the leading special token
            if let Some(l) = lasts {
                gather_last[k * (w + 1) + d + 1] = (l[i][d] + 1) as i64;
            }
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
    let label_masks = [0, 1, 2, 3, 5].map(|t| {
        let m: Vec<f32> = mask.iter().zip(&gold[t]).map(|(&m, &g)| if g == 0 { 0.0 } else { m }).collect();
        Tensor::<2>::from_data(TensorData::new(m, [b, w]), device)
    });
    let index = |g: Vec<i64>| Tensor::<2, Int>::from_data(TensorData::new(g, [b, w + 1]), device).unsqueeze_dim::<3>(2).repeat_dim(2, h);
    let gather = index(gather);
    let gather_last = lasts.is_some().then(|| index(gather_last));
    let seq_mask = seq_mask(&lens, w, device);
    BatchTensors {
        x,
        bias,
        gather,
        gather_last,
        word_mask: Tensor::from_data(TensorData::new(mask, [b, w]), device),
        head_bias: head_mask(&seq_mask),
        seq_mask,
        suffix_ids: cfg.suffix_ids(ids.iter().map(|&i| ex[i].words.iter().map(String::as_str).collect()), w, device),
        gold: gold.map(|g| Tensor::<2, Int>::from_data(TensorData::new(g, [b, w]), device)),
        label_masks,
    }
}

fn loss(net: &PosdepNet, t: BatchTensors) -> Tensor<1> {
    let top = net.encode(t.x, &t.bias);
    let words = match t.gather_last {
        Some(last) => Tensor::cat(vec![top.clone().gather(1, t.gather), top.gather(1, last)], 2),
        None => top.gather(1, t.gather),
    };
    let words = net.with_suffixes(words, t.suffix_ids);
    let words = net.contextualise(words, &t.seq_mask);
    let out = net.heads.forward(words, t.head_bias);
    let [g_upos, g_xpos, g_feats, g_lemma, g_head, g_rel] = t.gold;
    let [m_upos, m_xpos, m_feats, m_lemma, m_rel] = t.label_masks;
    let labels = net.heads.labels(&out, g_head.clone());
    cross_entropy(out.upos, g_upos, m_upos)
        + cross_entropy(out.xpos, g_xpos, m_xpos)
        + cross_entropy(out.feats, g_feats, m_feats)
        + cross_entropy(out.lemma, g_lemma, m_lemma)
        + cross_entropy(out.arcs, g_head, t.word_mask)
        + cross_entropy(labels, g_rel, m_rel)
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

fn save(path: &Path, meta: Meta, net: &PosdepNet, cfg: &PosdepConfig, lexicon: &HashMap<String, String>, ckpt: Option<&Checkpoint>) -> Result<(), PosdepError> {
    let model = Posdep::single(net.clone(), cfg.clone(), lexicon.clone(), meta);
    match ckpt {
        // Checkpoints keep f32 so a resumed run continues from exactly these weights.
        Some(c) => model.save(path, tatra_adapters::params::Precision::F32, &c.files().map_err(PosdepError::Other)?),
        None => model.save(path, tatra_adapters::params::Precision::shipped(&model.meta), &[]),
    }
}

/// The posdep side of the shared training loop.
struct Job<'a> {
    o: &'a TrainOptions,
    encoder: &'a Encoder,
    device: Device,
    cfg: PosdepConfig,
    lexicon: HashMap<String, String>,
    ex: Vec<Example>,
    lower: Vec<Lower>,
    first_pieces: Vec<Vec<usize>>,
    last_pieces: Option<Vec<Vec<usize>>>,
    batches: Vec<Vec<usize>>,
    dev_doc: Document,
    dev_lay: Vec<Layout>,
    dev_lower: Vec<Lower>,
    word_drop: Option<WordDrop>,
}

impl Trainee for Job<'_> {
    type Net = PosdepNet;
    type Error = PosdepError;

    fn loss(&self, net: &PosdepNet, batch: usize) -> Tensor<1> {
        let h = self.encoder.hidden_size();
        let ids = &self.batches[batch];
        let dropped = self.word_drop.as_ref().map(|d| d.apply(ids, &self.lower, h));
        let states: Vec<&[f32]> = match &dropped {
            Some(d) => d.iter().map(Vec::as_slice).collect(),
            None => ids.iter().map(|&i| self.lower[i][0].as_slice()).collect(),
        };
        let t = batch_tensors(&states, ids, &self.ex, &self.first_pieces, self.last_pieces.as_deref(), &self.cfg, h, &self.device);
        loss(net, t)
    }

    fn evaluate(&self, net: &PosdepNet) -> Result<(BTreeMap<String, f64>, f64, String), PosdepError> {
        let posdep = Posdep::single(net.valid(), self.cfg.clone(), self.lexicon.clone(), Meta::default());
        let mut pred = self.dev_doc.clone();
        posdep.annotate_lower(self.encoder, &mut pred.sentences, &self.dev_lay, &self.dev_lower);
        let s = score(&self.dev_doc, &pred)?;
        let line = format!(
            "UPOS {:.2} XPOS {:.2} UFeats {:.2} Lemmas {:.2} UAS {:.2} LAS {:.2}",
            s["UPOS"], s["XPOS"], s["UFeats"], s["Lemmas"], s["UAS"], s["LAS"]
        );
        let obj = objective(&s);
        Ok((s, obj, line))
    }

    fn save(&self, net: &PosdepNet, path: &Path, meta: Meta, ckpt: Option<&Checkpoint>) -> Result<(), PosdepError> {
        save(path, meta, net, &self.cfg, &self.lexicon, ckpt)
    }

    fn meta(&self, seconds: f64, dev: BTreeMap<String, f64>) -> Meta {
        self.o.prov.meta("posdep", &self.encoder.identity(), &self.o.adapters, seconds, dev)
    }
}

/// Trains a posdep package. `encoder` must live on an autodiff device.
pub fn train(encoder: &Encoder, o: &TrainOptions) -> Result<Report, PosdepError> {
    // The device's random numbers (initial weights, dropout masks) come from the seed too.
    encoder.device().seed(o.schedule.seed);
    let started = Instant::now();
    let log = |s: String| {
        if !o.schedule.quiet {
            eprintln!("{s}");
        }
    };
    let mut train_doc = read(&o.prov.train)?;
    for f in &o.prov.also_train {
        train_doc.sentences.extend(read(f)?.sentences);
    }
    let dev_doc = read(&o.prov.dev)?;
    let vocabs = Vocabs::build(&train_doc);
    let lexicon = data::lemma_lexicon(&train_doc);
    // Transfer sentences come after the vocabularies and the lexicon: a label they alone
    // have maps to the unknown label, which the loss leaves out (`label_masks`).
    let own = train_doc.sentences.len();
    for f in &o.prov.transfer_train {
        let sentences = read(f)?.sentences;
        let n = sentences.len();
        let k = o.prov.transfer_sentences.unwrap_or(n).min(n);
        let keep: std::collections::HashSet<usize> = (0..k).map(|i| i * n / k.max(1)).collect();
        train_doc.sentences.extend(sentences.into_iter().enumerate().filter(|(i, _)| keep.contains(i)).map(|(_, s)| s));
    }
    if train_doc.sentences.len() > own {
        log(format!("transfer: {} sentences that train only the labels of the training files", train_doc.sentences.len() - own));
    }
    let cfg = PosdepConfig {
        adapters: o.adapters.clone(),
        heads: o.heads.clone(),
        vocabs: vocabs.clone(),
        use_lexicon: true,
        mix: o.mix,
        first_last: o.first_last,
        suffixes: o.suffixes,
        members: Vec::new(),
    };
    let mut ex = data::examples(&train_doc, &vocabs);
    // The outputs transfer sentences leave alone get the unknown label (out of the loss).
    if !o.prov.transfer_outputs.is_empty() {
        let trains = |name: &str| o.prov.transfer_outputs.iter().any(|t| t == name);
        for e in ex.iter_mut().skip(own) {
            for (name, labels) in [("upos", &mut e.upos), ("xpos", &mut e.xpos), ("feats", &mut e.feats), ("lemma", &mut e.lemma), ("deprel", &mut e.deprel)] {
                if !trains(name) {
                    labels.iter_mut().for_each(|l| *l = 0);
                }
            }
        }
        log(format!("transfer sentences train the arcs and {}", o.prov.transfer_outputs.join(", ")));
    }
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
    let upto = tatra_adapters::AdaptedTop::first_layer(encoder, &o.adapters);
    let t0 = Instant::now();
    // `ex` is built from `train_doc.sentences`, one example per sentence, in order.
    let (lay, lower) = lower_states(encoder, &train_doc.sentences, upto)?;
    let (dev_lay, dev_lower) = lower_states(encoder, &dev_doc.sentences, upto)?;
    log(format!("cached layers 0..{upto} for train and dev in {:.0} s", t0.elapsed().as_secs_f64()));
    let h = encoder.hidden_size();
    // Sentences longer than one window are left out of training (they are annotated in windows).
    let usable: Vec<usize> = (0..ex.len()).filter(|&i| lay[i].windows.len() == 1 && !ex[i].words.is_empty()).collect();
    let first_pieces: Vec<Vec<usize>> = lay.iter().map(|l| l.pieces.word_ranges.iter().map(|r| r.0).collect()).collect();
    let last_pieces: Option<Vec<Vec<usize>>> =
        o.first_last.then(|| lay.iter().map(|l| l.pieces.word_ranges.iter().map(|r| r.1.max(r.0 + 1) - 1).collect()).collect());
    let seqs: Vec<Vec<u32>> = usable.iter().map(|&i| vec![0; lower[i][0].len() / h]).collect();
    let batches: Vec<Vec<usize>> =
        length_batches(&seqs, o.schedule.batch_tokens).into_iter().map(|b| b.into_iter().map(|k| usable[k]).collect()).collect();

    let device = encoder.device().clone();
    let mut net = Posdep::fresh(encoder, cfg.clone(), &device);
    if let Some(init) = &o.init {
        let pkg = tatra_adapters::package::Package::read(init)?;
        pkg.check_encoder(&encoder.identity())?;
        let theirs: PosdepConfig = pkg.json("config.json")?;
        if !theirs.members.is_empty() {
            return Err(PosdepError::Other(format!(
                "{}: --init takes one model, and this package is a seed ensemble of {}; start from one of its member packages",
                init.display(),
                theirs.members.len() + 1
            )));
        }
        let differs: Vec<&str> = [
            ("adapters", theirs.adapters == cfg.adapters),
            ("heads", theirs.heads == cfg.heads),
            ("labels", theirs.vocabs.same_labels(&cfg.vocabs)),
            ("--mix", theirs.mix == cfg.mix),
            ("--first-last", theirs.first_last == cfg.first_last),
            ("--suffixes", theirs.suffixes == cfg.suffixes),
        ]
        .into_iter()
        .filter(|(_, same)| !same)
        .map(|(what, _)| what)
        .collect();
        if !differs.is_empty() {
            return Err(PosdepError::Other(format!(
                "{}: --init takes a package trained on the same training file with the same settings; its {} differ from this run's",
                init.display(),
                differs.join(", ")
            )));
        }
        net = pkg.weights_into(net)?;
        log(format!("weights from {}", init.display()));
    }
    let n_batches = batches.len();
    let word_drop = (o.word_drop > 0.0).then(|| {
        let ranges = lay.iter().map(|l| l.pieces.word_ranges.clone()).collect();
        WordDrop::new(o.word_drop, &lower, ranges, h, o.schedule.seed)
    });
    let job = Job { o, encoder, device, cfg, lexicon, ex, lower, first_pieces, last_pieces, batches, dev_doc, dev_lay, dev_lower, word_drop };
    let done = tatra_adapters::train::run(&job, net, n_batches, &o.schedule, &o.prov.out, started)?;
    let state = done.state;

    // Final choice: lemmas from the lexicon first, or from the rules alone (measured on dev).
    let best = Posdep::load(&o.prov.out, encoder)?;
    let mut with = job.dev_doc.clone();
    best.annotate_lower(encoder, &mut with.sentences, &job.dev_lay, &job.dev_lower);
    let s_with = score(&job.dev_doc, &with)?;
    let mut without_cfg = best.config.clone();
    without_cfg.use_lexicon = false;
    let plain = Posdep::single(best.net, without_cfg, best.lexicon, best.meta);
    let mut without = job.dev_doc.clone();
    plain.annotate_lower(encoder, &mut without.sentences, &job.dev_lay, &job.dev_lower);
    let s_without = score(&job.dev_doc, &without)?;
    let (lex_lemmas, rule_lemmas) = (s_with["Lemmas"], s_without["Lemmas"]);
    let mut cfg = job.cfg.clone();
    cfg.use_lexicon = lex_lemmas >= rule_lemmas;
    let dev = if cfg.use_lexicon { s_with } else { s_without };
    save(&o.prov.out, job.meta(state.seconds, dev.clone()), &plain.net, &cfg, &plain.lexicon, None)?;
    log(format!(
        "best epoch {}; dev Lemmas with lexicon {:.2}, rules only {:.2}: {}",
        state.best_epoch,
        lex_lemmas,
        rule_lemmas,
        if cfg.use_lexicon { "lexicon kept" } else { "rules only" }
    ));
    Ok(Report {
        resumed_at_epoch: done.resumed_at_epoch,
        epochs: state.epoch,
        best_epoch: state.best_epoch,
        seconds: state.seconds,
        lexicon_lemmas: lex_lemmas,
        rule_lemmas,
        use_lexicon: cfg.use_lexicon,
        dev,
    })
}
