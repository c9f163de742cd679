//! Training, saving, loading and annotating end to end on a small slice of real data with
//! the tiny test encoder (fast), plus the package's integrity and encoder checks.

use std::path::Path;

use burn::tensor::Device;
use tatra_adapters::AdapterConfig;
use tatra_adapters::testkit::{provenance, schedule, slice_conllu, tiny_encoder};
use tatra_encoder::Encoder;
use tatra_posdep::model::HeadConfig;
use tatra_posdep::run::{Posdep, PosdepError};
use tatra_posdep::train::{TrainOptions, train};

fn options(dir: &Path, epochs: usize, resume: bool) -> TrainOptions {
    TrainOptions {
        prov: provenance(dir, ["train.conllu", "dev.conllu", "fr.posdep.zip"], "french", "fr_sequoia"),
        schedule: schedule(epochs, resume, 256),
        adapters: AdapterConfig { top_layers: 1, reduction: 4, depth: 0 },
        heads: HeadConfig { arc_dim: 16, label_dim: 8, dropout: 0.2, distance: 4, lstm: 6, lstm_layers: 2, lstm_only: true },
        mix: true,
        first_last: true,
        suffixes: Some(tatra_posdep::model::SuffixConfig { max_len: 3, buckets: 64, dim: 4 }),
        init: None,
        word_drop: 0.0,
    }
}

/// Training draws from the backend's one random-number generator: the tests of this file
/// that train take turns, so that a seeded run draws the same numbers every time.
static TRAINING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A folder with the first 40 French-Sequoia dev sentences as `train.conllu` and the
/// first 15 as `dev.conllu`; `None` (the test skips) without the shared data.
fn french_slices() -> Option<tempfile::TempDir> {
    let dev = tatra_core::shared::shared_path("ud/UD_French-Sequoia/fr_sequoia-ud-dev.conllu")?;
    let dir = tempfile::tempdir().unwrap();
    slice_conllu(&dev, 40, &dir.path().join("train.conllu"));
    slice_conllu(&dev, 15, &dir.path().join("dev.conllu"));
    Some(dir)
}

