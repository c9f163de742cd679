//! Training, resuming, saving, loading and tagging end to end on a slice of UNER Danish
//! with the tiny test encoder (fast): the shared training loop as the NER stage uses it,
//! with tag scores from each token's first and last piece.

use std::path::Path;

use burn::tensor::Device;
use tatra_adapters::AdapterConfig;
use tatra_adapters::train::Provenance;
use tatra_adapters::testkit::{provenance, schedule, tiny_encoder};
use tatra_encoder::Encoder;
use tatra_ner::Ner;
use tatra_ner::train::{TrainOptions, train};

/// The first `n` sentences (blank-line separated blocks) of an IOB2 file.
fn slice(src: &Path, n: usize, out: &Path) {
    let text = std::fs::read_to_string(src).unwrap();
    let blocks: Vec<&str> = text.split("\n\n").filter(|b| !b.trim().is_empty()).take(n).collect();
    std::fs::write(out, blocks.join("\n\n") + "\n\n").unwrap();
}

/// A folder with slices of UNER Danish dev as `train.iob2`, `dev.iob2` and `more.iob2`
/// (`None` without the shared data).
fn danish(train: usize, dev: usize, more: usize) -> Option<tempfile::TempDir> {
    let src = tatra_core::shared::shared_path("uner/UNER_Danish-DDT/da_ddt-ud-dev.iob2")?;
    let dir = tempfile::tempdir().unwrap();
    slice(&src, train, &dir.path().join("train.iob2"));
    slice(&src, dev, &dir.path().join("dev.iob2"));
    slice(&src, more, &dir.path().join("more.iob2"));
    Some(dir)
}

fn options(dir: &Path, epochs: usize, resume: bool) -> TrainOptions {
    TrainOptions {
        prov: Provenance { also_train: vec![dir.join("more.iob2")], ..provenance(dir, ["train.iob2", "dev.iob2", "da.ner.zip"], "danish", "da_ddt") },
        schedule: schedule(epochs, resume, 256),
        adapters: AdapterConfig { top_layers: 1, reduction: 4, depth: 0 },
        dropout: 0.1,
        // The first+last classifiers (the first-piece path runs in every pipeline test
        // through the shipped Slovak package).
        first_last: true,
        lstm: 0,
        crf: false,
        context: 0,
    }
}

#[test]
fn train_resume_load_tag() {
    let Some(dir) = danish(60, 20, 10) else { return };
    let enc = Encoder::load(&tiny_encoder("tiny-xlm-roberta"), &Device::flex().autodiff()).unwrap();
    let report = train(&enc, &options(dir.path(), 2, false)).unwrap();
    assert_eq!(report.epochs, 2);
    assert!(dir.path().join("da.ner.zip.ckpt").exists());
    let report = train(&enc, &options(dir.path(), 3, true)).unwrap();
    assert_eq!((report.resumed_at_epoch, report.epochs), (2, 3));

    let enc = Encoder::load(&tiny_encoder("tiny-xlm-roberta"), &Device::flex()).unwrap();
    let ner = Ner::load(&dir.path().join("da.ner.zip"), &enc).unwrap();
    assert_eq!(ner.meta.stage, "ner");
    assert!(ner.config.first_last && ner.net.head_last.is_some());
    assert!(ner.meta.dev_scores.contains_key("F1"));
    assert!(ner.meta.training_data.ends_with("; also train more.iob2"), "{}", ner.meta.training_data);
    let gold = tatra_ner::iob2::read_file(&dir.path().join("dev.iob2")).unwrap();
    let forms: Vec<Vec<String>> = gold.iter().map(|s| s.forms.clone()).collect();
    let tags = ner.tag(&enc, &forms).unwrap();
    assert_eq!(tags.len(), forms.len());
    for (t, f) in tags.iter().zip(&forms) {
        assert_eq!(t.len(), f.len());
        // Well-formed spans: an I- tag continues a span of its own type.
        for (i, tag) in t.iter().enumerate() {
            if let Some(ty) = tag.strip_prefix("I-") {
                assert!(i > 0 && t[i - 1].get(2..) == Some(ty), "{t:?}");
            }
        }
    }
}

#[test]
fn token_bilstm() {
    bilstm(false);
}

/// The BiLSTM model with a CRF over its tag scores: trained, saved with its transitions,
/// loaded, decoded into well-formed spans, alone as in a batch.
#[test]
fn token_bilstm_crf() {
    bilstm(true);
}

