//! Set-up shared by the stages' end-to-end training tests (feature `testkit`, enabled
//! only by their dev-dependencies): the tiny encoder fixtures, slices of real data, and
//! the provenance and schedule of a short run.

use std::path::{Path, PathBuf};

use crate::train::{Provenance, Schedule};

/// A tiny encoder of `tatra-encoder`'s test fixtures (`tiny-bert`, `tiny-xlm-roberta`),
/// in this source tree.
pub fn tiny_encoder(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tatra-encoder/tests/fixtures").join(name)
}

/// Writes the first `n` sentences of a CoNLL-U file to `out`.
pub fn slice_conllu(src: &Path, n: usize, out: &Path) {
    let doc = tatra_core::conllu::read_file(src).expect("readable CoNLL-U test data");
    let part = tatra_core::Document { sentences: doc.sentences.into_iter().take(n).collect(), text: None };
    std::fs::write(out, tatra_core::conllu::to_string(&part)).expect("writable test folder");
}

/// The provenance of a test run: `files` names the train file, the dev file and the
/// package, all in `dir`.
pub fn provenance(dir: &Path, files: [&str; 3], language: &str, treebank: &str) -> Provenance {
    let [train, dev, out] = files;
    Provenance {
        train: dir.join(train),
        also_train: Vec::new(),
        transfer_train: Vec::new(),
        transfer_sentences: None,
        transfer_outputs: Vec::new(),
        dev: dir.join(dev),
        out: dir.join(out),
        language: language.into(),
        treebank: treebank.into(),
        licence: "test".into(),
        command: "test".into(),
    }
}

/// `epochs` quiet epochs at the shipped learning rate, no early stop, no time budget,
/// resuming from the checkpoint when `resume`.
pub fn schedule(epochs: usize, resume: bool, batch_tokens: usize) -> Schedule {
    Schedule {
        learning_rate: 3e-3,
        max_epochs: epochs,
        patience: 10,
        batch_tokens,
        seed: 1,
        resume,
        checkpoint_minutes: 100.0,
        max_minutes: 100.0,
        quiet: true,
        ema: 0.0,
    }
}