#[test]
fn train_save_load_annotate_resume() {
    let _turn = TRAINING.lock().unwrap_or_else(|e| e.into_inner());
    let Some(dir) = french_slices() else { return };
    let enc = Encoder::load(&tiny_encoder("tiny-bert"), &Device::flex().autodiff()).unwrap();
    let report = train(&enc, &options(dir.path(), 2, false)).unwrap();
    assert_eq!(report.epochs, 2);
    // A resumed run continues from the checkpoint instead of starting over.
    let report = train(&enc, &options(dir.path(), 3, true)).unwrap();
    assert_eq!((report.resumed_at_epoch, report.epochs), (2, 3));
    // It resumes only with the adapter settings it was trained with.
    let mut other_depth = options(dir.path(), 4, true);
    other_depth.adapters.depth = 1;
    let e = train(&enc, &other_depth).err().expect("a checkpoint of other adapters must not resume").to_string();
    assert!(e.contains("was trained with adapters") && e.contains(".ckpt"), "{e}");

    let pkg = dir.path().join("fr.posdep.zip");
    let enc = Encoder::load(&tiny_encoder("tiny-bert"), &Device::flex()).unwrap();
    let posdep = Posdep::load(&pkg, &enc).unwrap();
    assert_eq!(posdep.meta.stage, "posdep");
    assert!(posdep.meta.dev_scores.contains_key("LAS"));
    let mut doc = tatra_core::conllu::read_file(dir.path().join("dev.conllu")).unwrap();
    posdep.annotate(&enc, &mut doc.sentences).unwrap();
    for s in &doc.sentences {
        let heads: Vec<usize> = std::iter::once(0).chain(s.words().map(|w| w.head.unwrap())).collect();
        assert!(tatra_posdep::tree::is_tree(&heads), "{heads:?}");
        assert!(s.words().all(|w| !w.upos.is_empty() && !w.deprel.is_empty() && !w.lemma.is_empty()));
    }
    // The output is valid CoNLL-U.
    let text = tatra_core::conllu::to_string(&doc);
    tatra_core::conllu::read_str(&text, "out").unwrap();
    // A sentence annotated alone gets what it gets in a padded batch.
    for s in doc.sentences.iter().take(5) {
        let mut alone = vec![s.clone()];
        posdep.annotate(&enc, &mut alone).unwrap();
        let tags = |s: &tatra_core::Sentence| s.words().map(|w| (w.upos.clone(), w.head, w.deprel.clone())).collect::<Vec<_>>();
        assert_eq!(tags(&alone[0]), tags(s));
    }

    // Another encoder: refused, naming both.
    let other = Encoder::load(&tiny_encoder("tiny-xlm-roberta"), &Device::flex()).unwrap();
    match Posdep::load(&pkg, &other) {
        Err(e @ PosdepError::Package(_)) => assert!(e.to_string().contains("was trained on encoder"), "{e}"),
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("loaded on the wrong encoder"),
    }
    // A damaged file: a clear error.
    let mut bytes = std::fs::read(&pkg).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    let bad = dir.path().join("bad.zip");
    std::fs::write(&bad, &bytes).unwrap();
    let e = Posdep::load(&bad, &enc).err().expect("a damaged package must not load").to_string();
    assert!(e.contains("bad.zip") && (e.contains("damaged") || e.contains("cannot read")), "{e}");

    // --init: a run starts from a package's weights (at learning rate 0 it scores on dev
    // exactly what the package recorded), and only from a package of the same settings.
    let enc = Encoder::load(&tiny_encoder("tiny-bert"), &Device::flex().autodiff()).unwrap();
    let recorded = Posdep::load(&pkg, &enc).unwrap().meta.dev_scores;
    let warm_dir = tempfile::tempdir().unwrap();
    std::fs::copy(dir.path().join("train.conllu"), warm_dir.path().join("train.conllu")).unwrap();
    std::fs::copy(dir.path().join("dev.conllu"), warm_dir.path().join("dev.conllu")).unwrap();
    let mut warm = options(warm_dir.path(), 1, false);
    warm.init = Some(pkg.clone());
    warm.schedule.learning_rate = 0.0;
    let report = train(&enc, &warm).unwrap();
    assert_eq!(report.dev["LAS"], recorded["LAS"]);
    assert_eq!(report.dev["UPOS"], recorded["UPOS"]);
    let mut other_heads = options(warm_dir.path(), 1, false);
    other_heads.init = Some(pkg.clone());
    other_heads.heads.arc_dim = 8;
    let e = train(&enc, &other_heads).err().expect("a package of other settings must not seed a run").to_string();
    assert!(e.contains("--init") && e.contains("fr.posdep.zip"), "{e}");
}

#[test]
fn trains_with_weight_average() {
    let _turn = TRAINING.lock().unwrap_or_else(|e| e.into_inner());
    let Some(dir) = french_slices() else { return };
    let enc = Encoder::load(&tiny_encoder("tiny-bert"), &Device::flex().autodiff()).unwrap();
    let last_weights = |ema: f64| {
        let mut o = options(dir.path(), 2, false);
        o.schedule.ema = ema;
        let _ = std::fs::remove_dir_all(dir.path().join("fr.posdep.zip.ckpt"));
        let _ = std::fs::remove_file(dir.path().join("fr.posdep.zip.ckpt"));
        assert_eq!(train(&enc, &o).unwrap().epochs, 2);
        let ckpt = tatra_adapters::package::Package::read(&dir.path().join("fr.posdep.zip.ckpt")).unwrap();
        let mut w: Vec<(String, Vec<f32>)> =
            tatra_adapters::params::from_safetensors(ckpt.file("weights.safetensors").unwrap()).unwrap().into_iter().map(|(k, (_, v))| (k, v)).collect();
        w.sort_by(|a, b| a.0.cmp(&b.0));
        w
    };
    // The average is kept beside the training, never in it: the last step's weights are
    // those of a run without it.
    // Multi-threaded sums may differ in their last bits between runs: compare within a
    // tolerance far below what touching the weights would do (the decay 0.9 scales by 0.1).
    let dist = |a: &[(String, Vec<f32>)], b: &[(String, Vec<f32>)]| {
        assert_eq!(a.len(), b.len());
        a.iter().zip(b).flat_map(|((n, x), (m, y))| { assert_eq!(n, m); x.iter().zip(y).map(|(p, q)| (p - q).abs()) }).fold(0f32, f32::max)
    };
    let plain = last_weights(0.0);
    let again = dist(&plain, &last_weights(0.0));
    assert!(again < 1e-3, "two runs without the average differ by {again}");
    let averaged = dist(&plain, &last_weights(0.9));
    assert!(averaged < 1e-3, "the weight average changed the training weights (by {averaged})");
}

