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
    }
}

#[test]
fn train_resume_load_segment() {
    let Some(dev) = tatra_core::shared::shared_path("ud/UD_French-Sequoia/fr_sequoia-ud-dev.conllu") else { return };
    let dir = tempfile::tempdir().unwrap();
    slice_conllu(&dev, 40, &dir.path().join("train.conllu"));
    slice_conllu(&dev, 15, &dir.path().join("dev.conllu"));
    let enc = Encoder::load(&tiny_encoder("tiny-xlm-roberta"), &Device::flex().autodiff()).unwrap();
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
