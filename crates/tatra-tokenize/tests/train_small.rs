//! Training, resuming, loading and segmenting end to end on a slice of French-Sequoia
//! with the tiny test encoder (fast): the shared training loop as the tokenize stage uses it.

use std::path::Path;

use burn::tensor::Device;
use tatra_adapters::AdapterConfig;
use tatra_adapters::testkit::{provenance, schedule, slice_conllu, tiny_encoder};
use tatra_encoder::Encoder;
use tatra_tokenize::Tokenize;
use tatra_tokenize::train::{TrainOptions, train};

fn options(dir: &Path, epochs: usize, resume: bool) -> TrainOptions {
    TrainOptions {
        prov: provenance(dir, ["train.conllu", "dev.conllu", "fr.tokenize.zip"], "french", "fr_sequoia"),
        schedule: schedule(epochs, resume, 512),
        adapters: AdapterConfig { top_layers: 1, reduction: 4, depth: 0 },
        window: 60,
        dropout: 0.1,
        whole_pieces: false,
        whole_max_chars: 0,
        cut_hiragana: false,
        drop_final_punct: 0.0,
        lstm: 0,
    }
}

/// A folder with the first 40 French-Sequoia dev sentences as `train.conllu` and the first
/// 15 as `dev.conllu`, and the tiny encoder on an autodiff device (`None` without the data).
fn training_setup() -> Option<(tempfile::TempDir, Encoder)> {
    let dev = tatra_core::shared::shared_path("ud/UD_French-Sequoia/fr_sequoia-ud-dev.conllu")?;
    let dir = tempfile::tempdir().unwrap();
    slice_conllu(&dev, 40, &dir.path().join("train.conllu"));
    slice_conllu(&dev, 15, &dir.path().join("dev.conllu"));
    let enc = Encoder::load(&tiny_encoder("tiny-xlm-roberta"), &Device::flex().autodiff()).unwrap();
    Some((dir, enc))
}

#[test]
fn train_resume_load_segment() {
    let Some((dir, enc)) = training_setup() else { return };
    let report = train(&enc, &options(dir.path(), 2, false)).unwrap();
    assert_eq!(report.epochs, 2);
    assert!(report.dev.contains_key("Tokens"));
    let report = train(&enc, &options(dir.path(), 3, true)).unwrap();
    assert_eq!((report.resumed_at_epoch, report.epochs), (2, 3));

    let enc = Encoder::load(&tiny_encoder("tiny-xlm-roberta"), &Device::flex()).unwrap();
    let model = Tokenize::load(&dir.path().join("fr.tokenize.zip"), &enc).unwrap();
    assert_eq!(model.meta.stage, "tokenize");
    // Whatever the (barely trained) model decides, the text is kept exactly.
    let text = "Le chat dort. Il fait beau aujourd'hui à Paris !";
    let doc = model.document(&enc, text, 1).unwrap();
    let rebuilt: String = doc.sentences.iter().map(|s| s.rebuilt_text()).collect::<Vec<_>>().join(" ");
    assert_eq!(rebuilt.split_whitespace().collect::<String>(), text.split_whitespace().collect::<String>());
}

/// A tokenizer with a unit-level BiLSTM (`--lstm`): the package keeps it, and a
/// paragraph's logits do not depend on the longer paragraph padded beside it.
#[test]
fn lstm_package_keeps_padding_out() {
    let Some((dir, enc)) = training_setup() else { return };
    let o = TrainOptions { lstm: 8, ..options(dir.path(), 1, false) };
    train(&enc, &o).unwrap();

    let enc = Encoder::load(&tiny_encoder("tiny-xlm-roberta"), &Device::flex()).unwrap();
    let model = Tokenize::load(&dir.path().join("fr.tokenize.zip"), &enc).unwrap();
    assert_eq!((model.config.lstm, model.net.lstm.len()), (8, 1));
    let short = model.lay(&enc, "Le chat dort.").unwrap();
    let long = model.lay(&enc, "Il fait beau aujourd'hui à Paris, et demain il pleuvra sur toute la région.").unwrap();
    let alone = model.logits_lower(&enc, &[&short], &model.lower(&enc, &[&short]));
    let both = model.logits_lower(&enc, &[&short, &long], &model.lower(&enc, &[&short, &long]));
    let flat = |l: &Vec<Option<[f32; tatra_tokenize::data::N_LABELS]>>| l.iter().flatten().flatten().copied().collect::<Vec<f32>>();
    let (a, b) = (flat(&alone[0]), flat(&both[0]));
    assert!(!a.is_empty() && a.len() == b.len());
    for (x, y) in a.iter().zip(&b) {
        assert!((x - y).abs() < 1e-4, "{x} vs {y}");
    }
}