#[test]
fn transfer_sentences_train_only_the_own_labels() {
    let _turn = TRAINING.lock().unwrap_or_else(|e| e.into_inner());
    let Some(dir) = french_slices() else { return };
    let Some(cs) = tatra_core::shared::shared_path("ud/UD_Czech-CLTT/cs_cltt-ud-dev.conllu") else { return };
    slice_conllu(&cs, 30, &dir.path().join("cs.conllu"));
    let enc = Encoder::load(&tiny_encoder("tiny-bert"), &Device::flex().autodiff()).unwrap();
    let plain = options(dir.path(), 1, false);
    train(&enc, &plain).unwrap();
    let load = |o: &TrainOptions| Posdep::load(&o.prov.out, &Encoder::load(&tiny_encoder("tiny-bert"), &Device::flex()).unwrap()).unwrap();
    let without = load(&plain);
    let mut with = options(dir.path(), 1, false);
    with.prov.out = dir.path().join("fr-cs.posdep.zip");
    with.prov.transfer_train = vec![dir.path().join("cs.conllu")];
    with.prov.transfer_sentences = Some(10);
    train(&enc, &with).unwrap();
    let with = load(&with);
    // Czech's PDT tags, feature strings and lemmas stay out: the labels are French's alone
    // (so a package of the same settings may seed such a run, and the reverse).
    assert_eq!(with.config.vocabs, without.config.vocabs);
    assert!(!with.config.vocabs.xpos.labels.iter().any(|t| t.len() == 15), "a PDT tag in the French vocabulary");
    assert_eq!(with.lexicon, without.lexicon);
    assert!(with.meta.training_data.contains("transfer train cs.conllu (at most 10 sentences"), "{}", with.meta.training_data);
    // Transfer sentences that train only the arcs and deprels: the same labels, recorded.
    let mut tree = options(dir.path(), 1, false);
    tree.prov.out = dir.path().join("fr-cs-tree.posdep.zip");
    tree.prov.transfer_train = vec![dir.path().join("cs.conllu")];
    tree.prov.transfer_sentences = Some(10);
    tree.prov.transfer_outputs = vec!["deprel".into()];
    train(&enc, &tree).unwrap();
    let tree = load(&tree);
    assert_eq!(tree.config.vocabs, without.config.vocabs);
    assert!(tree.meta.training_data.contains("(arcs and deprel only)"), "{}", tree.meta.training_data);
}