fn bilstm(crf: bool) {
    let Some(dir) = danish(40, 12, 5) else { return };
    let enc = Encoder::load(&tiny_encoder("tiny-xlm-roberta"), &Device::flex().autodiff()).unwrap();
    let o = TrainOptions { lstm: 5, crf, ..options(dir.path(), 2, false) };
    assert_eq!(train(&enc, &o).unwrap().epochs, 2);

    let enc = Encoder::load(&tiny_encoder("tiny-xlm-roberta"), &Device::flex()).unwrap();
    let ner = Ner::load(&dir.path().join("da.ner.zip"), &enc).unwrap();
    assert_eq!((ner.config.lstm, ner.net.lstm.len()), (5, 1));
    assert_eq!((ner.config.crf, ner.net.crf.is_some()), (crf, crf));
    if let Some(c) = &ner.net.crf {
        // Trained: the transitions moved from their zero start.
        assert!(tatra_encoder::to_vec(c.transitions.val()).iter().any(|v| v.abs() > 1e-4));
    }
    assert!(ner.net.head_last.is_none());
    let gold = tatra_ner::iob2::read_file(&dir.path().join("dev.iob2")).unwrap();
    let forms: Vec<Vec<String>> = gold.iter().map(|s| s.forms.clone()).collect();
    let tags = ner.tag(&enc, &forms).unwrap();
    for (t, f) in tags.iter().zip(&forms) {
        assert_eq!(t.len(), f.len());
        for (i, tag) in t.iter().enumerate() {
            if let Some(ty) = tag.strip_prefix("I-") {
                assert!(i > 0 && t[i - 1].get(2..) == Some(ty), "{t:?}");
            }
        }
    }
    // A sentence tagged alone gets what it gets in a padded batch (the BiLSTM masks padding).
    for (f, t) in forms.iter().zip(&tags).take(4) {
        assert_eq!(&ner.tag(&enc, std::slice::from_ref(f)).unwrap()[0], t);
    }
    // No tokens: no tags.
    assert_eq!(ner.tag(&enc, &[Vec::new()]).unwrap(), vec![Vec::<String>::new()]);
}

/// Document context (`--context N`): the sequences read are the sentence with its
/// neighbours' tokens, only the sentence's own tokens are tagged (well-formed, one tag per
/// token), the same as reading the sequences explicitly, and a model without the BiLSTM
/// is refused.
#[test]
fn document_context() {
    let (seqs, centers) = tatra_ner::with_context(&[vec!["a".into(), "b".into(), "c".into()], vec![], vec!["d".into()], vec!["e".into(), "f".into()]], 2);
    assert_eq!(seqs[0], ["a", "b", "c"]);
    assert_eq!(centers, [(0, 3), (2, 0), (0, 1), (1, 2)]);
    assert_eq!(seqs[1], ["b", "c", "d"]);
    assert_eq!(seqs[2], ["d", "e", "f"]);
    assert_eq!(seqs[3], ["d", "e", "f"]);

    let Some(dir) = danish(40, 12, 5) else { return };
    let enc = Encoder::load(&tiny_encoder("tiny-xlm-roberta"), &Device::flex().autodiff()).unwrap();
    let Err(e) = train(&enc, &TrainOptions { context: 4, ..options(dir.path(), 1, false) }) else { panic!("context without a BiLSTM trained") };
    assert!(e.to_string().contains("--lstm"), "{e}");
    let o = TrainOptions { lstm: 5, crf: true, context: 4, ..options(dir.path(), 2, false) };
    assert_eq!(train(&enc, &o).unwrap().epochs, 2);

    let enc = Encoder::load(&tiny_encoder("tiny-xlm-roberta"), &Device::flex()).unwrap();
    let ner = Ner::load(&dir.path().join("da.ner.zip"), &enc).unwrap();
    assert_eq!(ner.config.context, 4);
    let gold = tatra_ner::iob2::read_file(&dir.path().join("dev.iob2")).unwrap();
    let forms: Vec<Vec<String>> = gold.iter().map(|s| s.forms.clone()).collect();
    let tags = ner.tag(&enc, &forms).unwrap();
    assert_eq!(tags.len(), forms.len());
    for (t, f) in tags.iter().zip(&forms) {
        assert_eq!(t.len(), f.len());
        for (i, tag) in t.iter().enumerate() {
            if let Some(ty) = tag.strip_prefix("I-") {
                assert!(i > 0 && t[i - 1].get(2..) == Some(ty), "{t:?}");
            }
        }
    }
    // The same as reading the sequences with context explicitly.
    let (seqs, centers) = tatra_ner::with_context(&forms, 4);
    let upto = ner.first_layer(&enc);
    let (lay, lower) = tatra_ner::lower_states(&enc, &seqs, upto).unwrap();
    assert_eq!(ner.tag_context(&enc, &lay, &lower, ner.config.decoding, &centers), tags);
}