#[test]
fn seed_ensembles_and_q8() {
    let _turn = TRAINING.lock().unwrap_or_else(|e| e.into_inner());
    let Some(dir) = french_slices() else { return };
    let enc = Encoder::load(&tiny_encoder("tiny-bert"), &Device::flex().autodiff()).unwrap();
    let mut a = options(dir.path(), 2, false);
    a.prov.out = dir.path().join("a.zip");
    train(&enc, &a).unwrap();
    let mut b = options(dir.path(), 2, false);
    b.prov.out = dir.path().join("b.zip");
    b.schedule.seed = 2;
    train(&enc, &b).unwrap();
    let mut c = options(dir.path(), 1, false);
    c.prov.out = dir.path().join("c.zip");
    c.heads.arc_dim = 8;
    train(&enc, &c).unwrap();

    let enc = Encoder::load(&tiny_encoder("tiny-bert"), &Device::flex()).unwrap();
    let load = |p: &Path| Posdep::load(p, &enc).unwrap();
    let doc = tatra_core::conllu::read_file(dir.path().join("dev.conllu")).unwrap();
    let annotated = |m: &Posdep| {
        let mut d = doc.clone();
        m.annotate(&enc, &mut d.sentences).unwrap();
        d.sentences.iter().flat_map(|s| s.words().map(|w| (w.upos.clone(), w.feats.clone(), w.lemma.clone(), w.head, w.deprel.clone())).collect::<Vec<_>>()).collect::<Vec<_>>()
    };
    let alone = annotated(&load(&a.prov.out));
    // A model averaged with itself decodes as it does alone.
    let twice = Posdep::ensemble(vec![load(&a.prov.out), load(&a.prov.out)], "x").unwrap();
    assert_eq!(twice.members.len(), 1);
    assert_eq!(annotated(&twice), alone);
    // Two seeds: saved with their member, loaded back, every sentence a tree.
    let ab = Posdep::ensemble(vec![load(&a.prov.out), load(&b.prov.out)], "tatra train posdep-ensemble").unwrap();
    let ab_path = dir.path().join("ab.zip");
    ab.save(&ab_path, tatra_adapters::params::Precision::F16, &[]).unwrap();
    let back = load(&ab_path);
    assert_eq!(back.config.members.len(), 1);
    assert_eq!(back.config.members[0].file, "member1.safetensors");
    assert!(back.meta.command.starts_with("tatra train posdep-ensemble # members: "), "{}", back.meta.command);
    assert_eq!(annotated(&back), annotated(&ab));
    let mut d = doc.clone();
    back.annotate(&enc, &mut d.sentences).unwrap();
    for s in &d.sentences {
        let heads: Vec<usize> = std::iter::once(0).chain(s.words().map(|w| w.head.unwrap())).collect();
        assert!(tatra_posdep::tree::is_tree(&heads), "{heads:?}");
    }
    // An ensemble joins another one's members (flattened).
    let abab = Posdep::ensemble(vec![load(&ab_path), load(&ab_path)], "x").unwrap();
    assert_eq!(abab.members.len(), 3);
    // Q8: about half the size, annotating (almost) alike.
    let mut q = load(&a.prov.out);
    q.meta.weights = "q8".into();
    let q_path = dir.path().join("q8.zip");
    q.save(&q_path, tatra_adapters::params::Precision::Q8, &[]).unwrap();
    let q = load(&q_path);
    assert_eq!(q.meta.weights, "q8");
    let same = annotated(&q).iter().zip(&alone).filter(|(x, y)| x == y).count();
    assert!(same + 2 >= alone.len(), "q8: {same} of {} words alike", alone.len());
    // Members of another configuration are refused, naming the package's command.
    let e = Posdep::ensemble(vec![load(&a.prov.out), load(&c.prov.out)], "x").err().expect("other settings must not join").to_string();
    assert!(e.contains("another configuration") && e.contains("trained with"), "{e}");
    // An ensemble cannot seed a training run.
    let enc = Encoder::load(&tiny_encoder("tiny-bert"), &Device::flex().autodiff()).unwrap();
    let mut warm = options(dir.path(), 1, false);
    warm.prov.out = dir.path().join("warm.zip");
    warm.init = Some(ab_path.clone());
    let e = train(&enc, &warm).err().expect("an ensemble must not seed a run").to_string();
    assert!(e.contains("ab.zip") && e.contains("seed ensemble of 2"), "{e}");
}