/// With `--ema`, the package holds the moving average of the weights (kept in the
/// checkpoint beside the last step's weights), and a resumed run goes on from both.
#[test]
fn weight_average() {
    use tatra_adapters::package::Package;
    use tatra_adapters::params::from_safetensors;
    let Some(dir) = danish(40, 12, 5) else { return };
    let enc = Encoder::load(&tiny_encoder("tiny-xlm-roberta"), &Device::flex().autodiff()).unwrap();
    let mut o = options(dir.path(), 1, false);
    o.schedule.ema = 0.9;
    assert_eq!(train(&enc, &o).unwrap().epochs, 1);
    let ckpt = Package::read(&dir.path().join("da.ner.zip.ckpt")).unwrap();
    let last = from_safetensors(ckpt.file("weights.safetensors").unwrap()).unwrap();
    let avg = from_safetensors(ckpt.file(tatra_adapters::train::EMA_FILE).unwrap()).unwrap();
    let shipped = from_safetensors(Package::read(&dir.path().join("da.ner.zip")).unwrap().file("weights.safetensors").unwrap()).unwrap();
    assert_eq!((last.len(), avg.len(), shipped.len()), (avg.len(), shipped.len(), last.len()));
    // The package (f16) is the average, not the last weights.
    let dist = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0f32, f32::max);
    let (mut to_avg, mut to_last) = (0f32, 0f32);
    for (name, (_, v)) in &shipped {
        to_avg = to_avg.max(dist(v, &avg[name].1));
        to_last = to_last.max(dist(v, &last[name].1));
    }
    assert!(to_avg < 1e-3 && to_last > 3.0 * to_avg, "package vs average {to_avg}, vs last weights {to_last}");
    let mut o = options(dir.path(), 2, true);
    o.schedule.ema = 0.9;
    let report = train(&enc, &o).unwrap();
    assert_eq!((report.resumed_at_epoch, report.epochs), (1, 2));
    assert!(Package::read(&dir.path().join("da.ner.zip.ckpt")).unwrap().file(tatra_adapters::train::EMA_FILE).is_ok());
}

/// A seed ensemble (`tatra train ner-ensemble`): a package with itself as a member tags
/// as it does alone; two seeds make one package that saves, loads and tags alike; a
/// member of another configuration is refused with the reason.
#[test]
fn seed_ensemble() {
    let Some(dir) = danish(40, 12, 5) else { return };
    let enc = Encoder::load(&tiny_encoder("tiny-xlm-roberta"), &Device::flex().autodiff()).unwrap();
    let mut o = TrainOptions { lstm: 5, crf: true, ..options(dir.path(), 1, false) };
    train(&enc, &o).unwrap();
    std::fs::rename(dir.path().join("da.ner.zip"), dir.path().join("a.zip")).unwrap();
    o.schedule.seed = 7;
    train(&enc, &o).unwrap();
    std::fs::rename(dir.path().join("da.ner.zip"), dir.path().join("b.zip")).unwrap();
    o.lstm = 4;
    train(&enc, &o).unwrap();
    std::fs::rename(dir.path().join("da.ner.zip"), dir.path().join("c.zip")).unwrap();

    let enc = Encoder::load(&tiny_encoder("tiny-xlm-roberta"), &Device::flex()).unwrap();
    let load = |n: &str| Ner::load(&dir.path().join(n), &enc).unwrap();
    let gold = tatra_ner::iob2::read_file(&dir.path().join("dev.iob2")).unwrap();
    let forms: Vec<Vec<String>> = gold.iter().map(|s| s.forms.clone()).collect();
    let alone = load("a.zip").tag(&enc, &forms).unwrap();
    let twice = Ner::ensemble(vec![load("a.zip"), load("a.zip")], "test").unwrap();
    assert_eq!(twice.members.len(), 1);
    assert_eq!(twice.tag(&enc, &forms).unwrap(), alone);

    let both = Ner::ensemble(vec![load("a.zip"), load("b.zip")], "test").unwrap();
    assert_eq!(both.config.members.len(), 1);
    assert!(both.meta.command.starts_with("test # members: "), "{}", both.meta.command);
    let tags = both.tag(&enc, &forms).unwrap();
    both.save(&dir.path().join("ab.zip"), tatra_adapters::params::Precision::F16, &[]).unwrap();
    let back = load("ab.zip");
    assert_eq!((back.members.len(), back.config.members[0].file.as_str()), (1, "member1.safetensors"));
    // f16 on save: the reloaded ensemble tags as the one in memory (f32 weights) did on
    // all but rare near-ties.
    let same = back.tag(&enc, &forms).unwrap().iter().zip(&tags).filter(|(a, b)| a == b).count();
    assert!(same + 1 >= forms.len(), "{same} of {}", forms.len());
    // Q8 (`--q8`): the metadata says so, the weights are 8-bit, it tags alike.
    let mut q = load("ab.zip");
    q.meta.weights = "q8".into();
    q.save(&dir.path().join("ab8.zip"), tatra_adapters::params::Precision::shipped(&q.meta), &[]).unwrap();
    let back8 = load("ab8.zip");
    assert_eq!(back8.meta.weights, "q8");
    let same = back8.tag(&enc, &forms).unwrap().iter().zip(&tags).filter(|(a, b)| a == b).count();
    assert!(same + 1 >= forms.len(), "q8: {same} of {}", forms.len());
    for t in &tags {
        for (i, tag) in t.iter().enumerate() {
            if let Some(ty) = tag.strip_prefix("I-") {
                assert!(i > 0 && t[i - 1].get(2..) == Some(ty), "{t:?}");
            }
        }
    }

    let Err(e) = Ner::ensemble(vec![load("a.zip"), load("c.zip")], "test") else { panic!("members of two widths accepted") };
    assert!(e.to_string().contains("another configuration"), "{e}");
}
